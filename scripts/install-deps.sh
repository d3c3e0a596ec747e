#!/usr/bin/env bash
# Installs what Warden needs to build, test, bench and demo, from Debian bookworm's packages.
# Idempotent: asks apt only for what is missing, and runs `apt-get update` only then.
set -euo pipefail

pkgs=(
  # build
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev bpftool
  # libraries
  libssl-dev libfmt-dev nlohmann-json3-dev libyaml-cpp-dev libboost1.81-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev libpq-dev libseccomp-dev libbpf-dev libnftables-dev libmnl-dev libpcre2-dev
  libre2-dev libsimdjson-dev libzstd-dev zlib1g-dev liblzma-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # real programs the tests and benchmarks drive
  curl nginx-light nftables iproute2 dnsmasq-base bind9-dnsutils postgresql procps python3 squid tinyproxy wrk git
  # package installs through the proxy (issue 14): pip's client, a local apt repository
  python3-pip apt-utils
  # SIEM exports (issue 15): a real rsyslog receiving syslog over TCP, TLS (gtls) and UDP; openssl makes its test CA
  rsyslog rsyslog-gnutls openssl
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js for the WebSocket tests: any node >= 18 on PATH will do; otherwise Debian's.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
