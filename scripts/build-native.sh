#!/usr/bin/env bash
# Builds the shipped JNI library, libpaws_jni.so, for an old glibc, and prints its path
# (the only line on stdout; progress goes to stderr).
#
#   bash scripts/build-native.sh               # -> <target>/x86_64-unknown-linux-gnu/release/libpaws_jni.so
#   so=$(bash scripts/build-native.sh)         # as scripts/test-spark.sh uses it
#   PAWS_NATIVE_FEATURES=test-hooks bash scripts/build-native.sh
#       # the test library (paws-jni's debug exports), copied to
#       # <target>/x86_64-unknown-linux-gnu/release/test-hooks/libpaws_jni.so
#
# Why: a plain `cargo build` links against this machine's glibc (Debian: 2.36) and the
# library then needs GLIBC_2.34 symbols, so `System.load` fails on EMR 6 (Amazon Linux
# 2, glibc 2.26) with "GLIBC_2.34 not found". `cargo zigbuild --target
# x86_64-unknown-linux-gnu.2.17` links with zig's linker against glibc 2.17 stubs, so
# the library needs at most what 2.17 had and loads on EMR 6, EMR 7 (AL2023, 2.34) and
# any newer Linux. The code is compiled for the baseline x86-64 CPU (no
# target-cpu=native: executors may run on older CPUs than the build machine).
#
# Tools: `ziglang` and `cargo-zigbuild` from PyPI (need_zig in scripts/lib.sh). The
# Rust target is the host's own, so rustup downloads nothing. Every other cargo build of
# the scripts uses the same target and packages (paws_cargo in scripts/lib.sh), so this
# reuses what the demo or the tests compiled.
#
# Environment:
#   CARGO_TARGET_DIR   cargo's target directory (default: target/ of the repository)
#   PAWS_CACHE         where the venv lives (default ~/.cache/paws)
#   PAWS_GLIBC         glibc version to link against (default 2.17)
#   PAWS_GLIBC_MAX     the floor the result must not exceed (default 2.26); the build
#                      fails if objdump shows a newer GLIBC_x.y symbol version
#   PAWS_NATIVE_FEATURES  paws-jni Cargo features, comma-separated (default none: the
#                      shipped library); a library with features is also copied to a
#                      folder named after them, whose path is printed (cargo's own path
#                      holds the last build's library, whatever its features)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

# step() prints on stderr, but the commands it runs print on stdout; stdout is kept for
# the path alone.
exec 3>&1 1>&2

need_rust

need_zig
glibc=$PAWS_GLIBC
glibc_max=${PAWS_GLIBC_MAX:-2.26}
target=$PAWS_TARGET
target_dir=$(dirname "$(dirname "$(paws_bin_dir)")")
so=$target_dir/$target/release/libpaws_jni.so

features=${PAWS_NATIVE_FEATURES:-}
feature_args=()
[[ -n $features ]] && feature_args=(--features "$(sed 's#[^,]*#paws-jni/&#g' <<<"$features")")
# A cdylib's file name carries no hash of its features, so builds with other features
# write the same file, and cargo may take the other build's file for this one's: when the
# features differ from the last build's, paws-jni is compiled again (only that crate).
stamp_features=$target_dir/$target/release/.paws-jni-features
if [[ ! -f $stamp_features || $(cat "$stamp_features") != "$features" ]]; then
    touch rust/paws-jni/src/lib.rs
fi
# The CLI is selected too (already built by the demo or the tests: nothing to do) so
# that features resolve as in every other build and no dependency is compiled again.
step "cargo zigbuild paws-jni (glibc $glibc${features:+, features $features})" \
    paws_cargo build "${PAWS_BUILD_PACKAGES[@]}" "${feature_args[@]}"
mkdir -p "$target_dir/$target/release"
printf '%s' "$features" >"$stamp_features"

if [[ ! -f $so ]]; then
    echo "error: cargo zigbuild finished but $so is missing" >&2
    exit 1
fi
if [[ -n $features ]]; then
    variant=$target_dir/$target/release/${features//,/-}
    mkdir -p "$variant"
    cp "$so" "$variant/libpaws_jni.so.tmp"
    mv "$variant/libpaws_jni.so.tmp" "$variant/libpaws_jni.so"
    so=$variant/libpaws_jni.so
fi
if command -v objdump >/dev/null 2>&1; then
    floor=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
    echo "==> glibc floor of $so: ${floor:-none}" >&2
    if [[ -n $floor ]] && [[ $(printf '%s\n%s\n' "${floor#GLIBC_}" "$glibc_max" | sort -V | tail -1) != "$glibc_max" ]]; then
        echo "error: $so needs $floor, newer than GLIBC_$glibc_max (EMR 6 / Amazon Linux 2)" >&2
        exit 1
    fi
else
    echo "warning: objdump not found (binutils): glibc floor not checked" >&2
fi
echo "$so" >&3
