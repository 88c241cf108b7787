#!/usr/bin/env bash
# The macro benchmark, one command: every engine on the same data in one run, then
# BENCHMARKS.md (machine, versions, the command, wall seconds and ratios).
#
#   bash benches/run.sh            # W1, W2, kernels, baselines, W4 (if the photos are there)
#   PAWS_BENCH_W3=1 bash benches/run.sh   # also W3 (all 666 pairs and 37 one-vs-rest,
#                                         # 9 splits: 6,327 models, several minutes), and
#                                         # its 666 pairs through Spark's barrier driver
#
# What runs (results as JSON lines in target/bench/, the report in BENCHMARKS.md):
#   - data: `paws-bench gen`: seeded synthetic Oxford-IIIT Pet (37 breeds with the real
#     counts, 7,349 rows, 4,096-d non-negative float32 with class structure), Parquet;
#   - `paws-bench kernels`: read-bandwidth probe, the single-model pass in GB/s, the
#     batched pass (K = 1, 8, 32, 64) in GFLOP/s on every SIMD path;
#   - `paws-bench run`: W1, W2 (and W3) in process, batched and one model at a time;
#   - Spark local[2] (`SweepBenchmark`): paws (`PetBreedExperiment`, with the barrier
#     and the per-job SGD driver) and MLlib `SVMWithSGD` on W1 and W2 in the same JVM;
#     (`DropInBenchmark`) one `NativeSVMWithSGD.train` with each driver against
#     `SVMWithSGD.train` on a cached 7,390 x 4,096 RDD;
#   - `benches/whole.sh`: W1 and W2 as a user runs them, `spark-submit` of
#     PetBreedExperiment timed from command to exit: plain, with the class-data archive
#     of scripts/spark-cds.sh, with the driver's JIT at C1 (-XX:TieredStopAtLevel=1),
#     and with both;
#   - memory: `paws experiment`'s peak resident memory and the Spark path's cached
#     blocks on a 10x set (`paws-bench gen --copies 10`), against the raw float32 size;
#   - Python: scikit-learn `SGDClassifier(loss='hinge')` on W1 and W2, OpenBLAS sgemm
#     through numpy;
#   - W4: `paws extract` with each backend (tract, and onnxruntime from the bench venv's
#     wheel) against onnxruntime in Python on the 600 sample photos
#     (../shared/data/oxford-pets-sample; skipped with a message when absent), the same
#     ONNX model and thread count.
#
# Needs what scripts/test.sh needs (it installs the same tools: the model, zig for the
# JNI library, Maven, a pyspark venv) plus a venv with numpy, scikit-learn, pyarrow,
# onnxruntime and pillow (installed from PyPI into ${PAWS_CACHE:-~/.cache/paws}/bench-venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

need_rust
need_zig
out=${PAWS_BENCH_OUT:-target/bench}
cache=${PAWS_CACHE:-$HOME/.cache/paws}
threads=$(nproc)
export RAYON_NUM_THREADS=$threads OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
export PAWS_BENCH_THREADS=$threads
mkdir -p "$out"
rm -f "$out"/*.jsonl

step "build" paws_cargo build -p paws-bench "${PAWS_BUILD_PACKAGES[@]}"
bin=$(paws_bin_dir)
bench=$bin/paws-bench
data=$out/pets-4096.parquet
[[ -f $data ]] || step "synthetic data" "$bench" gen -o "$data"

venv=$cache/bench-venv
stamp=$venv/.paws-bench-1
if [[ ! -f $stamp ]]; then
    step "bench venv" bash -c "rm -rf '$venv' && python3 -m venv '$venv' &&
        '$venv/bin/pip' install -q numpy scikit-learn pyarrow onnxruntime pillow"
    touch "$stamp"
fi
py=$venv/bin/python

step "kernels" bash -c "'$bench' kernels | tee '$out/kernels.jsonl'"
step "sgemm" bash -c "'$py' benches/baselines.py sgemm 4096 | tee '$out/sgemm.jsonl'"
for w in w1 w2; do
    step "$w in process" bash -c "'$bench' run --workload $w --one-by-one | tee '$out/$w-inprocess.jsonl'"
done
if [[ ${PAWS_BENCH_W3:-0} == 1 ]]; then
    step "w3 in process" bash -c "'$bench' run --workload w3 | tee '$out/w3-inprocess.jsonl'"
fi
step "w1 scikit-learn" bash -c "'$py' benches/baselines.py sgd '$data' american_bulldog all | tee '$out/w1-sklearn.jsonl'"
step "w2 scikit-learn" bash -c "'$py' benches/baselines.py sgd '$data' american_bulldog \
    american_pit_bull_terrier,boxer,pug,staffordshire_bull_terrier | tee '$out/w2-sklearn.jsonl'"

# Spark: the product jar (with the library built for old glibc) by --jars, and the test
# jar holding SweepBenchmark as the application jar, then spark-submit local[threads].
jar=$(ls jvm-shim/target/paws-spark-*.jar 2>/dev/null | grep -v -e '-tests\.jar$' -e '-sources\.jar$' | tail -1 || true)
if [[ -z $jar || ! -f ${jar%.jar}-tests.jar ]]; then
    so=$(bash scripts/build-native.sh)
    step "jars" mvn -B -q -f jvm-shim/pom.xml -DskipTests -Dpaws.native.so="$so" package
    jar=$(ls jvm-shim/target/paws-spark-*.jar | grep -v -e '-tests\.jar$' -e '-sources\.jar$' | tail -1)
fi
need_spark
submit() {
    local class=$1
    shift
    "$SPARK_HOME/bin/spark-submit" --master "local[$threads]" --driver-memory 6g \
        --conf spark.ui.enabled=false --conf spark.driver.host=127.0.0.1 \
        --jars "$jar" --class "dev.paws.spark.examples.$class" "${jar%.jar}-tests.jar" "$@" \
        2>>"$out/spark.log" | grep '^{'
}
# Each sweep: paws with the barrier driver first (in the fresh JVM, as a spark-submit of
# one experiment runs), then with the per-job driver, then MLlib, all in one JVM.
echo "==> w1 Spark local[$threads] (paws barrier, paws per-job, MLlib)" >&2
submit SweepBenchmark "$data" american_bulldog all true barrier,jobs | tee "$out/w1-spark.jsonl"
echo "==> w2 Spark local[$threads] (paws barrier, paws per-job, MLlib)" >&2
submit SweepBenchmark "$data" american_bulldog american_pit_bull_terrier,boxer,pug,staffordshire_bull_terrier \
    true barrier,jobs | tee "$out/w2-spark.jsonl"
if [[ ${PAWS_BENCH_W3:-0} == 1 ]]; then
    # W3's 666 pairs (5,994 models) through the barrier driver: each round's exchange is
    # about 250 MB a task, sent in 16 MiB syncs (spark.paws.sgd.exchangeChunkChars).
    echo "==> w3 Spark local[$threads] (paws barrier, all pairs)" >&2
    submit SweepBenchmark "$data" all-pairs - false barrier | tee "$out/w3-spark.jsonl"
fi
# The whole spark-submit process, as a user times it (with and without the class-data
# archive of scripts/spark-cds.sh), also W1 from the seed job's legacy JSON folder.
[[ -d $out/pets-4096-legacy ]] || step "legacy JSON folder" "$py" benches/make_legacy.py "$data" "$out/pets-4096-legacy"
step "w1, w2 whole spark-submit" bash -c "bash benches/whole.sh | tee '$out/whole.jsonl'"
echo "==> drop-in Spark local[$threads] (NativeSVMWithSGD.train each driver, SVMWithSGD.train)" >&2
submit DropInBenchmark 7390 4096 "$threads" | tee "$out/dropin-spark.jsonl"

# Memory on a 10x set (73,490 x 4,096, 1.2 GB of float32): the peak resident memory of
# `paws experiment` and the size of the Spark path's cached blocks, against the raw size.
big=$out/pets-4096-x10.parquet
[[ -f $big ]] || step "10x synthetic data" "$bench" gen --copies 10 -o "$big"
step "memory in process" bash -c "python3 benches/memory.py '$bin/paws' '$big' | tee '$out/memory.jsonl'"
echo "==> memory Spark local[$threads] (W1 on the 10x set, barrier driver)" >&2
submit SweepBenchmark "$big" american_bulldog all false barrier | tee "$out/memory-spark.jsonl"

# W4: feature extraction of the sample photos.
photos=../shared/data/oxford-pets-sample/images
model=$(bash scripts/fetch-model.sh >/dev/null 2>&1; echo "${PAWS_MODEL:-$cache/models/efficientnet-lite0.onnx}")
if [[ -d $photos ]]; then
    n=$(find "$photos" -maxdepth 1 -type f ! -name '.*' | wc -l)
    # `paws extract` with each backend (onnxruntime: the library of the bench venv's
    # wheel, the one Python runs), then Python onnxruntime, back to back.
    ort_lib=$(onnxruntime_lib "$venv")
    rm -f "$out/w4-paws.jsonl"
    for backend in tract onnxruntime; do
        t0=$(date +%s.%N)
        "$bin/paws" extract "$photos" -o "$out/w4-$backend.parquet" --model "$model" \
            --backend "$backend" --onnxruntime-lib "$ort_lib" >/dev/null 2>"$out/w4-paws-$backend.log"
        t1=$(date +%s.%N)
        python3 -c "import json,sys; s=float(sys.argv[2])-float(sys.argv[1]); n=int(sys.argv[3]);
print(json.dumps({'engine':'paws extract ('+sys.argv[5]+')','images':n,'seconds':s,'images_per_s':n/s,'threads':int(sys.argv[4])}))" \
            "$t0" "$t1" "$n" "$threads" "$backend" | tee -a "$out/w4-paws.jsonl"
    done
    step "w4 onnxruntime" bash -c "'$py' benches/baselines.py onnx '$model' '$photos' | tee '$out/w4-onnxruntime.jsonl'"
else
    echo "SKIPPED W4: $photos is absent (the 600 sample photos are in the developers' shared folder)" >&2
fi

step "report" python3 benches/report.py "$out" BENCHMARKS.md "bash benches/run.sh"
