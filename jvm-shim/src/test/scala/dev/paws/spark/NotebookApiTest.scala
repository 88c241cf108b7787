package dev.paws.spark

import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path => JPath, Paths}

import scala.collection.JavaConverters._

import com.fasterxml.jackson.databind.ObjectMapper
import org.apache.spark.mllib.classification.SVMModel
import org.apache.spark.mllib.linalg.Vectors
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.types.{DoubleType, IntegerType, LongType, StringType}
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test

/**
 * The notebook API (`PetBreedExperiment.experiment`, [[ExperimentBuilder]],
 * [[ExperimentResult]]): its DataFrame is the results.csv of the output folder, typed,
 * and its best models are the saved models, predicting as their JSON weights do.
 */
class NotebookApiTest {
  private lazy val spark: SparkSession = {
    TestSpark.sc
    SparkSession.builder().getOrCreate()
  }
  private val mapper = new ObjectMapper()
  private val sample: JPath = TestCli.repo.resolve("examples/oxford-pets-sample/features.parquet")

  private def read(p: JPath) = new String(Files.readAllBytes(p), StandardCharsets.UTF_8)

  @Test
  def tableAndBestModelsAreTheOutputFolders(): Unit = {
    val base = Paths.get(System.getProperty("java.io.tmpdir"))
    Files.createDirectories(base)
    val out = Files.createTempDirectory(base, "paws-notebook-api-")
    // The Java form, as py4j calls it.
    val args = java.util.Arrays.asList("--features", sample.toString, "--class", "Abyssinian", "--vs", "Bengal",
      "--splits", "0.3,0.7", "--iterations", "30", "-o", out.toString)
    val r = PetBreedExperiment.experiment(spark, args)

    // The DataFrame: results.csv's header, typed, and its rows value for value.
    val lines = read(out.resolve("results.csv")).split("\n").toSeq
    val header = lines.head.split(",", -1).toSeq
    assertEquals(header, r.table.columns.toSeq)
    val types = r.table.schema.fields.map(f => f.name -> f.dataType).toMap
    assertEquals(StringType, types("class1"))
    assertEquals(DoubleType, types("split"))
    assertEquals(IntegerType, types("iterations"))
    assertEquals(LongType, types("nb_train"))
    assertEquals(DoubleType, types("predict_pct"))
    val rows = r.table.collect()
    assertEquals(lines.length - 1, rows.length)
    assertEquals(2, rows.length, "one comparison, two splits")
    for ((line, row) <- lines.tail.zip(rows); ((cell, name), j) <- line.split(",", -1).zip(header).zipWithIndex) {
      row.get(j) match {
        case d: java.lang.Double => assertEquals(cell.toDouble, d.doubleValue(), 0.0, s"$name in $line")
        case v => assertEquals(cell, v.toString, s"$name in $line")
      }
    }
    assertEquals(Seq("Abyssinian"), rows.map(_.getAs[String]("class1")).distinct.toSeq)
    assertEquals(Seq(0.3, 0.7), rows.map(_.getAs[Double]("split")).toSeq)

    // The best models: one per comparison, the saved JSON's weights, predicting alike.
    val saved = Files.list(out.resolve("models")).iterator().asScala.toSeq
    assertEquals(saved.map(_.getFileName.toString.stripSuffix(".json")).toSet, r.bestModels.keySet.asScala.toSet)
    assertEquals(Set("Abyssinian_vs_Bengal"), r.bestModels.keySet.asScala.toSet)
    val json = mapper.readTree(out.resolve("models/Abyssinian_vs_Bengal.json").toFile).get("model")
    val w = json.get("weights").elements().asScala.map(_.asDouble()).toArray
    val b = json.get("intercept").asDouble()
    val model = r.bestModels.get("Abyssinian_vs_Bengal").asInstanceOf[SVMModel]
    assertArrayEquals(w, model.weights.toArray)
    assertEquals(b, model.intercept)
    assertEquals(Some(json.get("threshold").asDouble()), model.getThreshold)
    val features = spark.read.parquet(sample.toUri.toString).limit(200).collect()
      .map(row => row.getSeq[Float](row.fieldIndex("features")).map(_.toDouble).toArray)
    val predictions = features.map(x => model.predict(Vectors.dense(x)))
    val expected = features.map(x => if (x.zip(w).map { case (a, c) => a * c }.sum + b > 0.0) 1.0 else 0.0)
    assertArrayEquals(expected, predictions)
    assertTrue(predictions.contains(1.0) && predictions.contains(0.0), "the model tells the breeds apart")

    // The plot: the published file's bytes, also as an inline HTML image.
    assertArrayEquals(Files.readAllBytes(out.resolve("accuracy.png")), r.plotPng)
    assertTrue(r.plotPath.endsWith("/accuracy.png") && r.plotPath.contains(out.getFileName.toString), r.plotPath)
    assertTrue(r.plotHtml.startsWith("<img alt=\"paws accuracy plot\" src=\"data:image/png;base64,iVBORw0KGgo"),
      r.plotHtml.take(80))
    assertTrue(r.files.contains("results.csv"))
    assertTrue(Files.isRegularFile(out.resolve("_SUCCESS")))
  }

  @Test
  def builderWritesTheCommandLine(): Unit = {
    val b = PetBreedExperiment.builder(spark).features("s3://b/f.parquet").classOf("Abyssinian")
      .vs("Bengal", "Sphynx").iterations(50).flag("intercept").output("s3://b/out").iterations(40)
    assertEquals(Seq("--features", "s3://b/f.parquet", "--class", "Abyssinian", "--vs", "Bengal,Sphynx",
      "--iterations", "40", "--intercept", "--output", "s3://b/out"), b.args.toSeq)
  }

  @Test
  def csvParserFollowsRfc4180(): Unit = {
    val csv = "a,b,c\nx,\"1,2\",\"say \"\"hi\"\"\"\n,\"two\nlines\",z\n"
    assertEquals(Seq(Seq("a", "b", "c"), Seq("x", "1,2", "say \"hi\""), Seq("", "two\nlines", "z")),
      ResultsTable.parseCsv(csv))
  }

  @Test
  def aTableOfAnUnexpectedShapeIsAClearError(): Unit = {
    val e = assertThrows(classOf[IllegalArgumentException],
      () => ResultsTable.toDataFrame(spark, "class1,split\nA,0.5\nB,x\n"))
    assertTrue(e.getMessage.contains("column split: 'x' is not a number"), e.getMessage)
    val e2 = assertThrows(classOf[IllegalArgumentException],
      () => ResultsTable.toDataFrame(spark, "class1,split\nA\n"))
    assertTrue(e2.getMessage.contains("line 2: 1 fields, the header has 2"), e2.getMessage)
  }
}
