#!/usr/bin/env bash
# Install musicgen with its test tools and run the test suite (offscreen, no audio device needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
