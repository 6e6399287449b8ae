"""Each concept in one home: the data, model-file and report modules load no MIDI library, and the
settings module loads no torch (the GUI and the CLI's flags depend on that)."""

from __future__ import annotations

import subprocess
import sys


def loaded_after(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())


def test_dataset_checkpoint_and_report_need_no_midi_library():
    for module in (
        "musicgen.training.dataset",
        "musicgen.model.model_files",
        "musicgen.report.build",
        "musicgen.training.evaluate",
    ):
        assert "pretty_midi" not in loaded_after(module), module


def test_requests_metre_and_grammar_need_no_torch():
    for module in (
        "musicgen.sampling.request",
        "musicgen.music.meter",
        "musicgen.tokens.grammar",
        "musicgen.training.config",
    ):
        assert "torch" not in loaded_after(module), module
