#!/usr/bin/env bash
# The main job on a fresh machine: builds paws and runs the breed experiment on the
# embedded Oxford-IIIT Pet sample (examples/oxford-pets-sample/features.parquet):
# Abyssinian vs Bengal and american_bulldog vs all, 9 train splits each.
#
#   bash scripts/demo.sh [extra paws experiment arguments]
#
# Outputs go to out/: results.csv/.json/.md, accuracy.png, models/, paws.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

need_rust
need_zig
# The same build as the tests' and the jar's (scripts/lib.sh): the JNI library is built
# too, so scripts/test.sh afterwards compiles only the tests.
step "build" paws_cargo build "${PAWS_BUILD_PACKAGES[@]}"
step "experiment" "$(paws_bin_dir)/paws" experiment -o out "$@"
