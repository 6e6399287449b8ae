"""What Play, Stop, the ruler and the playhead do: the app's own sound (``playback.AudioPlayer``) or
a MIDI output port (the Playback menu), and a playhead that moves even without speakers.

The MIDI port is played by a job (``jobs.play_to_port``) in a worker; its position comes from a clock
here, since the port reports only whole seconds.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup

from musicgen.music.piece import STEPS_PER_BEAT

from . import jobs
from .music_text import bar_span, format_duration
from .playback import POSITION_POLL_MS, AudioPlayer, Status

BUILT_IN_SOUND = "Built-in sound (this computer's audio output)"
NO_MIDI_SYSTEM = "MIDI output is not available on this computer"
MENU_TEXT_LENGTH = 48  # characters of a port name in the menu (the whole name is in its tooltip)
MIDI_FROM_START = "MIDI output always plays from the start"


def loop_restart(ms: int, span: tuple[int, int] | None) -> int | None:
    """Where a loop over ``span`` (start, end ms) jumps back to from ``ms``, or None while inside it."""
    if span is None or span[0] <= ms < span[1]:
        return None
    return span[0]


def short_text(text: str, limit: int = MENU_TEXT_LENGTH) -> str:
    """The first line of ``text``, cut to ``limit`` characters with "…"."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "\u2026"


class PlaybackControl(QObject):
    """Playback of the window's current take; ``changed`` when the transport buttons need updating,
    ``failed(title, message)`` for a dialog, ``message(text)`` for the status bar."""

    changed = Signal()
    failed = Signal(str, str)
    message = Signal(str)

    def __init__(self, run_job, roll, transport, parent=None):
        super().__init__(parent)
        self.run_job = run_job  # the window's job starter: run_job(job, kind, on_finished, on_failed)
        self.roll, self.transport = roll, transport
        self.player: AudioPlayer | None = None
        self.take = None  # the take shown
        self.position_ms = 0
        self.port = ""  # MIDI output port name; "" = the built-in sound
        self.ports: list[str] = []
        self.ports_problem = "Open this menu again in a moment: looking for MIDI ports\u2026"
        self.ports_detail = ""  # the MIDI system's own words when it failed (the menu's tooltip)
        self._midi_job = None
        self.loop = False  # play the bars chosen on the ruler over and over
        self._clock = QElapsedTimer()
        self._tick = QTimer(self)
        self._tick.setInterval(POSITION_POLL_MS)
        self._tick.timeout.connect(lambda: self.show_position(self._clock.elapsed()))

    def start(self, has_device: bool) -> None:
        """Create the audio player (the window is up)."""
        self.player = AudioPlayer(has_device, self)
        self.player.state_changed.connect(self.changed)
        self.player.position_changed.connect(self.show_position)
        self.player.failed.connect(lambda message: self.failed.emit("Could not play the sound", message))

    # --- the take ------------------------------------------------------------------------------
    def set_take(self, take) -> None:
        """Show ``take`` (or None) stopped at its start; its sound is loaded when ready."""
        self.stop()
        self.take = take
        if self.player is not None:
            if take is not None and take.wav_path is not None:
                self.player.load(take.wav_path)
            else:
                self.player.begin_preparing()
        self.show_position(0)
        self.changed.emit()

    def use_sound(self, take, path) -> None:
        """Play ``path`` (a WAV of some of the take's voices; None: nothing until it is ready) for ``take``."""
        if take is self.take and self.player is not None and not self.midi_playing:
            if path is None:
                self.player.begin_preparing()
            else:
                self.player.load(path)
            self.changed.emit()

    def sound_ready(self, take) -> None:
        if take is self.take and self.player is not None and not self.midi_playing:
            self.player.load(take.wav_path)

    # --- transport -----------------------------------------------------------------------------
    @property
    def midi_playing(self) -> bool:
        return self._midi_job is not None

    @property
    def playing(self) -> bool:
        return self.midi_playing or (self.player is not None and self.player.state.status is Status.PLAYING)

    def can_toggle(self) -> bool:
        if self.port:
            return self.take is not None and self.take.midi_path is not None
        state = self.player.state if self.player is not None else None
        return state is not None and (state.can_play or state.can_pause)

    def can_stop(self) -> bool:
        return self.midi_playing or (self.player is not None and self.player.state.can_stop)

    def unavailable_reason(self) -> str:
        """Why Play is off ("" when it is not)."""
        if self.port:
            return "" if self.can_toggle() else "Generate a piece first"
        return self.player.state.unavailable_reason if self.player is not None else ""

    def toggle(self) -> None:
        """Space: play or pause (a MIDI port: play or stop); with Loop on, play starts in the chosen bars."""
        if self.port:
            if self.midi_playing:
                self.stop()
            elif self.can_toggle():
                self._play_to_port()
        elif self.player is not None:
            restart = loop_restart(self.position_ms, self.loop_span_ms()) if self.loop and not self.playing else None
            if restart is not None:
                self.player.seek(restart)
            self.player.toggle()

    def set_loop(self, on: bool) -> None:
        """Loop the bars chosen on the ruler (or in the Bars boxes) while playing the built-in sound."""
        self.loop = bool(on)
        if self.loop and self.loop_span_ms() is None:
            self.message.emit("Drag across the bar ruler to choose the bars to loop.")
        self.changed.emit()

    def loop_span_ms(self) -> tuple[int, int] | None:
        """(start, end) in ms of the bars chosen in the roll, or None."""
        if self.take is None or self.roll.selection is None:
            return None
        try:
            start, end = bar_span(list(self.take.generated.piece.bars), *self.roll.selection)
        except ValueError:
            return None
        per_step = self.seconds_per_step() * 1000
        return int(start * per_step), int(end * per_step)

    def stop(self) -> None:
        if self._midi_job is not None:
            self._midi_job.request_abort()
            self._midi_finished()
        if self.player is not None:
            self.player.stop()
        self.show_position(0)

    def seek_to_step(self, step: int) -> None:
        """Move the playhead to ``step`` (also with nothing playing, or no speakers at all)."""
        if self.take is None:
            return
        ms = int(step * self.seconds_per_step() * 1000)
        if self.midi_playing:
            self.message.emit(MIDI_FROM_START)
            return
        if self.player is not None and self.player.state.source is not None:
            self.player.seek(ms)
        self.show_position(ms)

    def seconds_per_step(self) -> float:
        return 60.0 / self.take.generated.tempo / STEPS_PER_BEAT

    def show_position(self, ms: int) -> None:
        """Time label and playhead at ``ms`` (the playhead shows when playing or away from the start)."""
        self.position_ms = int(ms)
        if self.take is None:
            self.transport.time_label.setText("0:00 / 0:00")
            self.roll.set_playhead(None)
            return
        if self.loop and self.player is not None and self.player.state.status is Status.PLAYING:
            restart = loop_restart(int(ms), self.loop_span_ms())
            if restart is not None:
                self.player.seek(restart)  # reports the new position itself
                return
        total = self.take.generated.duration_seconds
        self.transport.time_label.setText(f"{format_duration(ms / 1000)} / {format_duration(total)}")
        self.roll.set_playhead(ms / 1000 / self.seconds_per_step() if self.playing or ms else None)

    # --- MIDI output ---------------------------------------------------------------------------
    def list_ports(self) -> None:
        """Look for MIDI output ports in a worker (the menu shows them next time it opens)."""

        def listed(names) -> None:
            self.ports, self.ports_problem = list(names), "" if names else "No MIDI output ports found"
            self.ports_detail = ""

        def failed(message: str) -> None:
            self.ports, self.ports_problem, self.ports_detail = [], NO_MIDI_SYSTEM, message

        self.run_job(jobs.list_midi_ports, "ports", listed, failed)

    def fill_port_menu(self, menu) -> None:
        """The Playback menu's output choices: the built-in sound, each port, and Refresh."""
        menu.clear()
        for old in menu.findChildren(QActionGroup):
            old.deleteLater()
        group = QActionGroup(menu)
        menu.setToolTipsVisible(True)
        for name, label in [("", BUILT_IN_SOUND)] + [(port, f"MIDI: {short_text(port)}") for port in self.ports]:
            action = QAction(label, menu, checkable=True, checked=name == self.port)
            action.setToolTip(name or BUILT_IN_SOUND)
            action.triggered.connect(lambda _=False, name=name: self.choose_port(name))
            group.addAction(action)
            menu.addAction(action)
        if self.ports_problem:
            note = menu.addAction(short_text(self.ports_problem))
            note.setToolTip(self.ports_detail or self.ports_problem)
            note.setEnabled(False)
        menu.addSeparator()
        menu.addAction("Look for MIDI ports again", self.list_ports)

    def choose_port(self, port: str) -> None:
        """Play to MIDI port ``port`` ("" = the built-in sound)."""
        self.stop()
        self.port = port
        self.message.emit(f"Playing to MIDI port {port}." if port else "Playing with the built-in sound.")
        self.changed.emit()

    def _play_to_port(self) -> None:
        if self.player is not None:
            self.player.stop()
        started = {}  # the job, for its callbacks: a stopped job's late report changes nothing

        def ended(_result=None) -> None:
            if self._midi_job is not None and self._midi_job is started["job"]:
                self._midi_finished()

        def failed(message: str) -> None:
            if self._midi_job is not None and self._midi_job is started["job"]:
                self._midi_finished()
                self.failed.emit("Could not play to the MIDI port", message)

        take, port = self.take, self.port
        started["job"] = self._midi_job = self.run_job(
            lambda: jobs.play_to_port(take.midi_path, port), "midi", ended, failed
        )
        self._clock.start()
        self._tick.start()
        self.changed.emit()

    def _midi_finished(self) -> None:
        self._midi_job = None
        self._tick.stop()
        self.show_position(0)
        self.changed.emit()
