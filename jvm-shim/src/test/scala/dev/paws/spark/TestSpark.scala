package dev.paws.spark

import java.util.Random

import org.apache.spark.{SparkConf, SparkContext}
import org.apache.spark.mllib.linalg.{Vector, Vectors}
import org.apache.spark.mllib.regression.LabeledPoint
import org.apache.spark.rdd.RDD

/** One local[2] SparkContext for all test classes of the JVM. */
object TestSpark {
  lazy val sc: SparkContext = {
    val conf = new SparkConf()
      .setMaster("local[2]")
      .setAppName("paws-jvm-shim-tests")
      .set("spark.ui.enabled", "false")
      .set("spark.driver.host", "127.0.0.1")
      .set("spark.driver.bindAddress", "127.0.0.1")
    val sc = new SparkContext(conf)
    sc.setLogLevel("WARN")
    sys.addShutdownHook(sc.stop())
    sc
  }

  /**
   * `n` rows of `dim` float-representable features in [-1, 1) and 0/1 labels from a
   * noisy linear rule (with an offset, so the classes are unbalanced).
   */
  def points(n: Int, dim: Int, seed: Long): Array[LabeledPoint] = {
    val r = new Random(seed)
    val truth = Array.fill(dim)(r.nextGaussian())
    Array.fill(n) {
      val x = Array.fill(dim)((r.nextFloat() * 2f - 1f).toDouble)
      val m = x.zip(truth).map { case (a, b) => a * b }.sum + 0.5 * r.nextGaussian() + 0.4
      LabeledPoint(if (m > 0) 1.0 else 0.0, Vectors.dense(x))
    }
  }

  def rdd(points: Array[LabeledPoint], partitions: Int): RDD[LabeledPoint] =
    sc.parallelize(points.toSeq, partitions).cache()

  /** max_i |a_i - b_i| / |b_i| (b_i = 0 counts the absolute difference). */
  def maxRelDiff(a: Array[Double], b: Array[Double]): Double = {
    require(a.length == b.length, s"${a.length} vs ${b.length}")
    a.zip(b).map { case (x, y) =>
      val d = math.abs(x - y)
      if (y == 0.0) d else d / math.abs(y)
    }.foldLeft(0.0)(math.max)
  }

  def features(points: Array[LabeledPoint]): Array[Vector] = points.map(_.features)

  /** Row-major float32 rows and labels, for the native kernels directly. */
  def matrix(points: Array[LabeledPoint]): (Array[Float], Array[Double]) = {
    val dim = points.head.features.size
    val rows = new Array[Float](points.length * dim)
    for ((p, i) <- points.zipWithIndex; j <- 0 until dim) rows(i * dim + j) = p.features(j).toFloat
    (rows, points.map(_.label))
  }
}
