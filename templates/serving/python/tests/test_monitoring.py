"""templates/monitoring/ against a running app: every metric that a Grafana query or a
Prometheus rule names is one the app exports at /metrics (or one the rules record), with
the labels the query uses, and every label matcher can match a value the app writes."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

import support

MONITORING = Path(__file__).resolve().parents[3] / "monitoring"
# The app's metrics module, read from its file: the label values it can write.
_spec = importlib.util.spec_from_file_location("mlpipe_serving_metrics", support.APP_DIR / "mlpipe_serving" / "metrics.py")
app_metrics = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(app_metrics)
IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
                "quantile", "limitk", "limit_ratio"}
LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
# The values the app can write for its fixed label sets (metrics.py): a matcher on them
# must match one, whether or not the scrape happens to show it (no 5xx in a healthy run).
KNOWN_VALUES = {"endpoint": set(app_metrics.ENDPOINTS),
                "status": {str(s) for s in app_metrics.STATUSES} | {"other"}}


class Expression:
    """The selectors (metric, [(label, op, value)]) and grouping labels of a PromQL text."""

    def __init__(self, text: str):
        self.text = text
        self.selectors: list[tuple[str, list[tuple[str, str, str]]]] = []
        self.grouping: set[str] = set()
        self._parse(text)

    def _parse(self, text: str) -> None:
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c == '"':
                i = text.index('"', i + 1) + 1
            elif c == "[":
                i = text.index("]", i) + 1
            elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
                while i < n and (text[i].isalnum() or text[i] in "._"):
                    i += 1
            elif IDENTIFIER.match(text, i):
                word = IDENTIFIER.match(text, i).group()
                i += len(word)
                rest = text[i:].lstrip()
                if word in LABEL_LISTS and rest.startswith("("):
                    close = text.index(")", i)
                    self.grouping |= {w.strip() for w in text[text.index("(", i) + 1:close].split(",") if w.strip()}
                    i = close + 1
                elif word in KEYWORDS or word in AGGREGATIONS or rest.startswith("("):
                    continue  # an operator keyword, a function or an aggregation
                else:
                    matchers = []
                    if rest.startswith("{"):
                        start = text.index("{", i)
                        close = _closing_brace(text, start)
                        matchers = re.findall(r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"', text[start + 1:close])
                        i = close + 1
                    self.selectors.append((word, matchers))
            else:
                i += 1


def _closing_brace(text: str, start: int) -> int:
    """The index of the `}` that ends the matchers opened at `start`, outside quotes."""
    i = start + 1
    while text[i] != "}":
        if text[i] == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        i += 1
    return i


def grafana_expressions() -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and templating query, Grafana variables
    replaced by what they stand for."""
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    found = []

    def walk(panels):
        for panel in panels:
            for target in panel.get("targets", []):
                found.append((f"panel {panel['title']!r} {target['refId']}", target["expr"]))
            walk(panel.get("panels", []))

    walk(dashboard["panels"])
    for variable in dashboard["templating"]["list"]:
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        inner = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", query)
        assert inner, f"variable {variable['name']}: expected label_values(SELECTOR, LABEL), got {query!r}"
        found.append((f"variable {variable['name']}", f"max by ({inner.group(2)}) ({inner.group(1)})"))
    return [(where, re.sub(r"\$\{?(model|version)\}?", ".*", expr.replace("$__rate_interval", "5m")))
            for where, expr in found]


def rules() -> list[dict]:
    document = yaml.safe_load((MONITORING / "prometheus-rules.yaml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def scrape(server) -> dict[str, list[dict[str, str]]]:
    """The samples of /metrics by name: each sample's labels."""
    response = server.call("GET", "/metrics")
    assert response.status == 200
    samples: dict[str, list[dict[str, str]]] = {}
    for line in response.body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
        assert match, f"not a sample line: {line!r}"
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        samples.setdefault(match.group(1), []).append(labels)
    return samples


@pytest.fixture(scope="module")
def exported(onnx_server):
    """The app's metrics after inference requests on every inference route."""
    body = {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]}
    for path in ("/v2/models/iris/infer", "/v2/models/iris/versions/1/infer"):
        assert onnx_server.call("POST", path, body).status == 200
    assert onnx_server.call("POST", "/predict", [[5.1, 3.5, 1.4, 0.2]]).status == 200
    return scrape(onnx_server)


def check(where: str, text: str, exported: dict, recorded: dict[str, set[str]]) -> list[str]:
    problems = []
    expression = Expression(text)
    if not expression.selectors:
        problems.append(f"{where}: names no metric: {text!r}")
    available: set[str] = set()
    for metric, matchers in expression.selectors:
        if metric in recorded:
            labels = recorded[metric]
            available |= labels
            samples = None
        elif metric in exported:
            samples = exported[metric]
            labels = set().union(*(s.keys() for s in samples))
            available |= labels
        else:
            problems.append(f"{where}: {metric} is not exported by the app (it exports {', '.join(sorted(exported))})")
            continue
        for label, op, value in matchers:
            if label not in labels:
                problems.append(f"{where}: {metric} has no label {label!r} (it has {', '.join(sorted(labels))})")
                continue
            if op not in ("=", "=~"):
                continue
            values = KNOWN_VALUES.get(label) or ({s[label] for s in samples if label in s} if samples else None)
            if values is None:
                continue
            matches = (lambda v: v == value) if op == "=" else re.compile(value).fullmatch
            if not any(matches(v) for v in values):
                problems.append(f"{where}: {label}{op}{value!r} matches none of the values the app writes: {sorted(values)}")
    for label in expression.grouping - available - {"le"}:
        problems.append(f"{where}: groups by {label!r}, which none of its metrics has")
    if "le" in expression.grouping and not any(m.endswith("_bucket") for m, _ in expression.selectors):
        problems.append(f"{where}: groups by 'le' without a histogram's _bucket series")
    return problems


def test_every_dashboard_query_and_alert_names_an_exported_metric(exported):
    all_rules = rules()
    recorded = {rule["record"]: Expression(rule["expr"]).grouping for rule in all_rules if "record" in rule}
    checks = grafana_expressions() + [(f"rule {r.get('alert') or r.get('record')}", r["expr"]) for r in all_rules]
    problems = [p for where, text in checks for p in check(where, text, exported, recorded)]
    assert problems == []
    # What the dashboard and alerts are about is there: the three panels and the alerts.
    named = {metric for _, text in checks for metric, _ in Expression(text).selectors}
    assert {"mlpipe_requests_total", "mlpipe_request_duration_seconds_bucket", "mlpipe_model_ready"} <= named
    assert {r["alert"] for r in all_rules if "alert" in r} >= {
        "MlpipeErrorRateHigh", "MlpipeLatencyP99High", "MlpipeLatencyP95High", "MlpipeLatencyP50High"}


def test_the_check_catches_a_metric_the_app_does_not_export(exported):
    """The check itself can fail: a misspelt metric, a label the metric lacks, an endpoint
    the app never writes."""
    assert check("t", 'rate(mlpipe_request_total[5m])', exported, {}) != []
    assert check("t", 'sum by (pod) (rate(mlpipe_requests_total[5m]))', exported, {}) != []
    assert check("t", 'mlpipe_requests_total{endpoint="/v2/infer"}', exported, {}) != []
    assert check("t", 'mlpipe_requests_total{status=~"5.."}', exported, {}) == []
