#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks (run as root, or with sudo available), then the npm packages
# and the native addons (the MPI one for `mpirun` training needs Open MPI: openmpi-bin, libopenmpi-dev).
# Idempotent: re-running skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(libopenblas-dev libopenblas-openmp-dev libdnnl-dev sentencepiece dataset-fashion-mnist python3-torch chromium openmpi-bin libopenmpi-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: npm ci (the optional @tensorflow/tfjs-node{,-gpu} need to download libtensorflow; offline their install fails and npm skips them)"
npm ci --no-audit --no-fund
npm run build
