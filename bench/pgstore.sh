#!/usr/bin/env bash
# The PostgreSQL run store with 100,000 runs: `mlpipe runs --limit 50` and `runs show N`
# against `psql` running the same statements on the same database, side by side.
# Then eight runners, each in its own clone and workspace, record runs into the same
# database as fast as they can, and `runs --limit 50` is timed while they write.
# Case 14 of `make bench` (bench/run.sh); it can also be run by hand:
#
#   bench/pgstore.sh [RESULTS_TSV]
#
# With RESULTS_TSV (bench/run.sh's results file), its rows are appended there.
#
# It starts Debian's PostgreSQL (initdb in a temporary folder, a free port on 127.0.0.1,
# fsync off as in the tests), records one real run of the six-stage bench pipeline
# through MLPIPE_STORE, copies it into runs #2 .. #N (as bench/runs.sql does for
# SQLite), then times both sides with hyperfine (or bench/timeit.py), in alternating
# rounds. The server is stopped (pg_ctl stop -m immediate) on exit.
#
# Environment:
#   MLPIPE_BIN         the binary to measure (default .build/release/mlpipe)
#   BENCH_RUN_COUNT    runs in the store (default 100000)
#   BENCH_WRITERS      runners writing at once in the last case (default 8)
set -euo pipefail
RESULTS_TSV=${1:-}
WRITERS=${BENCH_WRITERS:-8}

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RUN_COUNT=${BENCH_RUN_COUNT:-100000}
ML=${MLPIPE_BIN:-.build/release/mlpipe}
[[ $ML == /* ]] || ML="$ROOT/$ML"
[ -x "$ML" ] || { echo "pgstore: no mlpipe binary at $ML; run \`make release\` or set MLPIPE_BIN" >&2; exit 3; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] || { echo "pgstore: PostgreSQL is not installed; apt-get install -y postgresql" >&2; exit 3; }
HYPERFINE=$(command -v hyperfine || true)
export NO_COLOR=1
unset CI MLPIPE_WORKSPACE MLPIPE_STORE

TMP=$(mktemp -d /tmp/mlpipe-pgstore.XXXXXX)
chmod 755 "$TMP"  # the postgres user must reach its data folder
RESULTS_DIR=$TMP/results
mkdir -p "$RESULTS_DIR" "$TMP/pg"
as_postgres() { if [ "$(id -u)" = 0 ]; then chown -R postgres "$TMP/pg"; runuser -u postgres -- "$@"; else "$@"; fi; }
writer_pids=()
cleanup() {
    for pid in "${writer_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${writer_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    as_postgres "$PGBIN/pg_ctl" -D "$TMP/pg/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$TMP/pg" && as_postgres "$PGBIN/initdb" -D "$TMP/pg/data" -U mlpipe --auth=trust -E UTF8 -N >/dev/null)
(cd "$TMP/pg" && as_postgres "$PGBIN/pg_ctl" -D "$TMP/pg/data" -l "$TMP/pg/log" -w \
    -o "-p $PORT -k $TMP/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null)
PSQL=("$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U mlpipe -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE bench" >/dev/null
export MLPIPE_STORE="postgresql://mlpipe@127.0.0.1:$PORT/bench"

repo=$TMP/repo
mkdir -p "$repo"
git -C "$repo" init -q -b main
python3 "$BENCH_DIR/gen.py" six "$repo"
git -C "$repo" add -A
git -C "$repo" -c user.email=b@example.com -c user.name=bench commit -q -m "six stages"
cd "$repo"
"$ML" run pipelines/bench.yaml >/dev/null  # run #1, which migrates the database

# Runs #2 .. #N: copies of run #1, a minute older each, one in ten failed, one in three by CI.
"${PSQL[@]}" -d bench >/dev/null <<SQL
BEGIN;
INSERT INTO run (id, pipeline, pipeline_file, pipeline_digest, git_commit, git_branch, git_dirty, triggered_by,
                 parent_run, status, started_at, finished_at, version, host, pid, pid_start_time, params_json,
                 pipeline_source)
OVERRIDING SYSTEM VALUE
SELECT n.i, r.pipeline, r.pipeline_file, r.pipeline_digest, r.git_commit, r.git_branch, r.git_dirty,
       CASE WHEN n.i % 3 = 0 THEN 'ci' ELSE r.triggered_by END, NULL,
       CASE WHEN n.i % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
       r.started_at - ($RUN_COUNT + 1 - n.i) * 60, r.finished_at - ($RUN_COUNT + 1 - n.i) * 60,
       r.version, r.host, r.pid, r.pid_start_time, r.params_json, r.pipeline_source
FROM generate_series(2, $RUN_COUNT) AS n(i), run AS r WHERE r.id = 1;
SELECT setval(pg_get_serial_sequence('run', 'id'), $RUN_COUNT);
INSERT INTO stage (run_id, name, kind, position, status, cache_key, cached_from, attempts, exit_code,
                   started_at, finished_at, log_path, reason, error, metrics_json, key_components_json)
SELECT n.i, s.name, s.kind, s.position, 'cached', s.cache_key, 1, s.attempts, s.exit_code,
       s.started_at - ($RUN_COUNT + 1 - n.i) * 60, s.finished_at - ($RUN_COUNT + 1 - n.i) * 60,
       s.log_path, s.reason, s.error, s.metrics_json, s.key_components_json
FROM generate_series(2, $RUN_COUNT) AS n(i), stage AS s WHERE s.run_id = 1;
INSERT INTO output (run_id, stage, name, digest, kind, size, path)
SELECT n.i, o.stage, o.name, o.digest, o.kind, o.size, o.path
FROM generate_series(2, $RUN_COUNT) AS n(i), output AS o WHERE o.run_id = 1;
COMMIT;
VACUUM ANALYZE;
SQL
count=$("${PSQL[@]}" -d bench -At -c "SELECT COUNT(*) FROM run")
[ "$count" = "$RUN_COUNT" ] || { echo "pgstore: expected $RUN_COUNT runs, found $count" >&2; exit 1; }
show=$((RUN_COUNT / 2))

# The statements of Sources/PostgresRunStore/PostgresRunStore+Runs.swift and +Stages.swift.
run_list="id, pipeline, pipeline_file, pipeline_digest, git_commit, git_branch, git_dirty, triggered_by, \
parent_run, status, started_at, finished_at, version, host, pid, pid_start_time, params_json, pruned_at, \
run_note.name, run_note.note"
source="run LEFT JOIN run_note ON run_note.run_id = run.id"
stage_cols="run_id, name, kind, position, status, cache_key, cached_from, attempts, exit_code, \
started_at, finished_at, log_path, reason, error, metrics_json, key_components_json, results_json, warnings_json"
printf '%s\n' "SELECT $run_list FROM $source ORDER BY id DESC LIMIT 50;" >"$TMP/list.sql"
printf '%s\n' \
    "SELECT $run_list, pipeline_source FROM $source WHERE id = $show;" \
    "SELECT $stage_cols FROM stage WHERE run_id = $show ORDER BY position, name;" \
    "SELECT output.run_id, output.stage, output.name, output.digest, output.kind, output.size, output.path" \
    "FROM output JOIN stage ON stage.run_id = output.run_id AND stage.name = output.stage" \
    "WHERE output.run_id = $show ORDER BY stage.position, output.stage, output.name;" >"$TMP/show.sql"
psql_cmd="$PGBIN/psql -h 127.0.0.1 -p $PORT -U mlpipe -X -q -d bench -o /dev/null -f"

# time NAME RUNS COMMAND: the median wall time in ms of RUNS runs after 3 warm-ups.
time_ms() {
    local name=$1 runs=$2 command=$3 json=$RESULTS_DIR/$1.json
    if [ -n "$HYPERFINE" ]; then
        "$HYPERFINE" -N --style none --runs "$runs" --warmup 3 --export-json "$json" "$command" >/dev/null 2>&1
    else
        python3 "$BENCH_DIR/timeit.py" "$json" "$runs" 3 "" "$command" >/dev/null
    fi
    python3 -c 'import json,sys,statistics; t=json.load(open(sys.argv[1]))["results"][0]["times"]; print("%.1f" % (statistics.median(t)*1000))' "$json"
}

"$ML" runs --limit 50 >/dev/null
"$ML" runs show "$show" >/dev/null
label=$(python3 -c "print(f'{$RUN_COUNT:,}')")
echo "| $label runs on PostgreSQL | mlpipe (ms) | psql, same statements (ms) | ratio | target |"
echo "|---|---:|---:|---:|---|"
for case in "runs --limit 50|$ML runs --limit 50|$psql_cmd $TMP/list.sql" \
            "runs show $show|$ML runs show $show|$psql_cmd $TMP/show.sql"; do
    IFS='|' read -r title mine theirs <<<"$case"
    a=() b=()
    for round in 1 2 3; do
        a+=("$(time_ms "a$round" 10 "$mine")")
        b+=("$(time_ms "b$round" 10 "$theirs")")
    done
    ml=$(printf '%s\n' "${a[@]}" | sort -n | sed -n 2p)
    ref=$(printf '%s\n' "${b[@]}" | sort -n | sed -n 2p)
    ratio=$(python3 -c "print(f'{$ml/$ref:.2f}')")
    echo "| $title | $ml | $ref | $ratio | within 3x, under 50 ms |"
    if [ -n "$RESULTS_TSV" ]; then
        printf '14. PostgreSQL store: %s, %s runs\t%s\tpsql, same statements\t%s\tatmost\t3\t-\t-\n' \
            "$title" "$label" "$(awk -v v="$ml" 'BEGIN { print v / 1000 }')" "$(awk -v v="$ref" 'BEGIN { print v / 1000 }')" >>"$RESULTS_TSV"
        printf '14. PostgreSQL store: %s, %s runs, under 50 ms\t%s\t-\t-\tunder\t50\t-\t-\n' \
            "$title" "$label" "$(awk -v v="$ml" 'BEGIN { print v / 1000 }')" >>"$RESULTS_TSV"
    fi
done

# ---- runners writing at once --------------------------------------------------------
# Each writer is a clone of the repository with its own workspace, recording runs of the
# six-stage pipeline into the shared database in a loop (all cached after its first run:
# a run record and six stage records each); a failed run is counted, never hidden.
# Runners on a team's machines do not share this machine's two cores with the one asking
# `runs`; here they must, so they run at the lowest CPU priority (nice 19): the database
# takes all their writes, and the timed command is not starved of CPU by their start-ups.
for i in $(seq 1 "$WRITERS"); do
    git clone -q "$repo" "$TMP/writer$i"
    (cd "$TMP/writer$i" && "$ML" run pipelines/bench.yaml >/dev/null)  # computes once
done
: >"$TMP/failed-runs"
for i in $(seq 1 "$WRITERS"); do
    (
        cd "$TMP/writer$i"
        while [ ! -e "$TMP/stop" ]; do
            nice -n 19 "$ML" run pipelines/bench.yaml >/dev/null 2>>"$TMP/writer$i.err" || echo "writer $i" >>"$TMP/failed-runs"
        done
    ) &
    writer_pids+=($!)
done
sleep 3  # every writer is past its start
before=$("${PSQL[@]}" -d bench -At -c "SELECT COUNT(*) FROM run")
started=$(date +%s.%N)
under_load=()
for round in 1 2 3; do
    under_load+=("$(time_ms "w$round" 10 "$ML runs --limit 50")")
done
psql_load=$(time_ms wpsql 10 "$psql_cmd $TMP/list.sql")
after=$("${PSQL[@]}" -d bench -At -c "SELECT COUNT(*) FROM run")
elapsed=$(python3 -c "import time; print(time.time() - $started)")
touch "$TMP/stop"
for pid in "${writer_pids[@]}"; do wait "$pid" || true; done
writer_pids=()
failed_runs=$(wc -l <"$TMP/failed-runs")
interrupted=$("${PSQL[@]}" -d bench -At -c "SELECT COUNT(*) FROM run WHERE status NOT IN ('succeeded', 'failed')")
loaded=$(printf '%s\n' "${under_load[@]}" | sort -n | sed -n 2p)
rate=$(python3 -c "print(f'{($after - $before) / $elapsed:.1f}')")
echo
echo "| $WRITERS runners writing at once (at nice 19) | mlpipe (ms) | psql, same statements (ms) | target |"
echo "|---|---:|---:|---|"
echo "| runs --limit 50 while they write | $loaded | $psql_load | under 100 ms |"
echo
echo "runs recorded while timing: $((after - before)) in ${elapsed%.*} s ($rate runs/s, each with 6 stages);" \
     "failed runs: $failed_runs; runs left neither succeeded nor failed: $interrupted"
if [ "$failed_runs" != 0 ]; then
    echo "pgstore: $failed_runs runs of the writers failed; their errors:" >&2
    cat "$TMP"/writer*.err >&2
fi
if [ -n "$RESULTS_TSV" ]; then
    printf '14. PostgreSQL store: runs --limit 50 while %s runners write (%s runs/s)\t%s\tpsql, same statements\t%s\tunder\t100\t-\t-\n' \
        "$WRITERS" "$rate" "$(awk -v v="$loaded" 'BEGIN { print v / 1000 }')" "$(awk -v v="$psql_load" 'BEGIN { print v / 1000 }')" >>"$RESULTS_TSV"
fi
[ "$failed_runs" = 0 ] && [ "$interrupted" = 0 ]
