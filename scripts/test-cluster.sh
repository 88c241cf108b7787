#!/usr/bin/env bash
# Runs the paws Spark shim on real cluster managers (pytest, tests/cluster/):
#   - a standalone cluster (a master and 2 workers on 127.0.0.1, started and stopped by
#     the tests): ClusterSmokeJob in client and cluster deploy mode, native code proven
#     to run in the executor JVMs, MLlib parity; a driver that fails in cluster mode is
#     caught although spark-submit exits 0; an executor killed (kill -9) at iteration 20
#     is recomputed from lineage and the weights stay bit-identical;
#   - YARN: spark-submit --master yarn --deploy-mode cluster against Hadoop's
#     MiniYARNCluster (hadoop-client-minicluster 3.3.4, in a JVM of its own).
#
#   bash scripts/test-cluster.sh                 # all of it
#   bash scripts/test-cluster.sh -k standalone   # extra arguments go to pytest
#
# Needs the jar from scripts/test-spark.sh (jvm-shim/target/paws-spark-<version>.jar, or
# PAWS_SPARK_JAR=...), Java 17, Maven (for the YARN launcher; MVN_ARGS are passed on)
# and python3. Spark itself is pyspark==3.5.3 from PyPI, installed with pytest into
# ${PAWS_CACHE:-$HOME/.cache/paws}/spark-venv when missing. Temporary files go under
# pytest's base temp directory (the last 3 runs are kept, for their logs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh


for tool in java mvn python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: $tool not found (the cluster tests need Java 17, Maven and python3)" >&2
        exit 1
    fi
done

jar=${PAWS_SPARK_JAR:-}
if [[ -z $jar ]]; then
    shopt -s nullglob
    jars=(jvm-shim/target/paws-spark-*.jar)
    shopt -u nullglob
    if ((${#jars[@]} == 0)); then
        echo "error: no jvm-shim/target/paws-spark-*.jar; build it first: bash scripts/test-spark.sh" >&2
        exit 1
    fi
    jar=${jars[-1]}
fi
if [[ ! -f $jar ]]; then
    echo "error: PAWS_SPARK_JAR=$jar does not exist" >&2
    exit 1
fi
for entry in dev/paws/spark/examples/ClusterSmokeJob.class native/linux-x86_64/libpaws_jni.so; do
    if ! python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).getinfo(sys.argv[2])' "$jar" "$entry" \
        >/dev/null 2>&1; then
        echo "error: $jar has no $entry; rebuild it: bash scripts/test-spark.sh" >&2
        exit 1
    fi
done
PAWS_SPARK_JAR=$(cd "$(dirname "$jar")" && pwd)/$(basename "$jar")
export PAWS_SPARK_JAR
newer=$(find jvm-shim/src/main -type f -newer "$PAWS_SPARK_JAR" -print -quit)
if [[ -n $newer ]]; then
    echo "warning: $PAWS_SPARK_JAR is older than $newer; the tests run the jar as it is" \
        "(rebuild: bash scripts/test-spark.sh)" >&2
fi

need_spark
venv=$SPARK_VENV
unset HADOOP_CONF_DIR YARN_CONF_DIR

echo "==> jar $PAWS_SPARK_JAR, SPARK_HOME $SPARK_HOME, JAVA_HOME $JAVA_HOME" >&2
# -p no:cacheprovider: no .pytest_cache in the work tree; -rA: a line per test at the end.
step "cluster tests" "$venv/bin/python" -m pytest tests/cluster -p no:cacheprovider -v -rA \
    --durations=0 "$@"
