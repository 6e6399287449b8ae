"""The settings panel: style (and an optional blend), length, tempo, key, instrument, adventurousness,
seed and a primer. It turns what the musician chose into GenerationRequest fields (a plain dict, so this
module needs no torch) and back.
"""
from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget)

DEFAULT_BARS = 16
MAX_BARS = 512
MIN_TEMPO, MAX_TEMPO = 30, 300  # quarter notes per minute
DEFAULT_TEMPO = 120  # until a style sets its own
DEFAULT_TEMPERATURE = 1.0
TEMPERATURE_SCALE = 100  # slider units per 1.0 of temperature
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.3, 1.8
DEFAULT_BLEND_PERCENT = 30  # share of the second style when a blend is first chosen
MAX_SEED = 999_999  # seeds a person can read out and type back
NO_KEY = None
# (value sent to the generator, label shown)
KEYS = [("C", "C"), ("C#", "C\u266f / D\u266d"), ("D", "D"), ("Eb", "E\u266d"), ("E", "E"), ("F", "F"),
        ("F#", "F\u266f / G\u266d"), ("G", "G"), ("Ab", "A\u266d"), ("A", "A"), ("Bb", "B\u266d"), ("B", "B")]
DICE = "\u2684"  # die face five
SETTINGS_GROUP = "controls"


def blend_spec(first: str, second: str | None, second_percent: int) -> str:
    """Genre string for the generator: "reel", or "reel=0.70,bach=0.30" for a blend."""
    if not second or second == first or second_percent <= 0:
        return first
    if second_percent >= 100:
        return second
    return f"{first}={(100 - second_percent) / 100:.2f},{second}={second_percent / 100:.2f}"


def split_blend_spec(spec: str) -> tuple[str, str | None, int]:
    """Inverse of ``blend_spec``: (first genre, second genre or None, percent of the second)."""
    parts = [part.strip() for part in spec.split(",") if part.strip()]
    if not parts:
        return "", None, 0
    if len(parts) == 1:
        return parts[0].split("=")[0].strip(), None, 0
    weights = []
    for part in parts[:2]:
        key, _, weight = part.partition("=")
        weights.append((key.strip(), float(weight) if weight else 1.0))
    total = sum(w for _, w in weights) or 1.0
    return weights[0][0], weights[1][0], round(100 * weights[1][1] / total)


def adventurousness_word(temperature: float) -> str:
    """Plain-language reading of a sampling temperature."""
    if temperature < 0.7:
        return "safe"
    if temperature < 0.9:
        return "gentle"
    if temperature <= 1.1:
        return "balanced"
    if temperature <= 1.4:
        return "bold"
    return "wild"


class ControlPanel(QWidget):
    """All generation settings. ``primer_open_requested`` asks the window to pick a MIDI file."""

    primer_open_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.genres = []  # musicgen.genres.Genre, in model order
        self.primer_path: str | None = None
        self.primer_summary = ""  # e.g. "212 notes, 8 bars"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._build_style_box())
        layout.addWidget(self._build_piece_box())
        layout.addWidget(self._build_character_box())
        layout.addWidget(self._build_primer_box())
        self._blend_changed()
        self.set_enabled_for_model(False)

    # --- building ------------------------------------------------------------------------------
    def _build_style_box(self) -> QGroupBox:
        box = QGroupBox("Style")
        form = QVBoxLayout(box)
        form.setSpacing(6)
        self.genre_combo = QComboBox()
        self.genre_combo.setPlaceholderText("Loading styles\u2026")
        self.genre_combo.setToolTip("The style the new piece is written in")
        self.description_label = QLabel("")
        self.description_label.setObjectName("description")
        self.description_label.setWordWrap(True)
        self.blend_combo = QComboBox()
        self.blend_combo.setToolTip("Mix in a second style")
        self.blend_slider = QSlider(Qt.Horizontal)
        self.blend_slider.setRange(0, 100)
        self.blend_slider.setValue(DEFAULT_BLEND_PERCENT)
        self.blend_slider.setToolTip("How much of the second style goes into the mix")
        self.blend_label = QLabel("")
        self.blend_label.setObjectName("hint")
        form.addWidget(self.genre_combo)
        form.addWidget(self.description_label)
        blend_row = QHBoxLayout()
        blend_row.addWidget(QLabel("Blend with"))
        blend_row.addWidget(self.blend_combo, 1)
        form.addLayout(blend_row)
        form.addWidget(self.blend_slider)
        form.addWidget(self.blend_label)
        self.genre_combo.currentIndexChanged.connect(self._genre_changed)
        self.blend_combo.currentIndexChanged.connect(self._blend_changed)
        self.blend_slider.valueChanged.connect(self._blend_changed)
        return box

    def _build_piece_box(self) -> QGroupBox:
        box = QGroupBox("Piece")
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.bars_spin = QSpinBox()
        self.bars_spin.setRange(1, MAX_BARS)
        self.bars_spin.setValue(DEFAULT_BARS)
        self.bars_spin.setSuffix(" bars")
        self.bars_spin.valueChanged.connect(self._bars_changed)
        self.bars_spin.setToolTip("The piece is at least this long; it may run on to finish a phrase")
        self.tempo_spin = QSpinBox()
        self.tempo_spin.setRange(MIN_TEMPO, MAX_TEMPO)
        self.tempo_spin.setSuffix(" BPM")
        self.tempo_spin.setValue(DEFAULT_TEMPO)
        self.tempo_spin.setToolTip("Quarter notes per minute (each style has its own default)")
        self.key_combo = QComboBox()
        self.key_combo.addItem("As generated", NO_KEY)
        for value, label in KEYS:
            self.key_combo.addItem(label, value)
        self.key_combo.setToolTip("Transpose the result so its tonic is this note")
        self.instrument_combo = QComboBox()
        self.instrument_combo.setMaxVisibleItems(20)
        self.instrument_combo.setToolTip("General MIDI instrument for playback and the saved file")
        form.addRow("Length", self.bars_spin)
        form.addRow("Tempo", self.tempo_spin)
        form.addRow("Key", self.key_combo)
        form.addRow("Instrument", self.instrument_combo)
        return box

    def _build_character_box(self) -> QGroupBox:
        box = QGroupBox("Character")
        form = QVBoxLayout(box)
        header = QHBoxLayout()
        header.addWidget(QLabel("Adventurousness"))
        self.adventure_value = QLabel("")
        self.adventure_value.setObjectName("hint")
        header.addStretch(1)
        header.addWidget(self.adventure_value)
        self.adventure_slider = QSlider(Qt.Horizontal)
        self.adventure_slider.setRange(round(MIN_TEMPERATURE * TEMPERATURE_SCALE),
                                       round(MAX_TEMPERATURE * TEMPERATURE_SCALE))
        self.adventure_slider.setValue(int(DEFAULT_TEMPERATURE * TEMPERATURE_SCALE))
        self.adventure_slider.setToolTip("Low: safe, typical phrases. High: surprising turns (and more mistakes).")
        self.adventure_slider.valueChanged.connect(self._adventure_changed)
        form.addLayout(header)
        form.addWidget(self.adventure_slider)

        seed_row = QHBoxLayout()
        seed_row.addWidget(QLabel("Seed"))
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setValue(random.randint(0, MAX_SEED))
        self.seed_spin.setToolTip("The same seed and settings always give the same piece")
        self.dice_button = QToolButton()
        self.dice_button.setText(DICE)
        self.dice_button.setObjectName("dice")
        self.dice_button.setToolTip("Roll a new seed")
        self.dice_button.clicked.connect(self.roll_seed)
        self.keep_seed_check = QCheckBox("Keep")
        self.keep_seed_check.setToolTip("Keep this seed for the next Generate (otherwise each piece gets a new one)")
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.dice_button)
        seed_row.addWidget(self.keep_seed_check)
        form.addLayout(seed_row)
        self._adventure_changed()
        return box

    def _build_primer_box(self) -> QGroupBox:
        box = QGroupBox("Continue a MIDI file")
        form = QVBoxLayout(box)
        self.primer_label = QLabel("None \u2014 start from silence.\nOpen or drop a .mid file to continue it.")
        self.primer_label.setObjectName("hint")
        self.primer_label.setWordWrap(True)
        row = QHBoxLayout()
        self.open_primer_button = QPushButton("Open MIDI\u2026")
        self.open_primer_button.setToolTip("Pick a MIDI file; the new music continues where it ends")
        self.open_primer_button.clicked.connect(self.primer_open_requested)
        self.clear_primer_button = QPushButton("Clear")
        self.clear_primer_button.setToolTip("Start from silence instead")
        self.clear_primer_button.clicked.connect(self.clear_primer)
        self.clear_primer_button.setEnabled(False)
        row.addWidget(self.open_primer_button, 1)
        row.addWidget(self.clear_primer_button)
        form.addWidget(self.primer_label)
        form.addLayout(row)
        return box

    # --- model ---------------------------------------------------------------------------------
    def set_genres(self, genres, instrument_names: list[str]) -> None:
        """Fill the pickers from the loaded model's genres and the 128 General MIDI names."""
        self.genres = list(genres)
        self.instrument_combo.blockSignals(True)
        self.instrument_combo.clear()
        for program, name in enumerate(instrument_names):
            self.instrument_combo.addItem(name, program)
        self.instrument_combo.blockSignals(False)
        for combo in (self.genre_combo, self.blend_combo):
            combo.blockSignals(True)
            combo.clear()
        self.blend_combo.addItem("No blend", None)
        for index, genre in enumerate(self.genres):
            self.genre_combo.addItem(genre.display_name, genre.key)
            self.genre_combo.setItemData(index, genre.description, Qt.ToolTipRole)
            self.blend_combo.addItem(genre.display_name, genre.key)
        for combo in (self.genre_combo, self.blend_combo):
            combo.blockSignals(False)
        self.genre_combo.setCurrentIndex(0 if self.genres else -1)
        self._genre_changed()
        self.set_enabled_for_model(bool(self.genres))

    def set_enabled_for_model(self, enabled: bool) -> None:
        for box in self.findChildren(QGroupBox):
            box.setEnabled(enabled)

    def genre(self, key: str):
        return next((g for g in self.genres if g.key == key), None)

    def describe_spec(self, spec: str) -> str:
        """Display text of a genre string: "Irish reels" or "Irish reels 70% + Bach chorales 30%"."""
        first, second, percent = split_blend_spec(spec)
        if second is None:
            return self.display_name(first)
        return f"{self.display_name(first)} {100 - percent}% + {self.display_name(second)} {percent}%"

    def display_name(self, key: str) -> str:
        genre = self.genre(key)
        return genre.display_name if genre else key

    # --- reacting ------------------------------------------------------------------------------
    def _genre_changed(self) -> None:
        genre = self.genre(self.genre_combo.currentData())
        if genre is None:
            self.description_label.setText("")
            return
        self.description_label.setText(genre.description)
        self.tempo_spin.setValue(genre.tempo)
        self.instrument_combo.setCurrentIndex(self.instrument_combo.findData(genre.program))
        self._blend_changed()

    def _blend_changed(self) -> None:
        second = self.blend_combo.currentData()
        first = self.genre_combo.currentData()
        active = bool(second) and second != first
        self.blend_slider.setVisible(active)
        if active:
            percent = self.blend_slider.value()
            self.blend_label.setText(f"{100 - percent}% {self.display_name(first)} \u00b7 "
                                     f"{percent}% {self.display_name(second)}")
        elif second and second == first:
            self.blend_label.setText("Pick a different style to blend with.")
        else:
            self.blend_label.setText("")
        self.blend_label.setVisible(bool(self.blend_label.text()))

    def _bars_changed(self, bars: int) -> None:
        self.bars_spin.setSuffix(" bar" if bars == 1 else " bars")

    def _adventure_changed(self) -> None:
        temperature = self.temperature()
        self.adventure_value.setText(f"{adventurousness_word(temperature)} ({temperature:.2f})")

    # --- values --------------------------------------------------------------------------------
    def temperature(self) -> float:
        return self.adventure_slider.value() / TEMPERATURE_SCALE

    def genre_spec(self) -> str:
        return blend_spec(self.genre_combo.currentData() or "", self.blend_combo.currentData(),
                          self.blend_slider.value())

    def roll_seed(self) -> None:
        """Pick a new random seed."""
        self.seed_spin.setValue(random.randint(0, MAX_SEED))

    def seed_for_next_piece(self) -> int:
        """A fresh seed unless the musician chose to keep the current one."""
        if not self.keep_seed_check.isChecked():
            self.roll_seed()
        return self.seed_spin.value()

    def request_fields(self) -> dict:
        """GenerationRequest fields for the current settings (the seed as shown)."""
        return {
            "genre": self.genre_spec(),
            "bars": self.bars_spin.value(),
            "tempo": float(self.tempo_spin.value()),
            "key": self.key_combo.currentData(),
            "program": self.instrument_combo.currentData(),
            "temperature": self.temperature(),
            "seed": self.seed_spin.value(),
            "primer": self.primer_path,
        }

    def apply_fields(self, fields: dict, primer_summary: str = "") -> None:
        """Show the settings of an earlier piece (from ``request_fields`` or a GeneratedPiece)."""
        first, second, percent = split_blend_spec(fields.get("genre", ""))
        self.genre_combo.setCurrentIndex(max(0, self.genre_combo.findData(first)))
        self.blend_combo.setCurrentIndex(max(0, self.blend_combo.findData(second)) if second else 0)
        if second:
            self.blend_slider.setValue(percent)
        if fields.get("bars"):
            self.bars_spin.setValue(int(fields["bars"]))
        if fields.get("tempo"):
            self.tempo_spin.setValue(round(fields["tempo"]))
        self.key_combo.setCurrentIndex(max(0, self.key_combo.findData(fields.get("key"))))
        if fields.get("program") is not None:
            self.instrument_combo.setCurrentIndex(self.instrument_combo.findData(int(fields["program"])))
        if fields.get("temperature") is not None:
            self.adventure_slider.setValue(round(float(fields["temperature"]) * TEMPERATURE_SCALE))
        if fields.get("seed") is not None:
            self.seed_spin.setValue(int(fields["seed"]))
        if fields.get("primer"):
            self.set_primer(fields["primer"], primer_summary)
        else:
            self.clear_primer()

    # --- primer --------------------------------------------------------------------------------
    def set_primer(self, path: str, summary: str = "") -> None:
        """Continue ``path`` (already checked by the window); ``summary`` e.g. "212 notes, 8 bars"."""
        self.primer_path, self.primer_summary = str(path), summary
        text = Path(path).name + (f"\n{summary}" if summary else "")
        self.primer_label.setText(text)
        self.primer_label.setToolTip(str(path))
        self.clear_primer_button.setEnabled(True)

    def clear_primer(self) -> None:
        self.primer_path, self.primer_summary = None, ""
        self.primer_label.setText("None \u2014 start from silence.\nOpen or drop a .mid file to continue it.")
        self.primer_label.setToolTip("")
        self.clear_primer_button.setEnabled(False)

    # --- persistence ---------------------------------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        settings.beginGroup(SETTINGS_GROUP)
        settings.setValue("genre", self.genre_combo.currentData() or "")
        settings.setValue("blend_with", self.blend_combo.currentData() or "")
        settings.setValue("blend_percent", self.blend_slider.value())
        settings.setValue("bars", self.bars_spin.value())
        settings.setValue("tempo", self.tempo_spin.value())
        settings.setValue("key", self.key_combo.currentData() or "")
        settings.setValue("program", self.instrument_combo.currentData())
        settings.setValue("temperature", self.temperature())
        settings.setValue("seed", self.seed_spin.value())
        settings.setValue("keep_seed", self.keep_seed_check.isChecked())
        settings.endGroup()

    def restore_settings(self, settings: QSettings) -> None:
        """Bring back the last session's choices (call after ``set_genres``); unknown values are skipped."""
        settings.beginGroup(SETTINGS_GROUP)
        try:
            genre = str(settings.value("genre", ""))
            if self.genre(genre) is None:
                return  # another model, or the first run: keep the defaults
            blend_with = str(settings.value("blend_with", "")) or None
            percent = int(settings.value("blend_percent", DEFAULT_BLEND_PERCENT))
            fields = {
                "genre": blend_spec(genre, blend_with if self.genre(blend_with or "") else None, percent),
                "bars": int(settings.value("bars", DEFAULT_BARS)),
                "tempo": float(settings.value("tempo", self.genre(genre).tempo)),
                "key": str(settings.value("key", "")) or None,
                "program": int(settings.value("program", self.genre(genre).program)),
                "temperature": float(settings.value("temperature", DEFAULT_TEMPERATURE)),
                "seed": int(settings.value("seed", self.seed_spin.value())),
            }
            self.apply_fields(fields)
            if blend_with and self.genre(blend_with):
                self.blend_slider.setValue(percent)
            self.keep_seed_check.setChecked(str(settings.value("keep_seed", "false")).lower() == "true")
        except (TypeError, ValueError):
            pass  # a damaged settings file must not stop the app; the defaults stay
        finally:
            settings.endGroup()
