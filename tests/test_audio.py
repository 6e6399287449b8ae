"""Audio rendering: FluidSynth or the fallback synth, normalised samples, valid 16-bit WAV files."""

from __future__ import annotations

import sys
import wave

import numpy as np
import pretty_midi
import pytest

from musicgen.files import audio

A4 = 69  # MIDI pitch of 440 Hz


def one_note(pitch: int = A4, seconds: float = 0.5, program: int = 0) -> pretty_midi.PrettyMIDI:
    """A PrettyMIDI holding one note from 0 to ``seconds``."""
    pm = pretty_midi.PrettyMIDI()
    instrument = pretty_midi.Instrument(program=program)
    instrument.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=0.0, end=seconds))
    pm.instruments.append(instrument)
    return pm


def read_wav(path) -> tuple[np.ndarray, wave._wave_params]:
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        samples = np.frombuffer(wav.readframes(params.nframes), dtype="<i2")
    return samples, params


def expected_backend() -> str:
    """FluidSynth wherever its library loads (CI installs libfluidsynth3), else the built-in synth."""
    try:
        import fluidsynth  # noqa: F401 - pyfluidsynth raises ImportError without libfluidsynth
    except (ImportError, OSError):
        return audio.BUILTIN_BACKEND
    return audio.FLUIDSYNTH_BACKEND


def test_soundfont_ships_with_pretty_midi():
    path = audio.soundfont_path()
    assert path is not None and path.name == "TimGM6mb.sf2" and path.stat().st_size > 1_000_000


def test_render_audio_is_normalised_mono_and_names_backend():
    samples, backend = audio.render_audio(one_note(), sample_rate=22050)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert np.max(np.abs(samples)) == pytest.approx(audio.PEAK_LEVEL, abs=1e-6)
    assert backend == expected_backend()
    assert len(samples) >= 0.5 * 22050  # at least the note's length
    sounding = samples[: int(0.4 * 22050)]
    assert np.sqrt(np.mean(sounding**2)) > 0.05  # the note is audible, not silence


def test_fluidsynth_is_used_when_available():
    pytest.importorskip("fluidsynth", reason="libfluidsynth not installed")
    _, backend = audio.render_audio(one_note(), sample_rate=22050)
    assert backend == audio.FLUIDSYNTH_BACKEND


def test_falls_back_when_fluidsynth_library_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "fluidsynth", None)  # `import fluidsynth` now raises ImportError
    samples, backend = audio.render_audio(one_note(A4, seconds=1.0), sample_rate=8000)
    assert backend == audio.BUILTIN_BACKEND
    spectrum = np.abs(np.fft.rfft(samples[:8000]))  # 1 s window: bin index = frequency in Hz
    loudest_hz = int(np.argmax(spectrum))
    assert loudest_hz == pytest.approx(440, abs=2)


def test_falls_back_when_soundfont_is_missing(monkeypatch):
    monkeypatch.setattr(audio, "soundfont_path", lambda: None)
    _, backend = audio.render_audio(one_note(), sample_rate=8000)
    assert backend == audio.BUILTIN_BACKEND


def test_empty_midi_renders_to_silence():
    samples, _ = audio.render_audio(pretty_midi.PrettyMIDI(), sample_rate=8000)
    assert samples.size == 0 or not np.any(samples)


def test_write_wav_round_trips_16_bit_pcm(tmp_path):
    signal = np.sin(np.linspace(0, 20 * np.pi, 1000)).astype(np.float32) * 0.5
    path = audio.write_wav(tmp_path / "tone.wav", signal, sample_rate=16000)
    samples, params = read_wav(path)
    assert (params.nchannels, params.sampwidth, params.framerate, params.nframes) == (1, 2, 16000, 1000)
    assert np.allclose(samples / audio.PCM_FULL_SCALE, signal, atol=1 / audio.PCM_FULL_SCALE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tone.wav"]  # no temp file left


def test_write_wav_clips_out_of_range_samples(tmp_path):
    samples, _ = read_wav(audio.write_wav(tmp_path / "loud.wav", np.array([2.0, -3.0, 0.0])))
    assert list(samples) == [audio.PCM_FULL_SCALE, -audio.PCM_FULL_SCALE, 0]


def test_write_wav_rejects_stereo_and_leaves_no_file(tmp_path):
    with pytest.raises(ValueError, match="mono"):
        audio.write_wav(tmp_path / "stereo.wav", np.zeros((100, 2)))
    assert list(tmp_path.iterdir()) == []


def test_write_wav_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    def broken_open(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(audio.wave, "open", broken_open)
    with pytest.raises(OSError):
        audio.write_wav(tmp_path / "x.wav", np.zeros(10))
    assert list(tmp_path.iterdir()) == []


def test_render_midi_file_writes_a_playable_wav(tmp_path):
    midi_path = tmp_path / "note.mid"
    one_note(seconds=0.3, program=40).write(str(midi_path))
    backend = audio.render_midi_file(midi_path, tmp_path / "note.wav", sample_rate=22050)
    samples, params = read_wav(tmp_path / "note.wav")
    assert backend == expected_backend()
    assert params.framerate == 22050 and params.nframes >= 0.3 * 22050
    assert np.max(np.abs(samples)) == pytest.approx(audio.PEAK_LEVEL * audio.PCM_FULL_SCALE, rel=1e-3)


def test_render_midi_file_rejects_corrupt_midi_by_name(tmp_path):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd this is not really midi")
    with pytest.raises(ValueError, match="broken.mid"):
        audio.render_midi_file(bad, tmp_path / "out.wav")
    assert not (tmp_path / "out.wav").exists()
