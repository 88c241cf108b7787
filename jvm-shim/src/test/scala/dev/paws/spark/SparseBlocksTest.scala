package dev.paws.spark

import java.util.Random

import dev.paws.spark.jni.NativeKernels
import org.apache.spark.mllib.classification.SVMWithSGD
import org.apache.spark.mllib.linalg.Vectors
import org.apache.spark.mllib.regression.{GeneralizedLinearModel, LabeledPoint}
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test

/**
 * Sparse blocks (`spark.paws.blockFormat`): the drop-ins train on them to the same bits
 * as on dense blocks of the same rows, auto picks them for mostly-zero rows, and a
 * `SparseVector` input of 100,000 features trains without a dense copy, as MLlib does.
 */
class SparseBlocksTest {
  import TestSpark._

  /**
   * `n` ReLU-like rows of `dim` features, about a sixth non-zero, half of them given as
   * `SparseVector`s (zeros left out) and half dense, labels from a noisy linear rule.
   */
  private def mostlyZero(n: Int, dim: Int, seed: Long): Array[LabeledPoint] = {
    val r = new Random(seed)
    val truth = Array.fill(dim)(r.nextGaussian())
    Array.tabulate(n) { i =>
      val x = Array.fill(dim)(if (r.nextInt(6) == 0) r.nextFloat().toDouble else 0.0)
      val m = x.zip(truth).map { case (a, b) => a * b }.sum + 0.3 * r.nextGaussian()
      LabeledPoint(if (m > 0) 1.0 else 0.0, if (i % 2 == 0) Vectors.dense(x).toSparse else Vectors.dense(x))
    }
  }

  private def withFormat[T](format: String)(f: => T): T = {
    sc.setLocalProperty(BlockFormat.Conf, format)
    try f finally sc.setLocalProperty(BlockFormat.Conf, null)
  }

  @Test
  def sparseAndDenseBlocksGiveTheSameWeightsBitForBit(): Unit = {
    // 103 features: three in the tail after the last multiple of 4. 3 partitions of 700
    // rows: chunks straddle partitions, so sparse pieces are joined (RowBlock.append).
    val input = rdd(mostlyZero(700, 103, seed = 11), 3)
    val cases = Seq[(String, () => NativeGLMWithSGD[_ <: GeneralizedLinearModel])](
      "SVM" -> (() => new NativeSVMWithSGD(1.0, 40, 0.01, 1.0)),
      "logistic" -> (() => new NativeLogisticRegressionWithSGD(1.0, 40, 0.01, 1.0)),
      "SVM + intercept, mini-batches" -> (() => new NativeSVMWithSGD(0.5, 40, 0.02, 0.5).setIntercept(true)),
      "logistic + intercept, mini-batches" ->
        (() => new NativeLogisticRegressionWithSGD(0.5, 40, 0.02, 0.5).setIntercept(true)))
    for ((what, alg) <- cases) {
      val auto = alg().runWithSummary(input, null)
      val sparse = withFormat("sparse")(alg().runWithSummary(input, null))
      val dense = withFormat("dense")(alg().runWithSummary(input, null))
      assertEquals("sparse", auto.blockFormat, s"$what: auto picks sparse blocks at 17 % non-zero")
      assertEquals("sparse", sparse.blockFormat, what)
      assertEquals("dense", dense.blockFormat, what)
      assertArrayEquals(dense.weights.toArray, sparse.weights.toArray, s"$what: weights")
      assertEquals(dense.intercept, sparse.intercept, s"$what: intercept")
      assertArrayEquals(dense.lossHistory, sparse.lossHistory, s"$what: loss history")
      assertArrayEquals(dense.weights.toArray, auto.weights.toArray, s"$what: weights (auto)")
      assertTrue(dense.updates >= 20 && dense.weights.toArray.exists(_ != 0.0), s"$what trained: $dense")
      println(s"SPARSE $what: sparse and dense blocks give the same bits: $sparse")
    }
  }

  @Test
  def aSparseInputOfManyFeaturesTrainsAsMLlibDoes(): Unit = {
    // 100,000 features, 20 non-zero a row: dense blocks would be 2,000 x 100,000 floats
    // (800 MB); sparse ones hold 40,000 values.
    val dim = 100000
    val r = new Random(5)
    val truth = Array.fill(dim)(r.nextGaussian())
    val points = Array.fill(2000) {
      val js = Array.fill(20)(r.nextInt(dim)).distinct.sorted
      val xs = js.map(_ => r.nextFloat().toDouble)
      val m = js.zip(xs).map { case (j, x) => truth(j) * x }.sum + 0.2 * r.nextGaussian()
      LabeledPoint(if (m > 0) 1.0 else 0.0, Vectors.sparse(dim, js, xs))
    }
    val input = rdd(points, 2)
    val mllib = SVMWithSGD.train(input, 50, 1.0, 0.01, 1.0)
    val alg = new NativeSVMWithSGD(1.0, 50, 0.01, 1.0)
    val paws = alg.run(input)
    val s = alg.lastSummary
    assertEquals("sparse", s.blockFormat, s.toString)
    val rel = maxRelDiff(paws.weights.toArray, mllib.weights.toArray)
    println(f"PARITY SVM on 2000 x $dim sparse rows: max relative weight difference $rel%.3e; $s")
    assertTrue(rel <= 1e-6, s"weights differ by $rel relative")
    assertArrayEquals(mllib.predict(input.map(_.features)).collect(), paws.predict(input.map(_.features)).collect())
  }

  @Test
  def autoPicksDenseBlocksForDenseRowsAndABadSettingIsNamed(): Unit = {
    val dense = rdd(points(50, 8, seed = 3), 1)
    assertEquals("dense", new NativeSVMWithSGD(1.0, 5, 0.01, 1.0).runWithSummary(dense, null).blockFormat)
    val input = rdd(mostlyZero(20, 8, seed = 3), 1)
    val e = assertThrows(classOf[IllegalArgumentException],
      () => withFormat("csr")(new NativeSVMWithSGD(1.0, 5, 0.01, 1.0).run(input)))
    assertTrue(e.getMessage.contains("spark.paws.blockFormat must be auto, dense or sparse, got 'csr'"),
      e.getMessage)
  }

  @Test
  def theNativeKernelNamesABadSparseBlock(): Unit = {
    val acc = NativeKernels.sweepAccCreate(1, 4)
    val w = NativeKernels.sweepWeightsOf(Array(0.1, 0.2, 0.3, 0.4, 0.0), 4)
    try {
      // Row 0 has one value, at feature 7 of 4.
      val e = assertThrows(classOf[IllegalArgumentException], () =>
        NativeKernels.sweepAccAddSparse(acc, NativeKernels.LOSS_HINGE, Array(0, 1, 1, 1, 1, 1), Array(7),
          Array(1f), 4, 0L, Array(0), Array(0, 1), Array(0L), Array(1.0), null, w, Array(0), 1, 1.0))
      assertTrue(e.getMessage.contains("entry 0 has feature index 7, outside 0..4"), e.getMessage)
      val e2 = assertThrows(classOf[IllegalArgumentException], () =>
        NativeKernels.sweepAccAddSparse(acc, NativeKernels.LOSS_HINGE, Array(0, 1, 1, 1), Array(0),
          Array(1f), 4, 0L, Array(0), Array(0, 1), Array(0L), Array(1.0), null, w, Array(0), 1, 1.0))
      assertTrue(e2.getMessage.contains("5 per row"), e2.getMessage)
    } finally {
      NativeKernels.sweepAccFree(acc)
      NativeKernels.sweepWeightsFree(w)
    }
  }
}
