#!/usr/bin/env bash
# Builds the reference CNI client `cnitool` (libcni) offline from Debian's own packages,
# and installs the reference plugins (/usr/lib/cni) that the conformance tests chain with.
# cnitool.go ships only in Debian's source package golang-github-appc-cni, so fetch that
# through a private deb-src list derived from the machine's apt sources (system apt config untouched).
set -euo pipefail
out=$(realpath -m "${1:-.tools}")
work=$(mktemp -d /tmp/tessera-cnitool.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"   # apt's _apt user writes here
export DEBIAN_FRONTEND=noninteractive

if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/github.com/containernetworking/cni ] || [ ! -x /usr/lib/cni/bridge ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends golang-go golang-github-appc-cni-dev containernetworking-plugins xz-utils >/dev/null
fi

mkdir -p "$work/sources" "$work/lists/partial" "$work/cache/archives/partial"
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$work/sources/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && sed -n 's/^deb \(.*\)/deb-src \1/p' "$f" >> "$work/sources/extra.list"
done
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/sources"
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
apt-get "${apt_opts[@]}" update -qq
(cd "$work" && apt-get "${apt_opts[@]}" source --download-only -qq golang-github-appc-cni >/dev/null 2>&1)
tar -C "$work" -xJf "$work"/golang-github-appc-cni_*.orig.tar.xz

mkdir -p "$out/bin"
src=$(echo "$work"/golang-github-appc-cni-*/)
(cd "$src" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= GOCACHE="$work/gocache" \
  go build -o "$out/bin/cnitool" ./cnitool)
echo "built $out/bin/cnitool"
