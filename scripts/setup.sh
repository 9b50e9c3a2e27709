#!/usr/bin/env bash
# Installs the Debian packages spikeloop needs (idempotent: skips what is present), then runs the
# project's own build hooks in scripts/setup.d/ (firmware image, ...). Called by `npm start` and `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Toolchains and reference tools: AVR firmware build + emulator, pseudo-terminal serial ports,
# the ngspice reference for the twin, Chromium for the dashboard tests, docker-compose to check the compose file,
# and the Python readers the export tests and docs/python.md run against (numpy, Neo, h5py).
packages=(gcc-avr avr-libc arduino-core-avr arduino-mk simavr libsimavr-dev libelf-dev pkg-config socat ngspice chromium docker-compose python3-pymeasure python3-pyvisa-py python3-numpy python3-neo python3-h5py redis-server)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "spikeloop setup: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "spikeloop setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for hook in scripts/setup.d/*.sh; do
  [ -e "$hook" ] || continue
  bash "$hook"
done
