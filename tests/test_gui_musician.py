"""What a musician hit in the app (issue 27): primers that are too long or not MIDI, continuing and
regenerating with the take's own settings, bars chosen on the ruler, and the smaller things."""

from __future__ import annotations

import wave

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QScrollArea
from test_gui import WAIT_MS, dialogs, generate, open_window, pick, save_dialog_answers, settings, window  # noqa: F401

import musicgen
from gui import file_dialogs, jobs, theme
from gui.file_actions import ABC_FILTER
from gui.piano_roll import RULER_HEIGHT
from gui.playback import Status
from gui.playback_control import loop_restart, short_text
from gui.takes import Take
from musicgen.files.midi import write_midi
from musicgen.music.piece import STEPS_PER_BEAT, make_piece
from musicgen.sampling.request import GeneratedPiece, GenerationRequest

BAR = 4 * STEPS_PER_BEAT


def write_primer(path: Path, notes: int) -> Path:
    """A MIDI file of ``notes`` sixteenth notes in 4/4."""
    step = STEPS_PER_BEAT // 4
    write_midi(
        make_piece([(k * step, 60 + k % 12, step) for k in range(notes)], bars=range(0, notes * step + 1, BAR)), path
    )
    return path


# --- 3. primers: a size limit, and files that are not MIDI refused when chosen --------------------------
@pytest.mark.parametrize("content", [b"", b"C D E F G A B c\n"], ids=["empty .mid", "text file"])
def test_a_file_that_is_not_midi_is_refused_when_chosen_and_not_kept(window, tmp_path, dialogs, content):
    chosen = tmp_path / "tune.mid"
    chosen.write_bytes(content)
    assert not window.files.use_primer(str(chosen))
    assert window.controls.primer_path is None and len(dialogs) == 1
    kind, title, text = dialogs[0]
    assert "tune.mid" in text and "not a MIDI file" in text and "\n" not in text


def test_a_primer_over_the_limit_is_refused_with_one_line(qtbot, window, tmp_path, dialogs, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_PRIMER_NOTES", 500)
    long_file = write_primer(tmp_path / "album.mid", 600)
    with qtbot.waitSignal(window.files.primer_checked, timeout=WAIT_MS) as blocker:
        assert window.files.use_primer(str(long_file))
    assert "too long to continue" in blocker.args[1] and "600 notes" in blocker.args[1]
    assert window.controls.primer_path is None and "\n" not in dialogs[0][2]
    fine = write_primer(tmp_path / "opening.mid", 64)
    with qtbot.waitSignal(window.files.primer_checked, timeout=WAIT_MS) as blocker:
        assert window.files.use_primer(str(fine))
    assert blocker.args == [str(fine), ""] and window.controls.primer_path == str(fine)
    assert "64 notes" in window.controls.primer_label.text() and len(dialogs) == 1


def test_a_primer_too_big_to_read_is_refused_without_reading_it(window, tmp_path, dialogs):
    huge = tmp_path / "three hours.mid"
    with huge.open("wb") as file:
        file.write(b"MThd")
        file.truncate(3 << 20)
    assert not window.files.use_primer(str(huge))
    assert "too long to continue" in dialogs[0][2] and window.controls.primer_path is None


# --- 4. Continue and Regenerate keep the take's settings -------------------------------------------------
def test_continue_and_regenerate_use_the_take_s_settings_not_the_panel_s(qtbot, window):
    controls = window.controls
    pick(controls.genre_combo, "fall")
    pick(controls.meter_combo, "6/8")
    controls.bars_spin.setValue(4)
    controls.tempo_spin.setValue(170)
    controls.strength_slider.setValue(15)
    take = generate(qtbot, window)
    assert take.generated.meter == "6/8" and take.generated.tempo == 170
    pick(controls.genre_combo, "rise")  # the panel moves on: another style, metre, tempo, key, strength
    pick(controls.meter_combo, "4/4")
    controls.tempo_spin.setValue(120)
    pick(controls.key_combo, "D major")
    controls.strength_slider.setValue(5)
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        window.take_tools.continue_button.click()
    more = blocker.args[0].generated
    assert more.request.genre == "fall" and more.meter == "6/8" and more.tempo == 170
    assert more.request.key is None and more.request.style_strength == 1.5
    assert more.program == take.generated.program and more.request.bars == 4
    window.take_actions.show_take(take.id)
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        window.regenerate_bars(1, 2)
    again = blocker.args[0].generated
    assert again.request.style_strength == 1.5 and again.tempo == 170 and again.meter == "6/8"


# --- 5. choosing bars on the ruler -----------------------------------------------------------------------
def test_dragging_across_the_ruler_chooses_bars_and_only_a_click_moves_the_playhead(qtbot, window):
    window.controls.bars_spin.setValue(8)
    take = generate(qtbot, window)
    roll, tools, bars = window.roll, window.take_tools, take.generated.piece.bars
    assert roll.selection is None  # nothing chosen yet: nothing shaded

    def ruler(bar_line: int, into: float = 0.5) -> QPoint:
        """A point on the ruler ``into`` the bar that starts at ``bars[bar_line]``."""
        step = bars[bar_line] + into * (bars[bar_line + 1] - bars[bar_line])
        return QPoint(int(roll.x_of(step)), RULER_HEIGHT // 2)

    before = roll.viewport().grab().toImage()
    qtbot.mousePress(roll.viewport(), Qt.LeftButton, pos=ruler(1))  # bar 2
    qtbot.mouseMove(roll.viewport(), ruler(3))  # bar 4: shaded while the button is still down
    assert roll.selection == (2, 4) and (tools.first_spin.value(), tools.last_spin.value()) == (2, 4)
    during = roll.viewport().grab().toImage()
    middle = QPoint(ruler(2).x(), roll.viewport().height() - 3)
    assert during.pixelColor(middle) != before.pixelColor(middle)
    qtbot.mouseRelease(roll.viewport(), Qt.LeftButton, pos=ruler(3))
    assert roll.playhead is None  # a drag chooses, it does not seek
    tools.first_spin.setValue(3)  # the boxes move the shade too
    assert roll.selection == (3, 4)
    qtbot.mouseClick(roll.viewport(), Qt.LeftButton, pos=ruler(5, 0.0))
    assert roll.playhead == pytest.approx(bars[5], abs=1.5) and roll.selection == (3, 4)
    with qtbot.waitSignal(window.piece_ready, timeout=WAIT_MS) as blocker:
        window.regenerate_action.trigger()
    assert blocker.args[0].reworked == (3, 4)


# --- 6. the smaller things -------------------------------------------------------------------------------
def test_abc_export_is_named_x_abc_and_dialogs_reopen_the_last_folder(qtbot, window, tmp_path, monkeypatch):
    window.controls.bars_spin.setValue(4)
    generate(qtbot, window)
    chosen = tmp_path / "songs"
    chosen.mkdir()
    asked, answers = [], [chosen / "tune.mid", chosen / "tune.musicxml", chosen / "tune.wav"]

    def ask(parent, caption, suggested, filters):
        asked.append(Path(suggested))
        return str(answers.pop(0)), ABC_FILTER if "ABC" in filters else filters.split(";;")[0]

    monkeypatch.setattr(file_dialogs, "ask_save_path", ask)
    window.files.save_midi()
    with qtbot.waitSignal(window.files.exported, timeout=WAIT_MS):
        window.files.export_score()  # the suggested .musicxml name, with the ABC type chosen
    assert (chosen / "tune.abc").is_file() and not list(chosen.glob("*.musicxml*"))
    qtbot.waitUntil(lambda: window.current.wav_path is not None, timeout=WAIT_MS)
    window.files.export_wav()
    assert [path.parent for path in asked[1:]] == [chosen, chosen]  # where the last file went


def test_the_output_menu_names_a_failed_midi_system_in_a_few_words():
    text = short_text("MidiOutAlsa::initialize: error creating ALSA sequencer client object.\nmore")
    assert text.startswith("MidiOutAlsa::initialize: error") and text.endswith("\u2026") and len(text) == 48
    assert len(short_text("x" * 300)) == 48 and short_text("Port 1") == "Port 1"


def test_the_wheel_over_the_settings_scrolls_them_and_leaves_the_tempo_alone(qtbot, open_window, tiny_model):
    window = open_window(tiny_model, size=(800, 600))
    window.set_panel_visible(window.sidebar, True)
    scroll = window.controls.parentWidget().parentWidget()
    assert isinstance(scroll, QScrollArea) and scroll.verticalScrollBar().maximum() > 0
    tempo = window.controls.tempo_spin
    value, top = tempo.value(), scroll.verticalScrollBar().value()
    centre = QPointF(tempo.width() / 2, tempo.height() / 2)
    wheel = QWheelEvent(
        centre,
        tempo.mapToGlobal(centre),
        QPoint(),
        QPoint(0, -120),
        Qt.NoButton,
        Qt.NoModifier,
        Qt.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(tempo, wheel)
    assert tempo.value() == value and scroll.verticalScrollBar().value() > top
    tempo.setFocus()  # clicked into: now the wheel is the spin box's
    qtbot.waitUntil(tempo.hasFocus, timeout=WAIT_MS)
    QApplication.sendEvent(tempo, wheel)
    assert tempo.value() != value


def test_a_window_saved_too_small_comes_back_usable(open_window, tiny_model, settings):
    small = open_window(tiny_model)
    small.setMinimumSize(0, 0)
    small.resize(737, 485)
    small.close()
    assert settings.value("window/geometry") is not None
    window = open_window(tiny_model)
    available = window.screen().availableGeometry()
    assert window.width() >= min(800, available.width()) and window.height() >= min(560, available.height())


def test_star_becomes_unstar_and_about_shows_the_version(qtbot, window, monkeypatch):
    window.controls.bars_spin.setValue(4)
    generate(qtbot, window)
    assert window.star_action.text() == "Star" and window.history.star_button.text().endswith("Star")
    window.star_action.trigger()
    assert window.star_action.text() == "Unstar" and window.history.star_button.text().endswith("Unstar")
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    next(a for a in window.actions() if a.text() == "About musicgen").trigger()
    assert musicgen.__version__ in shown[0]


def test_the_take_shows_its_key_and_metre(qtbot, window):
    pick(window.controls.genre_combo, "fall")
    pick(window.controls.meter_combo, "6/8")
    window.controls.bars_spin.setValue(4)
    take = generate(qtbot, window)  # no key asked for: the key is found from the notes
    assert take.key.endswith(("major", "minor")) and window.key_label.isVisible()
    assert window.key_label.text() == f"{take.key} \u00b7 6/8"


# --- what musicians expect next: a voice legend with mute and solo; looping the chosen bars ---------------
def test_a_chorale_gets_a_voice_legend_whose_mute_and_solo_reach_the_roll_and_the_sound(
    qtbot, window, chorale_like, monkeypatch
):
    generated = GeneratedPiece(
        piece=chorale_like,
        request=GenerationRequest(genre="rise"),
        tokens=[],
        tempo=80,
        program=52,
        transpose=0,
        events=0,
        seconds_taken=0.0,
        ended_naturally=True,
    )
    take = Take("chorale", generated, "Chorale", voices=tuple(i % 4 for i in range(len(chorale_like.notes))))
    take.voice_names = ("Soprano", "Alto", "Tenor", "Bass")
    rendered = []

    def render(generated, path, voices=None, stereo=False, only=None):
        """A quick stand-in for the synthesiser (also for the take's first sound, so no real render
        competes with the ones asked for below): a tenth of a second of silence."""
        rendered.append(only)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(b"\0\0" * 800)
        return str(path), "test"
        yield

    monkeypatch.setattr(jobs, "render_audio", render)
    window.history.add(take)
    window.take_actions.show_take(take.id)
    qtbot.waitUntil(lambda: rendered == [None], timeout=WAIT_MS)  # the take's first sound, every voice
    legend = window.voice_legend
    assert legend.isVisible() and legend.names == take.voice_names and legend.audible() is None
    legend.mute_buttons[1].click()
    assert window.roll.audible_voices == {0, 2, 3}
    qtbot.waitUntil(lambda: bool(rendered) and rendered[-1] == {0, 2, 3}, timeout=WAIT_MS)  # the sound of those heard
    qtbot.waitUntil(lambda: window.playback.player.state.source is not None, timeout=WAIT_MS)
    heard = window.playback.player.state.source
    assert heard.name.endswith("voices-0-2-3.wav")
    window.take_actions._render_audio(take)  # the sound of every voice ready only now: it does not replace it
    qtbot.waitUntil(lambda: rendered[-1] is None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: take.id not in window.take_actions._rendering, timeout=WAIT_MS)
    assert window.playback.player.state.source == heard
    legend.solo_buttons[3].click()  # a solo wins over the mutes
    assert window.roll.audible_voices == {3}
    qtbot.waitUntil(lambda: rendered[-1] == {3}, timeout=WAIT_MS)
    image = window.roll.viewport().grab().toImage()
    soprano = chorale_like.notes[0]
    centre = QPoint(int(window.roll.x_of(soprano.start + 6)), int(window.roll.y_of(soprano.pitch) + 3))
    assert image.pixelColor(centre).name() == theme.NOTE_MUTED.name()
    window.take_actions.show_take(take.id)  # shown again: every voice heard
    assert window.roll.audible_voices is None and legend.audible() is None


def test_loop_plays_the_chosen_bars_over_and_over(qtbot, window):
    assert loop_restart(500, (1000, 3000)) == 1000 and loop_restart(3000, (1000, 3000)) == 1000
    assert loop_restart(2000, (1000, 3000)) is None and loop_restart(2000, None) is None
    window.controls.bars_spin.setValue(8)
    take = generate(qtbot, window)
    window.take_tools.show_bars(2, 3)
    window.loop_action.trigger()
    playback = window.playback
    assert playback.loop and window.transport.loop_button.isChecked()
    start, end = playback.loop_span_ms()
    per_step = 60_000 / take.generated.tempo / STEPS_PER_BEAT
    bars = take.generated.piece.bars
    assert (start, end) == (int(bars[1] * per_step), int(bars[3] * per_step))
    seeks = []
    playback.player.seek = seeks.append
    playback.player.state.status = Status.PLAYING  # as if playing (no speakers here)
    playback.show_position(end + 10)  # the playhead passes the last chosen bar: back to the first
    assert seeks == [start]
