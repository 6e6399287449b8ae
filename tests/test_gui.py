"""The desktop app, offscreen with the tiny model, as a musician uses it: generate and see, exact lengths
and why a piece stopped, numbered bars, small windows, takes kept across restarts, drag-out and MIDI out,
Fit, settings never silently overwritten, voices and note names, the new controls, playhead without
speakers, safe file dialogs, and a clean quit on SIGINT/SIGTERM."""

from __future__ import annotations

import os
import pkgutil
import signal
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRect, QSettings, Qt, QUrl
from PySide6.QtGui import QDrag, QDropEvent, QHelpEvent, QWheelEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QInputDialog, QMessageBox, QScrollArea, QToolTip, QWidget

import gui
import gui.main_window
from gui import file_dialogs, jobs, theme
from gui.control_values import blend_spec, meter_default_label, split_blend_spec
from gui.controls import STRENGTH_SCALE
from gui.help import shortcut_rows
from gui.main_window import MainWindow
from gui.music_text import bar_numbers, note_name, note_value, ruler_labels
from gui.piano_roll import KEYBOARD_WIDTH, RULER_HEIGHT, PianoRoll, octave_name
from gui.playback import NO_DEVICE_MESSAGE, NOTHING_TO_PLAY_MESSAGE, PREPARING_MESSAGE, PlaybackState, Status
from gui.playback_control import NO_MIDI_SYSTEM
from gui.takes import default_file_name
from musicgen.files.midi import midi_to_piece, write_midi
from musicgen.music.piece import STEPS_PER_BEAT, make_piece
from musicgen.sampling.request import GeneratedPiece, GenerationRequest, piece_file_name

WAIT_MS = 30_000  # generous: the machine may be busy; the tiny model needs well under a second
REPO = Path(__file__).resolve().parent.parent
BAR = 4 * STEPS_PER_BEAT  # a 4/4 bar in steps


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """The style critic and originality index of the tiny dataset are cached here, not in the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture
def settings(tmp_path):
    """A private settings file (its folder also holds the takes), so tests never touch the user's."""
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
    """Open a window on a model and wait until the model and the takes are loaded. Every window is closed
    after the test, and its temporary folder must then be gone."""
    opened = []

    def open_(model, has_audio_device=False, size=None) -> MainWindow:
        window = MainWindow(settings, model_name=str(model), has_audio_device=has_audio_device)
        opened.append(window)
        if size:
            window.resize(*size)
        window.show()
        with qtbot.waitSignals([window.model_ready, window.takes_loaded], timeout=WAIT_MS):
            window.start()
        return window

    yield open_
    for window in opened:
        window.close()
        assert not window._temp_dir.exists()


@pytest.fixture
def window(open_window, tiny_model):
    return open_window(tiny_model)


def generate(qtbot, window):
    """Press Generate and wait for the take."""
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        window.generate_button.click()
    return blocker.args[0]


def focus_window(qtbot, window) -> None:
    """Make the window active so its keyboard shortcuts fire."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)


def pick(combo, key) -> None:
    combo.setCurrentIndex(combo.findData(key))


def save_dialog_answers(monkeypatch, *answers):
    """The save dialog returns these paths in turn; returns the suggested paths it was shown."""
    asked, queue = [], list(answers)

    def ask(parent, caption, suggested, filters):
        asked.append(suggested)
        return str(queue.pop(0)), filters.split(";;")[0]

    monkeypatch.setattr(file_dialogs, "ask_save_path", ask)
    return asked


def notes_outside(piece, start, stop):
    return [n for n in piece.notes if n.start < start or n.start >= stop]


# --- generating, saving, cancelling ------------------------------------------------------------------
def test_the_window_declares_every_widget_and_action_where_they_are_made(window):
    """``window_layout.LayoutWidgets`` and ``window_menus.MenuActions`` name exactly what the builders
    set on the window, with the right kinds."""
    import re
    import typing

    from gui import window_layout, window_menus

    for module, declared in ((window_layout, window_layout.LayoutWidgets), (window_menus, window_menus.MenuActions)):
        made = set(re.findall(r"window\.(\w+)(?:, window\.(\w+))? = ", Path(module.__file__).read_text()))
        names = {name for pair in made for name in pair if name}
        hints = typing.get_type_hints(declared)
        assert names == set(hints), module.__name__
        for name, kind in hints.items():
            assert isinstance(getattr(window, name), kind), name


def test_generate_in_a_chosen_style_shows_the_notes_in_the_roll(qtbot, window, dialogs):
    controls = window.controls
    assert [controls.genre_combo.itemText(i) for i in range(2)] == ["Rising scales", "Falling arpeggios"]
    pick(controls.genre_combo, "fall")
    assert controls.tempo_spin.value() == 90  # the genre's default tempo and instrument follow the style
    assert controls.instrument_combo.currentText() == "Violin"
    assert "arpeggios" in controls.description_label.text()
    controls.bars_spin.setValue(4)
    take = generate(qtbot, window)
    generated = take.generated
    assert generated.request.genre == "fall" and generated.tempo == 90 and generated.program == 40
    assert generated.request.seed == controls.seed_spin.value()
    assert window.roll.piece is generated.piece
    assert window.roll.note_counts() == (0, len(generated.piece.notes)) and generated.piece.notes
    assert "Falling arpeggios" in window.piece_title.text()
    assert "events/s" in window.speed_label.text()
    assert window.save_button.isEnabled() and window.generate_button.isEnabled()
    assert dialogs == []

    # A second take from the keyboard (Ctrl+Return), with a new seed; clicking the first brings it back.
    focus_window(qtbot, window)
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        qtbot.keyClick(window.roll, Qt.Key_Return, Qt.ControlModifier)
    second = blocker.args[0]
    assert second.generated.request.seed != generated.request.seed
    assert len(window.history.takes) == 2 and window.roll.piece is second.generated.piece
    window.history.take_chosen.emit(take.id)
    assert window.roll.piece is generated.piece and window.current is take


def test_saved_midi_reloads_with_the_same_notes(qtbot, window, tmp_path, monkeypatch, dialogs):
    window.controls.bars_spin.setValue(4)
    generated = generate(qtbot, window).generated
    asked = save_dialog_answers(
        monkeypatch, tmp_path / "my tune", tmp_path / "no such folder" / "x.mid", tmp_path / "wrong.wav"
    )
    focus_window(qtbot, window)
    qtbot.keyClick(window.roll, Qt.Key_S, Qt.ControlModifier)
    assert Path(asked[0]).name == piece_file_name(generated.request.genre, generated.request.seed, ".mid")
    reloaded = midi_to_piece(tmp_path / "my tune.mid")
    assert reloaded.pitches() == generated.piece.pitches()
    assert [n.start for n in reloaded.notes] == [n.start for n in generated.piece.notes]
    assert window.settings.value("folders/save") == str(tmp_path)
    assert dialogs == []
    window.files.save_midi()  # an unwritable folder: a one-line dialog, not a crash
    assert len(dialogs) == 1 and "no such folder" in dialogs[0][2] and "\n" not in dialogs[0][2]
    window.files.save_midi()  # a WAV name for a MIDI file gets ".mid" added, never WAV-named MIDI
    assert (tmp_path / "wrong.wav.mid").is_file() and not (tmp_path / "wrong.wav").exists()


def test_cancel_stops_a_long_generation_and_the_app_stays_usable(qtbot, window):
    fields = {**window.controls.request_fields(), "bars": 512, "max_events": 100_000}
    window.start_generation(fields)
    assert window.busy and not window.generate_button.isEnabled() and window.cancel_button.isVisible()
    qtbot.waitUntil(lambda: window.progress_bar.maximum() == 512, timeout=WAIT_MS)  # first progress arrived
    with qtbot.waitSignal(window.generation_stopped, timeout=WAIT_MS) as blocker:
        window.cancel_button.click()
    assert blocker.args == ["cancelled"]
    assert not window.busy and window.generate_button.isEnabled() and not window.cancel_button.isVisible()
    assert window.history.takes == [] and window.roll.piece is None
    qtbot.waitUntil(lambda: all(w.kind != "generate" for w, _ in window._jobs.values()), timeout=WAIT_MS)
    window.controls.bars_spin.setValue(2)
    assert generate(qtbot, window).generated.piece.notes


def test_blending_two_styles_sends_both_to_the_generator(qtbot, window):
    controls = window.controls
    pick(controls.genre_combo, "rise")
    pick(controls.blend_combo, "fall")
    controls.blend_slider.setValue(40)
    assert controls.blend_label.text() == "60% Rising scales \u00b7 40% Falling arpeggios"
    controls.bars_spin.setValue(4)
    take = generate(qtbot, window)
    assert take.generated.request.genre == "rise=0.60,fall=0.40"
    assert set(take.generated.genre_weights) == {"rise", "fall"}
    assert take.title == "Rising scales 60% + Falling arpeggios 40%"
    seed = take.generated.request.seed  # the default file name follows musicgen's one scheme
    assert take.midi_path.name == f"rise0.60+fall0.40-seed{seed}.mid"
    assert default_file_name(take, ".wav") == f"rise0.60+fall0.40-seed{seed}.wav"
    keys = ["rise", "fall"]
    assert split_blend_spec(blend_spec("rise", "fall", 25), keys) == ("rise", "fall", 25)
    assert blend_spec("rise", None, 40) == "rise" and blend_spec("rise", "rise", 40) == "rise"
    with pytest.raises(ValueError, match="unknown genre"):
        split_blend_spec("jazz=1", keys)


def test_continuing_a_primer_shows_primer_and_new_part_centred_on_the_new_music(qtbot, window, tmp_path):
    primer = tmp_path / "my opening.mid"
    write_midi(make_piece([(k * 6, 60 + k % 8, 6) for k in range(64)], bars=range(0, 385, BAR)), primer)
    assert window.files.use_primer(str(primer))
    assert "my opening.mid" in window.controls.primer_label.text()
    assert not window.controls.form_combo.isEnabled()  # a continuation is through-composed
    window.controls.bars_spin.setValue(8)
    take = generate(qtbot, window)
    primer_notes, new_notes = window.roll.note_counts()
    piece = take.generated.piece
    assert piece.primer_end > 0 and primer_notes == 64 and new_notes > 0
    assert take.primer_summary == "64 notes, 8 bars" and "64 notes, 8 bars" in window.controls.primer_label.text()
    assert "continues my opening.mid" in take.subtitle
    first, last = window.roll.visible_steps()  # the view shows the new music, with one primer bar before it
    assert piece.primer_end - BAR - 1 <= first < piece.primer_end and last >= piece.end
    window.controls.clear_primer_button.click()
    assert window.controls.request_fields()["primer"] is None


def test_a_corrupt_primer_gets_a_one_line_dialog_when_chosen_and_is_not_kept(qtbot, window, tmp_path, dialogs):
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd this is not really a MIDI file")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(broken))])
    with qtbot.waitSignal(window.files.primer_checked, timeout=WAIT_MS) as blocker:
        window.dropEvent(QDropEvent(QPointF(20, 20), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert blocker.args[0] == str(broken) and blocker.args[1]  # read by a worker, refused at once
    kind, title, text = dialogs[0]
    assert kind == "warning" and "broken.mid" in text and "\n" not in text
    assert window.controls.primer_path is None and window.history.takes == []
    assert window.generate_button.isEnabled()
    assert not window.files.use_primer(str(tmp_path / "gone.mid")) and "no such file" in dialogs[-1][2]


def test_the_gui_thread_never_reads_a_midi_file_and_a_primer_is_read_once(qtbot, window, tmp_path, monkeypatch):
    import mido
    import pretty_midi

    import musicgen.sampling.generate

    readers = []  # for each MIDI file opened: was it in the GUI thread?

    def recording(original):
        def init(self, *args, **kwargs):
            if args or kwargs.get("filename") or kwargs.get("midi_file"):
                readers.append(threading.current_thread() is threading.main_thread())
            original(self, *args, **kwargs)

        return init

    for reader in (pretty_midi.PrettyMIDI, mido.MidiFile):
        monkeypatch.setattr(reader, "__init__", recording(reader.__init__))
    parsed = []
    parse = musicgen.sampling.generate.midi_to_piece
    monkeypatch.setattr(
        musicgen.sampling.generate, "midi_to_piece", lambda path, **kwargs: parsed.append(path) or parse(path, **kwargs)
    )
    primer = tmp_path / "primer.mid"
    write_midi(make_piece([(k * 6, 62, 6) for k in range(16)], bars=range(0, 97, BAR)), primer)
    assert window.files.use_primer(str(primer))
    window.controls.bars_spin.setValue(2)
    generate(qtbot, window)
    assert parsed == [str(primer)]  # once, by the generation worker
    assert readers and not any(readers)


def test_missing_model_gets_a_dialog_and_generate_is_off(qtbot, settings, tmp_path, dialogs):
    window = MainWindow(settings, model_name=str(tmp_path / "nowhere.json"), has_audio_device=False)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.model_failed, timeout=WAIT_MS):
        window.start()
    assert [d[0] for d in dialogs] == ["critical"] and "nowhere" in dialogs[0][2]
    assert not window.generate_button.isEnabled() and "--model" in window.generate_button.toolTip()
    window.generate()  # does nothing rather than crash
    assert not window.busy
    window.close()
    assert not window._temp_dir.exists()


def test_settings_come_back_next_time(open_window, tiny_model):
    window = open_window(tiny_model)
    controls = window.controls
    pick(controls.genre_combo, "fall")
    controls.bars_spin.setValue(7)
    pick(controls.meter_combo, "4/4")
    controls.strength_slider.setValue(15)
    controls.keep_seed_check.setChecked(True)
    controls.seed_spin.setValue(1234)
    window.close()
    controls = open_window(tiny_model).controls
    assert controls.genre_combo.currentData() == "fall" and controls.bars_spin.value() == 7
    assert controls.meter_combo.currentData() == "4/4" and controls.style_strength() == 1.5
    assert controls.keep_seed_check.isChecked() and controls.seed_for_next_piece() == 1234


# --- 1. length: what the piece got and why it stopped ------------------------------------------------
def test_the_status_bar_says_what_the_piece_got_and_why_it_stopped(qtbot, window):
    controls = window.controls
    pick(controls.genre_combo, "fall")
    # bars=None: through-composed, as long as the style's training pieces (every "fall" piece has 10 bars)
    assert controls.bars_spin.text() == "Form length"
    take = generate(qtbot, window)
    assert take.generated.bars_generated == 10 and take.generated.request.bars is None
    assert window.statusBar().currentMessage().startswith("Got 10 bars of 6/8")
    fields = {**controls.request_fields(), "bars": 64, "max_events": 40, "seed": 5}
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        window.start_generation(fields)
    stopped = blocker.args[0].generated
    assert stopped.stop_reason and stopped.bars_generated < 64
    message = window.statusBar().currentMessage()
    assert message.startswith("Stopped early") and stopped.stop_reason in message and "of the 64" in message
    assert "stopped early" in window.history.list.currentItem().text()
    qtbot.wait(50)
    assert window.statusBar().currentMessage() == message  # it stays until the next message


# --- 2. bar numbers ----------------------------------------------------------------------------------
def test_the_pickup_is_bar_zero_and_crowded_numbers_thin_out_regularly():
    bars = [12] + [12 + BAR * k for k in range(1, 41)]  # a one-beat pickup, 40 bars and the closing line
    assert bar_numbers(bars)[:3] == [(0, 0), (12, 1), (12 + BAR, 2)] and bar_numbers(bars)[-1] == (12 + 39 * BAR, 40)
    wide = ruler_labels(bars, px_per_step=3.0, min_gap_px=30)  # 144 px a bar, 36 px the pickup
    assert [n for _, n in wide] == list(range(0, 41))
    for px_per_step, every in ((0.4, 2), (0.2, 4), (0.1, 8)):
        numbers = [n for _, n in ruler_labels(bars, px_per_step, 30)]
        assert numbers[0] == 1 and all(b - a == every for a, b in zip(numbers, numbers[1:]))
        assert 40 - numbers[-1] < every  # regular to the end
    assert note_name(66) == "F#4" and note_value(6) == "1/8" and note_value(18) == "dotted 1/4"
    assert note_value(4) == "1/8 triplet" and note_value(48) == "1/1" and octave_name(60) == "C4"


# --- 3. small windows --------------------------------------------------------------------------------
def layout_problems(window) -> list[str]:
    """Visible widgets that overlap a sibling, stick out of their parent, or are squeezed below their minimum."""
    problems = []
    visible = [w for w in window.findChildren(QWidget) if w.isVisible() and w.width() > 0 and w.height() > 0]
    for widget in visible:
        parent = widget.parentWidget()
        if parent is None or parent.window() is not window:
            continue
        siblings = [w for w in visible if w.parentWidget() is parent and w is not widget]
        for other in siblings:
            if id(other) < id(widget) and widget.geometry().intersects(other.geometry()):
                problems.append(
                    f"{type(widget).__name__} {widget.geometry()} overlaps {type(other).__name__} {other.geometry()}"
                )
        in_scroll_area = isinstance(parent.parentWidget(), QScrollArea)  # scrolled content may be larger
        if not in_scroll_area and not QRect(QPoint(0, 0), parent.size()).contains(widget.geometry()):
            problems.append(f"{type(widget).__name__} {widget.geometry()} sticks out of {type(parent).__name__}")
        if isinstance(widget, QAbstractButton) and widget.width() < widget.minimumSizeHint().width():
            problems.append(f"button {widget.text()!r} squeezed to {widget.width()} px")
    return problems


@pytest.mark.parametrize("size", [(800, 600), (1024, 700), (1440, 900)])
def test_no_visible_widgets_overlap_from_800x600_up(qtbot, open_window, tiny_model, size):
    window = open_window(tiny_model, size=size)
    generate(qtbot, window)
    window.start_generation({**window.controls.request_fields(), "bars": 512, "max_events": 100_000})
    qtbot.waitUntil(lambda: window.progress_bar.maximum() == 512, timeout=WAIT_MS)  # the busy state too
    assert window.size().width() == size[0] and window.size().height() == size[1]
    assert layout_problems(window) == []
    generate_top_left = window.generate_button.mapTo(window, QPoint(0, 0))
    assert window.rect().contains(QRect(generate_top_left, window.generate_button.size()))  # never below the window
    window.cancel_generation()
    qtbot.waitSignal(window.generation_stopped, timeout=WAIT_MS)
    if size[0] < gui.main_window.COMPACT_WIDTH:  # one side panel at a time; showing the takes hides the settings
        assert window.sidebar.isVisible() and not window.history_box.isVisible()
        window.history_button.click()
        qtbot.wait(20)  # the splitter lays out on the next turn of the event loop
        assert window.history_box.isVisible() and not window.sidebar.isVisible()
        assert window.history_panel_action.isChecked() and not window.settings_panel_action.isChecked()
        assert layout_problems(window) == []
        window.settings_button.click()
        assert window.sidebar.isVisible() and not window.history_box.isVisible()
    else:
        assert window.sidebar.isVisible() and window.history_box.isVisible()


# --- 4. takes across restarts; rename, star, delete; no duplicates --------------------------------------
def test_takes_survive_a_restart_with_their_names_and_stars(qtbot, open_window, tiny_model, monkeypatch):
    window = open_window(tiny_model)
    window.controls.bars_spin.setValue(4)
    first, second, third = (generate(qtbot, window) for _ in range(3))
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("Reel for Anna", True))
    window.history.select(first.id)
    window.history.rename_button.click()
    window.history.select(second.id)
    window.history.star_button.click()
    window.history.select(third.id)
    window.history.delete_button.click()
    assert [t.id for t in window.history.takes] == [first.id, second.id]
    assert first.midi_path.name == "Reel for Anna.mid" and first.midi_path.is_file()
    assert default_file_name(first, ".wav") == "Reel for Anna.wav"  # the musician's name beats the scheme
    window.close()

    again = open_window(tiny_model)  # a new window on the same settings folder
    takes = {t.id: t for t in again.history.takes}
    assert set(takes) == {first.id, second.id}  # the deleted take stays deleted
    assert again.current is takes[second.id] and again.roll.piece is takes[second.id].generated.piece  # the newest
    assert takes[first.id].display_name == "Reel for Anna" and not takes[first.id].starred
    assert takes[second.id].starred and "\u2605" in again.history.list.item(0).text()
    assert takes[first.id].generated.piece.notes == first.generated.piece.notes
    assert takes[first.id].generated.request == first.generated.request
    again.take_actions.show_take(first.id)  # a restored take plays and drags like a new one
    with qtbot.waitSignal(again.audio_ready, timeout=WAIT_MS):
        pass
    assert midi_to_piece(takes[first.id].midi_path).pitches() == first.generated.piece.pitches()


def test_the_same_take_is_not_added_twice_and_undo_brings_a_deleted_one_back(qtbot, window):
    controls = window.controls
    controls.bars_spin.setValue(4)
    controls.keep_seed_check.setChecked(True)
    take = generate(qtbot, window)
    with qtbot.waitSignal(window.generation_stopped, timeout=WAIT_MS) as blocker:
        window.generate_button.click()  # same seed, same settings
    assert blocker.args == ["duplicate"] and len(window.history.takes) == 1
    assert "not added twice" in window.statusBar().currentMessage()
    window.history.delete_button.click()
    assert window.history.takes == [] and window.current is None and not take.folder.name == take.id
    window.undo_stack.undo()
    assert [t.id for t in window.history.takes] == [take.id] and take.midi_path.is_file()
    assert window.current is take and window.roll.piece is take.generated.piece


# --- 5. into a DAW: drag-out and MIDI out ------------------------------------------------------------
def test_dragging_a_take_gives_a_file_url_of_a_valid_midi_file(qtbot, window, monkeypatch):
    window.controls.bars_spin.setValue(4)
    take = generate(qtbot, window)
    takes = window.history.list
    mime = takes.model().mimeData([takes.indexFromItem(takes.currentItem())])  # what Qt's own drag asks for
    (url,) = mime.urls()
    assert url.isLocalFile() and url.toLocalFile().endswith(".mid")
    assert midi_to_piece(url.toLocalFile()).pitches() == take.generated.piece.pitches()

    dragged = []
    monkeypatch.setattr(QDrag, "exec", lambda self, *args: dragged.append(self.mimeData().urls()) or Qt.CopyAction)
    viewport = window.roll.viewport()
    start = QPoint(KEYBOARD_WIDTH + 40, RULER_HEIGHT + 60)
    qtbot.mousePress(viewport, Qt.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(QApplication.startDragDistance() + 5, 0))
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=start)
    assert dragged and dragged[0][0].toLocalFile() == url.toLocalFile()


def test_the_playback_menu_plays_a_take_to_a_midi_port(qtbot, window, monkeypatch):
    import musicgen.files.midi_port as midi_out

    played = []

    def fake_play(path, port=None):
        played.append((str(path), port))

        def steps():
            for second in range(3):
                yield midi_out.PlaybackProgress(second, 2, port)

        return steps()

    monkeypatch.setattr(midi_out, "output_port_names", lambda: ["Test synth:0"])
    monkeypatch.setattr(midi_out, "play_midi_file", fake_play)
    window.controls.bars_spin.setValue(4)
    take = generate(qtbot, window)
    window.playback.list_ports()
    qtbot.waitUntil(lambda: window.playback.ports == ["Test synth:0"], timeout=WAIT_MS)
    window.playback.fill_port_menu(window.output_menu)
    choices = {a.text(): a for a in window.output_menu.actions()}
    choices["MIDI: Test synth:0"].trigger()
    assert window.playback.port == "Test synth:0" and window.play_button.isEnabled()  # no WAV needed
    window.play_button.click()
    qtbot.waitUntil(lambda: bool(played) and not window.playback.midi_playing, timeout=WAIT_MS)
    assert played == [(str(take.midi_path), "Test synth:0")] and window.play_button.text() == "Play"


def test_without_midi_the_playback_menu_says_why(qtbot, window, monkeypatch):
    import musicgen.files.midi_port as midi_out

    def no_midi():
        raise ValueError("no MIDI output available: the system MIDI service could not be opened")

    monkeypatch.setattr(midi_out, "output_port_names", no_midi)
    window.playback.list_ports()
    qtbot.waitUntil(lambda: "MIDI service" in window.playback.ports_detail, timeout=WAIT_MS)
    window.playback.fill_port_menu(window.output_menu)
    actions = window.output_menu.actions()
    assert actions[0].text().startswith("Built-in sound")
    note = next(a for a in actions if a.text() == NO_MIDI_SYSTEM)  # short; the system's words in its tooltip
    assert not note.isEnabled() and "MIDI service" in note.toolTip()


# --- 6. Fit --------------------------------------------------------------------------------------------
def test_fit_shows_the_whole_of_a_long_piece(qtbot):
    roll = PianoRoll()
    qtbot.addWidget(roll)
    roll.resize(500, 300)
    roll.show()
    bars = 39
    piece = make_piece(
        [(k * STEPS_PER_BEAT, 60 + k % 12, STEPS_PER_BEAT) for k in range(4 * bars)], bars=range(0, bars * BAR + 1, BAR)
    )
    roll.set_piece(piece)
    assert roll.horizontalScrollBar().maximum() == 0 and roll.visible_steps()[1] >= piece.end
    roll.zoom_in()
    roll.zoom_in()
    assert roll.visible_steps()[1] < piece.end
    roll.zoom_to_fit()
    assert roll.horizontalScrollBar().maximum() == 0 and roll.visible_steps()[1] >= piece.end
    roll.resize(420, 300)  # a fitted view stays fitted when the window shrinks
    qtbot.wait(10)
    assert roll.visible_steps()[1] >= piece.end


def test_piano_roll_zooms_and_seeks(qtbot):
    roll = PianoRoll()
    qtbot.addWidget(roll)
    roll.resize(800, 400)
    roll.show()
    piece = make_piece(
        [(k * STEPS_PER_BEAT, 60 + k % 12, STEPS_PER_BEAT) for k in range(64)], bars=range(0, 16 * BAR + 1, BAR)
    )
    roll.set_piece(piece)
    fitted = roll.px_per_beat
    roll.zoom_in()
    assert roll.px_per_beat > fitted and roll.horizontalScrollBar().maximum() > 0
    wheel = QWheelEvent(
        QPointF(300, 200),
        QPointF(300, 200),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.NoButton,
        Qt.ControlModifier,
        Qt.NoScrollPhase,
        False,
    )
    zoomed = roll.px_per_beat
    roll.wheelEvent(wheel)  # Ctrl+wheel up zooms in further
    assert roll.px_per_beat > zoomed
    roll.zoom_to_fit()
    assert roll.px_per_beat == pytest.approx(fitted)
    with qtbot.waitSignal(roll.seek_requested) as blocker:  # a click on the bar ruler asks to play from there
        qtbot.mouseClick(roll.viewport(), Qt.LeftButton, pos=QPoint(int(KEYBOARD_WIDTH + 8 * roll.px_per_beat), 5))
    assert abs(blocker.args[0] - 8 * STEPS_PER_BEAT) <= 1


# --- 7. no silent overwrites ---------------------------------------------------------------------------
def test_your_tempo_and_instrument_survive_a_change_of_style(qtbot, window):
    controls = window.controls
    pick(controls.genre_combo, "rise")
    controls.tempo_spin.setValue(140)  # the musician's own tempo; the instrument stays the style's
    with qtbot.waitSignal(controls.notice) as blocker:
        pick(controls.genre_combo, "fall")
    assert controls.tempo_spin.value() == 140 and controls.instrument_combo.currentText() == "Violin"
    assert "Kept your tempo 140 BPM" in blocker.args[0] and "Kept your" in window.statusBar().currentMessage()


def test_style_strength_follows_the_style_unless_you_moved_it(qtbot, window):
    """Each style starts at the model card's measured style strength; the musician's own survives
    a change of style (and is said to), as their tempo does."""
    from dataclasses import replace

    controls = window.controls
    tuned = [replace(g, style_strength=(0.0, 1.5)[i]) for i, g in enumerate(window.model_info.genres)]
    controls.set_model(replace(window.model_info, genres=tuned))
    pick(controls.genre_combo, "fall")
    assert controls.style_strength() == 1.5
    pick(controls.genre_combo, "rise")
    assert controls.style_strength() == 0.0 and controls.request_fields()["style_strength"] == 0.0
    controls.strength_slider.setValue(round(0.7 * STRENGTH_SCALE))
    with qtbot.waitSignal(controls.notice) as blocker:
        pick(controls.genre_combo, "fall")
    assert controls.style_strength() == 0.7 and "style strength 0.7 (style: 1.5)" in blocker.args[0]
    controls.apply_fields({"genre": "rise", "style_strength": None})  # a take that left it to the style
    assert controls.style_strength() == 0.0 and "style_strength" not in controls.user_set


def test_clicking_a_take_keeps_the_panel_and_use_these_settings_fills_it(qtbot, window):
    controls = window.controls
    pick(controls.genre_combo, "fall")
    controls.bars_spin.setValue(4)
    take = generate(qtbot, window)
    pick(controls.genre_combo, "rise")
    controls.bars_spin.setValue(6)
    window.history.take_chosen.emit(take.id)
    assert controls.genre_combo.currentData() == "rise" and controls.bars_spin.value() == 6
    window.history.use_button.click()
    assert controls.genre_combo.currentData() == "fall" and controls.bars_spin.value() == 4
    assert controls.seed_spin.value() == take.generated.request.seed
    window.undo_stack.undo()  # Undo puts the musician's settings back
    assert controls.genre_combo.currentData() == "rise" and controls.bars_spin.value() == 6


# --- 8. voices in colour, note names on hover ----------------------------------------------------------
def test_chorale_voices_get_their_own_colours_and_notes_say_their_name(qtbot, chorale_like):
    from musicgen.music.voices import separate_voices

    generated = GeneratedPiece(
        piece=chorale_like,
        request=GenerationRequest(genre="bach"),
        tokens=[],
        tempo=80,
        program=52,
        transpose=0,
        events=0,
        seconds_taken=0.0,
        ended_naturally=True,
    )
    analyser = jobs.TakeAnalyser(None, {"voices": ""})
    voices, names = analyser.voices(generated)
    assert names == ("Soprano", "Alto", "Tenor", "Bass") and len(voices) == len(chorale_like.notes)
    expected = {note: v for v, notes in enumerate(separate_voices(chorale_like, 4)) for note in notes}
    assert voices == tuple(expected[n] for n in chorale_like.notes) and set(voices) == {0, 1, 2, 3}
    roll = PianoRoll()
    qtbot.addWidget(roll)
    roll.resize(900, 500)
    roll.show()
    roll.set_piece(chorale_like, voices, names)
    image = roll.viewport().grab().toImage()
    for index in (0, 1, 2, 3):  # the four notes of the first chord, one per voice
        note = chorale_like.notes[index]
        centre = QPoint(
            int(roll.x_of(note.start + note.duration / 2)), int(roll.y_of(note.pitch) + roll.row_height() / 2)
        )
        assert image.pixelColor(centre).name() == theme.VOICE_COLOURS[voices[index]].name()
        assert roll.note_at(centre) == index
        assert roll.note_text(index) == f"{note_name(note.pitch)}, 1/4 \u00b7 {names[voices[index]]}"
    note = chorale_like.notes[0]
    centre = QPoint(int(roll.x_of(note.start + 6)), int(roll.y_of(note.pitch) + roll.row_height() / 2))
    QApplication.sendEvent(roll.viewport(), QHelpEvent(QHelpEvent.ToolTip, centre, roll.viewport().mapToGlobal(centre)))
    assert QToolTip.isVisible() and QToolTip.text() == roll.note_text(0)


# --- 9. the new controls -------------------------------------------------------------------------------
def test_the_metre_default_names_the_style_s_metre_or_the_ones_it_draws_from():
    assert meter_default_label({"6/8": 1.0}) == "6/8"
    assert meter_default_label({"2/4": 0.84, "4/4": 0.11, "3/4": 0.05}) == "2/4, 4/4, 3/4"
    assert meter_default_label({"4/4": 0.31, "3/4": 0.22, "2/4": 0.21, "6/8": 0.14}) == "4/4, 3/4, 2/4\u2026"
    assert meter_default_label({}) == "4/4"  # a model without metre counts


def test_metre_form_morph_strength_and_key_reach_the_take(qtbot, window):
    controls = window.controls
    pick(controls.genre_combo, "rise")
    assert controls.meter_combo.itemText(0) == "Style default (4/4)"
    assert [controls.meter_combo.itemData(i) for i in range(controls.meter_combo.count())] == [None, "4/4", "6/8"]
    pick(controls.meter_combo, "6/8")
    pick(controls.form_combo, "AABB")
    controls.bars_spin.setValue(18)
    assert "try 16 or 20" in controls.length_problem.text() and controls.length_problem.isVisible()
    window.generate()  # refused with the reason, nothing starts
    assert not window.busy and "try 16 or 20" in window.statusBar().currentMessage()
    controls.bars_spin.setValue(16)
    assert not controls.length_problem.isVisible()
    pick(controls.morph_combo, "fall")
    controls.strength_slider.setValue(15)
    pick(controls.key_combo, "D minor")
    with qtbot.waitSignal(window.take_analysed, timeout=WAIT_MS):
        take = generate(qtbot, window)
    generated = take.generated
    request = generated.request
    assert (request.meter, request.form, request.morph_to, request.style_strength, request.key) == (
        "6/8",
        "AABB",
        "fall",
        1.5,
        "D minor",
    )
    assert generated.meter == "6/8" and generated.form == "AABB" and generated.bars_generated == 16
    assert [part["label"] for part in generated.parts] == ["A", "A", "B", "B"]
    assert generated.key_result in ("D minor", "F major")  # the piece keeps its mode, with D minor's signature
    assert generated.style_fit is not None and 0 <= generated.style_fit <= 1  # the critic's verdict, on the take
    assert take.originality is not None and f"longest shared run: {take.originality['notes']} notes" in take.badges
    assert "fit " in window.history.list.currentItem().text() and "6/8, AABB" in take.summary


def test_regenerate_bars_makes_a_new_take_that_undo_removes(qtbot, window):
    window.controls.bars_spin.setValue(8)
    take = generate(qtbot, window)
    tools = window.take_tools
    assert tools.last_spin.maximum() == len(take.generated.piece.bars) - 1  # every whole bar of the take
    tools.first_spin.setValue(3)
    tools.last_spin.setValue(5)
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        tools.regenerate_button.click()
    new = blocker.args[0]
    bars = take.generated.piece.bars
    start, stop = bars[2], bars[5]
    assert new.parent == take.id and new.reworked == (3, 5) and "bars 3\u20135 new" in new.summary
    assert notes_outside(new.generated.piece, start, stop) == notes_outside(take.generated.piece, start, stop)
    assert window.roll.highlight[:2] == (start, stop) and window.current is new
    assert window.statusBar().currentMessage().startswith("Bars 3\u20135 written anew")
    window.take_tools.undo_button.click()
    assert [t.id for t in window.history.takes] == [take.id] and window.current is take
    window.take_tools.redo_button.click()
    assert [t.id for t in window.history.takes] == [take.id, new.id]


def test_continue_this_take_adds_music_after_its_end(qtbot, window):
    window.controls.bars_spin.setValue(4)
    take = generate(qtbot, window)
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        window.take_tools.continue_button.click()
    more = blocker.args[0]
    assert more.parent == take.id and more.generated.request.primer == str(take.midi_path)
    piece = more.generated.piece
    assert piece.primer_end >= take.generated.piece.bars[-1] and piece.end > piece.primer_end
    assert [n.pitch for n in piece.notes if n.start < piece.primer_end] == take.generated.piece.pitches()


def test_export_score_writes_musicxml_and_abc(qtbot, window, tmp_path, monkeypatch):
    window.controls.bars_spin.setValue(4)
    generate(qtbot, window)
    save_dialog_answers(monkeypatch, tmp_path / "tune", tmp_path / "tune.abc")
    with qtbot.waitSignal(window.files.exported, timeout=WAIT_MS):
        window.export_score_action.trigger()
    assert "<score-partwise" in (tmp_path / "tune.musicxml").read_text(encoding="utf-8")
    with qtbot.waitSignal(window.files.exported, timeout=WAIT_MS):
        window.export_score_action.trigger()
    abc = (tmp_path / "tune.abc").read_text(encoding="utf-8")
    assert abc.startswith("X:") and "\nK:" in abc


# --- 10. without speakers ------------------------------------------------------------------------------
def test_without_speakers_the_ruler_moves_the_playhead_and_wav_export_works(
    qtbot, open_window, tiny_model, dialogs, monkeypatch, tmp_path
):
    monkeypatch.setattr(gui.main_window, "audio_output_available", lambda: False)
    window = open_window(tiny_model, has_audio_device=None)  # detect, as the app does
    assert NO_DEVICE_MESSAGE in window.audio_label.text() and window.audio_label.isVisible()
    window.controls.bars_spin.setValue(4)
    with qtbot.waitSignal(window.audio_ready, timeout=WAIT_MS):
        take = generate(qtbot, window)
    assert not window.play_button.isEnabled() and window.play_button.toolTip() == NO_DEVICE_MESSAGE
    window.toggle_playback()  # Space does nothing rather than play silence
    assert window.playback.player.state.status is Status.STOPPED
    roll = window.roll
    target = take.generated.piece.bars[2]
    qtbot.mouseClick(roll.viewport(), Qt.LeftButton, pos=QPoint(int(roll.x_of(target)) + 1, 5))
    assert roll.playhead == pytest.approx(target, abs=1.5)
    assert window.time_label.text() != "0:00 / " + window.time_label.text().split(" / ")[1]

    save_dialog_answers(monkeypatch, tmp_path / "out.wav", tmp_path / "wide.wav")
    window.files.export_wav()
    with wave.open(str(tmp_path / "out.wav")) as exported:
        assert exported.getnframes() > 0 and exported.getsampwidth() == 2 and exported.getnchannels() == 1
    with qtbot.waitSignal(window.files.exported, timeout=WAIT_MS):
        window.export_stereo_action.trigger()
    with wave.open(str(tmp_path / "wide.wav")) as exported:
        assert exported.getnchannels() == 2 and exported.getnframes() > 0
    assert dialogs == []


def test_stereo_export_spreads_the_voices_left_to_right(tmp_path, chorale_like):
    import numpy as np

    generated = GeneratedPiece(
        piece=chorale_like,
        request=GenerationRequest(genre="bach"),
        tokens=[],
        tempo=80,
        program=52,
        transpose=0,
        events=0,
        seconds_taken=0.0,
        ended_naturally=True,
    )

    def render(voices, name):
        for _ in jobs.render_audio(generated, tmp_path / name, voices, stereo=True):
            pass
        with wave.open(str(tmp_path / name)) as exported:
            assert exported.getnchannels() == 2
            return np.frombuffer(exported.readframes(exported.getnframes()), dtype="<i2").reshape(-1, 2).astype(float)

    one_line = render(None, "centre.wav")  # a single line sits in the middle: left and right alike
    assert np.abs(one_line).mean() > 0 and np.array_equal(one_line[:, 0], one_line[:, 1])
    voices = tuple(0 if n.pitch >= 72 else 3 for n in chorale_like.notes)  # the top line left, the rest right
    wide = render(voices, "wide.wav")
    left, right = wide[:, 0], wide[:, 1]
    assert np.abs(left - right).mean() > 0.2 * np.abs(left).mean() > 0


def test_the_help_menu_lists_every_shortcut(window):
    rows = dict(shortcut_rows(window.actions()))
    assert rows["Generate"] == "Ctrl+G, Ctrl+Return" and rows["Play / Pause"] == "Space"
    assert "Ctrl+Z" in rows["Undo"] and "Regenerate the chosen bars" in rows and "Keyboard shortcuts" in rows
    menu_titles = [a.text() for a in window.menuBar().actions()]
    assert "&Help" in menu_titles and "&Playback" in menu_titles


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


# --- file dialogs that cannot freeze ---------------------------------------------------------------------
def test_the_file_dialog_lists_a_folder_with_a_fifo_and_refuses_proc(qtbot, tmp_path):
    os.mkfifo(tmp_path / "pipe")  # Qt's own dialog blocks for ever reading this to guess its type
    (tmp_path / "tune.mid").write_bytes(b"MThd")
    (tmp_path / "songs").mkdir()
    listed = {}

    def list_it():
        listed["result"] = file_dialogs.list_folder(str(tmp_path), ["*.mid"])

    reader = threading.Thread(target=list_it, daemon=True)
    reader.start()
    reader.join(5)
    assert listed.get("result") == (["songs"], ["tune.mid"])  # the FIFO is neither read nor offered
    dialog = file_dialogs.SafeFileDialog(
        None, "Save MIDI", str(tmp_path / "x.mid"), "MIDI files (*.mid *.midi)", save=True
    )
    qtbot.addWidget(dialog)
    assert dialog.folder == str(tmp_path) and dialog.name_edit.text() == "x.mid"
    assert [dialog.entries.item(i).text() for i in range(dialog.entries.count())] == ["songs/", "tune.mid"]
    dialog.name_edit.setText("/proc")
    dialog._accept()  # typing /proc as the name: refused, the dialog stays where it was
    assert dialog.folder == str(tmp_path) and "system files" in dialog.message.text() and not dialog.result()
    assert not dialog.enter("/proc/self") and file_dialogs.is_special_folder("/dev/shm")
    dialog.name_edit.setText("songs")
    dialog._accept()  # a folder's name goes into it
    assert dialog.folder == str(tmp_path / "songs")


# --- torch stays out of the GUI; a clean quit ------------------------------------------------------------
def test_importing_every_gui_module_loads_no_torch():
    modules = [f"gui.{m.name}" for m in pkgutil.iter_modules(gui.__path__)]
    assert {"gui.main_window", "gui.jobs", "gui.workers", "gui.takes", "gui.screenshot"} <= set(modules)
    code = (
        f"import sys, importlib\nfor name in {modules!r}: importlib.import_module(name)\nprint('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_quits_the_app_cleanly_and_leaves_no_temp_folder(tmp_path, tiny_model, signal_number):
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "TMPDIR": str(temp),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "gui.app", "--model", str(tiny_model)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(temp.glob("musicgen-gui-*")) and time.monotonic() < deadline and app.poll() is None:
            time.sleep(0.1)
        assert list(temp.glob("musicgen-gui-*")), "the window never came up"
        time.sleep(1.0)  # let it get on with loading the model
        app.send_signal(signal_number)
        _, errors = app.communicate(timeout=20)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0 and "Traceback" not in errors and "KeyboardInterrupt" not in errors
    assert list(temp.glob("musicgen-gui-*")) == []
    assert (tmp_path / "config" / "musicgen" / "musicgen-gui.conf").is_file()  # settings were saved on the way out
