#!/usr/bin/env bash
# Installs every system package armkit's test suite runs for real (rpmbuild, the cross compilers and their static C
# libraries, Debian's amd64 kernel headers, kmod, QEMU and its firmware, patch, file, ...). The list is not here:
# it is armkit's own requirement table (src/prereqs.ts), installed by "armkit doctor --fix" for every architecture
# and every command, plus what the tests run themselves. Run as root, after "npm ci", on Debian/Ubuntu or Fedora.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "test/setup-host.sh installs system packages: run it as root." >&2
  exit 4
fi
if [ ! -f dist/armkit.cjs ]; then
  echo "test/setup-host.sh runs armkit's doctor: run \"npm ci\" first." >&2
  exit 4
fi
exec node bin/armkit.js doctor --arch all --for all,suite --fix
