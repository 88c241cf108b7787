"""paws for PySpark: the paws-spark jar's MLlib drop-ins and pet-breed experiment,
through py4j. The jar must be on the session's classpath (`--jars`, `spark.jars`);
calls without it raise `PawsJarMissing`, saying how to add it.

    import paws_spark
    table = paws_spark.experiment(spark, class_="Abyssinian", vs="all", output="out")
    model = paws_spark.NativeSVMWithSGD.train(rdd, iterations=100)
"""

from ._jvm import JAR_NAME, PawsJarMissing, jvm_class
from .classification import NativeLogisticRegressionWithSGD, NativeSVMWithSGD
from ._experiment import ExperimentResult, cli_args, experiment, run_experiment

__version__ = "0.1.0"


def check_jar(spark) -> None:
    """Raises PawsJarMissing unless the paws-spark jar is on `spark`'s classpath."""
    jvm_class(spark.sparkContext, "dev.paws.spark.PetBreedExperiment")


__all__ = [
    "JAR_NAME",
    "PawsJarMissing",
    "NativeSVMWithSGD",
    "NativeLogisticRegressionWithSGD",
    "ExperimentResult",
    "check_jar",
    "cli_args",
    "experiment",
    "run_experiment",
]
