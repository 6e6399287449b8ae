"""The main window's menus and shortcuts, and which actions and buttons are enabled when.

Every action is a QAction on the window (so its shortcut works anywhere in it) and in a menu (so the
Help menu can list it). ``MenuActions`` declares them (``MainWindow`` inherits the declarations).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from .file_actions import harmony_style
from .help import ShortcutsDialog, about_text
from .take_commands import DeleteTake, StarTake

NO_MODEL_TOOLTIP = "No model loaded \u2014 start the app with --model NAME or PATH"


class MenuActions:
    """The actions ``build_menus`` makes on the window (declarations only), menu by menu."""

    open_primer_action: QAction
    harmonise_action: QAction
    save_action: QAction
    export_action: QAction
    export_stereo_action: QAction
    export_score_action: QAction
    undo_action: QAction
    redo_action: QAction
    generate_action: QAction
    cancel_action: QAction
    regenerate_action: QAction
    continue_action: QAction
    use_settings_action: QAction
    star_action: QAction
    rename_action: QAction
    delete_action: QAction
    play_action: QAction
    stop_action: QAction
    loop_action: QAction
    output_menu: QMenu
    settings_panel_action: QAction
    history_panel_action: QAction


def _action(window, text, slot, shortcuts=(), menu=None, checkable=False) -> QAction:
    """A QAction on ``window`` (its shortcut works anywhere in it) calling ``slot``, listed in ``menu``."""
    act = QAction(text, window)
    act.setShortcuts([QKeySequence(s) for s in shortcuts])
    act.setShortcutContext(Qt.WindowShortcut)
    act.setCheckable(checkable)
    act.triggered.connect(slot)
    window.addAction(act)
    if menu is not None:
        menu.addAction(act)
    return act


def build_menus(window) -> None:
    """Create the menu bar of ``window`` (a MainWindow) and its actions."""
    bar = window.menuBar()
    _file_menu(window, bar.addMenu("&File"))
    _edit_menu(window, bar.addMenu("&Edit"))
    music_menu = bar.addMenu("&Compose")
    window.generate_action = _action(window, "Generate", window.generate, ["Ctrl+G", "Ctrl+Return"], music_menu)
    window.cancel_action = _action(window, "Cancel generation", window.cancel_generation, ["Esc"], music_menu)
    _take_menu(window, bar.addMenu("&Take"))
    _playback_menu(window, bar.addMenu("&Playback"))
    _view_menu(window, bar.addMenu("&View"))
    help_menu = bar.addMenu("&Help")
    shortcuts = [QKeySequence.HelpContents]
    _action(
        window, "Keyboard shortcuts", lambda: ShortcutsDialog(window.actions(), window).exec(), shortcuts, help_menu
    )

    def about() -> None:
        QMessageBox.about(window, "About musicgen", about_text())

    _action(window, "About musicgen", about, (), help_menu)


def _file_menu(window, menu) -> None:
    """Continue a MIDI file, Harmonise, Save, the exports (also in the header's Export menu), Quit."""
    files = window.files
    window.open_primer_action = _action(window, "Continue a MIDI file\u2026", files.open_primer, ["Ctrl+O"], menu)
    window.harmonise_action = _action(window, "Harmonise melody\u2026", files.open_melody, ["Ctrl+Shift+H"], menu)
    window.harmonise_button.clicked.connect(window.harmonise_action.trigger)
    window.save_action = _action(window, "Save MIDI\u2026", files.save_midi, [QKeySequence.Save], menu)
    window.export_action = _action(window, "Export WAV\u2026", lambda: files.export_wav(False), ["Ctrl+E"], menu)
    window.export_stereo_action = _action(
        window, "Export WAV (stereo)\u2026", lambda: files.export_wav(True), ["Ctrl+Shift+E"], menu
    )
    window.export_score_action = _action(
        window, "Export score (MusicXML or ABC)\u2026", files.export_score, ["Ctrl+Shift+S"], menu
    )
    for act in (window.export_action, window.export_stereo_action, window.export_score_action):
        window.export_menu.addAction(act)
    menu.addSeparator()
    _action(window, "Quit", window.close, [QKeySequence.Quit], menu)


def _edit_menu(window, menu) -> None:
    """Undo and Redo, from the window's undo stack."""
    window.undo_action = window.undo_stack.createUndoAction(window, "Undo")
    window.undo_action.setShortcuts(QKeySequence.Undo)
    window.redo_action = window.undo_stack.createRedoAction(window, "Redo")
    window.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    for act in (window.undo_action, window.redo_action):
        window.addAction(act)
        menu.addAction(act)


def _take_menu(window, menu) -> None:
    """Regenerate, Continue, and what the takes column offers for the current take."""
    tools, take, actions = window.take_tools, lambda: window.current, window.take_actions
    window.regenerate_action = _action(
        window,
        "Regenerate the chosen bars",
        lambda: window.regenerate_bars(tools.first_spin.value(), tools.last_spin.value()),
        ["Ctrl+R"],
        menu,
    )
    window.continue_action = _action(window, "Continue this take", window.continue_take, ["Ctrl+Shift+C"], menu)
    menu.addSeparator()
    window.use_settings_action = _action(
        window, "Use these settings", lambda: take() and actions.use_settings_of(take().id), ["Ctrl+U"], menu
    )
    window.star_action = _action(window, "Star", lambda: take() and actions.push(StarTake, take().id), ["Ctrl+D"], menu)
    window.rename_action = _action(
        window, "Rename\u2026", lambda: take() and actions.rename_take(take().id), ["F2"], menu
    )
    window.delete_action = _action(
        window, "Delete", lambda: take() and actions.push(DeleteTake, take().id), ["Ctrl+Delete"], menu
    )


def _playback_menu(window, menu) -> None:
    """Play, Stop, Loop (with the transport's loop button) and the MIDI output."""
    playback = window.playback
    window.play_action = _action(window, "Play / Pause", playback.toggle, ["Space"], menu)
    window.stop_action = _action(window, "Stop", playback.stop, ["Ctrl+."], menu)
    window.loop_action = _action(window, "Loop the chosen bars", playback.set_loop, ["Ctrl+L"], menu, checkable=True)
    window.loop_action.toggled.connect(window.transport.loop_button.setChecked)
    window.transport.loop_button.clicked.connect(window.loop_action.trigger)
    menu.addSeparator()
    window.output_menu = menu.addMenu("Output")
    window.output_menu.aboutToShow.connect(lambda: playback.fill_port_menu(window.output_menu))
    playback.fill_port_menu(window.output_menu)


def _view_menu(window, menu) -> None:
    """Zoom, and the side panels (with the header's Settings and Takes buttons)."""
    roll = window.roll
    _action(window, "Zoom in", roll.zoom_in, [QKeySequence.ZoomIn, "Ctrl+="], menu)
    _action(window, "Zoom out", roll.zoom_out, [QKeySequence.ZoomOut], menu)
    _action(window, "Show whole piece", roll.zoom_to_fit, ["Ctrl+0"], menu)
    menu.addSeparator()
    window.settings_panel_action = _action(
        window,
        "Settings panel",
        lambda on: window.set_panel_visible(window.sidebar, on),
        ["Ctrl+1"],
        menu,
        checkable=True,
    )
    window.history_panel_action = _action(
        window,
        "Takes panel",
        lambda on: window.set_panel_visible(window.history_box, on),
        ["Ctrl+2"],
        menu,
        checkable=True,
    )
    _connect_panel_buttons(window)


def _connect_panel_buttons(window) -> None:
    """The header's Settings and Takes buttons show and follow the View menu's panel actions."""
    for button, act in (
        (window.settings_button, window.settings_panel_action),
        (window.history_button, window.history_panel_action),
    ):
        button.setCheckable(True)
        button.setToolTip(f"Show or hide the {act.text().lower()} ({act.shortcut().toString(QKeySequence.NativeText)})")
        button.clicked.connect(act.trigger)
        act.toggled.connect(button.setChecked)


def voices_rewritable(window, take) -> bool:
    """True when one voice of ``take`` can be written anew: it is in four named voices, in a style this
    model writes in four voices."""
    info = window.model_info
    if take is None or take.voices is None or len(take.voice_names) != 4 or info is None:
        return False
    weights = take.generated.genre_weights or {take.generated.request.genre: 1.0}
    return info.voices.get(max(weights, key=weights.get), 1) >= 4


def _update_harmonise(window, can_make: bool) -> None:
    """Harmonise melody…: on with a model that has a four-voice style; its tooltip names the style."""
    problem = window.features.get("harmonise", "") if window.generator is not None else "waiting for the model"
    style = harmony_style(window)
    if not problem and style is None:
        problem = "this model has no four-voice style (such as bach or palestrina)"
    for widget in (window.harmonise_action, window.harmonise_button):
        widget.setEnabled(can_make and not problem)
        widget.setToolTip(
            problem
            or f"Open a MIDI file and write alto, tenor and bass under its melody in {style} (a new take) (Ctrl+Shift+H)"
        )


def update_actions(window) -> None:
    """Enable what can be done now; tooltips say why something cannot."""
    has_model, busy, take = window.generator is not None, window.busy, window.current
    if busy:
        window.generate_button.setText("Composing\u2026")
    elif has_model:
        window.generate_button.setText("Generate")
    else:
        window.generate_button.setText("No model loaded" if window._model_failed else "Loading model\u2026")
    window.generate_button.setEnabled(has_model and not busy)
    window.generate_button.setToolTip(
        "Compose a new piece with these settings (Ctrl+G)" if has_model else NO_MODEL_TOOLTIP
    )
    window.generate_action.setEnabled(has_model and not busy)
    window.cancel_action.setEnabled(busy)
    has_take = take is not None
    for widget in (
        window.save_button,
        window.save_action,
        window.export_button,
        window.use_settings_action,
        window.star_action,
        window.rename_action,
        window.delete_action,
    ):
        widget.setEnabled(has_take)
    window.use_settings_action.setEnabled(has_take and has_model)
    window.star_action.setText("Unstar" if has_take and take.starred else "Star")
    has_audio = has_take and take.wav_path is not None
    window.export_action.setEnabled(has_audio)
    window.export_action.setToolTip("" if has_audio or not has_take else "Preparing audio\u2026")
    window.export_stereo_action.setEnabled(has_take)
    score_problem = window.features.get("score", "") if has_model else "waiting for the model"
    window.export_score_action.setEnabled(has_take and not score_problem)
    window.export_score_action.setToolTip(score_problem)
    regenerate_problem = window.features.get("regenerate", "") if has_model else "waiting for the model"
    can_make = has_take and has_model and not busy
    tools = window.take_tools
    tools.regenerate_button.setEnabled(can_make and not regenerate_problem)
    window.regenerate_action.setEnabled(can_make and not regenerate_problem)
    tools.regenerate_button.setToolTip(
        regenerate_problem or "Write these bars anew and keep every other note (a new take) (Ctrl+R)"
    )
    for widget in (tools.continue_button, window.continue_action):
        widget.setEnabled(can_make)
    rewritable = can_make and not regenerate_problem and voices_rewritable(window, take)
    tools.voice_combo.setEnabled(rewritable)
    tools.voice_combo.setToolTip(
        "Regenerate writes every voice anew, or only this one; every other note is kept"
        if rewritable
        else "Only one voice of a four-voice take (chorale, Palestrina, a harmonised melody) can be written anew"
    )
    _update_harmonise(window, has_model and not busy)
    for spin in (tools.first_spin, tools.last_spin):
        spin.setEnabled(has_take)
    playback = window.playback
    can_toggle = playback.can_toggle()
    window.play_button.setEnabled(can_toggle)
    window.play_action.setEnabled(can_toggle)
    window.transport.show_playing(playback.playing)
    window.play_button.setToolTip(
        playback.unavailable_reason() or ("Play to " + playback.port if playback.port else "Play / pause (Space)")
    )
    window.stop_button.setEnabled(playback.can_stop())
    window.stop_action.setEnabled(playback.can_stop())
