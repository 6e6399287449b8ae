"""The desktop app, offscreen with the tiny model: generate and see, save, cancel, blend, continue a primer,
error dialogs, the no-audio-device message and the playback state logic."""
from __future__ import annotations

import wave

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

import gui.main_window
from gui.controls import blend_spec, split_blend_spec
from gui.main_window import MainWindow
from gui.piano_roll import KEYBOARD_WIDTH, PianoRoll, octave_name
from gui.playback import NO_DEVICE_MESSAGE, NOTHING_TO_PLAY_MESSAGE, PREPARING_MESSAGE, PlaybackState, Status
from musicgen.midi_io import midi_to_piece, write_midi
from musicgen.notes import STEPS_PER_BEAT, make_piece

WAIT_MS = 30_000  # generous: the machine may be busy; the tiny model needs well under a second


@pytest.fixture
def settings(tmp_path):
    """A private settings file, so tests never touch the user's settings."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def dialogs(monkeypatch):
    """Capture message boxes as (kind, title, text) instead of blocking on them."""
    shown = []

    def capture(kind):
        def show(parent, title, text, *args, **kwargs):
            shown.append((kind, title, text))
            return QMessageBox.Ok
        return show

    monkeypatch.setattr(QMessageBox, "warning", capture("warning"))
    monkeypatch.setattr(QMessageBox, "critical", capture("critical"))
    return shown


@pytest.fixture
def open_window(qtbot, settings, dialogs):
    """Open a window on a model and wait until it is loaded; every window is closed (threads joined) after the test."""
    opened = []

    def open_(model, has_audio_device=False) -> MainWindow:
        window = MainWindow(settings, model_name=str(model), has_audio_device=has_audio_device)
        opened.append(window)
        window.show()
        with qtbot.waitSignal(window.model_ready, timeout=WAIT_MS):
            window.start()
        return window

    yield open_
    for window in opened:
        window.close()


@pytest.fixture
def window(open_window, tiny_model):
    return open_window(tiny_model)


def generate(qtbot, window):
    """Press Generate and wait for the piece; returns its HistoryEntry."""
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        window.generate_button.click()
    return blocker.args[0]


def focus_window(qtbot, window) -> None:
    """Make the window active so its keyboard shortcuts fire."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)


def pick(combo, key) -> None:
    combo.setCurrentIndex(combo.findData(key))


def test_generate_in_a_chosen_style_shows_the_notes_in_the_roll(qtbot, window, dialogs):
    controls = window.controls
    assert [controls.genre_combo.itemText(i) for i in range(2)] == ["Rising scales", "Falling arpeggios"]
    pick(controls.genre_combo, "fall")
    assert controls.tempo_spin.value() == 90  # the genre's default tempo and instrument follow the style
    assert controls.instrument_combo.currentText() == "Violin"
    assert "arpeggios" in controls.description_label.text()
    controls.bars_spin.setValue(4)
    entry = generate(qtbot, window)
    generated = entry.generated
    assert generated.request.genre == "fall" and generated.tempo == 90 and generated.program == 40
    assert generated.request.seed == controls.seed_spin.value()
    assert window.roll.piece is generated.piece
    assert window.roll.note_counts() == (0, len(generated.piece.notes)) and generated.piece.notes
    assert "Falling arpeggios" in window.piece_title.text()
    assert "events/s" in window.speed_label.text()
    assert window.save_button.isEnabled() and window.generate_button.isEnabled()
    assert dialogs == []

    # A second piece from the keyboard (Ctrl+Return), with a new seed; clicking the first in the history
    # brings it back.
    focus_window(qtbot, window)
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        qtbot.keyClick(window.roll, Qt.Key_Return, Qt.ControlModifier)
    second = blocker.args[0]
    assert second.generated.request.seed != generated.request.seed
    assert len(window.history.entries) == 2 and window.roll.piece is second.generated.piece
    window.history.entry_chosen.emit(0)
    assert window.roll.piece is generated.piece
    assert controls.seed_spin.value() == generated.request.seed
    assert controls.genre_combo.currentData() == "fall"


def test_saved_midi_reloads_with_the_same_notes(qtbot, window, tmp_path, monkeypatch, dialogs):
    window.controls.bars_spin.setValue(4)
    generated = generate(qtbot, window).generated
    asked = []

    def save_dialog(parent, caption, suggested, filters):
        asked.append(suggested)
        return str(tmp_path / "my tune"), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    focus_window(qtbot, window)
    qtbot.keyClick(window.roll, Qt.Key_S, Qt.ControlModifier)
    assert asked[0].endswith(f"rise-seed{generated.request.seed}.mid")
    saved = tmp_path / "my tune.mid"
    reloaded = midi_to_piece(saved)
    assert reloaded.pitches() == generated.piece.pitches()
    assert [n.start for n in reloaded.notes] == [n.start for n in generated.piece.notes]
    assert window.settings.value("folders/save") == str(tmp_path)
    assert dialogs == []

    # An unwritable folder gives a one-line dialog, not a crash.
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *args: (str(tmp_path / "no such folder" / "x.mid"), ""))
    window.save_midi()
    assert len(dialogs) == 1 and "no such folder" in dialogs[0][2] and "\n" not in dialogs[0][2]


def test_cancel_stops_a_long_generation_and_the_app_stays_usable(qtbot, window):
    fields = {**window.controls.request_fields(), "bars": 512, "max_events": 100_000}
    window.start_generation(fields)
    assert window.busy and not window.generate_button.isEnabled() and window.cancel_button.isVisible()
    qtbot.waitUntil(lambda: window.progress_bar.maximum() == 512, timeout=WAIT_MS)  # first progress arrived
    with qtbot.waitSignal(window.generation_stopped, timeout=WAIT_MS) as blocker:
        window.cancel_button.click()
    assert blocker.args == ["cancelled"]
    assert not window.busy and window.generate_button.isEnabled() and not window.cancel_button.isVisible()
    assert window.history.entries == [] and window.roll.piece is None
    qtbot.waitUntil(lambda: not window._jobs, timeout=WAIT_MS)  # the worker thread has ended
    window.controls.bars_spin.setValue(2)
    assert generate(qtbot, window).generated.piece.notes


def test_blending_two_styles_sends_both_to_the_generator(qtbot, window):
    controls = window.controls
    pick(controls.genre_combo, "rise")
    pick(controls.blend_combo, "fall")
    controls.blend_slider.setValue(40)
    assert controls.blend_label.text() == "60% Rising scales \u00b7 40% Falling arpeggios"
    controls.bars_spin.setValue(4)
    entry = generate(qtbot, window)
    assert entry.generated.request.genre == "rise=0.60,fall=0.40"
    assert set(entry.generated.genre_weights) == {"rise", "fall"}
    assert entry.title == "Rising scales 60% + Falling arpeggios 40%"
    assert split_blend_spec(blend_spec("rise", "fall", 25)) == ("rise", "fall", 25)
    assert blend_spec("rise", None, 40) == "rise" and blend_spec("rise", "rise", 40) == "rise"


def test_continuing_a_primer_shows_primer_and_new_part(qtbot, window, tmp_path):
    primer = tmp_path / "my opening.mid"
    write_midi(make_piece([(k * 6, 60 + k % 8, 6) for k in range(32)], bars=range(0, 193, 48)), primer)
    assert window.use_primer(str(primer))
    assert "my opening.mid" in window.controls.primer_label.text()
    assert "32 notes" in window.controls.primer_label.text()
    window.controls.bars_spin.setValue(2)
    entry = generate(qtbot, window)
    primer_notes, new_notes = window.roll.note_counts()
    assert entry.generated.piece.primer_end > 0
    assert primer_notes == 32 and new_notes > 0
    assert "continues my opening.mid" in entry.subtitle
    window.controls.clear_primer_button.click()
    assert window.controls.request_fields()["primer"] is None


def test_a_corrupt_primer_gets_a_dialog_and_changes_nothing(qtbot, window, tmp_path, dialogs):
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd this is not really a MIDI file")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(broken))])
    window.dropEvent(QDropEvent(QPointF(20, 20), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert len(dialogs) == 1
    kind, title, text = dialogs[0]
    assert kind == "warning" and "broken.mid" in text and "\n" not in text
    assert window.controls.primer_path is None and window.generate_button.isEnabled()


def test_missing_model_gets_a_dialog_and_generate_is_off(qtbot, settings, tmp_path, dialogs):
    window = MainWindow(settings, model_name=str(tmp_path / "nowhere.json"), has_audio_device=False)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.model_failed, timeout=WAIT_MS):
        window.start()
    qtbot.waitUntil(lambda: not window._jobs, timeout=WAIT_MS)
    assert [d[0] for d in dialogs] == ["critical"] and "nowhere" in dialogs[0][2]
    assert not window.generate_button.isEnabled() and "--model" in window.generate_button.toolTip()
    window.generate()  # does nothing rather than crash
    assert not window.busy


def test_without_an_audio_device_the_window_says_so_and_wav_export_still_works(
        qtbot, open_window, tiny_model, dialogs, monkeypatch, tmp_path):
    monkeypatch.setattr(gui.main_window, "audio_output_available", lambda: False)
    window = open_window(tiny_model, has_audio_device=None)  # detect, as the app does
    assert NO_DEVICE_MESSAGE in window.audio_label.text() and window.audio_label.isVisible()
    window.controls.bars_spin.setValue(2)
    with qtbot.waitSignal(window.audio_ready, timeout=WAIT_MS):
        generate(qtbot, window)
    assert not window.play_button.isEnabled() and window.play_button.toolTip() == NO_DEVICE_MESSAGE
    window.toggle_playback()  # Space does nothing rather than play silence
    assert window.player.state.status is Status.STOPPED
    assert window.export_button.isEnabled()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(tmp_path / "out.wav"), ""))
    window.export_wav()
    with wave.open(str(tmp_path / "out.wav")) as exported:
        assert exported.getnframes() > 0 and exported.getsampwidth() == 2
    assert dialogs == []


def test_settings_come_back_next_time(open_window, tiny_model):
    window = open_window(tiny_model)
    pick(window.controls.genre_combo, "fall")
    window.controls.bars_spin.setValue(7)
    window.controls.keep_seed_check.setChecked(True)
    window.controls.seed_spin.setValue(1234)
    window.close()
    again = open_window(tiny_model)
    controls = again.controls
    assert controls.genre_combo.currentData() == "fall" and controls.bars_spin.value() == 7
    assert controls.keep_seed_check.isChecked() and controls.seed_for_next_piece() == 1234


def test_playback_state_logic_without_a_device():
    silent = PlaybackState(has_device=False)
    silent.load("piece.wav")
    assert not silent.can_play and not silent.play() and silent.unavailable_reason == NO_DEVICE_MESSAGE

    state = PlaybackState(has_device=True)
    assert not state.can_play and state.unavailable_reason == NOTHING_TO_PLAY_MESSAGE
    state.begin_preparing()
    assert state.unavailable_reason == PREPARING_MESSAGE and not state.play()
    state.load("piece.wav")
    assert state.unavailable_reason == "" and state.can_play and not state.can_stop
    assert state.toggle() and state.status is Status.PLAYING and state.can_pause and not state.can_play
    assert state.toggle() and state.status is Status.PAUSED and state.can_play and state.can_stop
    assert state.play() and state.stop() and state.status is Status.STOPPED and not state.stop()
    state.play()
    state.reached_end()
    assert state.status is Status.STOPPED and state.can_play
    state.begin_preparing()  # a new piece: the old sound is dropped
    assert state.source is None and not state.can_play


def test_piano_roll_fits_zooms_and_seeks(qtbot):
    roll = PianoRoll()
    qtbot.addWidget(roll)
    roll.resize(800, 400)
    roll.show()
    bars = 16
    piece = make_piece([(k * STEPS_PER_BEAT, 60 + k % 12, STEPS_PER_BEAT) for k in range(4 * bars)],
                       bars=range(0, 4 * bars * STEPS_PER_BEAT + 1, 4 * STEPS_PER_BEAT))
    roll.set_piece(piece)
    assert roll.horizontalScrollBar().maximum() == 0  # 16 bars fit the width
    assert roll.note_counts() == (0, 64) and octave_name(60) == "C4"
    fitted = roll.px_per_beat
    roll.zoom_in()
    assert roll.px_per_beat > fitted and roll.horizontalScrollBar().maximum() > 0
    wheel = QWheelEvent(QPointF(300, 200), QPointF(300, 200), QPoint(0, 0), QPoint(0, 120), Qt.NoButton,
                        Qt.ControlModifier, Qt.NoScrollPhase, False)
    zoomed = roll.px_per_beat
    roll.wheelEvent(wheel)  # Ctrl+wheel up zooms in further
    assert roll.px_per_beat > zoomed
    roll.zoom_to_fit()
    assert roll.px_per_beat == pytest.approx(fitted)
    with qtbot.waitSignal(roll.seek_requested) as blocker:  # a click on the bar ruler asks to play from there
        qtbot.mouseClick(roll.viewport(), Qt.LeftButton, pos=QPoint(int(KEYBOARD_WIDTH + 8 * roll.px_per_beat), 5))
    assert abs(blocker.args[0] - 8 * STEPS_PER_BEAT) <= 1
