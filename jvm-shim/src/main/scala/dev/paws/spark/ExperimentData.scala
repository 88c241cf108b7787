package dev.paws.spark

import dev.paws.spark.jni.NativeExperiment

import scala.collection.JavaConverters._

import com.fasterxml.jackson.databind.ObjectMapper
import org.apache.hadoop.fs.{Path => HPath}
import org.apache.spark.{SerializableWritable, SparkContext}
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.SparkSession
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
 * @param chunks the chunks of rows read and cached (all, or those the caller's models read)
 */
final case class ExperimentData(
    images: Array[String],
    breeds: Array[String],
    dim: Int,
    extractor: String,
    sourceName: String,
    blocks: RDD[RowBlock],
    inputPartitions: Int,
    blockLayout: String,
    chunks: Chunks) {
  def numRows: Int = images.length
}

object ExperimentData {
  private val MetaDim = "paws.extractor.dim"

  /** Spark conf: partitions of the cached blocks (default: the default parallelism). */
  val BlockPartitionsConf = "spark.paws.blocks.partitions"
  /** Spark conf: minimum partitions when reading a legacy JSON folder. */
  val LegacyPartitionsConf = "spark.paws.legacy.minPartitions"

  private def bad(msg: String) = new IllegalArgumentException(msg)

  /**
   * Which chunks of rows to read, from the dataset's index (images, breeds in row order),
   * known before any feature is read: a sweep reads only the chunks its models read.
   */
  type ChooseChunks = (Array[String], Array[String]) => Chunks

  /** Every row. */
  val allRows: ChooseChunks = (images, _) => Chunks.all(images.length.toLong)

  /**
   * Reads a Parquet file or folder (`paws extract`'s file, or `ExtractFeatures`' part
   * files in name order) with paws-core's reader through Hadoop's `FileSystem`
   * ([[ParquetFeatures]]): columns `image` (string), `label` (string: the breed) and
   * `features` (a list of float32), checked as `paws_core::parquet_io` checks them; the
   * extractor from the footer's `paws.extractor.model` (or the `features` column's
   * metadata that Spark keeps there). Rows in the CLI's order: files by name, rows in
   * file order. Only the row groups holding rows of the chunks that `choose` picks are
   * read (their other rows are not checked).
   */
  def parquet(spark: SparkSession, path: String, level: StorageLevel,
      choose: ChooseChunks = allRows): ExperimentData = {
    val sc = spark.sparkContext
    val fs = new HPath(path).getFileSystem(sc.hadoopConfiguration)
    val plan = ParquetFeatures.plan(fs, path)
    val chunks = choose(plan.images, plan.labels)
    val wanted = sc.getConf.getInt(BlockPartitionsConf, sc.defaultParallelism)
    val read = ParquetFeatures.blocks(sc, fs, plan, chunks, wanted)
    val parts = read.blocks.getNumPartitions
    val name = s"paws experiment blocks: $path (${chunks.describe}, float32)"
    val built = try {
      if (read.aligned && (read.byWork || ChunkedRows.isFair(read.sizes, chunks, wanted))) {
        // Every partition starts on a chunk boundary: its blocks are whole chunks
        // already, cached where they were read.
        val how = if (read.byWork) " (cut for about equal training work)" else ""
        ChunkedRows.cached(read.blocks, chunks, level, name, s"kept in the $parts input partitions$how")
      } else {
        ChunkedRows.fromBlocks(read.blocks, chunks, wanted, level, name)
      }
    } catch {
      // Found on the driver, or in a task joining a chunk's pieces.
      case ChunkedRows.DimMismatch.Within(e) => throw bad(s"${plan.describe(e.row)} has ${e.found} " +
          s"values, ${plan.describe(e.firstRow)} has ${e.expected}: all rows must have the same number")
    }
    plan.declaredDims.find(_._2 != built.dim.toString).foreach { case (file, declared) =>
      built.blocks.unpersist(blocking = false)
      throw bad(s"$file: column 'features': metadata $MetaDim=$declared, rows have ${built.dim} values")
    }
    ExperimentData(plan.images, plan.labels, built.dim, plan.model.getOrElse("unknown"), path,
      built.blocks, parts, built.layout, chunks)
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
      chunks: Chunks,
      level: StorageLevel,
      name: String,
      onDriver: Long => String,
      inTasks: Long => String): ChunkedRows.Built = {
    val wanted = sc.getConf.getInt(BlockPartitionsConf, sc.defaultParallelism)
    try {
      ChunkedRows.build(rows, chunks, wanted, level, s"paws experiment blocks: $name", inTasks)
    } catch {
      case ChunkedRows.DimMismatch.Within(e) => throw bad(s"${onDriver(e.row)} has ${e.found} features, " +
          s"${onDriver(e.firstRow)} has ${e.expected}: all rows must have the same number")
    }
  }

  /**
   * The local file system without Hadoop's client-side checksums: `LocalFileSystem` looks
   * for a `.<name>.crc` beside every file it opens, a second file-system call per feature
   * file that the legacy files (written by Python, never with one) do not need.
   */
  private def withoutChecksums(fs: org.apache.hadoop.fs.FileSystem) = fs match {
    case local: org.apache.hadoop.fs.LocalFileSystem => local.getRawFileSystem
    case other => other
  }

  /**
   * Reads a legacy folder of `<breed>_<n>.jpg.json` files (each a flat JSON array of
   * floats), as `paws_core::legacy::read_folder` does: the files sorted by name, the
   * first file's length fixing the dimension. The names of the rows in the chunks that
   * `choose` picks (the others are not read) are cut into contiguous runs, one task each
   * (at least `spark.paws.legacy.minPartitions`, default the default parallelism); a task opens its files through the Hadoop `FileSystem` (any scheme),
   * parses each once with the native parser, and its rows become float32 blocks in its
   * own partition (runs of consecutive rows: no shuffle but at run edges): never one
   * task per file, never read again per iteration.
   *
   * Not `binaryFiles`: its `PortableDataStream` serialises the whole Hadoop
   * `Configuration` once per file, which made 7,390 files cost about 30 s.
   */
  def legacy(spark: SparkSession, path: String, extractor: String, level: StorageLevel,
      choose: ChooseChunks = allRows): ExperimentData = {
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
    val chunks = choose(images, breeds)
    // The rows read, by their index in name order.
    val kept = (0 until n).filter(g => chunks.containsRow(g.toLong)).toArray
    // The first file in order fixes the dimension, as in the CLI.
    val qualified = fs.makeQualified(dir).toString
    def read(fs: org.apache.hadoop.fs.FileSystem, name: String): (String, Array[Float]) = {
      val p = new HPath(qualified, name)
      val in = fs.open(p)
      val bytes = try in.readAllBytes() finally in.close()
      (p.toString, NativeExperiment.parseLegacyFile(p.toString, bytes))
    }
    val dim = read(fs, files(0))._2.length
    val parts = math.min(kept.length, sc.getConf.getInt(LegacyPartitionsConf, math.max(sc.defaultParallelism, 2)))
    val conf = sc.broadcast(new SerializableWritable(sc.hadoopConfiguration))
    val names = sc.broadcast((files, kept))
    val rows = sc.parallelize(0 until parts, parts).flatMap { t =>
      val (all, rowsRead) = names.value
      val (from, to) = (rowsRead.length.toLong * t / parts, rowsRead.length.toLong * (t + 1) / parts)
      val fs = withoutChecksums(new HPath(qualified).getFileSystem(conf.value.value))
      (from until to).iterator.map { i =>
        val g = rowsRead(i.toInt).toLong
        val (p, x) = read(fs, all(g.toInt))
        if (x.length != dim) {
          throw bad(s"$p: wrong feature dimension: expected $dim, found ${x.length}")
        }
        (g, x)
      }
    }
    val built = cache(sc, rows, chunks, level, s"$path ($n files x $dim, ${chunks.describe}, float32)",
      g => s"$path/${files(g.toInt)}", g => s"$path: file number $g in name order")
    ExperimentData(images, breeds, dim, extractor, path, built.blocks, parts, built.layout, chunks)
  }
}
