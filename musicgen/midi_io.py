"""MIDI files in and out, via pretty_midi.

Reading merges every non-drum instrument into one stream and converts times to steps through
the file's own tempo map (ticks / resolution = quarter notes), so the result is tempo-free.
Writing places steps on a fixed tempo chosen at render time, in one track or one per voice.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import pretty_midi

from .files import atomic_write_bytes  # noqa: F401  (its home is files.py; kept here for older imports)
from .notes import STEPS_PER_BEAT, Piece, make_piece

DEFAULT_VELOCITY = 80
ALL_NOTES_OFF = 123  # MIDI controller that marks the end of the last bar
MAX_NUMERATOR = 255  # a MIDI time signature stores its numerator in one byte


def _bars_and_meters(pm: pretty_midi.PrettyMIDI, end_tick: int) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Bar-line steps and metre changes ``(step, numerator, denominator)`` from the file's time
    signatures (4/4 from 0 when it has none). A first signature that lasts one short bar before
    another signature is a pickup (how musicgen and many notation programs write one): it becomes
    a partial bar 0 in the metre that follows."""
    signatures = sorted(pm.time_signature_changes, key=lambda ts: ts.time)
    if not signatures:
        signatures = [pretty_midi.TimeSignature(4, 4, 0.0)]
    segments = []  # (start step, stop step, numerator, denominator, bar steps)
    for index, signature in enumerate(signatures):
        start = round(pm.time_to_tick(signature.time) / pm.resolution * STEPS_PER_BEAT)
        if index + 1 < len(signatures):
            stop = round(pm.time_to_tick(signatures[index + 1].time) / pm.resolution * STEPS_PER_BEAT)
        else:
            stop = max(start, round(end_tick / pm.resolution * STEPS_PER_BEAT))
        length = round(signature.numerator * 4 / signature.denominator * STEPS_PER_BEAT)
        if length > 0 and stop >= start:
            segments.append((start, stop, signature.numerator, signature.denominator, length))
    if not segments:
        segments = [(0, round(end_tick / pm.resolution * STEPS_PER_BEAT), 4, 4, 4 * STEPS_PER_BEAT)]
    pickup = (len(segments) >= 2 and segments[0][0] == 0 and segments[0][1] == segments[0][4]
              and segments[0][4] < segments[1][4])
    if pickup:
        segments = segments[1:]
    bars: list[int] = []
    meters = [(0 if i == 0 else start, numerator, denominator)
              for i, (start, _, numerator, denominator, _) in enumerate(segments)]
    for index, (start, stop, _, _, length) in enumerate(segments):
        last = index + 1 == len(segments)
        position = start
        while position < stop or (last and position == stop):
            bars.append(position)
            position += length
        if last and bars[-1] < stop:
            bars.append(position)  # close the bar the last note reaches into
    return bars, meters


def open_midi_file(path, reader=pretty_midi.PrettyMIDI):
    """Open a MIDI file with ``reader`` (pretty_midi's PrettyMIDI, or e.g. mido's MidiFile);
    ValueError naming the file if it is missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pretty_midi warns about odd but readable files
            return reader(str(path))
    except Exception as error:  # mido/pretty_midi raise many types for corrupt data
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{path.name}: not a readable MIDI file ({reason})") from None


def midi_to_piece(path) -> Piece:
    """Read a MIDI file into a Piece; raises ValueError naming the file if it is unusable."""
    path = Path(path)
    name = path.name
    pm = open_midi_file(path)
    raw = []
    end_tick = 0
    for instrument in pm.instruments:
        if instrument.is_drum:
            continue
        for note in instrument.notes:
            start_tick, end = pm.time_to_tick(note.start), pm.time_to_tick(note.end)
            end_tick = max(end_tick, end)
            start = round(start_tick / pm.resolution * STEPS_PER_BEAT)
            duration = round((end - start_tick) / pm.resolution * STEPS_PER_BEAT)
            raw.append((start, note.pitch, duration))
    if not raw:
        raise ValueError(f"{name}: the file holds no notes (drums are ignored)")
    bars, meters = _bars_and_meters(pm, end_tick)
    return make_piece(raw, bars, meta={"source": str(path)}, meters=meters)


def _time_signature_of(piece: Piece) -> tuple[int, int] | None:
    """The most common bar length of a piece without metre tokens, as a time signature a MIDI
    file can hold (numerator 1..255), or None."""
    gaps = [b - a for a, b in zip(piece.bars, piece.bars[1:]) if b > a]
    if not gaps:
        return None
    bar_steps = max(set(gaps), key=gaps.count)
    for denominator, unit in ((4, STEPS_PER_BEAT), (8, STEPS_PER_BEAT // 2), (16, STEPS_PER_BEAT // 4)):
        if bar_steps % unit == 0 and 1 <= bar_steps // unit <= MAX_NUMERATOR:
            return bar_steps // unit, denominator
    return None


def pickup_signature(steps: int) -> tuple[int, int] | None:
    """A time signature exactly ``steps`` long for a pickup bar (6 steps -> 1/8), or None."""
    for denominator, unit in ((4, STEPS_PER_BEAT), (8, STEPS_PER_BEAT // 2), (16, STEPS_PER_BEAT // 4)):
        if steps > 0 and steps % unit == 0 and steps // unit <= MAX_NUMERATOR:
            return steps // unit, denominator
    return None


def time_signatures(piece: Piece) -> list[tuple[int, int, int]]:
    """``(step, numerator, denominator)`` to write: the pickup as its own short bar, then the
    piece's metres (or one guessed from its bar lines when it has none)."""
    meters = list(piece.meters)
    if not meters:
        guessed = _time_signature_of(piece)
        meters = [(0, *guessed)] if guessed else []
    if not meters:
        return []
    pickup = piece.pickup
    written = []
    if pickup > 0 and pickup_signature(pickup):
        written.append((0, *pickup_signature(pickup)))
        first = (pickup, meters[0][1], meters[0][2])
        meters = [first] + [m for m in meters[1:] if m[0] > pickup]
    return written + meters


def piece_to_midi(piece: Piece, tempo: float = 120.0, program: int = 0,
                  velocity: int = DEFAULT_VELOCITY, transpose: int = 0, voices: int = 1,
                  shaped: bool = False) -> pretty_midi.PrettyMIDI:
    """Render a Piece at ``tempo`` quarter notes per minute with one General MIDI ``program``: one
    track, or with ``voices`` > 1 one named track per voice ("Soprano" ... "Bass", split by
    ``notation.voices.separate_voices``); ``shaped`` gives accents and phrase arcs
    (``musicgen.velocity``) instead of ``velocity`` on every note."""
    from .notation.voices import separate_voices, voice_names
    from .velocity import shaped_velocities

    if tempo <= 0:
        raise ValueError(f"tempo must be positive, got {tempo}")
    seconds_per_step = 60.0 / tempo / STEPS_PER_BEAT
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
    for step, numerator, denominator in time_signatures(piece):
        pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, step * seconds_per_step))
    loudness = dict(zip(piece.notes, shaped_velocities(piece))) if shaped else {}
    tracks = separate_voices(piece, voices) if voices > 1 else [list(piece.notes)]
    for notes, name in zip(tracks, voice_names(voices) if voices > 1 else ("musicgen",)):
        instrument = pretty_midi.Instrument(program=int(program), name=name)
        for note in notes:
            pitch = min(127, max(0, note.pitch + transpose))
            instrument.notes.append(pretty_midi.Note(
                velocity=int(loudness.get(note, velocity)), pitch=pitch,
                start=note.start * seconds_per_step, end=note.end * seconds_per_step))
        pm.instruments.append(instrument)
    if piece.bars and piece.bars[-1] > piece.length:
        # The file lasts to the closing bar line (a final rest included), as a DAW should show it.
        pm.instruments[0].control_changes.append(
            pretty_midi.ControlChange(ALL_NOTES_OFF, 0, piece.bars[-1] * seconds_per_step))
    return pm


def write_midi(piece: Piece, path, tempo: float = 120.0, program: int = 0, transpose: int = 0,
               voices: int = 1, shaped: bool = False) -> Path:
    """Write a Piece as a standard MIDI file atomically (``voices`` and ``shaped`` as in piece_to_midi)."""
    pm = piece_to_midi(piece, tempo=tempo, program=program, transpose=transpose, voices=voices, shaped=shaped)
    return atomic_write_bytes(path, lambda temp: pm.write(temp))
