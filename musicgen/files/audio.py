"""Audio rendering: MIDI -> mono samples -> 16-bit WAV.

FluidSynth with the General MIDI soundfont that ships inside pretty_midi (TimGM6mb.sf2) gives real
instrument sounds. Where FluidSynth cannot be used (the C library or the soundfont is missing)
pretty_midi's own sine-wave synthesis is the fallback, so rendering always works.
"""

from __future__ import annotations

import inspect
import wave
from pathlib import Path

import numpy as np
import pretty_midi

from .midi import atomic_write_bytes, open_midi_file

SAMPLE_RATE = 44100  # samples per second
PEAK_LEVEL = 0.9  # loudest sample after normalising, in full scale; leaves headroom against clipping
PCM_FULL_SCALE = 32767  # largest 16-bit sample value
SOUNDFONT_NAME = "TimGM6mb.sf2"
FLUIDSYNTH_BACKEND = f"FluidSynth ({SOUNDFONT_NAME})"
BUILTIN_BACKEND = "pretty_midi built-in synthesis"


def soundfont_path() -> Path | None:
    """The General MIDI soundfont bundled with pretty_midi, or None if the package lacks it."""
    path = Path(pretty_midi.__file__).resolve().parent / SOUNDFONT_NAME
    return path if path.is_file() else None


def _fluidsynth_audio(pm: pretty_midi.PrettyMIDI, sample_rate: int) -> np.ndarray | None:
    """Samples rendered by FluidSynth, or None when FluidSynth or the soundfont is unavailable."""
    soundfont = soundfont_path()
    if soundfont is None:
        return None
    try:
        import fluidsynth  # noqa: F401  (pyfluidsynth; raises ImportError when libfluidsynth is missing)
    except (ImportError, OSError):
        return None
    # pretty_midi >= 0.2.11 names the soundfont argument `synthesizer`; older versions `sf2_path`
    argument = "synthesizer" if "synthesizer" in inspect.signature(pm.fluidsynth).parameters else "sf2_path"
    try:
        return pm.fluidsynth(fs=sample_rate, **{argument: str(soundfont)})
    except (ImportError, OSError, RuntimeError):  # pretty_midi found no fluidsynth, or the synth failed to start
        return None


def normalise(audio: np.ndarray, peak: float = PEAK_LEVEL) -> np.ndarray:
    """Scale ``audio`` so its loudest sample is ``peak``; silence stays silence. Returns float32."""
    audio = np.asarray(audio, dtype=np.float64)
    loudest = float(np.max(np.abs(audio))) if audio.size else 0.0
    if loudest > 0:
        audio = audio * (peak / loudest)
    return audio.astype(np.float32)


def render_audio(pm: pretty_midi.PrettyMIDI, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, str]:
    """Render ``pm`` to float32 mono samples in [-1, 1] (shape (N,)) and name the backend used."""
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    audio = _fluidsynth_audio(pm, sample_rate)
    backend = FLUIDSYNTH_BACKEND
    if audio is None:
        audio = pm.synthesize(fs=sample_rate)
        backend = BUILTIN_BACKEND
    return normalise(audio), backend


def write_wav(path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write mono float samples in [-1, 1] as a 16-bit PCM WAV file, atomically."""
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim != 1:
        raise ValueError(f"audio must be mono (one dimension), got shape {audio.shape}")
    pcm = np.round(np.clip(audio, -1.0, 1.0) * PCM_FULL_SCALE).astype("<i2")  # WAV is little-endian

    def write(temp: str) -> None:
        with wave.open(temp, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(int(sample_rate))
            out.writeframes(pcm.tobytes())

    return atomic_write_bytes(path, write)


def render_midi_file(midi_path, wav_path, sample_rate: int = SAMPLE_RATE) -> str:
    """Render a MIDI file to a WAV file; returns the name of the backend used."""
    audio, backend = render_audio(open_midi_file(midi_path), sample_rate)
    write_wav(wav_path, audio, sample_rate)
    return backend
