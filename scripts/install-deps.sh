#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Install every build and test dependency of limpet from Debian's packages.
set -euo pipefail

PKGS=(
	# build
	make gcc clang llvm pkg-config bpftool libbpf-dev libxdp-dev xdp-tools
	libelf-dev zlib1g-dev libyaml-dev libjansson-dev linux-libc-dev
	libcurl4-openssl-dev libmicrohttpd-dev
	# tests
	libcriterion-dev libfuzzer-14-dev iproute2 ethtool nginx curl wrk haproxy hping3
	tcpdump nftables procps psmisc python3 python3-scapy tmux bird2
	# bench (tests/bench/tg.sh: trafgen)
	netsniff-ng
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
