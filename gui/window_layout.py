"""The main window's widgets and how they sit: the settings column (scrolling, with Generate always
in view below it), the take in the middle (header, roll, transport, take tools) and the takes column.

``build_layout`` creates them on the window and connects them to its slots; the window decides
what they do. ``LayoutWidgets`` declares them (``MainWindow`` inherits the declarations).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .controls import ControlPanel
from .elided_label import ElidedLabel
from .history import HistoryPanel
from .piano_roll import PianoRoll
from .playback_control import PlaybackControl
from .take_commands import EMPTY_DETAILS, EMPTY_TITLE, DeleteTake, StarTake
from .transport import TakeTools, TransportBar
from .voice_legend import VoiceLegend
from .wheel_guard import scroll_with_wheel

SIDEBAR_WIDTH, SIDEBAR_MIN_WIDTH = 300, 250  # px
HISTORY_WIDTH, HISTORY_MIN_WIDTH = 260, 200
DEFAULT_SIZE = (1440, 880)
MIN_SIZE = (800, 560)  # px: below this the settings column is cut (on a smaller screen: the screen)


class LayoutWidgets:
    """The widgets ``build_layout`` makes on the window (declarations only, for the window and its readers)."""

    # the settings column
    sidebar: QWidget
    controls: ControlPanel
    generate_button: QPushButton
    harmonise_button: QPushButton
    progress_bar: QProgressBar
    cancel_button: QPushButton
    progress_label: ElidedLabel
    # the take: its header, roll, transport (and the playback it drives), voices and tools
    piece_title: ElidedLabel
    piece_details: ElidedLabel
    key_label: QLabel
    settings_button: QToolButton
    history_button: QToolButton
    save_button: QPushButton
    export_button: QToolButton
    export_menu: QMenu
    roll: PianoRoll
    transport: TransportBar
    play_button: QPushButton
    stop_button: QPushButton
    time_label: QLabel
    playback: PlaybackControl
    voice_legend: VoiceLegend
    take_tools: TakeTools
    audio_label: QLabel
    # the takes column, the splitter holding the three columns, the status bar's labels
    history: HistoryPanel
    history_box: QWidget
    splitter: QSplitter
    model_label: ElidedLabel
    speed_label: ElidedLabel


def _build_header(window) -> QHBoxLayout:
    """The row above the roll: the panel buttons, the take's title and details, its key and metre, Save and Export."""
    window.piece_title = ElidedLabel(EMPTY_TITLE)
    window.piece_title.setObjectName("pieceTitle")
    window.piece_details = ElidedLabel(EMPTY_DETAILS)
    window.piece_details.setObjectName("hint")
    window.key_label = QLabel("")
    window.key_label.setObjectName("keyBadge")
    window.key_label.setToolTip("The take's key and metre")
    window.key_label.hide()
    window.settings_button = QToolButton()
    window.settings_button.setText("Settings")
    window.history_button = QToolButton()
    window.history_button.setText("Takes")
    window.save_button = QPushButton("Save MIDI\u2026")
    window.save_button.setToolTip("Save the piece as a MIDI file (Ctrl+S); or drag the notes onto a DAW or folder")
    window.save_button.clicked.connect(window.files.save_midi)
    window.export_button = QToolButton()
    window.export_button.setText("Export")
    window.export_button.setPopupMode(QToolButton.InstantPopup)
    window.export_menu = QMenu(window.export_button)
    window.export_button.setMenu(window.export_menu)
    header = QHBoxLayout()
    titles = QVBoxLayout()
    titles.setSpacing(2)
    titles.addWidget(window.piece_title)
    titles.addWidget(window.piece_details)
    header.addWidget(window.settings_button)
    header.addLayout(titles, 1)
    header.addWidget(window.key_label)
    for widget in (window.save_button, window.export_button, window.history_button):
        header.addWidget(widget)
    return header


def build_layout(window) -> None:
    """Create the widgets of ``window`` (a MainWindow) and connect them."""
    window.sidebar = _build_sidebar(window)
    centre = _build_centre(window)
    window.history_box = _build_history(window)
    window.splitter = QSplitter(Qt.Horizontal)
    for widget in (window.sidebar, centre, window.history_box):
        window.splitter.addWidget(widget)
    window.splitter.setStretchFactor(1, 1)
    window.splitter.setChildrenCollapsible(False)
    window.splitter.setSizes([SIDEBAR_WIDTH, DEFAULT_SIZE[0] - SIDEBAR_WIDTH - HISTORY_WIDTH, HISTORY_WIDTH])
    window.setCentralWidget(window.splitter)
    _build_status_bar(window)


def _build_sidebar(window) -> QWidget:
    """The settings column: the controls (scrolling), then Generate, Harmonise and the progress below."""
    window.controls = ControlPanel()
    window.controls.primer_open_requested.connect(window.files.open_primer)
    window.controls.notice.connect(lambda text: window.statusBar().showMessage(text, 8000))
    window.controls.genre_combo.currentIndexChanged.connect(lambda: window._update_actions())  # Harmonise's style
    controls_scroll = QScrollArea()
    controls_scroll.setWidget(window.controls)
    controls_scroll.setWidgetResizable(True)
    controls_scroll.setFrameShape(QScrollArea.NoFrame)
    controls_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    scroll_with_wheel(controls_scroll)
    window.generate_button = QPushButton("Generate")
    window.generate_button.setObjectName("generate")
    window.generate_button.clicked.connect(window.generate)
    window.harmonise_button = QPushButton("Harmonise melody\u2026")
    window.progress_bar = QProgressBar()
    window.cancel_button = QPushButton("Cancel")
    window.cancel_button.setToolTip("Stop composing (Esc)")
    window.cancel_button.clicked.connect(window.cancel_generation)
    window.progress_label = ElidedLabel("")
    window.progress_label.setObjectName("hint")
    progress_row = QHBoxLayout()
    progress_row.addWidget(window.progress_bar, 1)
    progress_row.addWidget(window.cancel_button)
    sidebar = QWidget()
    sidebar_layout = QVBoxLayout(sidebar)
    sidebar_layout.setContentsMargins(10, 4, 6, 8)
    sidebar_layout.addWidget(controls_scroll, 1)  # the settings scroll; Generate stays in view below
    sidebar_layout.addWidget(window.generate_button)
    sidebar_layout.addWidget(window.harmonise_button)
    sidebar_layout.addLayout(progress_row)
    sidebar_layout.addWidget(window.progress_label)
    sidebar.setMinimumWidth(SIDEBAR_MIN_WIDTH)
    return sidebar


def _build_centre(window) -> QWidget:
    """The take: the header, the roll, the voice legend, the transport, the take tools and the audio note."""
    window.roll = PianoRoll()
    window.roll.drag_requested.connect(lambda: window.files.drag_current_take(window.roll))
    header = _build_header(window)
    _build_transport(window)
    window.voice_legend = VoiceLegend()
    window.voice_legend.audible_changed.connect(window.take_actions.hear_voices)
    window.take_tools = TakeTools()
    window.roll.bars_chosen.connect(window.take_tools.show_bars)
    window.take_tools.bars_changed.connect(window.roll.set_selection)
    window.take_tools.regenerate_requested.connect(window.regenerate_bars)
    window.take_tools.continue_requested.connect(window.continue_take)
    window.take_tools.bind_undo(window.undo_stack)
    window.audio_label = QLabel("")
    window.audio_label.setObjectName("noAudio")
    window.audio_label.setWordWrap(True)
    window.audio_label.hide()
    centre = QWidget()
    centre_layout = QVBoxLayout(centre)
    centre_layout.setContentsMargins(8, 8, 8, 8)
    centre_layout.addLayout(header)
    centre_layout.addWidget(window.roll, 1)
    centre_layout.addWidget(window.voice_legend)
    centre_layout.addWidget(window.transport)
    centre_layout.addWidget(window.take_tools)
    centre_layout.addWidget(window.audio_label)
    return centre


def _build_transport(window) -> None:
    """The transport bar (zoom, play, stop, time) and the playback it drives."""
    window.transport = TransportBar()
    window.transport.zoom_out_button.clicked.connect(window.roll.zoom_out)
    window.transport.zoom_fit_button.clicked.connect(window.roll.zoom_to_fit)
    window.transport.zoom_in_button.clicked.connect(window.roll.zoom_in)
    window.play_button, window.stop_button = window.transport.play_button, window.transport.stop_button
    window.time_label = window.transport.time_label
    window.playback = PlaybackControl(window.run_job, window.roll, window.transport, window)
    window.playback.changed.connect(window._update_actions)
    window.playback.failed.connect(lambda title, message: window._playback_failed(title, message))
    window.playback.message.connect(lambda text: window.statusBar().showMessage(text, 6000))
    window.play_button.clicked.connect(window.playback.toggle)
    window.stop_button.clicked.connect(window.playback.stop)
    window.roll.seek_requested.connect(window.playback.seek_to_step)


def _build_history(window) -> QWidget:
    """The takes column."""
    window.history = HistoryPanel()
    window.history.take_chosen.connect(window.take_actions.show_take)
    window.history.use_settings_requested.connect(window.take_actions.use_settings_of)
    window.history.star_requested.connect(lambda take_id: window.take_actions.push(StarTake, take_id))
    window.history.rename_requested.connect(window.take_actions.rename_take)
    window.history.delete_requested.connect(lambda take_id: window.take_actions.push(DeleteTake, take_id))
    history_box = QWidget()
    history_layout = QVBoxLayout(history_box)
    history_layout.setContentsMargins(6, 8, 10, 8)
    history_layout.addWidget(window.history)
    history_box.setMinimumWidth(HISTORY_MIN_WIDTH)
    return history_box


def _build_status_bar(window) -> None:
    """The model's name and the sampling speed, at the right of the status bar."""
    window.model_label = ElidedLabel("Model: loading\u2026")
    window.model_label.setMinimumWidth(120)
    window.speed_label = ElidedLabel("")
    window.speed_label.setMinimumWidth(200)
    for label in (window.model_label, window.speed_label):  # as wide as their text, down to their minimum
        label.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
    window.statusBar().addPermanentWidget(window.speed_label)
    window.statusBar().addPermanentWidget(window.model_label)
