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
# Needs the jars from scripts/test-spark.sh: jvm-shim/target/paws-spark-<version>.jar
# (or PAWS_SPARK_JAR=...), passed with --jars, and paws-spark-<version>-tests.jar (or
# PAWS_TEST_JAR=...), the application jar holding ClusterSmokeJob; Java 17, Maven (for
# the YARN launcher; MVN_ARGS are passed on) and python3. Spark itself is pyspark==3.5.3 from PyPI, installed with pytest into
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

# The product jar (the shim and the native library) goes to spark-submit with --jars;
# the test jar (ClusterSmokeJob) is the application jar, as a user's own jar would be.
jar=${PAWS_SPARK_JAR:-}
if [[ -z $jar ]]; then
    shopt -s nullglob
    jars=()
    for j in jvm-shim/target/paws-spark-*.jar; do
        [[ $j == *-tests.jar || $j == *-sources.jar ]] || jars+=("$j")
    done
    shopt -u nullglob
    if ((${#jars[@]} == 0)); then
        echo "error: no jvm-shim/target/paws-spark-*.jar; build it first: bash scripts/test-spark.sh" >&2
        exit 1
    fi
    jar=${jars[-1]}
fi
test_jar=${PAWS_TEST_JAR:-${jar%.jar}-tests.jar}
for j in "$jar" "$test_jar"; do
    if [[ ! -f $j ]]; then
        echo "error: $j does not exist; build it: bash scripts/test-spark.sh" >&2
        exit 1
    fi
done
has_entry() {
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).getinfo(sys.argv[2])' "$1" "$2" >/dev/null 2>&1
}
if ! has_entry "$jar" native/linux-x86_64/libpaws_jni.so; then
    echo "error: $jar has no native/linux-x86_64/libpaws_jni.so; rebuild it: bash scripts/test-spark.sh" >&2
    exit 1
fi
if ! has_entry "$test_jar" dev/paws/spark/examples/ClusterSmokeJob.class; then
    echo "error: $test_jar has no ClusterSmokeJob; rebuild it: bash scripts/test-spark.sh" >&2
    exit 1
fi
PAWS_SPARK_JAR=$(cd "$(dirname "$jar")" && pwd)/$(basename "$jar")
PAWS_TEST_JAR=$(cd "$(dirname "$test_jar")" && pwd)/$(basename "$test_jar")
export PAWS_SPARK_JAR PAWS_TEST_JAR
newer=$(find jvm-shim/src -type f -newer "$PAWS_SPARK_JAR" -print -quit)
if [[ -n $newer ]]; then
    echo "warning: $PAWS_SPARK_JAR is older than $newer; the tests run the jars as they are" \
        "(rebuild: bash scripts/test-spark.sh)" >&2
fi

need_spark
venv=$SPARK_VENV
unset HADOOP_CONF_DIR YARN_CONF_DIR

echo "==> jars $PAWS_SPARK_JAR $PAWS_TEST_JAR, SPARK_HOME $SPARK_HOME, JAVA_HOME $JAVA_HOME" >&2
# -p no:cacheprovider: no .pytest_cache in the work tree; -rA: a line per test at the end.
step "cluster tests" "$venv/bin/python" -m pytest tests/cluster -p no:cacheprovider -v -rA \
    --durations=0 "$@"
