package dev.paws.spark

import dev.paws.spark.HadoopOutput.{deleteRecursively, fileSystem, publish}
import dev.paws.spark.jni.{NativeExperiment, NativeKernels}
import java.io.{File, IOException}
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path => JPath}
import java.time.Instant
import java.time.temporal.ChronoUnit

import scala.collection.JavaConverters._

import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}
import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{Path => HPath}
import org.apache.spark.SparkContext
import org.apache.spark.broadcast.Broadcast
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.SparkSession
import org.apache.spark.storage.StorageLevel
import org.slf4j.{Logger, LoggerFactory}

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
 * for a legacy JSON folder), caches it once as float32 blocks ([[ChunkedRows]]), and runs
 * the passes of the Spark engine ([[SgdDriver]]) for all models at once. The table equals
 * `paws experiment`'s (engine and seconds aside): see PetBreedExperimentTest.
 *
 * In a notebook, [[experiment]] (or [[builder]]) runs the same on the notebook's session
 * and returns an [[ExperimentResult]]: the table as a DataFrame, the best models as MLlib
 * models, the plot (NotebookApiTest; Python: `python/paws_spark`).
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
      /** rows read and cached: those in chunks that some model reads */
      rowsRead: Long,
      inputPartitions: Int,
      blockPartitions: Int,
      table: String,
      cachedBytes: Long,
      rawBytes: Long,
      loadSeconds: Double,
      trainSeconds: Double,
      sgdDriver: String)

  def main(args: Array[String]): Unit = {
    val usage = NativeExperiment.usage(args)
    if (usage != null) {
      print(usage)
      return
    }
    val spark = SparkSession.builder().appName("paws PetBreedExperiment").getOrCreate()
    try {
      run(spark, args, s => print(s))
    } finally {
      spark.stop()
    }
  }

  /** Runs the experiment on `spark`'s context (which stays open). The table and the
    * output files go to the log at DEBUG (`main` prints them, like the CLI). */
  def run(spark: SparkSession, args: Array[String]): Result = runReport(spark, args, debugOut)._1

  /** Runs the experiment; `out` gets the table and the output files, as text ending
    * with newlines. */
  def run(spark: SparkSession, args: Array[String], out: String => Unit): Result =
    runReport(spark, args, out)._1

  /**
   * For notebooks: runs the experiment and returns its table as a DataFrame and its best
   * models as MLlib models ([[ExperimentResult]]), beside the output folder it wrote.
   */
  def experiment(spark: SparkSession, args: Array[String]): ExperimentResult = {
    val (result, report) = runReport(spark, args, debugOut)
    new ExperimentResult(spark, result, report)
  }

  /** [[experiment]] for Java (and py4j): the arguments as a list. */
  def experiment(spark: SparkSession, args: java.util.List[String]): ExperimentResult =
    experiment(spark, args.asScala.toArray)

  /** A builder of the arguments: `PetBreedExperiment.builder(spark).classOf("Abyssinian").vs("all").run()`. */
  def builder(spark: SparkSession): ExperimentBuilder = new ExperimentBuilder(spark)

  private val debugOut: String => Unit = s => if (logger.isDebugEnabled) logger.debug(s.stripLineEnd)

  /** Runs the experiment; returns the result and the report's files kept in memory
    * (the local copy is deleted once published). */
  private def runReport(spark: SparkSession, args: Array[String], out: String => Unit): (Result, LocalReport) = {
    val log = new RunLog(logger)
    val h = NativeExperiment.create(args)
    var output: String = null
    try {
      val info = mapper.readTree(NativeExperiment.info(h))
      output = info.get("output").asText()
      execute(spark, args, h, info, log, out)
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
      log: RunLog,
      out: String => Unit): (Result, LocalReport) = {
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
      val choose = modelChunks(h, features)
      data = if (isLegacyFolder(conf, features)) {
        ExperimentData.legacy(spark, features, info.get("extractor").asText(), level, choose)
      } else {
        ExperimentData.parquet(spark, features, level, choose)
      }
      val classes = data.breeds.distinct.length
      log.info(f"load: ${data.numRows} rows × ${data.dim} features ($classes classes, extractor " +
        f"${data.extractor}) from $features in ${(System.nanoTime() - t0) / 1e9}%.3f s " +
        s"(${data.inputPartitions} input partitions, cached as ${data.blocks.getNumPartitions} " +
        s"partitions of ${NativeKernels.CHUNK_ROWS}-row blocks ${data.blockLayout}, $level; read " +
        s"${data.chunks.describe}: those the models read)")
      // What the cache costs against the raw float32 features read (Spark's own storage info).
      val rawBytes = data.chunks.rows * data.dim * 4
      val cachedBytes = sc.getRDDStorageInfo.find(_.id == data.blocks.id).map(i => i.memSize + i.diskSize)
        .getOrElse(0L)
      log.info(f"cache: ${cachedBytes / 1e6}%.1f MB in executors for ${rawBytes / 1e6}%.1f MB of raw " +
        f"float32 features (${cachedBytes.toDouble / rawBytes}%.3f×)")

      val tPlan = System.nanoTime()
      val plan = mapper.readTree(NativeExperiment.setData(h, data.images, data.breeds, data.dim,
        data.extractor, data.sourceName))
      val splitSeconds = (System.nanoTime() - tPlan) / 1e9
      log.info(plan.get("log").asText())
      val models = plan.get("models").elements().asScala.toIndexedSeq
      val loadSeconds = (tPlan - t0) / 1e9
      val (trainSeconds, evalSeconds, driver) = trainSweep(sc, h, models, info, data, props, depth, log)
      log.info(f"phases: split $splitSeconds%.3f s, train $trainSeconds%.3f s, evaluate $evalSeconds%.3f s")

      val local = Files.createTempDirectory("paws-experiment-")
      try {
        val report = mapper.readTree(NativeExperiment.writeReport(h, local.toString))
        val files = report.get("files").elements().asScala.map(_.asText()).toSeq
        val table = report.get("table").asText()
        out(table)
        val flagged = report.get("flagged").asInt()
        if (flagged > 0) {
          out(s"$flagged of ${models.length} models predict a single class: their accuracy is " +
            "only the majority share (see flag, majority_pct).\n")
        }
        // `_SUCCESS` (as Spark's own writers and `paws experiment` on S3 do): deleted before
        // the first file is replaced, written after the last, so a reader of the folder (the
        // EMR kit's fetch) can tell one finished run from an interrupted or failed one.
        val output = info.get("output").asText()
        setFinished(conf, output, finished = false)
        val outDir = publish(conf, local, files, output)
        out(s"table: ${new HPath(outDir, "results.csv")}\n" +
          s"plot:  ${new HPath(outDir, "accuracy.png")}\n" +
          files.filter(_.startsWith("models/")).map(f => s"best model: ${new HPath(outDir, f)}\n").mkString)
        log.info(f"done in ${(System.nanoTime() - t0) / 1e9}%.3f s: ${models.length} models, output $outDir")
        Files.write(local.resolve("paws.log"), log.text.getBytes(StandardCharsets.UTF_8))
        publish(conf, local, Seq("paws.log"), outDir)
        setFinished(conf, outDir, finished = true)
        val result = Result(outDir, files :+ "paws.log", models.length, data.numRows, data.chunks.rows,
          data.inputPartitions, data.blocks.getNumPartitions, table, cachedBytes, rawBytes, loadSeconds,
          trainSeconds, driver)
        (result, LocalReport.read(local, files))
      } finally {
        deleteRecursively(local.toFile)
      }
    } finally {
      if (data != null) data.blocks.unpersist(blocking = false)
      props.exit()
    }
  }

  /**
   * The chunks of rows that the experiment's models read (training and test rows), with
   * the rows each model trains on (how the chunks are spread over tasks): a sweep of one
   * breed against a few others reads and caches only the row groups or files that hold
   * those breeds. The models are planned from the dataset's index alone
   * (images and breeds; no split depends on the feature dimension, given here as 1), and
   * planned again once the features are read, to the same plan.
   */
  private def modelChunks(h: Long, source: String): ExperimentData.ChooseChunks = (images, breeds) => {
    val plan = mapper.readTree(NativeExperiment.setData(h, images, breeds, 1, "unknown", source))
    val tasks = plan.get("models").elements().asScala.map(_.get("task").asInt()).toArray
    val train = tasks.map(t => NativeExperiment.trainRows(h, t))
    Chunks.holding(images.length.toLong,
      train.iterator.flatMap(_.iterator) ++ tasks.iterator.flatMap(t => NativeExperiment.testRows(h, t).iterator),
      trainedBy = train.toSeq)
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

  /**
   * Trains every model of the sweep with [[SgdDriver]] (one barrier stage for all their
   * iterations, or one Spark job per iteration), then evaluates them all in one more job;
   * returns (train s, evaluate s, the SGD driver). Each model's weights are those of
   * training it alone, bit for bit.
   */
  private def trainSweep(
      sc: SparkContext,
      h: Long,
      models: IndexedSeq[JsonNode],
      info: JsonNode,
      data: ExperimentData,
      props: JobProps,
      depth: Int,
      log: RunLog): (Double, Double, String) = {
    val loss = info.get("loss").asInt()
    val iterations = info.get("iterations").asInt()
    val fraction = info.get("mini_batch_fraction").asDouble()
    val standardize = info.get("standardize").asBoolean()
    val dim = data.dim
    val k = models.length
    val tasks = models.map(_.get("task").asInt()).toArray
    val names = models.map(m => s"${m.get("class1").asText()} vs ${m.get("class2").asText()} split " +
      s"${m.get("split").asDouble()}").toArray
    val t0 = System.nanoTime()
    val sels = tasks.map(t => new Selection(NativeExperiment.trainRows(h, t),
      NativeExperiment.trainLabels(h, t), NativeExperiment.trainWeights(h, t)))
    val sgds = Array.fill(k)(0L)
    val selB = sc.broadcast(sels)
    try {
      for (j <- 0 until k) {
        val (mean, invStd) = if (standardize && sels(j).rows.nonEmpty) {
          props.describe(s"paws: model ${j + 1}/$k, ${names(j)}: scaling statistics")
          val one = sc.broadcast(sels(j))
          try scaling(sc, data.blocks, one, dim, depth) finally one.destroy()
        } else if (standardize) {
          (new Array[Double](dim), new Array[Double](dim))
        } else {
          (null, null)
        }
        sgds(j) = NativeExperiment.sgdCreate(h, tasks(j), mean, invStd)
        if (sels(j).rows.isEmpty) logger.warn(s"paws: ${names(j)}: no training rows: the initial weights are the model")
      }
      val active = (0 until k).filter(j => sels(j).rows.nonEmpty).toArray
      val timings = SgdDriver.train(sc, data.blocks, SgdDriver.Selected(selB), sgds, active, loss, dim,
        fraction, depth, (i, training) => {
          val last = if (i > iterations) " (final loss)" else ""
          s"paws: sweep of $k models: iteration $i/$iterations$last ($training training)"
        })
      val t1 = System.nanoTime()
      props.describe(s"paws: sweep of $k models: evaluation")
      val tests = tasks.map(t => new Selection(NativeExperiment.testRows(h, t), NativeExperiment.testLabels(h, t), null))
      val raws = sgds.map(NativeKernels.sgdRawModel)
      val counts = confusionAll(sc, data.blocks, tests, raws, loss, dim, info.get("threshold").asDouble(), depth)
      val t2 = System.nanoTime()
      val (tr, ev) = ((t1 - t0) / 1e9, (t2 - t1) / 1e9)
      for (j <- 0 until k) {
        val out = mapper.readTree(NativeExperiment.finish(h, tasks(j), sgds(j), counts(j), (tr + ev) / k))
        val row = out.get("row")
        if (!out.get("warning").isNull) log.warn(out.get("warning").asText())
        // Rounded as the table rounds it (the exact binary value, ties to even).
        val pct = new java.math.BigDecimal(row.get("predict_pct").asDouble())
          .setScale(2, java.math.RoundingMode.HALF_EVEN)
        log.info(f"model ${tasks(j) + 1}/$k: ${names(j)}: $pct %% (iterations run ${row.get("iterations_run").asInt()})")
      }
      log.info(f"sweep: $k models trained together in $tr%.3f s (the ${timings.driver} driver), " +
        f"evaluated in $ev%.3f s")
      log.info(f"sweep: ${timings.passes} passes, ${timings.passNanos / 1e9}%.3f s wall in passes; summed " +
        f"over tasks: tasks ${timings.taskNanos.value / 1e9}%.3f s, native kernel " +
        f"${timings.kernelNanos.value / 1e9}%.3f s, exchanging sums ${timings.exchangeNanos.value / 1e9}%.3f s")
      (tr, ev, timings.driver)
    } finally {
      sgds.filter(_ != 0L).foreach(NativeKernels.sgdFree)
      selB.destroy()
    }
  }

  /** `{tp, fp, tn, fn}` of every model on its test rows, in one job. */
  private def confusionAll(
      sc: SparkContext,
      blocks: RDD[RowBlock],
      tests: Array[Selection],
      raws: Array[Array[Double]],
      loss: Int,
      dim: Int,
      threshold: Double,
      depth: Int): Array[Array[Long]] = {
    val b = sc.broadcast((tests, raws))
    val add = (a: Array[Long], c: Array[Long]) => Array.tabulate(4)(i => a(i) + c(i))
    val addMaps = (x: Map[Int, Array[Long]], y: Map[Int, Array[Long]]) =>
      y.foldLeft(x) { case (m, (j, v)) => m.updated(j, m.get(j).map(add(_, v)).getOrElse(v)) }
    try {
      val counts = blocks.mapPartitions { it =>
        val (ts, ws) = b.value
        var acc = Map.empty[Int, Array[Long]]
        while (it.hasNext) {
          val blk = it.next()
          for (j <- ts.indices) {
            val s = ts(j)
            if (SgdDriver.lowerBound(s.rows, blk.firstRow) < SgdDriver.lowerBound(s.rows, blk.firstRow + blk.numRows)) {
              val c = NativeKernels.confusionSelected(loss, blk.rows, dim, blk.firstRow, s.rows, s.labels,
                java.util.Arrays.copyOf(ws(j), dim), ws(j)(dim), threshold)
              acc = addMaps(acc, Map(j -> c))
            }
          }
        }
        Iterator.single(acc)
      }.treeAggregate(Map.empty[Int, Array[Long]])(addMaps, addMaps, depth)
      Array.tabulate(tests.length)(j => counts.getOrElse(j, new Array[Long](4)))
    } finally {
      b.destroy()
    }
  }

  /** Merges exact sums; an empty array (a partition without blocks) is the zero. */
  private def merge(a: Array[Long], b: Array[Long]): Array[Long] =
    if (a.isEmpty) b else if (b.isEmpty) a else NativeKernels.mergeSums(a, b)

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

  /** Writes (an empty object) or deletes `_SUCCESS` in the output folder `out`. */
  private def setFinished(conf: Configuration, out: String, finished: Boolean): Unit = {
    val marker = new HPath(out, "_SUCCESS")
    val fs = fileSystem(conf, marker)
    if (finished) fs.create(marker, true).close()
    else if (fs.exists(marker) && !fs.delete(marker, false)) throw new IOException(s"cannot delete $marker")
  }

  /** A failed run's log: the folder no longer holds one finished run, so `_SUCCESS` goes. */
  private def writeLogOnly(conf: Configuration, out: String, log: RunLog): Unit = {
    val local = Files.createTempDirectory("paws-experiment-log-")
    try {
      setFinished(conf, out, finished = false)
      Files.write(local.resolve("paws.log"), log.text.getBytes(StandardCharsets.UTF_8))
      publish(conf, local, Seq("paws.log"), out)
    } finally {
      deleteRecursively(local.toFile)
    }
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
