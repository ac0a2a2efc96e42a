#!/usr/bin/env bash
# The containerize benchmark of issue 7: build an image of a package with a 1 GiB model
# file, side by side with the floor of one pass over the same bytes,
#     tar cf - FOLDER | gzip -1 | sha256sum
# and report wall time and peak memory (GNU time -v) of each, then rebuild with the
# model unchanged (every layer reused; target under 1 s).
#
# mlpipe runs a one-stage pipeline (`kind: containerize`) in a temporary git repository,
# so its times include the engine (planning, the run record, storing the layout output).
# The stage's own log says how long each layer took.
#
# Usage: bench/containerize.sh [RESULTS_TSV [NOTES]]
# With RESULTS_TSV (bench/run.sh's results file), rows are appended in table.py's format
# (build against the floor, rebuild against its 1 s target), and with NOTES the peak
# memory lines.
#
# Environment:
#   MLPIPE_BIN        the binary (default .build/release/mlpipe)
#   BENCH_MODEL_MIB   the model's size (default 1024)
#   BENCH_MODEL       random (default: like float weights, incompressible) | zeros
#   BENCH_BASE        the base layout (default workspace/base/oci; `make base-image`)
#   BENCH_KEEP=1      keep the temporary folder
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
ML=${MLPIPE_BIN:-$ROOT/.build/release/mlpipe}
[[ $ML == /* ]] || ML="$ROOT/$ML"
MIB=${BENCH_MODEL_MIB:-1024}
MODEL=${BENCH_MODEL:-random}
BASE=${BENCH_BASE:-$ROOT/workspace/base/oci}
export NO_COLOR=1
unset CI MLPIPE_WORKSPACE SOURCE_DATE_EPOCH

[ -x "$ML" ] || { echo "bench: no mlpipe binary at $ML; run \`make release\` or set MLPIPE_BIN" >&2; exit 3; }
[ -f "$BASE/index.json" ] || { echo "bench: no base layout at $BASE; run \`make base-image\`" >&2; exit 3; }
[ -x /usr/bin/time ] || { echo "bench: GNU time is required (apt-get install -y time)" >&2; exit 3; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-bench-containerize.XXXXXX")
if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: keeping $TMP"; else trap 'rm -rf "$TMP"' EXIT; fi

# The package: mlpipe-model.json and one model file.
mkdir -p "$TMP/package/model" "$TMP/template/mlpipe_serving"
case $MODEL in
    random) head -c "$((MIB << 20))" /dev/urandom >"$TMP/package/model/model.bin" ;;
    zeros) head -c "$((MIB << 20))" /dev/zero >"$TMP/package/model/model.bin" ;;
    *) echo "bench: BENCH_MODEL is random or zeros" >&2; exit 2 ;;
esac
cat >"$TMP/package/mlpipe-model.json" <<JSON
{"files":[],"flavor":"onnx","format":"onnx","model":"model/model.bin","name":"bench","requirements":[],"schema":"mlpipe-model/v1"}
JSON
# A stub app without requirements: the requirements layer is cached by its lines and is
# not what this case measures.
echo "print('serving')" >"$TMP/template/mlpipe_serving/__main__.py"
: >"$TMP/template/requirements.txt"

# A repository with the pipeline; the package is outside it (an upstream stage's output).
repo=$TMP/repo
mkdir -p "$repo/pipelines"
cat >"$repo/pipelines/bench.yaml" <<YAML
version: 1
name: bench
stages:
  containerize:
    kind: containerize
    with:
      package: $TMP/package
      template: $TMP/template
      base: $BASE
      compression: \${{ params.compression }}
    outputs: { image: image }
params:
  compression: auto
YAML
git -C "$repo" init -q
git -C "$repo" add pipelines
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -qm bench

# time_v NAME COMMAND…: runs it under GNU time; sets WALL (s), RSS (MiB) and CPU (user + system, s).
time_v() {
    local name=$1; shift
    /usr/bin/time -v -o "$TMP/$name.time" "$@" >"$TMP/$name.out" 2>&1 || {
        echo "bench: $name failed:" >&2; tail -n 20 "$TMP/$name.out" >&2; exit 1; }
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
        for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$TMP/$name.time")
    RSS=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$TMP/$name.time")
    CPU=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$TMP/$name.time")
}

sync
echo "== ${MIB} MiB model ($MODEL), base $BASE"
time_v floor sh -c "tar cf - -C '$TMP' package | gzip -1 | sha256sum"
floor_wall=$WALL floor_rss=$RSS floor_cpu=$CPU
echo "floor    tar | gzip -1 | sha256sum       ${floor_wall} s   ${floor_rss} MiB   cpu ${floor_cpu} s"

cd "$repo"
time_v auto "$ML" run bench
auto_wall=$WALL auto_rss=$RSS auto_cpu=$CPU
echo "mlpipe   containerize (auto)             ${auto_wall} s   ${auto_rss} MiB   cpu ${auto_cpu} s"
grep -h "layer model package" "$repo"/workspace/runs/*/containerize.log 2>/dev/null | tail -n 1 | sed 's/^/         /' || true

time_v rebuild "$ML" run bench --force containerize
rebuild_wall=$WALL rebuild_rss=$RSS rebuild_cpu=$CPU
echo "mlpipe   rebuild, model unchanged        ${rebuild_wall} s   ${rebuild_rss} MiB   cpu ${rebuild_cpu} s"
# Where the rebuild's time goes: the stage's own work (layers reused, layout written)
# against the whole stage as the engine reports it (which also stores the layout).
last_log=$(ls -t "$repo"/workspace/runs/*/containerize.log | head -n 1)
grep -h "^image " "$last_log" | sed 's/^/         /' || true
grep -h "containerize *succeeded" "$TMP/rebuild.out" | sed 's/^/         engine: /' || true

time_v gzip "$ML" run bench --param compression=gzip
gzip_wall=$WALL gzip_rss=$RSS gzip_cpu=$CPU
echo "mlpipe   containerize (gzip -1 forced)   ${gzip_wall} s   ${gzip_rss} MiB   cpu ${gzip_cpu} s"

python3 - "$floor_wall" "$auto_wall" "$gzip_wall" "$rebuild_wall" "$auto_rss" "$gzip_rss" "$floor_rss" \
    "$rebuild_rss" "$floor_cpu" "$auto_cpu" "$gzip_cpu" "$rebuild_cpu" "$MIB" "${1:-}" "${2:-}" <<'PY'
import sys
floor, auto, gzip, rebuild, auto_rss, gzip_rss, floor_rss, rebuild_rss = map(float, sys.argv[1:9])
floor_cpu, auto_cpu, gzip_cpu, rebuild_cpu = sys.argv[9:13]
mib, tsv, notes = sys.argv[13], sys.argv[14], sys.argv[15]
peak = max(auto_rss, gzip_rss, rebuild_rss)
print(f"ratios: auto/floor {auto / floor:.2f} (target <= 1.5), gzip/floor {gzip / floor:.2f}, "
      f"rebuild {rebuild:.2f} s (target < 1), peak memory {peak:.0f} MiB (target < 100)")
size = "1 GiB" if mib == "1024" else f"{mib} MiB"
floor_name = "tar | gzip -1 | sha256sum"
if tsv:
    with open(tsv, "a") as f:
        f.write(f"8. containerize a {size} model (whole mlpipe run)\t{auto:.6f}\t{floor_name}\t{floor:.6f}\tatmost\t1.5\t{auto_cpu}\t{floor_cpu}\n")
        f.write(f"8. the same, gzip -1 forced\t{gzip:.6f}\t{floor_name}\t{floor:.6f}\tratio\t-\t{gzip_cpu}\t{floor_cpu}\n")
        f.write(f"8. rebuild, model unchanged (whole mlpipe run)\t{rebuild:.6f}\t-\t-\tunder\t1000\t{rebuild_cpu}\t-\n")
if notes:
    with open(notes, "a") as f:
        f.write(f"8. peak memory: containerize {auto_rss:.0f} MiB (gzip forced {gzip_rss:.0f}, rebuild "
                f"{rebuild_rss:.0f}), {floor_name} {floor_rss:.0f} MiB; target under 100 MiB: "
                f"{'yes' if peak < 100 else 'MISSED'}\n")
PY
