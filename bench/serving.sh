#!/usr/bin/env bash
# The serving benchmark: mlpipe's model server (templates/serving/python) against Seldon's
# MLServer (`mlserver` + `mlserver-sklearn`), both serving the same scikit-learn iris model
# (one joblib file) on 127.0.0.1, in one run:
#   - start-up: from spawning the server to the first 200 from GET /v2/health/ready
#     (median of SERVING_BENCH_STARTS starts each, alternating);
#   - throughput: V2 infer requests per second (one row, FP64, output `predict`, the same
#     body for both: bench/serving-infer.lua) with wrk, at each connection count, both
#     servers measured in turn at each count; the figure is the best rate whose p99
#     latency is under 50 ms. A run with any non-2xx answer or socket error fails.
# Prints the ratios ours / MLServer (throughput: higher is better; start-up: MLServer's
# time / ours, higher is better) and saves them to workspace/bench-serving-results.md.
#
#   bench/serving.sh [RESULTS_TSV]
#
# With RESULTS_TSV (bench/run.sh's results file), two rows are appended in table.py's
# format: kind `throughput` (seconds per request = 1 / rate) and kind `faster` (start-up).
#
# Environment:
#   MLPIPE_VENV                 the venv with the app's and the tests' requirements (default workspace/venv)
#   SERVING_BENCH_VENV          MLServer's own venv, created when missing (default workspace/bench-venv)
#   SERVING_BENCH_SECONDS       wrk duration per measurement (default 5)
#   SERVING_BENCH_CONNECTIONS   connection counts (default "1 2 4 8 16 32")
#   SERVING_BENCH_STARTS        timed start-ups per server (default 3)
#
# Each server runs as it ships for production: ours with its defaults (one worker per
# core, access log on); MLServer with its defaults (one inference worker process, REST,
# gRPC and metrics servers) except `debug: false`. MLServer 1.7.1 fails to start its
# inference worker with uvloop 0.22 or later, so its venv pins uvloop 0.21.0.
# A missed target is reported, never fatal: the script exits 0 unless a server failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
app_venv=${MLPIPE_VENV:-$root/workspace/venv}
ref_venv=${SERVING_BENCH_VENV:-$root/workspace/bench-venv}
seconds=${SERVING_BENCH_SECONDS:-5}
levels=${SERVING_BENCH_CONNECTIONS:-1 2 4 8 16 32}
starts=${SERVING_BENCH_STARTS:-3}
results_tsv=${1:-}
lua=$root/bench/serving-infer.lua

# ---- tools ---------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    echo "installing wrk"
    ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null) \
        || { echo "bench: wrk is required (apt-get install wrk)" >&2; exit 3; }
fi
py=$app_venv/bin/python
if ! "$py" -c 'import fastapi, uvicorn, orjson, jwt, sklearn, joblib' 2>/dev/null; then
    echo "bench: $app_venv lacks the serving app's requirements; run \`make venv\` or set MLPIPE_VENV" >&2
    exit 3
fi
[ -x "$ref_venv/bin/python" ] || python3 -m venv "$ref_venv"
if [ ! -x "$ref_venv/bin/mlserver" ]; then
    echo "installing mlserver and mlserver-sklearn into $ref_venv"
    "$ref_venv/bin/python" -m pip install -q --disable-pip-version-check mlserver mlserver-sklearn 'uvloop==0.21.0'
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-serving-bench.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the model, our package, MLServer's model folder -----------------------------------
cat >"$tmp/helper.py" <<'PY'
"""bench/serving.sh's helper: prepare DIR | startup PORT LOG CMD... | wait PORT LOG"""
import http.client, os, signal, subprocess, sys, time
from pathlib import Path


def ready(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/v2/health/ready")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def wait(port, process, log, deadline=180):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            sys.exit(f"bench: the server exited with {process.returncode}; see {log}")
        if ready(port):
            return
        time.sleep(0.01)
    sys.exit(f"bench: not ready on port {port} within {deadline} s; see {log}")


command = sys.argv[1]
if command == "prepare":
    folder = Path(sys.argv[2])
    sys.path.insert(0, sys.argv[3])  # templates/serving/python/tests: the package writer
    import joblib
    import support
    model, _ = support.iris()
    (folder / "mlserver").mkdir(parents=True)
    joblib.dump(model, folder / "mlserver" / "model.joblib")
    data = (folder / "mlserver" / "model.joblib").read_bytes()
    support.write_package(folder / "package", name="iris", format="joblib", flavor="sklearn",
                          files={"model/model.joblib": data}, model="model/model.joblib", signature=None)
elif command == "startup":
    port, log = int(sys.argv[2]), sys.argv[3]
    started = time.monotonic()
    with open(log, "ab") as out:
        process = subprocess.Popen(sys.argv[4:], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    wait(port, process, log)
    print(f"{time.monotonic() - started:.3f}")
    os.killpg(process.pid, signal.SIGTERM)  # its own session: the server and its workers
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    end = time.monotonic() + 30  # the port is free again before the next start
    while ready(port) and time.monotonic() < end:
        time.sleep(0.05)
elif command == "wait":
    wait(int(sys.argv[2]), None, sys.argv[3])
PY
echo "preparing the iris model in $tmp"
"$py" "$tmp/helper.py" prepare "$tmp" "$root/templates/serving/python/tests"

free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ours_port=$(free_port)
ref_port=$(free_port)
ref_grpc=$(free_port)
ref_metrics=$(free_port)
cat >"$tmp/mlserver/model-settings.json" <<EOF
{"name": "iris", "implementation": "mlserver_sklearn.SKLearnModel",
 "parameters": {"uri": "./model.joblib", "version": "1"}}
EOF
cat >"$tmp/mlserver/settings.json" <<EOF
{"debug": false, "host": "127.0.0.1", "http_port": $ref_port, "grpc_port": $ref_grpc,
 "metrics_port": $ref_metrics}
EOF
ours=(env PYTHONPATH="$root/templates/serving/python" MLPIPE_MODEL_DIR="$tmp/package" HOST=127.0.0.1
      PORT="$ours_port" "$py" -m mlpipe_serving)
ref=("$ref_venv/bin/mlserver" start "$tmp/mlserver")

# ---- start-up to ready ---------------------------------------------------------------
echo "== start-up to ready, $starts times each, alternating"
ours_starts=() ref_starts=()
for ((i = 1; i <= starts; i++)); do
    ours_starts+=("$("$py" "$tmp/helper.py" startup "$ours_port" "$tmp/ours.log" "${ours[@]}")")
    ref_starts+=("$("$py" "$tmp/helper.py" startup "$ref_port" "$tmp/mlserver.log" "${ref[@]}")")
    echo "   start $i: mlpipe ${ours_starts[-1]} s, MLServer ${ref_starts[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ours_start=$(median "${ours_starts[@]}")
ref_start=$(median "${ref_starts[@]}")

# ---- throughput at p99 < 50 ms ----------------------------------------------------------
"${ours[@]}" >>"$tmp/ours.log" 2>&1 &
pids+=($!)
"${ref[@]}" >>"$tmp/mlserver.log" 2>&1 &
pids+=($!)
"$py" "$tmp/helper.py" wait "$ours_port" "$tmp/ours.log"
"$py" "$tmp/helper.py" wait "$ref_port" "$tmp/mlserver.log"

# run_wrk NAME PORT CONNECTIONS: one wrk run; appends "name connections rps p99_ms" to $tmp/runs
run_wrk() {
    local name=$1 port=$2 connections=$3 out
    out=$(wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$lua" "http://127.0.0.1:$port/v2/models/iris/infer")
    if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
        echo "bench: $name answered errors at $connections connections:" >&2
        echo "$out" >&2
        return 1
    fi
    local rps p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}; print v}' <<<"$out")
    echo "$name $connections $rps $p99" >>"$tmp/runs"
    printf '   %-8s %3d connections: %9.1f requests/s, p99 %8.2f ms\n' "$name" "$connections" "$rps" "$p99"
}
echo "== V2 infer throughput, ${seconds} s per run, wrk -t1"
wrk -t1 -c4 -d2s -s "$lua" "http://127.0.0.1:$ours_port/v2/models/iris/infer" >/dev/null  # warm-up
wrk -t1 -c4 -d2s -s "$lua" "http://127.0.0.1:$ref_port/v2/models/iris/infer" >/dev/null
: >"$tmp/runs"
for connections in $levels; do
    run_wrk mlpipe "$ours_port" "$connections"
    run_wrk MLServer "$ref_port" "$connections"
done

# ---- the figures ------------------------------------------------------------------------------
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
versions="mlpipe-serving $("$py" -c 'import sys; sys.path.insert(0, "'"$root"'/templates/serving/python"); import mlpipe_serving; print(mlpipe_serving.__version__)'), MLServer $("$ref_venv/bin/python" -c 'import mlserver; print(mlserver.__version__)'), $( (wrk --version 2>&1 || true) | head -1 | cut -d' ' -f1-2)"
"$py" - "$tmp/runs" "$ours_start" "$ref_start" "$machine" "$versions" "$results_tsv" <<'PY' | tee "$root/workspace/bench-serving-results.md"
import sys

runs, ours_start, ref_start, machine, versions, tsv = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), *sys.argv[4:]
best = {}
for line in open(runs):
    name, connections, rps, p99 = line.split()
    if float(p99) < 50 and float(rps) > best.get(name, (0, 0, 0))[0]:
        best[name] = (float(rps), int(connections), float(p99))
ours, ref = best.get("mlpipe"), best.get("MLServer")
print("| serving iris (scikit-learn, joblib) | mlpipe-serving | MLServer | ratio | target | ok? |")
print("|---|---|---|---|---|---|")
if ours and ref:
    ratio = ours[0] / ref[0]
    print(f"| V2 infer requests/s at p99 < 50 ms | {ours[0]:,.0f} ({ours[1]} conn., p99 {ours[2]:.1f} ms) | "
          f"{ref[0]:,.0f} ({ref[1]} conn., p99 {ref[2]:.1f} ms) | {ratio:.2f}x its throughput | >= 1x | "
          f"{'yes' if ratio >= 1 else 'MISSED'} |")
else:
    print(f"| V2 infer requests/s at p99 < 50 ms | {ours} | {ref} | - | >= 1x | MISSED (no run under 50 ms) |")
speed = ref_start / ours_start
print(f"| start-up to ready (median) | {ours_start:.2f} s | {ref_start:.2f} s | {speed:.2f}x faster | >= 1x faster | "
      f"{'yes' if speed >= 1 else 'MISSED'} |")
print(f"\n{machine}; {versions}")
if tsv:
    with open(tsv, "a") as f:
        if ours and ref:
            f.write(f"7. serving: V2 infer at p99 < 50 ms (s/request)\t{1 / ours[0]:.9f}\tMLServer\t{1 / ref[0]:.9f}\tthroughput\t1\t-\t-\n")
        else:
            f.write("7. serving: V2 infer at p99 < 50 ms\t-\t-\t-\tfailed\tno run under 50 ms\t-\t-\n")
        f.write(f"7. serving: start-up to ready\t{ours_start:.6f}\tMLServer\t{ref_start:.6f}\tfaster\t1\t-\t-\n")
PY
