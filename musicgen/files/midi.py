"""MIDI files in and out, via pretty_midi.

Reading merges every non-drum instrument into one stream and converts times to steps through
the file's own tempo map (ticks / resolution = quarter notes), so the result is tempo-free.
Writing places steps on a fixed tempo chosen at render time, in one track or one per voice.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pretty_midi

from ..music.piece import STEPS_PER_BEAT, Piece, make_piece
from .writing import atomic_write_bytes  # noqa: F401  (its home is files.py; kept here for older imports)

DEFAULT_VELOCITY = 80
ALL_NOTES_OFF = 123  # MIDI controller that marks the end of the last bar
MAX_NUMERATOR = 255  # a MIDI time signature stores its numerator in one byte
DRUM_CHANNEL = 9  # General MIDI percussion (channel 10 counted from 1)
MAX_QUARTER_NOTES = 500_000  # a file longer than this (a day at 300 bpm) is taken for corrupt


def _bars_and_meters(
    signatures: list[tuple[int, int, int]], resolution: int, end_tick: int
) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Bar-line steps and metre changes ``(step, numerator, denominator)`` from the file's time
    signatures ``(tick, numerator, denominator)`` (4/4 from 0 when it has none). A first signature
    that lasts one short bar before another signature is a pickup (how musicgen and many notation
    programs write one): it becomes a partial bar 0 in the metre that follows."""
    signatures = sorted(signatures, key=lambda signature: signature[0]) or [(0, 4, 4)]
    segments = []  # (start step, stop step, numerator, denominator, bar steps)
    for index, (tick, numerator, denominator) in enumerate(signatures):
        start = round(tick / resolution * STEPS_PER_BEAT)
        if index + 1 < len(signatures):
            stop = round(signatures[index + 1][0] / resolution * STEPS_PER_BEAT)
        else:
            stop = max(start, round(end_tick / resolution * STEPS_PER_BEAT))
        length = round(numerator * 4 / denominator * STEPS_PER_BEAT) if denominator > 0 else 0
        if length > 0 and stop >= start:
            segments.append((start, stop, numerator, denominator, length))
    if not segments:
        segments = [(0, round(end_tick / resolution * STEPS_PER_BEAT), 4, 4, 4 * STEPS_PER_BEAT)]
    pickup = (
        len(segments) >= 2
        and segments[0][0] == 0
        and segments[0][1] == segments[0][4]
        and segments[0][4] < segments[1][4]
    )
    if pickup:
        segments = segments[1:]
    bars: list[int] = []
    meters = [
        (0 if i == 0 else start, numerator, denominator)
        for i, (start, _, numerator, denominator, _) in enumerate(segments)
    ]
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


def _notes_and_signatures(midi) -> tuple[list[tuple], list[tuple[int, int, int]], int]:
    """Notes ``(start tick, pitch, end tick, (track, channel))`` of every channel but the drums' and the time
    signatures ``(tick, numerator, denominator)`` of the first track of a mido MidiFile, and the
    tick of the last all-notes-off controller (how musicgen marks a closing bar line after a rest).

    Notes pair as pretty_midi pairs them: a note-off ends every open note of its channel and pitch
    that began at an earlier tick. Ticks are read directly, so a long file costs no tick-to-time
    table (pretty_midi refuses files past 10 million ticks for that reason)."""
    notes, signatures, end_mark = [], [], 0
    for index, track in enumerate(midi.tracks):
        tick = 0
        sounding: dict[tuple[int, int], list[int]] = {}  # (channel, pitch) -> start ticks
        for message in track:
            tick += message.time
            if message.type == "time_signature":
                if index == 0:
                    signatures.append((tick, message.numerator, message.denominator))
            elif message.type == "control_change" and message.control == ALL_NOTES_OFF:
                end_mark = max(end_mark, tick)
            elif message.type == "note_on" and message.velocity > 0:
                sounding.setdefault((message.channel, message.note), []).append(tick)
            elif message.type in ("note_on", "note_off") and (message.channel, message.note) in sounding:
                key = (message.channel, message.note)
                ending = [start for start in sounding[key] if start != tick]
                if message.channel != DRUM_CHANNEL:
                    notes.extend((start, message.note, tick, (index, message.channel)) for start in ending)
                staying = [start for start in sounding[key] if start == tick]
                if ending and staying:
                    sounding[key] = staying
                else:
                    del sounding[key]
    return notes, signatures, end_mark


def midi_to_piece(path, voices: bool = False, track: int | None = None) -> Piece:
    """Read a MIDI file into a Piece; raises ValueError naming the file if it is unusable.

    Long files are fine (a 200,000-note primer); one that would last more than
    ``MAX_QUARTER_NOTES`` is taken for corrupt. With ``voices``, a file with chords comes in four
    voices (``voicing.assign_voices``: its tracks where each plays one line, else separated);
    without, every note is voice 0. ``track`` (1-based): only the notes of the file's track-th
    track that has notes (a melody in a file with an accompaniment)."""
    import mido

    path = Path(path)
    name = path.name
    midi = open_midi_file(path, mido.MidiFile)
    resolution = midi.ticks_per_beat
    if resolution < 0:  # SMPTE time division (the header's top bit): no beats to count steps in
        raise ValueError(f"{name}: not a readable MIDI file (its time is in SMPTE frames, not beats)")
    if resolution == 0:
        raise ValueError(f"{name}: not a readable MIDI file (its header gives 0 ticks per beat)")
    notes, signatures, end_mark = _notes_and_signatures(midi)
    if not notes:
        raise ValueError(f"{name}: the file holds no notes (drums are ignored)")
    if track is not None:
        tracks = sorted({line[0] for *_, line in notes})
        if not 1 <= track <= len(tracks):
            raise ValueError(f"{name}: no track {track}; the file has {len(tracks)} tracks with notes")
        notes = [note for note in notes if note[3][0] == tracks[track - 1]]
    end_tick = max(note[2] for note in notes)
    if end_tick / resolution > MAX_QUARTER_NOTES:
        raise ValueError(
            f"{name}: not a readable MIDI file (it would last {end_tick // resolution:,} quarter "
            f"notes, more than {MAX_QUARTER_NOTES:,}; it is likely corrupt)"
        )
    raw = [
        (round(start / resolution * STEPS_PER_BEAT), pitch, round((end - start) / resolution * STEPS_PER_BEAT))
        for start, pitch, end, _ in notes
    ]
    bars, meters = _bars_and_meters(signatures, resolution, max(end_tick, end_mark))
    piece = make_piece(raw, bars, meta={"source": str(path)}, meters=meters)
    if not voices:
        return piece
    from ..music.voicing import assign_voices

    lines: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for note, (_, _, _, line) in zip(raw, notes):
        lines.setdefault(line, []).append(note)
    return assign_voices(piece, list(lines.values()))


def _time_signature_of(piece: Piece) -> tuple[int, int] | None:
    """The most common bar length of a piece without metre tokens, as a time signature a MIDI
    file can hold (numerator 1..255), or None."""
    gaps = [b - a for a, b in zip(piece.bars, piece.bars[1:]) if b > a]
    if not gaps:
        return None
    return pickup_signature(max(set(gaps), key=gaps.count))


def pickup_signature(steps: int) -> tuple[int, int] | None:
    """A time signature exactly ``steps`` long (6 steps -> 1/8; for a pickup bar, or a guessed bar
    length), in quarters, eighths or sixteenths with a numerator a MIDI file can hold; or None."""
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
    short_bar = pickup_signature(pickup)
    if short_bar:
        written.append((0, *short_bar))
        first = (pickup, meters[0][1], meters[0][2])
        meters = [first] + [m for m in meters[1:] if m[0] > pickup]
    return written + meters


def piece_to_midi(
    piece: Piece,
    tempo: float = 120.0,
    program: int = 0,
    velocity: int = DEFAULT_VELOCITY,
    transpose: int = 0,
    voices: int = 1,
    shaped: bool = False,
) -> pretty_midi.PrettyMIDI:
    """Render a Piece at ``tempo`` quarter notes per minute with one General MIDI ``program``: one
    track, or with ``voices`` > 1 one named track per voice ("Soprano" ... "Bass", split by
    ``music.voices.separate_voices``); ``shaped`` gives accents and phrase arcs
    (``musicgen.music.velocity``) instead of ``velocity`` on every note."""
    from ..music.velocity import shaped_velocities
    from ..music.voices import separate_voices, voice_names

    if tempo <= 0:
        raise ValueError(f"tempo must be positive, got {tempo}")
    seconds_per_step = 60.0 / tempo / STEPS_PER_BEAT
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
    for step, numerator, denominator in time_signatures(piece):
        pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, step * seconds_per_step))
    # (start, pitch) -> velocity; two voices on one pitch (a unison) sound as one note in one track
    loudness = {(n.start, n.pitch): v for n, v in zip(piece.notes, shaped_velocities(piece))} if shaped else {}
    if voices > 1:
        tracks = separate_voices(piece, voices)
    elif piece.voiced:
        tracks = [list(make_piece([(n.start, n.pitch, n.duration) for n in piece.notes]).notes)]
    else:
        tracks = [list(piece.notes)]
    for notes, name in zip(tracks, voice_names(voices) if voices > 1 else ("musicgen",)):
        instrument = pretty_midi.Instrument(program=int(program), name=name)
        for note in notes:
            pitch = min(127, max(0, note.pitch + transpose))
            instrument.notes.append(
                pretty_midi.Note(
                    velocity=int(loudness.get((note.start, note.pitch), velocity)),
                    pitch=pitch,
                    start=note.start * seconds_per_step,
                    end=note.end * seconds_per_step,
                )
            )
        pm.instruments.append(instrument)
    if piece.bars and piece.bars[-1] > piece.length:
        # The file lasts to the closing bar line (a final rest included), as a DAW should show it.
        pm.instruments[0].control_changes.append(
            pretty_midi.ControlChange(ALL_NOTES_OFF, 0, piece.bars[-1] * seconds_per_step)
        )
    return pm


def write_midi(
    piece: Piece,
    path,
    tempo: float = 120.0,
    program: int = 0,
    transpose: int = 0,
    voices: int = 1,
    shaped: bool = False,
) -> Path:
    """Write a Piece as a standard MIDI file atomically (``voices`` and ``shaped`` as in piece_to_midi)."""
    pm = piece_to_midi(piece, tempo=tempo, program=program, transpose=transpose, voices=voices, shaped=shaped)
    return atomic_write_bytes(path, lambda temp: pm.write(temp))
