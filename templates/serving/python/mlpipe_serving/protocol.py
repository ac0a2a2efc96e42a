"""Open Inference Protocol V2 bodies: requests checked against the signature, responses
encoded, both with the binary tensor extension that Triton's clients use by default.

A request is turned into numpy arrays in one pass per input (no per-element Python loop
for numeric tensors); a response is written by orjson straight from the arrays.
"""

from __future__ import annotations

import struct
from math import prod
from typing import Any, Optional

import numpy as np
import orjson

from . import datatypes
from .package import TensorSpec
from .runtime import Model

JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
_INT_LIMITS = {name: np.iinfo(dtype) for name, dtype in datatypes.NUMPY.items() if dtype.kind in "iu"}
# The kinds of numpy array that JSON data may become for each kind of target datatype.
_ACCEPTED_KINDS = {"b": "b", "i": "iu", "u": "iu", "f": "iuf"}


class ProtocolError(Exception):
    """A request the server refuses: `status` is the HTTP status, the message goes to the client."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class InferRequest:
    """A checked V2 request: inputs as arrays, the outputs to return and how."""

    __slots__ = ("id", "inputs", "outputs", "binary")

    def __init__(self, request_id: Optional[str], inputs: dict[str, np.ndarray],
                 outputs: tuple[str, ...], binary: tuple[bool, ...]):
        self.id = request_id
        self.inputs = inputs
        self.outputs = outputs
        self.binary = binary


def parse_json(body: bytes) -> Any:
    """The body as JSON, or a 400 that says where it broke."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ProtocolError(f"request body is not valid JSON: {error}") from None


def decode_infer(body: bytes, header_length: Optional[str], model: Model) -> InferRequest:
    """Checks a V2 infer body against the model's signature: every input named once with
    the signature's datatype, a shape that fits and exactly that many elements."""
    binary = b""
    if header_length is not None:
        try:
            split = int(header_length)
        except ValueError:
            split = -1
        if not 0 <= split <= len(body):
            raise ProtocolError(f"Inference-Header-Content-Length {header_length!r} is not a length "
                                f"within the {len(body)}-byte body")
        body, binary = body[:split], memoryview(body)[split:]
    doc = parse_json(body)
    if not isinstance(doc, dict):
        raise ProtocolError("request body must be a JSON object with an 'inputs' list")
    items = doc.get("inputs")
    if not isinstance(items, list) or not items:
        raise ProtocolError("request must have a non-empty 'inputs' list")
    specs = {s.name: s for s in model.inputs}
    inputs: dict[str, np.ndarray] = {}
    offset = 0
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ProtocolError("each of 'inputs' must be an object with name, datatype, shape and data")
        name = item["name"]
        spec = specs.get(name)
        if spec is None:
            raise ProtocolError(f"unknown input {name!r}: model {model.name!r} takes {_describe(model.inputs)}")
        if name in inputs:
            raise ProtocolError(f"input {name!r} is given twice")
        shape = _check_header(item, spec)
        parameters = item.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise ProtocolError(f"input {name!r}: parameters must be an object")
        if "shared_memory_region" in parameters:
            raise ProtocolError(f"input {name!r}: shared-memory tensors are not supported; send the data")
        size = parameters.get("binary_data_size")
        if size is not None:
            if not isinstance(size, int) or size < 0 or offset + size > len(binary):
                raise ProtocolError(f"input {name!r}: binary_data_size {size!r} runs past the binary part "
                                    f"of the body ({len(binary)} bytes)")
            inputs[name] = _from_binary(binary[offset:offset + size], spec, shape)
            offset += size
        else:
            inputs[name] = _from_json(item.get("data"), spec, shape)
    missing = [s.name for s in model.inputs if s.name not in inputs]
    if missing:
        raise ProtocolError(f"missing input(s) {', '.join(map(repr, missing))}: model {model.name!r} "
                            f"takes {_describe(model.inputs)}")
    if offset != len(binary):
        raise ProtocolError(f"the body has {len(binary) - offset} bytes of binary data that no input claims")
    outputs, flags = _requested_outputs(doc, model)
    request_id = doc.get("id")
    return InferRequest(request_id if isinstance(request_id, str) else None, inputs, outputs, flags)


def encode_infer(model: Model, version: str, request: InferRequest, results: list[np.ndarray]) -> tuple[bytes, Optional[int]]:
    """The V2 response body, and the JSON part's length when binary tensors follow it."""
    specs = {s.name: s for s in model.outputs}
    outputs = []
    tails = []
    for name, array, binary in zip(request.outputs, results, request.binary):
        datatype = specs[name].datatype
        entry: dict[str, Any] = {"name": name, "datatype": datatype, "shape": list(array.shape)}
        if binary:
            raw = _to_binary(array, datatype)
            entry["parameters"] = {"binary_data_size": len(raw)}
            tails.append(raw)
        else:
            entry["data"] = _to_json(array, datatype)
        outputs.append(entry)
    doc: dict[str, Any] = {"model_name": model.name, "model_version": version}
    if request.id is not None:
        doc["id"] = request.id
    doc["outputs"] = outputs
    head = orjson.dumps(doc, option=JSON_OPTIONS)
    if not tails:
        return head, None
    return b"".join([head, *tails]), len(head)


def rows_to_input(doc: Any, model: Model) -> np.ndarray:
    """`/predict`'s body, {"instances": [[...], ...]} or a bare list of rows, as the array
    for the model's single input."""
    rows = doc.get("instances") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not rows:
        raise ProtocolError('expected {"instances": [[...], ...]} or a JSON list of rows')
    if len(model.inputs) != 1:
        raise ProtocolError(f"/predict takes rows for a model with one input; model {model.name!r} takes "
                            f"{_describe(model.inputs)}: use /v2/models/{model.name}/infer")
    spec = model.inputs[0]
    array = _convert(rows, spec, None)
    _check_shape(spec, list(array.shape))
    return array


def _check_header(item: dict, spec: TensorSpec) -> list[int]:
    datatype, shape = item.get("datatype"), item.get("shape")
    if datatype != spec.datatype:
        raise ProtocolError(f"input {spec.name!r} has datatype {datatype!r}; the model expects {spec.datatype}")
    if not isinstance(shape, list) or any(not isinstance(d, int) or isinstance(d, bool) or d < 0 for d in shape):
        raise ProtocolError(f"input {spec.name!r}: shape must be a list of non-negative integers, found {shape!r}")
    _check_shape(spec, shape)
    return shape


def _check_shape(spec: TensorSpec, shape: list[int]) -> None:
    if len(shape) != len(spec.shape) or any(want not in (-1, got) for want, got in zip(spec.shape, shape)):
        raise ProtocolError(f"input {spec.name!r} has shape {list(shape)}; the model expects {list(spec.shape)} "
                            "(-1: any size)")


def _from_json(data: Any, spec: TensorSpec, shape: list[int]) -> np.ndarray:
    if not isinstance(data, list):
        raise ProtocolError(f"input {spec.name!r}: data must be a list (flat, row-major, or nested)")
    array = _convert(data, spec, shape)
    count = prod(shape)
    if array.size != count:
        raise ProtocolError(f"input {spec.name!r}: shape {shape} needs {count} elements, data has {array.size}")
    return array.reshape(shape)


def _convert(data: list, spec: TensorSpec, shape: Optional[list[int]]) -> np.ndarray:
    target = datatypes.NUMPY[spec.datatype]
    try:
        array = np.asarray(data)
    except ValueError:
        raise ProtocolError(f"input {spec.name!r}: data is a ragged nested list") from None
    if target.kind == "O":
        if array.dtype.kind not in "U" and array.size:
            raise ProtocolError(f"input {spec.name!r}: BYTES data must be strings")
        return array.astype(object)
    if array.size and array.dtype.kind not in _ACCEPTED_KINDS[target.kind]:
        raise ProtocolError(f"input {spec.name!r}: data must be {_kind_words(target.kind)} for {spec.datatype}")
    limits = _INT_LIMITS.get(spec.datatype)
    if limits is not None and array.size and (array.min() < limits.min or array.max() > limits.max):
        raise ProtocolError(f"input {spec.name!r}: a value is outside the range of {spec.datatype}")
    return array.astype(target, copy=False)


def _from_binary(raw: memoryview, spec: TensorSpec, shape: list[int]) -> np.ndarray:
    count = prod(shape)
    if spec.datatype == "BYTES":
        values, position = [], 0
        while position < len(raw):
            if position + 4 > len(raw):
                raise ProtocolError(f"input {spec.name!r}: a BYTES element's length prefix is cut off")
            (length,) = struct.unpack_from("<I", raw, position)
            values.append(bytes(raw[position + 4:position + 4 + length]))
            position += 4 + length
        if position != len(raw) or len(values) != count:
            raise ProtocolError(f"input {spec.name!r}: shape {shape} needs {count} BYTES elements, "
                                f"the binary data holds {len(values)}")
        array = np.empty(count, dtype=object)
        array[:] = values
        return array.reshape(shape)
    wire = datatypes.WIRE[spec.datatype]
    if len(raw) != count * wire.itemsize:
        raise ProtocolError(f"input {spec.name!r}: shape {shape} of {spec.datatype} needs "
                            f"{count * wire.itemsize} bytes, binary_data_size is {len(raw)}")
    array = np.frombuffer(raw, dtype=wire).reshape(shape)
    return array.astype(datatypes.NUMPY[spec.datatype], copy=False)


def _requested_outputs(doc: dict, model: Model) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    parameters = doc.get("parameters") or {}
    default_binary = bool(parameters.get("binary_data_output", False)) if isinstance(parameters, dict) else False
    requested = doc.get("outputs")
    if requested is None:
        return model.output_names, (default_binary,) * len(model.output_names)
    if not isinstance(requested, list):
        raise ProtocolError("'outputs' must be a list of {\"name\": ...} objects")
    names, flags = [], []
    for item in requested:
        name = item.get("name") if isinstance(item, dict) else None
        if name not in model.output_names:
            raise ProtocolError(f"unknown output {name!r}: model {model.name!r} returns "
                                f"{_describe(model.outputs)}")
        if name in names:
            continue
        options = item.get("parameters") or {}
        if not isinstance(options, dict):
            raise ProtocolError(f"output {name!r}: parameters must be an object")
        if options.get("classification") or options.get("class_count"):
            raise ProtocolError(f"output {name!r}: the classification extension is not supported")
        if "shared_memory_region" in options:
            raise ProtocolError(f"output {name!r}: shared-memory tensors are not supported")
        names.append(name)
        flags.append(bool(options.get("binary_data", default_binary)))
    if not names:
        return model.output_names, (default_binary,) * len(model.output_names)
    return tuple(names), tuple(flags)


def _to_json(array: np.ndarray, datatype: str) -> Any:
    if datatype == "BYTES":
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in array.ravel().tolist()]
    return np.ascontiguousarray(array.reshape(-1))


def _to_binary(array: np.ndarray, datatype: str) -> bytes:
    if datatype == "BYTES":
        parts = []
        for value in array.ravel().tolist():
            raw = value if isinstance(value, bytes) else str(value).encode()
            parts.append(struct.pack("<I", len(raw)))
            parts.append(raw)
        return b"".join(parts)
    return np.ascontiguousarray(array, dtype=datatypes.WIRE[datatype]).tobytes()


def _describe(specs: tuple[TensorSpec, ...]) -> str:
    return ", ".join(f"{s.name} ({s.datatype} {list(s.shape)})" for s in specs)


def _kind_words(kind: str) -> str:
    return {"b": "booleans", "i": "integers", "u": "integers", "f": "numbers"}[kind]
