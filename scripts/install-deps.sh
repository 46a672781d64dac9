#!/usr/bin/env bash
# Installs the Debian 12 packages imsflow needs to build, test, benchmark and fuzz.
# Only what is missing is installed, so a second run costs one dpkg query.
set -euo pipefail

packages=(
  # build
  cmake make g++ pkg-config
  # libraries the product links
  libcli11-dev libfmt-dev nlohmann-json3-dev libpcap-dev libssl-dev
  # tcmalloc (libtcmalloc_minimal), the imsflow binary's allocator
  libgoogle-perftools-dev
  # tests, benchmarks, fuzzing (clang-14 + libFuzzer runtime)
  libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev
  # peer parsers, linked by the benchmark only
  libosip2-dev libsofia-sip-ua-dev
  # interop and decoding cross-checks: SIPp scenarios on 127.0.0.1, tshark
  sip-tester tshark
  # a real proxy between imsflow nodes (interop) and the proxy benchmark's peer
  kamailio
  # the analyzer's throughput comparison (BENCHMARKS.md): sngrep -I FILE -N
  sngrep
  # the analyzer's HTML page opened headless (tests/report/analysis_report_test.cpp)
  chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: must run as root to install packages (missing: ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
