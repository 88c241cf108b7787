"""Peak resident memory of `paws experiment` against the raw float32 size of its
features (issue 14's 1.3× target), as one JSON line.

    python3 benches/memory.py PAWS FEATURES.parquet [CLASS]

Runs `paws experiment --features FEATURES --class CLASS --vs all` (W1's shape) into a
temporary folder; the peak is the child's maximum resident set size (getrusage), the
raw size rows × dim × 4 from the run's own log line `load: N rows × D features`.
"""

import json
import re
import resource
import subprocess
import sys
import tempfile
import time


def main(paws, features, cls="american_bulldog"):
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/out"
        t0 = time.perf_counter()
        subprocess.run([paws, "experiment", "--features", features, "--class", cls, "--vs", "all",
                        "-o", out], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        log = open(f"{out}/paws.log", encoding="utf-8").read()
    m = re.search(r"load: (\d+) rows × (\d+) features", log)
    if not m:
        sys.exit(f"memory.py: no 'load:' line in the run's log:\n{log[:2000]}")
    rows, dim = int(m.group(1)), int(m.group(2))
    raw = rows * dim * 4
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps({"engine": "paws experiment (in process)", "rows": rows, "dim": dim,
                      "raw_bytes": raw, "peak_rss_bytes": peak, "ratio": peak / raw,
                      "seconds": seconds}))


if __name__ == "__main__":
    main(*sys.argv[1:])
