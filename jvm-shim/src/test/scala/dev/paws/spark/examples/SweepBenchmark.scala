package dev.paws.spark.examples

import java.nio.file.Files

import dev.paws.spark.{PetBreedExperiment, SgdDriver}
import org.apache.spark.mllib.classification.SVMWithSGD
import org.apache.spark.mllib.linalg.Vectors
import org.apache.spark.mllib.regression.LabeledPoint
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions.col
import org.apache.spark.storage.StorageLevel

/**
 * The Spark side of the macro benchmark (`benches/run.sh`): one sweep (W1: a breed vs
 * all, or W2: a breed vs 4 breeds one-vs-one; 9 splits, 100 iterations) by paws
 * (`PetBreedExperiment`) and by MLlib's `SVMWithSGD`, in the same JVM, on the same
 * Parquet features. Prints one JSON line per engine on stdout.
 *
 * {{{
 * spark-submit --master 'local[2]' --jars paws-spark-0.1.0.jar \
 *   --class dev.paws.spark.examples.SweepBenchmark paws-spark-0.1.0-tests.jar <features.parquet> <class | all-pairs> <vs: all | B,C,...> [mllib: true|false] [drivers: barrier,jobs]
 * }}}
 *
 * The class `all-pairs` runs `--all-pairs` (W3's 666 pairs × 9 splits; `vs` is ignored,
 * and MLlib must be off: at its pace that would take days).
 *
 * MLlib's models train on a cached `RDD[LabeledPoint]` (float64, as users hold it), one
 * `randomSplit` per split, `SVMWithSGD.train(train, 100)` with MLlib's defaults; the
 * time covers training and counting correct test predictions, not reading the file.
 * The paws time is `PetBreedExperiment`'s whole run (reading and caching included), once
 * per SGD driver asked for (`spark.paws.sgd.driver`, in that order).
 */
object SweepBenchmark {
  def main(args: Array[String]): Unit = {
    require(args.length >= 3, "usage: SweepBenchmark <features> <class> <all|B,C,...> [mllib true|false]")
    val Array(features, cls, vs) = args.take(3)
    val withMllib = args.length < 4 || args(3).toBoolean
    val allPairs = cls == "all-pairs"
    require(!(allPairs && withMllib), "all-pairs runs paws only: pass false for mllib")
    val comparison = if (allPairs) Array("--all-pairs") else Array("--class", cls, "--vs", vs)
    val drivers = if (args.length < 5) Seq("auto") else args(4).split(",").toSeq
    val spark = SparkSession.builder().appName("paws SweepBenchmark").getOrCreate()
    val sc = spark.sparkContext
    sc.setLogLevel("WARN")
    val splits = (1 to 9).map(_ / 10.0)
    try {
      // The first run pays the JVM's warm-up (as a spark-submit of one experiment does).
      for (driver <- drivers) {
        val out = Files.createTempDirectory("paws-sweep-bench-")
        sc.setLocalProperty(SgdDriver.DriverConf, driver)
        val t0 = System.nanoTime()
        val r = try {
          PetBreedExperiment.run(spark, Array("--features", features) ++ comparison ++
            Array("-o", out.toUri.toString))
        } finally sc.setLocalProperty(SgdDriver.DriverConf, null)
        val pawsSeconds = (System.nanoTime() - t0) / 1e9
        println(f"""{"engine":"paws on Spark ($driver)","master":"${sc.master}","models":${r.models},""" +
          f""""seconds":$pawsSeconds%.3f,"load_seconds":${r.loadSeconds}%.3f,"train_seconds":""" +
          f"""${r.trainSeconds}%.3f,"driver":"${r.sgdDriver}","rows":${r.rows},"cached_bytes":${r.cachedBytes},""" +
          f""""raw_bytes":${r.rawBytes}}""")
      }

      if (withMllib) {
        val df = spark.read.parquet(features)
        val others = if (vs == "all") None else Some(vs.split(",").toSet)
        val comparisons: Seq[Option[String]] = others match {
          case None => Seq(None)
          case Some(s) => s.toSeq.sorted.map(Some(_))
        }
        var models = 0
        var correct = 0L
        var total = 0L
        val t1 = System.nanoTime()
        for (other <- comparisons) {
          val rows = df.filter(other.fold(col("label").isNotNull)(o => col("label").isin(cls, o)))
            .select("label", "features").rdd
            .map(row => LabeledPoint(if (row.getString(0) == cls) 1.0 else 0.0,
              Vectors.dense(row.getSeq[Float](1).map(_.toDouble).toArray)))
            .persist(StorageLevel.MEMORY_ONLY)
          for ((s, k) <- splits.zipWithIndex) {
            val Array(train, test) = rows.randomSplit(Array(s, 1 - s), seed = 42L + k)
            train.cache()
            val model = SVMWithSGD.train(train, 100)
            correct += test.filter(p => model.predict(p.features) == p.label).count()
            total += test.count()
            train.unpersist()
            models += 1
          }
          rows.unpersist()
        }
        val mllibSeconds = (System.nanoTime() - t1) / 1e9
        println(f"""{"engine":"MLlib SVMWithSGD","master":"${sc.master}","models":$models,""" +
          f""""seconds":$mllibSeconds%.3f,"mean_accuracy_pct":${100.0 * correct / math.max(total, 1)}%.3f}""")
      }
    } finally {
      spark.stop()
    }
  }
}
