"""Takes: the pieces a musician made, kept across sessions in the user data folder.

A take is one folder ``<root>/<id>/`` holding ``take.json`` (every setting, the notes, the name,
the star) and the MIDI file that drag-out hands to a DAW. Pure Python without Qt: the GUI thread
reads nothing heavier than this JSON, and only in a worker (``jobs.load_takes``).

Deleting moves the folder to ``.deleted-<id>`` so Undo can bring it back; such folders are
removed when the store is next opened.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from musicgen.files.writing import atomic_write_json
from musicgen.music.keys import estimate_key, key_name
from musicgen.music.piece import make_piece
from musicgen.genres import weights_text
from musicgen.sampling.request import GeneratedPiece, GenerationRequest, piece_file_name

from .music_text import format_duration

TAKE_FILE = "take.json"
FORMAT_VERSION = 1
DELETED_PREFIX = ".deleted-"
MAX_NAME_LENGTH = 80  # characters of a take's name used in its file name
_UNSAFE = re.compile(r"[^\w\- .()+,%]+")
_counter = itertools.count(1)


@dataclass
class Take:
    """One generated piece and what the musician made of it."""

    id: str  # folder name, e.g. "20260101-120301-3"
    generated: GeneratedPiece
    title: str  # the style, e.g. "Irish reels 70% + Bach chorales 30%"
    name: str = ""  # the musician's own name for it ("" = the title)
    starred: bool = False
    created: float = field(default_factory=time.time)  # seconds since the epoch
    primer_summary: str = ""  # e.g. "212 notes, 8 bars" when it continues a MIDI file
    midi_name: str = ""  # file name of its MIDI file in its folder
    voices: tuple[int, ...] | None = None  # voice of each note (0 = top voice), None = one line
    voice_names: tuple[str, ...] = ()  # e.g. ("Soprano", "Alto", "Tenor", "Bass")
    originality: dict | None = None  # {"notes": N, "share": 0..1, "source": "training piece"}
    reworked: tuple[int, int] | None = None  # bars (first, last) regenerated from its parent
    reworked_voice: int | None = None  # the one voice (0 = top) written anew in those bars; None = every voice
    parent: str | None = None  # id of the take it was made from (regenerated or continued)
    fingerprint: str = ""  # equal for identical music (see ``fingerprint_of``)
    key: str = ""  # e.g. "D minor" (``key_of``; found when the take is made or read, in a worker)
    folder: Path | None = None
    wav_path: Path | None = None  # rendered audio of this session (a temp file)
    audio_backend: str = ""

    @property
    def midi_path(self) -> Path | None:
        return self.folder / self.midi_name if self.folder is not None and self.midi_name else None

    @property
    def display_name(self) -> str:
        return self.name or self.title

    @property
    def summary(self) -> str:
        """E.g. "seed 7 · 32 bars of 6/8, AABB · 0:34" (what the piece got, not what was asked)."""
        generated = self.generated
        bars = max(0, len(generated.piece.bars) - 1)  # the whole piece, also after a primer or a regeneration
        length = f"{bars} bars" if bars else f"{len(generated.piece.notes)} notes"
        if generated.meter:
            length += f" of {generated.meter}"
        if generated.form and generated.form != "free":
            length += f", {generated.form}"
        parts = [f"seed {generated.request.seed}", length, format_duration(generated.duration_seconds)]
        if self.reworked:
            parts.insert(0, f"{self.reworked_text} new")
        elif generated.request.primer:
            parts.insert(0, f"continues {Path(generated.request.primer).name}")
        return " \u00b7 ".join(parts)

    @property
    def badges(self) -> str:
        """Style fit, originality and an early stop, e.g. "fit 0.82 · longest shared run: 9 notes"."""
        generated, badges = self.generated, []
        if generated.style_fit is not None:
            badges.append(f"fit {generated.style_fit:.2f}")
        if self.originality is not None:
            badges.append(f"longest shared run: {self.originality['notes']} notes")
        if generated.stop_reason:
            badges.append(f"stopped early: {generated.bars_generated} of {generated.bars_requested} bars")
        return " \u00b7 ".join(badges)

    @property
    def outcome(self) -> str:
        """What the piece got and, when it stopped early, why (for the status bar)."""
        generated = self.generated
        if self.reworked:
            stop = f" ({generated.stop_reason})" if generated.stop_reason else ""
            text = self.reworked_text
            return f"{text[0].upper()}{text[1:]} written anew{stop}; every other note is as it was."
        got = f"{generated.bars_generated} bars" + (f" of {generated.meter}" if generated.meter else "")
        if generated.form and generated.form != "free":
            got += f" in form {generated.form}"
        if generated.piece.pickup:
            got += " after a pickup (bar 0)"
        if generated.stop_reason:
            return f"Stopped early: {got} of the {generated.bars_requested} asked for \u2014 {generated.stop_reason}."
        ending = "it ended by itself" if generated.ended_naturally else "it closes at its last bar line"
        return f"Got {got}; {ending}."

    @property
    def reworked_text(self) -> str:
        """The bars written anew, e.g. "bars 3–5", or "the alto of bars 3–5" ("" when none were)."""
        if not self.reworked:
            return ""
        bars = f"bars {self.reworked[0]}\u2013{self.reworked[1]}"
        voice = self.reworked_voice
        if voice is None or not 0 <= voice < len(self.voice_names):
            return bars
        return f"the {self.voice_names[voice].lower()} of {bars}"

    @property
    def subtitle(self) -> str:
        """The summary and the day and time it was made."""
        return f"{self.summary} \u00b7 {time.strftime('%d %b %H:%M', time.localtime(self.created))}"


def settings_of(generated: GeneratedPiece) -> dict:
    """The settings panel's fields that made ``generated`` (its request, with the tempo and
    instrument it got)."""
    return {**dataclasses.asdict(generated.request), "tempo": generated.tempo, "program": generated.program}


def key_of(generated: GeneratedPiece) -> str:
    """The key a take is in: the one it was transposed to, else estimated from its notes ("" without notes)."""
    if generated.key_result:
        return generated.key_result
    return key_name(*estimate_key(generated.piece)) if generated.piece.notes else ""


def continuation_fields(generated: GeneratedPiece, primer: str, seed: int, bars: int | None) -> dict:
    """GenerationRequest fields that continue ``generated`` (read from its MIDI file ``primer``) in its own
    style, style strength, adventurousness, tempo and instrument; its metre and key come with the file.
    Only the seed and the length (whole bars of new music, None = the style's) are new."""
    return {
        **dataclasses.asdict(generated.request),
        "morph_to": None,
        "bars": bars,
        "seconds": None,
        "meter": None,  # the primer's
        "form": None,  # a continuation is through-composed
        "part_bars": None,
        "key": None,  # the primer is in the take's key already
        "tempo": generated.tempo,
        "program": generated.program,
        "seed": seed,
        "primer": primer,
        "max_events": None,
    }


def fingerprint_of(generated: GeneratedPiece) -> str:
    """Equal for two takes with the same notes, bars, tempo and instrument (the same seed and settings)."""
    piece = generated.piece
    content = json.dumps(
        [
            [list(dataclasses.astuple(n)) for n in piece.notes],
            list(piece.bars),
            list(piece.meters),
            round(generated.tempo, 3),
            generated.program,
        ]
    )
    return hashlib.sha1(content.encode()).hexdigest()


def safe_file_name(text: str, suffix: str = ".mid") -> str:
    """A portable file name from a take's name: "Reel for Anna!" -> "Reel for Anna.mid"."""
    name = _UNSAFE.sub("", text).strip(" .")[:MAX_NAME_LENGTH] or "take"
    return name + suffix


def default_file_name(take: Take, suffix: str = ".mid") -> str:
    """A take's file name: the musician's name for it, else musicgen's one scheme ("reel-seed7.mid",
    a blend "bach0.7+reel0.3-seed7.mid")."""
    if take.name:
        return safe_file_name(take.name, suffix)
    generated = take.generated
    genre = generated.request.genre or weights_text(generated.genre_weights)
    return piece_file_name(genre, generated.request.seed, suffix)


# --- JSON ----------------------------------------------------------------------------------------
def piece_to_dict(piece) -> dict:
    return {
        "notes": [[n.start, n.pitch, n.duration, n.voice] for n in piece.notes],
        "bars": list(piece.bars),
        "primer_end": piece.primer_end,
        "meters": [list(m) for m in piece.meters],
        "last_bars": list(piece.last_bars),
        "meta": piece.meta,
    }


def piece_from_dict(data: dict):
    return make_piece(
        data["notes"],
        data.get("bars", ()),
        data.get("primer_end", 0),
        data.get("meta", {}),
        data.get("meters", ()),
        data.get("last_bars", ()),
    )


def generated_to_dict(generated: GeneratedPiece) -> dict:
    """Every field of a GeneratedPiece as JSON values (the piece and the request as dicts)."""
    data = {
        f.name: getattr(generated, f.name) for f in dataclasses.fields(generated) if f.name not in ("piece", "request")
    }
    data["request"] = dataclasses.asdict(generated.request)
    data["piece"] = piece_to_dict(generated.piece)
    return data


def generated_from_dict(data: dict) -> GeneratedPiece:
    """Inverse of ``generated_to_dict``; fields this version does not know are skipped."""
    request_fields = {f.name for f in dataclasses.fields(GenerationRequest)}
    request = GenerationRequest(**{k: v for k, v in data["request"].items() if k in request_fields})
    known = {f.name for f in dataclasses.fields(GeneratedPiece)} - {"piece", "request"}
    values = {k: v for k, v in data.items() if k in known}
    return GeneratedPiece(piece=piece_from_dict(data["piece"]), request=request, **values)


def take_to_dict(take: Take) -> dict:
    return {
        "version": FORMAT_VERSION,
        "id": take.id,
        "title": take.title,
        "name": take.name,
        "starred": take.starred,
        "created": take.created,
        "primer_summary": take.primer_summary,
        "midi": take.midi_name,
        "voices": list(take.voices) if take.voices is not None else None,
        "voice_names": list(take.voice_names),
        "originality": take.originality,
        "reworked": list(take.reworked) if take.reworked else None,
        "reworked_voice": take.reworked_voice,
        "parent": take.parent,
        "fingerprint": take.fingerprint,
        "generated": generated_to_dict(take.generated),
    }


def take_from_dict(data: dict, folder: Path) -> Take:
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"{folder.name}: take format {data.get('version')} is not {FORMAT_VERSION}")
    generated = generated_from_dict(data["generated"])
    return Take(
        id=data["id"],
        generated=generated,
        title=data["title"],
        name=data.get("name", ""),
        starred=bool(data.get("starred")),
        created=float(data.get("created", 0)),
        primer_summary=data.get("primer_summary", ""),
        midi_name=data.get("midi", ""),
        voices=tuple(data["voices"]) if data.get("voices") is not None else None,
        voice_names=tuple(data.get("voice_names") or ()),
        originality=data.get("originality"),
        reworked=tuple(data["reworked"]) if data.get("reworked") else None,
        reworked_voice=data.get("reworked_voice"),
        parent=data.get("parent"),
        fingerprint=data.get("fingerprint") or fingerprint_of(generated),
        key=key_of(generated),
        folder=folder,
    )


# --- the folder ----------------------------------------------------------------------------------
class TakeStore:
    """The takes under ``root`` (created on first save)."""

    def __init__(self, root):
        self.root = Path(root)

    def new_id(self) -> str:
        """A folder name that is free now: the time and a counter."""
        while True:
            candidate = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(_counter)}"
            if not (self.root / candidate).exists():
                return candidate

    def load_all(self) -> tuple[list[Take], list[str]]:
        """Every take, oldest first, and one line for each folder that could not be read.

        Removes what a previous session deleted."""
        takes, problems = [], []
        if not self.root.is_dir():
            return takes, problems
        for folder in sorted(self.root.iterdir()):
            if folder.name.startswith(DELETED_PREFIX):
                shutil.rmtree(folder, ignore_errors=True)
                continue
            if folder.name.startswith(".") or not (folder / TAKE_FILE).is_file():
                continue
            try:
                takes.append(take_from_dict(json.loads((folder / TAKE_FILE).read_text(encoding="utf-8")), folder))
            except (OSError, ValueError, KeyError, TypeError) as error:
                problems.append(f"{folder.name}: {error}")
        takes.sort(key=lambda take: take.created)
        return takes, problems

    def save(self, take: Take) -> None:
        """Write the take's MIDI file and its JSON (MIDI first, so a listed take always has its file)."""
        take.folder = self.root / take.id
        take.folder.mkdir(parents=True, exist_ok=True)
        take.midi_name = take.midi_name or default_file_name(take)
        take.generated.write_midi(take.midi_path)
        self.update(take)

    def update(self, take: Take) -> None:
        """Rewrite the take's JSON (after a rename or a star)."""
        atomic_write_json(take.folder / TAKE_FILE, take_to_dict(take))

    def rename(self, take: Take, name: str) -> None:
        """Give the take a name; its MIDI file is renamed to match, when that name is free."""
        take.name = name.strip()
        wanted = safe_file_name(take.display_name)
        if wanted != take.midi_name and take.midi_path is not None and not (take.folder / wanted).exists():
            take.midi_path.rename(take.folder / wanted)
            take.midi_name = wanted
        self.update(take)

    def delete(self, take: Take) -> None:
        """Move the take's folder aside (``restore`` brings it back until the store is reopened)."""
        hidden = self.root / f"{DELETED_PREFIX}{take.id}"
        take.folder.rename(hidden)
        take.folder = hidden

    def restore(self, take: Take) -> None:
        folder = self.root / take.id
        take.folder.rename(folder)
        take.folder = folder
