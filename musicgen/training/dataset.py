"""Token dataset: build it (music21 corpus or a folder of MIDI files), save it, load it.

On disk a dataset is a folder with
* ``dataset.npz``: ``tokens`` (all pieces' tokens concatenated, int16), ``offsets`` (P+1, int64:
  piece i is ``tokens[offsets[i]:offsets[i+1]]``), ``genre`` (P, int16), ``split`` (P, int8);
* ``dataset.json``: the manifest: codec parameters, genres, one record per piece (source, title,
  genre, split, notes, tokens) and build statistics.
Per-unit parse results are cached under ``<folder>/parts/`` so an interrupted build resumes.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..files.writing import atomic_write_bytes
from ..genres import CORPUS_GENRES, Genre, genre_from_dict, genre_to_dict
from ..music.keys import estimate_key, key_name
from ..music.meter import dance_time_scale, meter_text, regular_bars
from ..music.piece import MAX_VOICES, make_piece
from ..paths import DEFAULT_DATASET
from ..progress import Progress
from ..tokens.codec import (
    VOCAB_SIZE,
    VOICE_RANGES,
    codec_mismatch,
    codec_params,
    piece_to_tokens,
    voice_pitches,
    voice_spans,
)

SPLITS = ("train", "valid", "test")
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
SPLIT_SEED = 1234
MIDI_SUFFIXES = (".mid", ".midi", ".MID", ".MIDI")


@dataclass
class Dataset:
    """A loaded dataset. ``pieces`` are the manifest records, aligned with the arrays."""

    tokens: np.ndarray
    offsets: np.ndarray
    genre: np.ndarray
    split: np.ndarray
    genres: list[Genre]
    manifest: dict

    def piece_tokens(self, index: int) -> np.ndarray:
        """Tokens of piece ``index`` (BOS ... EOS), int64."""
        return self.tokens[self.offsets[index] : self.offsets[index + 1]].astype(np.int64)

    def indices(self, split: str, genre: int | None = None) -> list[int]:
        """Piece indices of one split (and optionally one genre index)."""
        code = SPLITS.index(split)
        mask = self.split == code
        if genre is not None:
            mask &= self.genre == genre
        return [int(i) for i in np.flatnonzero(mask)]

    @property
    def genre_keys(self) -> list[str]:
        return [g.key for g in self.genres]

    @property
    def fingerprint(self) -> str:
        """Short hash of the token data, recorded in model cards."""
        digest = hashlib.sha256(self.tokens.tobytes())
        digest.update(self.offsets.tobytes())
        digest.update(self.genre.tobytes())
        return digest.hexdigest()[:16]


def _atomic_json(path: Path, data) -> None:
    atomic_write_bytes(path, lambda temp: Path(temp).write_text(json.dumps(data, indent=1)))


def _run_units(units, reader, parts_dir: Path, workers: int) -> Iterator[Progress]:
    """Run ``reader`` over the units not cached yet, saving each result as a JSON part."""
    parts_dir.mkdir(parents=True, exist_ok=True)
    todo = [u for u in units if not (parts_dir / f"{u.name}.json").exists()]
    done = len(units) - len(todo)
    yield Progress(done, len(units), f"{done} units cached")
    if not todo:
        return
    context = multiprocessing.get_context("spawn" if workers > 1 else "fork")
    with context.Pool(max(1, workers)) as pool:
        for unit, result in pool.imap_unordered(_read_with_unit, [(reader, u) for u in todo]):
            _atomic_json(parts_dir / f"{unit.name}.json", result)
            done += 1
            yield Progress(done, len(units), Path(unit.path).name)


def _read_with_unit(job):
    reader, unit = job
    return unit, reader(unit)


def _assign_splits(records: list[dict], genres: list[str]) -> None:
    """Stratified, seeded train/valid/test split by piece (in place: sets ``split``)."""
    rng = random.Random(SPLIT_SEED)
    for genre in genres:
        members = sorted((r for r in records if r["genre"] == genre), key=lambda r: r["source"])
        rng.shuffle(members)
        n = len(members)
        n_valid = max(1, round(n * SPLIT_FRACTIONS[1])) if n >= 3 else 0
        n_test = max(1, round(n * SPLIT_FRACTIONS[2])) if n >= 3 else 0
        for i, record in enumerate(members):
            record["split"] = "valid" if i < n_valid else "test" if i < n_valid + n_test else "train"


def _content_key(record: dict) -> str:
    """Pieces with the same first 64 notes (relative to their first pitch) are duplicates."""
    notes = record["notes"][:64]
    base = notes[0][1] if notes else 0
    return hashlib.sha1(json.dumps([[s, p - base, d] for s, p, d, *_ in notes]).encode()).hexdigest()


def assemble(results: list[dict], genres: list[Genre], out_dir: Path, extra: dict) -> dict:
    """Deduplicate, split and tokenize parsed pieces; write the dataset files; return stats."""
    keys = [g.key for g in genres]
    records, seen, duplicates = [], set(), 0
    for result in results:
        for record in result["pieces"]:
            content = (record["genre"], _content_key(record))
            if content in seen:
                duplicates += 1
                continue
            seen.add(content)
            records.append(record)
    failed = [f for result in results for f in result["failed"]]
    records.sort(key=lambda r: (keys.index(r["genre"]), r["source"]))
    _assign_splits(records, keys)
    all_tokens, offsets, manifest_pieces = [], [0], []
    for record in records:
        notes = [tuple(n) for n in record["notes"]]
        if "measures" in record:  # a score: whole bars of the genre's metre on a regular grid
            scale = dance_time_scale(record["genre"], [note[2] for note in notes])
            notes = [(note[0] * scale, note[1], note[2] * scale, *note[3:]) for note in notes]
            end = max(note[0] + note[2] for note in notes)
            measures = [
                (start * scale, (numerator, denominator)) for start, numerator, denominator in record["measures"]
            ]
            bars, meters, record["grid_fit"] = regular_bars(measures, end, record["genre"])
            last_bars = part_last_bars(bars, [step * scale for step in record.get("part_ends", [])])
            record["time_scale"] = scale
        else:  # a MIDI file: its own bar lines and time signatures
            bars, meters, last_bars = record["bars"], record.get("meters", ()), ()
        piece = make_piece(notes, bars, meters=meters, last_bars=last_bars)
        tokens = piece_to_tokens(piece)
        all_tokens.append(np.asarray(tokens, dtype=np.int16))
        offsets.append(offsets[-1] + len(tokens))
        meter = piece.meter_at(piece.pickup)
        tonic, mode = estimate_key(piece)
        manifest_pieces.append(
            {
                "source": record["source"],
                "title": record["title"],
                "genre": record["genre"],
                "split": record["split"],
                "notes": len(piece.notes),
                "tokens": len(tokens),
                "meter": meter_text(meter) if meter else "",
                "key": key_name(tonic, mode),
                "voices": len({note.voice for note in piece.notes}) if piece.voiced else 1,
                "pickup": piece.pickup,
                "bars": max(0, len(piece.bars) - 1),
                "strain_ends": len(piece.last_bars),
                "source_meter": record.get("source_meter", ""),
                "grid_fit": record.get("grid_fit", 1.0),
                "time_scale": record.get("time_scale", 1),
            }
        )
    assert VOCAB_SIZE < np.iinfo(np.int16).max
    arrays = {
        "tokens": np.concatenate(all_tokens) if all_tokens else np.zeros(0, np.int16),
        "offsets": np.asarray(offsets, dtype=np.int64),
        "genre": np.asarray([keys.index(r["genre"]) for r in records], dtype=np.int16),
        "split": np.asarray([SPLITS.index(r["split"]) for r in records], dtype=np.int8),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_dir / "dataset.npz", lambda temp: _save_npz(temp, arrays))
    manifest = {
        "format": "musicgen-dataset",
        "codec": codec_params(),
        "genres": [genre_to_dict(g) for g in genres],
        "stats": {"pieces": len(records), "duplicates_removed": duplicates, "failed": len(failed), **extra},
        "meters": meter_counts(manifest_pieces, keys),
        "keys": key_counts(manifest_pieces, keys),
        "voice_ranges": voice_ranges(all_tokens, records, keys),
        "failed": failed,
        "pieces": manifest_pieces,
    }
    _atomic_json(out_dir / "dataset.json", manifest)
    return manifest["stats"]


def part_last_bars(bars: list[int], part_ends: list[int]) -> list[int]:
    """The bar lines that start the bar in which each part ends (``part_ends`` in steps)."""
    starts = []
    for end in part_ends:
        before = [bar for bar in bars[:-1] if bar < end]
        if before:
            starts.append(before[-1])
    return sorted(set(starts))


def _counts_per_genre(pieces: list[dict], genre_keys: list[str], field: str) -> dict[str, dict[str, int]]:
    """Per genre, how many pieces have each value of the manifest's ``field`` (commonest first)."""
    counts: dict[str, dict[str, int]] = {key: {} for key in genre_keys}
    for piece in pieces:
        if piece.get(field):
            table = counts[piece["genre"]]
            table[piece[field]] = table.get(piece[field], 0) + 1
    return {key: dict(sorted(table.items(), key=lambda item: -item[1])) for key, table in counts.items()}


def meter_counts(pieces: list[dict], genre_keys: list[str]) -> dict[str, dict[str, int]]:
    """Per genre, how many pieces are written in each metre (most common first)."""
    return _counts_per_genre(pieces, genre_keys, "meter")


def key_counts(pieces: list[dict], genre_keys: list[str]) -> dict[str, dict[str, int]]:
    """Per genre, how many pieces are in each key (``keys.estimate_key``; commonest first)."""
    return _counts_per_genre(pieces, genre_keys, "key")


def voice_ranges(all_tokens: list, records: list[dict], genre_keys: list[str]) -> dict[str, list]:
    """Per genre, the lowest and highest pitch each voice sings (a list of [low, high] or None per
    voice): how the corpus measures the codec's ``VOICE_RANGES``."""
    ranges: dict[str, list] = {}
    for tokens, record in zip(all_tokens, records):
        table = ranges.setdefault(record["genre"], [None] * MAX_VOICES)
        for voice, (low, high) in voice_spans(tokens).items():
            old = table[voice] or [low, high]
            table[voice] = [min(old[0], low), max(old[1], high)]
    return {key: ranges[key] for key in genre_keys if key in ranges}


SUNG_PERCENTILES = (1, 99)  # a voice's sung range: where all but its lowest and highest 1% of notes lie


def sung_ranges(dataset: Dataset, split: str = "train") -> dict[str, list[list[int]]]:
    """Per genre of several voices, each voice's sung range [low, high] (MIDI): the 1st and 99th
    percentile of its notes in ``split``'s pieces as written. Narrower than the codec's
    ``VOICE_RANGES`` (every note of every style and transposition): where a style's voices sing
    (Bach's soprano 60-78, bass 40-61), used to choose a four-voice piece's key."""
    pitches: dict[int, list[list[int]]] = {}
    for index in dataset.indices(split):
        voices = pitches.setdefault(int(dataset.genre[index]), [[] for _ in range(MAX_VOICES)])
        for voice, pitch in voice_pitches(dataset.piece_tokens(index)):
            voices[voice].append(pitch)
    ranges = {}
    for genre, voices in sorted(pitches.items()):
        if sum(bool(voice) for voice in voices) > 1:
            ranges[dataset.genre_keys[genre]] = [
                [int(v) for v in np.percentile(voice, SUNG_PERCENTILES, method="nearest")] if voice else list(span)
                for voice, span in zip(voices, VOICE_RANGES)
            ]
    return ranges


def _save_npz(temp: str, arrays: dict) -> None:
    with open(temp, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def build_corpus(out_dir=DEFAULT_DATASET, workers: int = 2) -> Iterator[Progress]:
    """Build the dataset from the music21 corpus; yields Progress, then writes the files."""
    from . import corpus

    out_dir = Path(out_dir)
    started = time.time()
    units = corpus.plan_units()
    yield from _run_units(units, corpus.read_unit, out_dir / "parts", workers)
    results = [json.loads((out_dir / "parts" / f"{u.name}.json").read_text()) for u in units]
    stats = assemble(
        results,
        list(CORPUS_GENRES),
        out_dir,
        {"build_seconds": round(time.time() - started, 1), "source": "music21 corpus"},
    )
    yield Progress(len(units), len(units), f"wrote {stats['pieces']} pieces")


@dataclass(frozen=True)
class MidiUnit:
    """One user MIDI file and the genre (its subfolder name)."""

    path: str
    genre: str

    @property
    def name(self) -> str:
        return "midi_" + hashlib.sha1(self.path.encode()).hexdigest()[:16]


def read_midi_unit(unit: MidiUnit) -> dict:
    """Read one MIDI file into a piece record (or a failure)."""
    from ..files.midi import midi_to_piece  # only here: the dataset itself needs no MIDI library

    try:
        piece = midi_to_piece(unit.path, voices=True)
    except ValueError as error:
        return {"pieces": [], "failed": [[unit.path, str(error)]]}
    return {
        "pieces": [
            {
                "genre": unit.genre,
                "source": unit.path,
                "title": Path(unit.path).stem,
                "notes": [[n.start, n.pitch, n.duration, n.voice] for n in piece.notes],
                "bars": list(piece.bars),
                "meters": [list(m) for m in piece.meters],
                "source_meter": " ".join(sorted({f"{n}/{d}" for _, n, d in piece.meters})),
            }
        ],
        "failed": [],
    }


def build_midi_folder(midi_dir, out_dir, workers: int = 2) -> Iterator[Progress]:
    """Build a dataset from ``midi_dir/<genre>/*.mid`` (one genre per subfolder)."""
    midi_dir, out_dir = Path(midi_dir), Path(out_dir)
    if not midi_dir.is_dir():
        raise ValueError(f"{midi_dir}: not a folder")
    folders = sorted(p for p in midi_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    units = [
        MidiUnit(str(f), folder.name)
        for folder in folders
        for f in sorted(folder.rglob("*"))
        if f.suffix in MIDI_SUFFIXES
    ]
    if not units:
        raise ValueError(f"{midi_dir}: no MIDI files in genre subfolders (expected {midi_dir}/<genre>/*.mid)")
    started = time.time()
    yield from _run_units(units, read_midi_unit, out_dir / "parts", workers)
    results = [json.loads((out_dir / "parts" / f"{u.name}.json").read_text()) for u in units]
    genres = [
        Genre(f.name, f.name.replace("_", " ").title(), f"Your MIDI files from {f.name}/", 0, 120)
        for f in folders
        if any(u.genre == f.name for u in units)
    ]
    stats = assemble(
        results, genres, out_dir, {"build_seconds": round(time.time() - started, 1), "source": str(midi_dir)}
    )
    yield Progress(len(units), len(units), f"wrote {stats['pieces']} pieces")


def load_dataset(path=DEFAULT_DATASET) -> Dataset:
    """Load a dataset folder; raises ValueError with a reason if missing, empty or incompatible."""
    path = Path(path)
    npz, manifest_path = path / "dataset.npz", path / "dataset.json"
    if not npz.is_file() or not manifest_path.is_file():
        raise ValueError(f"{path}: no dataset here (run 'musicgen data build' first)")
    try:
        manifest = json.loads(manifest_path.read_text())
        with np.load(npz) as data:
            arrays = {k: data[k] for k in ("tokens", "offsets", "genre", "split")}
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path}: dataset files are damaged ({error})") from None
    if manifest.get("codec") != codec_params():
        raise ValueError(
            f"{path}: dataset {codec_mismatch(manifest.get('codec') or {})}; rebuild it with 'musicgen data build'"
        )
    if len(arrays["genre"]) == 0:
        raise ValueError(f"{path}: dataset is empty")
    genres = [genre_from_dict(g) for g in manifest["genres"]]
    return Dataset(arrays["tokens"], arrays["offsets"], arrays["genre"], arrays["split"], genres, manifest)


def dataset_stats(dataset: Dataset) -> list[dict]:
    """Rows of pieces, notes and tokens per genre and split."""
    rows = []
    pieces = dataset.manifest["pieces"]
    for g, genre in enumerate(dataset.genres):
        for split in SPLITS:
            idx = dataset.indices(split, g)
            rows.append(
                {
                    "genre": genre.key,
                    "split": split,
                    "pieces": len(idx),
                    "notes": sum(pieces[i]["notes"] for i in idx),
                    "tokens": sum(pieces[i]["tokens"] for i in idx),
                }
            )
    return rows
