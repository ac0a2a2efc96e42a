"""Writes the scanner benchmark's two 1 GiB models into a folder.

    python make_large.py OUT_DIR

- model.pkl: a state dict of four float32 numpy arrays (256 MiB each), written by
  pickle.dump with the default protocol, as people save numpy models;
- model.pt: the zip layout torch.save writes (archive/data.pkl with persistent ids
  for the storages, archive/data/0..255 stored uncompressed, archive/byteorder,
  archive/version), 256 tensors of 4 MiB. torch is not needed: a stand-in module only
  gives pickle the names torch.save writes (torch._utils._rebuild_tensor_v2,
  torch.FloatStorage).

Both are benign: every scanner should pass them. The tensor bytes are random, so no
tool can gain from compressible or repeated data. A file that already has the right
size is kept, so that re-running the bench does not rewrite 2 GiB.
"""
import collections
import os
import pickle
import sys
import types
import zipfile

import numpy as np

GIB = 1 << 30


def numpy_pickle(path):
    rng = np.random.default_rng(0)
    arrays = {f"layer{i}.weight": rng.standard_normal(GIB // 4 // 4, dtype=np.float32) for i in range(4)}
    with open(path + ".tmp", "wb") as f:
        pickle.dump(arrays, f)
    os.replace(path + ".tmp", path)


# torch.save's names, without torch.
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch, torch_utils
torch._utils = torch_utils


class FloatStorage:
    pass


FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
torch.FloatStorage = FloatStorage


def _rebuild_tensor_v2(*args):
    raise RuntimeError("only pickled, never called")


_rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class Storage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class Tensor:
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, shape

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2,
                (self.storage, 0, self.shape, (self.shape[1], 1), False, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
        return None


def torch_zip(path, tensors=256):
    per_tensor = GIB // tensors
    rows = per_tensor // 4 // 1024
    state = collections.OrderedDict(
        (f"layers.{i}.weight", Tensor(Storage(str(i), rows * 1024), (rows, 1024))) for i in range(tensors))
    rng = np.random.default_rng(1)
    with zipfile.ZipFile(path + ".tmp", "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        buffer = []
        TorchPickler(_Sink(buffer), protocol=2).dump(state)
        z.writestr("archive/data.pkl", b"".join(buffer))
        z.writestr("archive/byteorder", b"little")
        for i in range(tensors):
            with z.open(f"archive/data/{i}", "w", force_zip64=True) as member:
                member.write(rng.bytes(per_tensor))
        z.writestr("archive/version", b"3\n")
        z.writestr("archive/.data/serialization_id", b"1234567890")
    os.replace(path + ".tmp", path)


class _Sink:
    def __init__(self, parts):
        self.parts = parts

    def write(self, data):
        self.parts.append(bytes(data))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, make, size in (("model.pkl", numpy_pickle, GIB), ("model.pt", torch_zip, GIB)):
        path = os.path.join(out, name)
        if os.path.exists(path) and os.path.getsize(path) >= size:
            continue
        make(path)


main()
