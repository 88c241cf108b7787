#!/usr/bin/env python3
"""Dev check: tract (through paws-vision) against onnxruntime on the same input tensor.

  cargo run --release -p paws-vision --example dump_tensors -- MODEL IMAGE DIR
  check_tract_vs_onnxruntime.py MODEL DIR

Needs numpy and onnxruntime (not needed by scripts/fetch-model.sh). Prints the largest
absolute difference of each output and exits 1 when it exceeds --tolerance.
"""
import argparse
import os
import sys

import numpy as np
import onnxruntime as ort


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("dir", help="the output directory of the dump_tensors example")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    sess = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    size = inp.shape[-1]
    x = np.fromfile(os.path.join(args.dir, "input.f32"), dtype="<f4").reshape(1, 3, size, size)
    names = [o.name for o in sess.get_outputs()]
    outs = dict(zip(names, sess.run(names, {inp.name: x})))
    worst = 0.0
    for name in ("features", "logits"):
        path = os.path.join(args.dir, name + ".f32")
        if not os.path.exists(path) or name not in outs:
            continue
        tract = np.fromfile(path, dtype="<f4")
        ref = outs[name].reshape(-1)
        diff = float(np.max(np.abs(tract - ref)))
        worst = max(worst, diff)
        extra = f", top-1 tract {tract.argmax()} onnxruntime {ref.argmax()}" if name == "logits" else ""
        print(f"{name}: max |tract - onnxruntime| = {diff:.3g} (max |value| {np.abs(ref).max():.3g}){extra}")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
