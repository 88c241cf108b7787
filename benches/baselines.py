"""Python baselines of the macro benchmark (benches/run.sh runs this in its venv).

  python benches/baselines.py sgd <features.parquet> <class> <all|B,C,...>
      scikit-learn SGDClassifier(loss="hinge") on the sweep: 9 stratified splits per
      comparison, 100 epochs each (max_iter=100, tol=None), alpha=0.01 as MLlib's
      regParam; wall seconds of fitting and scoring.
  python benches/baselines.py sgemm [n]
      OpenBLAS sgemm through numpy: n x n float32 matrix product, best GFLOP/s of 5.
  python benches/baselines.py onnx <model.onnx> <photo folder>
      onnxruntime on every photo of the folder, with paws' preprocessing (short side
      256 bilinear, centre crop 224, (x/255 - 0.5)/0.5): images per second.

Threads follow OMP_NUM_THREADS / OPENBLAS_NUM_THREADS (run.sh sets them to the core
count) and onnxruntime's intra_op_num_threads (PAWS_BENCH_THREADS).
Prints one JSON object per line.
"""

import json
import os
import sys
import time


def load(path):
    import numpy as np
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    labels = t.column("label").to_pylist()
    feats = t.column("features").combine_chunks()
    dim = len(feats[0])
    x = np.asarray(feats.flatten(), dtype=np.float32).reshape(len(labels), dim)
    return x, labels


def sgd(path, cls, vs):
    import numpy as np
    import sklearn
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split

    x, labels = load(path)
    labels = np.asarray(labels)
    others = None if vs == "all" else vs.split(",")
    comparisons = [None] if others is None else sorted(others)
    models, correct, total = 0, 0, 0
    t0 = time.perf_counter()
    for other in comparisons:
        mask = np.ones(len(labels), bool) if other is None else np.isin(labels, [cls, other])
        xs, ys = x[mask], (labels[mask] == cls).astype(np.int32)
        for k, split in enumerate([i / 10 for i in range(1, 10)]):
            xtr, xte, ytr, yte = train_test_split(
                xs, ys, train_size=split, stratify=labels[mask], random_state=42 + k)
            clf = SGDClassifier(loss="hinge", alpha=0.01, max_iter=100, tol=None, random_state=42)
            clf.fit(xtr, ytr)
            correct += int((clf.predict(xte) == yte).sum())
            total += len(yte)
            models += 1
    seconds = time.perf_counter() - t0
    print(json.dumps({"engine": "scikit-learn SGDClassifier(hinge)", "models": models,
                      "seconds": seconds, "mean_accuracy_pct": 100.0 * correct / max(total, 1),
                      "version": sklearn.__version__}))


def sgemm(n):
    import numpy as np

    a = np.random.default_rng(1).random((n, n), dtype=np.float32)
    b = np.random.default_rng(2).random((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(5))
    print(json.dumps({"baseline": "numpy sgemm", "n": n, "seconds": best,
                      "gflop_per_s": 2.0 * n ** 3 / best / 1e9, "numpy": np.__version__}))


def _timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def onnx(model, folder):
    import numpy as np
    import onnxruntime as ort
    from PIL import Image

    threads = int(os.environ.get("PAWS_BENCH_THREADS", "2"))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    files = sorted(f for f in os.listdir(folder) if not f.startswith("."))
    t0 = time.perf_counter()
    done = 0
    for f in files:
        try:
            img = Image.open(os.path.join(folder, f)).convert("RGB")
        except Exception:
            continue
        w, h = img.size
        s = 256 / min(w, h)
        img = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR)
        w, h = img.size
        left, top = (w - 224) // 2, (h - 224) // 2
        img = img.crop((left, top, left + 224, top + 224))
        a = (np.asarray(img, dtype=np.float32) / 255.0 - 0.5) / 0.5
        sess.run(None, {name: a.transpose(2, 0, 1)[None]})
        done += 1
    seconds = time.perf_counter() - t0
    print(json.dumps({"engine": "onnxruntime", "images": done, "seconds": seconds,
                      "images_per_s": done / seconds, "threads": threads,
                      "version": ort.__version__}))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "sgd":
        sgd(*sys.argv[2:5])
    elif cmd == "sgemm":
        sgemm(int(sys.argv[2]) if len(sys.argv) > 2 else 4096)
    elif cmd == "onnx":
        onnx(*sys.argv[2:4])
    else:
        sys.exit(f"unknown command {cmd}")
