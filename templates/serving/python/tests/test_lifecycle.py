"""Start-up, refusals and shutdown: what the process does, its exit status and its one
line of error."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

import support

INFER = {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]}


def run_to_exit(package, workdir, env=None, timeout=60):
    """Runs the server expecting it to exit by itself; returns (status, output)."""
    server = support.start(package, workdir, env=env, wait_ready=False)
    try:
        status = server.process.wait(timeout=timeout)
    finally:
        if server.process.poll() is None:
            server.stop()
    return status, server.log()


def wait_until_accepted(port: int, deadline: float = 10) -> None:
    """Waits until the listening socket's accept queue (rx_queue in /proc/net/tcp) is empty."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with open("/proc/net/tcp") as table:
            rows = [line.split() for line in table.readlines()[1:]]
        listening = [r for r in rows if r[3] == "0A" and int(r[1].split(":")[1], 16) == port]
        if listening and int(listening[0][4].split(":")[1], 16) == 0:
            return
        time.sleep(0.02)
    raise AssertionError(f"the connection to port {port} was not accepted within {deadline} s")


def refused_soon(port: int, deadline: float = 5) -> bool:
    """Whether a new connection to `port` is refused within `deadline` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        except OSError:
            pass  # a timeout: the connection waits in a queue nobody serves
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_refuses_new_connections_lets_an_in_flight_request_finish_then_exits_0(onnx_package, workdir, workers):
    server = support.start(onnx_package, workdir, env={"MLPIPE_WORKERS": workers})
    body = json.dumps(INFER).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(b"POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:10])
        wait_until_accepted(server.port)  # a worker has the request and waits for the rest of its body
        os.kill(server.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while "Shutting down" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "Shutting down" in server.log()
        assert refused_soon(server.port), "a new connection was still let in while the server drained"
        time.sleep(1.5)  # a slow client: the rest of the body comes well after the stop signal
        conn.sendall(body[10:])
        response = b""
        while b'"outputs"' not in response and (chunk := conn.recv(65536)):
            response += chunk
    assert response.startswith(b"HTTP/1.1 200 ")
    assert server.process.wait(timeout=30) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_ready_is_503_until_the_files_are_verified_and_the_model_loaded(onnx_package, workdir):
    package = workdir / "slow"
    shutil.copytree(onnx_package, package, dirs_exist_ok=True)
    weights = b"w" * 1000
    manifest = json.loads((package / "mlpipe-model.json").read_text())
    manifest["files"].append({"path": "model/weights.bin", "size": len(weights),
                              "sha256": "sha256:" + hashlib.sha256(weights).hexdigest()})
    manifest["files"].sort(key=lambda f: f["path"])
    (package / "mlpipe-model.json").write_text(json.dumps(manifest, sort_keys=True, indent=2) + "\n")
    fifo = package / "model" / "weights.bin"
    os.mkfifo(fifo)  # hashing it blocks until the test writes the weights
    server = support.start(package, workdir, wait_ready=False)
    try:
        deadline = time.monotonic() + 30
        live = None
        while time.monotonic() < deadline:
            try:
                live = server.call("GET", "/v2/health/live", timeout=2)
                break
            except OSError:
                time.sleep(0.05)
        assert live is not None and live.status == 200
        ready = server.call("GET", "/v2/health/ready")
        assert ready.status == 503 and "not loaded yet" in ready.json()["error"]
        assert server.call("POST", "/v2/models/iris/infer", INFER).status == 503
        assert server.call("GET", "/v2/models/iris").status == 503
        writer = threading.Thread(target=fifo.write_bytes, args=(weights,))
        writer.start()
        support.wait_until_ready(server)
        writer.join()
        assert server.call("POST", "/v2/models/iris/infer", INFER).status == 200
    finally:
        server.stop()


def test_a_pickle_whose_scan_was_not_safe_is_refused_before_listening(joblib_model_bytes, workdir):
    package = support.write_package(workdir / "unsafe", name="iris", format="joblib", flavor="sklearn",
                                    files={"model/model.joblib": joblib_model_bytes}, model="model/model.joblib",
                                    signature=None, verdict="unsafe")
    status, output = run_to_exit(package, workdir)
    assert status == 1
    assert output.strip().splitlines() == [
        f"mlpipe-serving: error: {package}/mlpipe-model.json: refusing to load a pickled scikit-learn model "
        "whose scan verdict is 'unsafe', not 'safe': loading a pickle runs code; validate the model and "
        "package it again"]


@pytest.mark.parametrize("source, file, workers", [("sklearn_package", "model.joblib", "1"),
                                                    ("onnx_package", "model.onnx", "2")])
def test_a_file_whose_sha256_differs_from_the_manifest_is_refused(request, workdir, source, file, workers):
    package = workdir / f"tampered-{workers}"
    shutil.copytree(request.getfixturevalue(source), package, dirs_exist_ok=True)
    model = package / "model" / file
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    status, output = run_to_exit(package, workdir, env={"MLPIPE_WORKERS": workers})
    assert status == 1
    errors = [l for l in output.splitlines() if " ERROR " in l]
    assert errors and f"{model}: sha256 mismatch: the manifest says sha256:" in errors[0]
    assert "refusing to load a modified package" in errors[0]


def test_a_file_not_listed_in_the_manifest_is_refused(onnx_package, workdir):
    package = workdir / "extra"
    shutil.copytree(onnx_package, package, dirs_exist_ok=True)
    (package / "model" / "model.onnx.data").write_bytes(b"smuggled")
    status, output = run_to_exit(package, workdir)
    assert status == 1
    assert "model/model.onnx.data is not listed in mlpipe-model.json" in output


def test_a_flavor_it_cannot_serve_is_refused(onnx_package, workdir):
    package = workdir / "torch"
    shutil.copytree(onnx_package, package, dirs_exist_ok=True)
    manifest = json.loads((package / "mlpipe-model.json").read_text())
    manifest["flavor"] = "pytorch"
    (package / "mlpipe-model.json").write_text(json.dumps(manifest))
    status, output = run_to_exit(package, workdir)
    assert status == 1
    assert "flavor 'pytorch' is not served by this app; it serves onnx, sklearn" in output


@pytest.mark.parametrize("env, line", [
    ({"PORT": "http"}, "PORT='http' is not a port number: use an integer from 0 to 65535"),
    ({"MLPIPE_WORKERS": "0"}, "MLPIPE_WORKERS='0' is not a number of worker processes: use an integer from 1 to 256"),
    ({"MLPIPE_TLS_CERT": "/nonexistent.pem"},
     "MLPIPE_TLS_CERT is set but MLPIPE_TLS_KEY is not: set both (PEM paths) for HTTPS, or neither"),
    ({"MLPIPE_AUTH_JWT_KEY": "short"},
     "MLPIPE_AUTH_JWT_KEY is 5 bytes long: an HS256 secret must have at least 32 bytes (RFC 7518, 3.2); "
     "generate one with `openssl rand -hex 32`"),
    ({"MLPIPE_AUTH_JWT_KEY": "x" * 40, "MLPIPE_AUTH_JWT_ALG": "none"},
     "MLPIPE_AUTH_JWT_ALG='NONE' is not supported: use HS256 or RS256"),
])
def test_a_bad_configuration_is_one_line_and_exit_status_2(onnx_package, workdir, env, line):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MLPIPE_")}
    full_env.update({"PYTHONPATH": str(support.APP_DIR), "MLPIPE_MODEL_DIR": str(onnx_package), **env})
    result = subprocess.run([sys.executable, "-m", "mlpipe_serving"], env=full_env, capture_output=True,
                            text=True, timeout=30)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"mlpipe-serving: error: {line}\n")
    assert "x" * 40 not in result.stderr


def test_a_taken_port_is_one_line_and_exit_status_1(onnx_package, workdir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        status, output = run_to_exit(onnx_package, workdir, env={"PORT": str(port)})
    assert status == 1
    assert output.strip().splitlines()[-1] == (
        f"mlpipe-serving: error: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "set PORT (or HOST) to a free address")
