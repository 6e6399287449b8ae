#!/usr/bin/env bash
# CI: install musicgen as a musician does (pipx / uv tool install both install the built wheel into a
# virtual environment of its own): build the wheel, install it into a fresh virtual environment with
# pip alone (no Debian step, no checkout on the path), then from another folder list the models,
# compose a jig with `musicgen generate`, open the app offscreen until the shipped model has loaded,
# start and stop `musicgen-gui` itself and add its menu entry, with $HOME a scratch folder (the
# platformdirs defaults).
# The wheel is built by pip with the .venv of scripts/setup.sh ($BUILD_PYTHON: any Python with pip);
# pip's cache (filled by setup.sh's install) spares the downloads. Prints its timings.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
BUILD_PYTHON="${BUILD_PYTHON:-.venv/bin/python}"
began=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/musicgen-wheel-check.XXXXXX")
# removing a venv with torch takes a minute on a slow disk: done in the background, not waited for
trap '(nohup rm -rf "$work" >/dev/null 2>&1 &)' EXIT

# built from a copy of what the wheel holds, so no stale build/ folder of the checkout slips in
mkdir "$work/src"
tar -cf - --exclude=__pycache__ --exclude=parts pyproject.toml README.md LICENSE musicgen gui models data/corpus |
  tar -xf - -C "$work/src"
"$BUILD_PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$work/dist" "$work/src"
wheel=$(ls "$work"/dist/musicgen-*.whl)
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile "$wheel"
echo "wheel check: built and installed $(basename "$wheel") in $((SECONDS - began)) s"

mkdir "$work/elsewhere"
cd "$work/elsewhere"
unset PYTHONPATH MUSICGEN_MODELS XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME
export HOME="$work/home"  # settings, takes and caches of this run: ~/.config/musicgen, ~/.local/share/musicgen…
mkdir "$HOME"
export QT_QPA_PLATFORM=offscreen
bin="$work/venv/bin"

models=$("$bin/musicgen" models)
grep -q "^musicgen-default .*$work/venv/.*/musicgen_models/musicgen-default.json" <<<"$models" || {
  echo "wheel check: musicgen models did not list the shipped model from the wheel:" >&2
  echo "$models" >&2
  exit 1
}
"$bin/musicgen" generate --genre jig --seed 1 -o jig.mid
test -s jig.mid
echo "wheel check: musicgen models and generate ran, $((SECONDS - began)) s so far"

# The window as `musicgen-gui` opens it, until the shipped model has loaded (or failed to), then quit as
# gui.app.main does (without waiting for a job that ignores Cancel, such as the first build of the critic).
timeout 180 "$bin/python" - <<'EOF'
import os, sys
from PySide6.QtCore import QTimer
from gui.app import create_application, open_settings
from gui.main_window import MainWindow

app = create_application(sys.argv[:1])
window = MainWindow(open_settings(), has_audio_device=False)
outcome = []
window.model_ready.connect(lambda: outcome.append("loaded") or window.close())
window.model_failed.connect(lambda why: outcome.append(f"failed: {why}") or window.close())
window.show()
QTimer.singleShot(0, window.start)
QTimer.singleShot(150_000, window.close)
app.exec()
window.close()
print("wheel check: the app's model", *outcome or ["did not load in time"], flush=True)
os._exit(0 if outcome == ["loaded"] else 1)
EOF

# The installed command itself: it must start, and quit cleanly (status 0, settings saved) on SIGTERM.
rm -f "$HOME/.config/musicgen/musicgen-gui.conf"
"$bin/musicgen-gui" &
app=$!
sleep 8
kill -TERM "$app" 2>/dev/null || true
status=0
wait "$app" || status=$?
if [ "$status" != 0 ]; then
  echo "wheel check: musicgen-gui exited with status $status" >&2
  exit 1
fi
test -f "$HOME/.config/musicgen/musicgen-gui.conf" || {
  echo "wheel check: musicgen-gui saved no settings in ~/.config/musicgen" >&2
  exit 1
}
"$bin/musicgen-gui" --install-desktop-entry >/dev/null
grep -qx "Exec=$bin/musicgen-gui" "$HOME/.local/share/applications/musicgen.desktop" || {
  echo "wheel check: the menu entry does not run $bin/musicgen-gui" >&2
  exit 1
}
echo "wheel check: passed in $((SECONDS - began)) s"
