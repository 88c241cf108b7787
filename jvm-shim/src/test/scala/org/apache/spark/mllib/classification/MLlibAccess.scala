package org.apache.spark.mllib.classification

/** Test access to MLlib's LogisticRegressionWithSGD, whose constructor is private[mllib]. */
object MLlibAccess {
  def logisticWithSGD(
      stepSize: Double,
      numIterations: Int,
      regParam: Double,
      miniBatchFraction: Double): LogisticRegressionWithSGD =
    new LogisticRegressionWithSGD(stepSize, numIterations, regParam, miniBatchFraction)
}
