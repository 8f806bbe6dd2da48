#!/usr/bin/env bash
# Installs the system tools armkit's test suite runs for real: rpmbuild, the ARM cross compilers, Debian's amd64
# kernel headers, kmod, file, cpio, the static cross C libraries and QEMU for the guest tests. Run as root on Debian/Ubuntu (apt-get) or Fedora (dnf).
set -euo pipefail

debian_packages=(
  rpm rpm2cpio cpio make gcc libc6-dev file kmod tar gzip ca-certificates dpkg apt
  gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu
  gcc-arm-linux-gnueabihf binutils-arm-linux-gnueabihf
  gcc-arm-linux-gnueabi binutils-arm-linux-gnueabi
  linux-headers-amd64
  libc6-dev-arm64-cross libc6-dev-armhf-cross libc6-dev-armel-cross
  qemu-system-arm qemu-system-x86
)
fedora_packages=(
  rpm-build rpm cpio make gcc file kmod tar gzip ca-certificates
  gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu gcc-arm-linux-gnu binutils-arm-linux-gnu
  kernel-devel
  qemu-system-aarch64 qemu-system-arm qemu-system-x86
)

if [ "$(id -u)" -ne 0 ]; then
  echo "test/setup-host.sh installs system packages: run it as root." >&2
  exit 4
fi
if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-host: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
elif command -v dnf >/dev/null 2>&1; then
  dnf install -y "${fedora_packages[@]}" >&2
else
  echo "test/setup-host.sh knows apt-get and dnf; install the packages it lists by hand." >&2
  exit 4
fi
