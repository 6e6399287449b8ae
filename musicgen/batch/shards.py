"""One batch over many machines: ``--shard I/N`` makes the I-th of N disjoint parts, ``--merge``
joins the parts' folders into one.

The seeds decide which part a piece belongs to: piece i of the whole batch (seed ``seed_base + i``)
is in part ``i % N + 1``, so the parts are disjoint, cover the batch, differ in size by at most one
piece, and any job-array scheduler can hand each task its number. A piece does not depend on which
other pieces were sampled beside it, so the joined folder holds the same files, byte for byte, as one
run of the whole batch. Each part's folder keeps a ``shard.json``: which part it is, and how the
whole batch was made (model, settings, the plan of genres and seeds), so parts made with other
settings are refused when joined.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from ..files.writing import FolderLock, atomic_write_bytes, refuse_link
from ..progress import Progress
from ..sampling.request import piece_file_name
from .folder import (
    MANIFEST_NAME,
    SHARD_NAME,
    file_is_intact,
    read_manifest,
    read_shard_record,
    record_difference,
    write_manifest_text,
)

SHARD_FORMAT = "musicgen-batch-shard"
MERGE_STEP = 100  # pieces copied between two progress steps


def parse_shard(text: str, count: int) -> tuple[int, int]:
    """``"2/8"`` -> ``(2, 8)``, the second of 8 parts; ValueError unless 1 <= I <= N <= count."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not match:
        raise ValueError(f"--shard must be I/N such as 2/8 (the I-th of N parts), got {text!r}")
    index, parts = int(match[1]), int(match[2])
    if not 1 <= index <= parts:
        raise ValueError(f"--shard {text}: the part I must be from 1 to N")
    if parts > count:
        raise ValueError(f"--shard {text}: a batch of {count} pieces has at most {count} parts")
    return index, parts


def shard_requests(requests: list, shard: tuple[int, int]) -> list:
    """The requests of part ``shard = (I, N)``: piece i (0-based, in the batch's order) is in part ``i % N + 1``."""
    index, parts = shard
    return requests[index - 1 :: parts]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def shard_record(loaded, requests: list, shard: tuple[int, int], **options) -> dict:
    """What ``shard.json`` holds for part ``shard`` of the batch ``requests`` (the whole plan) made
    with ``loaded`` and the batch ``options`` (best_of, max_copied, precision): every part of one
    batch has the same record but for ``shard`` and ``files``."""
    from ..model.model_files import model_file

    settings = {name: value for name, value in asdict(requests[0]).items() if name not in ("genre", "seed")}
    plan = json.dumps([[request.genre, request.seed] for request in requests]).encode()
    return {
        "format": SHARD_FORMAT,
        "shard": list(shard),
        "model": loaded.name,
        "model_sha256": _sha256(model_file(loaded.path, ".safetensors").read_bytes()),
        "pieces": len(requests),
        "genres": list(dict.fromkeys(request.genre for request in requests)),
        "first_seed": requests[0].seed,
        "settings": settings,
        "options": dict(options),
        "plan_sha256": _sha256(plan),
        "files": [piece_file_name(r.genre, r.seed) for r in shard_requests(requests, shard)],
    }


def _read_parts(folders: list) -> dict[int, tuple[Path, dict]]:
    """``{I: (folder, shard record)}`` of every part; ValueError unless the folders are the N parts
    of one batch, each once, made with the same settings."""
    parts: dict[int, tuple[Path, dict]] = {}
    first: tuple[Path, dict] | None = None
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise ValueError(f"{folder}: no such folder")
        record = read_shard_record(folder)
        if record is None or record.get("format") != SHARD_FORMAT:
            raise ValueError(f"{folder}: not a part made with batch --shard (it has no {SHARD_NAME})")
        index, count = record["shard"]
        if first is not None:
            difference = record_difference(first[1], record)
            if difference is None and count != first[1]["shard"][1]:
                difference = f"{count} parts, not {first[1]['shard'][1]}"
            if difference:
                raise ValueError(f"{folder} was made with {difference} (as in {first[0]}); parts must be of one batch")
        first = first or (folder, record)
        if index in parts:
            raise ValueError(f"{folder} and {parts[index][0]} are both part {index}/{count}")
        parts[index] = (folder, record)
    if first is None:
        raise ValueError("--merge needs the folders of the parts to join")
    count = first[1]["shard"][1]
    missing = [index for index in range(1, count + 1) if index not in parts]
    if missing:
        raise ValueError(f"part {missing[0]}/{count} is missing; give the folders of all {count} parts")
    return parts


def _finished_entries(folder: Path, record: dict) -> list[dict]:
    """The manifest entries of a part's files, in its order; ValueError if one is missing or damaged."""
    manifest = read_manifest(folder)
    extra = sorted(set(manifest) - set(record["files"]))
    if extra:
        raise ValueError(f"{folder} holds {extra[0]}, which is not in its part; parts must be made by --shard alone")
    entries = []
    for name in record["files"]:
        refuse_link(folder / name)
        if name not in manifest or not file_is_intact(folder / name, manifest[name]):
            part = "/".join(map(str, record["shard"]))
            raise ValueError(f"{folder}: {name} is missing or damaged; rerun part {part} to finish it")
        entries.append(manifest[name])
    return entries


def merge_shards(folders: list, out_dir) -> Iterator[Progress]:
    """Join the parts of one batch into ``out_dir``: every piece, and one manifest in the order of
    the whole batch, as one run of it would have made them. Checks happen now (ValueError before
    anything is written): every part is there once, made with the same settings, finished and
    intact; ``out_dir`` holds no batch and no other file of a piece's name. The generator copies."""
    parts = _read_parts(folders)
    count = len(parts)
    finished = {index: _finished_entries(folder, record) for index, (folder, record) in parts.items()}
    pieces = parts[1][1]["pieces"]
    order = [(parts[i % count + 1][0], finished[i % count + 1][i // count]) for i in range(pieces)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(out_dir, "merge")
    try:
        for name in (MANIFEST_NAME, SHARD_NAME):
            refuse_link(out_dir / name)
            if (out_dir / name).exists():
                raise ValueError(f"{out_dir} already holds a batch ({name}); merge into a new folder")
        for source, entry in order:
            target = out_dir / entry["file"]
            refuse_link(target)
            if target.exists() and not file_is_intact(target, entry):
                raise ValueError(f"{target} exists and is not the piece of that name in {source}; use a new folder")
    except BaseException:
        lock.release()
        raise
    return _copy(order, out_dir, lock)


def _copy(order: list[tuple[Path, dict]], out_dir: Path, lock: FolderLock) -> Iterator[Progress]:
    """Copy each piece (skipping one already there, from an interrupted merge), then write the manifest."""
    try:
        for done, (source, entry) in enumerate(order, 1):
            target = out_dir / entry["file"]
            if not file_is_intact(target, entry):
                data = (source / entry["file"]).read_bytes()
                atomic_write_bytes(target, lambda temp, data=data: Path(temp).write_bytes(data), follow_links=False)
            if done % MERGE_STEP == 0:
                yield Progress(done, len(order), f"{done} pieces copied")
        write_manifest_text(out_dir, "".join(json.dumps(entry) + "\n" for _, entry in order))
        yield Progress(len(order), len(order), f"{len(order)} pieces")
    finally:
        lock.release()
