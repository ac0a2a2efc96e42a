#!/usr/bin/env bash
# `make demo`: starts Debian's docker-registry on 127.0.0.1 (its storage under
# workspace/demo-registry, so that pushed images survive between demos), runs
# pipelines/iris.yaml twice (the second time every stage is cached but deploy and
# smoke-test, which find the version already serving and test it again), prints the
# history, the image reference by digest and the registered version, and stops the
# registry. It ends with the deployed service's endpoint, a V2 prediction made there, and
# the command that stops the service, which it leaves running.
#
#   examples/iris/demo.sh MLPIPE_BINARY VENV
set -euo pipefail
ML=$1
VENV=$2
ROOT=$(pwd)
STATE="$ROOT/workspace/demo-registry"
mkdir -p "$STATE/storage"
export PATH="$ROOT/$VENV/bin:$PATH"

# The same port as last time when it is free, so that the pushed image and its cache
# entries stay valid; another free port otherwise.
port=$(cat "$STATE/port" 2>/dev/null || true)
if [ -z "$port" ] || ! python3 -c 'import socket, sys; socket.create_server(("127.0.0.1", int(sys.argv[1]))).close()' "$port" 2>/dev/null; then
    port=$(python3 -c 'import socket; s = socket.create_server(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "$port" >"$STATE/port"
fi
cat >"$STATE/config.yml" <<YAML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: "$STATE/storage" } }
http: { addr: "127.0.0.1:$port" }
YAML
docker-registry serve "$STATE/config.yml" >"$STATE/registry.log" 2>&1 &
registry_pid=$!
trap 'kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null || true' EXIT
python3 - "$port" <<'PY'
import sys, time, urllib.request
deadline = time.time() + 20
while True:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=1)
        break
    except Exception as error:
        if time.time() > deadline:
            sys.exit(f"demo: docker-registry did not answer on 127.0.0.1:{sys.argv[1]} ({error}); see workspace/demo-registry/registry.log")
        time.sleep(0.1)
PY

registry="127.0.0.1:$port"
echo "== mlpipe run pipelines/iris.yaml --param registry=$registry"
"$ML" run pipelines/iris.yaml --param "registry=$registry"
echo "== again: nothing changed, so every stage is cached"
"$ML" run pipelines/iris.yaml --param "registry=$registry"
echo "== mlpipe runs --limit 5"
"$ML" runs --limit 5
echo "== the registered model: mlpipe models show iris@staging"
"$ML" models show iris@staging
echo "== the deployed service: mlpipe deployments list iris"
"$ML" deployments list iris
endpoint=$("$ML" deployments list iris --json | python3 -c '
import json, sys
serving = [d for d in json.load(sys.stdin) if d["state"] == "serving"]
print(serving[-1]["endpoint"] if serving else "")')
if [ -z "$endpoint" ]; then
    echo "demo: no iris deployment is serving; see \`$ML deployments list\` and \`$ML logs latest smoke-test\`" >&2
    exit 1
fi
echo "== lineage, from the commit to the running service: mlpipe models lineage iris@production"
"$ML" models lineage iris@production
echo "== a prediction over the Open Inference Protocol V2: POST $endpoint/v2/models/iris/infer"
python3 - "$endpoint" <<'PY'
import json, sys, urllib.request
body = {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [6.7, 3.0, 5.2, 2.3]}]}
print("request: ", json.dumps(body))
request = urllib.request.Request(sys.argv[1] + "/v2/models/iris/infer", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
print("response:", urllib.request.urlopen(request, timeout=10).read().decode())
PY
echo
echo "The iris model serves at $endpoint (left running)."
echo "Stop it with: $ML deployments stop iris"
