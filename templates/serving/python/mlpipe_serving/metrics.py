"""Request counters and latency histograms shared by every worker process.

The parent maps one anonymous shared memory block before it forks the workers; each
worker writes only its own row (so no locks are needed: one writer per slot, 8-byte
aligned stores), and `/metrics`, answered by any worker, sums the rows. A worker that is
restarted takes over its predecessor's row, so counters never go backwards. Endpoints
are the route templates, not raw paths, so the number of series stays fixed.
"""

from __future__ import annotations

import mmap
from bisect import bisect_left

ENDPOINTS = (
    "/v2/models/{name}/infer",
    "/v2/models/{name}/versions/{version}/infer",
    "/predict",
    "/v2/health/live",
    "/v2/health/ready",
    "/v2",
    "/v2/models/{name}",
    "/v2/models/{name}/versions/{version}",
    "/v2/models/{name}/ready",
    "/v2/models/{name}/versions/{version}/ready",
    "/metrics",
    "other",
)
ENDPOINT_INDEX = {name: i for i, name in enumerate(ENDPOINTS)}
STATUSES = (200, 400, 401, 403, 404, 405, 408, 411, 413, 415, 422, 429, 500, 503)
_STATUS_INDEX = {code: i for i, code in enumerate(STATUSES)}
_OTHER_STATUS = len(STATUSES)  # one more slot, reported as "other"
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_E, _S, _B = len(ENDPOINTS), len(STATUSES) + 1, len(BUCKETS) + 1
_COUNTS = _E * _S          # int64 per (endpoint, status)
_HIST = _E * _B            # int64 per (endpoint, bucket), not cumulative
_SUMS = _E                 # float64 seconds per endpoint
_SLOT = _COUNTS + _HIST + _SUMS + 1  # + 1: the worker's ready flag


class SharedMetrics:
    """Counters for `workers` processes in one shared block (see the module comment)."""

    def __init__(self, workers: int, model: str, version: str, platform: str, flavor: str):
        self.workers = workers
        self._block = mmap.mmap(-1, workers * _SLOT * 8)
        self._ints = memoryview(self._block).cast("q")
        self._floats = memoryview(self._block).cast("d")
        self.slot = 0
        self._labels = f'model="{_escape(model)}",version="{_escape(version)}"'
        self._info = f'{self._labels},platform="{_escape(platform)}",flavor="{_escape(flavor)}"'

    def use_slot(self, slot: int) -> None:
        """Called in a worker right after fork: the row it writes."""
        self.slot = slot

    def observe(self, endpoint: int, status: int, seconds: float) -> None:
        """Counts one request of the worker's row."""
        base = self.slot * _SLOT
        ints = self._ints
        ints[base + endpoint * _S + _STATUS_INDEX.get(status, _OTHER_STATUS)] += 1
        ints[base + _COUNTS + endpoint * _B + bisect_left(BUCKETS, seconds)] += 1
        self._floats[base + _COUNTS + _HIST + endpoint] += seconds

    def set_ready(self, ready: bool) -> None:
        """Marks this worker's model loaded (or not)."""
        self._ints[self.slot * _SLOT + _SLOT - 1] = 1 if ready else 0

    def all_ready(self) -> bool:
        """True when every worker has its model loaded."""
        return all(self._ints[w * _SLOT + _SLOT - 1] for w in range(self.workers))

    def render(self) -> bytes:
        """The Prometheus text exposition (format 0.0.4) of the sums over all workers."""
        ints, floats = self._ints, self._floats
        counts = [0] * _COUNTS
        hist = [0] * _HIST
        sums = [0.0] * _SUMS
        for w in range(self.workers):
            base = w * _SLOT
            for i in range(_COUNTS):
                counts[i] += ints[base + i]
            for i in range(_HIST):
                hist[i] += ints[base + _COUNTS + i]
            for i in range(_SUMS):
                sums[i] += floats[base + _COUNTS + _HIST + i]
        labels = self._labels
        lines = [
            "# HELP mlpipe_model_info The model this server serves (value is always 1).",
            "# TYPE mlpipe_model_info gauge",
            f"mlpipe_model_info{{{self._info}}} 1",
            "# HELP mlpipe_model_ready 1 when every worker has the model loaded.",
            "# TYPE mlpipe_model_ready gauge",
            f"mlpipe_model_ready{{{labels}}} {1 if self.all_ready() else 0}",
            "# HELP mlpipe_requests_total HTTP requests by endpoint and status.",
            "# TYPE mlpipe_requests_total counter",
        ]
        for e, endpoint in enumerate(ENDPOINTS):
            for s in range(_S):
                value = counts[e * _S + s]
                if value:
                    status = STATUSES[s] if s < len(STATUSES) else "other"
                    lines.append(f'mlpipe_requests_total{{endpoint="{endpoint}",status="{status}",{labels}}} {value}')
        lines += [
            "# HELP mlpipe_request_duration_seconds Time from request start to the end of the response.",
            "# TYPE mlpipe_request_duration_seconds histogram",
        ]
        for e, endpoint in enumerate(ENDPOINTS):
            row = hist[e * _B:(e + 1) * _B]
            total = sum(row)
            if not total:
                continue
            series = f'endpoint="{endpoint}",{labels}'
            cumulative = 0
            for bound, value in zip(BUCKETS, row):
                cumulative += value
                lines.append(f'mlpipe_request_duration_seconds_bucket{{{series},le="{bound}"}} {cumulative}')
            lines.append(f'mlpipe_request_duration_seconds_bucket{{{series},le="+Inf"}} {total}')
            lines.append(f"mlpipe_request_duration_seconds_sum{{{series}}} {sums[e]:.6f}")
            lines.append(f"mlpipe_request_duration_seconds_count{{{series}}} {total}")
        return ("\n".join(lines) + "\n").encode()


def classify(path: str) -> int:
    """The ENDPOINTS index of a request path (a fixed label set, whatever the client sends)."""
    if path == "/predict":
        return ENDPOINT_INDEX["/predict"]
    if path == "/metrics":
        return ENDPOINT_INDEX["/metrics"]
    if not path.startswith("/v2"):
        return ENDPOINT_INDEX["other"]
    parts = path.split("/")[1:]  # "v2", ...
    count = len(parts)
    if count == 1:
        return ENDPOINT_INDEX["/v2"]
    if count == 3 and parts[1] == "health" and parts[2] in ("live", "ready"):
        return ENDPOINT_INDEX["/v2/health/" + parts[2]]
    if parts[1] != "models" or count < 3:
        return ENDPOINT_INDEX["other"]
    rest = parts[3:]
    if rest[:1] == ["versions"] and len(rest) >= 2:
        rest = rest[2:]
        prefix = "/v2/models/{name}/versions/{version}"
    else:
        prefix = "/v2/models/{name}"
    if not rest:
        return ENDPOINT_INDEX[prefix]
    if len(rest) == 1 and rest[0] in ("infer", "ready"):
        return ENDPOINT_INDEX[f"{prefix}/{rest[0]}"]
    return ENDPOINT_INDEX["other"]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
