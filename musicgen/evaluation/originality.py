"""Originality: the longest run of melody notes a piece shares with any training piece.

A piece is reduced to its *melody* (the skyline: at each onset the highest note starting there,
unless a higher note that started earlier is still sounding) and the melody to one symbol per
note after the first: ``(interval to the previous melody note in semitones, its onset gap as a
ratio p/q of the gap before)`` (0/0 for the second note, which has no gap before its own). Intervals make the comparison invariant to transposition and gap
ratios invariant to the note values a tune is written in (a reel in 4/4 eighths or in 2/4
sixteenths, at any tempo); a run of k shared symbols is a run of k + 1 shared notes.

Matching is a suffix automaton over the training melodies (joined by a separator symbol that no
query holds): built once in O(total notes), it finds the longest substring of the query that
occurs anywhere in the training set in O(query notes), and each state remembers where its strings
first end, which names the training piece. It is chosen over a suffix array (binary searches per
query position) and n-gram hashing (misses runs shorter than n, hit lists blow up on scales) because
its check is exact and linear. The automaton is stored as flat arrays (``.npz``, no pickle) in
the user cache, keyed by the dataset fingerprint, and rebuilt when the dataset changes.
"""

from __future__ import annotations

import heapq
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..music.piece import Note, Piece
from ..paths import DEFAULT_DATASET, PACKAGE_ROOT, user_cache_dir

INDEX_VERSION = 2  # (2: rhythm as ratios of onset gaps) bump when the melody, the symbols or the file layout change
SEPARATOR = 0  # symbol id between training pieces; queries never hold it, so no match spans two pieces
UNKNOWN = -1  # a query symbol that no training piece has: it breaks every run
RESAMPLE_SEED_STEP = (
    1_000_000  # resampled seeds: planned + k * step (above batch.MAX_COUNT: never another planned seed)
)
MAX_RESAMPLES = 8  # tries per piece for ``compose_original`` before it keeps the least copied take


@dataclass(frozen=True)
class Originality:
    """How much of a piece's melody is copied: ``notes`` in the longest run shared with training
    piece ``source`` (title and source path), ``share`` = notes / ``melody_notes`` (0..1)."""

    notes: int
    share: float
    source: str
    source_index: int  # dataset index of that training piece, -1 when nothing is shared
    start_note: int  # index of the run's first note in the checked piece's melody
    melody_notes: int

    def manifest_fields(self) -> dict:
        """The batch manifest's ``copied_notes``, ``copied_share`` (0..1) and ``copied_from``."""
        return {"copied_notes": self.notes, "copied_share": round(self.share, 4), "copied_from": self.source}


def melody(piece: Piece) -> list[Note]:
    """The top voice: per onset the highest note starting there, skipped while a higher one is held."""
    top: list[Note] = []
    held: list[tuple[int, int]] = []  # heap of (-pitch, end step) of notes started before
    notes = piece.notes  # sorted by (start, pitch)
    i = 0
    while i < len(notes):
        start = notes[i].start
        j = i
        while j + 1 < len(notes) and notes[j + 1].start == start:
            j += 1
        while held and held[0][1] <= start:  # lazily drop the highest notes that have stopped
            heapq.heappop(held)
        highest = notes[j]
        if not held or -held[0][0] < highest.pitch:
            top.append(highest)
        for note in notes[i : j + 1]:
            heapq.heappush(held, (-note.pitch, note.end))
        i = j + 1
    return top


def melody_symbols(notes: list[Note]) -> list[tuple[int, int, int]]:
    """``(interval, p, q)`` of each melody note after the first (len(notes) - 1): the interval from
    the note before (semitones) and its onset gap as the reduced fraction p/q of the gap before, so the
    same tune written in eighths or in sixteenths (2/4 or 4/4, any tempo) gives the same symbols. The
    second note, with no gap before its gap, has p = q = 0."""
    symbols = [(notes[1].pitch - notes[0].pitch, 0, 0)] if len(notes) > 1 else []
    for a, b, c in zip(notes, notes[1:], notes[2:]):
        before, after = b.start - a.start, c.start - b.start
        common = math.gcd(before, after) or 1
        symbols.append((c.pitch - b.pitch, after // common, before // common))
    return symbols


def _build_automaton(text: list[int]) -> dict[str, np.ndarray]:
    """Suffix automaton of ``text`` (symbol ids) as arrays: ``length``, ``link``, ``first_end``
    (per state) and the transitions sorted by ``key = state * n_symbols + symbol`` -> ``target``."""
    length, link, first_end, trans = [0], [-1], [-1], [{}]
    last = 0
    for position, symbol in enumerate(text):
        current = len(length)
        length.append(length[last] + 1)
        link.append(0)
        first_end.append(position)
        trans.append({})
        state = last
        while state != -1 and symbol not in trans[state]:
            trans[state][symbol] = current
            state = link[state]
        if state != -1:
            target = trans[state][symbol]
            if length[state] + 1 == length[target]:
                link[current] = target
            else:
                clone = len(length)
                length.append(length[state] + 1)
                link.append(link[target])
                first_end.append(first_end[target])
                trans.append(dict(trans[target]))
                while state != -1 and trans[state].get(symbol) == target:
                    trans[state][symbol] = clone
                    state = link[state]
                link[target] = link[current] = clone
        last = current
    n_symbols = max(text, default=0) + 1
    keys = np.fromiter((state * n_symbols + symbol for state, edges in enumerate(trans) for symbol in edges), np.int64)
    targets = np.fromiter((target for edges in trans for target in edges.values()), np.int32)
    order = np.argsort(keys, kind="stable")
    return {
        "length": np.asarray(length, np.int32),
        "link": np.asarray(link, np.int32),
        "first_end": np.asarray(first_end, np.int32),
        "trans_key": keys[order],
        "trans_target": targets[order],
        "n_symbols": np.asarray(n_symbols, np.int64),
    }


class OriginalityIndex:
    """The training melodies of one dataset, ready for ``check``; build with ``build_index``."""

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict, from_cache: bool = False):
        self.arrays = arrays
        self.meta = meta  # fingerprint, dataset path, symbol table, piece names and indices
        self.from_cache = from_cache  # True when read from the cache file, False when built now
        self._symbol_ids = {tuple(s): i for i, s in enumerate(meta["symbols"], start=1)}
        self._keys = arrays["trans_key"]
        self._targets = arrays["trans_target"].tolist()
        self._length = arrays["length"].tolist()
        self._link = arrays["link"].tolist()
        self._n_symbols = int(arrays["n_symbols"])

    @property
    def fingerprint(self) -> str:
        return self.meta["fingerprint"]

    @property
    def dataset_path(self) -> str:
        return self.meta["dataset_path"]

    @property
    def pieces(self) -> int:
        """Number of training pieces in the index."""
        return len(self.meta["piece_index"])

    def _step(self, state: int, symbol: int) -> int:
        """The automaton's transition, or -1."""
        key = state * self._n_symbols + symbol
        at = int(np.searchsorted(self._keys, key))
        return self._targets[at] if at < len(self._targets) and self._keys[at] == key else -1

    def longest_match(self, symbols: list[int]) -> tuple[int, int, int]:
        """``(length, end in the query, end in the training text)`` of the longest shared run of symbols."""
        state, matched = 0, 0
        best = (0, -1, -1)
        for position, symbol in enumerate(symbols):
            if symbol <= SEPARATOR:  # unknown symbol: no training piece continues through it
                state, matched = 0, 0
                continue
            target = self._step(state, symbol)
            while target < 0 and state != 0:
                state = self._link[state]
                matched = self._length[state]
                target = self._step(state, symbol)
            if target < 0:
                state, matched = 0, 0
                continue
            state, matched = target, matched + 1
            if matched > best[0]:
                best = (matched, position, int(self.arrays["first_end"][state]))
        return best

    def check(self, piece: Piece) -> Originality:
        """The longest run of melody notes that ``piece`` shares with one training piece."""
        notes = melody(piece)
        symbols = [self._symbol_ids.get(s, UNKNOWN) for s in melody_symbols(notes)]
        matched, query_end, text_end = self.longest_match(symbols)
        if matched == 0:
            return Originality(0, 0.0, "", -1, 0, len(notes))
        slot = int(np.searchsorted(self.arrays["piece_start"], text_end - matched + 1, side="right")) - 1
        run = matched + 1  # k shared (interval, gap ratio) symbols join k + 1 notes
        return Originality(
            run,
            run / len(notes),
            self.meta["piece_names"][slot],
            int(self.meta["piece_index"][slot]),
            query_end - matched + 1,
            len(notes),
        )

    def save(self, path) -> None:
        """Write the index as one ``.npz`` (arrays, and the metadata as UTF-8 JSON bytes), atomically."""
        from ..files.midi import atomic_write_bytes

        meta = np.frombuffer(json.dumps(self.meta).encode("utf-8"), dtype=np.uint8)

        def write(temp: str) -> None:
            with open(temp, "wb") as handle:
                np.savez(handle, meta=meta, **self.arrays)

        atomic_write_bytes(path, write)

    @classmethod
    def load(cls, path) -> "OriginalityIndex":
        """Read a saved index; ValueError if the file is damaged or of another version."""
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files if name != "meta"}
                meta = json.loads(data["meta"].tobytes().decode("utf-8"))
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: originality index is damaged ({error})") from None
        if meta.get("version") != INDEX_VERSION:
            raise ValueError(f"{path}: originality index of version {meta.get('version')}, not {INDEX_VERSION}")
        return cls(arrays, meta, from_cache=True)


def piece_name(record: dict) -> str:
    """A training piece as a reader finds it: ``Title (source path)``."""
    title, source = record.get("title") or "", record.get("source") or ""
    return f"{title} ({source})" if title and source else title or source or "an unnamed piece"


def build_index(dataset, dataset_path: str = "") -> OriginalityIndex:
    """Index the melodies of ``dataset``'s training split (a few seconds for the full corpus)."""
    from ..tokens.codec import tokens_to_piece

    symbol_ids: dict[tuple[int, int, int], int] = {}
    text: list[int] = []
    starts, indices, names = [], [], []
    records = dataset.manifest["pieces"]
    for index in dataset.indices("train"):
        symbols = melody_symbols(melody(tokens_to_piece(dataset.piece_tokens(index))))
        if not symbols:
            continue
        if text:
            text.append(SEPARATOR)
        starts.append(len(text))
        indices.append(index)
        names.append(piece_name(records[index]))
        text.extend(symbol_ids.setdefault(s, len(symbol_ids) + 1) for s in symbols)
    arrays = _build_automaton(text)
    arrays["piece_start"] = np.asarray(starts, np.int64)
    meta = {
        "version": INDEX_VERSION,
        "fingerprint": dataset.fingerprint,
        "dataset_path": str(dataset_path),
        "symbols": [list(s) for s in symbol_ids],
        "piece_index": indices,
        "piece_names": names,
    }
    return OriginalityIndex(arrays, meta)


def cache_dir() -> Path:
    """The user cache folder (``paths.user_cache_dir``: ``$XDG_CACHE_HOME/musicgen``, else the platform's,
    e.g. ``~/.cache/musicgen``)."""
    return user_cache_dir()


def cache_path(fingerprint: str) -> Path:
    """Where the index of the dataset with this fingerprint is cached."""
    return cache_dir() / f"originality-v{INDEX_VERSION}-{fingerprint}.npz"


def _model_dataset(loaded_model) -> tuple[Path, str | None]:
    """The training dataset folder named in a model's card (a LoadedModel or a card dict), and its fingerprint."""
    card = getattr(loaded_model, "card", loaded_model)
    trained_on = card.get("dataset") or {}
    if not trained_on.get("path"):
        raise ValueError(f"model {card.get('name', '?')}: its card does not say which dataset it was trained on")
    recorded = Path(trained_on["path"])
    fingerprint = trained_on.get("fingerprint")
    candidates = [recorded] if recorded.is_absolute() else [Path.cwd() / recorded, PACKAGE_ROOT / recorded]
    for candidate in candidates:
        if (candidate / "dataset.json").is_file():
            return candidate, fingerprint
    if fingerprint and _fingerprint_of(DEFAULT_DATASET) == fingerprint:
        return DEFAULT_DATASET, fingerprint  # trained elsewhere on the committed corpus (a wheel carries it)
    raise ValueError(
        f"model {card.get('name', '?')} was trained on {recorded}, which is not on this machine; "
        "give the dataset folder"
    )


def _fingerprint_of(folder: Path) -> str | None:
    """The fingerprint of the dataset in ``folder``, or None when there is none (or it cannot be read)."""
    from ..training.dataset import load_dataset

    try:
        return load_dataset(folder).fingerprint if (folder / "dataset.json").is_file() else None
    except ValueError:
        return None


def load_index(loaded_model=None, dataset_path=None) -> OriginalityIndex:
    """The index of ``dataset_path`` (default: the model's training dataset, else data/corpus),
    from the cache when it matches the dataset's fingerprint, else built now and cached."""
    from ..training.dataset import load_dataset

    trained_fingerprint = None
    if dataset_path is None and loaded_model is not None:
        dataset_path, trained_fingerprint = _model_dataset(loaded_model)
    path = Path(dataset_path or DEFAULT_DATASET).resolve()
    dataset = load_dataset(path)
    if trained_fingerprint and trained_fingerprint != dataset.fingerprint:
        warnings.warn(
            f"{path} has changed since the model was trained on it; comparing with its pieces as they are now"
        )
    cached = cache_path(dataset.fingerprint)
    if cached.is_file():
        try:
            index = OriginalityIndex.load(cached)
            if index.fingerprint == dataset.fingerprint:
                return index
        except ValueError:
            pass  # damaged or old: build it again
    index = build_index(dataset, str(path))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        index.save(cached)
    except OSError as error:
        warnings.warn(f"cannot cache the originality index in {cached.parent} ({error.strerror or error})")
    return index


def compose_original(generate_batch, requests: list, index: OriginalityIndex, max_copied: int | None = None) -> list:
    """Sample ``requests`` with ``generate_batch``; with ``max_copied``, resample (seed + k *
    RESAMPLE_SEED_STEP) each piece whose longest shared run is over it, up to MAX_RESAMPLES times,
    keeping the least copied take. Returns ``(piece, Originality, resamples)`` per request."""
    if max_copied is not None and max_copied < 1:
        raise ValueError(f"--max-copied must be at least 1 note, got {max_copied}")
    best = [(piece, index.check(piece.piece), 0) for piece in generate_batch(requests)]
    for attempt in range(1, MAX_RESAMPLES + 1):
        over = [i for i, (_, found, _) in enumerate(best) if max_copied is not None and found.notes > max_copied]
        if not over:
            break
        retries = [requests[i].with_seed(requests[i].seed + attempt * RESAMPLE_SEED_STEP) for i in over]
        for i, piece in zip(over, generate_batch(retries)):
            found = index.check(piece.piece)
            if found.notes < best[i][1].notes:
                best[i] = (piece, found, attempt)
            else:
                best[i] = (*best[i][:2], attempt)  # still counts the try
    return best
