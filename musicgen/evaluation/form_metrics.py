"""Does a generated piece have the metre, length and ending it was asked for? Read back from MIDI.

For each piece the MIDI file is written and read again (as a DAW or MuseScore would read it), so
what is measured is what a musician gets: the time signature in the file, the number of whole
bars after the pickup, whether any note sounds past the closing bar line, and whether the network
ended the piece itself (chose EOS at the closing bar line of its last part).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from ..music.meter import bar_steps
from ..sampling.request import GeneratedPiece


def piece_form_check(result: GeneratedPiece, folder: Path) -> dict:
    """One piece: ``meter`` written, ``bars`` read back, ``exact`` (bars as asked, every bar full,
    nothing past the closing line), ``natural`` ending, ``pickup`` steps."""
    from ..files.midi import midi_to_piece  # here, so importing the report loads no MIDI library

    path = result.write_midi(Path(folder) / "check.mid")
    back = midi_to_piece(path)
    meter = back.meter_at(back.pickup)
    whole = len(back.bars) - 1
    regular = bool(meter) and all(b - a == bar_steps(meter) for a, b in zip(back.bars, back.bars[1:]))
    inside = max((n.end for n in back.notes), default=0) <= (back.bars[-1] if back.bars else 0)
    return {
        "meter": f"{meter[0]}/{meter[1]}" if meter else "",
        "bars": whole,
        "exact": whole == result.bars_requested and regular and inside and result.complete,
        "natural": bool(result.ended_naturally),
        "pickup": back.pickup,
    }


def form_metrics(results_by_genre: dict[str, list[GeneratedPiece]]) -> dict[str, dict]:
    """Per genre: pieces, share with exactly the asked bars, share ending by themselves, the metres
    written (most common first) and the share with a pickup."""
    table = {}
    with tempfile.TemporaryDirectory(prefix="musicgen-form-") as folder:
        for genre, results in results_by_genre.items():
            checks = [piece_form_check(result, Path(folder)) for result in results]
            if not checks:
                continue
            n = len(checks)
            meters = Counter(c["meter"] for c in checks)
            table[genre] = {
                "pieces": n,
                "exact_bars": round(sum(c["exact"] for c in checks) / n, 3),
                "ended_naturally": round(sum(c["natural"] for c in checks) / n, 3),
                "exact_and_natural": round(sum(c["exact"] and c["natural"] for c in checks) / n, 3),
                "meters": dict(meters.most_common()),
                "pickup": round(sum(c["pickup"] > 0 for c in checks) / n, 3),
            }
    return table


def form_table_text(table: dict[str, dict]) -> str:
    """The table as aligned text lines."""
    lines = [
        f"{'genre':<12} {'pieces':>6} {'exact bars':>10} {'ends itself':>11} {'both':>6} {'pickup':>6}  metre written"
    ]
    for genre, row in table.items():
        meters = ", ".join(f"{m} x{c}" for m, c in row["meters"].items())
        lines.append(
            f"{genre:<12} {row['pieces']:>6} {row['exact_bars']:>10.0%} {row['ended_naturally']:>11.0%} "
            f"{row['exact_and_natural']:>6.0%} {row['pickup']:>6.0%}  {meters}"
        )
    return "\n".join(lines)
