package dev.paws.spark

import dev.paws.spark.jni.NativeKernels
import scala.collection.mutable.ArrayBuffer

import org.apache.spark.mllib.classification.{LogisticRegressionModel, MLlibAccess, SVMModel, SVMWithSGD}
import org.apache.spark.mllib.linalg.{Vector, Vectors}
import org.apache.spark.mllib.optimization.{GradientDescent, HingeGradient, LogisticGradient, SquaredL2Updater}
import org.apache.spark.mllib.regression.{GeneralizedLinearModel, LabeledPoint}
import org.apache.spark.scheduler.{SparkListener, SparkListenerJobStart}
import org.apache.spark.storage.StorageLevel
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test

/** NativeSVMWithSGD / NativeLogisticRegressionWithSGD against MLlib on the same RDD. */
class ParityTest {
  import TestSpark._

  private val Tol = 1e-6
  private val data = points(600, 50, seed = 7)
  // 3 partitions of 200 rows: chunks 0 and 1 straddle partition boundaries.
  private val input = rdd(data, 3)

  private def assertParity(
      what: String,
      paws: GeneralizedLinearModel,
      mllib: GeneralizedLinearModel): Unit = {
    val rel = maxRelDiff(paws.weights.toArray, mllib.weights.toArray)
    val relB = maxRelDiff(Array(paws.intercept), Array(mllib.intercept))
    // Read by scripts/test-spark.sh and quoted in reports.
    println(f"PARITY $what: max relative weight difference $rel%.3e, intercept $relB%.3e")
    assertTrue(rel <= Tol, s"$what: weights differ by $rel relative")
    assertTrue(relB <= Tol, s"$what: intercepts differ by $relB relative " +
      s"(${paws.intercept} vs ${mllib.intercept})")
    val p1 = paws.predict(input.map(_.features)).collect()
    val p2 = mllib.predict(input.map(_.features)).collect()
    assertArrayEquals(p2, p1, s"$what: predictions")
    // The test data must exercise both classes.
    assertTrue(p1.toSet == Set(0.0, 1.0), s"$what: predicts one class only")
  }

  /** MLlib's own loop, for the loss history. */
  private def mllibLossHistory(gradient: org.apache.spark.mllib.optimization.Gradient,
      iters: Int, step: Double, reg: Double): Array[Double] =
    GradientDescent.runMiniBatchSGD(input.map(lp => (lp.label, lp.features)), gradient,
      new SquaredL2Updater, step, iters, reg, 1.0, Vectors.zeros(50), 0.001)._2

  @Test
  def svmMatchesMLlib(): Unit = {
    // Warm both paths up first, then time them (medians would need more runs; this is
    // one indicative number per run, printed, not asserted).
    SVMWithSGD.train(input, 10, 1.0, 0.01, 1.0)
    NativeSVMWithSGD.train(input, 10, 1.0, 0.01, 1.0)
    val t0 = System.nanoTime()
    val mllib = SVMWithSGD.train(input, 100, 1.0, 0.01, 1.0)
    val t1 = System.nanoTime()
    val alg = new NativeSVMWithSGD(1.0, 100, 0.01, 1.0)
    val paws = alg.run(input)
    val t2 = System.nanoTime()
    println(f"TIMING SVM 100 iterations, 600 x 50, local[2]: MLlib ${(t1 - t0) / 1e9}%.2f s, " +
      f"paws ${(t2 - t1) / 1e9}%.2f s")
    assertTrue(paws.isInstanceOf[SVMModel])
    assertParity("SVM", paws, mllib)
    val expect = mllibLossHistory(new HingeGradient, 100, 1.0, 0.01)
    val got = alg.lastSummary.lossHistory
    assertEquals(expect.length, got.length, "passes (convergence at the same iteration)")
    assertTrue(maxRelDiff(got, expect) < 1e-9, s"loss history ${maxRelDiff(got, expect)}")
    println(s"PARITY SVM: ${alg.lastSummary}")
  }

  @Test
  def logisticMatchesMLlib(): Unit = {
    val mllib = MLlibAccess.logisticWithSGD(1.0, 100, 0.01, 1.0).run(input)
    val alg = new NativeLogisticRegressionWithSGD(1.0, 100, 0.01, 1.0)
    val paws = alg.run(input)
    assertTrue(paws.isInstanceOf[LogisticRegressionModel])
    assertEquals(0.5, paws.asInstanceOf[LogisticRegressionModel].getThreshold.get)
    assertParity("logistic", paws, mllib)
    val expect = mllibLossHistory(new LogisticGradient, 100, 1.0, 0.01)
    val got = alg.lastSummary.lossHistory
    assertEquals(expect.length, got.length, "passes (convergence at the same iteration)")
    assertTrue(maxRelDiff(got, expect) < 1e-9, s"loss history ${maxRelDiff(got, expect)}")
    println(s"PARITY logistic: ${alg.lastSummary}")
  }

  @Test
  def earlyConvergenceAtTheSameIteration(): Unit = {
    // A strong regularisation: MLlib's convergence test stops the loop early.
    for ((gradient, alg) <- Seq[(org.apache.spark.mllib.optimization.Gradient, NativeGLMWithSGD[_ <: GeneralizedLinearModel])](
        (new HingeGradient, new NativeSVMWithSGD(1.0, 100, 0.3, 1.0)),
        (new LogisticGradient, new NativeLogisticRegressionWithSGD(1.0, 100, 0.3, 1.0)))) {
      val m = alg.run(input)
      val s = alg.lastSummary
      val (w, expect) = GradientDescent.runMiniBatchSGD(input.map(lp => (lp.label, lp.features)),
        gradient, new SquaredL2Updater, 1.0, 100, 0.3, 1.0, Vectors.zeros(50), 0.001)
      assertTrue(s.converged && s.passes < 100, s.toString)
      assertEquals(expect.length, s.lossHistory.length, s"passes: $s")
      val rel = maxRelDiff(m.weights.toArray, w.toArray)
      println(f"PARITY ${gradient.getClass.getSimpleName} converged after ${s.passes} passes: " +
        f"max relative weight difference $rel%.3e")
      assertTrue(rel <= Tol, s"weights differ by $rel")
    }
  }

  @Test
  def interceptMatchesMLlib(): Unit = {
    val svm = new SVMWithSGD().setIntercept(true)
    svm.optimizer.setNumIterations(60).setStepSize(0.5).setRegParam(0.02).setMiniBatchFraction(1.0)
    val mSvm = svm.run(input)
    val pSvm = new NativeSVMWithSGD(0.5, 60, 0.02, 1.0).setIntercept(true).run(input)
    assertNotEquals(0.0, pSvm.intercept)
    assertParity("SVM+intercept", pSvm, mSvm)

    val lr = MLlibAccess.logisticWithSGD(0.5, 60, 0.02, 1.0)
    lr.setIntercept(true)
    val mLr = lr.run(input)
    val pLr = new NativeLogisticRegressionWithSGD(0.5, 60, 0.02, 1.0).setIntercept(true).run(input)
    assertParity("logistic+intercept", pLr, mLr)
  }

  @Test
  def initialWeightsMatchMLlib(): Unit = {
    val init = Vectors.dense(Array.tabulate(50)(j => 0.01 * (j % 7) - 0.02))
    val mllib = SVMWithSGD.train(input, 30, 0.3, 0.1, 1.0, init)
    val paws = NativeSVMWithSGD.train(input, 30, 0.3, 0.1, 1.0, init)
    assertParity("SVM+initialWeights", paws, mllib)
  }

  @Test
  def sameBitsForAnyPartitioning(): Unit = {
    // Bit-identical weights whatever the partitioning (chunks straddling partitions are
    // reassembled), also with a sampled mini-batch. That these are the in-process
    // engine's bits is PetBreedExperimentTest's check (the Spark table and models against
    // the CLI's), through the same driver.
    for ((fraction, loss) <- Seq((1.0, "SVM"), (0.4, "SVM"), (1.0, "logistic"))) {
      val runs = for (parts <- Seq(1, 2, 3, 7)) yield {
        val r = rdd(data, parts)
        try {
          val alg =
            if (loss == "SVM") new NativeSVMWithSGD(1.0, 25, 0.01, fraction)
            else new NativeLogisticRegressionWithSGD(1.0, 25, 0.01, fraction)
          val m = alg.setIntercept(true).run(r)
          m.weights.toArray :+ m.intercept
        } finally r.unpersist()
      }
      for (w <- runs.tail) assertArrayEquals(runs.head, w, s"$loss fraction $fraction")
    }
  }

  @Test
  def cachedBlocksKeepTheInputPartitions(): Unit = {
    // Straddling chunks join a partition of the input instead of adding partitions (and,
    // with them, a treeAggregate shuffle stage per pass); empty partitions are fine.
    for ((rows, parts) <- Seq((600, 7), (600, 1), (300, 16), (1000, 3))) {
      val r = rdd(data.take(rows), parts)
      val prepared = LabeledInput.toBlocks(r, validateLabels = true, StorageLevel.MEMORY_ONLY)
      try {
        assertEquals(parts, prepared.blocks.getNumPartitions, s"$rows rows in $parts partitions")
        val chunks = prepared.blocks.map(b => (b.firstRow, b.numRows)).collect().sortBy(_._1)
        val C = NativeKernels.CHUNK_ROWS
        val expected = (0 until math.min(rows, data.length) by C)
          .map(s => (s.toLong, math.min(C, math.min(rows, data.length) - s))).toSeq
        assertEquals(expected, chunks.toSeq, "each chunk whole, once")
      } finally {
        prepared.blocks.unpersist()
        r.unpersist()
      }
    }
  }

  @Test
  def sparseRowsGiveTheDenseResult(): Unit = {
    val sparse = data.map(p => LabeledPoint(p.label, p.features.toSparse))
    val r = rdd(sparse, 2)
    try {
      val a = NativeSVMWithSGD.train(r, 20, 1.0, 0.01, 1.0)
      val b = NativeSVMWithSGD.train(input, 20, 1.0, 0.01, 1.0)
      assertArrayEquals(b.weights.toArray, a.weights.toArray)
    } finally r.unpersist()
  }

  @Test
  def jobsAreDescribedAndBlocksUnpersisted(): Unit = {
    val descriptions = ArrayBuffer[String]()
    val listener = new SparkListener {
      override def onJobStart(e: SparkListenerJobStart): Unit = descriptions.synchronized {
        descriptions += Option(e.properties).map(_.getProperty("spark.job.description")).orNull
      }
    }
    sc.addSparkListener(listener)
    val before = sc.getPersistentRDDs.keySet
    try {
      NativeSVMWithSGD.train(input, 5, 1.0, 0.01, 1.0)
      // Listener events arrive asynchronously.
      val deadline = System.nanoTime() + 10000000000L
      while (!descriptions.synchronized(descriptions.exists(s => s != null && s.contains("6/5")))
          && System.nanoTime() < deadline) Thread.sleep(20)
    } finally sc.removeSparkListener(listener)
    val d = descriptions.synchronized(descriptions.toList)
    assertTrue(d.contains("paws: SVM iteration 1/5"), d.mkString("\n"))
    assertTrue(d.contains("paws: SVM iteration 6/5 (final loss)"), d.mkString("\n"))
    assertEquals(before, sc.getPersistentRDDs.keySet, "blocks unpersisted")
    assertNull(sc.getLocalProperty("spark.jobGroup.id"), "job group restored")
    assertEquals(0, NativeKernels.sgdLiveHandles(), "SGD states freed")
  }
}
