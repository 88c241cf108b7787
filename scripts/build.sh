#!/usr/bin/env bash
# Builds the full `paws` (with `paws extract`) and the JNI library, in the one build that
# the tests and the jar use (scripts/lib.sh: cargo-zigbuild for glibc 2.17, release).
#
#   bash scripts/build.sh
#
# Binary: target/x86_64-unknown-linux-gnu/release/paws; library: libpaws_jni.so beside
# it (scripts/test-spark.sh puts a stripped copy into the jar).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

need_rust
need_zig
step "build" paws_cargo build "${PAWS_BUILD_PACKAGES[@]}"
echo "==> built $(paws_bin_dir)/paws and $(paws_bin_dir)/libpaws_jni.so" >&2
