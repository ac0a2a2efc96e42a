#!/bin/sh
# Writes the five CRD files of this folder from local git clones of their repositories
# (see README.md), at the pinned releases, and checks them against SHA256SUMS.
# Usage: extract.sh KNATIVE_SERVING GATEWAY_API ISTIO PROMETHEUS_OPERATOR   (git directories)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 4 ] || { echo "usage: $0 KNATIVE_SERVING GATEWAY_API ISTIO PROMETHEUS_OPERATOR" >&2; exit 2; }
git -C "$1" show knative-v1.23.0:config/core/300-resources/service.yaml > "$here/serving.knative.dev_services.yaml"
git -C "$2" show v1.6.1:config/crd/standard/gateway.networking.k8s.io_httproutes.yaml \
    > "$here/gateway.networking.k8s.io_httproutes.yaml"
git -C "$4" show v0.93.0:example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml \
    > "$here/monitoring.coreos.com_servicemonitors.yaml"
all=$(mktemp)
trap 'rm -f "$all"' EXIT
git -C "$3" show 1.30.3:manifests/charts/base/files/crd-all.gen.yaml > "$all"
for crd in peerauthentications authorizationpolicies; do
    # The document whose metadata.name is CRD.security.istio.io, without its leading blank lines.
    awk -v want="  name: $crd.security.istio.io" '
        /^---[ \t]*$/ { if (found) { printf "%s", doc; printed = 1; exit } doc = ""; started = 0; next }
        { if (!started && $0 == "") next; started = 1; doc = doc $0 "\n"; if ($0 == want) found = 1 }
        END { if (found && !printed) printf "%s", doc }
    ' "$all" > "$here/security.istio.io_$crd.yaml"
done
cd "$here" && sha256sum -c SHA256SUMS
