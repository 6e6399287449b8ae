"""Select and read the genre-labelled pieces of the music21 corpus (needs the `corpus` extra).

Work is cut into *units* (one score file, or a chunk of tunes from one ABC file parsed in one
go, never tune by tune) so that ``dataset.build`` can spread them over processes and skip the
units already done when a build is rerun.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from ..music.meter import meter_text
from ..music.piece import MAX_VOICES, STEPS_PER_BEAT, make_piece
from ..music.voicing import VOICES_BY_COUNT, line_notes

EXTRACT_VERSION = 5  # bump when the way notes are read from music21 changes (5: voices)
ABC_CHUNK = 60  # tunes parsed together in one music21 call
GERMAN_SAMPLE = 1000
PALESTRINA_SAMPLE = 200
SEED = 20261127
MIN_NOTES = 8

GERMAN_FILES = (
    "altdeu10",
    "altdeu20",
    "ballad10",
    "ballad20",
    "ballad30",
    "ballad40",
    "ballad50",
    "ballad60",
    "ballad70",
    "ballad80",
    "boehme10",
    "boehme20",
    "dva0",
    "erk5",
    "erk10",
    "erk20",
    "erk30",
    "fink0",
    "kinder0",
    "zuccal0",
)


@dataclass(frozen=True)
class Unit:
    """One job for a worker: a file, which tunes of it (ABC X: numbers) and their genres."""

    kind: str  # "abc" or "score"
    path: str
    genre_by_tune: tuple[tuple[int, str], ...] = ()  # ABC only
    genre: str = ""  # score files only

    @property
    def name(self) -> str:
        """Stable identifier used for the unit's cache file."""
        first = self.genre_by_tune[0][0] if self.genre_by_tune else 0
        stem = Path(self.path).parent.name + "_" + Path(self.path).stem
        return f"v{EXTRACT_VERSION}_{stem}_{first}_{len(self.genre_by_tune)}"


def corpus_root() -> Path:
    """Folder of music21's bundled corpus."""
    try:
        import music21
    except ImportError:
        raise SystemExit("music21 is needed to build the corpus: pip install '.[corpus]'") from None
    return Path(music21.__file__).parent / "corpus"


def split_abc(text: str) -> tuple[str, list[dict]]:
    """Split ABC text into its file header and tunes: dicts with ``x``, ``title``, ``rhythm``, ``text``."""
    blocks = re.split(r"(?m)^(?=X:)", text)
    header = blocks[0] if blocks and not blocks[0].startswith("X:") else ""
    tunes = []
    for block in blocks:
        if not block.startswith("X:"):
            continue
        x_match = re.match(r"X:\s*(\d+)", block)
        if not x_match:
            continue
        title = re.search(r"(?m)^T:\s*(.*)$", block)
        rhythm = re.search(r"(?m)^R:\s*(.*)$", block)
        tunes.append(
            {
                "x": int(x_match.group(1)),
                "title": title.group(1).strip() if title else "",
                "rhythm": rhythm.group(1).strip().lower() if rhythm else "",
                "text": block,
            }
        )
    return header, tunes


def dance_genre(rhythm: str) -> str | None:
    """Genre key for an ``R:`` header of the fiddle collections, or None if not used."""
    rhythm = rhythm.strip().rstrip("]").strip()
    if rhythm == "reel":
        return "reel"
    if rhythm in ("jig", "double jig"):
        return "jig"
    if rhythm == "hornpipe":
        return "hornpipe"
    return None


def _title_key(title: str) -> str:
    words = re.sub(r"[^a-z0-9 ]", "", title.lower()).split()
    return " ".join(w for w in words if w not in ("the", "a", "reel", "jig", "hornpipe", "no"))


def _abc_units(path: Path, chosen: list[tuple[int, str]]) -> list[Unit]:
    chosen = sorted(chosen)
    return [Unit("abc", str(path), tuple(chosen[i : i + ABC_CHUNK])) for i in range(0, len(chosen), ABC_CHUNK)]


def plan_units() -> list[Unit]:
    """All units of the corpus build, in a fixed order (samples use a fixed seed)."""
    root = corpus_root()
    units: list[Unit] = []
    # Bach chorales: one MusicXML/Humdrum file each; analyses (.rntxt) are not music.
    bach = sorted(p for p in (root / "bach").glob("bwv*") if p.suffix in (".mxl", ".xml", ".krn"))
    seen_bwv = set()
    for path in bach:
        if path.stem in seen_bwv:
            continue
        seen_bwv.add(path.stem)
        units.append(Unit("score", str(path), genre="bach"))
    # Reels, jigs, hornpipes: R: headers of O'Neill's 1850 and Ryan's Mammoth; titles deduplicated.
    seen_titles: set[tuple[str, str]] = set()
    fiddle_files = sorted((root / "oneills1850").glob("*.abc")) + sorted((root / "ryansMammoth").glob("*.abc"))
    for path in fiddle_files:
        _, tunes = split_abc(path.read_text(encoding="latin-1"))
        chosen = []
        for tune in tunes:
            genre = dance_genre(tune["rhythm"])
            key = (genre, _title_key(tune["title"]))
            if genre is None or key in seen_titles:
                continue
            seen_titles.add(key)
            chosen.append((tune["x"], genre))
        # A file may repeat an X: number; keep the first tune of each number.
        chosen = list(dict(reversed(chosen)).items())
        units.extend(_abc_units(path, chosen))
    # Chinese (Han) folk songs: all of Essen's han1 and han2.
    for stem in ("han1", "han2"):
        path = root / "essenFolksong" / f"{stem}.abc"
        _, tunes = split_abc(path.read_text(encoding="latin-1"))
        units.extend(_abc_units(path, list({t["x"]: "chinese" for t in tunes}.items())))
    # German folk songs: a fixed random sample of tunes over Essen's German collections.
    german = []
    for stem in GERMAN_FILES:
        path = root / "essenFolksong" / f"{stem}.abc"
        _, tunes = split_abc(path.read_text(encoding="latin-1"))
        german.extend((str(path), x) for x in sorted({t["x"] for t in tunes}))
    sample = random.Random(SEED).sample(german, min(GERMAN_SAMPLE, len(german)))
    for stem in GERMAN_FILES:
        path = root / "essenFolksong" / f"{stem}.abc"
        units.extend(_abc_units(path, [(x, "german") for p, x in sample if p == str(path)]))
    # Scottish: all tunes of Aird's Selection, books 1-6.
    for path in sorted((root / "airdsAirs").glob("book*.abc")):
        _, tunes = split_abc(path.read_text(encoding="latin-1"))
        units.extend(_abc_units(path, list({t["x"]: "scottish" for t in tunes}.items())))
    # Palestrina: a fixed sample of mass movements (Humdrum).
    palestrina = sorted((root / "palestrina").glob("*.krn"))
    for path in sorted(random.Random(SEED).sample(palestrina, min(PALESTRINA_SAMPLE, len(palestrina)))):
        units.append(Unit("score", str(path), genre="palestrina"))
    return units


PART_END_BARLINES = ("double", "final", "light-light", "light-heavy", "heavy-light", "heavy-heavy")
VOICED_GENRES = ("bach", "palestrina")  # read in four voices from their parts; the others as one line
SATB_NAMES = ("soprano", "alto", "tenor", "bass")
INSTRUMENT_WORDS = ("horn", "trumpet", "timpani", "oboe", "cornet", "violin", "viola", "continuo", "organ", "flute")


def _part_notes(part) -> list[tuple[int, int, int]]:
    """Notes ``(start, pitch, duration)`` in steps of one part (or a whole score), grace notes left out."""
    raw = []
    for element in part.flatten().notes:
        if element.duration.isGrace or element.quarterLength <= 0:
            continue
        start = round(float(element.offset) * STEPS_PER_BEAT)
        duration = max(1, round(float(element.quarterLength) * STEPS_PER_BEAT))
        for pitch in element.pitches:
            raw.append((start, pitch.midi, duration))
    return raw


def one_line(raw) -> list[tuple[int, int, int, int]]:
    """A tune's notes as one voice (0): the top note of each onset, each cut where the next begins."""
    return [(*note, 0) for note in line_notes(raw)]


def voice_part_notes(parts: list) -> list[list[tuple[int, int, int]]]:
    """The notes of up to four vocal parts of a score, soprano first: the parts named Soprano, Alto,
    Tenor, Bass when all four are there (a chorale with instruments), else the vocal parts with notes
    (no instrument's name) ordered by mean pitch: the highest, the lowest and, between them, the two
    nearest the middle of the others (a five- or six-voice movement keeps its outer voices and two
    inner ones). Each part's notes are read once."""
    named = {str(p.partName or "").strip().lower(): p for p in parts}
    if all(name in named for name in SATB_NAMES):
        return [_part_notes(named[name]) for name in SATB_NAMES]
    vocal = [p for p in parts if not any(word in str(p.partName or "").lower() for word in INSTRUMENT_WORDS)]
    lines = [notes for notes in (_part_notes(part) for part in vocal) if notes]
    lines.sort(key=lambda notes: -sum(pitch for _, pitch, _ in notes) / len(notes))
    if len(lines) <= MAX_VOICES:
        return lines
    inner = lines[1:-1]
    middle = len(inner) // 2
    keep = inner[max(0, middle - 1) : middle + 1] if len(inner) % 2 == 0 else inner[middle - 1 : middle + 1]
    return [lines[0], *keep, lines[-1]]


def voiced_notes(parts: list) -> list[tuple[int, int, int, int]]:
    """Notes ``(start, pitch, duration, voice)`` of a score's vocal parts: the top part is voice 0
    (soprano) and the lowest voice 3 (bass), whatever the number of parts (3 parts: no alto); each
    part made one line (a divisi chord keeps its top note)."""
    lines = voice_part_notes(parts)
    raw = []
    for notes, voice in zip(lines, VOICES_BY_COUNT.get(len(lines), ())):
        raw.extend((start, pitch, duration, voice) for start, pitch, duration in line_notes(notes))
    return raw


def score_to_raw(score, voiced: bool = False):
    """Notes in steps, measures ``(start step, time signature)`` (the first part's; 4/4 where the
    score gives no signature) and the steps where a part ends (a measure closed by a repeat sign or
    a double bar). Notes are ``(start, pitch, duration, voice)``: with ``voiced``, in the four
    voices of the score's parts (``voiced_notes``), else as one line (``one_line``)."""
    stripped = score.stripTies()
    parts = list(stripped.parts) or [stripped]
    raw = voiced_notes(parts) if voiced and len(parts) > 1 else one_line(_part_notes(stripped))
    measures, part_ends = [], []
    meter = (4, 4)
    for measure in parts[0].getElementsByClass("Measure"):
        signature = measure.timeSignature
        if signature is not None and signature.numerator and signature.denominator:
            meter = (int(signature.numerator), int(signature.denominator))
        start = round(float(measure.offset) * STEPS_PER_BEAT)
        measures.append((start, meter))
        barline = measure.rightBarline
        if barline is not None and (type(barline).__name__ == "Repeat" or barline.type in PART_END_BARLINES):
            part_ends.append(start + round(float(measure.duration.quarterLength) * STEPS_PER_BEAT))
    return raw, measures, part_ends


def _piece_record(score, genre: str, source: str, title: str) -> dict:
    raw, measures, part_ends = score_to_raw(score, voiced=genre in VOICED_GENRES)
    piece = make_piece(raw)
    if len(piece.notes) < MIN_NOTES:
        raise ValueError(f"only {len(piece.notes)} notes")
    source_meters = sorted({meter_text(m) for _, m in measures})
    # Bar lines are laid out later (``dataset.assemble``, ``meter.regular_bars``) from the source's
    # own measures, so a change of that rule needs no new parse.
    return {
        "genre": genre,
        "source": source,
        "title": title,
        "notes": [[n.start, n.pitch, n.duration, n.voice] for n in piece.notes],
        "measures": [[start, m[0], m[1]] for start, m in measures],
        "part_ends": part_ends,
        "source_meter": " ".join(source_meters),
    }


def read_unit(unit: Unit) -> dict:
    """Parse one unit; returns ``{"pieces": [...], "failed": [[source, reason], ...]}``."""
    import music21

    root = str(corpus_root()) + "/"
    relative = unit.path.replace(root, "")
    pieces, failed = [], []
    if unit.kind == "score":
        try:
            score = music21.converter.parse(unit.path)
            title = (score.metadata.title if score.metadata else "") or Path(unit.path).stem
            pieces.append(_piece_record(score, unit.genre, relative, title))
        except Exception as error:  # music21 raises many kinds on odd files
            failed.append([relative, f"{type(error).__name__}: {str(error)[:120]}"])
        return {"pieces": pieces, "failed": failed}

    header, tunes = split_abc(Path(unit.path).read_text(encoding="latin-1"))
    wanted = dict(unit.genre_by_tune)
    by_x = {}
    for tune in tunes:
        if tune["x"] in wanted and tune["x"] not in by_x:
            by_x[tune["x"]] = tune

    def parse_one(tunes_text: str):
        parsed = music21.converter.parse(header + tunes_text, format="abc")
        return list(parsed.scores) if hasattr(parsed, "scores") and parsed.scores else [parsed]

    scores_by_x = {}
    try:  # whole chunk in one parse
        for score in parse_one("\n".join(by_x[x]["text"] for x in sorted(by_x))):
            number = score.metadata.number if score.metadata else None
            if number is not None and int(number) in by_x:
                scores_by_x[int(number)] = score
        if len(scores_by_x) != len(by_x):
            raise ValueError("chunk parse lost tunes")
    except Exception:  # one bad tune spoils a chunk: fall back to tune by tune
        scores_by_x = {}
        for x in sorted(by_x):
            try:
                scores_by_x[x] = parse_one(by_x[x]["text"])[0]
            except Exception as error:
                failed.append([f"{relative}#X{x}", f"{type(error).__name__}: {str(error)[:120]}"])
    for x in sorted(scores_by_x):
        try:
            pieces.append(_piece_record(scores_by_x[x], wanted[x], f"{relative}#X{x}", by_x[x]["title"]))
        except Exception as error:
            failed.append([f"{relative}#X{x}", f"{type(error).__name__}: {str(error)[:120]}"])
    for x in sorted(set(wanted) - set(by_x)):
        failed.append([f"{relative}#X{x}", "tune not found"])
    return {"pieces": pieces, "failed": failed}
