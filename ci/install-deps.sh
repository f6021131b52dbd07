#!/usr/bin/env bash
# Installs the Debian packages optref needs, only those missing. Idempotent and
# quick when everything is present (one dpkg-query). Needs root (or sudo) only
# when something is missing.
set -euo pipefail

packages=(
    build-essential pkg-config clang
    libmpfr-dev libgmp-dev          # the exact reference
    libfftw3-dev liblapacke-dev libopenblas-dev   # the fast CPU backend
    check libsubunit-dev            # unit tests
    libjson-c-dev                   # JSON reading and writing
    nettle-dev                      # SHA-256
    gnuplot-nox                     # plots of the experiments
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
    sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
