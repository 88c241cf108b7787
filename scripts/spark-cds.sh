#!/usr/bin/env bash
# A class-data-sharing archive for spark-submit's driver JVM (JDK 17 dynamic AppCDS):
# the Spark, Scala and Hadoop classes a paws run loads, parsed and verified once and then
# mapped from the archive by every later JVM, which then starts its SparkContext faster
# (measured in benches/whole.sh). Prints the archive's path; use it as
#
#   spark-submit --driver-java-options "-XX:SharedArchiveFile=$(bash scripts/spark-cds.sh)" ...
#
# in local and client mode (the driver is the spark-submit JVM; in local mode the
# executors too). The archive holds only classes of the JVM's own class path (Spark's
# jars): the paws jar is loaded by Spark's class loader and never archived, so rebuilding
# it needs no new archive. The archive is kept per JDK and Spark installation under
# ${PAWS_CACHE:-~/.cache/paws}/spark-cds/ and made once, by a run of PetBreedExperiment on
# the embedded sample (about as long as that run). A JVM that cannot use an archive (a
# different JDK or Spark jars) says so in one warning line and starts as without it.
#
#   bash scripts/spark-cds.sh [paws-spark jar]   # default: jvm-shim/target/paws-spark-*.jar
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

need_spark >&2
jar=${1:-$(ls jvm-shim/target/paws-spark-*.jar 2>/dev/null | grep -v -e '-tests\.jar$' -e '-sources\.jar$' | tail -1 || true)}
if [[ -z $jar || ! -f $jar ]]; then
    echo "error: no paws-spark jar${1:+ at $1}: build it first (mvn -f jvm-shim/pom.xml -DskipTests package)" >&2
    exit 1
fi
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
# What the archive depends on: the JDK's build and the Spark jars (names, sizes, times).
key=$({ "$java" -version 2>&1; echo "$SPARK_HOME"; ls -l --time-style=+%s "$SPARK_HOME/jars"; } |
    md5sum | cut -c1-16)
dir=${PAWS_CACHE:-$HOME/.cache/paws}/spark-cds
archive=$dir/spark-$key.jsa
if [[ ! -s $archive ]]; then
    mkdir -p "$dir"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # The JVM writes the archive at exit; it is renamed into place only when whole.
    echo "==> class-data archive for spark-submit: $archive (one run of the sample experiment)" >&2
    t0=$SECONDS
    "$SPARK_HOME/bin/spark-submit" \
        --master 'local[2]' --conf spark.driver.host=127.0.0.1 \
        --driver-java-options "-XX:ArchiveClassesAtExit=$work/spark.jsa" \
        --class dev.paws.spark.PetBreedExperiment "$jar" \
        --features examples/oxford-pets-sample/features.parquet \
        --class Abyssinian --vs Bengal -o "$work/out" >"$work/log" 2>&1 || {
        tail -20 "$work/log" >&2
        echo "error: the run that makes the class-data archive failed (above)" >&2
        exit 1
    }
    [[ -s $work/spark.jsa ]] || { echo "error: the JVM wrote no archive (log: above)" >&2; tail -5 "$work/log" >&2; exit 1; }
    mv "$work/spark.jsa" "$archive.tmp.$$"
    mv "$archive.tmp.$$" "$archive"
    echo "==> class-data archive: done in $((SECONDS - t0)) s" >&2
fi
echo "$archive"
