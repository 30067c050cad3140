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
export KUBECONFIG := $(shell $(LOCALKUBE) kubeconfig 2>/dev/null)
export K8S_AUTH_KUBECONFIG := $(KUBECONFIG)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv collection localkube-build localkube-up localkube-down localkube-status \
	demo demo-down test sanity lint unit integration bench build-tarball clean

help:
	@echo "make demo    install, start localkube and run playbooks/site.yml against it, then report"
	@echo "make test    every test tier: sanity, lint, unit, integration"
	@echo "make bench   side-by-side timings against a kubernetes.core baseline"
	@echo "make localkube-up | localkube-down | localkube-status"

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

collection: $(COLLECTION_LINK)
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

localkube-build:
	$(LOCALKUBE) build

localkube-up: localkube-build
	$(LOCALKUBE) up --fresh

localkube-down:
	$(LOCALKUBE) down

localkube-status:
	$(LOCALKUBE) status

demo: venv collection localkube-up
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

integration: venv collection localkube-up
	$(BIN)/pytest tests/integration

test: venv collection localkube-up sanity lint unit
	$(BIN)/pytest tests/integration

build-tarball: venv
	$(BIN)/ansible-galaxy collection build --force --output-path .build/dist

clean:
	rm -rf .build
