"""Test helpers: real iris models, model packages as `kind: serialize` writes them, and
the real server started in a subprocess on 127.0.0.1 (stopped by its pid)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

APP_DIR = Path(__file__).resolve().parent.parent  # templates/serving/python


def iris():
    """A logistic regression fitted on iris, and the features (float64)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    data = load_iris()
    model = LogisticRegression(max_iter=500).fit(data.data, data.target)
    return model, data.data


def onnx_bytes(model) -> bytes:
    """The model as ONNX: input X (FP32 [-1, 4]), outputs label and probabilities (tensors)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    onx = convert_sklearn(model, initial_types=[("X", FloatTensorType([None, 4]))],
                          options={id(model): {"zipmap": False}}, target_opset=17)
    return onx.SerializeToString()


def adder_onnx_bytes() -> bytes:
    """A two-input graph, Sum = A + B, all FP32 [-1, 2]."""
    from onnx import TensorProto, helper

    tensor = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, 2])
    graph = helper.make_graph([helper.make_node("Add", ["A", "B"], ["Sum"])], "adder",
                              [tensor("A"), tensor("B")], [tensor("Sum")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def joblib_bytes(model, folder: Path) -> bytes:
    import joblib

    path = folder / "scratch.joblib"
    joblib.dump(model, path)
    data = path.read_bytes()
    path.unlink()
    return data


ONNX_SIGNATURE = {
    "inputs": [{"name": "X", "datatype": "FP32", "shape": [-1, 4]}],
    "outputs": [{"name": "label", "datatype": "INT64", "shape": [-1]},
                {"name": "probabilities", "datatype": "FP32", "shape": [-1, 3]}],
}
SKLEARN_SIGNATURE = {
    "inputs": [{"name": "X", "datatype": "FP64", "shape": [-1, 4]}],
    "outputs": [{"name": "label", "datatype": "INT64", "shape": [-1]},
                {"name": "probabilities", "datatype": "FP64", "shape": [-1, 3]}],
}


def write_package(root: Path, *, name: str, format: str, flavor: str, files: dict[str, bytes], model: str,
                  signature: Optional[dict], verdict: str = "safe") -> Path:
    """A package folder as PACKAGE-SCHEMA.md describes it (mlpipe-model.json, keys sorted,
    2-space indent, trailing newline; files sorted by path)."""
    if root.exists():
        shutil.rmtree(root)
    entries = []
    for path, data in sorted(files.items()):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        entries.append({"path": path, "sha256": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)})
    requirements = (["numpy==2.4.6", "onnxruntime==1.32.0"] if flavor == "onnx" else
                    ["joblib==1.6.0", "numpy==2.4.6", "scikit-learn==1.9.1", "scipy==1.17.1", "threadpoolctl==3.8.0"])
    manifest = {
        "schema": "mlpipe-model/v1", "name": name, "format": format, "flavor": flavor, "model": model,
        "files": entries, "signature": signature, "requirements": requirements,
        "source": {"commit": "0" * 40, "pipeline": "iris", "stage": "package", "runId": 1},
        "scan": {"verdict": verdict, "reportDigest": "sha256:" + "1" * 64, "allow": []},
        "metadata": {}, "createdAt": "2026-11-30T12:00:00Z",
    }
    (root / "mlpipe-model.json").write_text(json.dumps(manifest, sort_keys=True, indent=2) + "\n")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    """A running `python -m mlpipe_serving`; `stop()` sends SIGTERM to its pid."""

    process: subprocess.Popen
    port: int
    scheme: str = "http"
    context: Optional[ssl.SSLContext] = None
    log_path: Optional[Path] = None
    token: Optional[str] = field(default=None)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, body: Any = None, headers: Optional[dict] = None,
             token: Optional[str] = None, timeout: float = 10) -> Response:
        if self.scheme == "https":
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=self.context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        all_headers = dict(headers or {})
        token = token or self.token
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            all_headers.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def log_with(self, needle: str, deadline: float = 10) -> str:
        """The log once it holds `needle`: the access line is written after the response
        is sent, so a client can read the log before its own request's line is there."""
        end = time.monotonic() + deadline
        text = self.log()
        while needle not in text and time.monotonic() < end:
            time.sleep(0.02)
            text = self.log()
        return text

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def start(package: Path, log_dir: Path, env: Optional[dict] = None, scheme: str = "http",
          context: Optional[ssl.SSLContext] = None, wait_ready: bool = True, deadline: float = 30) -> Server:
    """Starts the server on a free port and waits (with a deadline) until it is ready, or
    until it exits."""
    port = free_port()
    log_path = log_dir / f"server-{port}.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MLPIPE_")}
    full_env.update({"PYTHONPATH": str(APP_DIR), "MLPIPE_MODEL_DIR": str(package), "HOST": "127.0.0.1",
                     "PORT": str(port), "MLPIPE_WORKERS": "1"})
    full_env.update(env or {})
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "mlpipe_serving"], env=full_env, stdout=log,
                                   stderr=subprocess.STDOUT, cwd=str(log_dir))
    server = Server(process, port, scheme, context, log_path)
    if wait_ready:
        wait_until_ready(server, deadline)
    return server


def wait_until_ready(server: Server, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited with {server.process.returncode}:\n{server.log()}")
        try:
            if server.call("GET", "/v2/health/ready", timeout=2).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    server.stop()
    raise AssertionError(f"server not ready within {deadline} s:\n{server.log()}")
