#!/usr/bin/env bash
# Builds the DAQ firmware images (Uno, Mega), the host protocol tests and the simavr virtual-board harness
# into firmware/build/. Idempotent and incremental (make). Skips with a note when the AVR toolchain is absent.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v avr-gcc >/dev/null || ! pkg-config --exists simavr 2>/dev/null; then
  echo "spikeloop setup: avr-gcc or libsimavr-dev missing; DAQ firmware and virtual board not built" >&2
  exit 0
fi
make -s -C firmware all >/dev/null
