#!/bin/sh
# Renders example-pipeline.yaml as an Argo Workflow and a WorkflowTemplate with
# `mlpipe export argo`, into OUT_DIR: what `make check-argo` validates against Argo's
# published schema. Usage: render_example_workflows.sh MLPIPE OUT_DIR
set -eu
mlpipe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$(mkdir -p "$2" && cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(mktemp -d)
trap 'rm -rf "$repo"' EXIT
cd "$repo"
git init -q -b main
mkdir pipelines
cp "$here/example-pipeline.yaml" pipelines/sweep.yaml
echo "a,b" > data.csv
git add -A
git -c user.name=mlpipe -c user.email=mlpipe@example.com commit -q -m example
"$mlpipe" export argo sweep --repo https://git.example.com/team/sweep.git --store postgresql://mlpipe@db.example.com/mlpipe \
    --namespace ml --service-account mlpipe-runner -o "$out/workflow.yaml"
"$mlpipe" export argo sweep --repo https://git.example.com/team/sweep.git --template --git-credentials git-creds \
    -o "$out/workflow-template.yaml"
