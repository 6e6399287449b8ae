"""What a musician hit in the app (issue 27): primers that are too long or not MIDI, continuing and
regenerating with the take's own settings, bars chosen on the ruler, and the smaller things."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from gui import jobs
from gui.piano_roll import RULER_HEIGHT
from musicgen.midi_io import write_midi
from musicgen.notes import STEPS_PER_BEAT, make_piece
from test_gui import WAIT_MS, dialogs, generate, open_window, pick, save_dialog_answers, settings, window  # noqa: F401

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
