"""Bearer-token auth (JWT HS256 and RS256) and TLS, each on a server started for it."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import time

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

import support

SECRET = "a-test-secret-of-at-least-32-bytes!!"
INFER = {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]}


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def hs256_server(onnx_package, workdir):
    server = support.start(onnx_package, workdir, env={"MLPIPE_AUTH_JWT_KEY": SECRET})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def rs256_server(onnx_package, workdir, rsa_key):
    public = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    server = support.start(onnx_package, workdir, env={"MLPIPE_AUTH_JWT_KEY": public,
                                                       "MLPIPE_AUTH_JWT_AUDIENCE": "mlpipe"})
    yield server
    server.stop()


def token(key, algorithm="HS256", **claims):
    return jwt.encode({"sub": "tests", "exp": int(time.time()) + 300, **claims}, key, algorithm=algorithm)


def test_without_auth_configured_no_token_is_needed(onnx_server):
    assert onnx_server.call("POST", "/v2/models/iris/infer", INFER).status == 200


def test_hs256_health_stays_open_and_the_rest_needs_a_token(hs256_server):
    assert hs256_server.call("GET", "/v2/health/live").status == 200
    assert hs256_server.call("GET", "/v2/health/ready").status == 200
    for method, path in (("GET", "/v2/models/iris"), ("POST", "/v2/models/iris/infer"), ("GET", "/metrics"),
                         ("POST", "/predict"), ("GET", "/v2")):
        response = hs256_server.call(method, path, INFER if method == "POST" else None)
        assert response.status == 401, path
        assert response.json() == {"error": "missing bearer token: send 'Authorization: Bearer <JWT>'"}
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_hs256_valid_token_is_accepted(hs256_server):
    response = hs256_server.call("POST", "/v2/models/iris/infer", INFER, token=token(SECRET))
    assert response.status == 200
    assert response.json()["outputs"][0]["data"] == [0]


@pytest.mark.parametrize("make, fragment", [
    (lambda: token("another-secret-that-is-32-bytes-long!"), "signature does not verify"),
    (lambda: token(SECRET, exp=int(time.time()) - 3600), "has expired"),
    (lambda: "not.a.jwt", "not a valid JWT"),
])
def test_hs256_bad_tokens_are_401_without_echoing_them(hs256_server, make, fragment):
    bad = make()
    response = hs256_server.call("GET", "/v2/models/iris", token=bad)
    assert response.status == 401
    assert fragment in response.json()["error"]
    assert bad not in response.body.decode()


def test_rs256_token_signed_by_the_private_key_is_accepted(rs256_server, rsa_key):
    good = token(rsa_key, "RS256", aud="mlpipe")
    assert rs256_server.call("POST", "/v2/models/iris/infer", INFER, token=good).status == 200


def test_rs256_refuses_hs256_tokens_other_keys_and_other_audiences(rs256_server, rsa_key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = [(token(SECRET, aud="mlpipe"), "not signed with RS256"),
             (token(other, "RS256", aud="mlpipe"), "signature does not verify"),
             (token(rsa_key, "RS256", aud="someone-else"), "audience")]
    for bad, fragment in cases:
        response = rs256_server.call("GET", "/v2/models/iris", token=bad)
        assert response.status == 401
        assert fragment in response.json()["error"]
    assert rs256_server.call("GET", "/v2/health/ready").status == 200


def self_signed(folder):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "tls.crt", folder / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_serves_https_with_the_given_certificate(onnx_package, workdir):
    cert, key = self_signed(workdir)
    context = ssl.create_default_context(cafile=str(cert))
    server = support.start(onnx_package, workdir, scheme="https", context=context,
                           env={"MLPIPE_TLS_CERT": str(cert), "MLPIPE_TLS_KEY": str(key), "MLPIPE_WORKERS": "2"})
    try:
        response = server.call("POST", "/v2/models/iris/infer", INFER)
        assert response.status == 200
        assert response.json()["outputs"][0]["data"] == [0]
        plain = support.Server(server.process, server.port)
        with pytest.raises(Exception):
            plain.call("GET", "/v2/health/live", timeout=3)  # plain HTTP is not answered
    finally:
        assert server.stop() == 0
