"""The settings panel's choices kept between sessions (in the app's QSettings, group "controls")."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from .control_values import main_genre_key
from .controls import DEFAULT_TEMPERATURE

from .piece_box import FORM_LENGTH

SETTINGS_GROUP = "controls"
SAVED_FIELDS = (
    "genre",
    "morph_to",
    "bars",
    "meter",
    "form",
    "tempo",
    "key",
    "program",
    "temperature",
    "style_strength",
    "seed",
)


def save_panel(panel, settings: QSettings) -> None:
    """Keep the panel's choices in ``settings`` for the next session."""
    fields = panel.request_fields()
    settings.beginGroup(SETTINGS_GROUP)
    for name in SAVED_FIELDS:
        settings.setValue(name, "" if fields[name] is None else fields[name])
    settings.setValue("keep_seed", panel.keep_seed_check.isChecked())
    settings.setValue("user_set", ",".join(sorted(panel.user_set)))
    settings.endGroup()


def restore_panel(panel, settings: QSettings) -> None:
    """Bring back the last session's choices (after ``panel.set_model``); unknown values are skipped."""
    settings.beginGroup(SETTINGS_GROUP)
    try:
        text = {name: str(settings.value(name, "")) for name in settings.childKeys()}
        genre = panel.genre(main_genre_key(text.get("genre", ""), panel.genre_keys)) if text.get("genre") else None
        if genre is None:
            return  # another model, or the first run: keep the defaults
        fields = {
            "genre": text["genre"],
            "morph_to": text.get("morph_to") or None,
            "bars": int(text.get("bars") or FORM_LENGTH),
            "meter": text.get("meter") or None,
            "form": text.get("form") or None,
            "tempo": float(text.get("tempo") or genre.tempo),
            "key": text.get("key") or None,
            "program": int(text.get("program") or genre.program),
            "temperature": float(text.get("temperature") or DEFAULT_TEMPERATURE),
            "style_strength": float(text.get("style_strength") or genre.style_strength),
            "seed": int(text.get("seed") or panel.seed_spin.value()),
        }
        panel.apply_fields(fields)
        chosen = ("tempo", "program", "style_strength")
        panel.user_set = {name for name in text.get("user_set", "").split(",") if name in chosen}
        panel.keep_seed_check.setChecked(text.get("keep_seed", "false").lower() == "true")
    except (TypeError, ValueError, IndexError):
        pass  # a damaged settings file must not stop the app; the defaults stay
    finally:
        settings.endGroup()
