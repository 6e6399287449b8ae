"""What musicgen reads and writes: MIDI files, a live MIDI port, audio, safe writes of output files."""
