"""The settings panel's Piece box: length, metre, form, tempo, key and instrument, and why a length
does not fit its form. It knows nothing of styles: the panel tells it what "Style default" means."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QSpinBox

from musicgen.limits import MAX_BARS
from musicgen.sampling.request import FREE, parse_form

from .control_values import FORM_CHOICES, KEYS

FORM_LENGTH = 0  # the Length box's "form length" value: the request's bars=None
MIN_TEMPO, MAX_TEMPO = 30, 300  # quarter notes per minute offered in the box
DEFAULT_TEMPO = 120  # until a style sets its own
COMBO_MIN_CHARACTERS = 8  # combos shrink to this many characters in a narrow panel
FORM_TOOLTIP = "Parts and repeats: AABB plays each 8-bar strain twice, as dance tunes do"


def combo(tooltip: str) -> QComboBox:
    """A combo box that never makes the panel wider than it is."""
    box = QComboBox()
    box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(COMBO_MIN_CHARACTERS)
    box.setToolTip(tooltip)
    return box


def hint(text: str = "", name: str = "hint") -> QLabel:
    """A wrapping label styled by its object name ("hint", "problem", "description")."""
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


class PieceBox(QGroupBox):
    """Length, metre, form, tempo, key and instrument; ``problem()`` says when length and form clash."""

    def __init__(self, parent=None):
        super().__init__("Piece", parent)
        form = QFormLayout(self)
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        form.setRowWrapPolicy(QFormLayout.DontWrapRows)
        self.bars_spin = QSpinBox()
        self.bars_spin.setRange(FORM_LENGTH, MAX_BARS)
        self.bars_spin.setSpecialValueText("Form length")
        self.bars_spin.setValue(FORM_LENGTH)
        self.bars_spin.setSuffix(" bars")
        self.bars_spin.setToolTip(
            "Whole bars after any pickup. Form length: 32 bars for AABB in 8-bar parts; a through-composed piece "
            "gets a length drawn for each seed from the style's real pieces (chorales 9-24 bars, German songs "
            "7-22, Chinese songs 8-33, Palestrina 18-88)"
        )
        self.meter_combo = combo(
            "Time signature. Style default: the style's own metre (6/8 for jigs), or for a style written in "
            "several (German and Scottish tunes, Chinese songs) one drawn for each seed with the corpus's odds"
        )
        self.form_combo = combo(FORM_TOOLTIP)
        self.form_combo.addItem("Style default", None)
        for value, label in FORM_CHOICES:
            self.form_combo.addItem(label, value)
        self.tempo_spin = QSpinBox()
        self.tempo_spin.setRange(MIN_TEMPO, MAX_TEMPO)
        self.tempo_spin.setSuffix(" BPM")
        self.tempo_spin.setValue(DEFAULT_TEMPO)
        self.tempo_spin.setToolTip("Quarter notes per minute (each style has its own default)")
        self.key_combo = combo(
            "Transpose the result to this key. The piece keeps its own mode: a minor piece "
            "asked for C major goes to A minor, which has the same key signature. Left at "
            "'A key of the style', a key is drawn with the odds of the style's real pieces"
        )
        self.key_combo.addItem("A key of the style", None)  # drawn with the corpus's odds
        for value, label in KEYS:
            self.key_combo.addItem(label, value)
        self.instrument_combo = combo("General MIDI instrument for playback and the saved file")
        self.instrument_combo.setMaxVisibleItems(20)
        self.length_problem = hint(name="problem")
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

    def set_choices(self, instrument_names, meters) -> None:
        """Offer the model's instruments (by General MIDI program) and metres."""
        self.instrument_combo.clear()
        for program, name in enumerate(instrument_names):
            self.instrument_combo.addItem(name, program)
        self.meter_combo.clear()
        self.meter_combo.addItem("Style default", None)
        for meter in meters:
            self.meter_combo.addItem(meter, meter)

    def show_defaults(self, meter: str, form: str, continuing: bool) -> None:
        """Say what "Style default" means (e.g. "6/8", "AABB"); a continued MIDI file has no form choice."""
        if self.meter_combo.count():
            self.meter_combo.setItemText(0, f"Style default ({meter})")
        self.form_combo.setItemText(0, f"Style default ({form})")
        self.form_combo.setEnabled(not continuing)
        self.form_combo.setToolTip("A continued MIDI file is through-composed" if continuing else FORM_TOOLTIP)
        self._length_changed()

    def _length_changed(self) -> None:
        bars = self.bars_spin.value()
        self.bars_spin.setSuffix(" bar" if bars == 1 else " bars")
        problem = self.problem()
        self.length_problem.setText(problem)
        self.length_problem.setVisible(bool(problem))

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

    def fields(self, continuing: bool) -> dict:
        """The GenerationRequest fields of this box (no form when continuing a MIDI file)."""
        bars = self.bars_spin.value()
        return {
            "bars": None if bars == FORM_LENGTH else bars,
            "meter": self.meter_combo.currentData(),
            "form": None if continuing else self.form_combo.currentData(),
            "tempo": float(self.tempo_spin.value()),
            "key": self.key_combo.currentData(),
            "program": self.instrument_combo.currentData(),
        }

    def apply_fields(self, fields: dict) -> None:
        """Show this box's part of an earlier piece's settings; a missing tempo or instrument stays."""
        self.bars_spin.setValue(int(fields.get("bars") or FORM_LENGTH))
        self.meter_combo.setCurrentIndex(max(0, self.meter_combo.findData(fields.get("meter"))))
        self.form_combo.setCurrentIndex(max(0, self.form_combo.findData(fields.get("form"))))
        if fields.get("tempo"):
            self.tempo_spin.setValue(round(fields["tempo"]))
        self.key_combo.setCurrentIndex(max(0, self.key_combo.findData(fields.get("key"))))
        if fields.get("program") is not None:
            self.instrument_combo.setCurrentIndex(self.instrument_combo.findData(int(fields["program"])))
