"""Plain containers for symbolic music in beat-relative time.

Times are integers in *steps*: STEPS_PER_BEAT steps make one quarter note (a "beat"),
so 16ths (3 steps), dotted values and triplets (4 steps) are exact and tempo stays a
playback choice. Seconds only appear when a piece is rendered (see ``files.midi``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

STEPS_PER_BEAT = 12  # 12 per quarter: 16ths (3), 8th triplets (4), 16th triplets (2)
MIN_PITCH = 21  # A0, lowest piano key
MAX_PITCH = 108  # C8, highest piano key
MAX_VOICES = 4  # voices a note may belong to: 0 = soprano (or a tune's one line), 1 alto, 2 tenor, 3 bass


@dataclass(frozen=True, order=True)
class Note:
    """One note: ``start`` and ``duration`` in steps, ``pitch`` as a MIDI number, ``voice`` 0..3
    (soprano, alto, tenor, bass; a one-line tune's notes are all voice 0)."""

    start: int
    pitch: int
    duration: int
    voice: int = 0

    def __post_init__(self) -> None:
        if not MIN_PITCH <= self.pitch <= MAX_PITCH:
            raise ValueError(f"pitch {self.pitch} outside {MIN_PITCH}..{MAX_PITCH}")
        if self.start < 0:
            raise ValueError(f"note start {self.start} is negative")
        if self.duration <= 0:
            raise ValueError(f"note duration {self.duration} is not positive")
        if not 0 <= self.voice < MAX_VOICES:
            raise ValueError(f"voice {self.voice} outside 0..{MAX_VOICES - 1}")

    @property
    def end(self) -> int:
        """Step at which the note stops sounding."""
        return self.start + self.duration


@dataclass(frozen=True)
class Piece:
    """A polyphonic piece: notes sorted by (start, pitch) and bar-line positions in steps.

    ``bars`` holds the step of every bar line (downbeat) in ascending order; it may be empty
    when the source has no metre. ``primer_end`` marks, for a continued piece, the step where
    the given primer ends and generated music begins (0 when there is no primer).
    """

    notes: tuple[Note, ...]
    bars: tuple[int, ...] = ()
    primer_end: int = 0
    meta: dict = field(default_factory=dict, compare=False)
    meters: tuple[tuple[int, int, int], ...] = ()  # (step, numerator, denominator) at each change
    last_bars: tuple[int, ...] = ()  # bar lines that start the last bar of a part (a strain's end)

    @property
    def length(self) -> int:
        """Steps from 0 to the end of the last sounding note."""
        return max((n.end for n in self.notes), default=0)

    @property
    def end(self) -> int:
        """Steps from 0 to the end of the piece: its last note or its closing bar line."""
        return max(self.length, self.bars[-1] if self.bars else 0)

    @property
    def pickup(self) -> int:
        """Steps before the first bar line (a partial bar 0, the anacrusis); 0 when none."""
        return self.bars[0] if self.bars else 0

    def meter_at(self, step: int) -> tuple[int, int] | None:
        """The time signature ``(numerator, denominator)`` in force at ``step``, or None."""
        current = None
        for start, numerator, denominator in self.meters:
            if start > step and current is not None:
                break
            current = (numerator, denominator)
        return current

    def pitches(self) -> list[int]:
        """MIDI pitches of all notes, in order."""
        return [n.pitch for n in self.notes]

    @property
    def voiced(self) -> bool:
        """True when the notes carry voices (a four-voice piece: some note is not voice 0)."""
        return any(n.voice for n in self.notes)


def fold_pitch(pitch: int) -> int:
    """Move a pitch by octaves into the piano range MIN_PITCH..MAX_PITCH."""
    while pitch < MIN_PITCH:
        pitch += 12
    while pitch > MAX_PITCH:
        pitch -= 12
    return pitch


def make_piece(raw_notes, bars=(), primer_end: int = 0, meta: dict | None = None, meters=(), last_bars=()) -> Piece:
    """Build a clean Piece from ``(start, pitch, duration)`` triples or ``(start, pitch, duration,
    voice)`` quadruples in steps.

    Pitches are folded into the piano range, durations of 0 become 1 step, duplicate notes
    (same start, pitch and voice) keep the longer one, and a note that would still sound when the
    same pitch starts again in its voice is cut there, so no MIDI note can get stuck. Two voices
    may sing one pitch (a unison).
    """
    by_key: dict[tuple[int, int, int], int] = {}
    for raw in raw_notes:
        start, pitch, duration = max(0, int(raw[0])), fold_pitch(int(raw[1])), max(1, int(raw[2]))
        voice = int(raw[3]) if len(raw) > 3 else 0
        key = (start, pitch, voice)
        by_key[key] = max(duration, by_key.get(key, 0))
    notes: list[Note] = []
    last_by_pitch: dict[tuple[int, int], int] = {}  # (pitch, voice) -> index in notes of its latest note
    for start, pitch, voice in sorted(by_key):
        duration = by_key[(start, pitch, voice)]
        previous = last_by_pitch.get((pitch, voice))
        if previous is not None and notes[previous].end > start:
            old = notes[previous]
            notes[previous] = Note(old.start, old.pitch, start - old.start, old.voice)
        last_by_pitch[(pitch, voice)] = len(notes)
        notes.append(Note(start, pitch, duration, voice))
    notes.sort()
    clean_bars = tuple(sorted({int(b) for b in bars if b >= 0}))
    by_step: dict[int, tuple[int, int]] = {}
    for step, numerator, denominator in meters:  # a later change at the same step wins
        by_step[max(0, int(step))] = (int(numerator), int(denominator))
    clean_meters = tuple((step, *by_step[step]) for step in sorted(by_step))
    clean_last = tuple(sorted({int(b) for b in last_bars} & set(clean_bars)))
    return Piece(tuple(notes), clean_bars, int(primer_end), dict(meta or {}), clean_meters, clean_last)
