#!/usr/bin/env bash
# Install musicgen (first run only takes a while) and start the desktop app on the shipped model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/musicgen-gui "$@"
