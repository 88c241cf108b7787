"""Fixtures of the cluster tests (run them with scripts/test-cluster.sh).

Environment (set by scripts/test-cluster.sh):
  SPARK_HOME       a Spark 3.5 distribution (the pyspark package's directory)
  PAWS_SPARK_JAR   jvm-shim/target/paws-spark-<version>.jar, with ClusterSmokeJob inside
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


@pytest.fixture(scope="session")
def jar() -> Path:
    path = os.environ.get("PAWS_SPARK_JAR")
    if not path:
        jars = sorted(
            p for p in (REPO / "jvm-shim" / "target").glob("paws-spark-*.jar") if "sources" not in p.name
        )
        assert jars, "no jvm-shim/target/paws-spark-*.jar: run scripts/test-spark.sh first"
        path = jars[-1]
    return Path(path).resolve()


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
