#!/usr/bin/env bash
# Fuzzes the parsers that face the outside world (cargo fuzz, libFuzzer, nightly Rust)
# and prints one table row per target: seconds, executions, executions/s, coverage
# (libFuzzer's cov and ft), corpus size, findings.
#
#   bash benches/fuzz.sh                      # every target, FUZZ_SECONDS each
#   FUZZ_SECONDS=60 bash benches/fuzz.sh upload s3
#   FUZZ_MERGE=1 bash benches/fuzz.sh         # then minimise the committed corpora
#
# New inputs go to target/fuzz/corpus/<target>, not to the committed corpus
# (rust/paws-fuzz/corpus/<target>, replayed by `cargo test`). FUZZ_MERGE=1 rewrites each
# committed corpus as the smallest set of inputs (libFuzzer's -merge) that covers what
# the committed and the new inputs cover; inputs with a name of their own (a
# regression, e.g. `timeout-page-header-skip`) are always kept. A crash, a timeout or an
# out-of-memory is kept under target/fuzz/findings/<target>/ and makes the script exit 1:
# each one becomes a fixed bug with its input added to the committed corpus.
#
# Not part of CI (10 minutes a target on nightly); CI replays the committed corpora.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${FUZZ_SECONDS:-600}
fuzz_dir=rust/paws-fuzz
work=${CARGO_TARGET_DIR:-target}/fuzz
all=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$fuzz_dir/Cargo.toml" | grep -v '^paws-fuzz$')
targets=("$@")
((${#targets[@]})) || mapfile -t targets <<<"$all"
for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$all" || { echo "error: no fuzz target '$t' (targets: $(echo $all))" >&2; exit 2; }
done

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
for t in "${targets[@]}"; do
    echo "building $t (nightly, sanitizers; the first build takes about 25 minutes)" >&2
    cargo +nightly fuzz build --fuzz-dir "$fuzz_dir" -O "$t" >&2
done

# libFuzzer's own corpus names are the SHA-1 of the input.
is_generated() { [[ $1 =~ ^[0-9a-f]{40}$ ]]; }

status=0
rows=()
for t in "${targets[@]}"; do
    committed=$fuzz_dir/corpus/$t
    fresh=$work/corpus/$t
    findings=$work/findings/$t
    log=$work/logs/$t.log
    mkdir -p "$committed" "$fresh" "$findings" "$(dirname "$log")"
    echo "fuzzing $t for $seconds s (log: $log)" >&2
    set +e
    cargo +nightly fuzz run --fuzz-dir "$fuzz_dir" -O "$t" "$fresh" "$committed" -- \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$findings/" >"$log" 2>&1
    code=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    found=$(find "$findings" -type f | wc -l)
    if ((code != 0 || found > 0)); then
        status=1
        echo "$t: libFuzzer exited $code with $found finding(s) in $findings (see $log)" >&2
    fi
    if [[ ${FUZZ_MERGE:-0} == 1 ]]; then
        merged=$(mktemp -d)
        cargo +nightly fuzz run --fuzz-dir "$fuzz_dir" -O "$t" "$merged" "$committed" "$fresh" -- \
            -merge=1 -timeout=30 -rss_limit_mb=4096 >"$work/logs/$t.merge.log" 2>&1
        for f in "$committed"/*; do
            [[ -e $f ]] || continue
            is_generated "$(basename "$f")" && rm "$f"
        done
        cp "$merged"/* "$committed"/ 2>/dev/null || true
        rm -rf "$merged"
    fi
    files=$(find "$committed" -type f | wc -l)
    # The bytes themselves (du's default counts 4 KiB blocks, 5-10x more for small files).
    size=$(( ($(du -sb "$committed" | cut -f1) + 1023) / 1024 ))
    rows+=("$(printf '| %s | %s | %s | %s | %s | %s | %s files, %s KiB | %s |' \
        "$t" "$seconds" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$files" "$size" "$found")")
done

echo
echo "| target | seconds | executions | exec/s | cov | ft | committed corpus | findings |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit "$status"
