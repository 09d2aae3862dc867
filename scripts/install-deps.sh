#!/bin/sh
# Installs what ephport needs to build and test on Debian 12, from Debian's
# own packages only. Run as root (or through sudo). Safe to run again.
# clang, bpftool and libbpf-dev build the BPF bind-state reader; Google
# Benchmark and net-tools (netstat) are for bench/. libpcap keeps the packet
# ring of evidence bundles; tcpdump reads those captures back in the tests.
set -eu

packages="
  g++ cmake make pkg-config
  libcli11-dev libfmt-dev nlohmann-json3-dev libmnl-dev
  libgtest-dev libgmock-dev
  iproute2 procps
  systemd
  clang bpftool libbpf-dev
  libbenchmark-dev net-tools
  libpcap-dev tcpdump
  prometheus
"

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: needs root to install packages (try: sudo $0)" >&2
  exit 1
fi

missing=""
for package in $packages; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $package"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi
