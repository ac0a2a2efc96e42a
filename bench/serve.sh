#!/usr/bin/env bash
# mlpipe serve with a long history: the runs page (first and a deep page), a run page
# and GET /api/v1/runs, each timed on the server (its Server-Timing header), median of
# BENCH_SERVE_REQUESTS requests, side by side with the same statements through the
# sqlite3 shell (`.timer on`); and the weight of the runs page.
#
#   ML                   the mlpipe binary (default: .build/release/mlpipe)
#   BENCH_RUN_COUNT      runs in the store (default 100000)
#   BENCH_SERVE_REQUESTS requests per page (default 50)
# Targets: each page under 50 ms (median server time); the runs page under 100 KB.
#
#   bench/serve.sh [RESULTS_TSV]
#
# With RESULTS_TSV (bench/run.sh's results file), a row per page is appended in
# table.py's format (kind `under`, 50 ms). sqlite3's `.timer` counts whole milliseconds.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ML=${ML:-$ROOT/.build/release/mlpipe}
RUN_COUNT=${BENCH_RUN_COUNT:-100000}
REQUESTS=${BENCH_SERVE_REQUESTS:-50}
RESULTS_TSV=${1:-}
TMP=$(mktemp -d)
SERVER=""
cleanup() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; rm -rf "$TMP"; }
trap cleanup EXIT

repo="$TMP/runs"
mkdir -p "$repo" && cd "$repo"
git init -q -b main && git config user.email bench@example.com && git config user.name bench
python3 "$BENCH_DIR/gen.py" six "$repo"
git add -A && git commit -qm "six stages"
"$ML" run pipelines/bench.yaml >/dev/null
sed "s/@LAST@/$RUN_COUNT/g" "$BENCH_DIR/runs.sql" | sqlite3 workspace/mlpipe.db >/dev/null
show=$((RUN_COUNT / 2))
deep=$((RUN_COUNT - 50 * 1000)) # the cursor of page 1,001
[ "$deep" -gt 1 ] || deep=$((RUN_COUNT / 2))

"$ML" serve --port 0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVER=$!
for _ in $(seq 200); do grep -q "listening on" "$TMP/serve.out" 2>/dev/null && break; sleep 0.05; done
URL=$(sed -n 's/.*listening on //p' "$TMP/serve.out")
[ -n "$URL" ] || { echo "bench: mlpipe serve did not start: $(cat "$TMP/serve.err")" >&2; exit 1; }

# server_median PATH: the median of the Server-Timing durations, in ms.
server_median() {
    for _ in $(seq "$REQUESTS"); do
        curl -s -o /dev/null -D - "$URL$1" | tr -d '\r' | sed -n 's/^[Ss]erver-[Tt]iming: app;dur=//p'
    done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# sqlite_median SQL: the median `.timer` real time of the statements, in ms.
sqlite_median() {
    for _ in $(seq "$REQUESTS"); do
        printf '.timer on\n%s\n' "$1" | sqlite3 workspace/mlpipe.db | sed -n 's/^Run Time: real \([0-9.]*\).*/\1/p' \
            | awk '{ s += $1 } END { printf "%.3f\n", s * 1000 }'
    done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

list="SELECT id, pipeline, pipeline_file, pipeline_digest, git_commit, git_branch, git_dirty, triggered_by, parent_run, status, started_at, finished_at, version, host, pid, pid_start_time, params_json, pruned_at FROM run"
stages="SELECT * FROM stage WHERE run_id = $show ORDER BY position, name;"
outputs="SELECT * FROM output WHERE run_id = $show;"

printf '| page | %s runs | server (median) | sqlite3, same statements | target |\n|---|---|---|---|---|\n' "$RUN_COUNT"
row() { # NAME PATH SQL
    local server sql verdict
    server=$(server_median "$2"); sql=$(sqlite_median "$3")
    verdict=$(awk -v s="$server" 'BEGIN { print (s < 50 ? "under 50 ms: ok" : "under 50 ms: MISSED") }')
    printf '| %s | `%s` | %s ms | %s ms | %s |\n' "$1" "$2" "$server" "$sql" "$verdict"
    if [ -n "$RESULTS_TSV" ]; then
        printf '13. serve: %s, %s runs (server time)\t%s\tsqlite3, same statements\t%s\tunder\t50\t-\t-\n' \
            "$1" "$RUN_COUNT" "$(awk -v v="$server" 'BEGIN { print v / 1000 }')" \
            "$(awk -v v="$sql" 'BEGIN { print v / 1000 }')" >>"$RESULTS_TSV"
    fi
}
row "runs, page 1" "/" "$list ORDER BY id DESC LIMIT 50;"
row "runs, page 1,001" "/?before=$deep" "$list WHERE id < $deep ORDER BY id DESC LIMIT 50;"
row "runs, failed" "/?status=failed" "$list WHERE status = 'failed' ORDER BY id DESC LIMIT 50;"
row "run #$show" "/runs/$show" "$list WHERE id = $show; $stages $outputs"
row "API runs" "/api/v1/runs" "$list ORDER BY id DESC LIMIT 50;"
weight=$(curl -s "$URL/" | wc -c)
printf '\nruns page weight: %s bytes (%s)\n' "$weight" "$([ "$weight" -lt 102400 ] && echo "under 100 KB: ok" || echo "under 100 KB: MISSED")"
