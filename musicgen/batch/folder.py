"""A batch's folder: its manifest, the shard record of a part made with ``--shard``, and their checks.

Nothing here follows a symlink: in a shared folder someone else may have planted one, to make a
batch append to or replace a file of their choosing (``files.refuse_link``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..files.writing import atomic_write_bytes, refuse_link

MANIFEST_NAME = "manifest.jsonl"
SHARD_NAME = "shard.json"  # in a folder made with --shard: which part, and how the whole batch was made


def manifest_lines(path: Path) -> list[str]:
    """The lines of a manifest file (none if it is absent); ValueError naming it if it is a link or not text."""
    refuse_link(path)
    if not path.is_file():
        return []
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a batch manifest (not UTF-8 text); use another --out-dir") from None


def read_manifest(out_dir) -> dict[str, dict]:
    """Entries of ``out_dir/manifest.jsonl`` by file name (unreadable lines, e.g. cut by a crash, are ignored)."""
    entries: dict[str, dict] = {}
    for line in manifest_lines(Path(out_dir) / MANIFEST_NAME):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            entries.setdefault(entry["file"], entry)
    return entries


def rewrite_manifest(out_dir: Path, entries: dict[str, dict]) -> None:
    """Write the manifest afresh, atomically, one line per entry (drops broken or duplicate lines)."""
    text = "".join(json.dumps(entry) + "\n" for entry in entries.values())
    write_manifest_text(out_dir, text)


def write_manifest_text(out_dir: Path, text: str) -> None:
    """Replace ``out_dir``'s manifest with ``text``, atomically (never through a link)."""
    atomic_write_bytes(
        out_dir / MANIFEST_NAME, lambda temp: Path(temp).write_text(text, encoding="utf-8"), follow_links=False
    )


def append_manifest(out_dir: Path, entry: dict) -> None:
    """Append one line and flush it to disk, so a crash loses at most the line being written."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)  # never through a link
    with open(os.open(out_dir / MANIFEST_NAME, flags, 0o666), "a", encoding="utf-8") as manifest:
        manifest.write(json.dumps(entry) + "\n")
        manifest.flush()
        os.fsync(manifest.fileno())


def file_is_intact(path: Path, entry: dict) -> bool:
    """True if the finished file ``path`` is the one its manifest ``entry`` recorded (size and
    SHA-256; a parse for lines written before they held a hash)."""
    if not path.is_file():
        return False
    if "sha256" in entry and "bytes" in entry:
        return (
            path.stat().st_size == entry["bytes"] and hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        )
    import mido

    try:
        mido.MidiFile(str(path))
    except Exception:  # mido raises many types for damaged files
        return False
    return True


def read_shard_record(folder) -> dict | None:
    """The ``shard.json`` of a folder made with ``--shard``, or None; ValueError if it is unreadable."""
    path = Path(folder) / SHARD_NAME
    refuse_link(path)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: damaged ({error})") from None
    if not isinstance(record, dict) or not isinstance(record.get("shard"), list):
        raise ValueError(f"{path}: not a musicgen shard record")
    return record


def record_difference(record: dict, other: dict) -> str | None:
    """How two shard records' batches differ ("bars 3, not 4"), or None when they are one batch."""
    for name in sorted(set(record) | set(other)):
        if name in ("shard", "files"):
            continue
        mine, theirs = record.get(name), other.get(name)
        if isinstance(mine, dict) and isinstance(theirs, dict):
            inner = record_difference(mine, theirs)
            if inner:
                return inner
        elif mine != theirs:
            return f"{name} {_shown(theirs)}, not {_shown(mine)}"
    return None


def _shown(value) -> str:
    """A setting as a message shows it: ``(default)``, ``100`` (not ``100.0``), ``'6/8'``."""
    if value is None:
        return "(default)"
    return f"{value:g}" if isinstance(value, float) else repr(value)


def claim_for_shard(out_dir: Path, record: dict | None) -> None:
    """Check the folder's shard record against this run's (None = a whole batch) and write it."""
    found = read_shard_record(out_dir)
    if found is None and record is None:
        return
    if record is None:
        part = "/".join(map(str, found["shard"]))
        raise ValueError(
            f"{out_dir} holds part {part} of a batch made with --shard; give the same --shard, "
            "or join the parts into a new folder with batch --merge"
        )
    if found is not None:
        if found["shard"] != record["shard"]:
            held, wanted = ("/".join(map(str, r["shard"])) for r in (found, record))
            raise ValueError(f"{out_dir} holds part {held} of a batch, not {wanted}; use another --out-dir")
        difference = record_difference(record, found)
        if difference:
            raise ValueError(
                f"{out_dir} holds a part made with {difference}; use another --out-dir or the same settings"
            )
    text = json.dumps(record, indent=1)
    atomic_write_bytes(out_dir / SHARD_NAME, lambda temp: Path(temp).write_text(text), follow_links=False)
