"""The app's long jobs as plain generators: each yields ``Progress`` and returns its result.

``workers.JobWorker`` runs any of them in a thread (re-emitting progress as signals, checking for
Cancel between steps), so there is one worker class and no Qt here. Every job imports the heavy
parts of musicgen (torch among them) itself, when it first runs, inside the worker's thread.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import threading
import wave
from dataclasses import dataclass, field
from pathlib import Path

from musicgen.progress import Progress

from .control_values import meter_default_label
from .music_text import format_duration
from .takes import Take, TakeStore, fingerprint_of, key_of

MAX_PRIMER_NOTES = 20_000  # a 400-bar four-voice take has ~4,300; beyond this a primer is a whole album
MAX_PRIMER_MINUTES = 30
MAX_VOICE_COLOURS = 6  # voices told apart in the roll at most
STEREO_SPREAD = 0.6  # pan of the outer voices: -0.6 (left) .. +0.6 (right); 1.0 would be hard left/right
PCM_FULL_SCALE = 32767


@dataclass
class ModelInfo:
    """What the settings panel needs from the loaded model (computed in the worker)."""

    name: str
    genres: list  # musicgen.genres.Genre, in model order
    default_meters: dict[str, str]  # genre key -> "6/8", or "4/4, 3/4, 2/4…" when each piece draws one
    known_meters: list[str]  # every metre the model saw, most pieces first
    instrument_names: list[str]  # the 128 General MIDI names
    features: dict[str, str] = field(default_factory=dict)  # feature -> "" when available, else why not
    voices: dict[str, int] = field(default_factory=dict)  # genre key -> voices it is written in (4: chorales)


@dataclass
class TakeDraft:
    """What the window knows about a take before it exists."""

    title: str
    primer_summary: str = ""
    parent: str | None = None
    reworked: tuple[int, int] | None = None
    reworked_voice: int | None = None  # the one voice written anew in ``reworked`` (None = all)


@dataclass
class TakeResult:
    """A job's new take, or the existing take it duplicates (then ``take`` is None)."""

    take: Take | None
    duplicate_of: str | None = None


def missing_feature(module: str, attribute: str | None = None) -> str:
    """ "" when ``module`` (and its ``attribute``) can be imported, else a line saying it is missing."""
    try:
        if importlib.util.find_spec(module) is None:
            return f"{module} is not part of this version of musicgen"
        if attribute is not None and not hasattr(importlib.import_module(module), attribute):
            return f"{module}.{attribute} is not part of this version of musicgen"
    except ImportError as error:
        return f"{module} cannot be loaded ({error})"
    return ""


def load_model(model_name: str | None):
    """Load a model; returns (Generator, TakeAnalyser, ModelInfo)."""
    yield Progress(0, 1, "loading the model")
    from pretty_midi import program_to_instrument_name

    from musicgen.model.model_files import load_model as load
    from musicgen.sampling.generate import Generator

    loaded = load(model_name)
    generator = Generator(loaded)
    features = {
        "regenerate": missing_feature("musicgen.sampling.regenerate", "regenerate"),
        "score": missing_feature("musicgen.notation", "export_score"),
        "voices": missing_feature("musicgen.music.voices", "separate_voices"),
        "harmonise": missing_feature("musicgen.sampling.harmonise", "harmonise"),
        "style fit": missing_feature("musicgen.evaluation.critic", "load_critic"),
        "originality": missing_feature("musicgen.evaluation.originality", "load_index"),
    }
    info = ModelInfo(
        loaded.name,
        list(generator.genres),
        {g.key: meter_default_label(generator.meter_odds(g.key)) for g in generator.genres},
        generator.known_meters(),
        [program_to_instrument_name(p) for p in range(128)],
        features,
        {g.key: generator.genre_voices(g.key) for g in generator.genres},
    )
    return generator, TakeAnalyser(loaded, features), info


class TakeAnalyser:
    """Voices, style fit and originality of takes. The critic and the originality index load once
    (``warm_up``, run in the background after the model); a lock keeps two jobs from loading them twice."""

    def __init__(self, loaded_model, features: dict[str, str]):
        self.loaded = loaded_model
        self.features = features
        self._critic = self._index = None
        self._tried: set[str] = set()
        self._lock = threading.Lock()
        self.problems: dict[str, str] = {}  # analysis -> why it is off

    def _dataset_path(self):
        """The model's training dataset folder when it is on this machine (else the default corpus)."""
        recorded = (self.loaded.card.get("dataset") or {}).get("path")
        return recorded if recorded and (Path(recorded) / "dataset.json").is_file() else None

    def _load(self, name: str, loader):
        if name not in self._tried and not self.features.get(name):
            self._tried.add(name)
            try:
                return loader()
            except (ValueError, OSError) as error:
                self.problems[name] = f"{name} is off: {error}"
        return None

    def warm_up(self) -> None:
        """Load the critic and the index now (the first use may train or build them: seconds)."""
        with self._lock:
            if self._critic is None:
                self._critic = self._load("style fit", self._load_critic)
            if self._index is None:
                self._index = self._load("originality", self._load_index)

    def _load_critic(self):
        from musicgen.evaluation.critic import load_critic

        return load_critic(self._dataset_path())

    def _load_index(self):
        from musicgen.evaluation.originality import load_index

        return load_index(self.loaded)

    def voices(self, generated) -> tuple[tuple[int, ...] | None, tuple[str, ...]]:
        """The voice of each note (top voice 0) and the voices' names, for the genres written in
        voices (chorales, Palestrina: as in the MIDI tracks and scores); None for one line."""
        if self.features.get("voices"):
            return None, ()
        from musicgen.music.voices import MAX_SCORE_VOICES, separate_voices, voice_names, voices_for_genre

        if generated.piece.voiced:  # written in voices (harmonised, or a four-voice style): each note knows its own
            count = MAX_SCORE_VOICES
        else:
            count = getattr(generated, "voices", None) or voices_for_genre(generated.request.genre)
        if count < 2 or not generated.piece.notes:
            return None, ()
        voice_of = {
            note: index for index, notes in enumerate(separate_voices(generated.piece, count)) for note in notes
        }
        return tuple(voice_of[note] for note in generated.piece.notes), tuple(voice_names(count))

    def judge(self, generated) -> tuple[float | None, dict | None, list[str]]:
        """(style fit 0..1, originality {"notes", "share", "source"}, problems) of a piece."""
        self.warm_up()
        style_fit, originality = generated.style_fit, None
        with self._lock:
            if self._critic is not None and style_fit is None:
                try:
                    style_fit = round(
                        self._critic.style_fit(generated.piece, generated.request.genre or self.loaded.genre_keys[0]), 3
                    )
                except ValueError as error:
                    self.problems["style fit"] = f"style fit is off: {error}"
            if self._index is not None and generated.piece.notes:
                found = self._index.check(generated.piece)
                originality = {"notes": found.notes, "share": round(found.share, 3), "source": found.source}
        return style_fit, originality, list(self.problems.values())


def warm_up(analyser: TakeAnalyser):
    """Load the style critic and the originality index in the background."""
    yield Progress(0, 1, "loading the style critic and the originality index")
    analyser.warm_up()
    return list(analyser.problems.values())


def judge_take(analyser: TakeAnalyser, take: Take):
    """Style fit and originality of a take; returns ``TakeAnalyser.judge``'s triple."""
    yield Progress(0, 1, "listening to the take (style fit, originality)")
    return analyser.judge(take.generated)


def relay(steps):
    """Pass a core generator's progress on (without its result) and return its result."""
    result = None
    for progress in steps:
        if progress.result is not None:
            result = progress.result
            progress = Progress(progress.done, progress.total, progress.message)
        yield progress
    return result


def finish_take(generated, analyser: TakeAnalyser | None, draft: TakeDraft, store: TakeStore, known: dict[str, str]):
    """Analyse and store a new piece as a take, unless the same music is a take already."""
    fingerprint = fingerprint_of(generated)
    if fingerprint in known:
        return TakeResult(None, duplicate_of=known[fingerprint])
    yield Progress(1, 1, "writing the take")
    take = Take(
        store.new_id(),
        generated,
        draft.title,
        primer_summary=draft.primer_summary,
        parent=draft.parent,
        reworked=draft.reworked,
        reworked_voice=draft.reworked_voice,
        fingerprint=fingerprint,
        key=key_of(generated),
    )
    if analyser is not None:
        take.voices, take.voice_names = analyser.voices(generated)
    store.save(take)
    return TakeResult(take)


def generate_take(generator, analyser, fields: dict, draft: TakeDraft, store: TakeStore, known: dict[str, str]):
    """Generate from GenerationRequest ``fields`` and store the take."""
    from musicgen.sampling.request import GenerationRequest

    generated = yield from relay(generator.generate(GenerationRequest(**fields)))
    if generated is None:
        raise ValueError("the generator stopped without producing a piece")
    if generated.request.primer and not draft.primer_summary:
        draft.primer_summary = primer_summary(generated.piece)
    return (yield from finish_take(generated, analyser, draft, store, known))


def primer_summary(piece) -> str:
    """What a continued piece took from its MIDI file, e.g. "212 notes, 8 bars"."""
    notes = sum(1 for note in piece.notes if note.start < piece.primer_end)
    bars = max(0, len([b for b in piece.bars if b <= piece.primer_end]) - 1)
    return f"{notes} notes" + (f", {bars} bars" if bars else "")


def regenerate_take(
    generator,
    analyser,
    take: Take,
    first: int,
    last: int | None,
    seed: int,
    style_strength: float,
    draft: TakeDraft,
    store: TakeStore,
    known: dict[str, str],
    voice: int | None = None,
):
    """New bars ``first..last`` for ``take`` (every other note kept; with ``voice`` 0..3 only that voice
    is written anew), stored as a new take."""
    from musicgen.sampling.regenerate import regenerate

    source = take.generated if take.generated.tokens else str(take.midi_path)
    steps = regenerate(generator, source, first, last, seed=seed, style_strength=style_strength, voice=voice)
    generated = yield from relay(steps)
    return (yield from finish_take(generated, analyser, draft, store, known))


def harmonise_take(
    generator, analyser, path: str, genre: str, seed: int, draft: TakeDraft, store: TakeStore, known: dict[str, str]
):
    """Harmonise the melody of MIDI file ``path`` in four-voice style ``genre`` (the melody kept as the
    soprano) and store it as a take; ValueError with the library's one-line reason when it cannot be."""
    from musicgen.files.midi import midi_to_piece
    from musicgen.sampling.harmonise import harmonise, prepare_melody

    name = Path(path).name
    yield Progress(0, 1, f"reading {name}")
    try:
        piece = midi_to_piece(path)
    except (OSError, EOFError, KeyError, IndexError, TypeError) as error:
        raise ValueError(f"{name} is not a MIDI file that can be read ({type(error).__name__})") from error
    try:
        melody = prepare_melody(piece)
        generated = yield from relay(harmonise(generator, melody, genre=genre, seed=seed))
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from error
    if generated is None:
        raise ValueError("the harmoniser stopped without producing a piece")
    # The take keeps the seed asked for (the first candidate's): harmonising with it again gives this take.
    generated = dataclasses.replace(generated, request=dataclasses.replace(generated.request, seed=seed))
    moved = (
        f", moved {abs(melody.shift) // 12} octave(s) {'up' if melody.shift > 0 else 'down'}" if melody.shift else ""
    )
    draft.primer_summary = f"melody of {name}: {len(melody.notes)} notes{moved}"
    return (yield from finish_take(generated, analyser, draft, store, known))


def check_primer(path: str):
    """Read a MIDI file the musician chose to continue; returns (notes, seconds).

    ValueError with a one-line reason when it cannot be read, has no notes or is too long to continue."""
    name = Path(path).name
    yield Progress(0, 1, f"reading {name}")
    import mido

    try:
        midi = mido.MidiFile(path)
        seconds = midi.length
    except (OSError, ValueError, EOFError, KeyError, IndexError, TypeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{name} is not a MIDI file that can be read ({reason})") from error
    notes = sum(1 for track in midi.tracks for message in track if message.type == "note_on" and message.velocity)
    if notes == 0:
        raise ValueError(f"{name} has no notes to continue")
    if notes > MAX_PRIMER_NOTES or seconds > MAX_PRIMER_MINUTES * 60:
        raise ValueError(
            f"{name} is too long to continue ({notes:,} notes, {format_duration(seconds)}): at most "
            f"{MAX_PRIMER_NOTES:,} notes and {MAX_PRIMER_MINUTES} minutes; save the part to continue as its own file"
        )
    return notes, seconds


def load_takes(store: TakeStore):
    """Every stored take and the folders that could not be read."""
    yield Progress(0, 1, "reading your takes")
    return store.load_all()


def render_audio(
    generated, path: Path, voices: tuple[int, ...] | None = None, stereo: bool = False, only: frozenset | None = None
):
    """Render a take to a WAV file (stereo: its voices spread left to right; ``only``: just those
    voices, mono); returns (path, backend)."""
    yield Progress(0, 1, "rendering the sound")
    from musicgen.files.audio import render_audio as render
    from musicgen.files.audio import write_wav
    from musicgen.files.midi import piece_to_midi
    from musicgen.music.piece import make_piece

    piece = generated.piece
    if not stereo:
        if only is not None and voices is not None:
            kept = [(n.start, n.pitch, n.duration) for n, v in zip(piece.notes, voices) if v in only]
            part = make_piece(kept, piece.bars, piece.primer_end, piece.meta, piece.meters)
            audio, backend = render(piece_to_midi(part, tempo=generated.tempo, program=generated.program))
        else:
            audio, backend = render(generated.to_pretty_midi())
        write_wav(path, audio)
        return str(path), backend
    import numpy as np

    count = max(voices) + 1 if voices else 1
    channels, backend = [], ""
    for voice in range(count):
        notes = [
            (n.start, n.pitch, n.duration) for n, v in zip(piece.notes, voices or [0] * len(piece.notes)) if v == voice
        ]
        if not notes:
            continue
        part = make_piece(notes, piece.bars, piece.primer_end, piece.meta, piece.meters)
        audio, backend = render(piece_to_midi(part, tempo=generated.tempo, program=generated.program))
        channels.append((voice, audio))
        yield Progress(voice + 1, count + 1, f"rendered voice {voice + 1} of {count}")
    length = max(len(audio) for _, audio in channels)
    mix = np.zeros((length, 2))
    for voice, audio in channels:
        pan = 0.0 if count == 1 else STEREO_SPREAD * (2 * voice / (count - 1) - 1)  # top voice on the left
        angle = (pan + 1) * math.pi / 4  # equal-power pan law
        mix[: len(audio), 0] += audio * math.cos(angle)
        mix[: len(audio), 1] += audio * math.sin(angle)
    write_stereo_wav(path, mix)
    return str(path), backend


def write_stereo_wav(path: Path, samples) -> None:
    """Write float samples (N, 2) as a 16-bit stereo WAV, normalised to a 0.9 peak, atomically."""
    import numpy as np

    from musicgen.files.audio import SAMPLE_RATE, normalise
    from musicgen.files.writing import atomic_write_bytes

    pcm = np.round(np.clip(normalise(samples), -1, 1) * PCM_FULL_SCALE).astype("<i2")  # (N, 2) interleaved

    def write(temp: str) -> None:
        with wave.open(temp, "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(pcm.tobytes())

    atomic_write_bytes(path, write)


def export_score(generated, path: str, title: str):
    """Write MusicXML or ABC (by the file's ending); returns the path."""
    yield Progress(0, 1, f"writing {Path(path).name}")
    from musicgen.notation import export_score as export

    return str(export(generated, path, title=title))


def list_midi_ports():
    """Names of the system's MIDI output ports; ValueError saying why there are none."""
    yield Progress(0, 1, "looking for MIDI ports")
    from musicgen.files.midi_port import output_port_names

    return output_port_names()


def play_to_port(midi_path: Path, port: str):
    """Send a take's MIDI file to a MIDI output port in real time; yields seconds played."""
    from musicgen.files.midi_port import play_midi_file

    for played in play_midi_file(midi_path, port):
        yield Progress(played.done, played.total, played.message)
    return port
