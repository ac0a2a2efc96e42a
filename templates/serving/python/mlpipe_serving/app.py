"""The HTTP application: Open Inference Protocol V2 routes, `/predict`, `/metrics`, and
the gate in front of them (auth, body size limit, metrics, one access-log line).

Bodies are read as bytes and parsed with orjson, and responses are orjson bytes, so no
pydantic model sits on the request path. Errors reach the client as
`{"error": "..."}` with a 4xx or 5xx status, never as a stack trace.
"""

from __future__ import annotations

import logging
import threading
from time import perf_counter
from typing import Callable, Optional

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__
from .accesslog import AccessLog
from .auth import AuthError, TokenVerifier
from .config import Config
from .metrics import ENDPOINT_INDEX, SharedMetrics, classify
from .package import Manifest, PackageError, verify_files
from .protocol import ProtocolError, decode_infer, encode_infer, parse_json, rows_to_input
from .runtime import Model, load_model

log = logging.getLogger("mlpipe_serving")

JSON = "application/json"
OPEN_ENDPOINTS = frozenset({ENDPOINT_INDEX["/v2/health/live"], ENDPOINT_INDEX["/v2/health/ready"]})


class ServingState:
    """What one worker serves: the manifest, and the model once it is verified and loaded."""

    def __init__(self, config: Config, manifest: Manifest, metrics: SharedMetrics, threads: int,
                 on_fatal: Callable[[str], None]):
        self.config = config
        self.manifest = manifest
        self.metrics = metrics
        self.threads = threads
        self.on_fatal = on_fatal
        self.verifier = TokenVerifier(config.auth) if config.auth else None
        self.model: Optional[Model] = None
        self.metadata = b""

    def load(self) -> None:
        """Verifies the package's files, loads the model, then marks this worker ready.
        A refused package calls `on_fatal`, which stops the server."""
        started = perf_counter()
        try:
            verify_files(self.manifest)
            model = load_model(self.manifest, self.threads)
        except PackageError as error:
            self.on_fatal(str(error))
            return
        except Exception as error:  # a runtime's own failure: say which, stop
            self.on_fatal(f"{self.manifest.model_path}: loading failed: {type(error).__name__}: {error}")
            return
        self.metadata = orjson.dumps({
            "name": model.name, "versions": [self.config.model_version], "platform": model.platform,
            "inputs": [s.metadata() for s in model.inputs], "outputs": [s.metadata() for s in model.outputs],
        })
        self.model = model
        self.metrics.set_ready(True)
        log.info("model %r version %s (%s) ready in %.0f ms", model.name, self.config.model_version,
                 model.platform, (perf_counter() - started) * 1000)


def create_app(state: ServingState) -> "Gate":
    """The ASGI application for one worker: the gate around the FastAPI routes."""

    def lifespan(_app: FastAPI):
        return _Lifespan(state)

    # No docs pages in production, and no OpenTelemetry hooks: /metrics is the telemetry,
    # and FastAPI's check for a configured provider would run on every request.
    app = FastAPI(title="mlpipe-serving", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan,
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    name = state.manifest.name
    version = state.config.model_version
    max_body = state.config.max_body_bytes

    def error(status: int, message: str, headers: Optional[dict] = None) -> Response:
        return Response(orjson.dumps({"error": message}), status, headers=headers, media_type=JSON)

    def loaded(model_name: str, model_version: Optional[str]) -> Model:
        if model_name != name:
            raise ProtocolError(f"unknown model {model_name!r}; this server serves {name!r}", 404)
        if model_version is not None and model_version != version:
            raise ProtocolError(f"model {name!r} has no version {model_version!r}; it serves version {version}", 404)
        model = state.model
        if model is None:
            raise ProtocolError(f"model {name!r} is not loaded yet; retry when /v2/health/ready answers 200", 503)
        return model

    async def body_of(request: Request) -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise ProtocolError(f"request body is larger than {max_body} bytes (MLPIPE_MAX_BODY_BYTES)", 413)
            chunks.append(chunk)
        return b"".join(chunks)

    async def infer(request: Request, model_name: str, model_version: Optional[str]) -> Response:
        try:
            model = loaded(model_name, model_version)
            body = await body_of(request)
            decoded = decode_infer(body, request.headers.get("inference-header-content-length"), model)
            results = model.predict(decoded.inputs, decoded.outputs)
            content, header_length = encode_infer(model, version, decoded, results)
        except ProtocolError as refused:
            return error(refused.status, str(refused))
        except Exception as failure:  # the model raised: the client learns only that it failed
            log.error("inference failed: %s: %s", type(failure).__name__, failure)
            return error(500, f"model {name!r} failed on this request ({type(failure).__name__})")
        if header_length is None:
            return Response(content, media_type=JSON)
        return Response(content, media_type="application/octet-stream",
                        headers={"Inference-Header-Content-Length": str(header_length)})

    async def infer_latest(request: Request) -> Response:
        return await infer(request, request.path_params["model_name"], None)

    async def infer_version(request: Request) -> Response:
        params = request.path_params
        return await infer(request, params["model_name"], params["model_version"])

    async def predict(request: Request) -> Response:
        try:
            model = loaded(name, None)
            x = rows_to_input(parse_json(await body_of(request)), model)
            results = model.predict({model.inputs[0].name: x}, model.output_names)
        except ProtocolError as refused:
            return error(refused.status, str(refused))
        except Exception as failure:
            log.error("prediction failed: %s: %s", type(failure).__name__, failure)
            return error(500, f"model {name!r} failed on this request ({type(failure).__name__})")
        doc = {"model_name": name, "model_version": version, "predictions": results[0],
               "outputs": dict(zip(model.output_names, results))}
        return Response(orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY), media_type=JSON)

    async def live(_request: Request) -> Response:
        return Response(b'{"live":true}', media_type=JSON)

    async def ready(_request: Request) -> Response:
        if state.model is None or not state.metrics.all_ready():
            return error(503, f"model {name!r} is not loaded yet")
        return Response(b'{"ready":true}', media_type=JSON)

    async def server_metadata(_request: Request) -> Response:
        return Response(orjson.dumps({"name": "mlpipe-serving", "version": __version__,
                                      "extensions": ["binary_tensor_data"]}), media_type=JSON)

    async def model_metadata(model_name: str, model_version: Optional[str]) -> Response:
        try:
            loaded(model_name, model_version)
        except ProtocolError as refused:
            return error(refused.status, str(refused))
        return Response(state.metadata, media_type=JSON)

    async def metadata_latest(request: Request) -> Response:
        return await model_metadata(request.path_params["model_name"], None)

    async def metadata_version(request: Request) -> Response:
        params = request.path_params
        return await model_metadata(params["model_name"], params["model_version"])

    async def model_ready(model_name: str, model_version: Optional[str]) -> Response:
        try:
            loaded(model_name, model_version)
        except ProtocolError as refused:
            return error(refused.status, str(refused))
        return Response(orjson.dumps({"name": name, "ready": True}), media_type=JSON)

    async def ready_latest(request: Request) -> Response:
        return await model_ready(request.path_params["model_name"], None)

    async def ready_version(request: Request) -> Response:
        params = request.path_params
        return await model_ready(params["model_name"], params["model_version"])

    async def metrics(_request: Request) -> Response:
        return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    # Plain routes (request in, response out), the hot ones first: FastAPI's dependency
    # resolution for typed parameters cost more than the rest of an infer request.
    for path, endpoint, method in (
        ("/v2/models/{model_name}/infer", infer_latest, "POST"),
        ("/v2/models/{model_name}/versions/{model_version}/infer", infer_version, "POST"),
        ("/predict", predict, "POST"),
        ("/v2/health/live", live, "GET"),
        ("/v2/health/ready", ready, "GET"),
        ("/v2", server_metadata, "GET"),
        ("/v2/models/{model_name}", metadata_latest, "GET"),
        ("/v2/models/{model_name}/versions/{model_version}", metadata_version, "GET"),
        ("/v2/models/{model_name}/ready", ready_latest, "GET"),
        ("/v2/models/{model_name}/versions/{model_version}/ready", ready_version, "GET"),
        ("/metrics", metrics, "GET"),
    ):
        app.add_route(path, endpoint, methods=[method], include_in_schema=False)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error(404, f"no endpoint at {request.url.path}; see GET /v2 and /v2/models/{name}")
        if exc.status_code == 405:
            return error(405, f"{request.method} is not allowed on {request.url.path}",
                         headers=getattr(exc, "headers", None))
        return error(exc.status_code, str(exc.detail))

    return Gate(app, state)


class _Lifespan:
    """Starts loading the model in a thread when the server starts, so that the health
    endpoints answer (ready: 503) while the files are hashed and the model loaded."""

    def __init__(self, state: ServingState):
        self.state = state

    async def __aenter__(self):
        threading.Thread(target=self.state.load, name="model-loader", daemon=True).start()

    async def __aexit__(self, *exc_info):
        self.state.metrics.set_ready(False)
        return False


class Gate:
    """Pure ASGI middleware around the routes: bearer-token check (health endpoints stay
    open), Content-Length limit, request metrics and the access-log line. Any exception
    that escapes a route becomes a 500 with a short message."""

    def __init__(self, app: FastAPI, state: ServingState):
        self.app = app
        self.state = state
        enabled = state.config.access_log and state.config.log_level in ("debug", "info")
        self.access = AccessLog() if enabled else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        endpoint = classify(scope["path"])
        status = 500
        response_started = False

        async def send_and_watch(message):
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        state = self.state
        try:
            refusal = self._refusal(scope, endpoint)
            if refusal is None:
                await self.app(scope, receive, send_and_watch)
            else:
                await _send_json(send_and_watch, *refusal)
        except Exception as failure:
            log.error("request %s %s failed: %s: %s", scope["method"], scope["path"], type(failure).__name__, failure)
            if not response_started:
                await _send_json(send_and_watch, 500, "internal error", None)
        finally:
            elapsed = perf_counter() - started
            state.metrics.observe(endpoint, status, elapsed)
            if self.access is not None:
                self.access.write(scope.get("client"), scope["method"], scope["path"], scope["http_version"],
                                  status, elapsed)

    def _refusal(self, scope, endpoint: int):
        verifier = self.state.verifier
        length = None
        authorization = None
        for key, value in scope["headers"]:
            if key == b"content-length":
                length = value
            elif key == b"authorization":
                authorization = value
        if verifier is not None and endpoint not in OPEN_ENDPOINTS:
            try:
                verifier.check(authorization)
            except AuthError as refused:
                return 401, str(refused), [(b"www-authenticate", b'Bearer realm="mlpipe-serving"')]
        if length is not None:
            limit = self.state.config.max_body_bytes
            try:
                too_large = int(length) > limit
            except ValueError:
                return 400, "Content-Length is not a number", None
            if too_large:
                return 413, f"request body is larger than {limit} bytes (MLPIPE_MAX_BODY_BYTES)", None
        return None


async def _send_json(send, status: int, message: str, headers) -> None:
    body = orjson.dumps({"error": message})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", JSON.encode()), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
