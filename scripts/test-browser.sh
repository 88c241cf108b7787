#!/usr/bin/env bash
# paws serve's page in a real headless browser (tests/browser/page.test.mjs): starts
# `paws serve` on a free port of 127.0.0.1, opens the page in Debian's Chromium driven
# by playwright-core, uploads a sample photo, reads the breed the page shows, and keeps
# a screenshot in target/test-artifacts/serve-page.png.
#
#   bash scripts/test-browser.sh
#
# Needs the full `paws` (the cargo test step of scripts/test.sh builds it; or
# PAWS_BIN=...), the CNN (scripts/fetch-model.sh), Node.js with npm, and Chromium (from
# apt when missing). Without ../shared/data the photo is generated and any breed is
# accepted (printed as SKIPPED for the breed check).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

paws=${PAWS_BIN:-$(paws_bin_dir)/paws}
if [[ ! -x $paws ]]; then
    echo "error: $paws not found: build it with bash scripts/build.sh (or set PAWS_BIN)" >&2
    exit 1
fi
install_browser_tools
cnn=$(bash scripts/fetch-model.sh)

artifacts=${CARGO_TARGET_DIR:-target}/test-artifacts
mkdir -p "$artifacts"
work=$(mktemp -d)
server=
cleanup() {
    [[ -n $server ]] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

photo=../shared/data/oxford-pets-37-few/images/pug_112.jpg
expected=pug
if [[ ! -f $photo ]]; then
    echo "SKIPPED: the breed check: $photo not found (the photos live beside the repository); a generated photo is used" >&2
    photo=$work/generated.png
    python3 - "$photo" <<'PY'
import struct, sys, zlib
w, h = 320, 240
rows = bytearray()
for y in range(h):
    rows.append(0)  # filter type: none
    for x in range(w):
        rows += bytes(((x * 7 + y * 3) % 256, (x * y) % 256, (y * 5) % 256))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
    expected=-
fi

"$paws" serve --addr 127.0.0.1:0 --cnn "$cnn" >"$work/stdout" 2>"$work/stderr" &
server=$!
for _ in $(seq 1 300); do
    grep 'listening on' "$work/stdout" >/dev/null 2>&1 && break
    if ! kill -0 "$server" 2>/dev/null; then
        cat "$work/stderr" >&2
        echo "error: paws serve did not start (above)" >&2
        exit 1
    fi
    sleep 0.1
done
url=$(sed -n 's/^paws serve: listening on //p' "$work/stdout")
[[ -n $url ]] || { cat "$work/stderr" >&2; echo "error: paws serve printed no address" >&2; exit 1; }

status=0
node tests/browser/page.test.mjs "$url" "$photo" "$expected" "$artifacts/serve-page.png" || status=$?
kill -TERM "$server"
wait "$server" || { echo "error: paws serve did not stop cleanly on SIGTERM" >&2; status=1; }
server=
if ((status != 0)); then
    echo "--- paws serve's log:" >&2
    cat "$work/stderr" >&2
    exit "$status"
fi
echo "browser: screenshot in $artifacts/serve-page.png" >&2
