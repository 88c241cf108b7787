"""The pet-breed experiment (`paws experiment`) from PySpark."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List

from ._jvm import jvm_class

EXPERIMENT_CLASS = "dev.paws.spark.PetBreedExperiment"


def cli_args(**options: Any) -> List[str]:
    """`paws experiment`'s command line from keyword arguments.

    `class_="Abyssinian"` is `--class Abyssinian` (a trailing underscore avoids Python's
    keywords), `reg_param=0.1` is `--reg-param 0.1`, a list is comma-separated
    (`vs=["Bengal", "Sphynx"]`, `splits=[0.3, 0.7]`), True is a flag (`intercept=True`),
    and None or False leaves the option out (the CLI's default).
    """
    args: List[str] = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + name.rstrip("_").replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag, ",".join(str(v) for v in value)]
        else:
            args += [flag, str(value)]
    return args


@dataclass
class ExperimentResult:
    """What `run_experiment` returns."""

    table: Any  # pyspark.sql.DataFrame: results.csv, typed
    best_models: Dict[str, Any]  # "Abyssinian_vs_Bengal" -> SVMModel / LogisticRegressionModel
    output: str  # the output folder (Hadoop path)
    plot_path: str  # accuracy.png in the output folder
    plot_png: bytes = field(repr=False)
    java: Any = field(repr=False)  # dev.paws.spark.ExperimentResult

    def plot_html(self) -> str:
        """The plot as an `<img>` (Zeppelin: `print("%html " + r.plot_html())`)."""
        return self.java.plotHtml()


def run_experiment(spark: Any, **options: Any) -> ExperimentResult:
    """Runs the experiment on `spark` (a SparkSession) with `paws experiment`'s options
    as keyword arguments (see `cli_args`): the table, the best models and the plot."""
    from pyspark.sql import DataFrame

    sc = spark.sparkContext
    experiment = jvm_class(sc, EXPERIMENT_CLASS)
    jargs = sc._jvm.java.util.ArrayList()
    for a in cli_args(**options):
        jargs.add(a)
    jresult = experiment.experiment(spark._jsparkSession, jargs)
    models = {name: _python_model(sc, jm) for name, jm in jresult.bestModels().items()}
    return ExperimentResult(
        table=DataFrame(jresult.table(), spark),
        best_models=models,
        output=jresult.output(),
        plot_path=jresult.plotPath(),
        plot_png=bytes(jresult.plotPng()),
        java=jresult,
    )


def experiment(spark: Any, **options: Any) -> Any:
    """Runs the experiment and returns its results table as a DataFrame:
    `paws_spark.experiment(spark, features=..., class_="Abyssinian", vs="all", output=...)`."""
    return run_experiment(spark, **options).table


def _python_model(sc: Any, jmodel: Any) -> Any:
    """An MLlib model of the JVM as the pyspark.mllib model of the same weights."""
    from pyspark.mllib.classification import LogisticRegressionModel, SVMModel
    from pyspark.mllib.common import _java2py

    weights = _java2py(sc, jmodel.weights())
    intercept = float(jmodel.intercept())
    kind = jmodel.getClass().getSimpleName()
    if kind == "SVMModel":
        model: Any = SVMModel(weights, intercept)
    elif kind == "LogisticRegressionModel":
        model = LogisticRegressionModel(weights, intercept, len(weights), 2)
    else:
        raise TypeError(f"paws_spark: unexpected model class {kind}")
    threshold = jmodel.getThreshold()
    if threshold.isDefined():
        model.setThreshold(float(threshold.get()))
    else:
        model.clearThreshold()
    return model
