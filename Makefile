# stateful.datastores: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLLECTIONS := .build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/stateful/datastores
SANITY_ROOT := .build/sanity/ansible_collections/stateful/datastores
LOCALKUBE := tools/localkube/localkube
# `make demo` deploys to the default localkube cluster; the test tiers and the benchmarks run on a
# cluster of their own (LOCALKUBE_PROFILE=test, every port + 10000), so they never touch the demo.
DEMO_KUBECONFIG := $(shell $(LOCALKUBE) kubeconfig 2>/dev/null)
TEST_KUBECONFIG := $(shell LOCALKUBE_PROFILE=test $(LOCALKUBE) kubeconfig 2>/dev/null)
export KUBECONFIG := $(DEMO_KUBECONFIG)
export K8S_AUTH_KUBECONFIG := $(DEMO_KUBECONFIG)
test integration molecule realnodes bench: export LOCALKUBE_PROFILE := test
test integration molecule realnodes bench: export KUBECONFIG := $(TEST_KUBECONFIG)
test integration molecule realnodes bench: export K8S_AUTH_KUBECONFIG := $(TEST_KUBECONFIG)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv deps collection servers localkube-build localkube-up test-cluster-up localkube-down localkube-status \
	demo demo-real demo-simulated demo-down test sanity lint unit molecule integration realnodes bench \
	build-tarball clean

help:
	@echo "make demo    install, start localkube and run playbooks/site.yml against it, then report"
	@echo "make test    every test tier: sanity, lint, unit, molecule, integration, real nodes"
	@echo "make bench   side-by-side timings against a kubernetes.core baseline"
	@echo "make localkube-up | localkube-down | localkube-status"

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

# Debian packages from bindep.txt (real nodes, images), installed when missing and run as root.
deps:
	$(PYTHON) tools/install_deps.py

collection: $(COLLECTION_LINK)
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

# The node binaries (kubelet, kube-proxy, CoreDNS) are built only where real nodes can run.
localkube-build: deps
	if $(LOCALKUBE) can-run-real > /dev/null; then $(LOCALKUBE) build --nodes real; else $(LOCALKUBE) build; fi

# The servers no registry serves, built from ../shared/vendor into ~/.cache (skipped when cached): AntidoteDB
# 0.2.2, the Atomix controllers and Raft node of both generations, loklak_server.
servers: venv deps
	$(BIN)/python -m tests.servers.antidote.release
	$(BIN)/python -m tests.servers.atomix.build
	$(BIN)/python -m tests.servers.loklak.build

localkube-up: localkube-build
	$(LOCALKUBE) up --fresh --nodes kwok

test-cluster-up: localkube-build
	LOCALKUBE_PROFILE=test $(LOCALKUBE) up --fresh --nodes kwok

localkube-down:
	$(LOCALKUBE) down

localkube-status:
	$(LOCALKUBE) status

# Real nodes where the machine allows it (root, network namespaces), simulated nodes otherwise.
demo: venv collection servers localkube-build
	@if $(LOCALKUBE) can-run-real; then $(MAKE) --no-print-directory demo-real; else \
		echo "make demo: real nodes are not available on this machine (see above): SIMULATED nodes (KWOK) instead"; \
		$(MAKE) --no-print-directory demo-simulated; fi

# The images of the systems inventories/local_real deploys, built here (tools/images).
DEMO_IMAGES = antidote elasticsearch2 loklak hazelcast atomix_controller atomix_controller_init \
	atomix_raft_controller atomix_raft_node

demo-real: venv collection localkube-build
	$(LOCALKUBE) up --fresh --nodes real
	$(LOCALKUBE) load $$($(BIN)/python -m tools.images build $(DEMO_IMAGES) | grep '\.tar$$')
	$(BIN)/ansible-playbook -i inventories/local_real playbooks/site.yml

demo-simulated: venv collection localkube-build
	$(LOCALKUBE) up --fresh --nodes kwok
	$(BIN)/python -m tests.backends start --inventory inventories/local
	$(BIN)/ansible-playbook -i inventories/local playbooks/site.yml
	@echo "The admin ports stay answered for playbooks/verify.yml; 'make demo-down' stops them and localkube."

demo-down:
	$(BIN)/python -m tests.backends stop --inventory inventories/local
	$(LOCALKUBE) down

sanity: venv
	$(BIN)/python tools/ansible_test_offline.py install-get-pip
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	git ls-files -co --exclude-standard -z -- . ':!tools' | tar --null -T - -cf - | tar -xf - -C $(SANITY_ROOT)
	cd $(SANITY_ROOT) && git init -q . && git add -A && \
		$(CURDIR)/$(BIN)/ansible-test sanity --python 3.11 --color no --local

lint: venv collection
	$(BIN)/ansible-lint --profile production --offline

unit: venv collection
	$(BIN)/pytest -n 2 tests/unit

integration: venv collection test-cluster-up
	$(BIN)/pytest tests/integration

# A molecule scenario per role (extensions/molecule/): converge, idempotence and verify on localkube.
# The roles find the cluster through K8S_AUTH_KUBECONFIG, as under AWX; nothing comes from Galaxy.
# Two `molecule test` runs side by side, each with molecule's own sequence and destroy on failure:
# MOLECULE_LANE holds the scenarios of the first, every other scenario runs in the second. Their
# output is printed when both are done (.build/molecule/lane-*.log). extensions/molecule/ is where
# molecule looks in a collection (galaxy.yml); its `default` scenario runs nothing (the scenarios share
# no state) and is there because molecule looks it up on every run.
MOLECULE_LANE := elasticsearch hazelcast minikube storage_class
molecule: venv collection test-cluster-up
	@mkdir -p .build/molecule
	@echo "molecule: [$(MOLECULE_LANE)] and [every other scenario] side by side ..."
	@export K8S_AUTH_KUBECONFIG="$$($(LOCALKUBE) kubeconfig)"; status=0; \
	$(BIN)/molecule test $(addprefix -s ,$(MOLECULE_LANE)) > .build/molecule/lane-1.log 2>&1 & lane1=$$!; \
	$(BIN)/molecule test --all $(addprefix -e ,$(MOLECULE_LANE) default) > .build/molecule/lane-2.log 2>&1 & lane2=$$!; \
	wait $$lane1 || status=1; wait $$lane2 || status=1; \
	cat .build/molecule/lane-1.log .build/molecule/lane-2.log; exit $$status

# The real-node tier replaces the test profile's simulated nodes with real ones (tests/realnodes/conftest.py)
# and ends with a crash and a `down` that must leave nothing behind.
realnodes: venv collection localkube-build
	$(BIN)/pytest tests/realnodes

test: venv collection servers test-cluster-up sanity lint unit molecule
	rm -f .build/reliability.json
	$(BIN)/pytest tests/integration
	$(BIN)/pytest tests/realnodes
	LOCALKUBE_PROFILE=test $(LOCALKUBE) down
	$(BIN)/python -m benchmarks.reliability

bench: venv collection test-cluster-up
	$(BIN)/python -m benchmarks.run

build-tarball: venv
	$(BIN)/ansible-galaxy collection build --force --output-path .build/dist

clean:
	rm -rf .build
