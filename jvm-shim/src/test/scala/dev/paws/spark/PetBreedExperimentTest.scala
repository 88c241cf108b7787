package dev.paws.spark

import dev.paws.spark.jni.{NativeExperiment, NativeKernels}
import java.net.URI
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path => JPath, Paths}
import java.util.Random

import scala.collection.JavaConverters._

import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}
import com.fasterxml.jackson.databind.node.ObjectNode
import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{Path => HPath}
import org.apache.parquet.hadoop.ParquetFileReader
import org.apache.parquet.hadoop.util.HadoopInputFile
import org.apache.spark.scheduler.{SparkListener, SparkListenerJobStart}
import org.apache.spark.sql.SparkSession
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test

/**
 * PetBreedExperiment on Spark local[2] against `paws experiment`: the same table (every
 * column but engine and seconds, in CSV and at full precision in JSON) and the same best
 * models, bit for bit. The reference is the CLI's engine run in process through JNI
 * (`NativeExperiment.runInProcess`, always) and, when a built `paws` binary is found
 * (`-Dpaws.cli=/path/to/paws`, `$CARGO_TARGET_DIR/release/paws` or
 * `../target/release/paws`; `-Dpaws.cli=none` skips it), the CLI itself, which also
 * reads the files with its own readers.
 */
class PetBreedExperimentTest {
  import PetBreedExperimentTest._

  private lazy val spark: SparkSession = {
    TestSpark.sc
    SparkSession.builder().getOrCreate()
  }

  private val repo: JPath = TestCli.repo
  private val sample: JPath = repo.resolve("examples/oxford-pets-sample/features.parquet")

  private def tempDir(name: String): JPath = {
    val base = Paths.get(System.getProperty("java.io.tmpdir"))
    Files.createDirectories(base)
    Files.createTempDirectory(base, s"paws-$name-")
  }

  private def cliBinary = TestCli.binary

  /** Runs `paws experiment args -o out` from the repository root; None without a binary. */
  private def runCli(args: Seq[String], out: JPath): Option[JPath] =
    TestCli.run(Seq("experiment") ++ args ++ Seq("-o", out.toString)).map(_ => out)

  /** The sample's rows in file order, read without PetBreedExperiment's reader. */
  private def sampleRows(): (Array[String], Array[String], Array[Float], Int, String) = {
    val rows = spark.read.parquet(sample.toUri.toString).collect()
    val dim = rows.head.getSeq[Float](2).length
    val flat = rows.flatMap(_.getSeq[Float](rows.head.fieldIndex("features")))
    val reader = ParquetFileReader.open(HadoopInputFile.fromPath(new HPath(sample.toUri), new Configuration()))
    val model = try {
      reader.getFooter.getFileMetaData.getKeyValueMetaData.get("paws.extractor.model")
    } finally {
      reader.close()
    }
    (rows.map(_.getAs[String]("image")), rows.map(_.getAs[String]("label")), flat, dim, model)
  }

  @Test
  def sampleTableEqualsTheCli(): Unit = {
    assertTrue(Files.isRegularFile(sample), s"the embedded sample is at $sample")
    val out = tempDir("spark")
    // The README's default job: no arguments but the output, on the embedded sample.
    val jobs = scala.collection.mutable.ArrayBuffer[String]()
    val listener = new SparkListener {
      override def onJobStart(e: SparkListenerJobStart): Unit = jobs.synchronized {
        jobs += Option(e.properties).map(_.getProperty("spark.job.description")).getOrElse("")
      }
    }
    spark.sparkContext.addSparkListener(listener)
    val t0 = System.nanoTime()
    val r = try PetBreedExperiment.run(spark, Array("-o", out.toUri.toString))
      finally {
        // Listener events arrive asynchronously: wait for the evaluation job's.
        val deadline = System.nanoTime() + 10000000000L
        while (!jobs.synchronized(jobs.exists(_.contains("evaluation"))) && System.nanoTime() < deadline) {
          Thread.sleep(20)
        }
        spark.sparkContext.removeSparkListener(listener)
      }
    val sparkSeconds = (System.nanoTime() - t0) / 1e9
    // The whole sweep of 18 models is one Spark job per SGD iteration, not one per model:
    // at most 101 passes (100 iterations and MLlib's final loss pass) and one evaluation.
    val passes = jobs.synchronized(jobs.filter(_.startsWith("paws: sweep of 18 models: iteration")).toList)
    assertTrue(passes.nonEmpty && passes.length <= 101, s"${passes.length} passes: ${jobs.mkString("\n")}")
    assertEquals(1, jobs.synchronized(jobs.count(_ == "paws: sweep of 18 models: evaluation")))
    assertEquals(18, r.models, "Abyssinian vs Bengal and american_bulldog vs All, 9 splits each")
    assertEquals(600, r.rows)
    assertEquals(600L, r.rowsRead, "every breed is in a model")
    // The cache holds float32 rows: at most 1.5x the raw size (Spark's storage estimate).
    assertEquals(600L * 1280 * 4, r.rawBytes)
    assertTrue(r.cachedBytes > 0 && r.cachedBytes <= 1.5 * r.rawBytes, s"cached ${r.cachedBytes} B for ${r.rawBytes} B")
    for (f <- Seq("results.csv", "results.json", "results.md", "accuracy.png",
        "models/Abyssinian_vs_Bengal.json", "models/american_bulldog_vs_All.json", "paws.log")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), s"$f written")
      assertTrue(r.files.contains(f), s"$f reported")
    }
    assertFalse(Files.list(out).iterator().asScala.exists(_.getFileName.toString.startsWith(".")),
      "no temporary or checksum files left")
    assertTrue(Files.isRegularFile(out.resolve("_SUCCESS")), "_SUCCESS written last")
    val log = read(out.resolve("paws.log"))
    assertTrue(log.contains("experiment: 18 models (svm l2, 100 iterations"), log)
    assertTrue(log.contains("load: 600 rows × 1280 features"), log)

    val inProcess = tempDir("inprocess")
    val (images, breeds, x, dim, extractor) = sampleRows()
    val t1 = System.nanoTime()
    NativeExperiment.runInProcess(Array("-o", inProcess.toString), inProcess.toString, images, breeds,
      x, dim, extractor)
    val localSeconds = (System.nanoTime() - t1) / 1e9
    Files.write(inProcess.resolve("paws.log"), Array[Byte]('-'))
    assertSameOutput(out, inProcess, "sample vs in-process engine")
    runCli(Nil, tempDir("cli")).foreach(cli => assertSameOutput(out, cli, "sample vs paws CLI"))
    println(f"EXPERIMENT sample: 18 models, Spark local[2] $sparkSeconds%.1f s (${passes.length} sweep " +
      f"passes, ${jobs.length} jobs in all, cache ${r.cachedBytes.toDouble / r.rawBytes}%.3f× raw), in process " +
      f"$localSeconds%.1f s; tables equal (engine, seconds aside); CLI binary: " +
      cliBinary.map(_.getPath).getOrElse("not found"))
    // The table is in the run's results.md; the JUnit output shows it on request only.
    if (sys.props.get("paws.test.log").contains("debug")) println(r.table)
    assertEquals(0, NativeExperiment.liveSessions())
    assertEquals(0, NativeKernels.sgdLiveHandles())
  }

  /** A legacy folder: `n` files per breed of `dim` float-representable values. */
  private def legacyFolder(breeds: Seq[String], n: Int, dim: Int): JPath = {
    val dir = tempDir("legacy")
    val r = new Random(11)
    for ((b, k) <- breeds.zipWithIndex; i <- 1 to n) {
      val x = Array.tabulate(dim)(j => (r.nextGaussian() + (if (j % breeds.length == k) 0.8 else 0.0)).toFloat)
      Files.write(dir.resolve(s"${b}_$i.jpg.json"),
        x.map(_.toString).mkString("[", ", ", "]").getBytes(StandardCharsets.UTF_8))
    }
    Files.write(dir.resolve("README.txt"), "not a feature file".getBytes(StandardCharsets.UTF_8))
    dir
  }

  @Test
  def legacyJsonFolderTableEqualsTheCli(): Unit = {
    // 300 files: two chunks of rows, three breeds (a cat pair and a dog).
    val dir = legacyFolder(Seq("Abyssinian", "Bengal", "beagle"), 100, 16)
    val runs = Seq(
      Seq("--class", "Abyssinian", "--vs", "Bengal,beagle", "--splits", "0.3,0.7", "--model",
        "logistic", "--intercept", "--class-weighting", "--extractor", "test-net"),
      Seq("--class", "beagle", "--vs", "all", "--splits", "0.5", "--scale", "standard",
        "--iterations", "40", "--convergence-tol", "0"),
      Seq("--class", "Bengal", "--vs", "Abyssinian,beagle", "--splits", "0.3,0.6", "--scale", "standard",
        "--intercept", "--model", "logistic"),
      Seq("--all-pairs", "--splits", "0.4", "--updater", "l1", "--reg-param", "0.05",
        "--mini-batch-fraction", "0.5"),
      // Rows 0-199 only: chunk 0 is read, the beagles' chunk 1 (rows 256-299) is not.
      Seq("--class", "Abyssinian", "--vs", "Bengal", "--splits", "0.5,0.8", "--scale", "standard",
        "--intercept", "--mini-batch-fraction", "0.7"))
    for (args <- runs) {
      val what = args.mkString(" ")
      val common = Seq("--features", dir.toString) ++ args
      val out = tempDir("legacy-spark")
      val r = PetBreedExperiment.run(spark, (common ++ Seq("-o", out.toString)).toArray)
      assertEquals(300, r.rows)
      val readsBeagles = args.exists(_.contains("beagle")) || args.contains("--all-pairs")
      assertEquals(if (readsBeagles) 300 else 256, r.rowsRead, s"$what: rows read")
      assertTrue(r.inputPartitions <= 4, s"$what: ${r.inputPartitions} input partitions for 300 files")
      val ref = tempDir("legacy-inprocess")
      NativeExperiment.runInProcess(common.toArray, ref.toString, null, null, null, 0, null)
      Files.write(ref.resolve("paws.log"), Array[Byte]('-'))
      // --scale standard included: both engines compute the scaling statistics from the
      // same per-chunk exact-sum moments, so every table and model is equal bit for bit.
      assertSameOutput(out, ref, s"legacy $what vs in-process engine")
      runCli(common, tempDir("legacy-cli")).foreach(cli => assertSameOutput(out, cli, s"legacy $what vs CLI"))
      println(s"EXPERIMENT legacy ($what): ${r.models} models, ${r.inputPartitions} input partitions " +
        s"for 300 files, ${r.blockPartitions} block partitions")
    }
  }

  @Test
  def errorsAreTheClis(): Unit = {
    assertTrue(NativeExperiment.usage(Array("--help")).contains("--mini-batch-fraction"))
    assertNull(NativeExperiment.usage(Array("--class", "x")))
    val e = assertThrows(classOf[IllegalArgumentException],
      () => NativeExperiment.create(Array("--model", "tree")))
    assertTrue(e.getMessage.contains("invalid value 'tree'"), e.getMessage)
    val e2 = assertThrows(classOf[IllegalArgumentException],
      () => NativeExperiment.create(Array("--features", "x.parquet")))
    assertTrue(e2.getMessage.contains("--class is required"), e2.getMessage)

    val dir = legacyFolder(Seq("Abyssinian", "Bengal"), 5, 4)
    val out = tempDir("errors")
    val e3 = assertThrows(classOf[IllegalArgumentException], () => PetBreedExperiment.run(spark,
      Array("--features", dir.toString, "--class", "unicorn", "--vs", "all", "-o", out.toString)))
    assertTrue(e3.getMessage.contains("unknown class 'unicorn'; known classes: Abyssinian, Bengal"),
      e3.getMessage)
    assertTrue(read(out.resolve("paws.log")).contains("unknown class 'unicorn'"), "the log keeps the error")
    assertFalse(Files.exists(out.resolve("_SUCCESS")), "a failed run leaves no _SUCCESS")
    val e4 = assertThrows(classOf[java.io.IOException], () => PetBreedExperiment.run(spark,
      Array("--features", "/nonexistent/f.parquet", "--class", "a", "--vs", "all", "-o", out.toString)))
    assertTrue(e4.getMessage.contains("/nonexistent/f.parquet"), e4.getMessage)
    Files.write(dir.resolve("Bengal_9.jpg.json"), "[1.0, NaN, 2, 3]".getBytes(StandardCharsets.UTF_8))
    val e5 = assertThrows(classOf[Exception], () => PetBreedExperiment.run(spark,
      Array("--features", dir.toString, "--class", "Bengal", "--vs", "all", "-o", out.toString)))
    val chain = Iterator.iterate[Throwable](e5)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString(" | ")
    assertTrue(chain.contains("Bengal_9.jpg.json") && chain.contains("NaN"), chain)
    assertEquals(0, NativeExperiment.liveSessions())
  }
}

/** Output comparisons, shared with S3aTest. */
object PetBreedExperimentTest {
  private val mapper = new ObjectMapper()

  def read(p: JPath): String = new String(Files.readAllBytes(p), StandardCharsets.UTF_8)

  /** The CSV table without the engine and seconds columns. */
  private def table(csv: String): Seq[Seq[String]] = {
    val lines = csv.split("\n").toSeq.map(_.split(",", -1).toSeq)
    val header = lines.head
    val keep = header.indices.filterNot(i => Set("engine", "seconds").contains(header(i)))
    lines.map(l => keep.map(l))
  }

  private def withoutKeys(node: JsonNode, keys: String*): JsonNode = {
    val copy = node.deepCopy[JsonNode]()
    def strip(n: JsonNode): Unit = n match {
      case o: ObjectNode =>
        keys.foreach(o.remove)
        o.elements().asScala.foreach(strip)
      case other => other.elements().asScala.foreach(strip)
    }
    strip(copy)
    copy
  }

  /** Spark's output folder equals the reference's, engine and timings aside. */
  def assertSameOutput(spark: JPath, reference: JPath, what: String): Unit = {
    val a = table(read(spark.resolve("results.csv")))
    val b = table(read(reference.resolve("results.csv")))
    assertEquals(b.length, a.length, s"$what: rows")
    for ((x, y) <- a.zip(b)) assertEquals(y, x, s"$what: results.csv row")
    assertEquals(
      withoutKeys(mapper.readTree(reference.resolve("results.json").toFile), "engine", "seconds"),
      withoutKeys(mapper.readTree(spark.resolve("results.json").toFile), "engine", "seconds"),
      s"$what: results.json at full precision")
    val models = Files.list(reference.resolve("models")).iterator().asScala.map(_.getFileName.toString)
      .toSeq.sorted
    assertEquals(models,
      Files.list(spark.resolve("models")).iterator().asScala.map(_.getFileName.toString).toSeq.sorted,
      s"$what: model files")
    for (m <- models) {
      val x = mapper.readTree(spark.resolve("models").resolve(m).toFile)
      val y = mapper.readTree(reference.resolve("models").resolve(m).toFile)
      assertEquals("paws-spark", x.get("training").get("engine").asText())
      assertEquals(withoutKeys(y, "engine"), withoutKeys(x, "engine"), s"$what: $m (bit for bit)")
    }
    for (f <- Seq("results.md", "accuracy.png", "paws.log")) {
      assertTrue(Files.size(spark.resolve(f)) > 0, s"$what: $f written")
    }
  }
}
