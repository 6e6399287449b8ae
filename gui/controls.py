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
    QComboBox,
    QFormLayout,
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

from musicgen.request import FREE, MAX_BARS, MAX_STYLE_STRENGTH, parse_form

from .control_values import (
    FORM_CHOICES,
    KEYS,
    adventurousness_word,
    blend_spec,
    default_form,
    form_label,
    split_blend_spec,
    strength_word,
)

FORM_LENGTH = 0  # the Length box's "form length" value: the request's bars=None
MIN_TEMPO, MAX_TEMPO = 30, 300  # quarter notes per minute offered in the box
DEFAULT_TEMPO = 120  # until a style sets its own
DEFAULT_TEMPERATURE = 1.0
TEMPERATURE_SCALE = 100  # slider units per 1.0 of temperature
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.3, 1.8
STRENGTH_SCALE = 10  # slider units per 1.0 of style strength
DEFAULT_BLEND_PERCENT = 30  # share of the second style when a blend is first chosen
MAX_SEED = 999_999  # seeds a person can read out and type back
COMBO_MIN_CHARACTERS = 8  # combos shrink to this many characters in a narrow panel
DICE = "\u2684"  # die face five
NO_PRIMER_TEXT = "None \u2014 start from silence.\nOpen or drop a .mid file to continue it."


def _combo(tooltip: str) -> QComboBox:
    """A combo box that never makes the panel wider than it is."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(COMBO_MIN_CHARACTERS)
    combo.setToolTip(tooltip)
    return combo


def _hint(text: str = "", name: str = "hint") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


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
        self.user_set: set[str] = set()  # "tempo", "program": values the musician chose themselves
        self._filling = False  # True while the panel itself sets values
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._build_style_box())
        layout.addWidget(self._build_piece_box())
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
        self.genre_combo = _combo("The style the new piece is written in")
        self.genre_combo.setPlaceholderText("Loading styles\u2026")
        self.description_label = _hint(name="description")
        self.blend_combo = _combo("Mix in a second style")
        self.blend_slider = QSlider(Qt.Horizontal)
        self.blend_slider.setRange(0, 100)
        self.blend_slider.setValue(DEFAULT_BLEND_PERCENT)
        self.blend_slider.setToolTip("How much of the second style goes into the mix")
        self.blend_label = _hint()
        self.morph_combo = _combo("Move from the style above to this one over the piece")
        self.strength_slider = QSlider(Qt.Horizontal)
        self.strength_slider.setRange(0, round(MAX_STYLE_STRENGTH * STRENGTH_SCALE))
        self.strength_slider.setToolTip(
            "Push the music further towards the style (0 = off). Strong values can sound exaggerated."
        )
        self.strength_label = _hint()
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
        self._strength_changed()
        return box

    def _build_piece_box(self) -> QGroupBox:
        box = QGroupBox("Piece")
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        form.setRowWrapPolicy(QFormLayout.DontWrapRows)
        self.bars_spin = QSpinBox()
        self.bars_spin.setRange(FORM_LENGTH, MAX_BARS)
        self.bars_spin.setSpecialValueText("Form length")
        self.bars_spin.setValue(FORM_LENGTH)
        self.bars_spin.setSuffix(" bars")
        self.bars_spin.setToolTip(
            "Whole bars after any pickup. Form length: 32 bars for AABB in 8-bar parts, 16 for a through-composed piece"
        )
        self.meter_combo = _combo("Time signature (the style's usual one unless you choose)")
        self.form_combo = _combo("Parts and repeats: AABB plays each 8-bar strain twice, as dance tunes do")
        self.form_combo.addItem("Style default", None)
        for value, label in FORM_CHOICES:
            self.form_combo.addItem(label, value)
        self.tempo_spin = QSpinBox()
        self.tempo_spin.setRange(MIN_TEMPO, MAX_TEMPO)
        self.tempo_spin.setSuffix(" BPM")
        self.tempo_spin.setValue(DEFAULT_TEMPO)
        self.tempo_spin.setToolTip("Quarter notes per minute (each style has its own default)")
        self.key_combo = _combo(
            "Transpose the result to this key. The piece keeps its own mode: a minor piece "
            "asked for C major goes to A minor, which has the same key signature"
        )
        self.key_combo.addItem("As generated", None)
        for value, label in KEYS:
            self.key_combo.addItem(label, value)
        self.instrument_combo = _combo("General MIDI instrument for playback and the saved file")
        self.instrument_combo.setMaxVisibleItems(20)
        self.length_problem = _hint(name="problem")
        self.length_problem.hide()
        form.addRow("Length", self.bars_spin)
        form.addRow("Metre", self.meter_combo)
        form.addRow("Form", self.form_combo)
        form.addRow(self.length_problem)
        form.addRow("Tempo", self.tempo_spin)
        form.addRow("Key", self.key_combo)
        form.addRow("Instrument", self.instrument_combo)
        self.bars_spin.valueChanged.connect(self._length_changed)
        self.form_combo.currentIndexChanged.connect(self._length_changed)
        self.tempo_spin.valueChanged.connect(lambda: self._user_changed("tempo"))
        self.instrument_combo.currentIndexChanged.connect(lambda: self._user_changed("program"))
        return box

    def _build_character_box(self) -> QGroupBox:
        box = QGroupBox("Character")
        form = QVBoxLayout(box)
        header = QHBoxLayout()
        header.addWidget(QLabel("Adventurousness"))
        self.adventure_value = _hint()
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
        self.primer_label = _hint(NO_PRIMER_TEXT)
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
            self.instrument_combo.clear()
            for program, name in enumerate(info.instrument_names):
                self.instrument_combo.addItem(name, program)
            self.meter_combo.clear()
            self.meter_combo.addItem("Style default", None)
            for meter in info.known_meters or sorted(set(info.default_meters.values())):
                self.meter_combo.addItem(meter, meter)
            for combo, first in (
                (self.genre_combo, None),
                (self.blend_combo, "No blend"),
                (self.morph_combo, "No morph"),
            ):
                combo.blockSignals(True)
                combo.clear()
                if first:
                    combo.addItem(first, None)
                for genre in self.genres:
                    combo.addItem(genre.display_name, genre.key)
                    combo.setItemData(combo.count() - 1, genre.description, Qt.ToolTipRole)
                combo.blockSignals(False)
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
        if kept:
            self.notice.emit(f"Kept your {' and '.join(kept)}.")
        self._update_defaults()
        self._blend_changed()

    def _update_defaults(self) -> None:
        """Say in the Metre and Form boxes what "Style default" means for the chosen style."""
        key = self.genre_combo.currentData()
        if self.meter_combo.count():
            self.meter_combo.setItemText(0, f"Style default ({self.default_meters.get(key, '4/4')})")
        self.form_combo.setItemText(0, f"Style default ({form_label(default_form(key, bool(self.primer_path)))})")
        self.form_combo.setEnabled(not self.primer_path)
        self.form_combo.setToolTip(
            "A continued MIDI file is through-composed"
            if self.primer_path
            else "Parts and repeats: AABB plays each 8-bar strain twice, as dance tunes do"
        )
        self._length_changed()

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

    def _length_changed(self) -> None:
        bars = self.bars_spin.value()
        self.bars_spin.setSuffix(" bar" if bars == 1 else " bars")
        problem = self.problem()
        self.length_problem.setText(problem)
        self.length_problem.setVisible(bool(problem))

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
        """Why the length and form do not fit together ("" when they do)."""
        form, bars = self.form_combo.currentData(), self.bars_spin.value()
        if form is None or form == FREE or bars == FORM_LENGTH:
            return ""
        parts = len(parse_form(form))
        if bars % parts:
            lower = max(parts, bars - bars % parts)
            return f"{bars} bars do not split into the {parts} equal parts of {form}: try {lower} or {lower + parts}."
        return ""

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
        bars = self.bars_spin.value()
        return {
            "genre": self.genre_spec(),
            "morph_to": self.morph_combo.currentData(),
            "bars": None if bars == FORM_LENGTH else bars,
            "meter": self.meter_combo.currentData(),
            "form": None if self.primer_path else self.form_combo.currentData(),
            "tempo": float(self.tempo_spin.value()),
            "key": self.key_combo.currentData(),
            "program": self.instrument_combo.currentData(),
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
            self.bars_spin.setValue(int(fields.get("bars") or FORM_LENGTH))
            self.meter_combo.setCurrentIndex(max(0, self.meter_combo.findData(fields.get("meter"))))
            self.form_combo.setCurrentIndex(max(0, self.form_combo.findData(fields.get("form"))))
            if fields.get("tempo"):
                self.tempo_spin.setValue(round(fields["tempo"]))
            self.key_combo.setCurrentIndex(max(0, self.key_combo.findData(fields.get("key"))))
            if fields.get("program") is not None:
                self.instrument_combo.setCurrentIndex(self.instrument_combo.findData(int(fields["program"])))
            if fields.get("temperature") is not None:
                self.adventure_slider.setValue(round(float(fields["temperature"]) * TEMPERATURE_SCALE))
            self.strength_slider.setValue(round(float(fields.get("style_strength") or 0) * STRENGTH_SCALE))
            if fields.get("seed") is not None:
                self.seed_spin.setValue(int(fields["seed"]))
        genre = self.genre(first)
        self.user_set = {
            name
            for name, differs in (
                ("tempo", self.tempo_spin.value() != genre.tempo),
                ("program", self.instrument_combo.currentData() != genre.program),
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
