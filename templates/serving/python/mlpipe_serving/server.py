"""Processes: the listening socket, the worker processes that serve it, and shutdown.

With one worker the server runs in this process. With more, this process binds the
socket, imports the libraries once, then forks the workers (which share the socket and
the metrics block) and supervises them: SIGTERM or SIGINT is passed on to every worker,
each of which stops accepting, finishes its in-flight requests (up to
MLPIPE_GRACEFUL_TIMEOUT seconds) and exits; a worker that dies unexpectedly is replaced;
a worker that refuses the package stops the whole server with exit status 1.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from typing import Optional

import uvicorn

from .app import ServingState, create_app
from .config import Config
from .metrics import SharedMetrics
from .package import Manifest

log = logging.getLogger("mlpipe_serving")

EXIT_REFUSED = 3  # a worker's status when the package was refused while loading
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_PLATFORMS = {"onnx": "onnxruntime_onnx", "sklearn": "sklearn"}
_MAX_RESTARTS = 5  # within _RESTART_WINDOW seconds; more means the workers cannot stay up
_RESTART_WINDOW = 60.0


class ServeError(Exception):
    """The server could not start (e.g. the port is taken): one line for the user."""


class _Server(uvicorn.Server):
    """uvicorn's server, but a stop signal ends in exit status 0 after the graceful
    shutdown instead of being raised again once the server has stopped."""

    def capture_signals(self):
        return _Signals(self)


class _Signals:
    def __init__(self, server: _Server):
        self.server = server
        self.previous = {}

    def __enter__(self):
        for sig in _STOP_SIGNALS:
            self.previous[sig] = signal.signal(sig, self.server.handle_exit)
        if _early_stop:
            self.server.should_exit = True

    def __exit__(self, *exc_info):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        return False


_early_stop = False  # a stop signal that reached a new worker before its server existed


def serve(config: Config, manifest: Manifest, threads: int) -> int:
    """Serves the package until a stop signal; returns the process's exit status."""
    sock = _bind(config)
    metrics = SharedMetrics(config.workers, manifest.name, config.model_version,
                            _PLATFORMS[manifest.flavor], manifest.flavor)
    scheme = "https" if config.tls_cert else "http"
    host, port = sock.getsockname()[:2]
    log.info("serving %s from %s on %s://%s:%d with %d worker(s)", manifest.name, manifest.root, scheme,
             host, port, config.workers)
    if config.workers == 1:
        return run_worker(config, manifest, metrics, sock, 0, threads)
    _preload(manifest)
    return _Supervisor(config, manifest, metrics, sock, threads).run()


def run_worker(config: Config, manifest: Manifest, metrics: SharedMetrics, sock: socket.socket,
               slot: int, threads: int) -> int:
    """Serves on `sock` in this process until told to stop; 0, or 1 / EXIT_REFUSED when the
    package was refused while loading (1 when this is the only process)."""
    metrics.use_slot(slot)
    metrics.set_ready(False)
    refused: list[str] = []
    server: Optional[_Server] = None

    def on_fatal(message: str) -> None:
        refused.append(message)
        log.error("%s", message)
        if server is not None:
            server.should_exit = True

    state = ServingState(config, manifest, metrics, threads, on_fatal)
    server = _Server(uvicorn.Config(
        create_app(state), host=config.host, port=config.port,
        ssl_certfile=config.tls_cert, ssl_keyfile=config.tls_key,
        log_config=None, access_log=False, server_header=False, date_header=True,
        timeout_graceful_shutdown=config.graceful_timeout, lifespan="on", backlog=2048,
        timeout_keep_alive=30,
    ))
    server.run(sockets=[sock])
    if refused:
        return EXIT_REFUSED if config.workers > 1 else 1
    return 0


def _bind(config: Config) -> socket.socket:
    try:
        infos = socket.getaddrinfo(config.host, config.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ServeError(f"HOST={config.host!r} is not an address to listen on ({error.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise ServeError(f"cannot listen on {config.host}:{config.port}: {error.strerror}; "
                         "set PORT (or HOST) to a free address") from None
    sock.set_inheritable(True)
    return sock


def _preload(manifest: Manifest) -> None:
    """Imports the runtime's libraries before forking, so that each worker starts with them
    loaded (and shares their pages) instead of importing them again."""
    import numpy  # noqa: F401
    if manifest.flavor == "onnx":
        import onnxruntime  # noqa: F401
    else:
        import joblib  # noqa: F401
        import sklearn.base  # noqa: F401


class _Supervisor:
    def __init__(self, config: Config, manifest: Manifest, metrics: SharedMetrics, sock: socket.socket,
                 threads: int):
        self.config = config
        self.manifest = manifest
        self.metrics = metrics
        self.sock = sock
        self.threads = threads
        self.workers: dict[int, int] = {}  # pid -> slot
        self.stopping = False
        self.status = 0
        self.restarts: list[float] = []

    def run(self) -> int:
        for sig in _STOP_SIGNALS:
            signal.signal(sig, self._on_signal)
        signal.signal(signal.SIGALRM, self._on_deadline)
        for slot in range(self.config.workers):
            self._spawn(slot)
        while self.workers:
            try:
                pid, status = os.waitpid(-1, 0)  # a signal's handler runs, then the wait resumes
            except ChildProcessError:
                break
            slot = self.workers.pop(pid, None)
            if slot is not None:
                self._reaped(pid, slot, os.waitstatus_to_exitcode(status))
        signal.setitimer(signal.ITIMER_REAL, 0)
        return self.status

    def _reaped(self, pid: int, slot: int, code: int) -> None:
        if self.stopping:
            return
        if code == EXIT_REFUSED:
            self._stop(1)
            return
        log.warning("worker %d (pid %d) exited with status %d; starting a new one", slot, pid, code)
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < _RESTART_WINDOW] + [now]
        if len(self.restarts) > _MAX_RESTARTS:
            log.error("workers keep exiting (%d restarts within %.0f s); stopping", len(self.restarts),
                      _RESTART_WINDOW)
            self._stop(1)
            return
        self._spawn(slot)

    def _spawn(self, slot: int) -> None:
        # Stop signals stay blocked across fork: the child must not run this handler.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for sig in _STOP_SIGNALS:
                    signal.signal(sig, _stop_early)
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
                code = run_worker(self.config, self.manifest, self.metrics, self.sock, slot, self.threads)
            except BaseException as error:  # never return into the parent's stack
                log.error("worker %d failed: %s: %s", slot, type(error).__name__, error)
            finally:
                logging.shutdown()
                os._exit(code)
        self.workers[pid] = slot
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)

    def _on_signal(self, sig: int, _frame) -> None:
        if not self.stopping:
            log.info("received %s; stopping %d worker(s) gracefully", signal.Signals(sig).name, len(self.workers))
        self._stop(self.status)

    def _stop(self, status: int) -> None:
        self.status = status
        if not self.stopping:
            self.stopping = True
            signal.setitimer(signal.ITIMER_REAL, self.config.graceful_timeout + 5)
            # The workers close their copies of the listening socket as they start to
            # drain; while this copy stayed open, new connections would wait in its queue,
            # never served, instead of being refused.
            self.sock.close()
        self._signal_all(signal.SIGTERM)

    def _on_deadline(self, _sig: int, _frame) -> None:
        log.error("workers did not stop within MLPIPE_GRACEFUL_TIMEOUT + 5 s; killing them")
        self._signal_all(signal.SIGKILL)

    def _signal_all(self, sig: int) -> None:
        for pid in list(self.workers):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass  # already exited; waitpid reaps it


def _stop_early(_sig: int, _frame) -> None:
    global _early_stop
    _early_stop = True
