#!/usr/bin/env python3
"""Writes the tiny ONNX fixture used by rust/paws-vision's tests (needs numpy, onnx).

  input  "input"    float32 [N, 3, H, W]
  output "features" float32 [N, 3]   mean of each input channel (GlobalAveragePool)
  output "fc2"      float32 [N, 3]   Relu(features), a user-named output
  output "logits"   float32 [N, 4]   features @ W.T + b, W and b fixed below

Usage: make_test_model.py OUTPUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

W = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], dtype=np.float32)
B = np.array([0, 0, 0, 0.5], dtype=np.float32)


def main(out: str) -> None:
    nodes = [
        helper.make_node("GlobalAveragePool", ["input"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["features"], axis=1),
        helper.make_node("Relu", ["features"], ["fc2"]),
        helper.make_node("Gemm", ["features", "W", "B"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "paws_tiny_test",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_value_info("fc2", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 4]),
        ],
        initializer=[numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="paws tools/make_test_model.py")
    model.ir_version = 8
    helper.set_model_props(model, {"model_id": "paws-tiny-test"})
    onnx.checker.check_model(model, full_check=True)
    with open(out, "wb") as f:
        f.write(model.SerializeToString())


if __name__ == "__main__":
    main(sys.argv[1])
