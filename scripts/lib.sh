# Shared helpers of the paws scripts (sourced, not run).

# Runs a command with a heading and its wall time.
step() {
    local name=$1
    shift
    local t0=$SECONDS
    echo "==> $name: $*" >&2
    "$@"
    echo "==> $name: done in $((SECONDS - t0)) s" >&2
}

# Rust 1.85+ with rustfmt and clippy. The machines come with rustup's toolchain; Debian's
# packaged rustc is too old for the dependencies, so a missing toolchain is an error
# with instructions rather than an apt install that cannot work.
need_rust() {
    if [[ -d "$HOME/.cargo/bin" ]]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "error: cargo not found; install Rust 1.85 or newer with rustup (https://rustup.rs)" >&2
        exit 1
    fi
    if command -v rustup >/dev/null 2>&1; then
        rustup component list --installed 2>/dev/null | grep '^rustfmt' >/dev/null || rustup component add rustfmt
        rustup component list --installed 2>/dev/null | grep '^clippy' >/dev/null || rustup component add clippy
    fi
}

# A venv with pyspark (Spark's jars and spark-submit), pytest, numpy (pyspark.mllib needs
# it), what the notebook tests run Jupyter notebooks with (nbclient, ipykernel) and
# build python/ with (wheel, for setuptools without build isolation), in
# ${PAWS_CACHE:-~/.cache/paws}/spark-venv, installed from PyPI when missing (the extras
# also into an existing venv made before they were added); exports SPARK_HOME,
# SPARK_LOCAL_IP and JAVA_HOME (from the java on PATH) and sets SPARK_VENV.
PYSPARK_VERSION=3.5.3
# onnxruntime: its wheel's libonnxruntime is the library of `paws extract --backend
# onnxruntime`, which paws-vision's tests compare with tract (scripts/test.sh).
SPARK_VENV_EXTRAS=("numpy==1.26.4" "nbclient==0.11.0" "ipykernel==7.4.0" "wheel==0.45.1" "onnxruntime==1.32.0")
need_spark() {
    local cache=${PAWS_CACHE:-$HOME/.cache/paws}
    SPARK_VENV=$cache/spark-venv
    if ! { [[ -x $SPARK_VENV/bin/python ]] &&
        "$SPARK_VENV/bin/python" -c "import pyspark, pytest, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" \
            >/dev/null 2>&1; }; then
        step "venv with pyspark==$PYSPARK_VERSION in $SPARK_VENV" bash -c \
            "rm -rf '$SPARK_VENV' && mkdir -p '$cache' && python3 -m venv '$SPARK_VENV' &&
             '$SPARK_VENV/bin/pip' install -q 'pyspark==$PYSPARK_VERSION' pytest"
    fi
    # Added to an existing venv in place (pyspark stays): a venv made before the
    # notebook tests lacks them.
    local stamp
    stamp=$SPARK_VENV/.paws-extras-$(echo "${SPARK_VENV_EXTRAS[*]}" | md5sum | cut -c1-12)
    if [[ ! -f $stamp ]]; then
        step "pip install ${SPARK_VENV_EXTRAS[*]} into $SPARK_VENV" \
            "$SPARK_VENV/bin/pip" install -q "${SPARK_VENV_EXTRAS[@]}"
        "$SPARK_VENV/bin/python" -c "import numpy, nbclient, ipykernel, wheel, onnxruntime" && touch "$stamp"
    fi
    SPARK_HOME=$("$SPARK_VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
    export SPARK_HOME
    export SPARK_LOCAL_IP=127.0.0.1
    if [[ -z ${JAVA_HOME:-} ]]; then
        JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
        export JAVA_HOME
    fi
}

# `onnxruntime_lib VENV`: the libonnxruntime.so.1.* that the onnxruntime wheel installed in
# VENV ships (onnxruntime/capi/), for ORT_DYLIB_PATH / --onnxruntime-lib; fails, naming
# the venv, when there is none.
onnxruntime_lib() {
    local lib
    lib=$(find "$1"/lib/python3*/site-packages/onnxruntime/capi -maxdepth 1 -name 'libonnxruntime.so.1*' 2>/dev/null | sort -V | tail -1)
    if [[ -z $lib ]]; then
        echo "error: no onnxruntime/capi/libonnxruntime.so.1* in $1 (pip install onnxruntime)" >&2
        return 1
    fi
    echo "$lib"
}

# One build of the dependency graph for everything: the demo's `paws`, the tests and the
# library in the jar. The shipped JNI library must be linked by zig against glibc 2.17
# (`cargo zigbuild`: EMR 6 has glibc 2.26), and a plain `cargo build` beside it would
# compile every crate a second time for the host (other linker and C compiler, other
# artifacts). So every cargo command of the scripts runs through cargo-zigbuild, for the
# one target below, in the release profile.
PAWS_TARGET=x86_64-unknown-linux-gnu
PAWS_GLIBC=${PAWS_GLIBC:-2.17}
ZIGBUILD_VERSION=0.24.1
ZIGLANG_VERSION=0.15.2

# `ziglang` (zig as a PyPI wheel) and `cargo-zigbuild` from PyPI, pinned (bump both
# together: a zig release can change its command line, which cargo-zigbuild follows), in
# ${PAWS_CACHE:-~/.cache/paws}/zig-venv; puts them on PATH.
need_zig() {
    local cache=${PAWS_CACHE:-$HOME/.cache/paws}
    local venv=$cache/zig-venv
    local stamp=$venv/.paws-installed-$ZIGBUILD_VERSION-$ZIGLANG_VERSION
    if [[ ! -f $stamp ]]; then
        local python
        python=$(command -v python3 || true)
        if [[ -z $python ]]; then
            echo "error: python3 (3.8+, with venv) is needed to install ziglang and cargo-zigbuild from PyPI" >&2
            exit 1
        fi
        if [[ ! -x $venv/bin/python ]]; then
            step "create $venv" "$python" -m venv "$venv"
        fi
        step "pip install ziglang cargo-zigbuild" "$venv/bin/python" -m pip install -q \
            "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$ZIGBUILD_VERSION"
        touch "$stamp"
    fi
    export PATH="$venv/bin:$PATH"
    # cargo-zigbuild finds zig through `python -m ziglang` when no `zig` is on PATH; say
    # so explicitly, so an unrelated zig elsewhere on PATH is not picked up.
    export CARGO_ZIGBUILD_ZIG_PATH="$venv/bin/python -m ziglang"
    # zig's cache of compiled glibc stubs and compiler-rt lives with the venv.
    export ZIG_GLOBAL_CACHE_DIR=${ZIG_GLOBAL_CACHE_DIR:-$cache/zig-cache}
}

# `paws_cargo <build|test|clippy> [args]`: cargo for the one paws target, release profile,
# locked. RUSTFLAGS stays whatever the caller set (never target-cpu=native: executors may
# run on older CPUs than the build machine); the explicit --target also keeps host
# RUSTFLAGS away from build scripts.
paws_cargo() {
    local sub=$1
    shift
    [[ $sub == build ]] && sub=zigbuild
    cargo-zigbuild "$sub" --release --locked --target "$PAWS_TARGET.$PAWS_GLIBC" "$@"
}

# Where paws_cargo puts binaries and the library (CARGO_TARGET_DIR is followed).
paws_bin_dir() {
    local dir=${CARGO_TARGET_DIR:-target}
    mkdir -p "$dir"
    echo "$(cd "$dir" && pwd)/$PAWS_TARGET/release"
}

# The packages every build selects: the CLI and the JNI library together, so that the
# demo, the tests (--workspace) and scripts/build-native.sh resolve the same features
# for every dependency and share one set of compiled crates.
PAWS_BUILD_PACKAGES=(-p paws-cli -p paws-jni)

# The local AWS of the S3 and EMR tests, pinned from PyPI, in
# ${PAWS_CACHE:-~/.cache/paws}/aws-venv: moto's server (S3 and EMR on 127.0.0.1; each
# test starts and stops its own), the aws CLI (emr/paws-emr drives it) and pytest (the
# EMR kit's tests).
AWS_TOOLS=("moto[server]==5.2.5" "awscli==1.46.2" "pytest==8.3.4")
aws_venv() { echo "${PAWS_CACHE:-$HOME/.cache/paws}/aws-venv"; }

# Installs the venv when missing or when its pins changed. Exports nothing, so that
# scripts/test.sh can run it in the background while clippy compiles.
install_aws_tools() {
    local venv stamp
    venv=$(aws_venv)
    stamp=$venv/.paws-installed-$(echo "${AWS_TOOLS[*]}" | md5sum | cut -c1-12)
    if [[ ! -f $stamp ]]; then
        rm -rf "$venv"
        step "venv with ${AWS_TOOLS[*]} in $venv" bash -c \
            'python3 -m venv "$0" && "$0/bin/pip" install -q "$@"' "$venv" "${AWS_TOOLS[@]}"
        touch "$stamp"
    fi
}

# Installs the venv if needed and exports PAWS_AWS_VENV, PAWS_MOTO_SERVER and
# PAWS_REQUIRE_MOTO=1 (a test that cannot start moto fails instead of skipping).
need_aws_tools() {
    install_aws_tools
    export PAWS_AWS_VENV
    PAWS_AWS_VENV=$(aws_venv)
    export PAWS_MOTO_SERVER=$PAWS_AWS_VENV/bin/moto_server
    export PAWS_REQUIRE_MOTO=1
}

# The browser test's tools: Debian's chromium (apt, as root or through sudo) and
# playwright-core from npm (pinned by tests/browser/package-lock.json, into
# tests/browser/node_modules). Exports nothing, so that scripts/test.sh can run it in the
# background while clippy compiles. PAWS_CHROMIUM names another Chromium binary.
install_browser_tools() {
    local chromium=${PAWS_CHROMIUM:-/usr/bin/chromium}
    if [[ ! -x $chromium ]]; then
        local sudo=()
        ((EUID == 0)) || sudo=(sudo)
        if ! command -v apt-get >/dev/null 2>&1; then
            echo "error: $chromium not found and no apt-get: install Chromium and set PAWS_CHROMIUM" >&2
            return 1
        fi
        step "apt-get install chromium" bash -c \
            '"$@" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "$@" apt-get install -y -qq chromium >/dev/null' \
            _ "${sudo[@]}"
    fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "error: npm not found: the browser test needs Node.js 20 and npm" >&2
        return 1
    fi
    local lock=tests/browser/package-lock.json
    local stamp=tests/browser/node_modules/.paws-$(md5sum <"$lock" | cut -c1-12)
    if [[ ! -f $stamp ]]; then
        step "npm ci (playwright-core)" npm ci --prefix tests/browser --no-audit --no-fund --silent
        touch "$stamp"
    fi
}
