"""A batch's folder is its own (issue 28): no writing or reading through a planted link, one batch
at a time, no more workers than CPUs, a binary manifest named; and one batch spread over machines
with ``--shard I/N`` and joined with ``--merge``, byte for byte the batch of one run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import run

# What differs between two runs of the same piece: the wall-clock time it took.
TIMING_FIELDS = ("seconds_taken", "events_per_second")
SMALL_BATCH = ("--bars", 2, "--max-events", 200)


@pytest.fixture(autouse=True)
def isolated_model_search(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv("MUSICGEN_MODELS", raising=False)


def batch(model, out_dir: Path, count: int, *flags) -> tuple[int, str, str]:
    return run("batch", "--model", model, "--count", count, "--out-dir", out_dir, *SMALL_BATCH, *flags)


def one_line_error(code: int, err: str) -> bool:
    return code == 2 and err.count("\n") == 1 and err.startswith("musicgen: error: ") and "Traceback" not in err


def manifest(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def without_timing(entry: dict) -> dict:
    return {name: value for name, value in entry.items() if name not in TIMING_FIELDS}


def pieces(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.mid"))}


# --- links, lock, workers --------------------------------------------------------------------------


@pytest.mark.parametrize("link", ["manifest.jsonl", "rise-seed0.mid", "fall-seed1.mid"])
def test_batch_writes_nothing_through_a_planted_link(tiny_model, tmp_path, link):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / link).symlink_to(notes)
    code, _, err = batch(tiny_model, out, 2)
    assert one_line_error(code, err), err
    assert f"{out / link} is a symbolic link" in err
    assert notes.read_text() == "my notes\n"
    assert sorted(p.name for p in out.iterdir()) == [link]


def test_a_second_batch_into_a_locked_folder_names_the_first_pid(tiny_model, tmp_path):
    from musicgen.files.writing import FolderLock

    out = tmp_path / "out"
    out.mkdir()
    first = FolderLock(out)
    try:
        code, _, err = batch(tiny_model, out, 2)
    finally:
        first.release()
    assert one_line_error(code, err), err
    assert f"in use by another musicgen batch (PID {os.getpid()})" in err
    assert list(out.iterdir()) == []
    code, _, err = batch(tiny_model, out, 2)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["fall-seed1.mid", "manifest.jsonl", "rise-seed0.mid"]


def test_a_stale_lock_of_a_dead_process_is_taken_over(tiny_model, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    (out / ".musicgen.lock").write_text(f"{dead.pid}\n")
    code, stdout, err = batch(tiny_model, out, 2)
    assert code == 0, err
    assert "2 pieces (2 new" in stdout and not (out / ".musicgen.lock").exists()


def test_workers_are_capped_at_the_cpu_count_with_a_note(tiny_model, tmp_path, monkeypatch):
    import musicgen.cli.batch

    monkeypatch.setattr(musicgen.cli.batch, "available_cpus", lambda: 1)
    code, stdout, err = batch(tiny_model, tmp_path / "out", 2, "--workers", 64)
    assert code == 0, err
    assert "note: --workers 64 is more than the 1 CPU here; using 1\n" in err
    assert "2 pieces (2 new" in stdout


def test_a_binary_manifest_is_named(tiny_model, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.jsonl").write_bytes(bytes(range(256)))
    code, _, err = batch(tiny_model, out, 2)
    assert one_line_error(code, err), err
    assert f"{out / 'manifest.jsonl'}: not a batch manifest" in err


# --- shards and merge ------------------------------------------------------------------------------

COUNT, PARTS = 7, 3  # parts of 3, 2 and 2 pieces


def test_the_union_of_the_shards_is_byte_identical_to_the_whole_batch(tiny_model, tmp_path):
    code, _, err = batch(tiny_model, tmp_path / "whole", COUNT, "--seed-base", 10)
    assert code == 0, err
    parts = [tmp_path / f"part{i}" for i in range(1, PARTS + 1)]
    for number, folder in enumerate(parts, 1):
        code, stdout, err = batch(tiny_model, folder, COUNT, "--seed-base", 10, "--shard", f"{number}/{PARTS}")
        assert code == 0, err
        assert f"pieces (part {number}/{PARTS} of {COUNT})" in stdout
    sizes = [len(pieces(folder)) for folder in parts]
    assert sizes == [3, 2, 2]
    names = [set(pieces(folder)) for folder in parts]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])  # disjoint
    code, stdout, err = run("batch", "--merge", *parts, "--out-dir", tmp_path / "joined")
    assert code == 0, err
    assert f"{COUNT} pieces joined from {PARTS} parts" in stdout
    whole, joined = tmp_path / "whole", tmp_path / "joined"
    assert pieces(joined) == pieces(whole)  # every file, byte for byte
    assert sorted(p.name for p in joined.iterdir()) == sorted(p.name for p in whole.iterdir())
    assert [without_timing(e) for e in manifest(joined)] == [without_timing(e) for e in manifest(whole)]
    code, stdout, err = batch(tiny_model, joined, COUNT, "--seed-base", 10)  # the whole batch: nothing left to do
    assert code == 0 and f"{COUNT} pieces (0 new, {COUNT} already there)" in stdout, err


def test_merge_refuses_parts_of_other_settings_missing_parts_and_unfinished_ones(tiny_model, tmp_path):
    def part(folder: str, shard: str, *flags) -> Path:
        code, _, err = batch(tiny_model, tmp_path / folder, 4, "--shard", shard, *flags)
        assert code == 0, err
        return tmp_path / folder

    first, second, other = part("a", "1/2"), part("b", "2/2"), part("c", "2/2", "--tempo", 100)
    cases = [
        ((first, other), "was made with tempo 100, not (default)"),
        ((first,), "part 2/2 is missing"),
        ((first, first), "are both part 1/2"),
        ((first, tmp_path / "nowhere"), "no such folder"),
    ]
    for folders, message in cases:
        code, _, err = run("batch", "--merge", *folders, "--out-dir", tmp_path / "joined")
        assert one_line_error(code, err) and message in err, err
        assert not (tmp_path / "joined").exists() or list((tmp_path / "joined").iterdir()) == []
    (second / "fall-seed1.mid").write_bytes(b"damaged")
    code, _, err = run("batch", "--merge", first, second, "--out-dir", tmp_path / "joined")
    assert one_line_error(code, err) and "fall-seed1.mid is missing or damaged; rerun part 2/2" in err, err
    code, _, err = batch(tiny_model, second, 4, "--shard", "2/2")  # the rerun repairs it
    assert code == 0, err
    code, _, err = run("batch", "--merge", first, second, "--out-dir", first)
    assert one_line_error(code, err) and "already holds a batch" in err, err


def test_a_shard_folder_is_refused_for_another_part_or_the_whole_batch(tiny_model, tmp_path):
    folder = tmp_path / "part"
    code, _, err = batch(tiny_model, folder, 4, "--shard", "1/2")
    assert code == 0, err
    for flags, message in (
        (("--shard", "2/2"), "holds part 1/2 of a batch, not 2/2"),
        ((), "holds part 1/2 of a batch made with --shard"),
        (("--shard", "1/2", "--tempo", 100), "holds a part made with tempo (default), not 100"),
    ):
        code, _, err = batch(tiny_model, folder, 4, *flags)
        assert one_line_error(code, err) and message in err, err


@pytest.mark.parametrize(
    "shard, message",
    [("0/2", "from 1 to N"), ("3/2", "from 1 to N"), ("1/9", "at most 4 parts"), ("half", "must be I/N")],
)
def test_a_bad_shard_is_one_line(tiny_model, tmp_path, shard, message):
    code, _, err = batch(tiny_model, tmp_path / "out", 4, "--shard", shard)
    assert one_line_error(code, err) and message in err, err
    assert not (tmp_path / "out").exists()
