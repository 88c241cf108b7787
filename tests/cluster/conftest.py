"""Fixtures of the cluster tests (run them with scripts/test-cluster.sh).

Environment (set by scripts/test-cluster.sh):
  SPARK_HOME       a Spark 3.5 distribution (the pyspark package's directory)
  PAWS_SPARK_JAR   jvm-shim/target/paws-spark-<version>.jar, the product jar (--jars)
  PAWS_TEST_JAR    jvm-shim/target/paws-spark-<version>-tests.jar, with ClusterSmokeJob
                   inside (the application jar)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clusterlib import REPO, MiniYarn, Standalone, log


@pytest.fixture(scope="session")
def spark_home() -> Path:
    home = os.environ.get("SPARK_HOME")
    if not home:
        import pyspark

        home = os.path.dirname(pyspark.__file__)
    home = Path(home)
    assert (home / "bin" / "spark-submit").exists(), f"no bin/spark-submit in SPARK_HOME={home}"
    return home


def _built_jar(variable: str, tests: bool) -> Path:
    path = os.environ.get(variable)
    if not path:
        jars = sorted(
            p
            for p in (REPO / "jvm-shim" / "target").glob("paws-spark-*.jar")
            if "sources" not in p.name and p.name.endswith("-tests.jar") == tests
        )
        assert jars, "no jvm-shim/target/paws-spark-*.jar: run scripts/test-spark.sh first"
        path = jars[-1]
    return Path(path).resolve()


@pytest.fixture(scope="session")
def jar() -> Path:
    """The product jar (shim and native library), passed with --jars."""
    return _built_jar("PAWS_SPARK_JAR", tests=False)


@pytest.fixture(scope="session")
def test_jar() -> Path:
    """The test jar (ClusterSmokeJob), the application jar of every spark-submit."""
    return _built_jar("PAWS_TEST_JAR", tests=True)


# Module scope: the standalone cluster is stopped before the YARN tests start.
@pytest.fixture(scope="module")
def standalone(spark_home, tmp_path_factory):
    cluster = Standalone(spark_home, tmp_path_factory.mktemp("standalone"))
    try:
        cluster.start()
        yield cluster
    except BaseException:
        log("standalone daemon logs:\n" + cluster.daemon_logs())
        raise
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def yarn(spark_home, tmp_path_factory):
    cluster = MiniYarn(
        spark_home, tmp_path_factory.mktemp("yarn"), REPO / "tests" / "cluster" / "yarn-launcher"
    )
    cluster.build()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
