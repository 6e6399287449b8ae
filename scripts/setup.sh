#!/usr/bin/env bash
# Install what musicgen needs: Debian libraries (when run as root) and a .venv with the package.
# Usage: scripts/setup.sh [extras]   e.g. scripts/setup.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-}"
DEBIAN_PACKAGES=(python3-venv libpulse0 libfluidsynth3 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0
  libfontconfig1 libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-render-util0 libxcb-image0 libxcb-randr0 libxcb-xinerama0
  abcmidi)  # abcmidi: abc2midi, which the tests use to play back ABC scores

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "Installing Debian packages: ${missing[*]}"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "Please install these Debian packages (as root): ${missing[*]}" >&2
      if command -v sudo >/dev/null 2>&1; then sudo apt-get install -y "${missing[@]}"; fi
    fi
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
spec="."
if [ -n "$EXTRAS" ]; then spec=".[${EXTRAS}]"; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
