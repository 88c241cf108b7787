package dev.paws.spark

import org.apache.spark.sql.SparkSession
import org.slf4j.LoggerFactory

/**
 * `paws extract` for `spark-submit`: photos on any Hadoop path in, a Parquet dataset of
 * features out, ready for `PetBreedExperiment --features <out>` (and for `paws
 * experiment`, which reads a folder of part files too).
 *
 * {{{
 * spark-submit --class dev.paws.spark.ExtractFeatures paws-spark-0.1.0.jar \
 *   s3://bucket/images -o s3://bucket/features.parquet \
 *   --model s3://bucket/models/efficientnet-lite0.onnx
 * }}}
 *
 * The options are those of `paws extract` (`--model` is required here: a cluster has
 * no model cache; `--logits-output` is not supported, only features are written).
 */
object ExtractFeatures {
  private val logger = LoggerFactory.getLogger("dev.paws.spark.ExtractFeatures")

  val Usage: String =
    """Usage: ExtractFeatures <IMAGES> -o <OUTPUT> --model <MODEL> [options]
      |
      |Arguments:
      |  <IMAGES>                 Folder of photos named <breed>_<n>.<ext> (any Hadoop path)
      |
      |Options:
      |  -o, --output <OUTPUT>    Output Parquet dataset (a folder of part files; replaced)
      |      --model <MODEL>      ONNX model file (any Hadoop path)
      |      --feature-output <N> Model output that holds the features [default: features]
      |      --model-id <ID>      Model id recorded with the features [default: from the model]
      |      --input-size <S>     Square input size of the model [default: 224]
      |      --strict             Fail on the first unusable image instead of skipping it
      |      --backend <B>        Engine that runs the model: tract or onnxruntime [default: tract]
      |      --onnxruntime-lib <L>
      |                           libonnxruntime for --backend onnxruntime: a path on every
      |                           node, or the file name of a --files upload
      |                           [default: $ORT_DYLIB_PATH of each JVM]
      |  -h, --help               Print help
      |""".stripMargin

  /** Parsed arguments. */
  final case class Args(images: String, output: String, options: NativeFeatureExtractor.Options)

  /** Parses `args`; `Left(message)` for help (`message` is the usage) or a usage error. */
  def parse(args: Array[String]): Either[String, Args] = {
    var images: String = null
    var output: String = null
    var model: String = null
    var featuresOutput = "features"
    var modelId: String = null
    var inputSize = 224
    var strict = false
    var backend = "tract"
    var onnxruntimeLib: String = null
    var i = 0
    def value(flag: String): String = {
      if (i + 1 >= args.length) throw new IllegalArgumentException(s"$flag needs a value\n\n$Usage")
      i += 1
      args(i)
    }
    while (i < args.length) {
      args(i) match {
        case "-h" | "--help" => return Left(Usage)
        case "-o" | "--output" => output = value("--output")
        case "--model" => model = value("--model")
        case "--feature-output" => featuresOutput = value("--feature-output")
        case "--model-id" => modelId = value("--model-id")
        case "--input-size" =>
          val v = value("--input-size")
          inputSize = try v.toInt catch {
            case _: NumberFormatException =>
              throw new IllegalArgumentException(s"--input-size: '$v' is not a number\n\n$Usage")
          }
          if (inputSize <= 0) throw new IllegalArgumentException(s"--input-size must be positive, got $v")
        case "--strict" => strict = true
        case "--backend" =>
          backend = value("--backend")
          if (!NativeFeatureExtractor.Backends.contains(backend)) {
            throw new IllegalArgumentException(s"--backend: '$backend' is not one of " +
              s"${NativeFeatureExtractor.Backends.mkString(", ")}\n\n$Usage")
          }
        case "--onnxruntime-lib" => onnxruntimeLib = value("--onnxruntime-lib")
        case flag if flag.startsWith("-") =>
          throw new IllegalArgumentException(s"unexpected argument '$flag'\n\n$Usage")
        case positional if images == null => images = positional
        case extra => throw new IllegalArgumentException(s"unexpected argument '$extra'\n\n$Usage")
      }
      i += 1
    }
    for ((v, what) <- Seq(images -> "<IMAGES>", output -> "--output <OUTPUT>", model -> "--model <MODEL>")
         if v == null) {
      throw new IllegalArgumentException(s"the required argument $what was not given\n\n$Usage")
    }
    if (onnxruntimeLib != null && backend != "onnxruntime") {
      throw new IllegalArgumentException(s"--onnxruntime-lib needs --backend onnxruntime\n\n$Usage")
    }
    Right(Args(images, output, NativeFeatureExtractor.Options(model, featuresOutput, modelId, inputSize, strict,
      backend, onnxruntimeLib)))
  }

  def main(args: Array[String]): Unit = {
    val parsed = parse(args) match {
      case Left(usage) =>
        print(usage)
        return
      case Right(a) => a
    }
    val spark = SparkSession.builder().appName("paws ExtractFeatures").getOrCreate()
    try run(spark, parsed)
    finally spark.stop()
  }

  /** Extracts and writes; returns what was extracted. */
  def run(spark: SparkSession, a: Args): NativeFeatureExtractor.Result = {
    val t0 = System.nanoTime()
    val result = NativeFeatureExtractor.extract(spark, a.images, a.options)
    for ((_, reason) <- result.skipped) logger.warn(s"skipped $reason")
    NativeFeatureExtractor.write(result, a.output)
    val n = spark.read.parquet(a.output).count()
    logger.info(f"extracted $n images (${result.skipped.length} skipped) with ${result.modelId} " +
      f"(${result.dim} features, ${a.options.backend}) to ${a.output} in ${(System.nanoTime() - t0) / 1e9}%.1f s")
    result
  }
}
