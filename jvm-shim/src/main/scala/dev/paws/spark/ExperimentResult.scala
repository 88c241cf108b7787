package dev.paws.spark

import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path => JPath}
import java.util.Base64

import scala.annotation.varargs
import scala.collection.JavaConverters._
import scala.collection.mutable

import com.fasterxml.jackson.databind.ObjectMapper
import org.apache.hadoop.fs.{Path => HPath}
import org.apache.spark.mllib.classification.{LogisticRegressionModel, SVMModel}
import org.apache.spark.mllib.linalg.Vectors
import org.apache.spark.mllib.regression.GeneralizedLinearModel
import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.apache.spark.sql.types._

/**
 * What [[PetBreedExperiment.experiment]] returns, for notebooks (Scala, Java, and Python
 * through py4j): the results table as a DataFrame, the best model of every comparison
 * as an MLlib model, and where the output folder and the plot are.
 *
 * The table and models come from the report as it was written, before it was
 * published, so they do not depend on reading the output folder back (an `s3:` path,
 * say, that the driver may not be able to list yet).
 */
final class ExperimentResult private[spark] (
    spark: SparkSession,
    val result: PetBreedExperiment.Result,
    report: LocalReport) {

  /** The output folder (qualified Hadoop path). */
  def output: String = result.output

  /** `results.csv` as a DataFrame: the same columns in the same order, numbers typed. */
  lazy val table: DataFrame = ResultsTable.toDataFrame(spark, report.csv)

  /** The table as the CLI prints it. */
  def tableText: String = result.table

  /**
   * The best model of each comparison, keyed by its file name without `.json`
   * (`Abyssinian_vs_Bengal`): an MLlib `SVMModel` or `LogisticRegressionModel` with the
   * saved weights, intercept and threshold. Sorted by name.
   */
  lazy val bestModels: java.util.Map[String, GeneralizedLinearModel] = {
    val m = new java.util.LinkedHashMap[String, GeneralizedLinearModel]()
    report.models.toSeq.sortBy(_._1).foreach { case (name, json) => m.put(name, SavedModels.parse(name, json)) }
    java.util.Collections.unmodifiableMap(m)
  }

  /** The accuracy plot in the output folder. */
  def plotPath: String = new HPath(result.output, "accuracy.png").toString

  /** The accuracy plot's PNG bytes. */
  def plotPng: Array[Byte] = report.png.clone()

  /** The plot as an HTML `<img>` (Zeppelin: `println("%html " + r.plotHtml)`). */
  def plotHtml: String =
    s"""<img alt="paws accuracy plot" src="data:image/png;base64,${Base64.getEncoder.encodeToString(report.png)}"/>"""

  /** The files written, relative to [[output]]. */
  def files: java.util.List[String] = result.files.asJava

  override def toString: String =
    s"ExperimentResult(output ${result.output}, ${result.models} models, ${report.models.size} best models)"
}

/** The report's files that [[ExperimentResult]] needs, read from the local report folder. */
private[spark] final case class LocalReport(csv: String, models: Map[String, String], png: Array[Byte])

private[spark] object LocalReport {
  def read(dir: JPath, files: Seq[String]): LocalReport = {
    def text(rel: String) = new String(Files.readAllBytes(dir.resolve(rel)), StandardCharsets.UTF_8)
    val models = files.filter(f => f.startsWith("models/") && f.endsWith(".json"))
      .map(f => f.stripPrefix("models/").stripSuffix(".json") -> text(f)).toMap
    val png = dir.resolve("accuracy.png")
    LocalReport(text("results.csv"), models, if (Files.isRegularFile(png)) Files.readAllBytes(png) else Array.empty)
  }
}

/** `results.csv` (RFC 4180, as paws-report writes it) as a typed DataFrame. */
private[spark] object ResultsTable {
  // The types of paws-report's columns; a column not listed here stays a string.
  private val types: Map[String, DataType] =
    Seq("class1", "class2", "flag", "engine").map(_ -> StringType).toMap ++
      Seq("iterations", "num_model", "iterations_run").map(_ -> IntegerType) ++
      Seq("nb_train", "nb_test", "nb_correct").map(_ -> LongType) ++
      Seq("split", "predict_pct", "precision", "recall", "f1", "majority_pct", "seconds").map(_ -> DoubleType)

  def schema(header: Seq[String]): StructType =
    StructType(header.map(c => StructField(c, types.getOrElse(c, StringType), nullable = false)))

  def toDataFrame(spark: SparkSession, csv: String): DataFrame = {
    val records = parseCsv(csv)
    require(records.nonEmpty, "results.csv has no header")
    val s = schema(records.head)
    val rows = records.tail.zipWithIndex.map { case (r, i) =>
      require(r.length == s.length, s"results.csv line ${i + 2}: ${r.length} fields, the header has ${s.length}")
      Row.fromSeq(r.zip(s.fields).map { case (v, f) => convert(v, f) })
    }
    spark.createDataFrame(rows.asJava, s)
  }

  private def convert(value: String, field: StructField): Any = {
    try {
      field.dataType match {
        case IntegerType => value.toInt
        case LongType => value.toLong
        case DoubleType => value.toDouble
        case _ => value
      }
    } catch {
      case e: NumberFormatException =>
        throw new IllegalArgumentException(s"results.csv: column ${field.name}: '$value' is not a number", e)
    }
  }

  /** Records of RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
  def parseCsv(text: String): Seq[Seq[String]] = {
    val records = mutable.ArrayBuffer[Seq[String]]()
    var record = mutable.ArrayBuffer[String]()
    val field = new StringBuilder
    var quoted = false
    var i = 0
    def endField(): Unit = { record += field.toString; field.clear() }
    def endRecord(): Unit = { endField(); records += record.toSeq; record = mutable.ArrayBuffer[String]() }
    while (i < text.length) {
      val c = text.charAt(i)
      if (quoted) {
        if (c == '"' && i + 1 < text.length && text.charAt(i + 1) == '"') { field += '"'; i += 1 }
        else if (c == '"') quoted = false
        else field += c
      } else c match {
        case '"' => quoted = true
        case ',' => endField()
        case '\n' => endRecord()
        case '\r' => // \r\n line ends: the \n ends the record
        case _ => field += c
      }
      i += 1
    }
    if (field.nonEmpty || record.nonEmpty) endRecord()
    records.toSeq
  }
}

/** The saved model JSON (`paws-linear-model/1`) as an MLlib model. */
private[spark] object SavedModels {
  private val mapper = new ObjectMapper()

  def parse(name: String, json: String): GeneralizedLinearModel = {
    val root = mapper.readTree(json)
    val format = root.path("format").asText()
    require(format == "paws-linear-model/1", s"models/$name.json: format '$format', expected paws-linear-model/1")
    val m = root.get("model")
    val weights = Vectors.dense(m.get("weights").elements().asScala.map(_.asDouble()).toArray)
    val intercept = m.get("intercept").asDouble()
    val threshold = m.get("threshold").asDouble()
    m.get("kind").asText() match {
      case "hinge" => new SVMModel(weights, intercept).setThreshold(threshold)
      case "logistic" => new LogisticRegressionModel(weights, intercept).setThreshold(threshold)
      case k => throw new IllegalArgumentException(s"models/$name.json: unknown model kind '$k'")
    }
  }
}

/**
 * The arguments of `paws experiment`, one method each, for notebooks and Java:
 *
 * {{{
 * val r = PetBreedExperiment.builder(spark).features("s3://bucket/features.parquet")
 *   .classOf("Abyssinian").vs("all").output("s3://bucket/out").run()
 * z.show(r.table)
 * }}}
 *
 * Any other option goes through [[option]] / [[flag]] (`option("iterations", "50")`); a
 * second call for the same option replaces the first.
 */
final class ExperimentBuilder(spark: SparkSession) {
  private val options = mutable.LinkedHashMap[String, Option[String]]()

  def features(path: String): ExperimentBuilder = option("features", path)
  def classOf(positiveClass: String): ExperimentBuilder = option("class", positiveClass)
  /** The classes to compare with, or "all". */
  @varargs def vs(classes: String*): ExperimentBuilder = option("vs", classes.mkString(","))
  def allPairs(): ExperimentBuilder = flag("all-pairs")
  def splits(splits: String): ExperimentBuilder = option("splits", splits)
  def iterations(n: Int): ExperimentBuilder = option("iterations", n.toString)
  /** "svm" or "logistic". */
  def model(kind: String): ExperimentBuilder = option("model", kind)
  def output(path: String): ExperimentBuilder = option("output", path)

  /** `--name value` (name without the dashes). */
  def option(name: String, value: String): ExperimentBuilder = {
    require(value != null, s"--$name: null value")
    options(name.stripPrefix("--")) = Some(value)
    this
  }

  /** `--name`, an option without a value (`intercept`, `class-weighting`, `all-pairs`). */
  def flag(name: String): ExperimentBuilder = {
    options(name.stripPrefix("--")) = None
    this
  }

  /** The command line built so far. */
  def args: Array[String] = options.toArray.flatMap { case (k, v) => s"--$k" +: v.toSeq }

  def run(): ExperimentResult = PetBreedExperiment.experiment(spark, args)
}
