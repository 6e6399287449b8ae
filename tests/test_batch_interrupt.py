"""An interrupted batch ends within seconds and leaves no process behind; a resumed one trusts no
damaged file and leaves no temp file."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from musicgen.cli.main import main

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find processes")
# Long pieces: a chunk of them takes much longer than the time allowed to stop.
LONG_BATCH = ("--count", 2000, "--bars", 128, "--workers", 2)
STOP_SECONDS = 15


def processes_in_session(session: int) -> list[int]:
    """Pids of the live (not zombie) processes whose session id is ``session``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == session:  # fields: state, ppid, pgrp, session
            found.append(int(entry.name))
    return found


def children_of(pid: int) -> list[int]:
    return [p for p in processes_in_session(pid) if p != pid]


def start_batch(model, folder: Path) -> subprocess.Popen:
    """``musicgen batch`` in a session of its own (so a terminal's Ctrl+C can be imitated), once
    its two workers are composing. Its stderr goes to ``folder/stderr.txt`` (a pipe would be held
    open by any worker that outlives it)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [
        sys.executable,
        "-m",
        "musicgen",
        "batch",
        "--model",
        str(model),
        "--out-dir",
        str(folder / "out"),
        *map(str, LONG_BATCH),
    ]
    with open(folder / "stderr.txt", "w") as stderr:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=stderr
        )
    deadline = time.monotonic() + 120
    while len(children_of(process.pid)) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(4)  # the workers load the model and start composing
    assert process.poll() is None, (folder / "stderr.txt").read_text()
    return process


def wait_until_session_ends(session: int, seconds: float) -> list[int]:
    """Pids still alive in ``session`` after up to ``seconds`` (empty once all have gone)."""
    deadline = time.monotonic() + seconds
    while processes_in_session(session) and time.monotonic() < deadline:
        time.sleep(0.2)
    return processes_in_session(session)


def kill_session(session: int) -> None:
    for pid in processes_in_session(session):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_two_ctrl_c_end_the_batch_within_seconds_and_no_process_is_left(tiny_model, tmp_path):
    process = start_batch(tiny_model, tmp_path)
    try:
        os.killpg(process.pid, signal.SIGINT)  # a terminal sends Ctrl+C to the whole process group
        time.sleep(0.3)
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=STOP_SECONDS)
        err = (tmp_path / "stderr.txt").read_text()
        assert process.returncode == 130, err
        assert "Traceback" not in err and "interrupted; finished work is kept" in err, err
        assert wait_until_session_ends(process.pid, 3) == []  # the workers, and the helper that tracks their locks
    finally:
        process.kill()
        kill_session(process.pid)


def test_kill_9_of_the_batch_leaves_no_worker(tiny_model, tmp_path):
    process = start_batch(tiny_model, tmp_path)
    try:
        assert len(children_of(process.pid)) >= 2
        process.kill()
        process.wait()
        assert wait_until_session_ends(process.pid, 5) == []  # workers and any helper process
    finally:
        kill_session(process.pid)


# --- resume: verify finished files, remove stray temp files -------------------------------------


def batch(capsys, model, out_dir, count=4):
    code = main(["batch", "--model", str(model), "--count", str(count), "--bars", "2", "--out-dir", str(out_dir)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_manifest_records_each_files_size_and_hash(tiny_model, tmp_path, capsys):
    out_dir = tmp_path / "out"
    batch(capsys, tiny_model, out_dir)
    entries = [json.loads(line) for line in (out_dir / "manifest.jsonl").read_text().splitlines()]
    assert len(entries) == 4
    for entry in entries:
        data = (out_dir / entry["file"]).read_bytes()
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("damage", ["cut", "same size"])
def test_resume_recomposes_a_damaged_file_and_removes_temp_files(tiny_model, tmp_path, capsys, damage):
    out_dir = tmp_path / "out"
    batch(capsys, tiny_model, out_dir)
    good = {p.name: p.read_bytes() for p in out_dir.glob("*.mid")}
    victim = out_dir / sorted(good)[1]
    data = good[victim.name]
    victim.write_bytes(data[: len(data) // 2] if damage == "cut" else data[:-1] + bytes([data[-1] ^ 0xFF]))
    stray = out_dir / f".{sorted(good)[2]}.abcd1234.tmp"  # as a kill -9 between write and rename leaves it
    stray.write_bytes(b"half a file")
    stdout = batch(capsys, tiny_model, out_dir)
    assert "3 already there" in stdout and "1 new" in stdout
    assert {p.name: p.read_bytes() for p in out_dir.glob("*.mid")} == good
    assert not stray.exists() and sorted(p.name for p in out_dir.iterdir()) == sorted([*good, "manifest.jsonl"])
    lines = (out_dir / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 4 and len({json.loads(line)["file"] for line in lines}) == 4
