#!/usr/bin/env bash
# Runs every paws test, on a fresh machine too: installs what is missing first.
#
#   bash scripts/test.sh
#
# Steps: the CNN model (scripts/fetch-model.sh, cached in ~/.cache/paws), formatting
# and lint checks, the check that the demo's quick build and the full builds share every
# compiled crate (scripts/check-one-build.py), all Rust tests (unit, integration, CLI
# end to end, s3:// against moto's S3 server from PyPI, the real-photo check, tract
# against onnxruntime from the pyspark venv's wheel) in the
# release profile, which also builds the `paws` binary; then the Spark
# shim's tests (scripts/test-spark.sh: the JNI library, Maven, Spark local mode); then
# the cluster tests (scripts/test-cluster.sh: a standalone cluster on 127.0.0.1 and
# spark-submit in YARN cluster mode on MiniYARNCluster, with pyspark from PyPI); then
# the notebooks (scripts/test-notebooks.sh: the Zeppelin note's paragraphs in spark-shell
# and PySpark, the Jupyter notebook with nbclient, the paws_spark Python package); then
# `paws serve`'s page in headless Chromium (scripts/test-browser.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

need_rust
need_zig
step "model" bash scripts/fetch-model.sh
step "cargo fmt" cargo fmt --all -- --check
step "one build" python3 scripts/check-one-build.py
# The local AWS and the browser (a few minutes of downloads on a fresh machine) install
# while clippy compiles; their output is shown after clippy's.
aws_log=$(mktemp)
browser_log=$(mktemp)
install_aws_tools >"$aws_log" 2>&1 &
aws_pid=$!
install_browser_tools >"$browser_log" 2>&1 &
browser_pid=$!
trap 'kill "$aws_pid" "$browser_pid" 2>/dev/null || true; rm -f "$aws_log" "$browser_log"' EXIT
step "cargo clippy" paws_cargo clippy --workspace --all-targets -- -D warnings
if ! wait "$aws_pid"; then
    cat "$aws_log" >&2
    echo "error: installing ${AWS_TOOLS[*]} from PyPI failed (above)" >&2
    exit 1
fi
cat "$aws_log" >&2
if ! wait "$browser_pid"; then
    cat "$browser_log" >&2
    echo "error: installing Chromium (apt) or playwright-core (npm) failed (above)" >&2
    exit 1
fi
cat "$browser_log" >&2
# The real-photo check must run where the model was fetched: a missing model fails.
export PAWS_REQUIRE_MODEL=1
# The S3 and EMR tests run against moto's server (a missing server fails them).
need_aws_tools
# The onnxruntime backend's tests (paws-vision) open the wheel's library from the pyspark
# venv (need_spark in a subshell: its exports are for the Spark scripts); a missing
# library fails them.
ORT_DYLIB_PATH=$(need_spark >&2 && onnxruntime_lib "$SPARK_VENV")
export ORT_DYLIB_PATH PAWS_REQUIRE_ONNXRUNTIME=1
# paws-bench has no tests, and its dependencies (gemm, criterion) would turn on other
# features of shared crates (half, bytemuck) and compile arrow and tract a second time.
step "cargo test" paws_cargo test --workspace --exclude paws-bench
step "emr kit" bash emr/tests/run.sh
step "spark" bash scripts/test-spark.sh
step "spark clusters" bash scripts/test-cluster.sh
step "notebooks" bash scripts/test-notebooks.sh
step "browser" bash scripts/test-browser.sh
echo "==> all tests passed in $SECONDS s" >&2
