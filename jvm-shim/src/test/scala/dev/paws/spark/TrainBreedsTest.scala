package dev.paws.spark

import java.nio.file.{Files, Path => JPath, Paths}

import scala.collection.JavaConverters._

import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}
import org.apache.spark.sql.SparkSession
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test

/**
 * TrainBreeds (the spark-submit main of `paws train-breeds`) on Spark local[2] against the
 * CLI: on the committed feature sets, its model has the weights, intercepts, species,
 * temperature, training parameters and held-out figures of the committed default model
 * (`examples/models/breeds-37.json`, written by `paws train-breeds`) bit for bit, and
 * the same confusion matrix; only `engine` and `sources` say it was made on Spark.
 * When a built `paws` is found (TestCli), a fresh CLI run is compared too.
 */
class TrainBreedsTest {
  private lazy val spark: SparkSession = {
    TestSpark.sc
    SparkSession.builder().getOrCreate()
  }
  private val mapper = new ObjectMapper()
  private val repo: JPath = TestCli.repo
  private val committed: JPath = repo.resolve("examples/models/breeds-37.json")

  private def tempDir(name: String): JPath = {
    val base = Paths.get(System.getProperty("java.io.tmpdir"))
    Files.createDirectories(base)
    Files.createTempDirectory(base, s"paws-$name-")
  }

  private def json(p: JPath): JsonNode = mapper.readTree(p.toFile)

  /** Everything of two model files that the engine does not change. */
  private def assertSameModel(expected: JsonNode, actual: JsonNode, what: String): Unit = {
    for (field <- Seq("format", "extractor", "feature_dim", "temperature", "breeds")) {
      assertEquals(expected.get(field), actual.get(field), s"$what: field $field")
    }
    val (e, a) = (expected.get("training"), actual.get("training"))
    for (field <- Seq("config", "rows", "holdout_rows", "holdout_top1", "holdout_top3", "holdout_nll",
      "holdout_nll_t1", "refit")) {
      assertEquals(e.get(field), a.get(field), s"$what: training.$field")
    }
  }

  @Test
  def modelEqualsTheClis(): Unit = {
    assertTrue(Files.isRegularFile(committed), s"the default model is at $committed")
    val out = tempDir("train-breeds")
    val model = out.resolve("breeds.json")
    val lines = new StringBuilder
    val result = TrainBreeds.run(spark, Array("-o", model.toString), s => lines.append(s))
    assertEquals(804, result.rows)
    assertTrue(lines.toString.contains("trained 37 breeds on 804 photos"), lines.toString)
    assertEquals(Seq("breeds.json", "breeds.confusion.csv", "breeds.confusion.png"),
      result.files.map(f => Paths.get(new java.net.URI(f)).getFileName.toString))

    val sparkModel = json(model)
    assertSameModel(json(committed), sparkModel, "TrainBreeds vs the committed model")
    assertEquals("paws-spark", sparkModel.get("training").get("engine").asText())
    val sources = sparkModel.get("training").get("sources").elements().asScala.map(_.asText()).toSeq
    assertEquals(2, sources.length)
    assertTrue(sources.head.endsWith("examples/oxford-pets-sample/features.parquet"), sources.head)
    assertTrue(sources(1).endsWith("examples/oxford-pets-37-few/features.parquet"), sources(1))
    assertEquals(
      new String(Files.readAllBytes(repo.resolve("examples/models/breeds-37.confusion.csv")), "UTF-8"),
      new String(Files.readAllBytes(out.resolve("breeds.confusion.csv")), "UTF-8"))
    val png = Files.readAllBytes(out.resolve("breeds.confusion.png"))
    assertEquals("PNG", new String(png.slice(1, 4), "US-ASCII"))

    TestCli.run(Seq("train-breeds", "-o", out.resolve("cli.json").toString)) match {
      case Some(_) =>
        assertSameModel(json(out.resolve("cli.json")), sparkModel, "TrainBreeds vs paws train-breeds")
        println("TRAIN-BREEDS: Spark model equals paws train-breeds' (weights, temperature, held-out figures)")
      case None =>
        println("TRAIN-BREEDS: Spark model equals the committed default model (no paws binary for a fresh CLI run)")
    }
    // Nothing left behind but the three files.
    assertEquals(Set("breeds.json", "breeds.confusion.csv", "breeds.confusion.png", "cli.json",
      "cli.confusion.csv", "cli.confusion.png").filter(f => Files.exists(out.resolve(f))),
      Files.list(out).iterator().asScala.map(_.getFileName.toString).toSet)
  }

  @Test
  def badArgumentsAndInputsAreNamed(): Unit = {
    val out = tempDir("train-breeds-bad")
    val cv = assertThrows(classOf[IllegalArgumentException],
      () => TrainBreeds.run(spark, Array("--cross-validate", "3", "-o", out.resolve("m.json").toString)))
    assertTrue(cv.getMessage.contains("--cross-validate"), cv.getMessage)
    val missing = out.resolve("nothing-here.parquet").toUri.toString
    val e = assertThrows(classOf[Exception],
      () => TrainBreeds.run(spark, Array("--features", missing, "-o", out.resolve("m.json").toString)))
    assertTrue(String.valueOf(e.getMessage).contains("nothing-here.parquet"), e.toString)
    assertFalse(Files.exists(out.resolve("m.json")))
    assertEquals(0, dev.paws.spark.jni.NativeBreeds.liveTrainings())
  }
}
