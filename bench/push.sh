#!/usr/bin/env bash
# The push benchmark of issue 7: push an OCI layout whose image has a 1 GiB layer to a
# fresh docker-registry on 127.0.0.1, side by side with
#     skopeo copy oci:LAYOUT:TAG docker://127.0.0.1:PORT/REPO:TAG --dest-tls-verify=false
# and report wall time and peak memory (GNU time -v) of each; then a second push of the
# same image (every blob already there: HEADs and the manifest only).
#
# Targets: no slower than skopeo, peak memory under 100 MiB (memory does not grow with the
# layer: the blob streams through a bounded buffer).
#
# mlpipe's push runs through `mlpipe image push LAYOUT REF` when the binary has that
# command, else through the test-only hook RegistryPushBenchHook in the test bundle
# (`swift build -c release --build-tests` for figures that compare; a debug bundle is
# used, with a warning, when there is no release one). In hook mode the bundle's own
# footprint is measured too (a push of an image with an empty file), since it loads every test module.
#
# Usage: bench/push.sh [RESULTS_TSV [NOTES]]
# With RESULTS_TSV (bench/run.sh's results file), rows are appended in table.py's format
# (push against skopeo copy), and with NOTES the peak memory and second-push lines.
#
# Environment:
#   MLPIPE_BIN        the binary (default .build/release/mlpipe)
#   MLPIPE_TESTS      the test bundle for hook mode (default .build/release/…xctest, else debug)
#   BENCH_LAYER_MIB   the layer's size before gzip (default 1024; random bytes, so gzip keeps it)
#   BENCH_ROUNDS      alternating rounds (default 3); the median is reported
#   BENCH_KEEP=1      keep the temporary folder
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
ML=${MLPIPE_BIN:-$ROOT/.build/release/mlpipe}
MIB=${BENCH_LAYER_MIB:-1024}
ROUNDS=${BENCH_ROUNDS:-3}
TAG=bench
export NO_COLOR=1

for tool in /usr/bin/time /usr/bin/docker-registry /usr/bin/skopeo /usr/bin/umoci; do
    [ -x "$tool" ] || { echo "bench: $tool is required (Debian: time, docker-registry, skopeo, umoci)" >&2; exit 3; }
done

# How mlpipe pushes: push_cmd LAYOUT REF prints the command.
if [ -x "$ML" ] && "$ML" image push --help >/dev/null 2>&1; then
    MODE=cli
else
    MODE=hook
    TESTS=${MLPIPE_TESTS:-}
    if [ -z "$TESTS" ]; then
        TESTS=$ROOT/.build/release/mlpipePackageTests.xctest
        if [ ! -x "$TESTS" ]; then
            TESTS=$ROOT/.build/debug/mlpipePackageTests.xctest
            echo "bench: warning: no release test bundle; using the debug one (NIO and async-http-client unoptimised)." >&2
            echo "bench:          \`swift build -c release --build-tests\` for figures that compare." >&2
        fi
    fi
    [ -x "$TESTS" ] || { echo "bench: no \`mlpipe image push\` and no test bundle at $TESTS; run \`swift build --build-tests\`" >&2; exit 3; }
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-bench-push.XXXXXX")
REG_PID=
cleanup() {
    if [ -n "$REG_PID" ]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; fi
    if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: keeping $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# make_layout DIR MIB: an umoci layout, image $TAG, one layer holding MIB MiB of random bytes.
make_layout() {
    local dir=$1 mib=$2
    umoci init --layout "$dir"
    umoci new --image "$dir:$TAG"
    head -c "$((mib << 20))" /dev/urandom >"$TMP/payload.bin"
    umoci insert --image "$dir:$TAG" "$TMP/payload.bin" /model/weights.bin
    rm -f "$TMP/payload.bin"
}

# The big layout is cached under workspace/ (making it gzips 1 GiB, about a minute).
LAYOUT=$ROOT/workspace/bench-push/layout-$MIB
if [ ! -f "$LAYOUT/index.json" ]; then
    echo "bench: making a layout with a $MIB MiB layer in $LAYOUT"
    rm -rf "$LAYOUT"; mkdir -p "$(dirname "$LAYOUT")"
    make_layout "$LAYOUT" "$MIB"
fi
DIGEST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$LAYOUT/index.json")
cat "$LAYOUT"/blobs/sha256/* >/dev/null  # both sides read it from the page cache

# start_registry: a fresh docker-registry with empty storage; sets PORT and REG_PID.
start_registry() {
    stop_registry
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    rm -rf "$TMP/registry"; mkdir -p "$TMP/registry"
    cat >"$TMP/registry/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $TMP/registry/data
http:
  addr: 127.0.0.1:$PORT
YAML
    docker-registry serve "$TMP/registry/config.yml" >"$TMP/registry/log" 2>&1 &
    REG_PID=$!
    for _ in $(seq 1 500); do
        if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2)' "$PORT" 2>/dev/null; then return; fi
        kill -0 "$REG_PID" 2>/dev/null || break
        sleep 0.02
    done
    echo "bench: docker-registry did not start:" >&2; cat "$TMP/registry/log" >&2; exit 1
}
stop_registry() {
    if [ -n "$REG_PID" ]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; REG_PID=; fi
}

# push_cmd LAYOUT REF: sets CMD to our push, by CLI or hook.
push_cmd() {
    if [ $MODE = cli ]; then
        CMD=("$ML" image push "$1:$TAG" "$2")
    else
        CMD=(env "MLPIPE_BENCH_PUSH_LAYOUT=$1" "MLPIPE_BENCH_PUSH_IMAGE=$TAG" "MLPIPE_BENCH_PUSH_TARGET=$2"
             "$TESTS" --testing-library swift-testing --filter RegistryPushBenchHook)
    fi
}

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

# check_pushed REPO: skopeo must see our manifest digest there.
check_pushed() {
    local seen
    seen=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://127.0.0.1:$PORT/$1:$TAG")
    [ "$seen" = "$DIGEST" ] || { echo "bench: $1 holds $seen, expected $DIGEST" >&2; exit 1; }
}

echo "== push of a $MIB MiB layer ($(du -sh "$LAYOUT" | cut -f1) layout), $ROUNDS rounds, mlpipe by $MODE${TESTS:+ ($TESTS)}"
skopeo_walls=() skopeo_rss=() ours_walls=() ours_rss=() again_walls=() again_rss=() skopeo_cpu=() ours_cpu=()
for ((round = 1; round <= ROUNDS; round++)); do
    sync
    start_registry
    time_v "skopeo-$round" skopeo copy --dest-tls-verify=false "oci:$LAYOUT:$TAG" "docker://127.0.0.1:$PORT/bench/skopeo:$TAG"
    check_pushed bench/skopeo
    skopeo_walls+=("$WALL") skopeo_rss+=("$RSS") skopeo_cpu+=("$CPU")

    sync
    start_registry
    push_cmd "$LAYOUT" "127.0.0.1:$PORT/bench/mlpipe:$TAG"
    time_v "mlpipe-$round" "${CMD[@]}"
    check_pushed bench/mlpipe
    ours_walls+=("$WALL") ours_rss+=("$RSS") ours_cpu+=("$CPU")

    time_v "again-$round" "${CMD[@]}"
    again_walls+=("$WALL") again_rss+=("$RSS")
    echo "round $round: skopeo ${skopeo_walls[-1]} s ${skopeo_rss[-1]} MiB cpu ${skopeo_cpu[-1]} s | mlpipe ${ours_walls[-1]} s ${ours_rss[-1]} MiB cpu ${ours_cpu[-1]} s | again ${again_walls[-1]} s"
done
stop_registry

baseline=-
if [ $MODE = hook ]; then
    make_layout "$TMP/tiny" 0
    start_registry
    push_cmd "$TMP/tiny" "127.0.0.1:$PORT/bench/tiny:$TAG"
    time_v baseline "${CMD[@]}"
    baseline=$RSS
    stop_registry
fi

python3 - "$baseline" "${skopeo_walls[*]}" "${skopeo_rss[*]}" "${ours_walls[*]}" "${ours_rss[*]}" \
    "${again_walls[*]}" "${skopeo_cpu[*]}" "${ours_cpu[*]}" "$MIB" "$MODE" "${1:-}" "${2:-}" <<'PY'
import statistics, sys
baseline = sys.argv[1]
sw, sr, ow, orss, aw, sc, oc = ([float(x) for x in a.split()] for a in sys.argv[2:9])
mib, mode, tsv, notes = sys.argv[9:13]
m = statistics.median
print(f"skopeo copy       {m(sw):7.2f} s   peak {max(sr):6.1f} MiB")
print(f"mlpipe push       {m(ow):7.2f} s   peak {max(orss):6.1f} MiB")
print(f"mlpipe push again {m(aw):7.2f} s   (every blob present)")
if baseline != "-":
    print(f"hook baseline (empty layer): peak {float(baseline):.1f} MiB; growth with the layer "
          f"{max(orss) - float(baseline):+.1f} MiB")
print(f"ratios: mlpipe/skopeo wall {m(ow) / m(sw):.2f} (target <= 1), "
      f"peak memory {max(orss):.0f} MiB (target < 100)")
size = "1 GiB" if mib == "1024" else f"{mib} MiB"
how = "mlpipe image push" if mode == "cli" else "mlpipe push (test hook)"
if tsv:
    with open(tsv, "a") as f:
        f.write(f"9. push a {size} layer to docker-registry ({how})\t{m(ow):.6f}\tskopeo copy\t{m(sw):.6f}\tatmost\t1\t{statistics.mean(oc):.6f}\t{statistics.mean(sc):.6f}\n")
        f.write(f"9. push again, every blob present\t{m(aw):.6f}\tskopeo copy (first push)\t{m(sw):.6f}\tratio\t-\t-\t-\n")
if notes:
    with open(notes, "a") as f:
        f.write(f"9. peak memory of the push: mlpipe {max(orss):.0f} MiB, skopeo copy {max(sr):.0f} MiB; target under "
                f"100 MiB: {'yes' if max(orss) < 100 else 'MISSED'} (medians of {len(ow)} rounds, each on a fresh registry)\n")
PY
