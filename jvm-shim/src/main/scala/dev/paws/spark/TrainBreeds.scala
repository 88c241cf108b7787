package dev.paws.spark

import dev.paws.spark.HadoopOutput.{deleteRecursively, publish}
import dev.paws.spark.jni.NativeBreeds
import java.io.File
import java.nio.file.Files

import scala.collection.JavaConverters._

import com.fasterxml.jackson.databind.ObjectMapper
import org.apache.hadoop.fs.{Path => HPath}
import org.apache.spark.sql.SparkSession
import org.apache.spark.storage.StorageLevel
import org.slf4j.{Logger, LoggerFactory}

/**
 * `paws train-breeds` on Spark, for `spark-submit` (the full 7,390-photo set on EMR,
 * its features on S3):
 *
 * {{{
 * spark-submit --class dev.paws.spark.TrainBreeds paws-spark-0.1.0.jar \
 *   --features s3://bucket/features/ -o s3://bucket/models/breeds-37.json
 * }}}
 *
 * It takes the arguments of `paws train-breeds` (`--help` prints them; `--cross-validate`
 * is for the CLI) and writes the same files to any Hadoop path: the model, and beside it
 * `<stem>.confusion.csv` and `.png`, each written under a temporary name and renamed.
 *
 * Spark reads and checks each feature file (Parquet, as [[ExperimentData]] reads it:
 * the CLI's row order, the extractor from the metadata) and the rows are gathered on the
 * driver; the training is the native library's, the one `paws train-breeds` runs
 * (`NativeBreeds`), so the model has the CLI's weights, temperature and held-out figures
 * bit for bit (only `engine` and `sources` differ): see TrainBreedsTest. It trains on
 * the driver: the features of the whole Oxford-IIIT Pet set are 38 MB, and the batched
 * engine's passes over them take less time than scheduling as many Spark jobs would.
 */
object TrainBreeds {
  private val logger: Logger = LoggerFactory.getLogger("dev.paws.spark.TrainBreeds")
  private val mapper = new ObjectMapper()

  /** What a run wrote: the model file (qualified), its confusion files and the summary. */
  final case class Result(model: String, files: Seq[String], rows: Int, summary: String)

  def main(args: Array[String]): Unit = {
    val usage = NativeBreeds.usage(args)
    if (usage != null) {
      print(usage)
      return
    }
    val spark = SparkSession.builder().appName("paws TrainBreeds").getOrCreate()
    try {
      run(spark, args, s => print(s))
    } finally {
      spark.stop()
    }
  }

  /** Trains on `spark`'s context (which stays open); `out` gets the summary lines. */
  def run(spark: SparkSession, args: Array[String], out: String => Unit = s => logger.info(s.stripLineEnd)): Result = {
    val sc = spark.sparkContext
    val conf = sc.hadoopConfiguration
    val h = NativeBreeds.create(args)
    try {
      val info = mapper.readTree(NativeBreeds.info(h))
      val paths = info.get("features").elements().asScala.map(_.asText()).toIndexedSeq
      val default = info.get("default_features").asBoolean()
      if (default && !sc.isLocal) {
        throw new IllegalArgumentException("no --features given: the committed feature sets are files on " +
          "the driver, which a cluster's executors cannot read; pass --features (hdfs:, s3:, s3a: ...)")
      }
      var rows = 0
      for (path <- paths) {
        val read = if (default) new File(path).toURI.toString else path
        val data = ExperimentData.parquet(spark, read, StorageLevel.MEMORY_ONLY)
        try {
          NativeBreeds.addPart(h, data.images, data.breeds, gather(data), data.dim, data.extractor, path)
          rows += data.numRows
          logger.info(s"read ${data.numRows} rows x ${data.dim} features (${data.extractor}) from $read")
        } finally {
          data.blocks.unpersist(blocking = false)
        }
      }

      val output = new HPath(info.get("output").asText())
      val local = Files.createTempDirectory("paws-train-breeds-")
      try {
        val trained = mapper.readTree(NativeBreeds.train(h, local.toString))
        val files = trained.get("files").elements().asScala.map(_.asText()).toSeq
        val summary = trained.get("summary").asText()
        val parent = Option(output.getParent).map(_.toString).getOrElse(".")
        val dir = publish(conf, local, files, parent)
        val written = files.map(f => new HPath(dir, f).toString)
        out(s"$summary\nmodel:     ${written.head}\nconfusion: ${written.tail.mkString(" and ")}\n")
        Result(written.head, written, rows, summary)
      } finally {
        deleteRecursively(local.toFile)
      }
    } finally {
      NativeBreeds.free(h)
    }
  }

  /** The cached blocks' features, row-major in the global row order, on the driver. */
  private def gather(data: ExperimentData): Array[Float] = {
    val total = data.numRows.toLong * data.dim
    if (total > Int.MaxValue - 8) {
      throw new IllegalArgumentException(s"${data.sourceName}: ${data.numRows} rows x ${data.dim} features " +
        "are more than one Java array holds; split the features into several files")
    }
    val dim = data.dim
    val features = new Array[Float](total.toInt)
    for ((first, values) <- data.blocks.map(b => (b.firstRow, b.rows)).collect()) {
      System.arraycopy(values, 0, features, (first * dim).toInt, values.length)
    }
    features
  }
}
