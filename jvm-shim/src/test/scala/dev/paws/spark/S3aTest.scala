package dev.paws.spark

import java.awt.image.BufferedImage
import java.nio.file.{Files, Path => JPath, Paths}
import java.util.UUID
import javax.imageio.ImageIO

import scala.collection.JavaConverters._

import org.apache.hadoop.fs.{FileSystem, Path => HPath}
import org.apache.spark.sql.SparkSession
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.{AfterAll, BeforeAll, Test, TestInstance}

/**
 * The two spark-submit mains on `s3a://` (hadoop-aws 3.3.4, the Hadoop of Spark 3.5)
 * against moto's S3 server on 127.0.0.1: PetBreedExperiment reads the sample's Parquet
 * from S3 and writes its folder there, ExtractFeatures reads photos and the model from S3
 * and writes Parquet there. Each S3 run's output equals the same run on local files.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3aTest {
  import PetBreedExperimentTest.{assertSameOutput, read}

  private lazy val spark: SparkSession = {
    TestSpark.sc
    SparkSession.builder().getOrCreate()
  }
  private var moto: MotoServer = _
  // A bucket per run: Hadoop caches one S3AFileSystem per bucket for the JVM.
  private val bucket = s"paws-s3a-${UUID.randomUUID().toString.take(8)}"
  private def s3a(key: String) = s"s3a://$bucket/$key"
  private def fs: FileSystem = new HPath(s3a("")).getFileSystem(spark.sparkContext.hadoopConfiguration)

  @BeforeAll
  def startServer(): Unit = {
    moto = MotoServer.start("S3aTest")
    moto.configure(spark.sparkContext.hadoopConfiguration)
    moto.createBucket(bucket)
  }

  @AfterAll
  def stopServer(): Unit = if (moto != null) moto.close()

  private def tempDir(name: String): JPath = {
    val base = Paths.get(System.getProperty("java.io.tmpdir"))
    Files.createDirectories(base)
    Files.createTempDirectory(base, s"paws-$name-")
  }

  private def upload(local: JPath, key: String): String = {
    fs.copyFromLocalFile(false, true, new HPath(local.toUri), new HPath(s3a(key)))
    s3a(key)
  }

  /** Every object under `prefix`, relative name -> local copy in a new folder. */
  private def download(prefix: String): (JPath, Seq[String]) = {
    val dir = tempDir("from-s3")
    val base = new HPath(s3a(prefix))
    val files = fs.listFiles(base, true)
    val names = Iterator.continually(files).takeWhile(_.hasNext).map(_.next().getPath).map { p =>
      val rel = base.toUri.relativize(p.toUri).getPath
      Files.createDirectories(dir.resolve(rel).getParent)
      fs.copyToLocalFile(false, p, new HPath(dir.resolve(rel).toUri), true)
      rel
    }.toList
    (dir, names.sorted)
  }

  @Test
  def experimentOnS3aEqualsTheLocalRun(): Unit = {
    val sample = TestCli.repo.resolve("examples/oxford-pets-sample/features.parquet")
    val features = upload(sample, "features/sample.parquet")
    val args = Seq("--class", "Abyssinian", "--vs", "all", "--splits", "0.3,0.7")
    val local = tempDir("s3a-reference")
    PetBreedExperiment.run(spark, (args ++ Seq("--features", sample.toString, "-o", local.toString)).toArray)

    // Twice into the same prefix: a second run replaces the first, _SUCCESS written last.
    for (attempt <- 1 to 2) {
      val r = PetBreedExperiment.run(spark, (args ++ Seq("--features", features, "-o", s3a("runs/r1"))).toArray)
      assertEquals(600, r.rows)
      assertEquals(s3a("runs/r1"), r.output)
      val (copy, names) = download("runs/r1")
      assertTrue(names.contains("_SUCCESS"), s"attempt $attempt: _SUCCESS in $names")
      assertFalse(names.exists(n => n.startsWith(".") || n.contains(".tmp")), s"no temporary objects: $names")
      assertSameOutput(copy, local, s"s3a run $attempt vs local files")
      assertTrue(read(copy.resolve("paws.log")).contains(s"load: 600 rows"), "the log names the rows")
    }
    println(s"S3A PetBreedExperiment: ${s3a("features/sample.parquet")} -> ${s3a("runs/r1")} on moto " +
      s"${moto.endpoint}, table equal to the local run")
  }

  @Test
  def extractFeaturesOnS3aEqualsTheLocalRun(): Unit = {
    // The tiny model of paws-vision's tests (features = channel means) and four photos.
    val model = TestCli.repo.resolve("rust/paws-vision/tests/fixtures/tiny.onnx")
    val photos = tempDir("s3a-photos")
    for ((name, rgb) <- Seq("Bengal_1.png" -> 0xff0000, "Bengal_2.png" -> 0x00ff00, "pug_1.png" -> 0x0080ff,
        "pug_2.png" -> 0x102030)) {
      val img = new BufferedImage(40, 36, BufferedImage.TYPE_INT_RGB)
      for (y <- 0 until 36; x <- 0 until 40) img.setRGB(x, y, rgb)
      assertTrue(ImageIO.write(img, "png", photos.resolve(name).toFile))
      upload(photos.resolve(name), s"photos/$name")
    }
    val s3Model = upload(model, "models/tiny.onnx")
    def extract(images: String, out: String, modelPath: String): Seq[String] = {
      val a = ExtractFeatures.parse(Array(images, "-o", out, "--model", modelPath, "--input-size", "32",
        "--model-id", "tiny")).fold(u => fail(s"parsed as help: $u"), identity)
      ExtractFeatures.run(spark, a)
      spark.read.parquet(out).collect().map(_.toString).toSeq.sorted
    }
    val local = extract(photos.toUri.toString, tempDir("s3a-local").resolve("f.parquet").toUri.toString,
      model.toString)
    val onS3 = extract(s3a("photos/"), s3a("features/photos.parquet"), s3Model)
    assertEquals(4, onS3.length, onS3.mkString("\n"))
    assertEquals(local, onS3, "the same rows from S3 as from local files")
    val (_, names) = download("features/photos.parquet")
    assertTrue(names.contains("_SUCCESS") && names.exists(_.endsWith(".parquet")), s"a Parquet folder: $names")
    println(s"S3A ExtractFeatures: ${s3a("photos/")} -> ${s3a("features/photos.parquet")}: " +
      s"${names.count(_.endsWith(".parquet"))} part files, rows equal to the local run")
  }

  @Test
  def trainBreedsOnS3aEqualsTheCommittedModel(): Unit = {
    val sets = Seq("oxford-pets-sample", "oxford-pets-37-few")
    val features = sets.map(set =>
      upload(TestCli.repo.resolve(s"examples/$set/features.parquet"), s"features/$set.parquet"))
    val args = features.flatMap(f => Seq("--features", f)) ++ Seq("-o", s3a("breed-models/breeds.json"))
    val r = TrainBreeds.run(spark, args.toArray)
    assertEquals(804, r.rows)
    val (copy, names) = download("breed-models")
    assertEquals(List("breeds.confusion.csv", "breeds.confusion.png", "breeds.json"), names)
    val mapper = new com.fasterxml.jackson.databind.ObjectMapper()
    val onS3 = mapper.readTree(copy.resolve("breeds.json").toFile)
    val committed = mapper.readTree(TestCli.repo.resolve("examples/models/breeds-37.json").toFile)
    for (field <- Seq("breeds", "temperature", "extractor")) {
      assertEquals(committed.get(field), onS3.get(field), s"field $field")
    }
    assertEquals(features, onS3.get("training").get("sources").elements().asScala.map(_.asText()).toSeq)
    println(s"S3A TrainBreeds: ${features.mkString(" + ")} -> ${s3a("breed-models/breeds.json")}: weights and " +
      "temperature equal to the committed model")
  }
}
