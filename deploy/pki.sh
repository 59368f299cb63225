#!/bin/sh
# The OVSDB PKI with ovs-pki (Debian/Ubuntu: openvswitch-common), as install.sh uses it when the Secrets are missing:
#   deploy/pki.sh DIR
# makes (where missing) a CA in DIR/ca and a key + certificate per role, signed by it:
#   central  the NB/SB ovsdb-servers and ovn-northd      -> Secret tessera-ovsdb-central
#   watcher  tessera-watcher and its ovn-ic              -> Secret tessera-ovsdb-watcher
#   node     ovn-controller, tessera-agent and -gateway  -> Secret tessera-ovsdb-node
# Each Secret holds privkey.pem, cert.pem and cacert.pem (DIR/ca/switchca/cacert.pem). Keep DIR: it holds the CA key.
set -eu
dir=${1:?usage: pki.sh DIR}
command -v ovs-pki >/dev/null || { echo "pki.sh: ovs-pki not found (apt-get install openvswitch-common)" >&2; exit 1; }
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
pki() { ovs-pki --dir="$dir/ca" --log="$dir/ovs-pki.log" "$@"; }
[ -e ca/switchca/cacert.pem ] || pki --force init
for role in central watcher node; do
  [ -e "$role-privkey.pem" ] && [ -e "$role-cert.pem" ] && continue
  pki --force req+sign "$role" switch
  chmod 600 "$role-privkey.pem"
done
