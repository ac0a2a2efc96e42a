"""The access log: one line per request on standard error, in the format of the other
log lines (`<UTC time> INFO mlpipe_serving.access[<pid>]: ...`).

Written with one os.write per line instead of through `logging` (whose record and
formatter cost more than the rest of a small request), with the timestamp prefix built
once per second. The path comes from the client, so anything unprintable is escaped
and it is cut at 2,000 characters: one request is always exactly one line.
"""

from __future__ import annotations

import os
import time

_MAX_PATH = 2000


class AccessLog:
    """Writes access lines to a file descriptor (standard error by default)."""

    def __init__(self, fd: int = 2):
        self._fd = fd
        self._second = -1
        self._prefix = ""

    def write(self, client, method: str, path: str, http_version: str, status: int, seconds: float) -> None:
        """Writes one line; a failing write is dropped (the request has been answered)."""
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._prefix = (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
                            + f" INFO mlpipe_serving.access[{os.getpid()}]: ")
        if len(path) > _MAX_PATH:
            path = path[:_MAX_PATH] + "..."
        if not path.isprintable() or '"' in path:
            path = path.encode("unicode_escape").decode("ascii").replace('"', "%22")
        peer = f"{client[0]}:{client[1]}" if client else "-"
        line = f'{self._prefix}{peer} "{method} {path} HTTP/{http_version}" {status} {seconds * 1000:.2f}ms\n'
        try:
            os.write(self._fd, line.encode("utf-8", "replace"))
        except OSError:
            pass  # standard error is gone or full: nowhere left to say so
