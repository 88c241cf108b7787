package dev.paws.spark.examples

import java.lang.management.ManagementFactory
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Paths, StandardCopyOption}
import java.util.concurrent.atomic.AtomicInteger

import scala.collection.mutable.ArrayBuffer

import dev.paws.spark.{NativeSVMWithSGD, NativeTrainingSummary}
import dev.paws.spark.jni.{NativeExperiment, NativeLoader}
import org.apache.hadoop.fs.Path
import org.apache.spark.{SparkConf, SparkContext, SparkEnv, SparkException, Success, TaskContext}
import org.apache.spark.mllib.classification.SVMWithSGD
import org.apache.spark.mllib.linalg.Vectors
import org.apache.spark.mllib.regression.LabeledPoint
import org.apache.spark.rdd.RDD
import org.apache.spark.scheduler._
import org.apache.spark.storage.StorageLevel

/**
 * A small training job for the cluster tests (`scripts/test-cluster.sh`): it exercises
 * the shim on a real cluster manager and writes what the tests check.
 *
 * It generates a seeded synthetic `RDD[LabeledPoint]` (features are multiples of 1/64,
 * so float32 holds them exactly and MLlib's float64 sees the same numbers), caches it,
 * trains `NativeSVMWithSGD` and MLlib's `SVMWithSGD` on it, then collects from every
 * cached partition which JVM holds it (executor id, `pid@host`, working directory) and
 * whether that JVM loaded the paws native library during training. It writes
 * `weights.json` and `proof.json` to `--out` (any Hadoop path) and fails (non-zero exit)
 * when native and MLlib weights differ by more than 1e-6 relative.
 *
 * {{{
 * spark-submit --jars paws-spark-0.1.0.jar --class dev.paws.spark.examples.ClusterSmokeJob \
 *   paws-spark-0.1.0-tests.jar \
 *   --out file:/tmp/smoke [--rows 4000] [--features 64] [--partitions 4] [--iterations 100]
 *   [--seed 42] [--mllib true] [--fail bad-label]
 *   [--pause-at 20 --control-dir /tmp/ctl]      # executor-loss test, see ClusterSmokePlugin
 *   [--disturb true --control-dir /tmp/ctl]     # executor loss in the barrier driver's stage
 *   [--convergence-tol 0.001]
 *   [--native-faults true]                      # native errors in tasks, see below
 * }}}
 *
 * `--native-faults true` also runs two small jobs whose tasks hand bad bytes to the native
 * legacy-JSON parser (`NativeExperiment.parseLegacyFile`, a named error thrown from Rust
 * as an `IllegalArgumentException`): in the first only the first attempt of one task
 * does (Spark retries it and the job succeeds), in the second one task always does (the
 * job fails after `spark.task.maxFailures` attempts with the native message). Both go
 * to `proof.json` (`native_faults`), with the executor removals that must stay at zero.
 *
 * `--disturb true` trains a second time, as `--pause-at` does, but holds nothing: it writes
 * `<control-dir>/disturbed-started` first, and the test kills an executor while the
 * barrier driver's one stage runs (it watches the driver's checkpoints appear).
 *
 * `--fail bad-label` puts a label 2.0 in the data, so training fails with MLlib's
 * "Input validation failed" (the negative test of cluster deploy mode).
 *
 * `--pause-at N` (needs `--conf spark.plugins=dev.paws.spark.examples.ClusterSmokePlugin`)
 * first trains undisturbed, then trains again with every task of iteration N held on its
 * executor until the file `<control-dir>/resume` exists, after writing
 * `<control-dir>/paused-<executorId>` (holding the executor's pid). Meanwhile the driver
 * keeps `<control-dir>/blocks.tsv` up to date (rdd id, RDD name, partition, executor of
 * every cached partition, from the block managers' reports), and the test kills an
 * executor holding paws blocks. Both weight vectors go to `weights.json`; `proof.json`
 * counts executor removals, failed tasks, how often input partitions were generated and
 * how often paws block partitions were stored in the disturbed training (more than once
 * per partition when Spark recomputed lost ones from lineage).
 */
object ClusterSmokeJob {
  val PauseAtProperty = "paws.smoke.pauseAt"
  val ControlDirProperty = "paws.smoke.controlDir"

  final case class Options(
      out: String,
      rows: Int,
      features: Int,
      partitions: Int,
      iterations: Int,
      seed: Long,
      mllib: Boolean,
      fail: String,
      pauseAt: Int,
      controlDir: String,
      convergenceTol: Double,
      disturb: Boolean,
      nativeFaults: Boolean)

  def parse(args: Array[String]): Options = {
    require(args.length % 2 == 0, s"arguments come in --key value pairs: ${args.mkString(" ")}")
    val m = args.grouped(2).map { case Array(k, v) =>
      require(k.startsWith("--"), s"not an option: $k")
      k.drop(2) -> v
    }.toMap
    val known = Set("out", "rows", "features", "partitions", "iterations", "seed", "mllib", "fail",
      "pause-at", "control-dir", "convergence-tol", "disturb", "native-faults")
    val unknown = m.keySet -- known
    require(unknown.isEmpty, s"unknown options: ${unknown.mkString(", ")}")
    val o = Options(
      out = m.getOrElse("out", throw new IllegalArgumentException("--out is required")),
      rows = m.getOrElse("rows", "4000").toInt,
      features = m.getOrElse("features", "64").toInt,
      partitions = m.getOrElse("partitions", "4").toInt,
      iterations = m.getOrElse("iterations", "100").toInt,
      seed = m.getOrElse("seed", "42").toLong,
      mllib = m.getOrElse("mllib", "true").toBoolean,
      fail = m.getOrElse("fail", "none"),
      pauseAt = m.getOrElse("pause-at", "0").toInt,
      controlDir = m.getOrElse("control-dir", ""),
      convergenceTol = m.getOrElse("convergence-tol", "0.001").toDouble,
      disturb = m.getOrElse("disturb", "false").toBoolean,
      nativeFaults = m.getOrElse("native-faults", "false").toBoolean)
    require(Set("none", "bad-label").contains(o.fail), s"--fail must be none or bad-label: ${o.fail}")
    require(o.pauseAt == 0 || o.controlDir.nonEmpty, "--pause-at needs --control-dir")
    require(!o.disturb || o.controlDir.nonEmpty, "--disturb needs --control-dir")
    o
  }

  /** Deterministic rows of one partition: features k/64, k in [-64, 64]; noisy linear labels. */
  def generate(
      sc: SparkContext,
      o: Options,
      generated: org.apache.spark.util.LongAccumulator): RDD[LabeledPoint] = {
    val (rows, dim, parts, seed, fail) = (o.rows, o.features, o.partitions, o.seed, o.fail)
    val truth = {
      val r = new java.util.Random(seed)
      Array.fill(dim)(r.nextGaussian())
    }
    sc.parallelize(0 until parts, parts).mapPartitionsWithIndex { (p, _) =>
      generated.add(1)
      val n = rows / parts + (if (p < rows % parts) 1 else 0)
      val r = new java.util.Random(seed * 1000003L + p)
      Iterator.tabulate(n) { i =>
        val x = Array.fill(dim)((r.nextInt(129) - 64) / 64.0)
        var dot = 0.0
        var j = 0
        while (j < dim) { dot += truth(j) * x(j); j += 1 }
        val label =
          if (fail == "bad-label" && p == parts - 1 && i == n - 1) 2.0
          else if (dot + 0.5 * r.nextGaussian() > 0) 1.0
          else 0.0
        LabeledPoint(label, Vectors.dense(x))
      }
    }
  }

  def main(args: Array[String]): Unit = {
    val o = parse(args)
    val conf = new SparkConf().setAppName(s"paws cluster smoke (${args.mkString(" ")})")
    // Registered at start-up (not with addSparkListener), so it sees the first executors too.
    val listeners = conf.getOption("spark.extraListeners").toSeq :+ classOf[CountingListener].getName
    conf.set("spark.extraListeners", listeners.mkString(","))
    val sc = SparkContext.getOrCreate(conf)
    val listener = CountingListener.instance
    require(listener != null, "CountingListener was not registered")
    try {
      run(sc, o, listener)
    } finally {
      sc.stop()
    }
  }

  def run(sc: SparkContext, o: Options, listener: CountingListener): Unit = {
    val t0 = System.nanoTime()
    val generated = sc.longAccumulator("paws-smoke partitions generated")
    val data = generate(sc, o, generated).setName("paws-smoke rows").persist(StorageLevel.MEMORY_ONLY)
    log(s"app ${sc.applicationId}, master ${sc.master}, deploy mode ${sc.deployMode}, " +
      s"driver ${jvmName()}; ${o.rows} rows x ${o.features} in ${o.partitions} partitions")

    val nativeSummary = trainSummary(data, o)
    val native = nativeSummary.weights.toArray
    log(s"native: $nativeSummary")

    val mllib = if (o.mllib) Some(SVMWithSGD.train(data, o.iterations, 1.0, 0.01, 1.0)) else None
    val maxRel = mllib.map(m => maxRelDiff(native, m.weights.toArray))
    maxRel.foreach(d => log(s"MLlib SVMWithSGD: max relative weight difference $d"))

    // Executor loss: train again, holding iteration `pauseAt` until the test says resume.
    // The test kills a paused executor that holds cached paws blocks (`blocks.tsv`).
    var generatedInTraining = -1L
    var pawsBlocksStored = -1
    val disturbing = o.pauseAt > 0 || o.disturb
    val disturbed = if (disturbing) {
      CountingListener.blocksFile = Paths.get(o.controlDir, "blocks.tsv")
      if (o.disturb) Files.write(Paths.get(o.controlDir, "disturbed-started"), Array.emptyByteArray)
      sc.setLocalProperty(PauseAtProperty, o.pauseAt.toString)
      sc.setLocalProperty(ControlDirProperty, o.controlDir)
      try {
        val before = generated.value
        val summary = trainSummary(data, o)
        generatedInTraining = generated.value - before
        pawsBlocksStored = listener.newestRdd("paws blocks").map(_._2).getOrElse(0)
        Some(summary)
      } finally {
        sc.setLocalProperty(PauseAtProperty, null)
        sc.setLocalProperty(ControlDirProperty, null)
      }
    } else None
    disturbed.foreach(s => log(s"native, disturbed run: $s"))

    val nativeFaults = if (o.nativeFaults) Some(runNativeFaults(sc)) else None

    // Where the cached partitions live, and whether those JVMs loaded the native library.
    val proof = where(data)
    if (disturbing) {
      // The listener bus is asynchronous: give it a moment to report the removal.
      val deadline = System.nanoTime() + 20L * 1000 * 1000 * 1000
      while (listener.removed.get == 0 && System.nanoTime() < deadline) Thread.sleep(100)
    }
    data.unpersist(blocking = false)

    val out = new Path(o.out)
    val fs = out.getFileSystem(sc.hadoopConfiguration)
    fs.mkdirs(out)
    def write(name: String, json: Json.Raw): Unit = {
      val s = fs.create(new Path(out, name), true)
      try s.write((json.json + "\n").getBytes(StandardCharsets.UTF_8)) finally s.close()
    }
    val common = Seq(
      "app_id" -> sc.applicationId,
      "master" -> sc.master,
      "deploy_mode" -> sc.deployMode,
      "driver_executor_id" -> SparkEnv.get.executorId,
      "driver_jvm" -> jvmName(),
      "rows" -> o.rows,
      "features" -> o.features,
      "partitions" -> o.partitions,
      "iterations" -> o.iterations,
      "seed" -> o.seed)
    write("weights.json", Json.obj(common ++ Seq(
      "native" -> summaryJson(nativeSummary),
      "mllib" -> mllib.map(m => Json.obj(Seq(
        "weights" -> m.weights.toArray.toSeq,
        "weights_bits" -> m.weights.toArray.toSeq.map(bits),
        "intercept" -> m.intercept))).orNull,
      "max_rel_diff" -> maxRel.map(Double.box).orNull,
      "bit_identical" -> mllib.map(m => native.map(bits).sameElements(
        m.weights.toArray.map(bits))).map(Boolean.box).orNull,
      "disturbed" -> disturbed.map(summaryJson).orNull)))
    write("proof.json", Json.obj(common ++ Seq(
      "partitions_seen" -> proof.map(r => Json.obj(r.toSeq.sortBy(_._1))).toSeq,
      "partitions_generated" -> generated.value,
      "partitions_generated_in_disturbed_training" -> generatedInTraining,
      "paws_block_partitions_stored_in_disturbed_training" -> pawsBlocksStored,
      "executors_added" -> listener.added.get,
      "executors_removed" -> listener.removed.get,
      "removed_reasons" -> listener.removedReasons.synchronized(listener.removedReasons.toList),
      "failed_tasks" -> listener.failedTasks.get,
      "failed_task_reasons" -> listener.failedReasons.synchronized(listener.failedReasons.toList),
      "native_faults" -> nativeFaults.orNull,
      "seconds" -> (System.nanoTime() - t0) / 1e9)))
    log(s"wrote $out/weights.json and $out/proof.json")

    maxRel.foreach { d =>
      if (!(d <= 1e-6)) {
        throw new IllegalStateException(s"paws-smoke: native and MLlib weights differ: max relative $d")
      }
    }
  }

  /**
   * Native errors inside tasks (see `--native-faults`): a transient one (first attempt of
   * task 1 only) and a persistent one (every attempt of task 2). Returns what happened.
   */
  private def runNativeFaults(sc: SparkContext): Json.Raw = {
    val good = "[1.0, 2.0, 3.0]".getBytes(StandardCharsets.UTF_8)
    val bad = "[1.0, NaN, 3.0]".getBytes(StandardCharsets.UTF_8)
    def job(name: String, fails: (Int, Int) => Boolean): Array[Int] =
      sc.parallelize(0 until 4, 4).map { i =>
        val attempt = TaskContext.get().attemptNumber()
        val bytes = if (fails(i, attempt)) bad else good
        NativeExperiment.parseLegacyFile(s"$name-$i-attempt-$attempt.jpg.json", bytes).length
      }.collect()
    val transient = job("transient", (i, attempt) => i == 1 && attempt == 0)
    val persistent = try {
      job("persistent", (i, _) => i == 2)
      "no error"
    } catch {
      case e: SparkException => e.getMessage
    }
    log(s"native faults: transient job gave ${transient.mkString(",")}; persistent job failed: " +
      persistent.linesIterator.toStream.headOption.getOrElse(""))
    // The executors still run native code.
    val after = job("after", (_, _) => false)
    Json.obj(Seq(
      "transient_result" -> transient.toSeq,
      "persistent_error" -> persistent,
      "after_result" -> after.toSeq,
      "max_failures" -> sc.getConf.getInt("spark.task.maxFailures", 4)))
  }

  /** For each cached partition: the executor and JVM holding it, and the native library it loaded. */
  private def where(data: RDD[LabeledPoint]): Array[Map[String, Any]] =
    data.mapPartitionsWithIndex { (p, _) =>
      Iterator(Map[String, Any](
        "partition" -> p,
        "executor_id" -> SparkEnv.get.executorId,
        "jvm" -> jvmName(),
        "cwd" -> Paths.get("").toAbsolutePath.toString,
        "native_lib" -> NativeLoader.loadedFrom()))
    }.collect()

  private def trainSummary(data: RDD[LabeledPoint], o: Options): NativeTrainingSummary =
    new NativeSVMWithSGD(1.0, o.iterations, 0.01, 1.0).setConvergenceTol(o.convergenceTol).runWithSummary(data, null)

  private def summaryJson(s: NativeTrainingSummary): Json.Raw = Json.obj(Seq(
    "weights" -> s.weights.toArray.toSeq,
    "weights_bits" -> s.weights.toArray.toSeq.map(bits),
    "intercept" -> s.intercept,
    "passes" -> s.passes,
    "converged" -> s.converged,
    "train_seconds" -> s.trainSeconds))

  def bits(d: Double): String = java.lang.Long.toHexString(java.lang.Double.doubleToRawLongBits(d))

  def maxRelDiff(a: Array[Double], b: Array[Double]): Double = {
    require(a.length == b.length, s"${a.length} weights against ${b.length}")
    a.indices.map { i =>
      val d = math.abs(a(i) - b(i))
      if (d == 0) 0.0 else d / math.max(math.abs(a(i)), math.abs(b(i)))
    }.foldLeft(0.0)(math.max)
  }

  def jvmName(): String = ManagementFactory.getRuntimeMXBean.getName

  def log(msg: String): Unit = System.err.println(s"paws-smoke: $msg")
}

/**
 * Counts executor and task events on the driver, and follows where cached RDD partitions
 * live (from the block managers' reports). When `CountingListener.blocksFile` is set, the
 * table of cached partitions is rewritten there (atomically) after every change, so the
 * executor-loss test can kill an executor that really holds blocks training needs.
 */
final class CountingListener extends SparkListener {
  CountingListener.instance = this

  val added = new AtomicInteger
  val removed = new AtomicInteger
  val failedTasks = new AtomicInteger
  val removedReasons = ArrayBuffer.empty[String]
  val failedReasons = ArrayBuffer.empty[String]

  // Guarded by `this`: cached RDD partition -> executor holding it; RDD names; how often
  // each RDD had a partition stored (a recompute stores a partition again).
  private val holders = scala.collection.mutable.Map.empty[(Int, Int), String]
  private val rddNames = scala.collection.mutable.Map.empty[Int, String]
  private val stores = scala.collection.mutable.Map.empty[Int, Int].withDefaultValue(0)

  override def onExecutorAdded(e: SparkListenerExecutorAdded): Unit = added.incrementAndGet()

  override def onExecutorRemoved(e: SparkListenerExecutorRemoved): Unit = {
    removed.incrementAndGet()
    removedReasons.synchronized(removedReasons += s"executor ${e.executorId}: ${e.reason}")
    synchronized(holders.retain((_, ex) => ex != e.executorId))
    writeBlocks()
  }

  override def onTaskEnd(e: SparkListenerTaskEnd): Unit = e.reason match {
    case Success =>
    case r =>
      failedTasks.incrementAndGet()
      failedReasons.synchronized {
        if (failedReasons.size < 20) {
          val first = r.toString.linesIterator.toStream.headOption.getOrElse("").take(240)
          failedReasons += s"stage ${e.stageId} task ${e.taskInfo.index}: $first"
        }
      }
  }

  override def onStageSubmitted(e: SparkListenerStageSubmitted): Unit =
    synchronized(e.stageInfo.rddInfos.foreach(r => rddNames(r.id) = r.name))

  // Unpersisting removes blocks without a block report per partition.
  override def onUnpersistRDD(e: SparkListenerUnpersistRDD): Unit = {
    synchronized(holders.retain((key, _) => key._1 != e.rddId))
    writeBlocks()
  }

  override def onBlockUpdated(e: SparkListenerBlockUpdated): Unit = {
    val info = e.blockUpdatedInfo
    info.blockId.asRDDId.foreach { id =>
      val key = (id.rddId, id.splitIndex)
      synchronized {
        if (info.storageLevel.isValid) {
          holders(key) = info.blockManagerId.executorId
          stores(id.rddId) += 1
        } else if (holders.get(key).contains(info.blockManagerId.executorId)) {
          holders.remove(key)
        }
      }
      writeBlocks()
    }
  }

  /** The newest RDD whose name starts with `prefix`: (id, times a partition was stored). */
  def newestRdd(prefix: String): Option[(Int, Int)] = synchronized {
    val ids = rddNames.collect { case (id, name) if name != null && name.startsWith(prefix) => id }
    if (ids.isEmpty) None else Some((ids.max, stores(ids.max)))
  }

  /** Lines `rdd id, RDD name, partition, executor id` of the cached partitions. */
  def blockTable(): String = synchronized {
    holders.toSeq.sorted.map { case ((rdd, split), ex) =>
      s"$rdd\t${rddNames.getOrElse(rdd, "?")}\t$split\t$ex\n"
    }.mkString
  }

  private def writeBlocks(): Unit = {
    val file = CountingListener.blocksFile
    if (file == null) return
    val table = blockTable()
    val tmp = file.resolveSibling(s".${file.getFileName}.tmp")
    Files.write(tmp, table.getBytes(StandardCharsets.UTF_8))
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
  }
}

object CountingListener {
  @volatile var instance: CountingListener = _
  @volatile var blocksFile: java.nio.file.Path = _
}

/**
 * Executor side of the cluster tests, enabled with
 * `--conf spark.plugins=dev.paws.spark.examples.ClusterSmokePlugin`:
 *
 *  - the first paws gradient task that succeeds in an executor JVM prints
 *    `paws-smoke: native gradient task ran in executor <id> (<pid@host>), library <path>`
 *    to the executor's stderr (its log), so the tests can find it in the worker directories;
 *  - a task of a job described `paws: ... iteration N/...` whose local property
 *    `paws.smoke.pauseAt` is N writes `<paws.smoke.controlDir>/paused-<executorId>` (the
 *    executor's pid) and waits, up to 5 minutes, until `<controlDir>/resume` exists.
 */
class ClusterSmokePlugin extends org.apache.spark.api.plugin.SparkPlugin {
  override def driverPlugin(): org.apache.spark.api.plugin.DriverPlugin = null
  override def executorPlugin(): org.apache.spark.api.plugin.ExecutorPlugin = new ClusterSmokeExecutorPlugin
}

final class ClusterSmokeExecutorPlugin extends org.apache.spark.api.plugin.ExecutorPlugin {
  private var executorId = "?"
  @volatile private var reported = false
  private val nativeTasks = new AtomicInteger
  private val Iteration = """paws: .* iteration (\d+)/\d+.*""".r

  override def init(ctx: org.apache.spark.api.plugin.PluginContext,
      extraConf: java.util.Map[String, String]): Unit = {
    executorId = ctx.executorID()
    ClusterSmokeJob.log(s"executor plugin started in executor $executorId (${ClusterSmokeJob.jvmName()})")
  }

  private def iteration(tc: TaskContext): Option[Int] =
    Option(tc.getLocalProperty("spark.job.description")).collect { case Iteration(i) => i.toInt }

  // onTaskSucceeded runs in the task's thread after TaskContext is unset: remember here.
  private val currentIteration = new ThreadLocal[Option[Int]] {
    override def initialValue(): Option[Int] = None
  }

  override def onTaskStart(): Unit = {
    val tc = TaskContext.get()
    currentIteration.set(if (tc == null) None else iteration(tc))
    if (tc == null) return
    val pauseAt = Option(tc.getLocalProperty(ClusterSmokeJob.PauseAtProperty)).map(_.toInt)
    if (pauseAt.isEmpty || currentIteration.get != pauseAt) return
    val dir = Paths.get(tc.getLocalProperty(ClusterSmokeJob.ControlDirProperty))
    val resume = dir.resolve("resume")
    if (Files.exists(resume)) return
    val pid = ProcessHandle.current().pid()
    val marker = dir.resolve(s"paused-$executorId")
    if (!Files.exists(marker)) {
      val tmp = dir.resolve(s".paused-$executorId.tmp")
      Files.write(tmp, s"$pid\n".getBytes(StandardCharsets.UTF_8))
      Files.move(tmp, marker, StandardCopyOption.ATOMIC_MOVE)
    }
    ClusterSmokeJob.log(s"executor $executorId (pid $pid) holds task ${tc.partitionId()} of " +
      s"iteration ${pauseAt.get} until $resume exists")
    val deadline = System.nanoTime() + 300L * 1000 * 1000 * 1000
    while (!Files.exists(resume) && System.nanoTime() < deadline) Thread.sleep(50)
    ClusterSmokeJob.log(s"executor $executorId resumes")
  }

  override def onTaskSucceeded(): Unit = {
    val wasIteration = currentIteration.get.isDefined
    currentIteration.remove()
    if (!wasIteration) return
    nativeTasks.incrementAndGet()
    if (!reported) {
      reported = true
      ClusterSmokeJob.log(s"native gradient task ran in executor $executorId " +
        s"(${ClusterSmokeJob.jvmName()}), library ${NativeLoader.loadedFrom()}")
    }
  }

  override def onTaskFailed(reason: org.apache.spark.TaskFailedReason): Unit = currentIteration.remove()

  override def shutdown(): Unit =
    ClusterSmokeJob.log(s"executor $executorId ran ${nativeTasks.get} paws iteration tasks")
}

/** Just enough JSON for the job's outputs. */
private[examples] object Json {
  def value(v: Any): String = v match {
    case null => "null"
    case None => "null"
    case Some(x) => value(x)
    case Json.Raw(json) => json
    case s: String => quote(s)
    case b: Boolean => b.toString
    case d: Double =>
      require(!d.isNaN && !d.isInfinite, s"not a JSON number: $d")
      java.lang.Double.toString(d)
    case n: Int => n.toString
    case n: Long => n.toString
    case n: java.lang.Long => n.toString
    case n: java.lang.Double => value(n.doubleValue)
    case n: java.lang.Boolean => n.toString
    case xs: Seq[_] => xs.map(value).mkString("[", ",", "]")
    case other => quote(other.toString)
  }

  /** JSON text that is inserted as it is. */
  final case class Raw(json: String)

  def obj(fields: Seq[(String, Any)]): Raw =
    Raw(fields.map { case (k, v) => quote(k) + ":" + value(v) }.mkString("{", ",", "}"))

  def quote(s: String): String = {
    val b = new StringBuilder("\"")
    s.foreach {
      case '"' => b ++= "\\\""
      case '\\' => b ++= "\\\\"
      case c if c < ' ' => b ++= f"\\u${c.toInt}%04x"
      case c => b += c
    }
    b += '"'
    b.toString
  }
}
