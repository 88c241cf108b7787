"""`pyspark.mllib.classification`'s SGD trainers with the numerics in paws.

`NativeSVMWithSGD.train` and `NativeLogisticRegressionWithSGD.train` take the
arguments of `SVMWithSGD.train` and `LogisticRegressionWithSGD.train` (names, order,
defaults) and return the same `pyspark.mllib` models; they train with the Scala
drop-ins of the jar, which give MLlib's weights.
"""

from __future__ import annotations

from typing import Any, Optional, Type, TypeVar

from ._jvm import jvm_class

M = TypeVar("M")


def _train(
    scala_class: str,
    model_class: Type[M],
    data: Any,
    iterations: int,
    step: float,
    regParam: float,
    miniBatchFraction: float,
    initialWeights: Any,
    regType: Optional[str],
    intercept: bool,
    validateData: bool,
    convergenceTol: float,
) -> M:
    from pyspark.mllib.common import _java2py, _py2java
    from pyspark.mllib.linalg import _convert_to_vector
    from pyspark.mllib.regression import LabeledPoint

    sc = data.context
    algo = jvm_class(sc, scala_class)()
    first = data.first()
    if not isinstance(first, LabeledPoint):
        raise TypeError(f"data should be an RDD of LabeledPoint, but got {type(first)}")
    # regType None is MLlib's SimpleUpdater, which paws calls "none".
    algo.setNumIterations(int(iterations)).setStepSize(float(step)).setRegParam(float(regParam))
    algo.setMiniBatchFraction(float(miniBatchFraction)).setConvergenceTol(float(convergenceTol))
    algo.setUpdater("none" if regType is None else str(regType))
    algo.setIntercept(bool(intercept)).setValidateData(bool(validateData))

    # The rows as JVM LabeledPoints, through MLlib's own pickling (as SVMWithSGD.train
    # does), cached for the passes as MLlib's Python API caches them.
    jrdd = _py2java(sc, data)
    jrdd.persist(sc._jvm.org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK())
    try:
        initial = None if initialWeights is None else _py2java(sc, _convert_to_vector(initialWeights))
        jmodel = algo.run(jrdd.rdd(), initial)
    finally:
        jrdd.unpersist(False)
    weights = _java2py(sc, jmodel.weights())
    return _model(model_class, weights, float(jmodel.intercept()))


def _model(model_class: Any, weights: Any, intercept: float) -> Any:
    from pyspark.mllib.classification import LogisticRegressionModel

    if model_class is LogisticRegressionModel:
        return LogisticRegressionModel(weights, intercept, len(weights), 2)
    return model_class(weights, intercept)


class NativeSVMWithSGD:
    """`pyspark.mllib.classification.SVMWithSGD` with the paws native core."""

    @classmethod
    def train(
        cls,
        data: Any,
        iterations: int = 100,
        step: float = 1.0,
        regParam: float = 0.01,
        miniBatchFraction: float = 1.0,
        initialWeights: Any = None,
        regType: Optional[str] = "l2",
        intercept: bool = False,
        validateData: bool = True,
        convergenceTol: float = 0.001,
    ) -> Any:
        """Trains a linear SVM on an RDD of LabeledPoint; returns an `SVMModel`."""
        from pyspark.mllib.classification import SVMModel

        return _train(
            "dev.paws.spark.NativeSVMWithSGD", SVMModel, data, iterations, step, regParam,
            miniBatchFraction, initialWeights, regType, intercept, validateData, convergenceTol,
        )


class NativeLogisticRegressionWithSGD:
    """`pyspark.mllib.classification.LogisticRegressionWithSGD` with the paws native core."""

    @classmethod
    def train(
        cls,
        data: Any,
        iterations: int = 100,
        step: float = 1.0,
        miniBatchFraction: float = 1.0,
        initialWeights: Any = None,
        regParam: float = 0.01,
        regType: Optional[str] = "l2",
        intercept: bool = False,
        validateData: bool = True,
        convergenceTol: float = 0.001,
    ) -> Any:
        """Trains a logistic regression on an RDD of LabeledPoint; returns a
        `LogisticRegressionModel` (binary)."""
        from pyspark.mllib.classification import LogisticRegressionModel

        return _train(
            "dev.paws.spark.NativeLogisticRegressionWithSGD", LogisticRegressionModel, data,
            iterations, step, regParam, miniBatchFraction, initialWeights, regType, intercept,
            validateData, convergenceTol,
        )
