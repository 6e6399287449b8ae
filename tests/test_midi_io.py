"""MIDI in and out: merging tracks, dropping drums, tempo independence, clear errors."""
from __future__ import annotations

import pretty_midi
import pytest

from musicgen.codec import piece_to_tokens, tokens_to_piece
from musicgen.midi_io import midi_to_piece, piece_to_midi, write_midi
from musicgen.notes import make_piece


def _write(pm, path):
    pm.write(str(path))
    return path


def test_tracks_merge_and_drums_drop(tmp_path):
    pm = pretty_midi.PrettyMIDI(initial_tempo=90)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(3, 4, 0))
    beat = 60 / 90
    for program, pitch in ((0, 60), (40, 72)):
        inst = pretty_midi.Instrument(program)
        inst.notes.append(pretty_midi.Note(80, pitch, 0, beat))
        pm.instruments.append(inst)
    pm.instruments[0].notes.append(pretty_midi.Note(80, 62, 3 * beat, 6 * beat))
    drums = pretty_midi.Instrument(0, is_drum=True)
    drums.notes.append(pretty_midi.Note(100, 36, 0, beat / 2))
    pm.instruments.append(drums)
    piece = midi_to_piece(_write(pm, tmp_path / "two.mid"))
    assert [(n.start, n.pitch, n.duration) for n in piece.notes] == [(0, 60, 12), (0, 72, 12), (36, 62, 36)]
    assert piece.bars == (0, 36, 72)  # 3/4 bars of 36 steps


def test_write_then_read_keeps_notes_at_any_tempo(tmp_path, chorale_like):
    for tempo in (60, 137.5):
        path = write_midi(chorale_like, tmp_path / f"t{tempo}.mid", tempo=tempo, program=19)
        back = midi_to_piece(path)
        assert [(n.start, n.pitch, n.duration) for n in back.notes] == \
               [(n.start, n.pitch, n.duration) for n in chorale_like.notes]
        assert pretty_midi.PrettyMIDI(str(path)).instruments[0].program == 19


def test_corrupt_and_empty_files_name_the_file(tmp_path):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(ValueError, match=r"^broken\.mid: not a readable MIDI file"):
        midi_to_piece(bad)
    empty = _write(pretty_midi.PrettyMIDI(), tmp_path / "empty.mid")
    with pytest.raises(ValueError, match=r"^empty\.mid: the file holds no notes"):
        midi_to_piece(empty)
    with pytest.raises(ValueError, match="no such file"):
        midi_to_piece(tmp_path / "missing.mid")


def test_time_signature_written_from_bars(tmp_path):
    piece = make_piece([(0, 60, 18), (18, 62, 18)], bars=[0, 36, 72])
    pm = piece_to_midi(piece)
    assert [(t.numerator, t.denominator) for t in pm.time_signature_changes] == [(3, 4)]
    jig = make_piece([(0, 60, 6)], bars=[0, 36, 72])
    assert tokens_to_piece(piece_to_tokens(jig)).bars == (0,)  # bars after the last note are not kept
