"""The settings panel: style (a blend, a morph, style strength), length, metre, form, tempo, key,
instrument, adventurousness, seed and a primer. It turns what the musician chose into
GenerationRequest fields (a plain dict, so this module needs no torch) and back.

It never overwrites what the musician set: choosing a style fills tempo and instrument only while
they still hold a style's default, and says in ``notice`` when it kept the musician's value.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from musicgen.limits import DEFAULT_STYLE_STRENGTH, MAX_STYLE_STRENGTH

from .control_values import adventurousness_word, blend_spec, default_form, form_label, split_blend_spec, strength_word
from .piece_box import PieceBox, combo, hint

DEFAULT_TEMPERATURE = 1.0
TEMPERATURE_SCALE = 100  # slider units per 1.0 of temperature
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.3, 1.8
STRENGTH_SCALE = 10  # slider units per 1.0 of style strength
DEFAULT_BLEND_PERCENT = 30  # share of the second style when a blend is first chosen
MAX_SEED = 999_999  # seeds a person can read out and type back
DICE = "\u2684"  # die face five
NO_PRIMER_TEXT = "None \u2014 start from silence.\nOpen or drop a .mid file to continue it."


class ControlPanel(QWidget):
    """All generation settings. ``primer_open_requested`` asks the window to pick a MIDI file;
    ``notice(text)`` tells the musician what a change did (for the status bar)."""

    primer_open_requested = Signal()
    notice = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.genres = []  # musicgen.genres.Genre, in model order
        self.default_meters: dict[str, str] = {}  # genre key -> "6/8"
        self.primer_path: str | None = None
        self.primer_summary = ""  # e.g. "212 notes, 8 bars"
        # "tempo", "program", "style_strength": values the musician chose (else they follow the style)
        self.user_set: set[str] = set()
        self._filling = False  # True while the panel itself sets values
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._build_style_box())
        self.piece_box = PieceBox()
        box = self.piece_box  # its widgets, under the names the panel has always had
        self.bars_spin, self.meter_combo, self.form_combo = box.bars_spin, box.meter_combo, box.form_combo
        self.tempo_spin, self.key_combo, self.instrument_combo = box.tempo_spin, box.key_combo, box.instrument_combo
        self.length_problem = box.length_problem
        self.tempo_spin.valueChanged.connect(lambda: self._user_changed("tempo"))
        self.instrument_combo.currentIndexChanged.connect(lambda: self._user_changed("program"))
        layout.addWidget(self.piece_box)
        layout.addWidget(self._build_character_box())
        layout.addWidget(self._build_primer_box())
        layout.addStretch(1)  # spare height stays below the boxes
        self._blend_changed()
        self.set_enabled_for_model(False)

    @contextmanager
    def _filling_in(self):
        """Values set inside this block are the panel's, not the musician's."""
        self._filling, previous = True, self._filling
        try:
            yield
        finally:
            self._filling = previous

    # --- building ------------------------------------------------------------------------------
    def _build_style_box(self) -> QGroupBox:
        box = QGroupBox("Style")
        form = QVBoxLayout(box)
        form.setSpacing(6)
        self.genre_combo = combo("The style the new piece is written in")
        self.genre_combo.setPlaceholderText("Loading styles\u2026")
        self.description_label = hint(name="description")
        self.blend_combo = combo("Mix in a second style")
        self.blend_slider = QSlider(Qt.Horizontal)
        self.blend_slider.setRange(0, 100)
        self.blend_slider.setValue(DEFAULT_BLEND_PERCENT)
        self.blend_slider.setToolTip("How much of the second style goes into the mix")
        self.blend_label = hint()
        self.morph_combo = combo("Move from the style above to this one over the piece")
        self.strength_slider = QSlider(Qt.Horizontal)
        self.strength_slider.setRange(0, round(MAX_STYLE_STRENGTH * STRENGTH_SCALE))
        self.strength_slider.setValue(round(DEFAULT_STYLE_STRENGTH * STRENGTH_SCALE))
        self.strength_slider.setToolTip(
            "Push the music further towards the style (0 = off). Each style starts at the setting measured "
            "to sound most like its real pieces; strong values can sound exaggerated."
        )
        self.strength_label = hint()
        form.addWidget(self.genre_combo)
        form.addWidget(self.description_label)
        for caption, widget in (("Blend with", self.blend_combo), ("Morph to", self.morph_combo)):
            row = QHBoxLayout()
            row.addWidget(QLabel(caption))
            row.addWidget(widget, 1)
            form.addLayout(row)
            if widget is self.blend_combo:
                form.addWidget(self.blend_slider)
                form.addWidget(self.blend_label)
        strength_row = QHBoxLayout()
        strength_row.addWidget(QLabel("Style strength"))
        strength_row.addStretch(1)
        strength_row.addWidget(self.strength_label)
        form.addLayout(strength_row)
        form.addWidget(self.strength_slider)
        self.genre_combo.currentIndexChanged.connect(self._genre_changed)
        self.blend_combo.currentIndexChanged.connect(self._blend_changed)
        self.blend_slider.valueChanged.connect(self._blend_changed)
        self.strength_slider.valueChanged.connect(self._strength_changed)
        self.strength_slider.valueChanged.connect(lambda: self._user_changed("style_strength"))
        self._strength_changed()
        return box

    def _build_character_box(self) -> QGroupBox:
        box = QGroupBox("Character")
        form = QVBoxLayout(box)
        header = QHBoxLayout()
        header.addWidget(QLabel("Adventurousness"))
        self.adventure_value = hint()
        header.addStretch(1)
        header.addWidget(self.adventure_value)
        self.adventure_slider = QSlider(Qt.Horizontal)
        self.adventure_slider.setRange(
            round(MIN_TEMPERATURE * TEMPERATURE_SCALE), round(MAX_TEMPERATURE * TEMPERATURE_SCALE)
        )
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
        self.primer_label = hint(NO_PRIMER_TEXT)
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
    def set_model(self, info) -> None:
        """Fill the pickers from the loaded model (a ``jobs.ModelInfo``)."""
        self.genres = list(info.genres)
        self.default_meters = dict(info.default_meters)
        with self._filling_in():
            self.piece_box.set_choices(
                info.instrument_names, info.known_meters or sorted(set(info.default_meters.values()))
            )
            for picker, first in (
                (self.genre_combo, None),
                (self.blend_combo, "No blend"),
                (self.morph_combo, "No morph"),
            ):
                picker.blockSignals(True)
                picker.clear()
                if first:
                    picker.addItem(first, None)
                for genre in self.genres:
                    picker.addItem(genre.display_name, genre.key)
                    picker.setItemData(picker.count() - 1, genre.description, Qt.ToolTipRole)
                picker.blockSignals(False)
        self.user_set.clear()
        self.genre_combo.setCurrentIndex(0 if self.genres else -1)
        self._genre_changed()
        self.set_enabled_for_model(bool(self.genres))

    def set_enabled_for_model(self, enabled: bool) -> None:
        for box in self.findChildren(QGroupBox):
            box.setEnabled(enabled)

    def genre(self, key: str | None):
        return next((g for g in self.genres if g.key == key), None)

    @property
    def genre_keys(self) -> list[str]:
        return [g.key for g in self.genres]

    def describe_spec(self, spec: str) -> str:
        """Display text of a genre text: "Irish reels" or "Irish reels 70% + Bach chorales 30%"."""
        try:
            first, second, percent = split_blend_spec(spec, self.genre_keys)
        except (ValueError, IndexError):
            return spec or "?"  # a take of another model
        if second is None:
            return self.display_name(first)
        return f"{self.display_name(first)} {100 - percent}% + {self.display_name(second)} {percent}%"

    def display_name(self, key: str) -> str:
        genre = self.genre(key)
        return genre.display_name if genre else key

    # --- reacting ------------------------------------------------------------------------------
    def _user_changed(self, field: str) -> None:
        if not self._filling:
            self.user_set.add(field)

    def _genre_changed(self) -> None:
        genre = self.genre(self.genre_combo.currentData())
        if genre is None:
            self.description_label.setText("")
            return
        self.description_label.setText(genre.description)
        kept = []
        with self._filling_in():
            if "tempo" in self.user_set and self.tempo_spin.value() != genre.tempo:
                kept.append(f"tempo {self.tempo_spin.value()} BPM (style: {genre.tempo})")
            else:
                self.tempo_spin.setValue(genre.tempo)
            program = self.instrument_combo.findData(genre.program)
            if "program" in self.user_set and self.instrument_combo.currentIndex() != program:
                kept.append(
                    f"instrument {self.instrument_combo.currentText()} "
                    f"(style: {self.instrument_combo.itemText(program)})"
                )
            else:
                self.instrument_combo.setCurrentIndex(program)
            strength = round(genre.style_strength * STRENGTH_SCALE)  # the model card's, measured per style
            if "style_strength" in self.user_set and self.strength_slider.value() != strength:
                kept.append(f"style strength {self.style_strength():g} (style: {genre.style_strength:g})")
            else:
                self.strength_slider.setValue(strength)
        if kept:
            self.notice.emit(f"Kept your {' and '.join(kept)}.")
        self._update_defaults()
        self._blend_changed()

    def _update_defaults(self) -> None:
        """Say in the Metre and Form boxes what "Style default" means for the chosen style."""
        key, continuing = self.genre_combo.currentData(), bool(self.primer_path)
        self.piece_box.show_defaults(
            self.default_meters.get(key, "4/4"), form_label(default_form(key, continuing)), continuing
        )

    def _blend_changed(self) -> None:
        second = self.blend_combo.currentData()
        first = self.genre_combo.currentData()
        active = bool(second) and second != first
        self.blend_slider.setVisible(active)
        if active:
            percent = self.blend_slider.value()
            self.blend_label.setText(
                f"{100 - percent}% {self.display_name(first)} \u00b7 {percent}% {self.display_name(second)}"
            )
        elif second and second == first:
            self.blend_label.setText("Pick a different style to blend with.")
        else:
            self.blend_label.setText("")
        self.blend_label.setVisible(bool(self.blend_label.text()))

    def _adventure_changed(self) -> None:
        temperature = self.temperature()
        self.adventure_value.setText(f"{adventurousness_word(temperature)} ({temperature:.2f})")

    def _strength_changed(self) -> None:
        strength = self.style_strength()
        self.strength_label.setText(strength_word(strength) + (f" ({strength:.1f})" if strength else ""))

    # --- values --------------------------------------------------------------------------------
    def temperature(self) -> float:
        return self.adventure_slider.value() / TEMPERATURE_SCALE

    def style_strength(self) -> float:
        return self.strength_slider.value() / STRENGTH_SCALE

    def genre_spec(self) -> str:
        return blend_spec(
            self.genre_combo.currentData() or "", self.blend_combo.currentData(), self.blend_slider.value()
        )

    def problem(self) -> str:
        """Why the settings cannot make a piece ("" when they can)."""
        return self.piece_box.problem()

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
            "morph_to": self.morph_combo.currentData(),
            **self.piece_box.fields(continuing=bool(self.primer_path)),
            "temperature": self.temperature(),
            "style_strength": self.style_strength(),
            "seed": self.seed_spin.value(),
            "primer": self.primer_path,
        }

    def apply_fields(self, fields: dict, primer_summary: str = "") -> None:
        """Show the settings of an earlier piece (from ``request_fields`` or a take)."""
        try:
            first, second, percent = split_blend_spec(fields.get("genre", ""), self.genre_keys)
        except (ValueError, IndexError):
            return  # a take of another model: its styles are not here
        self.user_set = set()
        with self._filling_in():
            self.genre_combo.setCurrentIndex(max(0, self.genre_combo.findData(first)))
            self.blend_combo.setCurrentIndex(max(0, self.blend_combo.findData(second)) if second else 0)
            if second:
                self.blend_slider.setValue(percent)
            self.morph_combo.setCurrentIndex(max(0, self.morph_combo.findData(fields.get("morph_to"))))
            self.piece_box.apply_fields(fields)
            if fields.get("temperature") is not None:
                self.adventure_slider.setValue(round(float(fields["temperature"]) * TEMPERATURE_SCALE))
            strength = fields.get("style_strength")
            if strength is None:  # the style's own
                strength = self.genre(first).style_strength if self.genre(first) else DEFAULT_STYLE_STRENGTH
            self.strength_slider.setValue(round(float(strength) * STRENGTH_SCALE))
            if fields.get("seed") is not None:
                self.seed_spin.setValue(int(fields["seed"]))
        genre = self.genre(first)
        self.user_set = {
            name
            for name, differs in (
                ("tempo", self.tempo_spin.value() != genre.tempo),
                ("program", self.instrument_combo.currentData() != genre.program),
                ("style_strength", self.strength_slider.value() != round(genre.style_strength * STRENGTH_SCALE)),
            )
            if differs
        }
        primer = fields.get("primer")
        if primer and Path(primer).is_file():
            self.set_primer(primer, primer_summary)
        else:
            self.clear_primer()
            if primer:
                self.notice.emit(f"{Path(primer).name} is no longer there: the next piece starts from silence.")

    # --- primer --------------------------------------------------------------------------------
    def set_primer(self, path: str, summary: str = "") -> None:
        """Continue ``path`` (already read by a worker); ``summary`` e.g. "212 notes, 8 bars"."""
        self.primer_path, self.primer_summary = str(path), summary
        self.primer_label.setText(Path(path).name + (f"\n{summary}" if summary else ""))
        self.primer_label.setToolTip(str(path))
        self.clear_primer_button.setEnabled(True)
        self._update_defaults()

    def clear_primer(self) -> None:
        self.primer_path, self.primer_summary = None, ""
        self.primer_label.setText(NO_PRIMER_TEXT)
        self.primer_label.setToolTip("")
        self.clear_primer_button.setEnabled(False)
        self._update_defaults()
