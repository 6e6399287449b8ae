"""Live MIDI output: send a MIDI file to a synth, DAW or device through a system MIDI port (mido).

mido talks to the system through python-rtmidi (ALSA on Linux, CoreMIDI on macOS, WinMM on
Windows). Every way this can be unavailable becomes a ValueError with one line telling the user
what to do, and the C library's own error chatter on stderr is kept off the terminal.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from ..progress import Progress
from .midi import open_midi_file

INSTALL_HINT = "MIDI playback needs python-rtmidi: pip install python-rtmidi (or hear the piece with `musicgen render`)"
NO_PORTS_HINT = (
    "start a software synth (e.g. `fluidsynth -a pulseaudio -m alsa_seq <soundfont.sf2>`) or connect "
    "a MIDI device, or hear the piece as audio with `musicgen render`"
)


PlaybackProgress = Progress  # seconds played (``done``) of ``total``; ``message`` names the port


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 (ALSA prints errors straight to it from C) for the block."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr descriptor at all: nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _backend():
    """The mido module with a working backend loaded; ValueError with an install hint if none."""
    import mido

    try:
        with _quiet_stderr():
            mido.backend.load()
    except ImportError:
        raise ValueError(INSTALL_HINT) from None
    return mido


def output_port_names() -> list[str]:
    """Names of the MIDI output ports the system offers (may be empty); ValueError if MIDI is unavailable."""
    mido = _backend()
    try:
        with _quiet_stderr():
            return list(mido.get_output_names())
    except Exception as error:  # backends raise their own types (rtmidi.SystemError, IOError, ...)
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(
            f"no MIDI output available: the system MIDI service could not be opened ({reason}); "
            "on Linux load it with `sudo modprobe snd-seq`, or hear the piece with `musicgen render`"
        ) from None


def choose_port(requested: str | None, available: list[str]) -> str:
    """The port to use: the exact name, else the one name containing ``requested``, else the first port."""
    if not available:
        raise ValueError(f"no MIDI output ports found; {NO_PORTS_HINT}")
    if requested is None:
        return available[0]
    if requested in available:
        return requested
    matches = [name for name in available if requested.lower() in name.lower()]
    if len(matches) == 1:
        return matches[0]
    listing = ", ".join(available)
    if matches:
        raise ValueError(f"MIDI port name '{requested}' matches several ports ({', '.join(matches)}); be more specific")
    raise ValueError(f"no MIDI output port named '{requested}' (available: {listing})")


def play_midi_file(path, port: str | None = None) -> Iterator[PlaybackProgress]:
    """Check the file and open the port now, then return a generator that plays it in real time.

    The generator yields progress in seconds. Stopping early (closing the generator, Ctrl+C)
    silences every note: the port is opened with ``autoreset`` so "all notes off" goes out on close.
    """
    from mido import MidiFile

    midi = open_midi_file(path, MidiFile)
    name = choose_port(port, output_port_names())
    mido = _backend()
    try:
        with _quiet_stderr():
            output = mido.open_output(name, autoreset=True)
    except Exception as error:  # backend-specific open errors
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"could not open MIDI port '{name}' ({reason})") from None
    return _play(midi, output, name)


def _play(midi, output, name: str) -> Iterator[PlaybackProgress]:
    """Send ``midi``'s messages to the open port ``output`` at their times, then close it."""
    total = max(1, round(midi.length))
    with output:
        played = 0.0
        yield PlaybackProgress(0, total, name)
        for message in midi.play():
            played += message.time
            output.send(message)
            yield PlaybackProgress(min(total, int(played)), total, name)
        yield PlaybackProgress(total, total, name)
