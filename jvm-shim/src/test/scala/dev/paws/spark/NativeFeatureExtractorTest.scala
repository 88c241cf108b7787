package dev.paws.spark

import dev.paws.spark.jni.NativeKernels
import java.awt.image.BufferedImage
import java.io.File
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path => JPath, Paths}
import java.util.Random
import javax.imageio.ImageIO

import scala.collection.JavaConverters._

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{Path => HPath}
import org.apache.parquet.hadoop.ParquetFileReader
import org.apache.parquet.hadoop.util.HadoopInputFile
import org.apache.spark.sql.SparkSession
import org.apache.spark.storage.StorageLevel
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.{Assumptions, Test}

/**
 * Feature extraction on Spark (NativeFeatureExtractor, ExtractFeatures): known values
 * from the tiny test model, bad photos skipped or fatal with their names, output that
 * both readers understand, and, with the real model and a built `paws` binary, the same
 * features as `paws extract` bit for bit.
 */
class NativeFeatureExtractorTest {
  private lazy val spark: SparkSession = {
    TestSpark.sc
    SparkSession.builder().getOrCreate()
  }

  /** The tiny ONNX model of paws-vision's tests: input [1,3,32,32], features = channel means. */
  private val tinyModel = TestCli.repo.resolve("rust/paws-vision/tests/fixtures/tiny.onnx")

  private def tempDir(name: String): JPath = {
    val base = Paths.get(System.getProperty("java.io.tmpdir"))
    Files.createDirectories(base)
    Files.createTempDirectory(base, s"paws-$name-")
  }

  private def uniform(w: Int, h: Int, rgb: (Int, Int, Int)): BufferedImage = {
    val img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB)
    val c = (rgb._1 << 16) | (rgb._2 << 8) | rgb._3
    for (y <- 0 until h; x <- 0 until w) img.setRGB(x, y, c)
    img
  }

  private def write(img: BufferedImage, format: String, file: JPath): Unit =
    assertTrue(ImageIO.write(img, format, file.toFile), s"ImageIO wrote $format")

  /** The model's normalisation, `(x/255 - 0.5)/0.5`, computed independently here. */
  private def normalize(v: Int): Float = ((v / 255.0 - 0.5) / 0.5).toFloat

  /** A folder of three good photos (one a PNG named .jpg), a truncated JPEG, a non-photo. */
  private def messyFolder(): (JPath, Map[String, (Int, Int, Int)]) = {
    val dir = tempDir("photos")
    val colours = Map(
      "Bengal_1.jpg" -> (255, 0, 0),
      "pug_10.png" -> (0, 128, 255),
      "pug_2.png" -> (10, 200, 30))
    for ((name, c) <- colours) write(uniform(48, 40, c), "png", dir.resolve(name))
    val jpeg = dir.resolve("full.jpg")
    write(uniform(64, 64, (1, 2, 3)), "jpg", jpeg)
    val bytes = Files.readAllBytes(jpeg)
    Files.delete(jpeg)
    Files.write(dir.resolve("Bengal_3.jpg"), bytes.take(bytes.length / 2))
    Files.write(dir.resolve("notes.txt"), "not a photo".getBytes(StandardCharsets.UTF_8))
    (dir, colours)
  }

  private def options(strict: Boolean = false) =
    NativeFeatureExtractor.Options(model = tinyModel.toUri.toString, inputSize = 32, strict = strict)

  @Test
  def knownFeaturesAndBadFilesSkippedWithTheirNames(): Unit = {
    val (dir, colours) = messyFolder()
    val r = NativeFeatureExtractor.extract(spark, dir.toUri.toString, options())
    assertEquals(("paws-tiny-test", 3), (r.modelId, r.dim))
    val rows = r.features.collect()
    assertEquals(Seq("Bengal_1.jpg", "pug_10.png", "pug_2.png"), rows.map(_.getString(0)).toSeq,
      "rows in file-name order, as paws extract writes them")
    assertEquals(Seq("Bengal", "pug", "pug"), rows.map(_.getString(1)).toSeq)
    for (row <- rows) {
      val (cr, cg, cb) = colours(row.getString(0))
      val got = row.getSeq[Float](2)
      val expected = Seq(normalize(cr), normalize(cg), normalize(cb))
      for ((g, e) <- got.zip(expected)) assertEquals(e, g, 1e-5f, s"${row.getString(0)}: $got vs $expected")
    }
    assertEquals(Seq("Bengal_3.jpg", "notes.txt"), r.skipped.map(s => new HPath(s._1).getName))
    val truncated = r.skipped.head._2
    assertTrue(truncated.contains("Bengal_3.jpg") && truncated.contains("truncated"), truncated)
    assertTrue(r.skipped(1)._2.contains("<breed>_<n>"), r.skipped(1)._2)

    val strict = assertThrows(classOf[IllegalArgumentException],
      () => NativeFeatureExtractor.extract(spark, dir.toUri.toString, options(strict = true)))
    assertTrue(strict.getMessage.contains("Bengal_3.jpg") && strict.getMessage.contains("truncated"),
      strict.getMessage)
  }

  @Test
  def extractFeaturesWritesParquetBothReadersUnderstand(): Unit = {
    val (dir, _) = messyFolder()
    val out = tempDir("features").resolve("features.parquet")
    val args = Array(dir.toUri.toString, "-o", out.toUri.toString, "--model", tinyModel.toString,
      "--input-size", "32", "--model-id", "tiny-for-spark")
    val parsed = ExtractFeatures.parse(args).fold(u => fail(s"parsed as help: $u"), identity)
    // An older output is replaced whole; no temporary folder is left beside it.
    Files.createDirectories(out)
    Files.write(out.resolve("part-stale.parquet"), Array[Byte](1, 2, 3))
    ExtractFeatures.run(spark, parsed)
    assertFalse(Files.exists(out.resolve("part-stale.parquet")), "the old output is replaced")
    assertEquals(Seq("features.parquet"), Files.list(out.getParent).iterator().asScala.map(_.getFileName.toString).toSeq)

    // The extractor is in every part's footer (Spark's schema copy), for paws_core's reader.
    val parts = Files.list(out).iterator().asScala.filter(_.getFileName.toString.endsWith(".parquet")).toSeq
    assertFalse(parts.isEmpty, s"part files in $out")
    for (p <- parts) {
      val reader = ParquetFileReader.open(HadoopInputFile.fromPath(new HPath(p.toUri), new Configuration()))
      val kv = try reader.getFooter.getFileMetaData.getKeyValueMetaData.asScala finally reader.close()
      val schema = kv.getOrElse("org.apache.spark.sql.parquet.row.metadata", "")
      assertTrue(schema.contains("\"paws.extractor.model\":\"tiny-for-spark\""), s"$p footer: $kv")
    }
    // PetBreedExperiment's reader takes the extractor and the order from it.
    val data = ExperimentData.parquet(spark, out.toUri.toString, StorageLevel.MEMORY_ONLY)
    try {
      assertEquals("tiny-for-spark", data.extractor)
      assertEquals(3, data.dim)
      assertEquals(Seq("Bengal_1.jpg", "pug_10.png", "pug_2.png"), data.images.toSeq)
    } finally data.blocks.unpersist()

    // Usage errors name what is wrong.
    val missing = assertThrows(classOf[IllegalArgumentException],
      () => ExtractFeatures.parse(Array(dir.toString, "-o", out.toString)))
    assertTrue(missing.getMessage.contains("--model"), missing.getMessage)
    assertTrue(ExtractFeatures.parse(Array("--help")).isLeft)
  }

  @Test
  def badModelFailsOnTheDriverNamingIt(): Unit = {
    val (dir, _) = messyFolder()
    val junk = tempDir("model").resolve("junk.onnx")
    Files.write(junk, "not protobuf".getBytes(StandardCharsets.UTF_8))
    val e = assertThrows(classOf[IllegalArgumentException],
      () => NativeFeatureExtractor.extract(spark, dir.toString,
        NativeFeatureExtractor.Options(model = junk.toString)))
    assertTrue(e.getMessage.contains("junk.onnx") && e.getMessage.contains("cannot load ONNX model"),
      e.getMessage)
    val badOutput = assertThrows(classOf[IllegalArgumentException],
      () => NativeFeatureExtractor.extract(spark, dir.toString,
        NativeFeatureExtractor.Options(model = tinyModel.toString, featuresOutput = "fc7", inputSize = 32)))
    assertTrue(badOutput.getMessage.contains("fc7"), badOutput.getMessage)
  }

  @Test
  def malformedNativeCallsThrowAndTheJvmLives(): Unit = {
    val model = Files.readAllBytes(tinyModel)
    val h = NativeKernels.extractorOpen(model, "tiny.onnx", 32, "features", null, "tract", null)
    try {
      val rnd = new Random(3)
      for (i <- 0 until 200) {
        val junk = new Array[Byte](rnd.nextInt(2000))
        rnd.nextBytes(junk)
        // Random bytes, sometimes behind a real PNG or JPEG signature.
        if (i % 3 == 1 && junk.length > 8) Array(0x89, 'P', 'N', 'G', 13, 10, 26, 10).map(_.toByte).copyToArray(junk)
        if (i % 3 == 2 && junk.length > 3) Array(0xFF, 0xD8, 0xFF).map(_.toByte).copyToArray(junk)
        val e = assertThrows(classOf[IllegalArgumentException], () => NativeKernels.extractImage(h, junk, s"junk_$i.jpg"))
        assertTrue(e.getMessage.contains(s"junk_$i.jpg"), e.getMessage)
      }
      assertThrows(classOf[IllegalArgumentException], () => NativeKernels.extractImage(h, null, "x.jpg"))
      assertThrows(classOf[IllegalArgumentException],
        () => NativeKernels.extractImage(h, Array[Byte](1, 2), null))
      assertThrows(classOf[IllegalArgumentException],
        () => NativeKernels.extractorOpen(model, "m", 0, "features", null, "tract", null))
      assertThrows(classOf[IllegalArgumentException],
        () => NativeKernels.extractorOpen(null, "m", 32, "features", null, "tract", null))
      val backend = assertThrows(classOf[IllegalArgumentException],
        () => NativeKernels.extractorOpen(model, "m", 32, "features", null, "tensorrt", null))
      assertTrue(backend.getMessage.contains("tensorrt"), backend.getMessage)
    } finally {
      assertTrue(NativeKernels.extractorClose(h))
    }
    // A freed or made-up handle is refused, never dereferenced.
    assertFalse(NativeKernels.extractorClose(h))
    for (bad <- Seq(h, 0L, -1L, Long.MaxValue)) {
      val e = assertThrows(classOf[IllegalArgumentException], () => NativeKernels.extractImage(bad, Array[Byte](1), "x.jpg"))
      assertTrue(e.getMessage.contains("extractor handle"), e.getMessage)
    }
    assertNull(NativeKernels.breedOfFileName("notes.txt"))
    assertEquals("american_pit_bull_terrier", NativeKernels.breedOfFileName("american_pit_bull_terrier_12.jpg"))
  }

  /**
   * `$ORT_DYLIB_PATH` (scripts/test.sh sets it to the onnxruntime wheel's library, with
   * `PAWS_REQUIRE_ONNXRUNTIME=1`, which makes its absence a failure), else a skip that
   * says so.
   */
  private def onnxruntimeLibrary(test: String): File = {
    val lib = sys.env.get("ORT_DYLIB_PATH").filter(_.nonEmpty).map(new File(_))
    val msg = s"$test: ORT_DYLIB_PATH is not set (the libonnxruntime.so.1.* of `pip install onnxruntime`)"
    if (sys.env.get("PAWS_REQUIRE_ONNXRUNTIME").contains("1")) assertTrue(lib.exists(_.isFile), msg)
    Assumptions.assumeTrue(lib.isDefined, s"SKIPPED: $msg")
    lib.get
  }

  @Test
  def onnxruntimeShippedWithAddFileGivesTractsFeatures(): Unit = {
    val lib = onnxruntimeLibrary("Spark extraction on onnxruntime")
    val (dir, colours) = messyFolder()
    // As `spark-submit --files <lib>` ships it: the executors find it by its file name.
    spark.sparkContext.addFile(lib.getPath)
    val out = tempDir("ort").resolve("features.parquet")
    val parsed = ExtractFeatures.parse(Array(dir.toUri.toString, "-o", out.toUri.toString,
      "--model", tinyModel.toString, "--input-size", "32", "--backend", "onnxruntime",
      "--onnxruntime-lib", lib.getName)).fold(u => fail(s"parsed as help: $u"), identity)
    val r = ExtractFeatures.run(spark, parsed)
    val onOrt = spark.read.parquet(out.toUri.toString).collect()
      .map(row => row.getString(0) -> row.getSeq[Float](2)).toMap
    val onTract = NativeFeatureExtractor.extract(spark, dir.toUri.toString, options()).features.collect()
      .map(row => row.getString(0) -> row.getSeq[Float](2)).toMap
    assertEquals(Set("Bengal_1.jpg", "pug_10.png", "pug_2.png"), onOrt.keySet)
    assertEquals(onTract.keySet, onOrt.keySet)
    for ((image, got) <- onOrt) {
      val (cr, cg, cb) = colours(image)
      val expected = Seq(normalize(cr), normalize(cg), normalize(cb))
      for ((g, e) <- got.zip(expected)) assertEquals(e, g, 1e-5f, s"$image on onnxruntime: $got vs $expected")
      for ((g, t) <- got.zip(onTract(image))) assertEquals(t, g, 1e-4f, s"$image: onnxruntime $got, tract ${onTract(image)}")
    }
    assertEquals(Seq("Bengal_3.jpg", "notes.txt"), r.skipped.map(s => new HPath(s._1).getName),
      "the same photos skipped as on tract")
    // The backend is recorded beside the model id, in the footer's copy of the schema.
    val schema = spark.read.parquet(out.toUri.toString).schema("features").metadata
    assertEquals("onnxruntime", schema.getString(NativeFeatureExtractor.MetaBackend))
  }

  @Test
  def aMissingOnnxruntimeLibraryFailsOnTheDriverNamingIt(): Unit = {
    val (dir, _) = messyFolder()
    val missing = tempDir("nolib").resolve("libonnxruntime.so.1.99.0").toString
    val e = assertThrows(classOf[dev.paws.spark.jni.PawsNativeException],
      () => NativeFeatureExtractor.extract(spark, dir.toString,
        options().copy(backend = "onnxruntime", onnxruntimeLib = missing)))
    assertTrue(e.getMessage.contains(missing) && e.getMessage.contains("no such file"), e.getMessage)
    val usage = assertThrows(classOf[IllegalArgumentException],
      () => ExtractFeatures.parse(Array(dir.toString, "-o", "out", "--model", "m.onnx", "--backend", "tensorrt")))
    assertTrue(usage.getMessage.contains("tensorrt") && usage.getMessage.contains("tract, onnxruntime"),
      usage.getMessage)
    val noBackend = assertThrows(classOf[IllegalArgumentException],
      () => ExtractFeatures.parse(Array(dir.toString, "-o", "out", "--model", "m.onnx", "--onnxruntime-lib", "x.so")))
    assertTrue(noBackend.getMessage.contains("--backend onnxruntime"), noBackend.getMessage)
  }

  /** The real model, as scripts/fetch-model.sh caches it. */
  private def realModel: Option[File] = {
    val path = sys.env.get("PAWS_MODEL").filter(_.nonEmpty).getOrElse {
      val cache = sys.env.get("PAWS_CACHE").filter(_.nonEmpty)
        .getOrElse(s"${System.getProperty("user.home")}/.cache/paws")
      s"$cache/models/efficientnet-lite0.onnx"
    }
    Some(new File(path)).filter(_.isFile)
  }

  @Test
  def sameFeaturesAsPawsExtract(): Unit = {
    val required = sys.env.get("PAWS_REQUIRE_MODEL").contains("1")
    val (model, cli) = (realModel, TestCli.binary)
    if (required) assertTrue(model.isDefined, "PAWS_REQUIRE_MODEL=1 but the model is missing")
    Assumptions.assumeTrue(model.isDefined && cli.isDefined,
      s"model $model, paws binary $cli (run scripts/fetch-model.sh " +
        "and cargo build --release -p paws-cli)")
    // Photo-like JPEGs: smooth colour fields with noise, of several sizes and aspect ratios.
    val dir = tempDir("jpegs")
    val rnd = new Random(7)
    for ((name, (w, h)) <- Seq("Bengal_1.jpg" -> (320, 240), "Bengal_2.jpg" -> (240, 360),
        "beagle_1.jpg" -> (500, 375), "beagle_2.jpg" -> (256, 256), "pug_1.jpg" -> (300, 200))) {
      val img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB)
      val (a, b, c) = (rnd.nextInt(256), rnd.nextInt(256), rnd.nextInt(256))
      for (y <- 0 until h; x <- 0 until w) {
        def ch(base: Int, f: Int) = math.max(0, math.min(255, (base + f + rnd.nextInt(40) - 20) % 256))
        img.setRGB(x, y, (ch(a, x / 3) << 16) | (ch(b, y / 2) << 8) | ch(c, (x + y) / 5))
      }
      write(img, "jpg", dir.resolve(name))
    }
    val cliOut = tempDir("cli-extract").resolve("features.parquet")
    TestCli.run(Seq("extract", dir.toString, "-o", cliOut.toString, "--model", model.get.getPath))
    val expected = spark.read.parquet(cliOut.toUri.toString).collect()
      .map(r => r.getString(0) -> r.getSeq[Float](2).toArray).toMap

    val r = NativeFeatureExtractor.extract(spark, dir.toUri.toString,
      NativeFeatureExtractor.Options(model = model.get.toURI.toString))
    val got = r.features.collect()
    assertEquals(expected.keySet, got.map(_.getString(0)).toSet)
    var maxDiff = 0.0f
    for (row <- got) {
      val a = row.getSeq[Float](2).toArray
      val b = expected(row.getString(0))
      assertEquals(b.length, a.length)
      for (j <- a.indices) maxDiff = math.max(maxDiff, math.abs(a(j) - b(j)))
      assertArrayEquals(b, a, s"${row.getString(0)}: Spark features equal paws extract's bit for bit")
    }
    println(s"EXTRACT ${got.length} JPEGs on Spark == paws extract (${r.dim} features, ${r.modelId}), " +
      s"max diff $maxDiff")
  }
}
