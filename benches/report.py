"""Writes BENCHMARKS.md from the JSON lines of benches/run.sh (atomically).

  python3 benches/report.py <results folder> <BENCHMARKS.md> <command>
"""

import datetime
import glob
import json
import os
import platform
import subprocess
import sys


def lines(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.startswith("{")]


def first(rows, **match):
    for r in rows:
        if all(r.get(k) == v for k, v in match.items()):
            return r
    return None


def cmd(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=60).stdout.strip() or \
            subprocess.run(args, capture_output=True, text=True, timeout=60).stderr.strip()
    except Exception as e:  # the report still gets written
        return f"unknown ({e})"


def machine():
    model = "unknown"
    try:
        for l in open("/proc/cpuinfo"):
            if l.startswith("model name"):
                model = l.split(":", 1)[1].strip()
                break
        mem = next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]
        mem = f"{int(mem) / 2**20:.0f} GiB"
    except Exception:
        mem = "unknown"
    return f"{model}, {os.cpu_count()} cores visible, {mem} RAM, {platform.system()} {platform.release()}"


def target(ok, text):
    return ("met" if ok else "**missed**") + f" ({text})"


def ceilings(folder, add, summary):
    """What this machine allows at best, measured in the same run: the float64 peak
    (multiply then add, never fused, as paws computes) and the read bandwidth. A sweep
    computes at least the margin of every training row of every model at every iteration;
    that work over the peak is a floor for its training time. A drop-in pass reads every
    cached block byte once (sparse blocks: 8 bytes a non-zero value); 100 passes over the
    read bandwidth are its floor."""
    k = lines(folder, "kernels.jsonl")
    peak = first(k, probe="float64 multiply-add peak")
    probe = first(k, probe="read bandwidth")
    sg = first(lines(folder, "sgemm.jsonl"))
    if not peak:
        return
    add("## Ceilings of this machine (same run)\n")
    add(f"- float64 multiply-then-add peak ({peak['simd']}, {peak['threads']} threads, registers "
        f"only): {peak['gflop_per_s']:.1f} GFLOP/s"
        + (f" = {peak['gflop_per_s'] / sg['gflop_per_s']:.2f}× numpy's sgemm." if sg else "."))
    add("\n| what | measured | floor at the ceiling | target |")
    add("|---|---|---|---|")
    # The target each workload's in-process time is held to, and which time it counts.
    targets = {"w1": ("training ≤ 0.5 s", "train_seconds"), "w2": ("≤ 3 s", "seconds"),
               "w3": ("≤ 60 s", "seconds")}
    for w in ("w1", "w2", "w3"):
        r = first(lines(folder, f"{w}-inprocess.jsonl"), engine="paws in-process (batched)")
        if not r or "margin_gflop" not in r:
            continue
        floor = r["margin_gflop"] / peak["gflop_per_s"]
        name, key = targets[w]
        add(f"| {w.upper()} in process: margins ({r['margin_gflop']:.0f} GFLOP) | "
            f"{r[key]:.2f} s | {floor:.2f} s | {name} |")
        # W2's and W3's targets are in the summary already (the sweeps' table); W1's
        # training target is only here.
        if w == "w1":
            summary.append(("W1 in process training ≤ 0.5 s",
                            target(r[key] <= 0.5, f"{r[key]:.2f} s; floor of its margins at "
                                   f"the float64 peak {floor:.2f} s")))
    best = max((r["gflop_per_s"] for r in k
                if r.get("kernel") == "batched pass" and r["models"] >= 32), default=None)
    if sg and best:
        cap = peak["gflop_per_s"] / sg["gflop_per_s"]
        add(f"| batched pass (K ≥ 32) | {best / sg['gflop_per_s']:.2f}× sgemm | "
            f"{cap:.2f}× sgemm (the peak) | ≥ 0.4× sgemm |")
        summary.append(("batched pass (K ≥ 32) ≥ 0.4× sgemm",
                        target(best / sg["gflop_per_s"] >= 0.4,
                               f"{best / sg['gflop_per_s']:.2f}×; the float64 peak is {cap:.2f}×")))
    drop = lines(folder, "dropin-spark.jsonl")
    b = first(drop, engine="paws drop-in (barrier)")
    m = first(drop, engine="MLlib SVMWithSGD drop-in")
    if probe and b and m:
        # The blocks the passes read: sparse (8 bytes a non-zero value) or dense (4 a value).
        size = b.get("block_bytes", b["rows"] * b["features"] * 4)
        floor = 100 * size / (probe["gb_per_s"] * 1e9)
        add(f"| drop-in: 100 passes over {size / 1e6:.0f} MB of {b.get('blocks', 'dense')} float32 blocks | "
            f"{b['seconds']:.2f} s ({m['seconds'] / b['seconds']:.1f}× MLlib) | {floor:.2f} s "
            f"({m['seconds'] / floor:.1f}× MLlib) | ≤ 0.5 s, ≥ 10× MLlib |")
    add("")


def main(folder, out, command):
    md = []
    add = md.append
    add("# paws benchmarks\n")
    add(f"Command: `{command}` (results as JSON lines in `{folder}/`). Written "
        f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}.\n")
    add(f"- Machine: {machine()}. Shared and noisy: compare ratios measured in the same run.")
    add(f"- Versions: {cmd('rustc', '-V')}; {cmd('java', '-version').splitlines()[0]}; "
        "Spark 3.5.3 (pyspark from PyPI), MLlib of the same jars.")
    add("- Data: `paws-bench gen`: seeded synthetic Oxford-IIIT Pet, 37 breeds with the real "
        "counts (7,349 rows), 4,096-d non-negative float32 with class structure (VGG16 fc2 "
        "shape), rows grouped by breed as `paws extract` writes them.\n")

    add("## Sweeps (wall seconds, 9 splits × 100 iterations per model)\n")
    add("| workload | engine | models | seconds | × paws |")
    add("|---|---|---|---|---|")
    summary = []
    for w in ("w1", "w2", "w3"):
        rows = lines(folder, f"{w}-inprocess.jsonl") + lines(folder, f"{w}-spark.jsonl") + \
            lines(folder, f"{w}-sklearn.jsonl")
        if not rows:
            continue
        base = first(rows, engine="paws in-process (batched)")
        for r in rows:
            ratio = f"{r['seconds'] / base['seconds']:.1f}" if base else ""
            add(f"| {w.upper()} | {r['engine']} | {r['models']} | {r['seconds']:.2f} | {ratio} |")
        barrier = first(rows, engine="paws on Spark (barrier)")
        mllib = first(rows, engine="MLlib SVMWithSGD")
        if w in ("w1", "w2") and barrier:
            limit = 8 if w == "w1" else 6
            summary.append((f"{w.upper()} through Spark local[2], barrier driver ≤ {limit} s "
                            "(run in a fresh spark-submit JVM, SparkContext start not counted)",
                            target(barrier["seconds"] <= limit, f"{barrier['seconds']:.1f} s "
                                   f"(load {barrier['load_seconds']:.1f} s, train {barrier['train_seconds']:.2f} s)")))
            if mllib:
                x = mllib["seconds"] / barrier["train_seconds"]
                summary.append((f"{w.upper()}: training ≥ 10× MLlib SVMWithSGD on a cached RDD",
                                target(x >= 10, f"{x:.1f}×")))
        if w == "w2" and base:
            summary.append(("W2 ≤ 3 s (in process)", target(base["seconds"] <= 3, f"{base['seconds']:.2f} s")))
        if w == "w3" and base:
            summary.append(("W3 ≤ 60 s (in process)", target(base["seconds"] <= 60, f"{base['seconds']:.0f} s")))
    add("")

    whole = lines(folder, "whole.jsonl")
    if whole:
        add("## Whole process through `spark-submit` (`benches/whole.sh`: command to exit, "
            "PetBreedExperiment, local[2], Spark UI on)\n")
        add("| workload | engine | median seconds | runs |")
        add("|---|---|---|---|")
        for r in whole:
            runs = ", ".join(f"{t:.1f}" for t in r["runs"])
            add(f"| {r['workload']} | {r['engine']} | {r['seconds']:.2f} | {runs} |")
        add("")
        for w, limit in (("W1", 8), ("W2", 6), ("W1 legacy", 10)):
            for r in (x for x in whole if x["workload"] == w):
                summary.append((f"{w} whole `spark-submit` process ≤ {limit} s ({r['engine']})",
                                target(r["seconds"] <= limit, f"median {r['seconds']:.1f} s")))

    k = lines(folder, "kernels.jsonl")
    sg = first(lines(folder, "sgemm.jsonl"))
    if k:
        add("## Kernels\n")
        probe = first(k, probe="read bandwidth")
        single = first(k, kernel="single-model pass")
        add(f"- Read-bandwidth probe ({probe['threads']} threads): {probe['gb_per_s']:.1f} GB/s.")
        add(f"- Single-model gradient pass over all rows: {single['gb_per_s']:.1f} GB/s of features "
            f"= {single['share_of_probe']:.2f} of the probe.")
        summary.append(("single-model pass ≥ 0.70 of the probe",
                        target(single["share_of_probe"] >= 0.7, f"{single['share_of_probe']:.2f}")))
        if sg:
            add(f"- numpy sgemm ({sg['n']}²): {sg['gflop_per_s']:.1f} GFLOP/s (float32).")
        add("\n| batched pass | SIMD | GFLOP/s | × sgemm |")
        add("|---|---|---|---|")
        best32 = 0.0
        for r in k:
            if r.get("kernel") != "batched pass":
                continue
            ratio = f"{r['gflop_per_s'] / sg['gflop_per_s']:.2f}" if sg else ""
            add(f"| K = {r['models']} | {r['simd']} | {r['gflop_per_s']:.1f} | {ratio} |")
            if r["models"] >= 32:
                best32 = max(best32, r["gflop_per_s"])
        for r in k:
            if r.get("kernel") == "gemm crate f64 pass":
                ratio = f"{r['gflop_per_s'] / sg['gflop_per_s']:.2f}" if sg else ""
                add(f"| K = {r['models']}, `gemm` crate f64 (FMA, reordered sums: reference only) "
                    f"| best | {r['gflop_per_s']:.1f} | {ratio} |")
        if sg:
            summary.append(("batched pass (K ≥ 32) ≥ 0.7× sgemm",
                            target(best32 / sg["gflop_per_s"] >= 0.7, f"{best32 / sg['gflop_per_s']:.2f}×")))
        add("")

    drop = lines(folder, "dropin-spark.jsonl")
    if drop:
        add("## Drop-in: one `train(rdd, 100, 1.0, 0.01, 1.0)` on a cached 7,390 × 4,096 RDD\n")
        add("| engine | seconds | × MLlib |")
        add("|---|---|---|")
        m = first(drop, engine="MLlib SVMWithSGD drop-in")
        for r in drop:
            ratio = f"{m['seconds'] / r['seconds']:.1f}" if m else ""
            add(f"| {r['engine']} | {r['seconds']:.2f} | {ratio} |")
        b = first(drop, engine="paws drop-in (barrier)")
        if b and m:
            summary.append(("drop-in NativeSVMWithSGD.train ≤ 0.5 s and ≥ 10× MLlib",
                            target(b["seconds"] <= 0.5 and m["seconds"] / b["seconds"] >= 10,
                                   f"{b['seconds']:.2f} s, {m['seconds'] / b['seconds']:.1f}×")))
        add("")

    # paws extract with each backend ("paws extract (tract)", "paws extract
    # (onnxruntime)"; an older run has one "paws extract" row), then Python onnxruntime.
    paws_w4 = lines(folder, "w4-paws.jsonl")
    ort_py = first(lines(folder, "w4-onnxruntime.jsonl"), engine="onnxruntime")
    if paws_w4 and ort_py:
        add("## W4: feature extraction of the 600 sample photos\n")
        add("| engine | threads | images/s | × onnxruntime (Python) |")
        add("|---|---|---|---|")
        for r in paws_w4 + [ort_py]:
            x = r["images_per_s"] / ort_py["images_per_s"]
            add(f"| {r['engine']} | {r['threads']} | {r['images_per_s']:.1f} | {x:.2f} |")
        for r in paws_w4:
            x = r["images_per_s"] / ort_py["images_per_s"]
            summary.append((f"extraction ≥ 1.0× onnxruntime ({r['engine']})",
                            target(x >= 1.0, f"{x:.2f}×")))
        add("")

    mem = first(lines(folder, "memory.jsonl"))
    mem_spark = first(lines(folder, "memory-spark.jsonl"))
    if mem:
        add(f"## Memory: W1 on the 10× set ({mem['rows']:,} × {mem['dim']:,}, "
            f"{mem['raw_bytes'] / 1e9:.2f} GB of float32)\n")
        add("| what | bytes | × raw |")
        add("|---|---|---|")
        add(f"| `paws experiment` peak resident memory | {mem['peak_rss_bytes'] / 1e9:.2f} GB | {mem['ratio']:.2f} |")
        summary.append(("`paws experiment` peak memory ≤ 1.3× raw (10× set)",
                         target(mem["ratio"] <= 1.3, f"{mem['ratio']:.2f}×")))
        if mem_spark:
            x = mem_spark["cached_bytes"] / mem_spark["raw_bytes"]
            add(f"| Spark cached blocks (`PetBreedExperiment`) | {mem_spark['cached_bytes'] / 1e9:.2f} GB | {x:.3f} |")
            summary.append(("Spark cached blocks ≤ 1.5× raw (10× set)", target(x <= 1.5, f"{x:.3f}×")))
        add("")

    ceilings(folder, add, summary)

    add("## Targets (issues 4, 13 and 14)\n")
    add("| target | result |")
    add("|---|---|")
    for name, res in summary:
        add(f"| {name} | {res} |")
    cache = first(lines(folder, "w1-spark.jsonl"), engine="paws on Spark (barrier)")
    if cache and cache.get("raw_bytes"):
        x = cache["cached_bytes"] / cache["raw_bytes"]
        add(f"| cached data ≤ 1.5× raw float32 | {target(x <= 1.5, f'{x:.3f}× (Spark storage info, W1)')} |")
    else:
        add("| cached data ≤ 1.5× raw float32 | not measured in this run |")
    add("")
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(md) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
