"""Harmonise a melody in the app and rewrite one voice (issue 25), offscreen with the tiny four-voice
model (``choir_model``: "choir" in four voices, "rise" in one line)."""

from __future__ import annotations

import pretty_midi
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from test_gui import WAIT_MS, dialogs, open_window, pick, save_dialog_answers, settings  # noqa: F401

from gui import file_actions, file_dialogs, jobs
from gui.takes import TakeStore
from musicgen.files.midi import midi_to_piece

TUNE = [72, 71, 72, 74, 76, 74, 72, 71, 69, 71, 72, 74, 72, 71, 72, 72]  # four bars of quarter notes
VOICES = ("Soprano", "Alto", "Tenor", "Bass")
SEED = 2


def melody_file(folder, pitches, name="tune.mid", numerator=4):
    """A one-line MIDI file of quarter notes at 120 BPM in ``numerator``/4."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(numerator, 4, 0))
    track = pretty_midi.Instrument(0)
    for k, pitch in enumerate(pitches):
        track.notes.append(pretty_midi.Note(80, pitch, k * 0.5, k * 0.5 + 0.5))
    midi.instruments.append(track)
    path = folder / name
    midi.write(str(path))
    return path


def soprano(piece):
    return [(n.start, n.pitch, n.duration) for n in piece.notes if n.voice == 0]


@pytest.fixture
def choir_window(open_window, choir_model):  # noqa: F811
    """A window on the four-voice toy model, its seed kept (the tiny model's takes differ by seed)."""
    window = open_window(choir_model)
    window.controls.seed_spin.setValue(SEED)
    window.controls.keep_seed_check.setChecked(True)
    return window


def test_harmonise_melody_makes_a_four_voice_take_in_a_worker(qtbot, choir_window, tmp_path, monkeypatch, dialogs):  # noqa: F811
    window = choir_window
    tune = melody_file(tmp_path, TUNE)
    monkeypatch.setattr(file_dialogs, "ask_open_path", lambda *args: str(tune))
    pick(window.controls.genre_combo, "rise")  # a style in one line: the model's four-voice style is used
    assert window.harmonise_action.isEnabled() and "choir" in window.harmonise_button.toolTip()
    progress = []
    original = window._on_progress
    monkeypatch.setattr(window, "_on_progress", lambda *args: (progress.append(args), original(*args)))
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        window.harmonise_button.click()
        assert window.busy and window.progress_bar.isVisible() and window.history.takes == []  # not blocking
    take = blocker.args[0]
    assert dialogs == [] and not window.busy and any("harmonis" in message for *_, message in progress)
    generated = take.generated
    assert generated.request.genre == "choir" and generated.request.seed == SEED
    assert soprano(generated.piece) == soprano(midi_to_piece(tune))  # the melody, note for note
    assert {n.voice for n in generated.piece.notes} == {0, 1, 2, 3}
    assert "tune.mid harmonised" in take.display_name and window.current is take
    # the voice legend names the four voices, and the roll colours them
    assert take.voice_names == VOICES and window.voice_legend.isVisible() and window.voice_legend.names == VOICES
    assert window.roll.voices == take.voices
    # a take like any other: stored with its settings, saved as MIDI
    stored, problems = TakeStore(window.store.root).load_all()
    assert problems == [] and stored[0].generated.request == generated.request and stored[0].voice_names == VOICES
    save_dialog_answers(monkeypatch, tmp_path / "harmonised.mid")
    window.save_action.trigger()
    saved = midi_to_piece(tmp_path / "harmonised.mid")  # (a toy style's voices share one track: unisons merge)
    assert {(n.start, n.pitch) for n in saved.notes} == {(n.start, n.pitch) for n in generated.piece.notes}


def test_a_melody_the_style_cannot_carry_gets_one_line_from_the_library(qtbot, choir_window, tmp_path, dialogs):  # noqa: F811
    window = choir_window
    for pitches, name, numerator, reason in (
        ([72, 74, 76] * 4, "waltz.mid", 3, "never saw"),  # the model knows choir only in 4/4
        ([48, 60, 72, 84], "wide.mid", 4, "more than a soprano sings"),
    ):
        with qtbot.waitSignal(window.generation_stopped, timeout=WAIT_MS) as blocker:
            assert window.files.harmonise_file(str(melody_file(tmp_path, pitches, name, numerator)))
        assert blocker.args == ["failed"] and not window.busy
        kind, title, text = dialogs[-1]
        assert title == "Could not harmonise" and name in text and reason in text and "\n" not in text
    assert window.history.takes == [] and window.generate_button.isEnabled()
    assert not window.files.harmonise_file(str(tmp_path / "gone.mid")) and "no such file" in dialogs[-1][2]


def test_a_dropped_melody_is_harmonised_when_asked(qtbot, choir_window, tmp_path, monkeypatch):
    window = choir_window
    pick(window.controls.genre_combo, "choir")
    asked = []
    monkeypatch.setattr(file_actions, "ask_drop_use", lambda parent, name, at: asked.append(name) or "harmonise")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(melody_file(tmp_path, TUNE, "dropped.mid")))])
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        window.dropEvent(QDropEvent(QPointF(20, 20), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert asked == ["dropped.mid"] and window.controls.primer_path is None  # harmonised, not continued
    assert blocker.args[0].generated.request.genre == "choir" and "dropped.mid" in blocker.args[0].display_name


def test_regenerate_rewrites_only_the_chosen_voice_and_keeps_every_other_note(qtbot, choir_window, monkeypatch):
    window = choir_window
    tools = window.take_tools
    pick(window.controls.genre_combo, "rise")
    window.controls.bars_spin.setValue(4)
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS):
        window.generate_button.click()
    assert not tools.voice_combo.isEnabled() and tools.chosen_voice() is None  # one line: every voice
    pick(window.controls.genre_combo, "choir")
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        window.generate_button.click()
    take = blocker.args[0]
    assert take.voice_names == VOICES and tools.voice_combo.isEnabled()
    assert [tools.voice_combo.itemText(i) for i in range(5)] == ["all voices", "soprano", "alto", "tenor", "bass"]
    tools.voice_combo.setCurrentIndex(tools.voice_combo.findText("alto"))
    window.roll.bars_chosen.emit(2, 3)  # as a drag across the ruler does
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        tools.regenerate_button.click()
    new = blocker.args[0]
    bars = take.generated.piece.bars
    start, stop = bars[1], bars[3]

    def kept(piece):  # every note but the alto's in bars 2-3
        return sorted(
            (n.start, n.pitch, n.duration, n.voice) for n in piece.notes if n.voice != 1 or not start <= n.start < stop
        )

    assert kept(new.generated.piece) == kept(take.generated.piece)
    assert new.reworked == (2, 3) and new.reworked_voice == 1 and "the alto of bars 2\u20133 new" in new.summary
    assert window.statusBar().currentMessage().startswith("The alto of bars 2\u20133 written anew")
    assert tools.chosen_voice() == 1  # ready to try again
    asked = []
    rewrite = jobs.regenerate_take
    monkeypatch.setattr(jobs, "regenerate_take", lambda *args: asked.append(args[-1]) or rewrite(*args))
    tools.voice_combo.setCurrentIndex(tools.voice_combo.findText("all voices"))
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        tools.regenerate_button.click()
    assert asked == [None] and blocker.args[0].reworked_voice is None  # all: every voice anew, as before
