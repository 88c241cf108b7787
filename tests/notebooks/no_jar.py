"""paws_spark in a session without the paws jar (test_python_package starts it in the
background, conftest.py): both entry points must raise PawsJarMissing; prints their
messages and exits 3."""

import sys

from pyspark.mllib.linalg import Vectors
from pyspark.mllib.regression import LabeledPoint
from pyspark.sql import SparkSession

import paws_spark

spark = (
    SparkSession.builder.master("local[1]")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .config("spark.driver.host", "127.0.0.1")
    .getOrCreate()
)
raised = 0
try:
    try:
        paws_spark.experiment(spark, class_="Abyssinian", vs="all", output="unused")
    except paws_spark.PawsJarMissing as e:
        print(f"experiment: {e}")
        raised += 1
    rdd = spark.sparkContext.parallelize([LabeledPoint(1.0, Vectors.dense([1.0]))])
    try:
        paws_spark.NativeSVMWithSGD.train(rdd)
    except paws_spark.PawsJarMissing as e:
        print(f"train: {e}")
        raised += 1
finally:
    spark.stop()
sys.exit(3 if raised == 2 else 1)
