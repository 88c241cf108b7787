package dev.paws.spark

import dev.paws.spark.jni.NativeKernels
import java.nio.file.{Files, Paths}

import org.apache.spark.mllib.classification.{LogisticRegressionModel, SVMModel}
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test

/** The returned models are MLlib's own: save, load and predict unchanged. */
class ModelIoTest {
  import TestSpark._

  private val data = points(400, 12, 21)
  private val input = rdd(data, 2)

  private def dir(name: String): String = {
    val base = Paths.get(System.getProperty("java.io.tmpdir")).resolve("paws-model-io")
    Files.createDirectories(base)
    Files.createTempDirectory(base, name).resolve("model").toString
  }

  @Test
  def svmModelSavesAndLoads(): Unit = {
    val m = NativeSVMWithSGD.train(input, 30, 1.0, 0.01, 1.0)
    val path = dir("svm")
    m.save(sc, path)
    val back = SVMModel.load(sc, path)
    assertArrayEquals(m.weights.toArray, back.weights.toArray)
    assertEquals(m.intercept, back.intercept)
    assertEquals(m.getThreshold, back.getThreshold)
    val f = input.map(_.features)
    assertArrayEquals(m.predict(f).collect(), back.predict(f).collect())
  }

  @Test
  def logisticModelSavesAndLoads(): Unit = {
    val m = new NativeLogisticRegressionWithSGD(1.0, 30, 0.01, 1.0).setIntercept(true).run(input)
    val path = dir("logistic")
    m.save(sc, path)
    val back = LogisticRegressionModel.load(sc, path)
    assertArrayEquals(m.weights.toArray, back.weights.toArray)
    assertEquals(m.intercept, back.intercept)
    val f = input.map(_.features)
    assertArrayEquals(m.predict(f).collect(), back.predict(f).collect())
  }

  @Test
  def nativeEvaluationAgreesWithTheModel(): Unit = {
    val m = NativeSVMWithSGD.train(input, 30, 1.0, 0.01, 1.0)
    val (rows, labels) = matrix(data)
    val c = NativeKernels.confusionSelected(NativeKernels.LOSS_HINGE, rows, 12, 0L, data.indices.map(_.toLong).toArray,
      labels, m.weights.toArray, m.intercept, 0.0)
    val pred = data.map(p => m.predict(p.features))
    val tp = data.indices.count(i => labels(i) == 1 && pred(i) == 1).toLong
    val fp = data.indices.count(i => labels(i) == 0 && pred(i) == 1).toLong
    assertArrayEquals(Array(tp, fp, data.count(_.label == 0) - fp, data.count(_.label == 1) - tp), c)
  }
}
