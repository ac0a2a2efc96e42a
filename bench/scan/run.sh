#!/usr/bin/env bash
# The scanner's benchmark: `mlpipe scan` against picklescan, modelscan and
# `openssl dgst -sha256` on a 1 GiB numpy pickle and a 1 GiB PyTorch-style zip.
#
#   bench/scan/run.sh
#
# Environment:
#   MLPIPE_BIN       the mlpipe to measure (default .build/release/mlpipe)
#   SCAN_BENCH_DIR   where the two models are generated and kept (default workspace/bench-scan)
#   SCAN_BENCH_RUNS  timed runs per tool and file, after one warm-up (default 3)
#
# picklescan and modelscan come from PyPI into workspace/bench-venv (shared with the
# DVC side of the bench). Each tool is timed as a whole process, median wall time, with
# the file in the page cache; peak memory is the child's maximum resident set size.
# `mlpipe scan` prints no digest and computes none; `mlpipe scan --json` reports the
# file's sha256 too, so it is the "scan plus digest" figure compared with openssl.
# Targets (issue 3): scan throughput at least 10x the faster of picklescan and
# modelscan; scan plus digest within 1.2x the time of openssl dgst -sha256; peak
# memory under 64 MiB. A missed target prints MISSED; the script still exits 0.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${MLPIPE_BIN:-$root/.build/release/mlpipe}
venv=$root/workspace/bench-venv
data=${SCAN_BENCH_DIR:-$root/workspace/bench-scan}
runs=${SCAN_BENCH_RUNS:-3}
here=$root/bench/scan

if [ ! -x "$bin" ]; then
    echo "error: no mlpipe at $bin; run \`swift build -c release\` or set MLPIPE_BIN" >&2
    exit 3
fi
command -v openssl >/dev/null || { echo "error: openssl not found (apt-get install openssl)" >&2; exit 3; }
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import picklescan, modelscan, numpy' 2>/dev/null; then
    "$venv/bin/pip" install -q picklescan modelscan numpy
fi

echo "generating the 1 GiB models in $data (kept between runs)" >&2
"$venv/bin/python" "$here/make_large.py" "$data"

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for file in model.pkl model.pt; do
    path=$data/$file
    # Every tool must find the benign files clean, or its time means nothing.
    "$bin" scan "$path" >/dev/null || { echo "error: mlpipe scan does not pass $path:" >&2; "$bin" scan "$path" >&2; exit 1; }
    measure() {
        local tool=$1; shift
        echo "  $file: $tool" >&2
        echo "$file|$tool|$(stat -c %s "$path")|$("$venv/bin/python" "$here/measure.py" "$runs" -- "$@")" >>"$results"
    }
    measure "mlpipe scan" "$bin" scan "$path"
    measure "mlpipe scan --json (+sha256)" "$bin" scan --json "$path"
    measure "picklescan" "$venv/bin/picklescan" -p "$path"
    measure "modelscan" "$venv/bin/modelscan" -p "$path"
    measure "openssl dgst -sha256" openssl dgst -sha256 "$path"
done

"$venv/bin/python" - "$results" <<'PY' | tee "$root/workspace/bench-scan-results.md"
import sys

rows = {}
for line in open(sys.argv[1]):
    file, tool, size, rest = line.rstrip("\n").split("|")
    seconds, peak_kib, codes = rest.split()
    rows.setdefault(file, {})[tool] = (int(size), float(seconds), int(peak_kib), codes)

print("| file | tool | wall | MB/s | peak memory | exit | mlpipe scan's throughput vs this |")
print("|---|---|---|---|---|---|---|")
verdicts = []
for file, tools in rows.items():
    size, scan_seconds = tools["mlpipe scan"][0], tools["mlpipe scan"][1]
    for tool, (size, seconds, peak, codes) in tools.items():
        ratio = "" if tool == "mlpipe scan" else f"{seconds / scan_seconds:.1f}x"
        print(f"| {file} | {tool} | {seconds * 1000:.0f} ms | {size / 1e6 / seconds:,.0f} | "
              f"{peak / 1024:.1f} MiB | {codes} | {ratio} |")
    peers = {t: tools[t][1] for t in ("picklescan", "modelscan")}
    fastest = min(peers, key=peers.get)
    speedup = peers[fastest] / scan_seconds
    verdicts.append((f"{file}: scan throughput {speedup:.1f}x the faster peer ({fastest})", speedup >= 10, ">= 10x"))
    digest = tools["mlpipe scan --json (+sha256)"][1] / tools["openssl dgst -sha256"][1]
    verdicts.append((f"{file}: scan plus sha256 takes {digest:.2f}x openssl dgst -sha256", digest <= 1.2, "<= 1.2x"))
    peak = max(tools[t][2] for t in ("mlpipe scan", "mlpipe scan --json (+sha256)")) / 1024
    verdicts.append((f"{file}: mlpipe peak memory {peak:.1f} MiB", peak < 64, "< 64 MiB"))
print()
for text, ok, target in verdicts:
    print(f"- {text} (target {target}): {'yes' if ok else 'MISSED'}")
print(f"\n{sum(ok for _, ok, _ in verdicts)} of {len(verdicts)} scan targets met.")
PY
