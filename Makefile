# mlpipe: `make demo` runs the example pipeline, `make test` runs every test,
# `make bench` measures against the reference tools. Each target installs what it needs
# and is quick when everything is already there.

SHELL := /bin/bash
APT_PACKAGES := libgit2-dev libsqlite3-dev libssl-dev libhdf5-dev zlib1g-dev pkg-config git python3-venv \
  docker-registry skopeo umoci debootstrap apache2-utils wrk time chromium postgresql openssl curl sqlite3
VENV := workspace/venv
PY := $(VENV)/bin/python
RELEASE_BIN := .build/release/mlpipe
SWIFT_FLAGS ?=

.PHONY: all deps venv build release base-image demo test bench clean

all: build

# Debian packages: installed only when one is missing (`apt-get update` once, then install).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# Python packages for the example and the fixtures, in a venv under workspace/.
venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt | deps
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

build: deps
	swift build $(SWIFT_FLAGS)

# The Swift runtime and Foundation are linked statically: a process then starts without
# resolving tens of thousands of symbols across their shared libraries (a third of a
# no-op `mlpipe run`). --no-export-dynamic: the driver exports all 15,000 of mlpipe's
# own symbols, which nothing looks up; every symbol look-up of the loader starts in the
# executable's table, and the runtime's start-up dladdr walks it (half a million
# instructions of each process). The one symbol that must stay exported says so itself
# (CGitStartup in Package.swift).
release: deps
	swift build -c release --product mlpipe -Xswiftc -static-stdlib -Xlinker --no-export-dynamic $(SWIFT_FLAGS)

# The base image of served models: Debian bookworm (debootstrap minbase, python3,
# ca-certificates, user 65532) as an OCI layout, built once (about 3 minutes) and kept;
# `rm -rf workspace/base` builds it again. See templates/base/README.md.
BASE_LAYOUT := workspace/base/oci
base-image: $(BASE_LAYOUT)/index.json

$(BASE_LAYOUT)/index.json: | deps
	@SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; $$SUDO templates/base/build.sh $(BASE_LAYOUT) bookworm

# Runs pipelines/iris.yaml in this repository against a registry on 127.0.0.1, then again
# to show every stage cached (examples/iris/demo.sh).
demo: release venv base-image
	examples/iris/demo.sh $(RELEASE_BIN) $(VENV)

test: deps venv base-image
	swift build --build-tests $(SWIFT_FLAGS)
	MLPIPE_VENV="$(CURDIR)/$(VENV)" swift test --skip-build --parallel $(SWIFT_FLAGS)
	$(PY) -m pytest -q templates/serving/python/tests

bench: release venv
	bench/run.sh

clean:
	rm -rf .build

# Maintainer's check, run before a release (not part of `make test`, not run on CI): the
# custom resources in templates/kubernetes (kept identical to the renderer by a test)
# against the CRDs their projects publish, extracted at the pinned releases from local
# clones (git directories) given as variables, e.g.
#   make check-crds KNATIVE_SERVING=../serving GATEWAY_API=../gateway-api ISTIO=../istio \
#       PROMETHEUS_OPERATOR=../prometheus-operator
# See Tests/DeploymentTests/Fixtures/crds/README.md. The extracted CRDs are gitignored.
CRD_FIXTURES := Tests/DeploymentTests/Fixtures
CRD_MANIFESTS := templates/kubernetes/base/30-httproute.yaml templates/kubernetes/base/31-peerauthentication.yaml \
	templates/kubernetes/base/32-authorizationpolicy.yaml templates/kubernetes/base/40-servicemonitor.yaml \
	templates/kubernetes/knative/10-knative-service.yaml
.PHONY: check-crds
check-crds: venv
	@for v in KNATIVE_SERVING GATEWAY_API ISTIO PROMETHEUS_OPERATOR; do \
	    eval "d=\$$$$v"; [ -n "$$d" ] || { echo "check-crds: set $$v to a git clone of its project (see $(CRD_FIXTURES)/crds/README.md)" >&2; exit 2; }; done
	$(CRD_FIXTURES)/crds/extract.sh "$(KNATIVE_SERVING)" "$(GATEWAY_API)" "$(ISTIO)" "$(PROMETHEUS_OPERATOR)"
	$(PY) $(CRD_FIXTURES)/check_crd_manifests.py $(CRD_FIXTURES)/crds $(CRD_MANIFESTS)

# Maintainer's check, run before a release (not part of `make test`, not run on CI): the
# workflows `mlpipe export argo` renders from Tests/OrchestrationTests/Fixtures/example-pipeline.yaml
# against Argo Workflows' published JSON schema (api/jsonschema/schema.json) at ARGO_VERSION,
# downloaded from GitHub, or taken from a local clone given as ARGO_WORKFLOWS=DIR (a git
# directory); its SHA-256 is checked first. The schema is not kept in the repository.
ARGO_VERSION := v3.6.19
ARGO_SCHEMA_SHA256 := c4e8ed37c6c6bb85bca3b76cd623db33a7fb41b70e38407054f7701b656bab93
ARGO_FIXTURES := Tests/OrchestrationTests/Fixtures
.PHONY: check-argo
check-argo: venv build
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	if [ -n "$(ARGO_WORKFLOWS)" ]; then \
	  git -C "$(ARGO_WORKFLOWS)" show $(ARGO_VERSION):api/jsonschema/schema.json > "$$tmp/schema.json"; \
	else \
	  curl -fsSL -o "$$tmp/schema.json" https://raw.githubusercontent.com/argoproj/argo-workflows/$(ARGO_VERSION)/api/jsonschema/schema.json; \
	fi; \
	echo "$(ARGO_SCHEMA_SHA256)  $$tmp/schema.json" | sha256sum -c --quiet; \
	$(ARGO_FIXTURES)/render_example_workflows.sh .build/debug/mlpipe "$$tmp/out"; \
	$(PY) $(ARGO_FIXTURES)/check_argo_workflow.py "$$tmp/schema.json" "$$tmp"/out/*.yaml
