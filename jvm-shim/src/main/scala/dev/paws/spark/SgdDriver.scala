package dev.paws.spark

import dev.paws.spark.jni.NativeKernels
import scala.collection.JavaConverters._

import org.apache.spark.{SparkContext, TaskContext}
import org.apache.spark.paws.SchedulerAccess
import org.apache.spark.broadcast.Broadcast
import org.apache.spark.rdd.RDD
import org.apache.spark.util.LongAccumulator
import org.slf4j.LoggerFactory

/** One model's rows (global, ascending) with their labels and optional weights. */
private[spark] final class Selection(
    val rows: Array[Long],
    val labels: Array[Double],
    val weights: Array[Double])
  extends Serializable

/**
 * The kernel weights of a pass's models `models`: `sgdKernelWeights` of each (`dim`
 * weights, then the offset), one after the other, as `sweepWeightsOf` takes them.
 */
private[spark] final class SweepWeights(val models: Array[Int], val kernels: Array[Double])
  extends Serializable

/**
 * The Spark engine's SGD loop, for one model (the drop-ins) and for a whole sweep
 * (`PetBreedExperiment`) alike. The rules of the loop (MLlib's `runMiniBatchSGD`: steps,
 * updater, convergence, the final loss pass) live in the native SGD states; the drivers
 * only move data. Two drivers, chosen per run by [[choose]]:
 *
 *  - the barrier driver ([[BarrierSgd]]): every iteration in one barrier stage, the sums
 *    exchanged between tasks with `allGather` (the default where Spark allows it);
 *  - the per-job driver, one Spark job per iteration, for sessions with dynamic
 *    allocation (`spark.paws.sgd.driver=jobs` forces it):
 *
 *  - per pass, the driver broadcasts the kernel weights of the models still training;
 *  - each task adds those models' rows of each of its cached blocks to one native
 *    accumulator (`sweepAccAdd`) and returns one exact sum per model (`sweepAccFinish`);
 *  - the sums are merged (exact, so in any order: on the driver as they arrive, or by
 *    `treeAggregate` for many partitions), the driver applies them (`sgdApply`) and drops
 *    the models that are done.
 *
 * Blocks must hold whole chunks ([[ChunkedRows]]); a model's sums are then the
 * in-process engine's, bit for bit, whatever the partitioning.
 */
private[spark] object SgdDriver {
  private val log = LoggerFactory.getLogger(getClass)

  /** Which rows of the blocks each model reads. */
  sealed trait ModelRows extends Serializable

  /** Every model reads every row of every block, with the blocks' labels. */
  case object EveryRow extends ModelRows

  /** Model `j` reads `selections(j)`. */
  final case class Selected(selections: Broadcast[Array[Selection]]) extends ModelRows

  /** Where the passes' time went, summed over passes (and over tasks for the accumulators). */
  final class Timings(sc: SparkContext) {
    /** "barrier" or "jobs": the driver that ran the passes. */
    var driver = "jobs"
    var passes = 0
    var passNanos = 0L
    val kernelNanos: LongAccumulator = sc.longAccumulator("paws SGD kernel ns")
    val taskNanos: LongAccumulator = sc.longAccumulator("paws SGD task ns")
    /** Time the barrier driver's tasks spent in `allGather`. */
    val exchangeNanos: LongAccumulator = sc.longAccumulator("paws SGD exchange ns")
  }

  /**
   * `auto` (the default), `barrier` or `jobs`: which driver runs the passes; a local
   * property of the calling thread of that name overrides the application's setting.
   */
  val DriverConf = "spark.paws.sgd.driver"
  /** Where the barrier driver writes its checkpoints (default: see [[checkpointBase]]). */
  val CheckpointDirConf = "spark.paws.sgd.checkpointDir"
  /** Rounds between the barrier driver's checkpoints; 0 turns them off. */
  val CheckpointIntervalConf = "spark.paws.sgd.checkpointInterval"
  val DefaultCheckpointInterval = 10
  /** Seconds at least between the barrier driver's checkpoints (and before the first). */
  val CheckpointMinSecondsConf = "spark.paws.sgd.checkpointMinSeconds"
  val DefaultCheckpointMinSeconds = 10.0

  /** The driver chosen for a run, and why. */
  final case class Choice(barrier: Boolean, why: String)

  /** [[decide]] for this SparkContext, the calling thread's setting and its blocks. */
  def choose(sc: SparkContext, partitions: Int): Choice = {
    // A thread's local property (sc.setLocalProperty) overrides the application's setting.
    val setting = Option(sc.getLocalProperty(DriverConf)).orElse(sc.getConf.getOption(DriverConf))
      .getOrElse("auto")
    decide(setting, SchedulerAccess.dynamicAllocation(sc), SchedulerAccess.maxConcurrentTasks(sc), partitions)
  }

  /**
   * Barrier mode unless it cannot run: Spark refuses a barrier stage while dynamic
   * allocation is on, and one of more partitions than task slots waits for slots and then
   * fails (nor does Spark allow a coalesce inside a barrier stage, SPARK-24820; a shuffled
   * copy of the cached blocks would double their memory). `barrier` forced where it
   * cannot run is an error, not a fallback.
   */
  def decide(setting: String, dynamic: Boolean, slots: Int, partitions: Int): Choice = {
    val barrierRefused =
      if (dynamic) {
        Some("spark.dynamicAllocation.enabled=true (Spark runs no barrier stage with it; set it to " +
          "false for the one-stage driver)")
      } else if (partitions > slots) {
        Some(s"the blocks have $partitions partitions, more than the $slots task slots (a barrier " +
          "stage needs one per partition; build the blocks in fewer partitions: " +
          "spark.paws.blocks.partitions, or the input RDD's)")
      } else None
    setting.trim.toLowerCase(java.util.Locale.ROOT) match {
      case "jobs" => Choice(barrier = false, s"$DriverConf=jobs")
      case "auto" => barrierRefused.fold(Choice(barrier = true, s"$partitions partitions, $slots task slots"))(
        why => Choice(barrier = false, why))
      case "barrier" =>
        barrierRefused.foreach(why => throw new IllegalArgumentException(
          s"paws: $DriverConf=barrier, but barrier mode cannot run: $why"))
        Choice(barrier = true, s"$DriverConf=barrier")
      case other =>
        throw new IllegalArgumentException(s"paws: $DriverConf must be auto, barrier or jobs, got '$other'")
    }
  }

  /**
   * The checkpoint folder of the barrier driver: the setting, else the SparkContext's
   * checkpoint directory, else a temporary folder when every executor shares this host's
   * disk (local mode), else `.paws-checkpoints` in the default file system's home folder
   * (HDFS on EMR).
   */
  def checkpointBase(sc: SparkContext): String =
    sc.getConf.getOption(CheckpointDirConf)
      .orElse(sc.getCheckpointDir)
      .getOrElse {
        if (sc.isLocal) new java.io.File(System.getProperty("java.io.tmpdir")).toURI.toString
        else {
          val fs = org.apache.hadoop.fs.FileSystem.get(sc.hadoopConfiguration)
          new org.apache.hadoop.fs.Path(fs.getHomeDirectory, ".paws-checkpoints").toString
        }
      }

  /**
   * Runs passes until every model of `active` is done; `sgds(j)` is model `j`'s native SGD
   * state. The driver is [[choose]]n per run (and logged); `describe(iteration, training)`
   * names each job (the barrier driver's one job is described by iteration 1).
   */
  def train(
      sc: SparkContext,
      blocks: RDD[RowBlock],
      rows: ModelRows,
      sgds: Array[Long],
      active: Array[Int],
      loss: Int,
      dim: Int,
      fraction: Double,
      depth: Int,
      describe: (Int, Int) => String): Timings = {
    val timings = new Timings(sc)
    val training = active.filter(j => !NativeKernels.sgdIsDone(sgds(j)))
    if (training.isEmpty) return timings
    val choice = choose(sc, blocks.getNumPartitions)
    if (choice.barrier) {
      log.info(s"paws SGD: the barrier driver (one stage for ${training.length} models): ${choice.why}")
      timings.driver = "barrier"
      sc.setJobDescription(describe(NativeKernels.sgdIteration(sgds(training.head)), training.length) +
        " (all iterations, one barrier stage)")
      val interval = sc.getConf.getInt(CheckpointIntervalConf, DefaultCheckpointInterval)
      val minSeconds = sc.getConf.getDouble(CheckpointMinSecondsConf, DefaultCheckpointMinSeconds)
      val checkpoints = SgdCheckpoints.create(sc, checkpointBase(sc), interval, minSeconds)
      try BarrierSgd.train(sc, blocks, rows, sgds, training, loss, dim, fraction, checkpoints, timings)
      finally checkpoints.foreach(_.delete())
    } else {
      // One broadcast and one job per iteration ([[merged]] combines its sums).
      log.info(s"paws SGD: the per-job driver (one Spark job per iteration): ${choice.why}")
      val zero = new Array[Long](NativeKernels.sumWords(dim))
      val task = new PassTask(rows, sgds.length, loss, dim, fraction, timings.kernelNanos, timings.taskNanos)
      val passes = blocks.mapPartitions(task)
      var running = training
      while (running.nonEmpty) {
        val i = NativeKernels.sgdIteration(sgds(running.head))
        sc.setJobDescription(describe(i, running.length))
        val kernels = running.flatMap(j => NativeKernels.sgdKernelWeights(sgds(j)))
        val w = sc.broadcast(new SweepWeights(running, kernels))
        try {
          val t0 = System.nanoTime()
          task.next(w, i)
          val sums = merged(passes, depth)
          timings.passNanos += System.nanoTime() - t0
          for (j <- running) NativeKernels.sgdApply(sgds(j), sums.getOrElse(j, zero))
        } finally {
          w.destroy()
        }
        running = running.filter(j => !NativeKernels.sgdIsDone(sgds(j)))
        timings.passes += 1
      }
    }
    timings
  }

  /** First index of `rows` (ascending) that is >= `r`. */
  def lowerBound(rows: Array[Long], r: Long): Int = {
    var lo = 0
    var hi = rows.length
    while (lo < hi) {
      val mid = (lo + hi) >>> 1
      if (rows(mid) < r) lo = mid + 1 else hi = mid
    }
    lo
  }

  private def mergeMaps(a: Map[Int, Array[Long]], b: Map[Int, Array[Long]]): Map[Int, Array[Long]] =
    b.foldLeft(a) { case (m, (j, v)) => m.updated(j, m.get(j).map(NativeKernels.mergeSums(_, v)).getOrElse(v)) }

  /**
   * The task of a per-job pass: the exact gradient sums, by model id, of the models in
   * the pass's weights over a partition's blocks. Made once per run, with one RDD of it
   * ([[train]]): the driver sets each pass's weights and iteration ([[next]]) before its
   * job, and Spark serialises them into that job's tasks. A `mapPartitions` and a
   * `treeAggregate` per pass cleaned six closures and built three RDDs, about 7 ms of the
   * driver's 24 ms a pass on the drop-in benchmark (0.7 s of 2.8 s).
   */
  private final class PassTask(
      rows: ModelRows,
      models: Int,
      loss: Int,
      dim: Int,
      fraction: Double,
      kernelNanos: LongAccumulator,
      taskNanos: LongAccumulator)
    extends (Iterator[RowBlock] => Iterator[Map[Int, Array[Long]]]) with Serializable {

    private var weights: Broadcast[SweepWeights] = _
    private var iteration = 0

    /** The next pass: the models in `w`, at `iteration`. */
    def next(w: Broadcast[SweepWeights], i: Int): Unit = {
      weights = w
      iteration = i
    }

    def apply(it: Iterator[RowBlock]): Iterator[Map[Int, Array[Long]]] = {
      val t0 = System.nanoTime()
      var kernel = 0L
      val sw = weights.value
      // The pass's kernel weights and the task's per-model sums stay native; freed when
      // the task ends, whatever happens.
      val kw = NativeKernels.sweepWeightsOf(sw.kernels, dim)
      val acc = try NativeKernels.sweepAccCreate(models, dim) catch {
        case e: Throwable => NativeKernels.sweepWeightsFree(kw); throw e
      }
      Option(TaskContext.get()).foreach(_.addTaskCompletionListener[Unit] { _ =>
        NativeKernels.sweepAccFree(acc)
        NativeKernels.sweepWeightsFree(kw)
      })
      val members = new BlockMembers(rows, sw.models, dim, kw, sw.models.indices.toArray)
      while (it.hasNext) kernel += members.addTo(acc, it.next(), loss, iteration, fraction)
      val sums = NativeKernels.sweepSumsById(NativeKernels.sweepAccFinish(acc), dim).asScala
        .map { case (id, words) => id.intValue -> words }.toMap
      kernelNanos.add(kernel)
      taskNanos.add(System.nanoTime() - t0)
      Iterator.single(sums)
    }
  }

  /**
   * A pass's sums merged (exact, so in any order): on the driver as the tasks' arrive,
   * as `treeAggregate` merges them when its tree would have no level between the tasks
   * and the driver (few partitions); else by `treeAggregate` with `depth`.
   */
  private def merged(passes: RDD[Map[Int, Array[Long]]], depth: Int): Map[Int, Array[Long]] = {
    val p = passes.getNumPartitions
    // RDD.treeAggregate's rule for adding a level.
    val scale = math.max(math.ceil(math.pow(p, 1.0 / depth)).toInt, 2)
    if (p > scale + math.ceil(p.toDouble / scale)) {
      passes.treeAggregate(Map.empty[Int, Array[Long]])(mergeMaps, mergeMaps, depth)
    } else {
      var all = Map.empty[Int, Array[Long]]
      passes.sparkContext.runJob(passes, (it: Iterator[Map[Int, Array[Long]]]) => it.next(),
        (_: Int, sums: Map[Int, Array[Long]]) => all = mergeMaps(all, sums))
      all
    }
  }

  /**
   * The arguments of `sweepAccAdd` for one block: the models of the pass (`models`) that
   * read rows of it, their rows, labels and weights, and each one's entry in the native
   * kernel weights `kernelWeights`: `slots(a)` for `models(a)`.
   */
  private[spark] final class BlockMembers(modelRows: ModelRows, models: Array[Int], dim: Int, kernelWeights: Long,
      slots: Array[Int]) {
    private val selections = modelRows match {
      case Selected(s) => s.value
      case EveryRow => null
    }
    var ids: Array[Int] = _
    var start: Array[Int] = _
    var rows: Array[Long] = _
    var labels: Array[Double] = _
    var weights: Array[Double] = _
    var members: Array[Int] = _

    /**
     * Adds block `b`'s rows of the models that read it to the task's accumulator `acc`
     * (`sweepAccAdd`); returns the nanoseconds spent in the kernel (0 when no model reads
     * the block).
     */
    def addTo(acc: Long, b: RowBlock, loss: Int, iteration: Int, fraction: Double): Long = {
      if (!select(b)) return 0L
      val t0 = System.nanoTime()
      if (b.isSparse) {
        NativeKernels.sweepAccAddSparse(acc, loss, b.sparse.ptr, b.sparse.indices, b.sparse.values, dim,
          b.firstRow, ids, start, rows, labels, weights, kernelWeights, members, iteration, fraction)
      } else {
        NativeKernels.sweepAccAdd(acc, loss, b.rows, dim, b.firstRow, ids, start, rows, labels, weights,
          kernelWeights, members, iteration, fraction)
      }
      System.nanoTime() - t0
    }

    /** Fills the arguments for block `b`; false when no model of the pass reads it. */
    private def select(b: RowBlock): Boolean = {
      val (lo, hi) = (b.firstRow, b.firstRow + b.numRows)
      // (index in the pass, first selected row, end) per model reading the block.
      val members = if (selections == null) {
        models.indices.map(a => (a, 0, b.numRows))
      } else {
        models.indices.flatMap { a =>
          val s = selections(models(a))
          val from = lowerBound(s.rows, lo)
          val to = lowerBound(s.rows, hi)
          if (to > from) Some((a, from, to)) else None
        }
      }
      if (members.isEmpty) return false
      start = members.scanLeft(0)((n, m) => n + (m._3 - m._2)).toArray
      val n = start.last
      rows = new Array[Long](n)
      labels = new Array[Double](n)
      val weighted = selections != null && members.exists(m => selections(models(m._1)).weights != null)
      weights = if (weighted) new Array[Double](n) else null
      ids = members.map(m => models(m._1)).toArray
      this.members = members.map(m => slots(m._1)).toArray
      for (((a, from, to), q) <- members.zipWithIndex) {
        if (selections == null) {
          var r = 0
          while (r < to - from) {
            rows(start(q) + r) = lo + from + r
            r += 1
          }
          System.arraycopy(b.labels, from, labels, start(q), to - from)
        } else {
          val s = selections(models(a))
          System.arraycopy(s.rows, from, rows, start(q), to - from)
          System.arraycopy(s.labels, from, labels, start(q), to - from)
          if (weighted) {
            if (s.weights != null) System.arraycopy(s.weights, from, weights, start(q), to - from)
            else java.util.Arrays.fill(weights, start(q), start(q + 1), 1.0)
          }
        }
      }
      true
    }
  }
}
