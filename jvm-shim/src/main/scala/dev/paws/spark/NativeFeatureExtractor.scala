package dev.paws.spark

import dev.paws.spark.jni.NativeKernels
import java.util.concurrent.ConcurrentHashMap

import org.apache.hadoop.fs.{Path => HPath}
import org.apache.hadoop.io.IOUtils
import org.apache.spark.broadcast.Broadcast
import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.types._
import org.apache.spark.storage.StorageLevel

/**
 * CNN features of photos on Spark: `paws extract` with the photos and the model on any
 * Hadoop path (`file:`, `hdfs:`, `s3a:`, `s3:` on EMR).
 *
 * {{{
 * val out = NativeFeatureExtractor.extract(spark, "s3://bucket/images",
 *   NativeFeatureExtractor.Options(model = "s3://bucket/models/efficientnet-lite0.onnx"))
 * out.features.write.parquet("s3://bucket/features.parquet")
 * }}}
 *
 * Photos are read with Spark's `binaryFile` source, which packs many small files into
 * one task (not a task per photo). The model file is read once by the driver and
 * broadcast; each executor JVM loads it once (a native extractor shared by its task
 * threads) and runs the same decoder, preprocessing and engine as `paws extract`, so a
 * photo gives the same features, bit for bit, on both with the same backend.
 *
 * Two backends run the model: tract (built in, the default) and onnxruntime, opened at
 * run time from a `libonnxruntime` file on each machine (about 2.4x tract's speed on 2
 * cores, `BENCHMARKS.md`; the features agree within 1e-4). The library reaches the
 * executors in one of three ways, see [[Options]]: a path that exists on every node
 * (an EMR bootstrap action that runs `pip install onnxruntime`), a file shipped with
 * `spark-submit --files` (named by its file name), or `spark.executorEnv.ORT_DYLIB_PATH`.
 * The wheel's library needs glibc 2.28 or newer: EMR 7 (2.34) has it, EMR 6 (2.26) does
 * not, and there tract is the backend that works.
 *
 * The result has the columns of `paws extract`'s Parquet: `image` (the file name),
 * `label` (the breed from the name, `Bengal_12.jpg` is a `Bengal`) and `features`
 * (`array<float>`), sorted by image name as the CLI sorts files. The extractor's model
 * id, dimension and backend are in the `features` column's metadata
 * (`paws.extractor.model`, `paws.extractor.dim`, `paws.extractor.backend`), which Spark
 * keeps in the Parquet footer, where
 * `PetBreedExperiment` and `paws experiment` find them.
 */
object NativeFeatureExtractor {
  val MetaModel = "paws.extractor.model"
  val MetaDim = "paws.extractor.dim"
  val MetaBackend = "paws.extractor.backend"
  val Backends: Seq[String] = Seq("tract", "onnxruntime")

  /**
   * @param model          the ONNX model (float32 `[1, 3, S, S]` NCHW input), any Hadoop path
   * @param featuresOutput the model output holding the features (`fc2` for a VGG16 export)
   * @param modelId        recorded with the features; null: the ONNX metadata, else the file stem
   * @param inputSize      the square input size `S`
   * @param strict         fail on the first photo that cannot be used instead of skipping it
   * @param backend        `tract` (built in) or `onnxruntime`
   * @param onnxruntimeLib the `libonnxruntime` for the `onnxruntime` backend, on every
   *                       node: an absolute local path, or a bare file name shipped with
   *                       `--files` / `SparkContext.addFile` (found with `SparkFiles.get`,
   *                       else in the task's working directory, where YARN links it);
   *                       null: each JVM's `ORT_DYLIB_PATH` (`spark.executorEnv.ORT_DYLIB_PATH`)
   */
  final case class Options(
      model: String,
      featuresOutput: String = "features",
      modelId: String = null,
      inputSize: Int = 224,
      strict: Boolean = false,
      backend: String = "tract",
      onnxruntimeLib: String = null)

  /**
   * @param features the extracted rows (cached with the level given to [[extract]])
   * @param skipped  files not extracted, with the reason, sorted by path
   * @param modelId  the extractor's model id
   * @param dim      the feature dimension
   */
  final case class Result(
      features: DataFrame,
      skipped: Seq[(String, String)],
      modelId: String,
      dim: Int)

  /** One photo's outcome: features, or the reason it was not used. */
  private final case class Extracted(
      path: String,
      image: String,
      label: String,
      features: Array[Float],
      error: String)

  /**
   * Extracts every photo directly in `images` (hidden files and files starting with `_`
   * are ignored, as Spark ignores them). Fails when the model cannot be loaded, when no
   * photo could be extracted, or, with `strict`, on the first unusable photo in path
   * order (the message names it).
   */
  def extract(
      spark: SparkSession,
      images: String,
      options: Options,
      level: StorageLevel = StorageLevel.MEMORY_AND_DISK): Result = {
    require(options.model != null, "options.model (the ONNX model path) must be given")
    require(Backends.contains(options.backend),
      s"unknown extraction backend '${options.backend}' (expected one of ${Backends.mkString(", ")})")
    val sc = spark.sparkContext
    val modelBytes = readFile(spark, options.model)
    val spec = ExtractorSpec(options.model, options.inputSize, options.featuresOutput, options.modelId,
      options.backend, options.onnxruntimeLib)
    // Fail on the driver, with the model's (or the library's) name, before any task is
    // scheduled; in YARN cluster mode the driver has the `--files` too.
    val probe = spec.open(modelBytes)
    val (modelId, dim) =
      try {
        (NativeKernels.extractorModelId(probe), NativeKernels.extractorDim(probe))
      } finally {
        NativeKernels.extractorClose(probe)
      }

    val model = sc.broadcast(modelBytes)
    val photos = spark.read.format("binaryFile").load(images).select(col("path"), col("content"))
    val extracted = photos.rdd.mapPartitions { it =>
      val handle = ExtractorCache.handle(model, spec)
      it.map { row =>
        val path = row.getString(0)
        val image = new HPath(path).getName
        val label = NativeKernels.breedOfFileName(image)
        if (label == null) {
          Extracted(path, image, null, null,
            s"$path: file name does not follow <breed>_<n>.<ext> (e.g. Bengal_12.jpg)")
        } else {
          try {
            Extracted(path, image, label, NativeKernels.extractImage(handle, row.getAs[Array[Byte]](1), path), null)
          } catch {
            case e: IllegalArgumentException => Extracted(path, image, label, null, e.getMessage)
          }
        }
      }
    }.persist(level)
    extracted.setName(s"paws: features of $images ($modelId)")

    val failures = extracted.filter(_.error != null).map(e => (e.path, e.error)).collect().sortBy(_._1)
    if (options.strict && failures.nonEmpty) {
      extracted.unpersist()
      throw new IllegalArgumentException(failures.head._2)
    }
    val good = extracted.filter(_.error == null)
    if (good.isEmpty()) {
      extracted.unpersist()
      throw new IllegalArgumentException(
        s"$images: no images could be extracted (${failures.length} files skipped)")
    }

    val meta = new MetadataBuilder().putString(MetaModel, modelId).putString(MetaDim, dim.toString)
      .putString(MetaBackend, options.backend).build()
    val schema = StructType(Seq(
      StructField("image", StringType, nullable = false),
      StructField("label", StringType, nullable = false),
      StructField("features", ArrayType(FloatType, containsNull = false), nullable = false, meta)))
    val rows = good.map(e => Row(e.image, e.label, e.features))
    val features = spark.createDataFrame(rows, schema).sort(col("image"))
    Result(features, failures.toSeq, modelId, dim)
  }

  /**
   * Writes `result.features` as Parquet at `out` (a folder of part files). The job
   * writes a temporary sibling folder (`.<name>.tmp-<uuid>`, committed by Spark's output
   * committer), and only a finished one replaces `out`: a failed run leaves the old
   * output as it was and never a partial one.
   */
  def write(result: Result, out: String): Unit = {
    val dst = new HPath(out)
    val tmp = new HPath(dst.getParent, s".${dst.getName}.tmp-${java.util.UUID.randomUUID()}")
    val fs = dst.getFileSystem(result.features.sparkSession.sparkContext.hadoopConfiguration)
    try {
      result.features.write.parquet(tmp.toString)
      if (fs.exists(dst) && !fs.delete(dst, true)) throw new java.io.IOException(s"cannot replace $dst")
      if (!fs.rename(tmp, dst)) throw new java.io.IOException(s"cannot rename $tmp to $dst")
    } finally {
      if (fs.exists(tmp)) fs.delete(tmp, true)
    }
  }

  private def readFile(spark: SparkSession, path: String): Array[Byte] = {
    val p = new HPath(path)
    val fs = p.getFileSystem(spark.sparkContext.hadoopConfiguration)
    val len = fs.getFileStatus(p).getLen
    if (len > Int.MaxValue - 8) throw new IllegalArgumentException(s"$path: $len bytes is too large a model")
    val bytes = new Array[Byte](len.toInt)
    val in = fs.open(p)
    try IOUtils.readFully(in, bytes, 0, bytes.length)
    finally in.close()
    bytes
  }
}

/** What identifies a loaded extractor in an executor JVM. */
private[spark] final case class ExtractorSpec(
    name: String,
    inputSize: Int,
    featuresOutput: String,
    modelId: String,
    backend: String,
    onnxruntimeLib: String) {

  /** Loads `model` with this spec in this JVM; the caller closes the handle. */
  def open(model: Array[Byte]): Long = {
    val library = ExtractorSpec.localLibrary(onnxruntimeLib)
    // Which library each JVM opened is the first question when executors differ.
    if (backend == "onnxruntime") {
      ExtractorSpec.logger.info(s"paws: $name on onnxruntime, library " +
        Option(library).getOrElse(s"$$ORT_DYLIB_PATH=${sys.env.getOrElse("ORT_DYLIB_PATH", "")}"))
    }
    NativeKernels.extractorOpen(model, name, inputSize, featuresOutput, modelId, backend, library)
  }
}

private[spark] object ExtractorSpec {
  private val logger = org.slf4j.LoggerFactory.getLogger("dev.paws.spark.NativeFeatureExtractor")

  /**
   * The local file for `lib` in this JVM: null and paths stay as they are; a bare file
   * name is a file shipped with `--files` or `addFile` (`SparkFiles.get`, which covers
   * local and standalone mode) or linked into the container's working directory (YARN).
   * A name found in neither place is returned as is, and the native side names it in its
   * "no such file" error.
   */
  def localLibrary(lib: String): String = {
    if (lib == null || lib.contains("/")) return lib
    val candidates = Seq(
      scala.util.Try(org.apache.spark.SparkFiles.get(lib)).toOption,
      Some(new java.io.File(lib).getAbsolutePath))
    candidates.flatten.find(p => new java.io.File(p).isFile).getOrElse(lib)
  }
}

/**
 * The native extractors of this JVM, one per broadcast model: loaded by the first task
 * that needs one and kept for the JVM's life (a model is tens of MB; executors of one
 * application rarely see more than one), shared by concurrent tasks.
 */
private[spark] object ExtractorCache {
  private val handles = new ConcurrentHashMap[(Long, ExtractorSpec), java.lang.Long]()

  def handle(model: Broadcast[Array[Byte]], spec: ExtractorSpec): Long =
    handles.computeIfAbsent((model.id, spec), _ => java.lang.Long.valueOf(spec.open(model.value)))
}
