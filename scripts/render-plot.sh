#!/usr/bin/env bash
# Renders the accuracy plot of the paws-report tests' realistic rows to a PNG for a person
# to look at (legibility, overlaps, colours: what tests/plot.rs cannot judge), and prints
# its path.
#
#   bash scripts/render-plot.sh [out.png]    # default: $TMPDIR/paws-accuracy.png
#
# The cargo target directory follows CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

need_rust
out=${1:-${TMPDIR:-/tmp}/paws-accuracy.png}
[[ $out == /* ]] || out=$PWD/$out
cargo run --quiet --release --locked -p paws-report --example render_plot -- "$out"
