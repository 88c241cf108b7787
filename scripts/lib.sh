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
