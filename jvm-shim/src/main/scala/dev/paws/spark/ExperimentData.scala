package dev.paws.spark

import dev.paws.spark.jni.{NativeExperiment, NativeKernels}
import java.net.URI

import scala.collection.JavaConverters._

import com.fasterxml.jackson.databind.ObjectMapper
import org.apache.hadoop.fs.{Path => HPath}
import org.apache.parquet.hadoop.ParquetFileReader
import org.apache.parquet.hadoop.util.HadoopInputFile
import org.apache.spark.{SerializableWritable, SparkContext}
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions.col
import org.apache.spark.storage.StorageLevel

/**
 * The experiment's dataset in Spark: the row index (image names and breeds, in the row
 * order `paws experiment` reads) on the driver, the features cached by Spark as
 * [[RowBlock]]s of whole `CHUNK_ROWS` chunks, ready for the `*Selected` kernels.
 *
 * @param inputPartitions partitions of the input read (Parquet splits, or groups of
 *     legacy files): never one per file
 * @param blockLayout where the cached blocks were put (kept in the input's partitions
 *     or spread), for the log
 */
final case class ExperimentData(
    images: Array[String],
    breeds: Array[String],
    dim: Int,
    extractor: String,
    sourceName: String,
    blocks: RDD[RowBlock],
    inputPartitions: Int,
    blockLayout: String) {
  def numRows: Int = images.length
}

object ExperimentData {
  private val C = NativeKernels.CHUNK_ROWS.toLong
  private val MetaModel = "paws.extractor.model"
  private val MetaDim = "paws.extractor.dim"

  /** Spark conf: partitions of the cached blocks (default: the default parallelism). */
  val BlockPartitionsConf = "spark.paws.blocks.partitions"
  /** Spark conf: minimum partitions when reading a legacy JSON folder. */
  val LegacyPartitionsConf = "spark.paws.legacy.minPartitions"

  private def bad(msg: String) = new IllegalArgumentException(msg)

  /**
   * Reads a Parquet file or folder with Spark's reader: columns `image` (string),
   * `label` (string: the breed) and `features` (a list of float32), as
   * `paws_core::parquet_io` reads them; the extractor from the footer's
   * `paws.extractor.model`. Rows are ordered by file path, then by row within the
   * file (`_metadata.row_index`): for one file, the file's order, the CLI's.
   */
  def parquet(spark: SparkSession, path: String, level: StorageLevel): ExperimentData = {
    val df = spark.read.parquet(path)
    val names = df.schema.fieldNames
    for (c <- Seq("image", "label", "features") if !names.contains(c)) {
      throw bad(s"$path: column '$c': missing; found columns: ${names.mkString(", ")}")
    }
    for (c <- Seq("image", "label")) {
      val t = df.schema(c).dataType.simpleString
      if (t != "string") throw bad(s"$path: column '$c': expected utf8, found $t")
    }
    val ft = df.schema("features").dataType.simpleString
    if (ft != "array<float>") {
      throw bad(s"$path: column 'features': expected a list of float32, found $ft")
    }
    val file = col("_metadata.file_path")
    val rowIndex = col("_metadata.row_index")

    // The index: a small job that reads only the two string columns.
    val index = df.select(file, rowIndex, col("image"), col("label")).collect()
      .map(r => (r.getString(0), r.getLong(1), r.getString(2), r.getString(3)))
      .sortBy(r => (r._1, r._2))
    if (index.isEmpty) throw bad(s"$path: column 'features': the file has no rows")
    // Row numbers within each file are 0..n-1: the file's start is its global offset.
    val starts = scala.collection.mutable.LinkedHashMap[String, Long]()
    var k = 0
    while (k < index.length) {
      val (f, r, image, label) = index(k)
      if (!starts.contains(f)) starts(f) = k.toLong
      if (r != k - starts(f)) {
        throw new IllegalStateException(s"$f: row index $r where ${k - starts(f)} was expected")
      }
      if (image == null) throw bad(s"$path: column 'image': row $k is null")
      if (label == null) throw bad(s"$path: column 'label': row $k is null")
      k += 1
    }
    val images = index.map(_._3)
    val breeds = index.map(_._4)
    val n = index.length.toLong

    val sc = spark.sparkContext
    // `paws extract` writes the extractor into the footer; Spark (ExtractFeatures) into
    // the `features` column's metadata.
    val columnMeta = df.schema("features").metadata
    val meta = footerMetadata(spark, starts.head._1) ++
      Seq(MetaModel, MetaDim).filter(columnMeta.contains).map(k => k -> columnMeta.getString(k))
    val extractor = meta.getOrElse(MetaModel, "unknown")

    val startsB = sc.broadcast(starts.toMap)
    val features = df.select(file, rowIndex, col("image"), col("features"))
    val rows = features.queryExecution.toRdd.mapPartitions { it =>
      val st = startsB.value
      it.map { r =>
        val g = st(r.getUTF8String(0).toString) + r.getLong(1)
        if (r.isNullAt(3)) {
          throw bad(s"$path: column 'features': row $g (image ${r.getUTF8String(2)}): features are null")
        }
        val a = r.getArray(3)
        var j = 0
        while (j < a.numElements()) {
          if (a.isNullAt(j)) {
            throw bad(s"$path: column 'features': row $g (image ${r.getUTF8String(2)}): value $j is null")
          }
          j += 1
        }
        val x = a.toFloatArray()
        checkFinite(x, s"$path: feature value at row $g (image ${r.getUTF8String(2)})")
        (g, x)
      }
    }
    val built = cache(sc, rows, n, level, s"$path ($n rows, float32)",
      g => s"$path: column 'features': row $g (image ${images(g.toInt)})",
      g => s"$path: column 'features': row $g")
    meta.get(MetaDim).foreach { declared =>
      if (declared != built.dim.toString) {
        built.blocks.unpersist(blocking = false)
        throw bad(s"$path: column 'features': metadata $MetaDim=$declared, rows have ${built.dim} values")
      }
    }
    ExperimentData(images, breeds, built.dim, extractor, path, built.blocks, rows.getNumPartitions,
      built.layout)
  }

  /**
   * The rows as cached blocks ([[ChunkedRows]]): in the input's partitions, or spread
   * over `spark.paws.blocks.partitions` (default: the default parallelism) when those
   * hold the rows unevenly.
   * `onDriver` describes a row with what only the driver knows (its image), `inTasks`
   * without it (so tasks do not carry the image list).
   */
  private def cache(
      sc: SparkContext,
      rows: RDD[(Long, Array[Float])],
      n: Long,
      level: StorageLevel,
      name: String,
      onDriver: Long => String,
      inTasks: Long => String): ChunkedRows.Built = {
    val wanted = sc.getConf.getInt(BlockPartitionsConf, sc.defaultParallelism)
    try {
      ChunkedRows.build(rows, n, wanted, level, s"paws experiment blocks: $name", inTasks)
    } catch {
      case e: ChunkedRows.DimMismatch => throw bad(s"${onDriver(e.row)} has ${e.found} features, " +
          s"${onDriver(e.firstRow)} has ${e.expected}: all rows must have the same number")
    }
  }

  /** The footer's key/value metadata of one Parquet file. */
  private def footerMetadata(spark: SparkSession, file: String): Map[String, String] = {
    val conf = spark.sessionState.newHadoopConf()
    val reader = ParquetFileReader.open(HadoopInputFile.fromPath(new HPath(new URI(file)), conf))
    try {
      reader.getFooter.getFileMetaData.getKeyValueMetaData.asScala.toMap
    } finally {
      reader.close()
    }
  }

  private def checkFinite(x: Array[Float], where: => String): Unit = {
    var j = 0
    while (j < x.length) {
      val v = x(j)
      if (v.isNaN || v.isInfinite) {
        throw bad(s"$where, feature index $j is $v; features must be finite")
      }
      j += 1
    }
  }

  /**
   * Reads a legacy folder of `<breed>_<n>.jpg.json` files (each a flat JSON array of
   * floats), as `paws_core::legacy::read_folder` does: the files sorted by name, the
   * first file's length fixing the dimension. The sorted names are cut into contiguous
   * runs, one task each (at least `spark.paws.legacy.minPartitions`, default the default
   * parallelism); a task opens its files through the Hadoop `FileSystem` (any scheme),
   * parses each once with the native parser, and its rows become float32 blocks in its
   * own partition (runs of consecutive rows: no shuffle but at run edges): never one
   * task per file, never read again per iteration.
   *
   * Not `binaryFiles`: its `PortableDataStream` serialises the whole Hadoop
   * `Configuration` once per file, which made 7,390 files cost about 30 s.
   */
  def legacy(spark: SparkSession, path: String, extractor: String, level: StorageLevel): ExperimentData = {
    val sc = spark.sparkContext
    val dir = new HPath(path)
    val fs = dir.getFileSystem(sc.hadoopConfiguration)
    val pattern = new HPath(dir, "*.json")
    val statuses = Option(fs.globStatus(pattern)).getOrElse(Array.empty).filter(_.isFile)
    if (statuses.isEmpty) {
      throw bad(s"$path: no feature files (expected <breed>_<n>.jpg.json)")
    }
    val index = new ObjectMapper().readTree(NativeExperiment.legacyIndex(statuses.map(_.getPath.getName)))
    def strings(key: String) = index.get(key).elements().asScala.map(_.asText()).toArray
    val files = strings("files")
    val images = strings("images")
    val breeds = strings("breeds")
    val n = files.length
    // The first file in order fixes the dimension, as in the CLI.
    val qualified = fs.makeQualified(dir).toString
    def read(fs: org.apache.hadoop.fs.FileSystem, name: String): (String, Array[Float]) = {
      val p = new HPath(qualified, name)
      val in = fs.open(p)
      val bytes = try in.readAllBytes() finally in.close()
      (p.toString, NativeExperiment.parseLegacyFile(p.toString, bytes))
    }
    val dim = read(fs, files(0))._2.length
    val parts = math.min(n, sc.getConf.getInt(LegacyPartitionsConf, math.max(sc.defaultParallelism, 2)))
    val conf = sc.broadcast(new SerializableWritable(sc.hadoopConfiguration))
    val names = sc.broadcast(files)
    val rows = sc.parallelize(0 until parts, parts).flatMap { t =>
      val all = names.value
      val (from, to) = (all.length.toLong * t / parts, all.length.toLong * (t + 1) / parts)
      val fs = new HPath(qualified).getFileSystem(conf.value.value)
      (from until to).iterator.map { g =>
        val (p, x) = read(fs, all(g.toInt))
        if (x.length != dim) {
          throw bad(s"$p: wrong feature dimension: expected $dim, found ${x.length}")
        }
        (g, x)
      }
    }
    val built = cache(sc, rows, n.toLong, level, s"$path ($n files x $dim, float32)",
      g => s"$path/${files(g.toInt)}", g => s"$path: file number $g in name order")
    ExperimentData(images, breeds, dim, extractor, path, built.blocks, parts, built.layout)
  }
}
