package dev.paws.spark

import java.io.{File, IOException}
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path => JPath}
import java.time.Instant
import java.time.temporal.ChronoUnit
import java.util.UUID

import scala.collection.JavaConverters._

import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}
import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{FileSystem, LocalFileSystem, Path => HPath}
import org.apache.spark.SparkContext
import org.apache.spark.broadcast.Broadcast
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.SparkSession
import org.apache.spark.storage.StorageLevel
import org.slf4j.{Logger, LoggerFactory}

/** One model's rows (global, ascending) with their labels and optional weights. */
private[spark] final class Selection(
    val rows: Array[Long],
    val labels: Array[Double],
    val weights: Array[Double])
  extends Serializable

/**
 * `paws experiment` on Spark, for `spark-submit`:
 *
 * {{{
 * spark-submit --class dev.paws.spark.PetBreedExperiment paws-spark-0.1.0.jar \
 *   --features s3://bucket/features.parquet --class Abyssinian --vs all -o s3://bucket/out
 * }}}
 *
 * It takes the arguments of `paws experiment` (`--help` prints them; they are parsed by
 * the CLI's own definitions, in the native library) and writes the same output folder,
 * to any Hadoop path (`file:`, `hdfs:`, `s3a:`, `s3:` on EMR): results.csv/.json/.md,
 * accuracy.png, models/<A>_vs_<B>.json and paws.log, each file written under a temporary
 * name and renamed.
 *
 * Division of work: the native core (`NativeExperiment`, `NativeKernels`) decides
 * everything the experiment computes and reports: comparisons, seeded splits, labels,
 * class weights, scaling statistics, MLlib's SGD, evaluation, table rows, saved models,
 * tables and plot. This class reads the data (Spark's Parquet reader, or `binaryFiles`
 * for a legacy JSON folder), caches it once as float32 blocks, and for each model runs
 * the passes of the Spark engine: broadcast the kernel weights, the native gradient over
 * the model's rows of every cached block in `mapPartitions`, `treeAggregate` of the exact
 * sums, the update on the driver. The table equals `paws experiment`'s (engine and
 * seconds aside): see PetBreedExperimentTest.
 */
object PetBreedExperiment {
  private val logger: Logger = LoggerFactory.getLogger("dev.paws.spark.PetBreedExperiment")
  private val mapper = new ObjectMapper()

  /** Spark conf: where the cached blocks live (default MEMORY_AND_DISK). */
  val StorageLevelConf = "spark.paws.storageLevel"
  /** Spark conf: treeAggregate depth (default 2, as MLlib). */
  val TreeDepthConf = "spark.paws.treeAggregateDepth"

  /** What a run produced (for tests and callers of [[run]]). */
  final case class Result(
      output: String,
      files: Seq[String],
      models: Int,
      rows: Int,
      inputPartitions: Int,
      blockPartitions: Int,
      table: String)

  def main(args: Array[String]): Unit = {
    val usage = NativeExperiment.usage(args)
    if (usage != null) {
      print(usage)
      return
    }
    val spark = SparkSession.builder().appName("paws PetBreedExperiment").getOrCreate()
    try {
      run(spark, args)
    } finally {
      spark.stop()
    }
  }

  /** Runs the experiment on `spark`'s context (which stays open). */
  def run(spark: SparkSession, args: Array[String]): Result = {
    val log = new RunLog(logger)
    val h = NativeExperiment.create(args)
    var output: String = null
    try {
      val info = mapper.readTree(NativeExperiment.info(h))
      output = info.get("output").asText()
      execute(spark, args, h, info, log)
    } catch {
      case e: Throwable =>
        log.error(s"${e.getClass.getSimpleName}: ${e.getMessage}")
        if (output != null) {
          // Like the CLI, leave the log with the error beside the (missing) results.
          try {
            writeLogOnly(spark.sparkContext.hadoopConfiguration, output, log)
          } catch {
            case e2: Throwable => logger.warn(s"could not write paws.log to $output: $e2")
          }
        }
        throw e
    } finally {
      NativeExperiment.free(h)
    }
  }

  private def execute(
      spark: SparkSession,
      args: Array[String],
      h: Long,
      info: JsonNode,
      log: RunLog): Result = {
    val t0 = System.nanoTime()
    val sc = spark.sparkContext
    val conf = sc.hadoopConfiguration
    log.info(s"paws PetBreedExperiment ${args.mkString(" ")} (Spark ${sc.version}, master ${sc.master}, " +
      s"application ${sc.applicationId}, ${NativeKernels.nativeVersion()})")
    val features = resolveFeatures(sc, info)
    val level = StorageLevel.fromString(sc.getConf.get(StorageLevelConf, "MEMORY_AND_DISK"))
    val depth = sc.getConf.getInt(TreeDepthConf, 2)
    val props = JobProps.enter(sc, "PetBreedExperiment")
    var data: ExperimentData = null
    try {
      props.describe(s"paws: PetBreedExperiment: reading and caching $features")
      data = if (isLegacyFolder(conf, features)) {
        ExperimentData.legacy(spark, features, info.get("extractor").asText(), level)
      } else {
        ExperimentData.parquet(spark, features, level)
      }
      val classes = data.breeds.distinct.length
      log.info(f"load: ${data.numRows} rows × ${data.dim} features ($classes classes, extractor " +
        f"${data.extractor}) from $features in ${(System.nanoTime() - t0) / 1e9}%.3f s " +
        s"(${data.inputPartitions} input partitions, cached as ${data.blocks.getNumPartitions} " +
        s"partitions of ${NativeKernels.CHUNK_ROWS}-row blocks, $level)")

      val tPlan = System.nanoTime()
      val plan = mapper.readTree(NativeExperiment.setData(h, data.images, data.breeds, data.dim,
        data.extractor, data.sourceName))
      val splitSeconds = (System.nanoTime() - tPlan) / 1e9
      log.info(plan.get("log").asText())
      val models = plan.get("models").elements().asScala.toIndexedSeq
      var trainSeconds = 0.0
      var evalSeconds = 0.0
      for (m <- models) {
        val t = m.get("task").asInt()
        val name = s"${m.get("class1").asText()} vs ${m.get("class2").asText()} split " +
          s"${m.get("split").asDouble()}"
        val (done, tr, ev) = trainAndEvaluate(sc, h, t, s"model ${t + 1}/${models.length}, $name",
          info, data, props, depth)
        trainSeconds += tr
        evalSeconds += ev
        val out = mapper.readTree(done)
        val row = out.get("row")
        if (!out.get("warning").isNull) log.warn(out.get("warning").asText())
        // Rounded as the table rounds it (the exact binary value, ties to even).
        val pct = new java.math.BigDecimal(row.get("predict_pct").asDouble())
          .setScale(2, java.math.RoundingMode.HALF_EVEN)
        log.info(f"model ${t + 1}/${models.length}: $name: $pct %% " +
          f"(iterations run ${row.get("iterations_run").asInt()}, ${tr + ev}%.3f s)")
      }
      log.info(f"phases: split $splitSeconds%.3f s, train $trainSeconds%.3f s, evaluate $evalSeconds%.3f s")

      val local = Files.createTempDirectory("paws-experiment-")
      try {
        val report = mapper.readTree(NativeExperiment.writeReport(h, local.toString))
        val files = report.get("files").elements().asScala.map(_.asText()).toSeq
        val table = report.get("table").asText()
        print(table)
        val flagged = report.get("flagged").asInt()
        if (flagged > 0) {
          println(s"$flagged of ${models.length} models predict a single class: their accuracy is " +
            "only the majority share (see flag, majority_pct).")
        }
        val outDir = publish(conf, local, files, info.get("output").asText())
        println(s"table: ${new HPath(outDir, "results.csv")}")
        println(s"plot:  ${new HPath(outDir, "accuracy.png")}")
        files.filter(_.startsWith("models/")).foreach(f => println(s"best model: ${new HPath(outDir, f)}"))
        log.info(f"done in ${(System.nanoTime() - t0) / 1e9}%.3f s: ${models.length} models, output $outDir")
        Files.write(local.resolve("paws.log"), log.text.getBytes(StandardCharsets.UTF_8))
        publish(conf, local, Seq("paws.log"), outDir)
        Result(outDir, files :+ "paws.log", models.length, data.numRows, data.inputPartitions,
          data.blocks.getNumPartitions, table)
      } finally {
        deleteRecursively(local.toFile)
      }
    } finally {
      if (data != null) data.blocks.unpersist(blocking = false)
      props.exit()
    }
  }

  /** The features path as a Hadoop path; the embedded sample (no --features) in local mode. */
  private def resolveFeatures(sc: SparkContext, info: JsonNode): String = {
    val features = info.get("features").asText()
    if (!info.get("default_features").asBoolean()) return features
    val f = new File(features)
    if (!f.isFile) {
      throw new IllegalArgumentException(s"no --features given, and the embedded sample is not at " +
        s"$f: pass --features <Parquet file or folder, or legacy JSON folder>")
    }
    if (!sc.isLocal) {
      throw new IllegalArgumentException(s"no --features given: the embedded sample ($f) is a file " +
        "on the driver, which a cluster's executors cannot read; pass --features (hdfs:, s3:, s3a: ...)")
    }
    f.toURI.toString
  }

  /**
   * A legacy folder holds `*.json` feature files; anything else (a Parquet file, or a
   * folder of Parquet parts as Spark writes them) is read as Parquet.
   */
  private def isLegacyFolder(conf: Configuration, path: String): Boolean = {
    val p = new HPath(path)
    val fs = p.getFileSystem(conf)
    val status = try fs.getFileStatus(p) catch {
      case e: java.io.FileNotFoundException =>
        throw new IOException(s"reading features from $path: no such file or folder", e)
    }
    status.isDirectory && Option(fs.globStatus(new HPath(p, "*.json"))).exists(_.exists(_.isFile))
  }

  /** Trains task `t` with the Spark engine and evaluates it; (finish JSON, train s, eval s). */
  private def trainAndEvaluate(
      sc: SparkContext,
      h: Long,
      t: Int,
      name: String,
      info: JsonNode,
      data: ExperimentData,
      props: JobProps,
      depth: Int): (String, Double, Double) = {
    val loss = info.get("loss").asInt()
    val iterations = info.get("iterations").asInt()
    val fraction = info.get("mini_batch_fraction").asDouble()
    val dim = data.dim
    val t0 = System.nanoTime()
    val trainRows = NativeExperiment.trainRows(h, t)
    val sel = sc.broadcast(new Selection(trainRows, NativeExperiment.trainLabels(h, t),
      NativeExperiment.trainWeights(h, t)))
    try {
      val (mean, invStd) = if (info.get("standardize").asBoolean() && trainRows.nonEmpty) {
        props.describe(s"paws: $name: scaling statistics")
        scaling(sc, data.blocks, sel, dim, depth)
      } else if (info.get("standardize").asBoolean()) {
        (new Array[Double](dim), new Array[Double](dim))
      } else {
        (null, null)
      }
      val sgd = NativeExperiment.sgdCreate(h, t, mean, invStd)
      try {
        if (trainRows.nonEmpty) {
          while (!NativeKernels.sgdIsDone(sgd)) {
            val i = NativeKernels.sgdIteration(sgd)
            val last = if (i > iterations) " (final loss)" else ""
            props.describe(s"paws: $name: iteration $i/$iterations$last")
            val w = sc.broadcast(NativeKernels.sgdKernelWeights(sgd))
            try {
              NativeKernels.sgdApply(sgd, gradientPass(data.blocks, sel, w, loss, dim, i, fraction, depth))
            } finally {
              w.destroy()
            }
          }
        } else {
          logger.warn(s"paws: $name: no training rows: the initial weights are the model")
        }
        val t1 = System.nanoTime()
        props.describe(s"paws: $name: evaluation")
        val raw = NativeKernels.sgdRawModel(sgd)
        val test = sc.broadcast(new Selection(NativeExperiment.testRows(h, t),
          NativeExperiment.testLabels(h, t), null))
        val counts = try {
          confusion(data.blocks, test, loss, dim, java.util.Arrays.copyOf(raw, dim), raw(dim),
            info.get("threshold").asDouble(), depth)
        } finally {
          test.destroy()
        }
        val t2 = System.nanoTime()
        val (tr, ev) = ((t1 - t0) / 1e9, (t2 - t1) / 1e9)
        (NativeExperiment.finish(h, t, sgd, counts, tr + ev), tr, ev)
      } finally {
        NativeKernels.sgdFree(sgd)
      }
    } finally {
      sel.destroy()
    }
  }

  /** Merges exact sums; an empty array (a partition without blocks) is the zero. */
  private def merge(a: Array[Long], b: Array[Long]): Array[Long] =
    if (a.isEmpty) b else if (b.isEmpty) a else NativeKernels.mergeSums(a, b)

  /** One pass: the model's exact gradient sum over every cached block. */
  private def gradientPass(
      blocks: RDD[RowBlock],
      sel: Broadcast[Selection],
      w: Broadcast[Array[Double]],
      loss: Int,
      dim: Int,
      iteration: Int,
      fraction: Double,
      depth: Int): Array[Long] = {
    val sum = blocks.mapPartitions { it =>
      val s = sel.value
      val kw = w.value
      val v = java.util.Arrays.copyOf(kw, dim)
      val offset = kw(dim)
      var acc = Array.empty[Long]
      while (it.hasNext) {
        val b = it.next()
        acc = merge(acc, NativeKernels.gradientSelected(loss, b.rows, dim, b.firstRow, s.rows,
          s.labels, s.weights, v, offset, iteration, fraction))
      }
      Iterator.single(acc)
    }.treeAggregate(Array.empty[Long])(merge, merge, depth)
    if (sum.isEmpty) new Array[Long](NativeKernels.sumWords(dim)) else sum
  }

  /** Mean and inverse std of the model's training rows: two passes of exact moments. */
  private def scaling(
      sc: SparkContext,
      blocks: RDD[RowBlock],
      sel: Broadcast[Selection],
      dim: Int,
      depth: Int): (Array[Double], Array[Double]) = {
    def moments(center: Broadcast[Array[Double]]): Array[Long] =
      blocks.mapPartitions { it =>
        val rows = sel.value.rows
        val c = if (center == null) null else center.value
        var acc = Array.empty[Long]
        while (it.hasNext) {
          val b = it.next()
          acc = merge(acc, NativeKernels.momentsSelected(b.rows, dim, b.firstRow, rows, c))
        }
        Iterator.single(acc)
      }.treeAggregate(Array.empty[Long])(merge, merge, depth)
    val mean = NativeKernels.meanOfMoments(moments(null))
    val c = sc.broadcast(mean)
    try {
      (mean, NativeKernels.invStdOfMoments(moments(c)))
    } finally {
      c.destroy()
    }
  }

  /** `{tp, fp, tn, fn}` of the model on the selected (test) rows. */
  private def confusion(
      blocks: RDD[RowBlock],
      test: Broadcast[Selection],
      loss: Int,
      dim: Int,
      weights: Array[Double],
      intercept: Double,
      threshold: Double,
      depth: Int): Array[Long] = {
    val add = (a: Array[Long], b: Array[Long]) => Array.tabulate(4)(i => a(i) + b(i))
    blocks.mapPartitions { it =>
      val s = test.value
      var acc = new Array[Long](4)
      while (it.hasNext) {
        val b = it.next()
        acc = add(acc, NativeKernels.confusionSelected(loss, b.rows, dim, b.firstRow, s.rows,
          s.labels, weights, intercept, threshold))
      }
      Iterator.single(acc)
    }.treeAggregate(new Array[Long](4))(add, add, depth)
  }

  /** The file system to write `p` with: for `file:`, the raw one (no .crc side files). */
  private def fileSystem(conf: Configuration, p: HPath): FileSystem = p.getFileSystem(conf) match {
    case l: LocalFileSystem => l.getRawFileSystem
    case fs => fs
  }

  /**
   * Copies `files` (relative paths under the local folder `local`) to the Hadoop folder
   * `out`, each under a temporary name in its destination folder, then renamed over the
   * old file: a reader never sees half a file (on S3 a rename is a copy, still whole).
   * Returns `out`, qualified.
   */
  private def publish(conf: Configuration, local: JPath, files: Seq[String], out: String): String = {
    val base = new HPath(out)
    val fs = fileSystem(conf, base)
    val dir = fs.makeQualified(base)
    fs.mkdirs(dir)
    for (rel <- files) {
      val dst = new HPath(dir, rel)
      fs.mkdirs(dst.getParent)
      val tmp = new HPath(dst.getParent, s".${dst.getName}.paws-${UUID.randomUUID()}.tmp")
      fs.copyFromLocalFile(false, true, new HPath(local.resolve(rel).toUri), tmp)
      if (fs.exists(dst) && !fs.delete(dst, false)) throw new IOException(s"cannot replace $dst")
      if (!fs.rename(tmp, dst)) {
        fs.delete(tmp, false)
        throw new IOException(s"cannot rename $tmp to $dst")
      }
    }
    dir.toString
  }

  private def writeLogOnly(conf: Configuration, out: String, log: RunLog): Unit = {
    val local = Files.createTempDirectory("paws-experiment-log-")
    try {
      Files.write(local.resolve("paws.log"), log.text.getBytes(StandardCharsets.UTF_8))
      publish(conf, local, Seq("paws.log"), out)
    } finally {
      deleteRecursively(local.toFile)
    }
  }

  private def deleteRecursively(f: File): Unit = {
    Option(f.listFiles()).foreach(_.foreach(deleteRecursively))
    f.delete()
  }

  /** Log lines to slf4j (the driver log) and, as `paws experiment` does, to paws.log. */
  private final class RunLog(logger: Logger) {
    private val sb = new StringBuilder

    private def add(level: String, msg: String): Unit = synchronized {
      sb.append(s"[${Instant.now().truncatedTo(ChronoUnit.MILLIS)} ${level.padTo(5, ' ')}] $msg\n")
    }

    def info(msg: String): Unit = { logger.info(msg); add("INFO", msg) }
    def warn(msg: String): Unit = { logger.warn(msg); add("WARN", msg) }
    def error(msg: String): Unit = { logger.error(msg); add("ERROR", msg) }
    def text: String = synchronized(sb.toString)
  }
}
