package dev.paws.spark.examples

import java.util.Random

import dev.paws.spark.{BlockFormat, NativeSVMWithSGD, NativeTrainingSummary, SgdDriver}
import org.apache.spark.mllib.classification.SVMWithSGD
import org.apache.spark.mllib.linalg.Vectors
import org.apache.spark.mllib.regression.LabeledPoint
import org.apache.spark.sql.SparkSession
import org.apache.spark.storage.StorageLevel

/**
 * The drop-in case of the macro benchmark (`benches/run.sh`): one
 * `NativeSVMWithSGD.train(rdd, 100, 1.0, 0.01, 1.0)` with each driver against MLlib's
 * `SVMWithSGD.train` on the same cached `RDD[LabeledPoint]`, in the same JVM, warm (each
 * engine trains once before it is timed), paws with its default dense blocks for these
 * rows and with sparse blocks forced. Prints one JSON line per engine.
 *
 * The data has the published set's shape: 7,390 dense rows of 4,096 features, a quarter
 * of them non-zero (as ReLU features are), labels from a noisy linear rule that keeps
 * most rows inside the hinge's margin, so most rows add to every gradient.
 *
 * {{{
 * spark-submit --master 'local[2]' --driver-memory 6g --jars paws-spark-0.1.0.jar \
 *   --class dev.paws.spark.examples.DropInBenchmark paws-spark-0.1.0-tests.jar [rows] [features] [partitions]
 * }}}
 */
object DropInBenchmark {
  def main(args: Array[String]): Unit = {
    val rows = if (args.length > 0) args(0).toInt else 7390
    val dim = if (args.length > 1) args(1).toInt else 4096
    val spark = SparkSession.builder().appName("paws DropInBenchmark").getOrCreate()
    val sc = spark.sparkContext
    sc.setLogLevel("WARN")
    val parts = if (args.length > 2) args(2).toInt else sc.defaultParallelism
    try {
      val seed = 7L
      val input = sc.parallelize(0 until parts, parts).flatMap { p =>
        val r = new Random(seed)
        val truth = Array.fill(dim)(r.nextGaussian() / math.sqrt(dim / 4.0))
        val local = new Random(seed * 1000 + p)
        (p until rows by parts).iterator.map { _ =>
          val x = Array.fill(dim)(if (local.nextInt(4) == 0) local.nextFloat().toDouble else 0.0)
          val m = x.zip(truth).map { case (a, b) => a * b }.sum + 2.0 * local.nextGaussian()
          LabeledPoint(if (m > 0) 1.0 else 0.0, Vectors.dense(x))
        }
      }.persist(StorageLevel.MEMORY_ONLY)
      input.count()
      def time(f: => Unit): Double = {
        f // warm
        val t0 = System.nanoTime()
        f
        (System.nanoTime() - t0) / 1e9
      }
      var summary: NativeTrainingSummary = null
      def native(driver: String, blocks: String): Unit = {
        sc.setLocalProperty(SgdDriver.DriverConf, driver)
        sc.setLocalProperty(BlockFormat.Conf, blocks)
        try summary = new NativeSVMWithSGD(1.0, 100, 0.01, 1.0).runWithSummary(input, null)
        finally {
          sc.setLocalProperty(SgdDriver.DriverConf, null)
          sc.setLocalProperty(BlockFormat.Conf, null)
        }
      }
      val nonZero = input.map(_.features.numNonzeros.toLong).sum().toLong
      val shape = s""""rows":$rows,"features":$dim,"nonzero":$nonZero,"partitions":$parts,"master":"${sc.master}""""
      // The default (auto: dense blocks for these rows), then sparse blocks forced, then
      // the per-job driver.
      for ((driver, blocks, name) <- Seq(("barrier", "auto", "barrier"), ("barrier", "sparse", "barrier, sparse blocks"),
          ("jobs", "auto", "jobs"))) {
        val s = time(native(driver, blocks))
        // What the passes read: 8 bytes a non-zero value (index and value) for sparse
        // blocks, 4 a value for dense ones.
        val bytes = if (summary.blockFormat == "sparse") nonZero * 8 else rows.toLong * dim * 4
        println(f"""{"engine":"paws drop-in ($name)","seconds":$s%.3f,"prepare_seconds":""" +
          f"""${summary.prepareSeconds}%.3f,"train_seconds":${summary.trainSeconds}%.3f,""" +
          f""""kernel_task_seconds":${summary.kernelSeconds}%.3f,"exchange_task_seconds":""" +
          f"""${summary.exchangeSeconds}%.3f,"blocks":"${summary.blockFormat}","block_bytes":$bytes,$shape}""")
      }
      val m = time(SVMWithSGD.train(input, 100, 1.0, 0.01, 1.0))
      println(f"""{"engine":"MLlib SVMWithSGD drop-in","seconds":$m%.3f,$shape}""")
    } finally {
      spark.stop()
    }
  }
}
