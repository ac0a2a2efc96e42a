# Helpers for bench/run.sh: timing, result rows, bench repositories. Sourced, not run.

# measure NAME RUNS WARMUP PREPARE COMMAND
# Times COMMAND (run without a shell, in the current folder, output discarded) RUNS
# times after WARMUP untimed runs; PREPARE (a command, or "") runs before each run,
# untimed. Sets MEDIAN to the median wall time in seconds, and CPU to the mean CPU
# time (user + system) in seconds. A failing run stops the bench.
measure() {
    local name=$1 runs=$2 warmup=$3 prepare=$4 command=$5
    local json="$RESULTS_DIR/$name.json"
    echo "-- $name"
    if [ -n "$HYPERFINE" ]; then
        local args=(-N --style basic --runs "$runs" --warmup "$warmup" --export-json "$json")
        if [ -n "$prepare" ]; then args+=(--prepare "$prepare"); fi
        "$HYPERFINE" "${args[@]}" "$command" 2>&1 | grep -v '^ *$' | sed 's/^/   /'
    else
        python3 "$BENCH_DIR/timeit.py" "$json" "$runs" "$warmup" "$prepare" "$command"
    fi
    MEDIAN=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$json")
    # Mean CPU time (user + system), steadier than wall time on a shared machine.
    CPU=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][0]; print(r.get("user", 0) + r.get("system", 0))' "$json")
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
