"""Playback: a device-free state machine (what the transport may do) and a QtMultimedia player around it.

``PlaybackState`` holds no Qt objects, so its logic is tested without an audio device. ``AudioPlayer``
creates ``QMediaPlayer`` + ``QAudioOutput`` only when the system has an audio output.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, QUrl, Signal

NO_DEVICE_MESSAGE = "No audio output device found \u2014 you can still save MIDI or export WAV"
NOTHING_TO_PLAY_MESSAGE = "Generate a piece first"
PREPARING_MESSAGE = "Preparing audio\u2026"
POSITION_POLL_MS = 30  # playhead refresh while playing (about 33 frames per second)


class Status(Enum):
    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"


class PlaybackState:
    """Which transport actions are possible; ``source`` is the WAV file loaded, if any."""

    def __init__(self, has_device: bool):
        self.has_device = has_device
        self.source: Path | None = None
        self.preparing = False  # a WAV is being rendered for the current piece
        self.status = Status.STOPPED

    @property
    def can_play(self) -> bool:
        return self.has_device and self.source is not None and self.status is not Status.PLAYING

    @property
    def can_pause(self) -> bool:
        return self.status is Status.PLAYING

    @property
    def can_stop(self) -> bool:
        return self.status is not Status.STOPPED

    @property
    def unavailable_reason(self) -> str:
        """Why Play is disabled ("" when it is not)."""
        if not self.has_device:
            return NO_DEVICE_MESSAGE
        if self.source is None:
            return PREPARING_MESSAGE if self.preparing else NOTHING_TO_PLAY_MESSAGE
        return ""

    def begin_preparing(self) -> None:
        """A new piece was chosen: drop the old source until its audio is rendered."""
        self.source, self.preparing, self.status = None, True, Status.STOPPED

    def load(self, source: Path | None) -> None:
        self.source, self.preparing, self.status = source, False, Status.STOPPED

    def _move(self, allowed: bool, status: "Status") -> bool:
        """Go to ``status`` when ``allowed``; whether it did."""
        if allowed:
            self.status = status
        return allowed

    def play(self) -> bool:
        """Start or resume; False when playing is not possible now."""
        return self._move(self.can_play, Status.PLAYING)

    def pause(self) -> bool:
        return self._move(self.can_pause, Status.PAUSED)

    def stop(self) -> bool:
        return self._move(self.can_stop, Status.STOPPED)

    def toggle(self) -> bool:
        """Space bar: pause when playing, otherwise play."""
        return self.pause() if self.status is Status.PLAYING else self.play()

    def reached_end(self) -> None:
        self.status = Status.STOPPED


def audio_output_available() -> bool:
    """True when the system offers at least one audio output device."""
    from PySide6.QtMultimedia import QMediaDevices

    return bool(QMediaDevices.audioOutputs())


class AudioPlayer(QObject):
    """Plays one WAV file at a time; emits ``state_changed``, ``position_changed(ms)`` and ``failed(message)``."""

    state_changed = Signal()
    position_changed = Signal(int)
    failed = Signal(str)

    def __init__(self, has_device: bool, parent=None):
        super().__init__(parent)
        self.state = PlaybackState(has_device)
        self._player = None
        self._poll = QTimer(self)
        self._poll.setInterval(POSITION_POLL_MS)
        self._poll.timeout.connect(self._emit_position)
        if has_device:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

            self._output = QAudioOutput(self)
            self._player = QMediaPlayer(self)
            self._player.setAudioOutput(self._output)
            self._player.mediaStatusChanged.connect(self._on_media_status)
            self._player.errorOccurred.connect(self._on_error)

    def begin_preparing(self) -> None:
        self._stop_media()
        self.state.begin_preparing()
        self.state_changed.emit()
        self.position_changed.emit(0)

    def load(self, path: Path | None) -> None:
        """Make ``path`` (a WAV file) the thing Play plays."""
        self._stop_media()
        self.state.load(path)
        if self._player is not None:
            self._player.setSource(QUrl.fromLocalFile(str(path)) if path else QUrl())
        self.state_changed.emit()
        self.position_changed.emit(0)

    def play(self) -> None:
        if self.state.play():
            self._player.play()
            self._poll.start()
            self.state_changed.emit()

    def pause(self) -> None:
        if self.state.pause():
            self._player.pause()
            self._poll.stop()
            self.state_changed.emit()

    def stop(self) -> None:
        if self.state.stop():
            self._stop_media()
            self.state_changed.emit()
            self.position_changed.emit(0)

    def toggle(self) -> None:
        if self.state.status is Status.PLAYING:
            self.pause()
        else:
            self.play()

    def seek(self, ms: int) -> None:
        if self._player is not None and self.state.source is not None:
            self._player.setPosition(int(ms))
            self.position_changed.emit(int(ms))

    def _stop_media(self) -> None:
        self._poll.stop()
        if self._player is not None:
            self._player.stop()

    def _emit_position(self) -> None:
        self.position_changed.emit(self._player.position())

    def _on_media_status(self, status) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        if status == QMediaPlayer.MediaStatus.EndOfMedia:
            self._poll.stop()
            self.state.reached_end()
            self.state_changed.emit()
            self.position_changed.emit(0)

    def _on_error(self, error, message: str) -> None:
        self._poll.stop()
        self.state.reached_end()
        self.state_changed.emit()
        self.failed.emit(message or "the audio system could not play the file")
