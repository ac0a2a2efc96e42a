#!/usr/bin/env bash
# The smoke-test benchmark, in one run against one serving app (templates/serving/python,
# serving an ONNX iris package, as it ships: one worker per core, access log on):
#   - the load loop (`mlpipe smoke`, the smoke-test stage's SmokeTester) against `wrk` on a
#     trivial endpoint, GET /v2/health/live, the same connection count: requests per second
#     each can drive (target: at least half of wrk's) and the CPU each spends per request
#     (user + system of the process, from getrusage). wrk runs for SMOKE_BENCH_SECONDS;
#     mlpipe sends as many requests as wrk answered in that time, all due at once (an open
#     loop far above the capacity: as fast as it can), so both runs last about as long.
#     Alternating, SMOKE_BENCH_ROUNDS rounds; the medians are reported.
#   - the serving app's V2 infer (one FP32 row, every answer checked: label 0) at a fixed
#     rate (SMOKE_BENCH_RATE per second for SMOKE_BENCH_SECONDS x 2): achieved rate and
#     p99, timed from each request's due time; and its V2 infer throughput when driven as
#     fast as the load loop can.
# Prints the figures with the machine, saves them to workspace/bench-smoke-results.md.
#
#   bench/smoke.sh [RESULTS_TSV NOTES]
#
# With RESULTS_TSV and NOTES (bench/run.sh's), rows are appended in table.py's format and
# notes to NOTES.
#
# Environment:
#   MLPIPE_BIN               the binary (default .build/release/mlpipe)
#   MLPIPE_VENV              the venv with the serving app's and the tests' requirements (default workspace/venv)
#   SMOKE_BENCH_SECONDS      seconds per throughput run (default 5)
#   SMOKE_BENCH_CONNECTIONS  connections of wrk and the load loop's concurrency (default 8)
#   SMOKE_BENCH_ROUNDS       alternating rounds of wrk and the load loop (default 3)
#   SMOKE_BENCH_RATE         the fixed infer rate, requests per second (default 200)
# A missed target is reported, never fatal: the script exits 0 unless a run failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ml=${MLPIPE_BIN:-.build/release/mlpipe}
[[ $ml == /* ]] || ml="$root/$ml"
venv=${MLPIPE_VENV:-$root/workspace/venv}
seconds=${SMOKE_BENCH_SECONDS:-5}
connections=${SMOKE_BENCH_CONNECTIONS:-8}
rounds=${SMOKE_BENCH_ROUNDS:-3}
fixed_rate=${SMOKE_BENCH_RATE:-200}
results_tsv=${1:-}
notes=${2:-}
py=$venv/bin/python

if [ ! -x "$ml" ]; then
    echo "bench: no mlpipe binary at $ml; run \`swift build -c release\` or set MLPIPE_BIN" >&2
    exit 3
fi
if ! command -v wrk >/dev/null; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    echo "installing wrk"
    ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null) \
        || { echo "bench: wrk is required (apt-get install wrk)" >&2; exit 3; }
fi
if ! "$py" -c 'import fastapi, uvicorn, orjson, onnxruntime, skl2onnx' 2>/dev/null; then
    echo "bench: $venv lacks the serving app's requirements; run \`make venv\` or set MLPIPE_VENV" >&2
    exit 3
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-smoke-bench.XXXXXX")
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the app, serving an ONNX iris package ----------------------------------------------
echo "preparing the iris package in $tmp"
"$py" - "$tmp/package" "$root/templates/serving/python/tests" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import support
model, _ = support.iris()
support.write_package(Path(sys.argv[1]), name="iris", format="onnx", flavor="onnx",
                      files={"model/model.onnx": support.onnx_bytes(model)}, model="model/model.onnx",
                      signature=support.ONNX_SIGNATURE)
PY
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
env PYTHONPATH="$root/templates/serving/python" MLPIPE_MODEL_DIR="$tmp/package" HOST=127.0.0.1 PORT="$port" \
    "$py" -m mlpipe_serving >"$tmp/server.log" 2>&1 &
server_pid=$!
"$py" - "$url/v2/health/ready" "$server_pid" <<'PY' || { tail -20 "$tmp/server.log" >&2; exit 1; }
import os, sys, time, urllib.request
end = time.monotonic() + 120
while time.monotonic() < end:
    try:
        os.kill(int(sys.argv[2]), 0)
    except OSError:
        sys.exit("bench: the serving app exited")
    try:
        if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit("bench: the serving app was not ready within 120 s")
PY

echo '{"path": "/v2/health/live", "expect": {"live": true}}' >"$tmp/live.jsonl"
echo '{"body": {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]}, "expect": {"outputs.label.data": [0]}}' >"$tmp/infer.jsonl"

# timed OUT CMD...: runs CMD with its stdout in OUT; prints "CPU_SECONDS EXIT_STATUS"
# (CPU: user + system of CMD and its children, from getrusage).
timed() {
    "$py" -c '
import resource, subprocess, sys
with open(sys.argv[1], "w") as out:
    code = subprocess.call(sys.argv[2:], stdout=out)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{usage.ru_utime + usage.ru_stime:.4f} {code}")' "$@"
}
# field FILE KEY: a number from mlpipe smoke's JSON report.
field() { "$py" -c 'import json, sys; r = json.load(open(sys.argv[1])); k = sys.argv[2].split("."); print(r[k[0]] if len(k) == 1 else r[k[0]][k[1]])' "$1" "$2"; }

# ---- 1: load loop against wrk on /v2/health/live --------------------------------------
echo "== load generators on GET /v2/health/live, $connections connections, $rounds rounds"
wrk -t1 -c"$connections" -d1s "$url/v2/health/live" >/dev/null  # warm-up
: >"$tmp/runs"
for ((round = 1; round <= rounds; round++)); do
    read -r cpu code < <(timed "$tmp/wrk.out" wrk -t1 -c"$connections" -d"${seconds}s" "$url/v2/health/live")
    [ "$code" = 0 ] || { echo "bench: wrk failed" >&2; cat "$tmp/wrk.out" >&2; exit 1; }
    if grep -qE "Non-2xx|Socket errors" "$tmp/wrk.out"; then echo "bench: wrk saw errors:" >&2; cat "$tmp/wrk.out" >&2; exit 1; fi
    wrk_rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out")
    wrk_n=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
    echo "wrk $wrk_rps $(python3 -c "print($cpu / $wrk_n)")" >>"$tmp/runs"
    count=$(python3 -c "print(max(1000, int($wrk_rps * $seconds)))")
    read -r cpu code < <(timed "$tmp/smoke.json" "$ml" smoke "$url" --requests "$tmp/live.jsonl" --rate 1000000 \
        --count "$count" --concurrency "$connections" --timeout 60s --json)
    [ "$code" = 0 ] || { echo "bench: mlpipe smoke failed (exit $code):" >&2; cat "$tmp/smoke.json" >&2; exit 1; }
    ours_rps=$(field "$tmp/smoke.json" achievedRate)
    ours_n=$(field "$tmp/smoke.json" responses)
    echo "mlpipe $ours_rps $(python3 -c "print($cpu / $ours_n)")" >>"$tmp/runs"
    printf '   round %d: wrk %9.0f requests/s (%5.1f us CPU each); mlpipe smoke %9.0f requests/s (%5.1f us CPU each)\n' \
        "$round" "$wrk_rps" "$(tail -2 "$tmp/runs" | head -1 | awk '{print $3 * 1e6}')" \
        "$ours_rps" "$(tail -1 "$tmp/runs" | awk '{print $3 * 1e6}')"
done

# ---- 2: V2 infer at a fixed rate, and as fast as the load loop drives it ------------------
fixed_seconds=$((seconds * 2))
echo "== V2 infer on iris (ONNX), $fixed_rate requests/s for ${fixed_seconds} s, concurrency $connections"
read -r cpu code < <(timed "$tmp/fixed.json" "$ml" smoke "$url" --requests "$tmp/infer.jsonl" --model iris \
    --rate "$fixed_rate" --duration "${fixed_seconds}s" --concurrency "$connections" --json)
[ "$code" = 0 ] || [ "$code" = 1 ] || { echo "bench: mlpipe smoke failed (exit $code)" >&2; cat "$tmp/fixed.json" >&2; exit 1; }
"$py" -c 'import json, sys; sys.exit(1 if json.load(open(sys.argv[1]))["failedExpectations"] else 0)' "$tmp/fixed.json" \
    || { echo "bench: wrong answers:" >&2; cat "$tmp/fixed.json" >&2; exit 1; }
fixed_achieved=$(field "$tmp/fixed.json" achievedRate)
fixed_p99=$(field "$tmp/fixed.json" latencyMilliseconds.p99)
fixed_p50=$(field "$tmp/fixed.json" latencyMilliseconds.p50)
fixed_errors=$(field "$tmp/fixed.json" errors)
echo "   achieved $fixed_achieved requests/s, p50 $fixed_p50 ms, p99 $fixed_p99 ms, $fixed_errors errors"
echo "== V2 infer as fast as the load loop drives it, concurrency $connections"
read -r cpu code < <(timed "$tmp/max.json" "$ml" smoke "$url" --requests "$tmp/infer.jsonl" --model iris \
    --rate 1000000 --count "$((fixed_rate * seconds * 2))" --concurrency "$connections" --timeout 60s --json)
[ "$code" = 0 ] || { echo "bench: mlpipe smoke failed (exit $code)" >&2; cat "$tmp/max.json" >&2; exit 1; }
max_rps=$(field "$tmp/max.json" achievedRate)
echo "   $max_rps requests/s"

# ---- the figures ------------------------------------------------------------------------------
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
versions="mlpipe $("$ml" --version), $( (wrk --version 2>&1 || true) | head -1 | cut -d' ' -f1-2)"
"$py" - "$tmp/runs" "$connections" "$fixed_rate" "$fixed_seconds" "$fixed_achieved" "$fixed_p50" "$fixed_p99" \
    "$fixed_errors" "$max_rps" "$machine" "$versions" "$results_tsv" "$notes" <<'PY' | tee "$root/workspace/bench-smoke-results.md"
import statistics, sys

(runs, connections, rate, fixed_seconds, achieved, p50, p99, errors, max_rps, machine, versions, tsv,
 notes) = sys.argv[1:]
by = {"wrk": [], "mlpipe": []}
for line in open(runs):
    name, rps, cpu = line.split()
    by[name].append((float(rps), float(cpu)))
wrk_rps = statistics.median(r for r, _ in by["wrk"])
ours_rps = statistics.median(r for r, _ in by["mlpipe"])
wrk_cpu = statistics.median(c for _, c in by["wrk"])
ours_cpu = statistics.median(c for _, c in by["mlpipe"])
ratio = ours_rps / wrk_rps
print("| smoke-test load loop and serving | mlpipe | reference | ratio | target | ok? |")
print("|---|---|---|---|---|---|")
print(f"| requests/s driven, GET /v2/health/live, {connections} connections | {ours_rps:,.0f} "
      f"({ours_cpu * 1e6:.0f} us CPU/request) | wrk {wrk_rps:,.0f} ({wrk_cpu * 1e6:.0f} us CPU/request) | "
      f"{ratio:.2f}x its rate | >= 0.5x | {'yes' if ratio >= 0.5 else 'MISSED'} |")
print(f"| V2 infer p99 at {float(rate):g}/s for {fixed_seconds} s (iris ONNX) | {float(p99):.1f} ms "
      f"(p50 {float(p50):.1f} ms, {float(achieved):.1f}/s achieved, {errors} errors) | - | - | < 50 ms | "
      f"{'yes' if float(p99) < 50 else 'MISSED'} |")
print(f"| V2 infer throughput, driven by the load loop | {float(max_rps):,.0f} requests/s | - | - | - | - |")
print(f"\n{machine}; {versions}")
if tsv:
    with open(tsv, "a") as f:
        f.write(f"12. smoke load loop: GET /v2/health/live (s/request)\t{1 / ours_rps:.9f}\twrk\t{1 / wrk_rps:.9f}\t"
                f"throughput\t0.5\t-\t-\n")
        f.write(f"12. serving: V2 infer p99 at {float(rate):g}/s\t{float(p99) / 1000:.6f}\t-\t-\tunder\t50\t-\t-\n")
    with open(notes, "a") as f:
        f.write(f"12. CPU per request: mlpipe smoke {ours_cpu * 1e6:.0f} us, wrk {wrk_cpu * 1e6:.0f} us "
                f"(user + system, medians of the rounds); V2 infer on iris as fast as the load loop drives it: "
                f"{float(max_rps):,.0f} requests/s; at {float(rate):g}/s: p50 {float(p50):.1f} ms, "
                f"achieved {float(achieved):.1f}/s\n")
PY
