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

from notelib import NOTEBOOK, REPO, SAMPLE, Background, scala_script, spark_shell_command


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


@pytest.fixture(scope="session")
def outputs(tmp_path_factory) -> Path:
    """The notebooks' output folders: <name>/scala, <name>/python ..."""
    return tmp_path_factory.mktemp("notebook-outputs")


@pytest.fixture(scope="session", autouse=True)
def background(request, spark_home, jar, outputs, tmp_path_factory):
    """Starts the external runs at once, if their tests are selected: the Zeppelin
    note's %spark paragraphs in spark-shell (test_zeppelin), the Jupyter notebook in
    nbclient (test_jupyter) and a PySpark session without the jar (test_python_package).
    The tests wait for them; they are killed at the end of the session if still running."""
    selected = {item.name for item in request.session.items}
    runs = Background()
    logs = tmp_path_factory.mktemp("background")
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1")
    if "test_scala_paragraphs_in_spark_shell" in selected:
        script = logs / "note.scala"
        script.write_text(scala_script())
        tmp = tmp_path_factory.mktemp("spark-shell-tmp")
        runs.start("spark-shell", spark_shell_command(spark_home, jar, script, tmp),
                   dict(env, PAWS_NOTE_FEATURES=str(SAMPLE), PAWS_NOTE_OUTPUT=str(outputs / "zeppelin")),
                   REPO, logs)
    if "test_notebook_runs_end_to_end" in selected:
        executed = logs / "executed.ipynb"
        runs.start("jupyter", [sys.executable, str(Path(__file__).parent / "run_notebook.py"), str(NOTEBOOK),
                               str(executed), str(REPO)],
                   dict(env, PAWS_FEATURES=str(SAMPLE), PAWS_OUTPUT=str(outputs / "jupyter"),
                        PAWS_SPARK_JAR=str(jar)),
                   REPO, logs)
    if "test_without_the_jar_calls_say_so" in selected:
        runs.start("no-jar", [sys.executable, str(Path(__file__).parent / "no_jar.py")], env, REPO, logs)
    yield runs
    runs.stop()


# Tests that wait for a background run go last, so that the in-process tests run while
# spark-shell and the notebook kernel work.
WAITING = ("test_without_the_jar_calls_say_so", "test_notebook_runs_end_to_end",
           "test_scala_paragraphs_in_spark_shell", "test_both_languages_show_the_same_table")


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.name in WAITING)
