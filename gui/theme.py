"""Look of the app: a dark studio palette (like most audio tools) and the colours of the piano roll."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

# Window and controls
WINDOW = QColor("#23262b")
PANEL = QColor("#2b2f35")
FIELD = QColor("#1c1f23")
TEXT = QColor("#e6e6e6")
MUTED_TEXT = QColor("#9aa3ad")
ACCENT = QColor("#f2a641")  # warm amber: the generated music and the main action
HIGHLIGHT = QColor("#3d7bd9")

# Piano roll
ROLL_BACKGROUND = QColor("#1b1d21")
ROLL_BLACK_KEY_ROW = QColor("#16181b")
ROLL_OCTAVE_LINE = QColor("#3a3f47")
ROLL_BEAT_LINE = QColor("#26292e")
ROLL_BAR_LINE = QColor("#4a505a")
ROLL_PRIMER_SHADE = QColor(90, 130, 180, 28)
PRIMER_MARKER = QColor("#7fb2e5")
NOTE_GENERATED = ACCENT
NOTE_PRIMER = QColor("#6f93bd")
NOTE_MUTED = QColor("#4a4e55")  # a voice muted for playback
PLAYHEAD = QColor("#ff5a5a")
ROLL_HIGHLIGHT_SHADE = QColor(120, 200, 140, 30)  # a regenerated passage
HIGHLIGHT_MARKER = QColor("#7fd69a")
ROLL_SELECTION_SHADE = QColor(255, 200, 90, 40)  # bars chosen on the ruler
SELECTION_MARKER = QColor("#ffc85a")
PART_MARKER = QColor("#b9a6e8")  # the A / B tags of a form's parts
# Voices of a polyphonic piece, top voice first (soprano amber, alto teal, tenor violet, bass green...)
VOICE_COLOURS = (ACCENT, QColor("#4fc3c9"), QColor("#b48cf0"), QColor("#8fd16a"), QColor("#f07fa8"), QColor("#6fa8f5"))
KEY_WHITE = QColor("#d9d9d9")
KEY_BLACK = QColor("#2a2a2a")
RULER = QColor("#2b2f35")

STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {WINDOW.name()}; }}
QWidget {{ font-size: 10pt; }}
QGroupBox {{
    border: 1px solid #3a3f47; border-radius: 6px; margin-top: 14px; padding: 10px 8px 8px 8px;
    background: {PANEL.name()};
}}
QGroupBox::title {{
    subcontrol-origin: margin; left: 10px; padding: 0 4px; color: {MUTED_TEXT.name()};
    font-weight: bold; text-transform: uppercase;
}}
QLabel#description, QLabel#hint {{ color: {MUTED_TEXT.name()}; }}
QLabel#pieceTitle {{ font-size: 13pt; font-weight: bold; }}
QToolButton#dice {{ font-size: 17pt; padding: 0 4px; }}
QLabel#noAudio {{ color: #f0c36d; }}
QLabel#keyBadge {{ font-weight: bold; padding: 2px 6px; border-radius: 6px; background: #2b2f35; }}
QToolButton:checked {{ background: {ACCENT.darker(250).name()}; color: {ACCENT.name()}; }}
QLabel#problem {{ color: #f0c36d; }}
QPushButton#generate {{
    background: {ACCENT.name()}; color: #1c1c1c; font-size: 12pt; font-weight: bold;
    border: none; border-radius: 6px; padding: 10px;
}}
QPushButton#generate:hover {{ background: #f7b85d; }}
QPushButton#generate:disabled {{ background: #5a5245; color: #8d8576; }}
QListWidget {{ background: {FIELD.name()}; border: 1px solid #3a3f47; border-radius: 4px; }}
QListWidget::item {{ padding: 6px 4px; border-bottom: 1px solid #2c3036; }}
QListWidget::item:selected {{ background: #3b4350; color: {TEXT.name()}; }}
QProgressBar {{ border: 1px solid #3a3f47; border-radius: 4px; text-align: center; background: {FIELD.name()}; }}
QProgressBar::chunk {{ background: {ACCENT.name()}; border-radius: 3px; }}
QStatusBar {{ color: {MUTED_TEXT.name()}; }}
QStatusBar QLabel {{ color: {MUTED_TEXT.name()}; padding: 0 8px; }}
"""


def apply_theme(app: QApplication) -> None:
    """Use the Fusion style with a dark palette and the app's style sheet."""
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.Window, WINDOW)
    palette.setColor(QPalette.WindowText, TEXT)
    palette.setColor(QPalette.Base, FIELD)
    palette.setColor(QPalette.AlternateBase, PANEL)
    palette.setColor(QPalette.ToolTipBase, PANEL)
    palette.setColor(QPalette.ToolTipText, TEXT)
    palette.setColor(QPalette.Text, TEXT)
    palette.setColor(QPalette.Button, PANEL)
    palette.setColor(QPalette.ButtonText, TEXT)
    palette.setColor(QPalette.BrightText, QColor("#ffffff"))
    palette.setColor(QPalette.Highlight, HIGHLIGHT)
    palette.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.PlaceholderText, MUTED_TEXT)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        palette.setColor(QPalette.Disabled, role, QColor("#6b7079"))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)
