"""Fixtures of the notebook tests (run them with scripts/test-notebooks.sh).

Environment (set by scripts/test-notebooks.sh):
  SPARK_HOME       a Spark 3.5 distribution (the pyspark package's directory)
  PAWS_SPARK_JAR   jvm-shim/target/paws-spark-<version>.jar, the product jar
  PYTHONPATH       holds paws_spark, installed from python/ with pip
  PYSPARK_PYTHON   the venv's python, for Spark's Python workers
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from notelib import REPO


@pytest.fixture(scope="session")
def spark_home() -> Path:
    home = os.environ.get("SPARK_HOME")
    if not home:
        import pyspark

        home = os.path.dirname(pyspark.__file__)
    home = Path(home)
    assert (home / "bin" / "spark-shell").exists(), f"no bin/spark-shell in SPARK_HOME={home}"
    return home


@pytest.fixture(scope="session")
def jar() -> Path:
    """The product jar (the shim and the native library)."""
    path = os.environ.get("PAWS_SPARK_JAR")
    if not path:
        jars = sorted(
            p
            for p in (REPO / "jvm-shim" / "target").glob("paws-spark-*.jar")
            if not p.name.endswith(("-tests.jar", "-sources.jar"))
        )
        assert jars, "no jvm-shim/target/paws-spark-*.jar: run scripts/test-spark.sh first"
        path = jars[-1]
    return Path(path).resolve()


@pytest.fixture(scope="session")
def spark(jar):
    """One local PySpark session with the paws jar, for every Python test of the run."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("paws-notebook-tests")
        .config("spark.jars", str(jar))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("WARN")
    yield session
    session.stop()
