"""The server's configuration, read once from the environment.

Every variable is checked before anything else starts, so that a bad value ends the
process at once with one line that names the variable, the bad value (never a secret's
value) and what would be accepted; `__main__` turns a ConfigError into exit status 2.
"""

from __future__ import annotations

import math
import os
import ssl
from dataclasses import dataclass
from typing import Mapping, Optional

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
_ALGORITHMS = ("HS256", "RS256")
_LOG_LEVELS = ("debug", "info", "warning", "error")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class ConfigError(Exception):
    """A bad environment variable: the message is the whole line shown to the user."""


@dataclass(frozen=True)
class AuthConfig:
    """Bearer-token checking: the verification key never appears in a message."""

    key: str
    algorithm: str
    audience: Optional[str]
    issuer: Optional[str]


@dataclass(frozen=True)
class Config:
    """What `python3 -m mlpipe_serving` serves and how (see README.md for each variable)."""

    model_dir: str
    model_version: str
    host: str
    port: int
    workers: int
    auth: Optional[AuthConfig]
    tls_cert: Optional[str]
    tls_key: Optional[str]
    max_body_bytes: int
    graceful_timeout: float
    access_log: bool
    log_level: str

    @staticmethod
    def from_env(env: Mapping[str, str] = os.environ) -> "Config":
        """Reads and checks every variable; raises ConfigError on the first bad one."""
        version = env.get("MLPIPE_MODEL_VERSION", "1").strip()
        if not version or "/" in version:
            raise ConfigError(
                f"MLPIPE_MODEL_VERSION={version!r} is not a version: use a non-empty name without '/', e.g. 1")
        host = env.get("HOST", "0.0.0.0").strip()
        if not host:
            raise ConfigError("HOST is empty: set it to an address to listen on, e.g. 0.0.0.0 or 127.0.0.1")
        cert, key = _optional(env, "MLPIPE_TLS_CERT"), _optional(env, "MLPIPE_TLS_KEY")
        if (cert is None) != (key is None):
            given, missing = ("MLPIPE_TLS_CERT", "MLPIPE_TLS_KEY") if cert else ("MLPIPE_TLS_KEY", "MLPIPE_TLS_CERT")
            raise ConfigError(f"{given} is set but {missing} is not: set both (PEM paths) for HTTPS, or neither")
        if cert is not None and key is not None:
            _check_tls(cert, key)
        level = env.get("MLPIPE_LOG_LEVEL", "info").strip().lower()
        if level not in _LOG_LEVELS:
            raise ConfigError(f"MLPIPE_LOG_LEVEL={level!r} is not a level: use one of {', '.join(_LOG_LEVELS)}")
        return Config(
            model_dir=env.get("MLPIPE_MODEL_DIR", "/model").strip() or "/model",
            model_version=version,
            host=host,
            port=_integer(env, "PORT", 8080, 0, 65535, "a port number"),
            workers=_integer(env, "MLPIPE_WORKERS", default_workers(), 1, 256, "a number of worker processes"),
            auth=_auth(env),
            tls_cert=cert,
            tls_key=key,
            max_body_bytes=_integer(env, "MLPIPE_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1024, 1 << 40,
                                    "a size in bytes"),
            graceful_timeout=float(_integer(env, "MLPIPE_GRACEFUL_TIMEOUT", 30, 0, 3600, "a number of seconds")),
            access_log=_boolean(env, "MLPIPE_ACCESS_LOG", True),
            log_level=level,
        )


def default_workers() -> int:
    """One worker per core this process may use: the CPU affinity, capped by a cgroup quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota: the affinity stands
    return max(1, cores)


def _optional(env: Mapping[str, str], name: str) -> Optional[str]:
    value = env.get(name, "").strip()
    return value or None


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int, what: str) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} is not {what}: use an integer from {low} to {high}")
    return value


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: use 1 or 0")


def _auth(env: Mapping[str, str]) -> Optional[AuthConfig]:
    key = env.get("MLPIPE_AUTH_JWT_KEY", "")
    algorithm = env.get("MLPIPE_AUTH_JWT_ALG", "").strip().upper()
    if not key.strip():
        if algorithm:
            raise ConfigError("MLPIPE_AUTH_JWT_ALG is set but MLPIPE_AUTH_JWT_KEY is empty: "
                              "set the key (HS256 secret or RS256 public key PEM), or unset both to serve without auth")
        return None
    is_pem = key.lstrip().startswith("-----BEGIN")
    if not algorithm:
        algorithm = "RS256" if is_pem else "HS256"
    if algorithm not in _ALGORITHMS:
        raise ConfigError(f"MLPIPE_AUTH_JWT_ALG={algorithm!r} is not supported: use HS256 or RS256")
    if algorithm == "RS256":
        if not is_pem:
            raise ConfigError("MLPIPE_AUTH_JWT_KEY is not a PEM public key, which RS256 needs "
                              "(-----BEGIN PUBLIC KEY-----...); for a shared secret set MLPIPE_AUTH_JWT_ALG=HS256")
        _check_public_key(key)
    elif is_pem:
        raise ConfigError("MLPIPE_AUTH_JWT_KEY holds a PEM key but MLPIPE_AUTH_JWT_ALG is HS256: "
                          "set MLPIPE_AUTH_JWT_ALG=RS256 for a public key")
    elif len(key.encode()) < 32:
        raise ConfigError(f"MLPIPE_AUTH_JWT_KEY is {len(key.encode())} bytes long: an HS256 secret must have "
                          "at least 32 bytes (RFC 7518, 3.2); generate one with `openssl rand -hex 32`")
    return AuthConfig(key=key, algorithm=algorithm,
                      audience=_optional(env, "MLPIPE_AUTH_JWT_AUDIENCE"),
                      issuer=_optional(env, "MLPIPE_AUTH_JWT_ISSUER"))


def _check_public_key(pem: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        public = load_pem_public_key(pem.encode())
    except ValueError:
        raise ConfigError("MLPIPE_AUTH_JWT_KEY is not a readable PEM public key: give the RSA public key "
                          "(`openssl rsa -in private.pem -pubout`), not a private key or certificate") from None
    if not isinstance(public, rsa.RSAPublicKey):
        raise ConfigError("MLPIPE_AUTH_JWT_KEY is not an RSA public key, which RS256 needs")


def _check_tls(cert: str, key: str) -> None:
    for name, path in (("MLPIPE_TLS_CERT", cert), ("MLPIPE_TLS_KEY", key)):
        if not os.path.isfile(path):
            raise ConfigError(f"{name}={path!r}: no such file; mount the PEM file there or fix the path")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as error:
        reason = getattr(error, "reason", None) or error.strerror or "unreadable"
        raise ConfigError(f"MLPIPE_TLS_CERT={cert!r} and MLPIPE_TLS_KEY={key!r} do not make a certificate "
                          f"chain ({reason}): give a PEM certificate and its matching private key") from None
