#!/usr/bin/env bash
# Installs what building, testing and running this project needs (Debian 12).
set -euo pipefail
pkgs=(build-essential cmake pkg-config
      libgtest-dev libgmock-dev libbenchmark-dev
      libssl-dev libnss3-dev libnss3-tools
      zlib1g-dev liblz4-dev liblzo2-dev liblzma-dev libbz2-dev libzstd-dev
      libknet1 libknet-dev libknet-doc
      valgrind iproute2 procps clang libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
