"""Fixtures: the iris models and their packages (made once per run), and two servers
shared by the protocol tests: ONNX with two workers, scikit-learn with one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import support  # noqa: E402


@pytest.fixture(scope="session")
def iris_model():
    return support.iris()


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("serving")


@pytest.fixture(scope="session")
def onnx_package(iris_model, workdir) -> Path:
    model, _ = iris_model
    return support.write_package(workdir / "iris-onnx", name="iris", format="onnx", flavor="onnx",
                                 files={"model/model.onnx": support.onnx_bytes(model)}, model="model/model.onnx",
                                 signature=support.ONNX_SIGNATURE)


@pytest.fixture(scope="session")
def joblib_model_bytes(iris_model, workdir) -> bytes:
    return support.joblib_bytes(iris_model[0], workdir)


@pytest.fixture(scope="session")
def sklearn_package(joblib_model_bytes, workdir) -> Path:
    return support.write_package(workdir / "iris-sklearn", name="iris-sklearn", format="joblib", flavor="sklearn",
                                 files={"model/model.joblib": joblib_model_bytes}, model="model/model.joblib",
                                 signature=support.SKLEARN_SIGNATURE)


@pytest.fixture(scope="session")
def onnx_server(onnx_package, workdir):
    server = support.start(onnx_package, workdir, env={"MLPIPE_WORKERS": "2", "MLPIPE_MAX_BODY_BYTES": "65536"})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sklearn_server(sklearn_package, workdir):
    server = support.start(sklearn_package, workdir, env={"MLPIPE_MODEL_VERSION": "7"})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def adder_server(workdir):
    """A two-input ONNX graph (Sum = A + B) packaged without a signature."""
    package = support.write_package(workdir / "adder", name="adder", format="onnx", flavor="onnx",
                                    files={"model/adder.onnx": support.adder_onnx_bytes()},
                                    model="model/adder.onnx", signature=None)
    server = support.start(package, workdir)
    yield server
    server.stop()
