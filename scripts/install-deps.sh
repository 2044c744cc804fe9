#!/usr/bin/env bash
# Installs the Debian 12 packages Clockwork-in-C needs (idempotent; skips apt when all are present).
# The CUDA backend also needs the CUDA 13 toolkit with cuDNN 9 and cuBLAS (not Debian packages; by
# default looked for in /usr/local/cuda); without it the build leaves that backend out.
set -euo pipefail
# libh2o-dev (H2O on libuv; its headers include OpenSSL's, hence libssl-dev) and libjansson-dev: the
# controller's HTTP front end; curl and wrk: its tests and bench/http_load.sh.
# openssh-server: tests/integration/fig7_ssh_cluster.sh runs its own sshd per network namespace. Where
# services start on install (systemd, no policy-rc.d), Debian also enables the machine's own sshd;
# `systemctl disable --now ssh` turns that off again without affecting the test.
PKGS=(cmake make gcc clang clang-format pkg-config libuv1-dev libprotobuf-c-dev protobuf-c-compiler libconfig-dev
      liblz4-dev libssl-dev libcmocka-dev libclang-rt-14-dev python3 python3-matplotlib iproute2 procps
      openssh-client openssh-server
      libdnnl-dev libonnx-dev python3-onnx libonnx-testdata
      libh2o-dev libssl-dev libjansson-dev curl wrk)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
