"""The Open Inference Protocol V2 endpoints and /predict, over HTTP against the real server."""

from __future__ import annotations

import socket

import numpy as np
import pytest


def infer_body(rows, name="X", datatype="FP32", shape=None, outputs=None):
    rows = np.asarray(rows)
    body = {"inputs": [{"name": name, "datatype": datatype, "shape": list(shape or rows.shape),
                        "data": rows.ravel().tolist()}]}
    if outputs is not None:
        body["outputs"] = [{"name": o} for o in outputs]
    return body


def test_health_endpoints_answer(onnx_server):
    live = onnx_server.call("GET", "/v2/health/live")
    ready = onnx_server.call("GET", "/v2/health/ready")
    assert (live.status, live.json()) == (200, {"live": True})
    assert (ready.status, ready.json()) == (200, {"ready": True})
    assert onnx_server.call("GET", "/v2/models/iris/ready").status == 200
    assert onnx_server.call("GET", "/v2/models/iris/versions/1/ready").status == 200


def test_server_metadata_names_the_server(onnx_server):
    response = onnx_server.call("GET", "/v2")
    assert response.status == 200
    assert response.json()["name"] == "mlpipe-serving"
    assert "binary_tensor_data" in response.json()["extensions"]


def test_model_metadata_lists_the_signature_with_any_size_as_minus_one(onnx_server):
    response = onnx_server.call("GET", "/v2/models/iris")
    assert response.status == 200
    assert response.json() == {
        "name": "iris", "versions": ["1"], "platform": "onnxruntime_onnx",
        "inputs": [{"name": "X", "datatype": "FP32", "shape": [-1, 4]}],
        "outputs": [{"name": "label", "datatype": "INT64", "shape": [-1]},
                    {"name": "probabilities", "datatype": "FP32", "shape": [-1, 3]}],
    }
    assert onnx_server.call("GET", "/v2/models/iris/versions/1").json()["name"] == "iris"


def test_sklearn_metadata_reports_its_platform_and_configured_version(sklearn_server):
    doc = sklearn_server.call("GET", "/v2/models/iris-sklearn").json()
    assert (doc["platform"], doc["versions"]) == ("sklearn", ["7"])
    assert doc["inputs"] == [{"name": "X", "datatype": "FP64", "shape": [-1, 4]}]


def test_unknown_model_or_version_is_404_with_an_error(onnx_server):
    for path in ("/v2/models/nope", "/v2/models/nope/ready", "/v2/models/iris/versions/2/infer"):
        method = "POST" if path.endswith("infer") else "GET"
        response = onnx_server.call(method, path, body=infer_body([[1, 2, 3, 4]]) if method == "POST" else None)
        assert response.status == 404, path
        assert "error" in response.json()


def test_onnx_infer_matches_scikit_learn(onnx_server, iris_model):
    model, x = iris_model
    response = onnx_server.call("POST", "/v2/models/iris/infer", infer_body(x.astype(np.float32)))
    assert response.status == 200
    doc = response.json()
    assert (doc["model_name"], doc["model_version"]) == ("iris", "1")
    outputs = {o["name"]: o for o in doc["outputs"]}
    assert outputs["label"]["datatype"] == "INT64" and outputs["label"]["shape"] == [150]
    assert outputs["probabilities"]["shape"] == [150, 3]
    np.testing.assert_array_equal(outputs["label"]["data"], model.predict(x))
    probabilities = np.asarray(outputs["probabilities"]["data"]).reshape(150, 3)
    np.testing.assert_allclose(probabilities, model.predict_proba(x), atol=1e-5)


def test_versioned_infer_echoes_the_request_id(onnx_server):
    body = infer_body([[5.1, 3.5, 1.4, 0.2]])
    body["id"] = "req-42"
    doc = onnx_server.call("POST", "/v2/models/iris/versions/1/infer", body).json()
    assert doc["id"] == "req-42"


def test_infer_returns_only_the_requested_outputs(onnx_server):
    body = infer_body([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], outputs=["probabilities"])
    doc = onnx_server.call("POST", "/v2/models/iris/infer", body).json()
    assert [o["name"] for o in doc["outputs"]] == ["probabilities"]


def test_nested_data_is_accepted(onnx_server):
    body = {"inputs": [{"name": "X", "datatype": "FP32", "shape": [2, 4],
                        "data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}]}
    doc = onnx_server.call("POST", "/v2/models/iris/infer", body).json()
    assert doc["outputs"][0]["data"] == [0, 2]


def test_sklearn_infer_matches_scikit_learn_exactly(sklearn_server, iris_model):
    model, x = iris_model
    body = infer_body(x, datatype="FP64")
    doc = sklearn_server.call("POST", "/v2/models/iris-sklearn/infer", body).json()
    outputs = {o["name"]: o for o in doc["outputs"]}
    np.testing.assert_array_equal(outputs["label"]["data"], model.predict(x))
    np.testing.assert_array_equal(np.asarray(outputs["probabilities"]["data"]).reshape(150, 3),
                                  model.predict_proba(x))


@pytest.mark.parametrize("body, fragment", [
    (infer_body([[1, 2, 3, 4]], name="features"), "unknown input 'features'"),
    (infer_body([[1, 2, 3, 4]], datatype="FP64"), "datatype 'FP64'; the model expects FP32"),
    (infer_body([[1, 2, 3]], shape=[1, 3]), "shape [1, 3]; the model expects [-1, 4]"),
    (infer_body([[1, 2, 3, 4]], shape=[2, 4]), "needs 8 elements, data has 4"),
    ({"inputs": []}, "non-empty 'inputs'"),
    ({"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": ["a", "b", "c", "d"]}]},
     "data must be numbers"),
    (infer_body([[1, 2, 3, 4]], outputs=["nope"]), "unknown output 'nope'"),
    (b"{not json", "not valid JSON"),
])
def test_bad_infer_requests_are_400_with_the_reason(onnx_server, body, fragment):
    response = onnx_server.call("POST", "/v2/models/iris/infer", body)
    assert response.status == 400
    assert fragment in response.json()["error"]


def test_a_missing_input_is_named(adder_server):
    response = adder_server.call("POST", "/v2/models/adder/infer",
                                 {"inputs": [{"name": "A", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]})
    assert response.status == 400
    assert "missing input(s) 'B'" in response.json()["error"]


def test_a_package_without_signature_is_described_from_the_onnx_graph(adder_server):
    doc = adder_server.call("GET", "/v2/models/adder").json()
    assert doc["inputs"] == [{"name": "A", "datatype": "FP32", "shape": [-1, 2]},
                             {"name": "B", "datatype": "FP32", "shape": [-1, 2]}]
    body = {"inputs": [{"name": n, "datatype": "FP32", "shape": [1, 2], "data": [1, 2]} for n in ("A", "B")]}
    assert adder_server.call("POST", "/v2/models/adder/infer", body).json()["outputs"][0]["data"] == [2, 4]


def test_predict_refuses_a_model_with_two_inputs(adder_server):
    response = adder_server.call("POST", "/predict", [[1, 2]])
    assert response.status == 400
    assert "/v2/models/adder/infer" in response.json()["error"]


def test_predict_takes_instances_or_bare_rows(onnx_server, iris_model):
    model, x = iris_model
    rows = x[:3].tolist()
    for body in ({"instances": rows}, rows):
        response = onnx_server.call("POST", "/predict", body)
        assert response.status == 200
        doc = response.json()
        assert doc["predictions"] == model.predict(x[:3]).tolist()
        assert len(doc["outputs"]["probabilities"]) == 3


def test_predict_with_wrong_row_width_is_400(onnx_server):
    response = onnx_server.call("POST", "/predict", {"instances": [[1, 2, 3]]})
    assert response.status == 400
    assert "expects [-1, 4]" in response.json()["error"]


def test_body_over_the_limit_is_413(onnx_server):
    response = onnx_server.call("POST", "/v2/models/iris/infer", b"[" + b"1," * 40000 + b"1]")
    assert response.status == 413
    assert "MLPIPE_MAX_BODY_BYTES" in response.json()["error"]


def test_a_too_large_content_length_is_refused_before_the_body_is_sent(onnx_server):
    with socket.create_connection(("127.0.0.1", onnx_server.port), timeout=5) as conn:
        conn.sendall(b"POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
        head = conn.recv(65536)
    assert head.startswith(b"HTTP/1.1 413 ")


def test_unknown_route_and_wrong_method_answer_json_errors(onnx_server):
    missing = onnx_server.call("GET", "/nope")
    wrong = onnx_server.call("GET", "/v2/models/iris/infer")
    assert (missing.status, wrong.status) == (404, 405)
    assert "error" in missing.json() and "error" in wrong.json()


def test_metrics_count_requests_by_endpoint_and_status_across_workers(onnx_server):
    def count(text, status):
        prefix = f'mlpipe_requests_total{{endpoint="/v2/models/{{name}}/infer",status="{status}",'
        line = next((l for l in text.splitlines() if l.startswith(prefix)), None)
        return int(line.rsplit(" ", 1)[1]) if line else 0

    before = onnx_server.call("GET", "/metrics").body.decode()
    for _ in range(6):
        onnx_server.call("POST", "/v2/models/iris/infer", infer_body([[5.1, 3.5, 1.4, 0.2]]))
    onnx_server.call("POST", "/v2/models/iris/infer", infer_body([[1, 2, 3]], shape=[1, 3]))
    response = onnx_server.call("GET", "/metrics")
    text = response.body.decode()
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert count(text, 200) - count(before, 200) == 6
    assert count(text, 400) - count(before, 400) == 1
    assert 'mlpipe_model_info{model="iris",version="1",platform="onnxruntime_onnx",flavor="onnx"} 1' in text
    assert 'mlpipe_model_ready{model="iris",version="1"} 1' in text
    assert ('mlpipe_request_duration_seconds_bucket{endpoint="/v2/models/{name}/infer",model="iris",'
            'version="1",le="+Inf"}') in text


def test_every_request_is_one_access_log_line(onnx_server):
    onnx_server.call("GET", "/v2/models/iris/ready?probe=access-log")
    log = onnx_server.log_with('"GET /v2/models/iris/ready HTTP/1.1" 200')
    lines = [l for l in log.splitlines() if '"GET /v2/models/iris/ready HTTP/1.1" 200' in l]
    assert lines and all("mlpipe_serving.access" in l and l.endswith("ms") for l in lines)


def test_a_path_with_a_newline_stays_on_one_access_log_line(onnx_server):
    onnx_server.call("GET", "/v2/models/iris%0A2026-01-01T00:00:00Z%20INFO%20forged")
    log = onnx_server.log_with("forged")
    assert not any(line.startswith("2026-01-01T00:00:00Z INFO forged") for line in log.splitlines())
    assert "/v2/models/iris\\n2026-01-01T00:00:00Z INFO forged" in log
