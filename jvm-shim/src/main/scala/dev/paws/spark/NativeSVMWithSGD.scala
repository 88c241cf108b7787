package dev.paws.spark

import dev.paws.spark.jni.{NativeContract, NativeKernels}
import org.apache.spark.api.java.JavaRDD
import org.apache.spark.mllib.classification.SVMModel
import org.apache.spark.mllib.linalg.Vector
import org.apache.spark.mllib.regression.LabeledPoint
import org.apache.spark.rdd.RDD

/**
 * A drop-in for MLlib's `SVMWithSGD` (hinge loss, `SquaredL2Updater`): the same
 * parameters and defaults (MLlib's, as the native library states them:
 * [[NativeContract]]), the numerics in the paws native core.
 */
class NativeSVMWithSGD
  extends NativeGLMWithSGD[SVMModel](NativeKernels.LOSS_HINGE, "SVM") {

  def this(stepSize: Double, numIterations: Int, regParam: Double, miniBatchFraction: Double) = {
    this()
    setStepSize(stepSize).setNumIterations(numIterations).setRegParam(regParam)
      .setMiniBatchFraction(miniBatchFraction)
  }

  override protected def createModel(weights: Vector, intercept: Double): SVMModel =
    new SVMModel(weights, intercept)
}

/** The `SVMWithSGD.train` overloads, plus Java-friendly ones taking a `JavaRDD`. */
object NativeSVMWithSGD {
  def train(
      input: RDD[LabeledPoint],
      numIterations: Int,
      stepSize: Double,
      regParam: Double,
      miniBatchFraction: Double,
      initialWeights: Vector): SVMModel =
    new NativeSVMWithSGD(stepSize, numIterations, regParam, miniBatchFraction)
      .run(input, initialWeights)

  def train(
      input: RDD[LabeledPoint],
      numIterations: Int,
      stepSize: Double,
      regParam: Double,
      miniBatchFraction: Double): SVMModel =
    new NativeSVMWithSGD(stepSize, numIterations, regParam, miniBatchFraction).run(input)

  def train(
      input: RDD[LabeledPoint],
      numIterations: Int,
      stepSize: Double,
      regParam: Double): SVMModel =
    new NativeSVMWithSGD().setNumIterations(numIterations).setStepSize(stepSize).setRegParam(regParam).run(input)

  def train(input: RDD[LabeledPoint], numIterations: Int): SVMModel =
    new NativeSVMWithSGD().setNumIterations(numIterations).run(input)

  def train(
      input: JavaRDD[LabeledPoint],
      numIterations: Int,
      stepSize: Double,
      regParam: Double,
      miniBatchFraction: Double,
      initialWeights: Vector): SVMModel =
    train(input.rdd, numIterations, stepSize, regParam, miniBatchFraction, initialWeights)

  def train(
      input: JavaRDD[LabeledPoint],
      numIterations: Int,
      stepSize: Double,
      regParam: Double,
      miniBatchFraction: Double): SVMModel =
    train(input.rdd, numIterations, stepSize, regParam, miniBatchFraction)

  def train(input: JavaRDD[LabeledPoint], numIterations: Int): SVMModel =
    train(input.rdd, numIterations)
}
