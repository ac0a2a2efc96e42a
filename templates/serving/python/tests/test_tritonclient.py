"""Conformance: NVIDIA's tritonclient (a V2 client nobody here wrote) against the server."""

from __future__ import annotations

import numpy as np
import tritonclient.http as httpclient


def client_for(server):
    return httpclient.InferenceServerClient(url=f"127.0.0.1:{server.port}", connection_timeout=10,
                                            network_timeout=10)


def test_tritonclient_reads_metadata_and_predicts_like_scikit_learn(onnx_server, iris_model):
    model, x = iris_model
    client = client_for(onnx_server)
    try:
        assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("iris")
        metadata = client.get_model_metadata("iris")
        assert metadata["platform"] == "onnxruntime_onnx"
        assert [(i["name"], i["datatype"], i["shape"]) for i in metadata["inputs"]] == [("X", "FP32", [-1, 4])]
        # tritonclient's defaults: binary tensors both ways
        features = httpclient.InferInput("X", list(x.shape), "FP32")
        features.set_data_from_numpy(x.astype(np.float32))
        result = client.infer("iris", [features])
        np.testing.assert_array_equal(result.as_numpy("label"), model.predict(x))
        np.testing.assert_allclose(result.as_numpy("probabilities"), model.predict_proba(x), atol=1e-5)
        # JSON tensors, one output asked for
        features = httpclient.InferInput("X", [5, 4], "FP32")
        features.set_data_from_numpy(x[:5].astype(np.float32), binary_data=False)
        wanted = [httpclient.InferRequestedOutput("label", binary_data=False)]
        result = client.infer("iris", [features], outputs=wanted, model_version="1")
        np.testing.assert_array_equal(result.as_numpy("label"), model.predict(x[:5]))
        assert result.as_numpy("probabilities") is None
    finally:
        client.close()


def test_tritonclient_gets_the_exact_scikit_learn_prediction_from_a_joblib_model(sklearn_server, iris_model):
    model, x = iris_model
    client = client_for(sklearn_server)
    try:
        assert client.get_model_metadata("iris-sklearn", "7")["versions"] == ["7"]
        features = httpclient.InferInput("X", list(x.shape), "FP64")
        features.set_data_from_numpy(x)
        result = client.infer("iris-sklearn", [features])
        np.testing.assert_array_equal(result.as_numpy("label"), model.predict(x))
        np.testing.assert_array_equal(result.as_numpy("probabilities"), model.predict_proba(x))
    finally:
        client.close()
