# Tessera. `make lab` sets everything up and starts the local lab cluster; `make test` runs every test.
SHELL := /bin/bash
NODE_ENV_CLEAN := env -u NODE_EXTRA_CA_CERTS
TSX := $(NODE_ENV_CLEAN) node_modules/.bin/tsx
MOCHA := $(NODE_ENV_CLEAN) node_modules/.bin/mocha

.PHONY: setup build typecheck test test-unit test-integration test-e2e lab lab-down lab-status bench clean install uninstall

setup:
	bash tools/setup.sh

build: setup
	$(TSX) tools/build.ts

typecheck: setup
	node_modules/.bin/tsc -p tsconfig.json

test-unit: setup
	$(MOCHA) 'test/unit/**/*.test.ts'

test-integration: build
	$(MOCHA) 'test/integration/**/*.test.ts'

test-e2e: build
	$(MOCHA) --timeout 300000 'test/e2e/**/*.test.ts'

test: typecheck test-unit test-integration test-e2e

# make lab CLUSTERS=2: two clusters interconnected by OVN-IC (lab/README.md). LAB_ARGS passes more options
# to lab/main.ts (e.g. LAB_ARGS="--no-policy --no-gateway --nodes 3").
CLUSTERS ?= 1
LAB_ARGS ?=

lab: build
	$(TSX) lab/main.ts up --clusters $(CLUSTERS) $(LAB_ARGS)

# Removes either kind of lab (one cluster or CLUSTERS=N).
lab-down:
	$(TSX) lab/main.ts down

lab-status:
	$(TSX) lab/main.ts status

# make install KUBECONFIG=~/.kube/config (README.md, "Install on a cluster"); INSTALL_ARGS passes more options to
# deploy/install.sh (e.g. INSTALL_ARGS="--ovs host").
INSTALL_ARGS ?=

install:
	KUBECONFIG=$(KUBECONFIG) sh deploy/install.sh install $(INSTALL_ARGS)

uninstall:
	KUBECONFIG=$(KUBECONFIG) sh deploy/install.sh uninstall $(INSTALL_ARGS)

bench: build
	$(TSX) bench/run.ts

clean:
	rm -rf dist
