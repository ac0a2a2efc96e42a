"""Open Inference Protocol datatypes and their numpy dtypes, in one table."""

from __future__ import annotations

import numpy as np

# V2 datatype -> numpy dtype. BYTES tensors are numpy object arrays of bytes or str.
NUMPY = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}

# Little-endian wire dtypes for the binary tensor extension.
WIRE = {name: dtype.newbyteorder("<") for name, dtype in NUMPY.items() if name != "BYTES"}

# onnxruntime's type strings, e.g. "tensor(float)".
_ONNX = {
    "tensor(bool)": "BOOL", "tensor(uint8)": "UINT8", "tensor(uint16)": "UINT16",
    "tensor(uint32)": "UINT32", "tensor(uint64)": "UINT64", "tensor(int8)": "INT8",
    "tensor(int16)": "INT16", "tensor(int32)": "INT32", "tensor(int64)": "INT64",
    "tensor(float16)": "FP16", "tensor(float)": "FP32", "tensor(double)": "FP64",
    "tensor(string)": "BYTES",
}


def from_onnx(type_string: str) -> str | None:
    """The V2 datatype of an onnxruntime type string; None for maps, sequences and others."""
    return _ONNX.get(type_string)


def from_numpy(dtype: np.dtype) -> str:
    """The V2 datatype of a numpy dtype (strings and objects are BYTES)."""
    for name, candidate in NUMPY.items():
        if candidate == dtype and name != "BYTES":
            return name
    return "BYTES"
