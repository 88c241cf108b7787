#!/usr/bin/env bash
# Runs the notebooks and the PySpark package (pytest, tests/notebooks/):
#   - the Zeppelin note emr/zeppelin/paws-pet-breeds.zpln: its %spark paragraphs in one
#     spark-shell (the paws jar on --jars, a stub `z`), its %pyspark paragraphs in one
#     PySpark session, and the tables they show checked against the output folders;
#   - the Jupyter notebook emr/notebooks/paws-pet-breeds.ipynb, executed end to end with
#     nbclient (its own ipykernel), and kept in git with its outputs cleared;
#   - python/ (`paws_spark`): installed with pip, its drop-ins against pyspark.mllib.
#
#   bash scripts/test-notebooks.sh               # all of it
#   bash scripts/test-notebooks.sh -k zeppelin   # extra arguments go to pytest
#
# Needs the product jar jvm-shim/target/paws-spark-<version>.jar (or PAWS_SPARK_JAR=...)
# from scripts/test-spark.sh, Java 17 and python3. pyspark==3.5.3, numpy, nbclient and
# ipykernel come from PyPI into ${PAWS_CACHE:-$HOME/.cache/paws}/spark-venv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

for tool in java python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: $tool not found (the notebook tests need Java 17 and python3)" >&2
        exit 1
    fi
done

jar=${PAWS_SPARK_JAR:-}
if [[ -z $jar ]]; then
    shopt -s nullglob
    jars=()
    for j in jvm-shim/target/paws-spark-*.jar; do
        [[ $j == *-tests.jar || $j == *-sources.jar ]] || jars+=("$j")
    done
    shopt -u nullglob
    if ((${#jars[@]} == 0)); then
        echo "error: no jvm-shim/target/paws-spark-*.jar: the notebooks need the paws jar; build it first:" \
            "bash scripts/test-spark.sh (or PAWS_SPARK_JAR=/path/to/paws-spark-0.1.0.jar)" >&2
        exit 1
    fi
    jar=${jars[-1]}
fi
if [[ ! -f $jar ]]; then
    echo "error: $jar does not exist; build it: bash scripts/test-spark.sh" >&2
    exit 1
fi
PAWS_SPARK_JAR=$(cd "$(dirname "$jar")" && pwd)/$(basename "$jar")
export PAWS_SPARK_JAR
newer=$(find jvm-shim/src -type f -newer "$PAWS_SPARK_JAR" -print -quit)
if [[ -n $newer ]]; then
    echo "warning: $PAWS_SPARK_JAR is older than $newer; the tests run the jar as it is" \
        "(rebuild: bash scripts/test-spark.sh)" >&2
fi

need_spark
unset HADOOP_CONF_DIR YARN_CONF_DIR
# Spark's Python workers and the notebook kernel run the venv's python (pyspark, numpy).
export PYSPARK_PYTHON=$SPARK_VENV/bin/python

# `pip install ./python` as a user would, into a directory of its own (on PYTHONPATH for
# the tests and the kernel): the shared venv keeps no copy of the work tree's package,
# and the copy keeps pip's build files out of the work tree.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r python "$work/src"
step "pip install ./python" "$SPARK_VENV/bin/pip" install -q --no-deps --no-build-isolation \
    --target "$work/site" "$work/src"
export PYTHONPATH=$work/site

echo "==> jar $PAWS_SPARK_JAR, SPARK_HOME $SPARK_HOME, JAVA_HOME $JAVA_HOME" >&2
step "notebook tests" "$SPARK_VENV/bin/python" -m pytest tests/notebooks -p no:cacheprovider -v -rA \
    --durations=0 "$@"
