#!/usr/bin/env bash
# `make bench`: mlpipe against a minimal Swift program, DVC, git, OpenSSL, SQLite and GNU
# make, side by side in one run, printed as a table with ratios and saved to
# workspace/bench-results.md.
#
# Every case builds its own git repository in a temporary folder (real `git init`,
# real commits, `dvc init` where DVC is measured), checks that the no-op really is a
# no-op, then times mlpipe and its reference with hyperfine in alternating rounds, so
# that both see the same load when the machine is shared (median wall time of the
# runs; mean CPU time too).
# A missed target is reported, never fatal: the table is the result.
#
# Environment:
#   MLPIPE_BIN         the binary to measure (default .build/release/mlpipe)
#   BENCH_FILES        files in the folder input of case 3 (default 100000)
#   BENCH_BIG_MIB      size of the uncommitted input of case 4 (default 1024)
#   BENCH_RUN_COUNT    runs in the store of case 5 (default 100000)
#   BENCH_STAGES       stages of the DAG of case 6 (default 1000)
#   BENCH_KEEP=1       keep the temporary repositories (for profiling)
#   BENCH_CASES        the cases to run (default: startup noop folder bigfile history dag serving
#                      containerize push matrix remote smoke serve pgstore)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
cd "$ROOT"
source "$BENCH_DIR/lib.sh"

FILES=${BENCH_FILES:-100000}
BIG_MIB=${BENCH_BIG_MIB:-1024}
RUN_COUNT=${BENCH_RUN_COUNT:-100000}
STAGES=${BENCH_STAGES:-1000}
ML=${MLPIPE_BIN:-.build/release/mlpipe}
[[ $ML == /* ]] || ML="$ROOT/$ML"
VENV="$ROOT/workspace/bench-venv"
DVC="$VENV/bin/dvc"
export NO_COLOR=1 DVC_NO_ANALYTICS=1
unset CI MLPIPE_WORKSPACE GIT_DIR GIT_WORK_TREE
started=$(date +%s)

# ---- tools ----------------------------------------------------------------------
if [ ! -x "$ML" ]; then
    echo "bench: no mlpipe binary at $ML; run \`make release\` or set MLPIPE_BIN" >&2
    exit 3
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
need_apt=""
for tool in hyperfine:hyperfine sqlite3:sqlite3 openssl:openssl make:make git:git; do
    command -v "${tool%%:*}" >/dev/null || need_apt="$need_apt ${tool#*:}"
done
if [ -n "$need_apt" ]; then
    echo "installing:$need_apt"
    ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need_apt >/dev/null) \
        || echo "bench: could not install$need_apt; timing falls back to bench/timeit.py where hyperfine is missing" >&2
fi
for tool in sqlite3 openssl make git; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 3; }
done
HYPERFINE=$(command -v hyperfine || true)
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if [ ! -x "$DVC" ]; then
    echo "installing dvc into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check dvc
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-bench.XXXXXX")
if [ "${BENCH_KEEP:-}" = 1 ]; then
    echo "bench: keeping $TMP"
else
    trap 'rm -rf "$TMP"' EXIT
fi
RESULTS_DIR="$TMP/results"
RESULTS_TSV="$RESULTS_DIR/results.tsv"
NOTES="$RESULTS_DIR/notes.txt"
mkdir -p "$RESULTS_DIR"
: >"$RESULTS_TSV"
: >"$NOTES"

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
MACHINE="$(nproc) cores, $cpu, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, Linux $(uname -r); \
mlpipe $("$ML" --version), $("$DVC" --version | sed 's/^/dvc /'), $(git --version | sed 's/ version//'), \
sqlite3 $(sqlite3 --version | cut -d' ' -f1), $(make --version | head -1 | sed 's/GNU Make/make/'), \
$(openssl version | cut -d' ' -f1-2), $(if [ -n "$HYPERFINE" ]; then hyperfine --version; else echo bench/timeit.py; fi)"
echo "machine: $MACHINE"
load_start=$(cut -d" " -f1-3 /proc/loadavg)
echo "load average at start: $load_start"

# ---- 0: start-up ---------------------------------------------------------------------
# The start-up reference is built here: a Swift program that imports Foundation and
# prints the date, linked as mlpipe's release build is (-static-stdlib), into
# .build-bench/ (git-ignored). It is rebuilt only when its source is newer.
case_startup() {
    echo "== 0: start-up"
    local date_bin="$ROOT/.build-bench/swift-date"
    if [ ! -x "$date_bin" ] || [ "$BENCH_DIR/startup/date.swift" -nt "$date_bin" ]; then
        mkdir -p "$ROOT/.build-bench"
        swiftc -O -static-stdlib -module-cache-path "$ROOT/.build-bench/module-cache" \
            "$BENCH_DIR/startup/date.swift" -o "$date_bin"
    fi
    cd "$TMP"
    measure_pair startup-swift 5 100 100 10 "" "$ML --version" "$date_bin"
    ml=$MEDIAN_A ml_cpu=$CPU_A ref=$MEDIAN_B ref_cpu=$CPU_B
    record "0. mlpipe --version" "$ml" "Swift+Foundation, prints the date" "$ref" atmost 2 "$ml_cpu" "$ref_cpu"
    measure_pair startup-git 5 100 100 10 "" "$ML --version" "git --version"
    ml=$MEDIAN_A ml_cpu=$CPU_A ref=$MEDIAN_B ref_cpu=$CPU_B
    record "0. mlpipe --version" "$ml" "git --version" "$ref" ratio - "$ml_cpu" "$ref_cpu"
    note "0. the Swift reference is bench/startup/date.swift, built with \`swiftc -O -static-stdlib\`; \`git --version\` has no target, its ratio is shown for scale"
}

# ---- 1, 2: no-op re-run of 6 stages, and after a commit that touches no input ------
case_noop() {
    echo "== 1, 2: six stages, all cached"
    repo="$TMP/six"
    new_repo "$repo"
    python3 "$BENCH_DIR/gen.py" six "$repo"
    commit_all "$repo" "six stages"
    cd "$repo"
    "$ML" run pipelines/bench.yaml >/dev/null
    dvc_init "$repo"
    "$DVC" repro -q >/dev/null
    commit_all "$repo" "dvc: track the six stages"
    "$DVC" repro -q >/dev/null
    [ -z "$(git status --porcelain)" ] || { echo "bench: six: tree not clean after setup" >&2; git status --short >&2; exit 1; }
    assert_all_cached pipelines/bench.yaml
    measure_pair six 5 40 10 2 "" "$ML run pipelines/bench.yaml" "$DVC repro"
    ml=$MEDIAN_A ml_cpu=$CPU_A ref=$MEDIAN_B ref_cpu=$CPU_B
    record "1. no-op run, 6 stages cached" "$ml" "dvc repro" "$ref" faster 30 "$ml_cpu" "$ref_cpu"
    record "1. no-op run, 6 stages cached" "$ml" - - under 20 "$ml_cpu" -
    measure_pair six-git 5 50 50 5 "" "$ML run pipelines/bench.yaml" "git status"
    ml=$MEDIAN_A ml_cpu=$CPU_A ref=$MEDIAN_B ref_cpu=$CPU_B
    record "1. no-op run, 6 stages cached" "$ml" "git status" "$ref" atmost 8 "$ml_cpu" "$ref_cpu"

    # Each timed run is the first one after a new commit that changes only README.md.
    commit_docs="bash $BENCH_DIR/commit-docs.sh"
    measure_pair six-commit 5 30 10 1 "$commit_docs" "$ML run pipelines/bench.yaml" "$DVC repro"
    ml=$MEDIAN_A ml_cpu=$CPU_A ref=$MEDIAN_B ref_cpu=$CPU_B
    $commit_docs
    assert_all_cached pipelines/bench.yaml
    record "2. no-op run after a commit touching no input" "$ml" "dvc repro" "$ref" faster 30 "$ml_cpu" "$ref_cpu"
}

# ---- 3: a folder of 100,000 committed files, clean ----------------------------------
case_folder() {
    echo "== 3: a stage over a folder of $FILES committed files, clean"
    repo="$TMP/folder"
    new_repo "$repo"
    python3 "$BENCH_DIR/gen.py" folder "$repo" "$FILES"
    sleep 1 # no racily-clean index entries: every file is older than the index
    commit_all "$repo" "$FILES files"
    cd "$repo"
    "$ML" run pipelines/bench.yaml >/dev/null
    dvc_init "$repo"
    echo "   dvc repro, first run (hashes $FILES files)"
    "$DVC" repro -q >/dev/null
    commit_all "$repo" "dvc: track the folder stage"
    git status >/dev/null # refreshes the index once, as any git user's first status would
    [ -z "$(git status --porcelain)" ] || { echo "bench: folder: tree not clean after setup" >&2; exit 1; }
    "$DVC" repro -q >/dev/null
    assert_all_cached pipelines/bench.yaml
    measure_pair folder-git 5 20 20 2 "" "$ML run pipelines/bench.yaml" "git status"
    ml=$MEDIAN_A ml_cpu=$CPU_A git_s=$MEDIAN_B git_cpu=$CPU_B
    measure_pair folder-dvc 5 5 5 1 "" "$ML run pipelines/bench.yaml" "$DVC repro"
    ref=$MEDIAN_B ref_cpu=$CPU_B
    measure folder-mlpipe-status 10 2 "" "$ML status pipelines/bench.yaml"
    note "3. \`mlpipe status\` on the same folder: $(python3 -c "print(f'{$MEDIAN*1000:.1f}')") ms (git status $(python3 -c "print(f'{$git_s*1000:.1f}')") ms)"
    files_label=$(python3 -c "print(f'{$FILES:,}')")
    record "3. ${files_label}-file folder input, clean" "$ml" "git status" "$git_s" atmost 1.5 "$ml_cpu" "$git_cpu"
    record "3. ${files_label}-file folder input, clean" "$ml" "dvc repro" "$ref" faster 15 "$ml_cpu" "$ref_cpu"
}

# ---- 4: hashing a 1 GiB uncommitted input --------------------------------------------
case_bigfile() {
    echo "== 4: a stage whose input is an untracked $BIG_MIB MiB file"
    repo="$TMP/big"
    new_repo "$repo"
    python3 "$BENCH_DIR/gen.py" bigfile "$repo"
    commit_all "$repo" "a stage over data/big.bin"
    cd "$repo"
    head -c "$((BIG_MIB * 1024 * 1024))" /dev/urandom >data/big.bin
    "$ML" run pipelines/bench.yaml >/dev/null
    assert_all_cached pipelines/bench.yaml
    measure_pair big 5 5 5 1 "" "$ML run pipelines/bench.yaml" "openssl dgst -sha256 data/big.bin"
    ml=$MEDIAN_A ml_cpu=$CPU_A ref=$MEDIAN_B ref_cpu=$CPU_B
    measure big-openssl-sha1 5 1 "" "openssl dgst -sha1 data/big.bin"; sha1=$MEDIAN
    note "4. mlpipe's figure is a whole \`mlpipe run\` (status, git blob id = SHA-1 of the file, cache hit, run recorded); openssl dgst -sha1 on the same file: $(python3 -c "print(f'{$sha1*1000:.0f}')") ms"
    size_label=$([ "$BIG_MIB" = 1024 ] && echo "1 GiB" || echo "$BIG_MIB MiB")
    record "4. hash a $size_label uncommitted input (mlpipe run)" "$ml" "openssl dgst -sha256" "$ref" throughput 0.9 "$ml_cpu" "$ref_cpu"
}

# ---- 5: run history of 100,000 runs ---------------------------------------------------
case_history() {
    echo "== 5: $RUN_COUNT runs in the store"
    repo="$TMP/runs"
    new_repo "$repo"
    python3 "$BENCH_DIR/gen.py" six "$repo"
    commit_all "$repo" "six stages"
    cd "$repo"
    "$ML" run pipelines/bench.yaml >/dev/null # run #1, which creates the database (migrations)
    sed "s/@LAST@/$RUN_COUNT/g" "$BENCH_DIR/runs.sql" | sqlite3 workspace/mlpipe.db >/dev/null
    count=$(sqlite3 workspace/mlpipe.db 'SELECT COUNT(*) FROM run')
    [ "$count" = "$RUN_COUNT" ] || { echo "bench: runs: expected $RUN_COUNT runs, found $count" >&2; exit 1; }
    show=$((RUN_COUNT / 2))
    # The statements of Sources/RunStore/SQLiteRunStore+Runs.swift and +Stages.swift.
    run_list="id, pipeline, pipeline_file, pipeline_digest, git_commit, git_branch, git_dirty, triggered_by, \
parent_run, status, started_at, finished_at, version, host, pid, pid_start_time, params_json"
    stage_cols="run_id, name, kind, position, status, cache_key, cached_from, attempts, exit_code, \
started_at, finished_at, log_path, reason, error, metrics_json, key_components_json"
    printf '%s\n' "SELECT $run_list FROM run ORDER BY id DESC LIMIT 50;" >"$TMP/list.sql"
    printf '%s\n' \
        "SELECT $run_list, pipeline_source FROM run WHERE id = $show;" \
        "SELECT $stage_cols FROM stage WHERE run_id = $show ORDER BY position, name;" \
        "SELECT output.run_id, output.stage, output.name, output.digest, output.kind, output.size, output.path" \
        "FROM output JOIN stage ON stage.run_id = output.run_id AND stage.name = output.stage" \
        "WHERE output.run_id = $show ORDER BY stage.position, output.stage, output.name;" >"$TMP/show.sql"
    "$ML" runs --limit 50 >/dev/null
    "$ML" runs show "$show" >/dev/null
    measure_pair runs-list 5 30 30 3 "" "$ML runs --limit 50" "sqlite3 workspace/mlpipe.db '.read $TMP/list.sql'"
    ml=$MEDIAN_A ml_cpu=$CPU_A ref=$MEDIAN_B ref_cpu=$CPU_B
    runs_label=$(python3 -c "print(f'{$RUN_COUNT:,}')")
    record "5. runs --limit 50, $runs_label runs" "$ml" - - under 50 "$ml_cpu" -
    record "5. runs --limit 50, $runs_label runs" "$ml" "sqlite3 CLI" "$ref" atmost 3 "$ml_cpu" "$ref_cpu"
    measure_pair runs-show 5 30 30 3 "" "$ML runs show $show" "sqlite3 workspace/mlpipe.db '.read $TMP/show.sql'"
    ml=$MEDIAN_A ml_cpu=$CPU_A ref=$MEDIAN_B ref_cpu=$CPU_B
    record "5. runs show $show, $runs_label runs" "$ml" - - under 50 "$ml_cpu" -
    record "5. runs show $show, $runs_label runs" "$ml" "sqlite3 CLI" "$ref" atmost 3 "$ml_cpu" "$ref_cpu"
    note "5. store: $(du -h workspace/mlpipe.db | cut -f1) database, 6 stages and 6 outputs per run"
}

# ---- 6: a DAG of 1,000 trivial command stages -----------------------------------------
case_dag() {
    echo "== 6: $STAGES trivial command stages, two at a time"
    repo="$TMP/dag"
    new_repo "$repo"
    python3 "$BENCH_DIR/gen.py" dag "$repo" "$STAGES"
    commit_all "$repo" "$STAGES stages"
    cd "$repo"
    "$ML" run --jobs 2 --no-cache pipelines/bench.yaml >/dev/null
    measure_pair dag 5 5 5 1 "" "$ML run --jobs 2 --no-cache pipelines/bench.yaml" "make -j2 -s all"
    ml=$MEDIAN_A ml_cpu=$CPU_A ref=$MEDIAN_B ref_cpu=$CPU_B
    note "6. every stage runs (\`--no-cache\`): \`/bin/sh -c 'echo sN'\` per stage; make runs the same \`echo sN\` recipes (.PHONY)"
    stages_label=$(python3 -c "print(f'{$STAGES:,}')")
    record "6. $stages_label-stage DAG, --jobs 2" "$ml" "make -j2" "$ref" atmost 1.5 "$ml_cpu" "$ref_cpu"
}

# ---- 7: the model server against MLServer (bench/serving.sh) ----------------------------
case_serving() {
    echo "== 7: the serving app against Seldon's MLServer, same iris model"
    bash "$BENCH_DIR/serving.sh" "$RESULTS_TSV"
}

# ---- 8: containerize a 1 GiB model (bench/containerize.sh) ----------------------------
case_containerize() {
    echo "== 8: containerize a package with a $BIG_MIB MiB model, against tar | gzip -1 | sha256sum"
    MLPIPE_BIN="$ML" BENCH_MODEL_MIB="$BIG_MIB" bash "$BENCH_DIR/containerize.sh" "$RESULTS_TSV" "$NOTES"
}

# ---- 9: push a 1 GiB layer (bench/push.sh) ---------------------------------------------
case_push() {
    echo "== 9: push an image with a $BIG_MIB MiB layer to docker-registry, against skopeo copy"
    MLPIPE_BIN="$ML" BENCH_LAYER_MIB="$BIG_MIB" bash "$BENCH_DIR/push.sh" "$RESULTS_TSV" "$NOTES"
}

# ---- 10: a matrix of 100 instances, all cached -----------------------------------------
case_matrix() {
    echo "== 10: one stage with a 10 x 10 matrix (100 instances), all cached"
    repo="$TMP/matrix"
    new_repo "$repo"
    python3 "$BENCH_DIR/gen.py" matrix "$repo"
    commit_all "$repo" "a sweep of 100 instances"
    cd "$repo"
    "$ML" run pipelines/bench.yaml >/dev/null
    dvc_init "$repo"
    "$DVC" repro -q >/dev/null
    commit_all "$repo" "dvc: track the sweep"
    "$DVC" repro -q >/dev/null
    [ -z "$(git status --porcelain)" ] || { echo "bench: matrix: tree not clean after setup" >&2; git status --short >&2; exit 1; }
    assert_all_cached pipelines/bench.yaml
    measure_pair matrix 5 40 5 1 "" "$ML run pipelines/bench.yaml" "$DVC repro"
    ml=$MEDIAN_A ml_cpu=$CPU_A ref=$MEDIAN_B ref_cpu=$CPU_B
    record "10. no-op run, matrix of 100 instances cached" "$ml" - - under 100 "$ml_cpu" -
    record "10. no-op run, matrix of 100 instances cached" "$ml" "dvc repro" "$ref" faster 10 "$ml_cpu" "$ref_cpu"
    note "10. the same sweep in DVC is a \`matrix:\` stage of dvc.yaml (\`\${item.a}\`), 100 stages \`train@a0-b0\`…"
}

# ---- 11: the S3 remote cache against DVC's S3 remote and the AWS CLI (bench/remote.sh) ----
case_remote() {
    echo "== 11: the remote cache on SeaweedFS, against dvc pull + repro and aws s3 cp"
    MLPIPE_BIN=$ML REMOTE_BENCH_VENV=$VENV bash "$BENCH_DIR/remote.sh" "$RESULTS_TSV"
}

# ---- 12: the smoke test's load loop against wrk, and V2 infer at a fixed rate (bench/smoke.sh) --
case_smoke() {
    echo "== 12: the smoke-test load loop against wrk, and the serving app at a fixed rate"
    MLPIPE_BIN="$ML" bash "$BENCH_DIR/smoke.sh" "$RESULTS_TSV" "$NOTES"
}

# ---- 13: mlpipe serve with 100,000 runs, against the same statements in sqlite3 (bench/serve.sh)
case_serve() {
    echo "== 13: mlpipe serve's pages with $RUN_COUNT runs, against sqlite3"
    ML="$ML" BENCH_RUN_COUNT=$RUN_COUNT bash "$BENCH_DIR/serve.sh" "$RESULTS_TSV"
}

# ---- 14: the run store on PostgreSQL, against psql (bench/pgstore.sh) -----------------------
case_pgstore() {
    echo "== 14: the run store on PostgreSQL with $RUN_COUNT runs, against psql; 8 runners writing at once"
    MLPIPE_BIN="$ML" BENCH_RUN_COUNT=$RUN_COUNT bash "$BENCH_DIR/pgstore.sh" "$RESULTS_TSV"
}

# ---- running the cases ----------------------------------------------------------------
# Each case runs in a subshell with errexit on: a step that fails (mlpipe exiting
# non-zero, a no-op that executed a stage) ends that case only, which the table then
# shows as FAILED; the other cases still run, and the script exits 1 at the end.
failed=0
run_case() {
    local name=$1 title=$2
    case " $(echo "${BENCH_CASES:-startup noop folder bigfile history dag serving containerize push matrix remote smoke serve pgstore}" | tr , " ") " in *" $name "*) ;; *) return 0 ;; esac
    set +e
    (set -e; "case_$name")
    local code=$?
    set -e
    cd "$ROOT"
    if [ "$code" != 0 ]; then
        echo "bench: case '$title' failed (exit $code); see the output above" >&2
        record "$title" - - - failed "exit $code, see the log"
        failed=1
    fi
}
run_case startup "0. start-up"
run_case noop "1, 2. no-op runs of 6 stages"
run_case folder "3. folder of committed files"
run_case bigfile "4. uncommitted large input"
run_case history "5. run history"
run_case dag "6. DAG of trivial stages"
run_case serving "7. model server against MLServer"
run_case containerize "8. containerize a large model"
run_case push "9. push a large layer"
run_case matrix "10. matrix of 100 instances"
run_case remote "11. remote cache on SeaweedFS"
run_case smoke "12. smoke-test load loop against wrk"
run_case serve "13. mlpipe serve pages"
run_case pgstore "14. run store on PostgreSQL"

# ---- the table --------------------------------------------------------------------------
cd "$ROOT"
echo
note "load average (1, 5, 15 min) at start: $load_start; at end: $(cut -d" " -f1-3 /proc/loadavg); other work on the machine moves wall times, CPU times less"
echo
python3 "$BENCH_DIR/table.py" "$RESULTS_TSV" "$ROOT/workspace/bench-results.md" "$MACHINE"
if [ -s "$NOTES" ]; then
    echo
    sed 's/^/- /' "$NOTES"
    { echo; sed 's/^/- /' "$NOTES"; } >>"$ROOT/workspace/bench-results.md"
fi
took=$(($(date +%s) - started))
echo "- bench took $((took / 60)) min $((took % 60)) s" | tee -a "$ROOT/workspace/bench-results.md"
echo "(table saved to workspace/bench-results.md)"

if [ -f "$BENCH_DIR/scan/run.sh" ]; then
    echo
    echo "== scanner bench (bench/scan/run.sh)"
    MLPIPE_BIN="$ML" bash "$BENCH_DIR/scan/run.sh"
fi

exit "$failed"
