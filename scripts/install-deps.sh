#!/bin/sh
# Installs what ephport needs to build and test on Debian 12, from Debian's
# own packages only. Run as root (or through sudo). Safe to run again.
# clang, bpftool and libbpf-dev build the BPF bind-state reader; Google
# Benchmark and net-tools (netstat) are for bench/. libpcap keeps the packet
# ring of evidence bundles; tcpdump reads those captures back in the tests.
# serve: cpp-httplib (built with OpenSSL), yaml-cpp (--web.config.file),
# libcrypt (bcrypt); its tests run a real Prometheus (prometheus, promtool)
# and make certificates with openssl. clang-format and clang-tidy run as
# the style tests. logrotate runs deploy/logrotate/ephport in a deploy test.
set -eu

packages="
  g++ cmake make pkg-config
  libcli11-dev libfmt-dev nlohmann-json3-dev libmnl-dev
  libgtest-dev libgmock-dev
  iproute2 procps
  systemd
  clang bpftool libbpf-dev
  clang-format clang-tidy
  libbenchmark-dev net-tools
  libpcap-dev tcpdump
  libcpp-httplib-dev libssl-dev libyaml-cpp-dev libcrypt-dev openssl
  prometheus
  logrotate
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
  # The prometheus package enables and starts its service on install; the
  # tests start their own server, so a policy-rc.d answering 101 ("action
  # forbidden") keeps invoke-rc.d from starting one, where no image already
  # has such a policy. Removed again on exit when it was ours.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    trap 'rm -f "$policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
  fi
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi
