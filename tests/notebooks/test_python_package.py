"""The paws_spark package (python/, installed with pip): its drop-ins give MLlib's
models (pyspark.mllib is the oracle: the same weights as SVMWithSGD bit for bit, as
LogisticRegressionWithSGD to 1e-12), its experiment's DataFrame is results.csv, and a
session without the jar gets a clear error."""

from __future__ import annotations

import random
import struct
import warnings

import pytest

import paws_spark
from notelib import SAMPLE, results_csv


def f32(x: float) -> float:
    """x rounded to float32: paws caches features as float32, MLlib keeps doubles, and
    the two agree bit for bit on float32-representable data."""
    return struct.unpack("f", struct.pack("f", x))[0]


@pytest.fixture(scope="module")
def points(spark):
    from pyspark.mllib.linalg import Vectors
    from pyspark.mllib.regression import LabeledPoint

    r = random.Random(7)
    truth = [r.gauss(0, 1) for _ in range(12)]
    rows = []
    for _ in range(400):
        x = [f32(r.uniform(-1, 1)) for _ in truth]
        margin = sum(a * b for a, b in zip(x, truth)) + 0.5 * r.gauss(0, 1) + 0.4
        rows.append(LabeledPoint(1.0 if margin > 0 else 0.0, Vectors.dense(x)))
    rdd = spark.sparkContext.parallelize(rows, 3).cache()
    yield rdd
    rdd.unpersist()


def test_svm_is_mllibs(points):
    from pyspark.mllib.classification import SVMModel, SVMWithSGD

    kwargs = dict(iterations=20, step=0.5, regParam=0.05, miniBatchFraction=1.0)
    paws = paws_spark.NativeSVMWithSGD.train(points, **kwargs)
    mllib = SVMWithSGD.train(points, **kwargs)
    assert type(paws) is SVMModel
    assert list(paws.weights) == list(mllib.weights)
    assert paws.intercept == mllib.intercept == 0.0
    features = points.map(lambda p: p.features)
    assert paws.predict(features).collect() == mllib.predict(features).collect()


def test_svm_options_reach_the_trainer(points):
    from pyspark.mllib.classification import SVMWithSGD

    # l1 with an intercept and initial weights: every option must reach the JVM, or the
    # weights would differ.
    kwargs = dict(iterations=10, step=1.0, regParam=0.01, regType="l1", intercept=True,
                  initialWeights=[0.1] * 12)
    paws = paws_spark.NativeSVMWithSGD.train(points, **kwargs)
    mllib = SVMWithSGD.train(points, **kwargs)
    assert list(paws.weights) == list(mllib.weights)
    assert paws.intercept == mllib.intercept != 0.0


def test_logistic_is_mllibs(points):
    from pyspark.mllib.classification import LogisticRegressionModel, LogisticRegressionWithSGD

    kwargs = dict(iterations=15, step=1.0, miniBatchFraction=1.0, regParam=0.01, intercept=True)
    paws = paws_spark.NativeLogisticRegressionWithSGD.train(points, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # deprecated in pyspark, still MLlib
        mllib = LogisticRegressionWithSGD.train(points, **kwargs)
    assert type(paws) is LogisticRegressionModel
    assert paws.numFeatures == 12 and paws.numClasses == 2
    for a, b in zip(list(paws.weights) + [paws.intercept], list(mllib.weights) + [mllib.intercept]):
        assert abs(a - b) <= 1e-12 * abs(b), (a, b)


def test_not_labeled_points_is_a_type_error(spark):
    rdd = spark.sparkContext.parallelize([(1.0, [0.0, 1.0])])
    with pytest.raises(TypeError, match="RDD of LabeledPoint"):
        paws_spark.NativeSVMWithSGD.train(rdd)


def test_experiment_returns_results_csv(spark, tmp_path):
    out = tmp_path / "out"
    table = paws_spark.experiment(spark, features=str(SAMPLE), class_="Abyssinian", vs=["Bengal"],
                                  splits=[0.3, 0.7], iterations=5, output=str(out))
    header, rows = results_csv(out)
    assert table.columns == header
    dtypes = dict(table.dtypes)
    assert (dtypes["class1"], dtypes["split"], dtypes["nb_train"], dtypes["iterations"]) == \
        ("string", "double", "bigint", "int")
    assert [r.asDict() for r in table.collect()] == rows


def test_cli_args():
    assert paws_spark.cli_args(class_="Abyssinian", vs=["Bengal", "Sphynx"], splits=[0.3, 0.7],
                               reg_param=0.1, intercept=True, class_weighting=False, features=None) == \
        ["--class", "Abyssinian", "--vs", "Bengal,Sphynx", "--splits", "0.3,0.7", "--reg-param", "0.1",
         "--intercept"]


def test_without_the_jar_calls_say_so(background):
    # no_jar.py: a PySpark session started without spark.jars.
    run = background.wait("no-jar", timeout=240)
    assert run.returncode == 3, run.stdout + run.stderr[-4000:]
    for call, cls in (("experiment", "PetBreedExperiment"), ("train", "NativeSVMWithSGD")):
        assert f"{call}: paws_spark: the class dev.paws.spark.{cls} is not on this Spark session's classpath" \
            in run.stdout, run.stdout
    assert "pyspark --jars /path/to/paws-spark-0.1.0.jar" in run.stdout, run.stdout


def test_a_missing_class_is_said_plainly(spark):
    # py4j answers an unknown class with a JavaPackage; the lookup must not accept it.
    with pytest.raises(paws_spark.PawsJarMissing) as e:
        paws_spark.jvm_class(spark.sparkContext, "dev.paws.spark.NoSuchClass")
    message = str(e.value)
    assert "dev.paws.spark.NoSuchClass" in message
    assert "--jars /path/to/paws-spark-0.1.0.jar" in message and "spark.jars" in message
    paws_spark.check_jar(spark)  # the real jar is there
