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
        rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
        rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
    fi
}

# A venv with pyspark (Spark's jars and spark-submit) and pytest, in
# ${PAWS_CACHE:-~/.cache/paws}/spark-venv, installed from PyPI when missing; exports
# SPARK_HOME, SPARK_LOCAL_IP and JAVA_HOME (from the java on PATH) and sets SPARK_VENV.
PYSPARK_VERSION=3.5.3
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
    SPARK_HOME=$("$SPARK_VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
    export SPARK_HOME
    export SPARK_LOCAL_IP=127.0.0.1
    if [[ -z ${JAVA_HOME:-} ]]; then
        JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
        export JAVA_HOME
    fi
}
