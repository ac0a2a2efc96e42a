"""The model package: `mlpipe-model.json` read, checked, and its files verified.

Reading the manifest is cheap and happens before the server listens, so that a package
this app must refuse (an unsupported flavor, a pickle whose scan was not `safe`, a file
outside the package) stops the process at once. Verifying each file's sha256 reads every
byte, so it runs in the worker, before the model is loaded, while the health endpoints
already answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Any, Optional

from .datatypes import NUMPY

SCHEMA = "mlpipe-model/v1"
MANIFEST = "mlpipe-model.json"
FLAVORS = ("onnx", "sklearn")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class PackageError(Exception):
    """The package cannot be served: the message names the package, the file and the fix."""


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of the signature: -1 in `shape` stands for any size."""

    name: str
    datatype: str
    shape: tuple[int, ...]

    def metadata(self) -> dict[str, Any]:
        """The tensor as the V2 model metadata lists it."""
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


@dataclass(frozen=True)
class PackageFile:
    """A file of the package, as the manifest lists it."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """The parts of `mlpipe-model.json` the server uses."""

    root: str
    name: str
    format: str
    flavor: str
    model: str
    files: tuple[PackageFile, ...]
    inputs: Optional[tuple[TensorSpec, ...]]  # None: no signature, the runtime derives one
    outputs: Optional[tuple[TensorSpec, ...]]
    scan_verdict: Optional[str]

    @property
    def model_path(self) -> str:
        """The main model file's absolute path."""
        return os.path.join(self.root, self.model)


def read_manifest(root: str) -> Manifest:
    """Reads and checks `root/mlpipe-model.json`; raises PackageError naming what is wrong."""
    root = os.path.abspath(root)
    path = os.path.join(root, MANIFEST)
    if not os.path.isdir(root):
        raise PackageError(f"{root}: no such folder; set MLPIPE_MODEL_DIR to a model package folder")
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
    except FileNotFoundError:
        raise PackageError(f"{path}: no such file; {root} is not a model package (made by `kind: serialize`)") from None
    except (OSError, ValueError) as error:
        raise PackageError(f"{path}: not readable JSON ({error})") from None
    where = path
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise PackageError(f"{where}: schema is {found!r}, this server reads {SCHEMA!r}")
    name = _string(doc, "name", where)
    if not _NAME.match(name):
        raise PackageError(f"{where}: name {name!r} cannot be a URL path segment: use letters, digits, '.', '_', '-'")
    flavor = _string(doc, "flavor", where)
    if flavor not in FLAVORS:
        raise PackageError(f"{where}: flavor {flavor!r} is not served by this app; it serves {', '.join(FLAVORS)}")
    scan = doc.get("scan")
    verdict = scan.get("verdict") if isinstance(scan, dict) else None
    if flavor == "sklearn" and verdict != "safe":
        raise PackageError(
            f"{where}: refusing to load a pickled scikit-learn model whose scan verdict is "
            f"{verdict!r}, not 'safe': loading a pickle runs code; validate the model and package it again")
    files = tuple(_file(entry, where) for entry in _list(doc, "files", where))
    model = _string(doc, "model", where)
    if model not in {f.path for f in files}:
        raise PackageError(f"{where}: model {model!r} is not among the package's files")
    inputs, outputs = _signature(doc.get("signature"), where)
    return Manifest(root=root, name=name, format=str(doc.get("format", "")), flavor=flavor, model=model,
                    files=files, inputs=inputs, outputs=outputs, scan_verdict=verdict)


def verify_files(manifest: Manifest) -> None:
    """Checks every file's size and sha256 against the manifest, and that no unlisted file
    sits in the package (a loader could pick one up); raises PackageError on the first."""
    listed = {f.path for f in manifest.files}
    for folder, _dirs, names in os.walk(manifest.root):
        for name in names:
            relative = os.path.relpath(os.path.join(folder, name), manifest.root).replace(os.sep, "/")
            if relative != MANIFEST and relative not in listed:
                raise PackageError(f"{manifest.root}: {relative} is not listed in {MANIFEST}; "
                                   "refusing a package whose files do not match its manifest")
    for entry in manifest.files:
        path = os.path.join(manifest.root, entry.path)
        digest = hashlib.sha256()
        size = 0
        try:
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
        except OSError as error:
            raise PackageError(f"{path}: cannot read it ({error.strerror}); the package is incomplete") from None
        actual = "sha256:" + digest.hexdigest()
        if actual != entry.sha256 or size != entry.size:
            raise PackageError(f"{path}: sha256 mismatch: the manifest says {entry.sha256} ({entry.size} bytes), "
                               f"the file is {actual} ({size} bytes); refusing to load a modified package")


def _string(doc: dict, key: str, where: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise PackageError(f"{where}: {key} must be a non-empty string, found {value!r}")
    return value


def _list(doc: dict, key: str, where: str) -> list:
    value = doc.get(key)
    if not isinstance(value, list):
        raise PackageError(f"{where}: {key} must be a list, found {type(value).__name__}")
    return value


def _file(entry: Any, where: str) -> PackageFile:
    if not isinstance(entry, dict):
        raise PackageError(f"{where}: each of files must be an object with path, sha256 and size")
    path = entry.get("path")
    if (not isinstance(path, str) or not path or path.startswith("/") or "\\" in path
            or any(part in ("", ".", "..") for part in path.split("/"))):
        raise PackageError(f"{where}: file path {path!r} is not a relative path inside the package")
    digest, size = entry.get("sha256"), entry.get("size")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise PackageError(f"{where}: {path}: sha256 {digest!r} is not 'sha256:' and 64 lowercase hex digits")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise PackageError(f"{where}: {path}: size {size!r} is not a byte count")
    return PackageFile(path=path, sha256=digest, size=size)


def _signature(value: Any, where: str) -> tuple[Optional[tuple[TensorSpec, ...]], Optional[tuple[TensorSpec, ...]]]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise PackageError(f"{where}: signature must be an object with inputs and outputs, or null")
    parts = []
    for key in ("inputs", "outputs"):
        tensors = tuple(_tensor(t, f"{where}: signature.{key}") for t in _list(value, key, where))
        names = [t.name for t in tensors]
        if not tensors or len(set(names)) != len(names):
            raise PackageError(f"{where}: signature.{key} must list at least one tensor, each name once")
        parts.append(tensors)
    return parts[0], parts[1]


def _tensor(value: Any, where: str) -> TensorSpec:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"]:
        raise PackageError(f"{where}: each tensor needs a name, a datatype and a shape")
    name, datatype, shape = value["name"], value.get("datatype"), value.get("shape")
    if datatype not in NUMPY:
        raise PackageError(f"{where}: {name}: datatype {datatype!r} is not one of {', '.join(NUMPY)}")
    if (not isinstance(shape, list)
            or any(not isinstance(d, int) or isinstance(d, bool) or d < -1 for d in shape)):
        raise PackageError(f"{where}: {name}: shape {shape!r} must be a list of sizes, -1 for any size")
    return TensorSpec(name=name, datatype=datatype, shape=tuple(shape))
