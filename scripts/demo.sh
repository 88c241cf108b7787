#!/usr/bin/env bash
# The main job on a fresh machine: builds paws and runs the breed experiment on the
# embedded Oxford-IIIT Pet sample (examples/oxford-pets-sample/features.parquet):
# Abyssinian vs Bengal and american_bulldog vs all, 9 train splits each.
#
#   bash scripts/demo.sh [extra paws experiment arguments]
#
# Outputs go to out/: results.csv/.json/.md, accuracy.png, models/, paws.log.
#
# The build is the quick one: `paws` without its `extract` feature (no CNN: tract alone
# takes about 8 minutes to compile on 2 cores). Every crate it compiles has the features
# of the full build (rust/workspace-hack, checked by scripts/check-one-build.py), so
# scripts/build.sh and scripts/test.sh afterwards compile only what is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

need_rust
need_zig
step "build (quick: paws without extract)" paws_cargo build -p paws-cli --no-default-features
step "experiment" "$(paws_bin_dir)/paws" experiment -o out "$@"
