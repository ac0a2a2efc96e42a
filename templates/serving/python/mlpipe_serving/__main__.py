"""`python3 -m mlpipe_serving`: read the configuration, check the package, serve.

Exit status: 0 after a graceful stop, 2 for a bad configuration (one line names the
variable), 1 when the package is refused or the server cannot start.
"""

import logging
import os
import sys
import time


def main() -> int:
    from .config import Config, ConfigError

    try:
        config = Config.from_env()
    except ConfigError as error:
        print(f"mlpipe-serving: error: {error}", file=sys.stderr)
        return 2
    _configure_logging(config.log_level)
    # Each worker runs one inference at a time on its share of the cores: BLAS and
    # OpenMP pools must not start a thread per core in every worker (set before numpy).
    from .config import default_workers

    threads = max(1, default_workers() // config.workers)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, str(threads))
    from .package import PackageError, read_manifest

    try:
        manifest = read_manifest(config.model_dir)
    except PackageError as error:
        print(f"mlpipe-serving: error: {error}", file=sys.stderr)
        return 1
    from .server import ServeError, serve

    try:
        return serve(config, manifest, threads)
    except ServeError as error:
        print(f"mlpipe-serving: error: {error}", file=sys.stderr)
        return 1


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s",
                                  "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_rename_uvicorn)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _rename_uvicorn(record: logging.LogRecord) -> bool:
    # uvicorn logs its server messages as "uvicorn.error", which reads like an error.
    if record.name == "uvicorn.error":
        record.name = "uvicorn"
    return True


if __name__ == "__main__":
    sys.exit(main())
