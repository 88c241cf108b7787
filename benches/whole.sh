#!/usr/bin/env bash
# Whole-process wall time of a paws experiment through spark-submit, as a user runs it:
# from the `spark-submit` command to its exit (launcher, JVM, SparkContext, the load, the
# sweep, the outputs, the shutdown), W1 and W2 on local[threads], each run in a fresh
# JVM, in four modes that differ only in the driver's JVM options: plain, with the
# class-data archive of scripts/spark-cds.sh, with the C1 compiler alone
# (-XX:TieredStopAtLevel=1: the C2 compiler's threads take a core of two for a second of
# a short run, and paws' numbers are native), and with both (runs alternate, so all see
# the same machine). Prints one JSON line per workload and mode.
# "W1 legacy" is W1 from the seed job's input shape, a folder of 7,349
# `<breed>_<n>.jpg.json` files (benches/make_legacy.py), when that folder exists.
#
#   bash benches/whole.sh [runs]        # default 3 runs each; called by benches/run.sh
#
# Needs the synthetic data (target/bench/pets-4096.parquet, `paws-bench gen`) and the jar;
# the legacy folder is target/bench/pets-4096-legacy (benches/run.sh writes it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

runs=${1:-3}
out=${PAWS_BENCH_OUT:-target/bench}
data=$out/pets-4096.parquet
legacy=$out/pets-4096-legacy
threads=$(nproc)
[[ -f $data ]] || { echo "error: $data missing: run benches/run.sh (or paws-bench gen -o $data)" >&2; exit 1; }
jar=$(ls jvm-shim/target/paws-spark-*.jar 2>/dev/null | grep -v -e '-tests\.jar$' -e '-sources\.jar$' | tail -1 || true)
[[ -n $jar ]] || { echo "error: no jvm-shim/target/paws-spark-*.jar: build it first" >&2; exit 1; }
need_spark >&2
archive=$(bash scripts/spark-cds.sh "$jar")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One run; prints its wall milliseconds. The JVM options are the only difference between modes.
one() {
    local features=$1 vs=$2 opts=$3 t0 t1
    rm -rf "$work/out"
    t0=$(date +%s%N)
    "$SPARK_HOME/bin/spark-submit" --master "local[$threads]" --driver-memory 6g \
        ${opts:+--driver-java-options "$opts"} \
        --class dev.paws.spark.PetBreedExperiment "$jar" --features "$features" \
        --class american_bulldog --vs "$vs" -o "$work/out" >"$work/log" 2>&1 || {
        tail -20 "$work/log" >&2
        echo "error: spark-submit failed (above)" >&2
        exit 1
    }
    t1=$(date +%s%N)
    [[ -s $work/out/results.csv ]] || { echo "error: no results.csv" >&2; exit 1; }
    echo $(((t1 - t0) / 1000000))
}

workloads=(W1 W2)
[[ -d $legacy ]] && workloads+=("W1 legacy")
for w in "${workloads[@]}"; do
    features=$data
    case $w in
        W1) vs=all ;;
        W2) vs=american_pit_bull_terrier,boxer,pug,staffordshire_bull_terrier ;;
        "W1 legacy") vs=all features=$legacy ;;
    esac
    plain=()
    cds=()
    c1=()
    cds_c1=()
    for ((i = 0; i < runs; i++)); do
        plain+=("$(one "$features" "$vs" "")")
        cds+=("$(one "$features" "$vs" "-XX:SharedArchiveFile=$archive")")
        c1+=("$(one "$features" "$vs" "-XX:TieredStopAtLevel=1")")
        cds_c1+=("$(one "$features" "$vs" "-XX:SharedArchiveFile=$archive -XX:TieredStopAtLevel=1")")
    done
    for mode in plain cds c1 cds_c1; do
        declare -n times=$mode
        python3 -c '
import json, statistics, sys
w, mode, threads, *times = sys.argv[1:]
t = [int(x) / 1000 for x in times]
suffix = {"plain": "", "cds": ", class-data archive", "c1": ", C1 JIT only",
          "cds_c1": ", class-data archive and C1 JIT only"}[mode]
engine = "paws spark-submit (whole process)" + suffix
print(json.dumps({"workload": w, "engine": engine, "threads": int(threads),
                  "seconds": statistics.median(t), "runs": t}))' "$w" "$mode" "$threads" "${times[@]}"
    done
done
