package dev.paws.spark

import dev.paws.spark.jni.{NativeContract, NativeKernels}
import org.apache.spark.api.java.JavaRDD
import org.apache.spark.mllib.classification.LogisticRegressionModel
import org.apache.spark.mllib.linalg.Vector
import org.apache.spark.mllib.regression.LabeledPoint
import org.apache.spark.rdd.RDD

/**
 * A drop-in for MLlib's `LogisticRegressionWithSGD` (binary `LogisticGradient`,
 * `SquaredL2Updater`; deprecated in Spark but still the model the published results
 * used): the same parameters and defaults (MLlib's, as the native library states them:
 * [[NativeContract]]), the numerics in the paws native core. The model's threshold is
 * MLlib's default, 0.5.
 */
class NativeLogisticRegressionWithSGD
  extends NativeGLMWithSGD[LogisticRegressionModel](NativeKernels.LOSS_LOGISTIC, "logistic") {

  def this(stepSize: Double, numIterations: Int, regParam: Double, miniBatchFraction: Double) = {
    this()
    setStepSize(stepSize).setNumIterations(numIterations).setRegParam(regParam)
      .setMiniBatchFraction(miniBatchFraction)
  }

  override protected def createModel(weights: Vector, intercept: Double): LogisticRegressionModel =
    new LogisticRegressionModel(weights, intercept)
}

/**
 * `train` overloads shaped like `SVMWithSGD.train` (Spark 3 has no
 * `LogisticRegressionWithSGD.train`), plus Java-friendly ones taking a `JavaRDD`.
 */
object NativeLogisticRegressionWithSGD {
  def train(
      input: RDD[LabeledPoint],
      numIterations: Int,
      stepSize: Double,
      regParam: Double,
      miniBatchFraction: Double,
      initialWeights: Vector): LogisticRegressionModel =
    new NativeLogisticRegressionWithSGD(stepSize, numIterations, regParam, miniBatchFraction)
      .run(input, initialWeights)

  def train(
      input: RDD[LabeledPoint],
      numIterations: Int,
      stepSize: Double,
      regParam: Double,
      miniBatchFraction: Double): LogisticRegressionModel =
    new NativeLogisticRegressionWithSGD(stepSize, numIterations, regParam, miniBatchFraction)
      .run(input)

  def train(
      input: RDD[LabeledPoint],
      numIterations: Int,
      stepSize: Double,
      regParam: Double): LogisticRegressionModel =
    new NativeLogisticRegressionWithSGD().setNumIterations(numIterations).setStepSize(stepSize).setRegParam(regParam).run(input)

  def train(input: RDD[LabeledPoint], numIterations: Int): LogisticRegressionModel =
    new NativeLogisticRegressionWithSGD().setNumIterations(numIterations).run(input)

  def train(
      input: JavaRDD[LabeledPoint],
      numIterations: Int,
      stepSize: Double,
      regParam: Double,
      miniBatchFraction: Double,
      initialWeights: Vector): LogisticRegressionModel =
    train(input.rdd, numIterations, stepSize, regParam, miniBatchFraction, initialWeights)

  def train(
      input: JavaRDD[LabeledPoint],
      numIterations: Int,
      stepSize: Double,
      regParam: Double,
      miniBatchFraction: Double): LogisticRegressionModel =
    train(input.rdd, numIterations, stepSize, regParam, miniBatchFraction)

  def train(input: JavaRDD[LabeledPoint], numIterations: Int): LogisticRegressionModel =
    train(input.rdd, numIterations)
}
