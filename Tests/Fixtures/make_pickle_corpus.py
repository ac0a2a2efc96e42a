#!/usr/bin/env python3
"""Writes the pickle, joblib, numpy, PyTorch-layout and archive fixtures for the
ModelFormats scanner tests, with a manifest of what the scanner must say of each.

    make_pickle_corpus.py OUTDIR

Writes OUTDIR/<case files> and OUTDIR/manifest.json:

    {"cases": [{"file": "malicious/reduce_os_system.pkl", "verdict": "unsafe",
                "format": "pickle", "global": "os.system", "kind": "unsafe-global",
                "member": null, "why": "..."}, ...]}

`global`, `kind` and `member`, when not null, must appear together in one finding
of the file's report; `verdict` and `format` are the report's. Benign files come
from the real libraries (pickle, numpy, scikit-learn, joblib, h5py, onnx,
safetensors); PyTorch is not installed, so its zip, legacy and tar layouts are
written here byte for byte as torch.save writes them. Malicious files are
assembled opcode by opcode: one per bypass class that was reported against
picklescan, modelscan or fickling. Nothing here is ever loaded or executed.
"""
import collections
import gzip
import io
import json
import os
import pickle
import struct
import sys
import tarfile
import types
import zipfile
import zlib

import h5py
import joblib
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save as st_save
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.ensemble import RandomForestClassifier

OUT = sys.argv[1]
CASES = []

P = pickle  # opcode constants: P.GLOBAL, P.REDUCE, ...


def case(path, data, verdict, fmt, glob=None, kind=None, member=None, why=""):
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)
    CASES.append({"file": path, "verdict": verdict, "format": fmt, "global": glob,
                  "kind": kind, "member": member, "why": why})


# ------------------------------------------------------------ opcode helpers

def su(text):
    """SHORT_BINUNICODE."""
    b = text.encode()
    return P.SHORT_BINUNICODE + bytes([len(b)]) + b


def g(module, name):
    return P.GLOBAL + module.encode() + b"\n" + name.encode() + b"\n"


def s0(text):
    """Protocol 0 STRING."""
    return P.STRING + repr(text).encode() + b"\n"


def proto(n):
    return P.PROTO + bytes([n])


def call(module, name, *args):
    """GLOBAL module.name, args as protocol 0 STRINGs, TUPLE, REDUCE."""
    return g(module, name) + P.MARK + b"".join(s0(a) for a in args) + P.TUPLE + P.REDUCE


def frame(body):
    return P.FRAME + struct.pack("<Q", len(body)) + body


# ------------------------------------------------------------- fake torch

# torch is not installed: these modules only give pickle the names torch.save
# writes (`torch._utils._rebuild_tensor_v2`, `torch.FloatStorage`).
torch_mod = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch_mod
sys.modules["torch._utils"] = torch_utils
torch_mod._utils = torch_utils


class FloatStorage:
    pass


FloatStorage.__module__ = "torch"
FloatStorage.__qualname__ = "FloatStorage"
torch_mod.FloatStorage = FloatStorage


def _rebuild_tensor_v2(*args):
    raise RuntimeError("never called")


_rebuild_tensor_v2.__module__ = "torch._utils"
_rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class Storage:
    def __init__(self, key, values):
        self.key = key
        self.values = np.asarray(values, dtype="<f4")


class Tensor:
    def __init__(self, key, values, shape):
        self.storage = Storage(key, values)
        self.shape = tuple(shape)

    def __reduce_ex__(self, protocol):
        stride = []
        acc = 1
        for dim in reversed(self.shape):
            stride.insert(0, acc)
            acc *= dim
        return (_rebuild_tensor_v2,
                (self.storage, 0, self.shape, tuple(stride), False, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    legacy = False

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            pid = ("storage", FloatStorage, obj.key, "cpu", obj.values.size)
            return pid + (None,) if self.legacy else pid
        return None


def state_dict():
    return collections.OrderedDict([
        ("linear.weight", Tensor("0", np.arange(12) / 10.0, (3, 4))),
        ("linear.bias", Tensor("1", [0.5, -0.5, 0.25], (3,))),
    ])


def torch_pickle(obj, legacy=False):
    buf = io.BytesIO()
    pickler = TorchPickler(buf, protocol=2)
    pickler.legacy = legacy
    pickler.dump(obj)
    return buf.getvalue()


# ----------------------------------------------------------- zip writer

def zip_bytes(entries, comment=b""):
    """A zip written field by field, so that single fields can lie.

    Each entry: name, data, and optionally method (0 stored / 8 deflate),
    local_name, flags, local_flags, crc, usize (declared uncompressed size)."""
    out = bytearray()
    central = bytearray()
    for e in entries:
        name = e["name"].encode()
        data = e["data"]
        method = e.get("method", 0)
        body = data if method == 0 else zlib.compress(data, 9)[2:-4]
        crc = e.get("crc", zlib.crc32(data) & 0xFFFFFFFF)
        usize = e.get("usize", len(data))
        flags = e.get("flags", 0)
        local_flags = e.get("local_flags", flags)
        local_name = e.get("local_name", e["name"]).encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, local_flags, method, 0, 0x21,
                           crc, len(body), usize, len(local_name), 0) + local_name + body
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0x21,
                               crc, len(body), usize, len(name), 0, 0, 0, 0, 0, offset) + name
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                       cd_offset, len(comment)) + comment
    return bytes(out)


def torch_zip(top="archive", data_pkl=None, extra=(), overrides=None):
    sd = state_dict()
    entries = [{"name": f"{top}/data.pkl", "data": data_pkl or torch_pickle(sd)}]
    if overrides:
        entries[0].update(overrides)
    for tensor in sd.values():
        entries.append({"name": f"{top}/data/{tensor.storage.key}",
                        "data": tensor.storage.values.tobytes()})
    entries += [
        {"name": f"{top}/version", "data": b"3\n"},
        {"name": f"{top}/byteorder", "data": b"little"},
        {"name": f"{top}/.data/serialization_id", "data": b"1234567890123456789012345678901234567890"},
    ]
    entries += list(extra)
    return zip_bytes(entries)


# ----------------------------------------------------------- malicious payloads

class Reduce:
    """An object whose pickle calls func(*args)."""

    def __init__(self, func, *args):
        self.func = func
        self.args = args

    def __reduce__(self):
        return (self.func, self.args)


OS_SYSTEM_P0 = call("os", "system", "id") + P.STOP
OS_SYSTEM_P4 = proto(4) + frame(su("os") + su("system") + P.STACK_GLOBAL + su("id") + P.TUPLE1
                                + P.REDUCE + P.STOP)


def main():
    benign()
    malicious_pickles()
    malicious_archives()
    invalid_streams()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"cases": CASES}, f, indent=1)


# ----------------------------------------------------------------- benign

def benign():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    logistic = LogisticRegression().fit(X, y)
    pipeline = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    forest = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y)

    for protocol in range(6):
        case(f"benign/logistic_p{protocol}.pkl", pickle.dumps(logistic, protocol=protocol),
             "safe", "pickle", why=f"scikit-learn LogisticRegression, protocol {protocol}")
    case("benign/pipeline.pkl", pickle.dumps(pipeline, protocol=4), "safe", "pickle",
         why="scikit-learn Pipeline")
    case("benign/tree.pkl", pickle.dumps(tree, protocol=5), "safe", "pickle",
         why="scikit-learn DecisionTree (sklearn.tree._tree.Tree)")
    case("benign/forest_p2.pkl", pickle.dumps(forest, protocol=2), "safe", "pickle",
         why="scikit-learn RandomForest, protocol 2 (bytes via _codecs.encode)")

    def dumped(obj, **kwargs):
        path = os.path.join(OUT, "_tmp.joblib")
        joblib.dump(obj, path, **kwargs)
        with open(path, "rb") as f:
            data = f.read()
        os.remove(path)
        return data

    case("benign/forest.joblib", dumped(forest), "safe", "joblib",
         why="joblib.dump: array bytes inline after NumpyArrayWrapper")
    case("benign/forest_zlib.joblib", dumped(forest, compress=3), "safe", "joblib",
         why="joblib.dump with zlib compression")
    case("benign/forest_gzip.joblib", dumped(forest, compress=("gzip", 3)), "safe", "joblib",
         why="joblib.dump with gzip compression")
    case("benign/forest_bz2.joblib", dumped(forest, compress=("bz2", 3)), "invalid", "unknown",
         kind="unsupported-compression", why="bz2 cannot be scanned: never safe")
    arrays = {"weights": rng.standard_normal((20, 5)).astype(np.float32),
              "labels": np.array(["a", "bb", "ccc"]), "ids": np.arange(7, dtype=np.int64),
              "fortran": np.asfortranarray(np.ones((3, 4))), "scalar": np.float64(2.5)}
    case("benign/arrays.joblib", dumped(arrays), "safe", "joblib", why="joblib arrays of several dtypes")
    payload_bytes = np.frombuffer(OS_SYSTEM_P0, dtype=np.uint8).copy()
    case("benign/joblib_array_holds_pickle_bytes.joblib", dumped({"raw": payload_bytes}), "safe",
         "joblib", why="array bytes that happen to be a malicious pickle are data, never run")

    for protocol in (2, 4, 5):
        case(f"benign/ndarray_p{protocol}.pkl",
             pickle.dumps({"w": rng.standard_normal((8, 8)), "b": np.zeros(3, np.int32)},
                          protocol=protocol), "safe", "pickle", why=f"numpy arrays, protocol {protocol}")
    case("benign/bytes_hold_pickle.pkl", pickle.dumps({"blob": OS_SYSTEM_P0}, protocol=4), "safe",
         "pickle", why="a bytes value that is a malicious pickle is data")
    case("benign/object_array.pkl", pickle.dumps(np.array([1, "two", 3.0], dtype=object), protocol=4),
         "safe", "pickle", why="numpy object array")
    case("benign/builtins_p0.pkl",
         pickle.dumps({"a": [1, 2.5, "x", None, True], "s": {1, 2}, "f": frozenset([3]),
                       "t": (1, (2, 3)), "c": 1 + 2j, "by": b"\x00\x01", "big": 2 ** 100}, protocol=0),
         "safe", "pickle", why="plain builtins, protocol 0 (no magic byte)")
    case("benign/builtins_p1.pkl", pickle.dumps([collections.OrderedDict(a=1), {"k": 2 ** 70}], protocol=1),
         "safe", "pickle", why="protocol 1")
    case("benign/concatenated.pkl",
         pickle.dumps([1, 2], protocol=2) + pickle.dumps({"x": 1}, protocol=4) + pickle.dumps("s", protocol=0),
         "safe", "pickle", why="three pickles in one file")
    case("benign/pickle_named.txt", pickle.dumps(logistic, protocol=4), "safe", "pickle",
         why="format comes from bytes, not the name")
    case("benign/gzip.pkl.gz", gzip.compress(pickle.dumps(logistic, protocol=4)), "safe", "pickle",
         why="gzip-compressed pickle")

    buf = io.BytesIO()
    np.save(buf, rng.standard_normal((5, 3)))
    case("benign/plain.npy", buf.getvalue(), "safe", "numpy", why=".npy with a plain dtype")
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 2), dtype=[("a", "<i4"), ("b", "<f8")]))
    case("benign/structured.npy", buf.getvalue(), "safe", "numpy", why=".npy structured dtype")
    buf = io.BytesIO()
    np.save(buf, np.array([{"k": 1}, [1, 2]], dtype=object), allow_pickle=True)
    case("benign/object.npy", buf.getvalue(), "safe", "numpy", why=".npy object dtype: a benign pickle")
    buf = io.BytesIO()
    np.savez(buf, a=np.arange(4), b=np.ones(3))
    case("benign/arrays.npz", buf.getvalue(), "safe", "zip", why="np.savez")
    buf = io.BytesIO()
    np.savez_compressed(buf, a=np.arange(1000), o=np.array([1, "x"], dtype=object))
    case("benign/compressed.npz", buf.getvalue(), "safe", "zip",
         why="np.savez_compressed: deflated members streamed, object array pickle scanned")

    case("benign/torch_state_dict.pt", torch_zip(), "safe", "pytorch-zip",
         why="torch.save zip layout, archive/ top folder")
    case("benign/torch_other_top.pt", torch_zip(top="my_model-v2"), "safe", "pytorch-zip",
         why="any top folder name")
    case("benign/torch_legacy.pt", legacy_torch(state_dict()), "safe", "pickle",
         why="torch.save legacy (pre-zip) format: pickles then raw storages")
    case("benign/torch_legacy.tar", legacy_torch_tar(), "safe", "pytorch-tar",
         why="torch.save tar format (torch < 0.4)")

    case("benign/model.keras", keras_zip(keras_config()), "safe", "keras",
         why=".keras zip: config.json scanned by the Keras config scanner")
    case("benign/model.safetensors", st_save({"w": np.ones((2, 3), np.float32)}), "safe", "safetensors",
         why="dispatch to the safetensors reader")
    case("benign/model.onnx", onnx_model(), "safe", "onnx", why="dispatch to the ONNX reader")
    case("benign/model.h5", keras_h5(keras_config()), "safe", "keras-h5", why="dispatch to the HDF5 reader")


def legacy_torch(obj, main=None):
    sd = obj
    out = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    out += pickle.dumps(1001, protocol=2)
    out += pickle.dumps({"protocol_version": 1001, "little_endian": True,
                         "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    out += main if main is not None else torch_pickle(sd, legacy=True)
    keys = sorted(t.storage.key for t in sd.values())
    out += pickle.dumps(keys, protocol=2)
    for tensor in sorted(sd.values(), key=lambda t: t.storage.key):
        out += struct.pack("<q", tensor.storage.values.size) + tensor.storage.values.tobytes()
    return out


def legacy_torch_tar(main=None, link=False):
    sd = state_dict()
    members = {}
    members["sys_info"] = pickle.dumps({"protocol_version": 1000, "little_endian": True}, protocol=2)
    storages = pickle.dumps(len(sd), protocol=2)
    for tensor in sd.values():
        storages += pickle.dumps((tensor.storage.key, "cpu", FloatStorage), protocol=2)
        storages += struct.pack("<q", tensor.storage.values.size) + tensor.storage.values.tobytes()
    storages += pickle.dumps([], protocol=2)
    members["storages"] = storages
    members["tensors"] = pickle.dumps(0, protocol=2)
    members["pickle"] = main if main is not None else torch_pickle(sd, legacy=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo("extra")
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return buf.getvalue()


def keras_config(lambda_layer=False):
    layers = [{"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "input"},
               "registered_name": None},
              {"module": "keras.layers", "class_name": "Dense",
               "config": {"name": "dense", "units": 3, "activation": "relu"},
               "registered_name": None}]
    if lambda_layer:
        layers.append({"module": "keras.layers", "class_name": "Lambda",
                       "config": {"name": "evil", "function": {"class_name": "__lambda__",
                                                               "config": {"code": "ZXZpbA=="}}},
                       "registered_name": None})
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": "sequential", "layers": layers}, "registered_name": None}


def keras_zip(config, deflate=True):
    method = 8 if deflate else 0
    return zip_bytes([
        {"name": "metadata.json", "data": json.dumps({"keras_version": "3.6.0"}).encode(), "method": method},
        {"name": "config.json", "data": json.dumps(config).encode(), "method": method},
        {"name": "model.weights.h5", "data": b"\x89HDF\r\n\x1a\n" + b"\0" * 64},
    ])


def keras_h5(config):
    path = os.path.join(OUT, "_tmp.h5")
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.create_dataset("w", data=np.ones((2, 2)))
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    return data


def onnx_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


# ------------------------------------------------------------- malicious

def unsafe(path, data, glob, fmt="pickle", kind="unsafe-global", member=None, why=""):
    case(path, data, "unsafe", fmt, glob=glob, kind=kind, member=member, why=why)


def malicious_pickles():
    import posix
    unsafe("malicious/reduce_os_system_p0.pkl", OS_SYSTEM_P0, "os.system", why="GLOBAL + REDUCE, protocol 0")
    for protocol in (1, 2, 3, 4, 5):
        unsafe(f"malicious/reduce_posix_system_p{protocol}.pkl",
               pickle.dumps(Reduce(posix.system, "id"), protocol=protocol), "posix.system",
               why=f"pickle.dumps of a __reduce__ object, protocol {protocol}")
    unsafe("malicious/inst_eval.pkl", P.MARK + s0("1+1") + P.INST + b"builtins\neval\n" + P.STOP,
           "builtins.eval", why="INST imports and calls in one opcode (picklescan#13)")
    unsafe("malicious/py2_builtin_eval.pkl", call("__builtin__", "eval", "1") + P.STOP, "builtins.eval",
           why="Python 2 module name mapped by fix_imports")
    unsafe("malicious/obj_exec.pkl", P.MARK + g("builtins", "exec") + s0("x=1") + P.OBJ + P.STOP,
           "builtins.exec", why="OBJ opcode")
    unsafe("malicious/newobj_popen.pkl",
           proto(2) + g("subprocess", "Popen") + P.MARK + s0("id") + P.TUPLE + P.NEWOBJ + P.STOP,
           "subprocess.Popen", why="NEWOBJ of a denied class")
    unsafe("malicious/newobj_ex_popen.pkl",
           proto(4) + su("subprocess") + su("Popen") + P.STACK_GLOBAL + P.EMPTY_TUPLE + P.EMPTY_DICT
           + P.NEWOBJ_EX + P.STOP, "subprocess.Popen", why="NEWOBJ_EX")
    unsafe("malicious/stack_global_memo.pkl",
           proto(4) + su("os") + P.MEMOIZE + su("system") + P.MEMOIZE + P.POP + P.POP
           + P.BINGET + b"\x00" + P.BINGET + b"\x01" + P.STACK_GLOBAL + su("id") + P.TUPLE1 + P.REDUCE + P.STOP,
           "os.system", why="STACK_GLOBAL names fetched back from the memo")
    unsafe("malicious/memo_confusion.pkl",
           proto(4) + su("os") + P.BINPUT + b"\x00" + su("system") + P.BINPUT + b"\x01"
           + su("torch._utils") + P.MEMOIZE + su("_rebuild_tensor_v2") + P.MEMOIZE + P.POP + P.POP + P.POP + P.POP
           + P.BINGET + b"\x00" + P.BINGET + b"\x01" + P.STACK_GLOBAL + su("id") + P.TUPLE1 + P.REDUCE + P.STOP,
           "os.system", why="BINPUT and MEMOIZE mixed (picklescan#14)")
    unsafe("malicious/escaped_string_names.pkl",
           P.STRING + b"'\\x6fs'\n" + P.UNICODE + b"\\u0073ystem\n" + P.STACK_GLOBAL
           + P.MARK + s0("id") + P.TUPLE + P.REDUCE + P.STOP,
           "os.system", why="names hidden behind STRING and UNICODE escapes")
    unsafe("malicious/binstring_names.pkl",
           P.BINSTRING + struct.pack("<i", 2) + b"os" + P.SHORT_BINSTRING + b"\x06system" + P.STACK_GLOBAL
           + P.EMPTY_TUPLE + P.REDUCE + P.STOP, "os.system", why="BINSTRING and SHORT_BINSTRING names")
    unsafe("malicious/ext_code.pkl", proto(2) + P.EXT1 + b"\x2a" + P.EMPTY_TUPLE + P.REDUCE + P.STOP,
           "copyreg.extension.42", kind="extension-code", why="EXT1 extension registry code")
    unsafe("malicious/ext4_code.pkl", proto(2) + P.EXT4 + struct.pack("<i", 70000) + P.STOP,
           "copyreg.extension.70000", kind="extension-code", why="EXT4")
    resolvers = [
        ("importlib", "import_module"), ("pkgutil", "resolve_name"), ("pydoc", "locate"),
        ("operator", "attrgetter"), ("operator", "methodcaller"), ("functools", "partial"),
        ("builtins", "getattr"), ("builtins", "__import__"), ("types", "CodeType"),
        ("types", "FunctionType"), ("marshal", "loads"), ("pickle", "loads"), ("_pickle", "loads"),
        ("torch", "load"), ("torch.serialization", "load"), ("numpy", "load"), ("runpy", "run_path"),
        ("numpy.core", "_ufunc_reconstruct"), ("code", "InteractiveInterpreter"),
    ]
    for module, name in resolvers:
        body = proto(2) + g(module, name) + P.MARK + s0("os") + P.TUPLE + P.REDUCE + P.STOP
        unsafe(f"malicious/resolver_{module.replace('.', '_')}_{name}.pkl", body, f"{module}.{name}",
               why="universal resolver, code object constructor or nested load")
    nested = pickle.dumps(Reduce(pickle.loads, OS_SYSTEM_P0), protocol=4)
    unsafe("malicious/nested_pickle_loads.pkl", nested, "_pickle.loads",
           why="pickle.loads of an inner payload")
    # modelscan#85: BUILD sets attributes on an allowed global itself.
    build_global = (proto(4) + g("collections", "OrderedDict") + P.NONE + P.MARK + su("a") + su("os")
                    + P.DICT + P.TUPLE2 + P.BUILD + P.POP
                    + g("collections", "OrderedDict.a") + P.POP + P.NONE + P.STOP)
    unsafe("malicious/build_on_global.pkl", build_global, "collections.OrderedDict", kind="build-on-global",
           why="BUILD setattr on an allowed class (modelscan#85)")
    unsafe("malicious/build_attribute_chain.pkl", build_global, "collections.OrderedDict.a",
           why="reading back the attribute BUILD set")
    build_dunder = (proto(4) + g("collections", "OrderedDict") + P.EMPTY_TUPLE + P.REDUCE
                    + P.NONE + P.EMPTY_DICT + su("__reduce__") + g("collections", "OrderedDict") + P.SETITEM
                    + P.TUPLE2 + P.BUILD + P.STOP)
    unsafe("malicious/build_dunder.pkl", build_dunder, "collections.OrderedDict.__reduce__", kind="build-dunder",
           why="BUILD sets a dunder attribute on an allowed object")
    build_callable = (proto(2) + g("collections", "OrderedDict") + P.EMPTY_TUPLE + P.REDUCE
                      + P.EMPTY_DICT + s0("hook") + g("torch._utils", "_rebuild_tensor_v2") + P.SETITEM
                      + P.BUILD + P.STOP)
    unsafe("malicious/build_callable.pkl", build_callable, "torch._utils._rebuild_tensor_v2",
           kind="build-callable", why="BUILD stores an allowed function as an attribute")
    # BUILD state filled after it was memoized: the memo aliases the dict.
    build_alias = (proto(2) + P.EMPTY_DICT + P.BINPUT + b"\x00" + s0("__setstate__") + g("collections", "Counter")
                   + P.SETITEM + P.POP + g("collections", "OrderedDict") + P.EMPTY_TUPLE + P.REDUCE
                   + P.BINGET + b"\x00" + P.BUILD + P.STOP)
    unsafe("malicious/build_memo_alias.pkl", build_alias, "collections.OrderedDict.__setstate__",
           kind="build-dunder", why="state dict filled after PUT, fetched with GET")
    unsafe("malicious/result_dropped_with_pop.pkl", call("os", "system", "id") + P.POP + P.NONE + P.STOP,
           "os.system", why="call whose result is dropped with POP")
    unsafe("malicious/global_never_called.pkl", g("os", "system") + P.POP + P.NONE + P.STOP, "os.system",
           why="importing is enough: no call at all")
    body = su("os") + su("system") + P.STACK_GLOBAL + su("id") + P.TUPLE1 + P.REDUCE + P.STOP
    cut = 3  # the frame ends inside SHORT_BINUNICODE 'system'
    unsafe("malicious/across_frame.pkl",
           proto(4) + P.FRAME + struct.pack("<Q", len(su("os")) + cut) + body, "os.system",
           why="opcode across a FRAME end: invalid for pickle.py, run by _pickle")
    case("malicious/across_frame_invalid.pkl", proto(4) + P.FRAME + struct.pack("<Q", len(su("os")) + cut) + body,
         "unsafe", "pickle", kind="frame-boundary", why="the frame violation itself is reported")
    unsafe("malicious/dotted_dunder.pkl",
           proto(4) + su("collections") + su("OrderedDict.__init__.__globals__") + P.STACK_GLOBAL + P.STOP,
           "collections.OrderedDict.__init__.__globals__", why="attribute chain through dunders")
    unsafe("malicious/allowed_function_chain.pkl",
           proto(4) + su("torch._utils") + su("_rebuild_tensor_v2.__globals__") + P.STACK_GLOBAL + P.STOP,
           "torch._utils._rebuild_tensor_v2.__globals__", why="attribute chain through an allowed function")
    unsafe("malicious/submodule_of_denied.pkl", call("os.path", "join", "a") + P.STOP, "os.path.join",
           why="submodule of a denied module")
    unsafe("malicious/reconstructor_denied_class.pkl",
           g("copyreg", "_reconstructor") + P.MARK + g("subprocess", "Popen") + g("builtins", "object")
           + P.NONE + P.TUPLE + P.REDUCE + P.STOP, "subprocess.Popen",
           why="copyreg._reconstructor with a denied class")
    unsafe("malicious/stack_global_computed.pkl",
           proto(4) + g("builtins", "str") + su("os") + P.TUPLE1 + P.REDUCE + su("system") + P.STACK_GLOBAL + P.STOP,
           "<builtins.str object>.system", kind="unresolved-global",
           why="STACK_GLOBAL module computed by a call")
    unsafe("malicious/indirect_call.pkl",
           proto(2) + g("collections", "OrderedDict") + P.EMPTY_TUPLE + P.REDUCE + P.EMPTY_TUPLE + P.REDUCE + P.STOP,
           "collections.OrderedDict()", kind="indirect-call", why="calling an object made while loading")
    unsafe("malicious/concatenated_second.pkl", pickle.dumps([1, 2], protocol=2) + OS_SYSTEM_P4, "os.system",
           why="second of two concatenated pickles")
    unsafe("malicious/pickle_named.onnx", OS_SYSTEM_P4, "os.system", why="pickle with a non-pickle extension")
    unsafe("malicious/pickle_named.safetensors", OS_SYSTEM_P0, "os.system", why="protocol 0 pickle named .safetensors")
    unsafe("malicious/gzip.pkl.gz", gzip.compress(OS_SYSTEM_P4), "os.system", why="gzip-compressed pickle")
    unsafe("malicious/zlib.joblib", zlib.compress(pickle.dumps(Reduce(posix.system, "id"), protocol=4)),
           "posix.system", fmt="joblib", why="zlib-compressed joblib")
    path = os.path.join(OUT, "_tmp.joblib")
    joblib.dump({"w": np.ones(4), "evil": Reduce(posix.system, "id")}, path)
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    unsafe("malicious/joblib_after_array.joblib", data, "posix.system", fmt="joblib",
           why="payload after joblib's inline array bytes")
    header = {"descr": "|O", "fortran_order": False, "shape": (1,)}
    text = repr(header).encode()
    text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
    unsafe("malicious/object.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + OS_SYSTEM_P4,
           "os.system", fmt="numpy", why=".npy object array: its pickle")
    unsafe("malicious/torch_legacy.pt",
           legacy_torch(state_dict(), main=pickle.dumps(Reduce(posix.system, "id"), protocol=2)),
           "posix.system", why="legacy torch format")


def malicious_archives():
    evil = pickle.dumps(Reduce(__import__("posix").system, "id"), protocol=2)
    unsafe("archives/torch_data_pkl.pt", torch_zip(data_pkl=evil), "posix.system", fmt="pytorch-zip",
           member="archive/data.pkl", why="malicious data.pkl")
    unsafe("archives/torch_hidden_member.pt",
           torch_zip(extra=[{"name": "archive/extra/notes.txt", "data": OS_SYSTEM_P0}]), "os.system",
           fmt="pytorch-zip", member="archive/extra/notes.txt", why="pickle inside the zip under another name")
    unsafe("archives/plain_zip_txt.zip", zip_bytes([{"name": "readme.txt", "data": OS_SYSTEM_P4}]),
           "os.system", fmt="zip", member="readme.txt", why="pickle in a plain zip named .txt")
    unsafe("archives/torch_encrypted_flag.pt", torch_zip(data_pkl=evil, overrides={"flags": 0x1}),
           "posix.system", fmt="pytorch-zip", member="archive/data.pkl",
           why="encryption flag set on a plain member: zipfile refuses, torch reads")
    case("archives/torch_encrypted_flag_finding.pt", torch_zip(overrides={"flags": 0x1}), "invalid",
         "pytorch-zip", kind="zip-flags", member="archive/data.pkl", why="odd flag bits are reported")
    unsafe("archives/torch_bad_crc.pt", torch_zip(data_pkl=evil, overrides={"crc": 0x12345678}),
           "posix.system", fmt="pytorch-zip", member="archive/data.pkl", why="bad CRC: zipfile refuses, torch reads")
    case("archives/torch_bad_crc_finding.pt", torch_zip(overrides={"crc": 0x12345678}), "invalid",
         "pytorch-zip", kind="zip-crc", member="archive/data.pkl", why="bad CRC is reported")
    unsafe("archives/torch_name_mismatch.pt",
           torch_zip(data_pkl=evil, overrides={"local_name": "archive/data.txt"}), "posix.system",
           fmt="pytorch-zip", member="archive/data.pkl", why="local/central name mismatch")
    case("archives/torch_name_mismatch_finding.pt", torch_zip(overrides={"local_name": "archive/data.txt"}),
         "invalid", "pytorch-zip", kind="zip-name-mismatch", member="archive/data.pkl",
         why="name mismatch is reported")
    case("archives/traversal.zip", zip_bytes([{"name": "../../etc/evil.pkl", "data": pickle.dumps(1)}]),
         "unsafe", "zip", kind="path-traversal", member="../../etc/evil.pkl", why=".. segments")
    case("archives/absolute.zip", zip_bytes([{"name": "/tmp/evil.pkl", "data": pickle.dumps(1)}]),
         "unsafe", "zip", kind="path-traversal", member="/tmp/evil.pkl", why="absolute member path")
    dup = zip_bytes([{"name": "archive/data.pkl", "data": torch_pickle(state_dict())},
                     {"name": "archive/data.pkl", "data": evil},
                     {"name": "archive/version", "data": b"3\n"}])
    unsafe("archives/duplicate_names.pt", dup, "posix.system", fmt="pytorch-zip", member="archive/data.pkl",
           why="duplicate member names: the second one is scanned too")
    case("archives/duplicate_names_finding.pt", dup, "unsafe", "pytorch-zip", kind="zip-duplicate",
         member="archive/data.pkl", why="duplicates are reported")
    zeros = bytes(10 << 20)
    case("archives/bomb_ratio.zip", zip_bytes([{"name": "zeros.bin", "data": zeros, "method": 8}]),
         "invalid", "zip", kind="zip-bomb", member="zeros.bin", why="compression ratio over the limit")
    case("archives/bomb_declared.zip",
         zip_bytes([{"name": "data.pkl", "data": pickle.dumps(list(range(2000))), "method": 8, "usize": 100}]),
         "invalid", "zip", kind="zip-size-mismatch", member="data.pkl", why="expands past its declared size")
    inner = zip_bytes([{"name": "payload.pkl", "data": OS_SYSTEM_P4}])
    unsafe("archives/nested.zip", zip_bytes([{"name": "inner.zip", "data": inner, "method": 8}]), "os.system",
           fmt="zip", member="inner.zip/payload.pkl", why="zip in a deflated zip member")
    deep = zip_bytes([{"name": "leaf.pkl", "data": pickle.dumps(1)}])
    for level in range(5):
        deep = zip_bytes([{"name": f"level{level}.zip", "data": deep}])
    case("archives/too_deep.zip", deep, "invalid", "zip", kind="archive-depth", why="nesting over the limit")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        header = {"descr": "|O", "fortran_order": False, "shape": (1,)}
        text = repr(header).encode()
        text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
        z.writestr("evil.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + OS_SYSTEM_P4)
    unsafe("archives/object.npz", buf.getvalue(), "os.system", fmt="zip", member="evil.npy",
           why="npz member with an object array pickle")
    unsafe("archives/torch_legacy_evil.tar", legacy_torch_tar(main=evil), "posix.system", fmt="pytorch-tar",
           member="pickle", why="legacy torch tar with a malicious pickle member")
    case("archives/torch_legacy_link.tar", legacy_torch_tar(link=True), "unsafe", "pytorch-tar",
         kind="tar-link", member="extra", why="symlink member in a legacy tar")
    case("archives/keras_lambda.keras", keras_zip(keras_config(lambda_layer=True)), "unsafe", "keras",
         glob="keras.layers.Lambda", kind="keras-lambda", member="config.json",
         why="Lambda layer in a .keras config")
    case("archives/keras_stored.keras", keras_zip(keras_config(), deflate=False), "safe", "keras",
         why="stored config.json")


def invalid_streams():
    def invalid(path, data, kind, why, fmt="pickle"):
        case(path, data, "invalid", fmt, kind=kind, why=why)

    invalid("invalid/truncated.pkl", pickle.dumps(list(range(100)), protocol=4)[:-5], "truncated",
            "truncated stream")
    invalid("invalid/unknown_opcode.pkl", proto(4) + P.NONE + b"\xff" + P.STOP, "invalid-pickle", "unknown opcode")
    invalid("invalid/memo_miss.pkl", proto(2) + P.BINGET + b"\x07" + P.STOP, "memo-miss", "memo miss")
    invalid("invalid/stack_underflow.pkl", proto(2) + P.NONE + P.TUPLE2 + P.STOP, "stack-underflow",
            "stack underflow")
    invalid("invalid/stack_global_bytes.pkl",
            proto(4) + P.SHORT_BINBYTES + b"\x02os" + su("system") + P.STACK_GLOBAL + P.STOP,
            "invalid-pickle", "STACK_GLOBAL with bytes: pickle refuses")
    invalid("invalid/trailing_zip.pkl", pickle.dumps([1], protocol=4) + zip_bytes([{"name": "a", "data": b"x"}]),
            "trailing-data", "a pickle followed by a zip (polyglot)")
    invalid("invalid/new_frame_inside_frame.pkl",
            proto(4) + P.FRAME + struct.pack("<Q", 20) + P.NONE + P.FRAME + struct.pack("<Q", 1) + P.STOP,
            "frame-boundary", "FRAME inside a frame")
    invalid("invalid/deep_marks.pkl", proto(2) + P.MARK * 100_000 + P.STOP, "limit-exceeded",
            "nesting over the limit")


main()
