# Helpers for bench/run.sh: timing, result rows, bench repositories. Sourced, not run.

# time_into JSON RUNS WARMUP PREPARE COMMAND
# Times COMMAND (run without a shell, in the current folder, output discarded) RUNS
# times after WARMUP untimed runs, with hyperfine (or bench/timeit.py); PREPARE (a
# command, or "") runs before each run, untimed. Writes hyperfine's JSON. A failing
# run fails.
time_into() {
    local json=$1 runs=$2 warmup=$3 prepare=$4 command=$5
    if [ -n "$HYPERFINE" ]; then
        local args=(-N --style none --runs "$runs" --warmup "$warmup" --export-json "$json")
        if [ -n "$prepare" ]; then args+=(--prepare "$prepare"); fi
        # hyperfine's warnings (outliers on a busy machine) would drown the log; its
        # errors are shown.
        "$HYPERFINE" "${args[@]}" "$command" >/dev/null 2>"$json.err" || { cat "$json.err" >&2; return 1; }
    else
        python3 "$BENCH_DIR/timeit.py" "$json" "$runs" "$warmup" "$prepare" "$command" >/dev/null
    fi
}

# measure NAME RUNS WARMUP PREPARE COMMAND
# Times one command (see time_into). Sets MEDIAN to the median wall time in seconds,
# and CPU to the mean CPU time (user + system) in seconds.
measure() {
    local name=$1 runs=$2 warmup=$3 prepare=$4 command=$5
    echo "-- $name: $command"
    time_into "$RESULTS_DIR/$name.json" "$runs" "$warmup" "$prepare" "$command"
    read -r MEDIAN CPU < <(python3 "$BENCH_DIR/summarize.py" "$name" "$RESULTS_DIR/$name.json")
}

# measure_pair NAME ROUNDS RUNS_A RUNS_B WARMUP PREPARE COMMAND_A COMMAND_B
# Times two commands side by side: ROUNDS rounds, each RUNS_A/ROUNDS runs of A then
# RUNS_B/ROUNDS runs of B (WARMUP untimed runs of each in the first round), so that
# both see the same load when other work shares the machine. Sets MEDIAN_A, CPU_A,
# MEDIAN_B, CPU_B as measure does.
measure_pair() {
    local name=$1 rounds=$2 runs_a=$3 runs_b=$4 warmup=$5 prepare=$6 command_a=$7 command_b=$8
    local round files_a=() files_b=() w=$warmup
    echo "-- $name: $command_a  vs  $command_b"
    for ((round = 1; round <= rounds; round++)); do
        time_into "$RESULTS_DIR/$name-a$round.json" "$((runs_a / rounds))" "$w" "$prepare" "$command_a"
        time_into "$RESULTS_DIR/$name-b$round.json" "$((runs_b / rounds))" "$w" "$prepare" "$command_b"
        files_a+=("$RESULTS_DIR/$name-a$round.json")
        files_b+=("$RESULTS_DIR/$name-b$round.json")
        w=0
    done
    read -r MEDIAN_A CPU_A < <(python3 "$BENCH_DIR/summarize.py" "$command_a" "${files_a[@]}")
    read -r MEDIAN_B CPU_B < <(python3 "$BENCH_DIR/summarize.py" "$command_b" "${files_b[@]}")
}

# record CASE MLPIPE_SECONDS REFERENCE_NAME REFERENCE_SECONDS KIND TARGET MLPIPE_CPU REFERENCE_CPU
# (see table.py)
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "${7:--}" "${8:--}" >>"$RESULTS_TSV"
}

# note TEXT: a line printed and saved under the table (context, not a target).
note() {
    echo "   note: $*"
    echo "$*" >>"$NOTES"
}

# new_repo DIR: a fresh git repository with a local identity.
new_repo() {
    mkdir -p "$1"
    git -C "$1" init -q -b main
    git -C "$1" config user.email bench@mlpipe.invalid
    git -C "$1" config user.name "mlpipe bench"
    git -C "$1" config commit.gpgsign false
}

# commit_all DIR MESSAGE (inside a bench repository only)
commit_all() {
    git -C "$1" add -A
    git -C "$1" commit -q -m "$2"
}

# dvc_init DIR: `dvc init` without analytics or update checks.
dvc_init() {
    (cd "$1" && "$DVC" init -q && "$DVC" config core.analytics false && "$DVC" config core.check_update false)
}

# assert_all_cached: runs `mlpipe run --json ARGS…` in the current folder and fails
# unless every stage finished `cached`, so that a no-op figure is a real no-op.
assert_all_cached() {
    local out
    out=$("$ML" run --json "$@")
    python3 - "$out" <<'EOF'
import json, sys
events = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip().startswith("{")]
finished = [e for e in events if e.get("event") == "stageFinished" or e.get("type") == "stageFinished"]
bad = [e for e in finished if e.get("status") != "cached"]
if not finished or bad:
    sys.exit("bench: expected every stage cached, got: " + json.dumps(bad or events)[:2000])
EOF
}
