"""Choose each genre's sampling defaults (style strength, top-p) from a measured sweep, and
write them into a model card.

    python benchmarks/levers/notated_sweep.py 100 'SETTINGS_JSON_LIST' GENRES > sweep.txt
    python benchmarks/levers/sampling_defaults.py sweep.txt [more.txt ...] [--card models/musicgen-default.json]

The rule, per genre: among the swept settings whose critic recall is at least 0.9x the critic's
recall of real test pieces (the report's ceiling, ``--report``), take the one real-vs-generated
(as notated) tells apart least; keep the global default (style strength 0.5, top-p 0.95) unless
that one is at least ``MARGIN`` lower (about the spread between seed sets of 100 pieces). Ties go
to the higher recall. The sweep's seeds (1000..) are not the report's (0..799), so the report
checks the choice on other pieces. Prints the choice per genre; ``--card`` writes it into the
card's genres (``Genre.style_strength`` / ``top_p``), atomically.
"""

from __future__ import annotations

import argparse
import json
import re

from musicgen.files.writing import atomic_write_json
from musicgen.limits import DEFAULT_STYLE_STRENGTH, DEFAULT_TOP_P

MARGIN = 0.05  # real-vs-generated accuracy a setting must gain over the default to replace it
RECALL_SHARE = 0.9  # of the critic's recall of real pieces
LINE = re.compile(r"^(\S+)\s+(\{.*?\})\s+real-vs-generated ([0-9.]+) recall ([0-9.]+)\s*$")


def read_sweeps(paths: list[str]) -> dict[str, list[tuple[float, float, float, float]]]:
    """Per genre: (style strength, top-p, real-vs-generated, recall) of every swept setting."""
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                match = LINE.match(line)
                if not match:
                    continue
                setting = json.loads(match.group(2))
                strength = float(setting.get("style_strength", DEFAULT_STYLE_STRENGTH))
                top_p = float(setting.get("top_p", DEFAULT_TOP_P))
                rows.setdefault(match.group(1), []).append(
                    (strength, top_p, float(match.group(3)), float(match.group(4)))
                )
    return rows


def choose(rows: list[tuple[float, float, float, float]], ceiling: float) -> tuple[float, float, float, float]:
    """The rule of the module docstring, for one genre's rows."""
    default = next((r for r in rows if r[:2] == (DEFAULT_STYLE_STRENGTH, DEFAULT_TOP_P)), None)
    if default is None:
        raise SystemExit("the sweep must include the default setting (style strength 0.5, top-p 0.95)")
    eligible = [r for r in rows if r[3] >= RECALL_SHARE * ceiling - 1e-9]
    if not eligible:
        return default
    best = min(eligible, key=lambda r: (r[2], -r[3]))
    return best if best[2] <= default[2] - MARGIN else default


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="+", help="notated_sweep.py outputs")
    parser.add_argument(
        "--report", default="docs/report/metrics.json", help="report whose real-piece recall is the ceiling"
    )
    parser.add_argument("--card", help="model card to write the chosen defaults into")
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as handle:
        ceilings = json.load(handle)["critic"]["real_confusion"]["recall"]
    chosen = {}
    print("| genre | default: real vs generated (recall) | chosen setting | real vs generated (recall) |")
    print("|---|---:|---|---:|")
    for genre, rows in read_sweeps(args.sweeps).items():
        default = next(r for r in rows if r[:2] == (DEFAULT_STYLE_STRENGTH, DEFAULT_TOP_P))
        best = choose(rows, ceilings[genre])
        chosen[genre] = best[:2]
        print(
            f"| {genre} | {default[2]:.2f} ({default[3]:.2f}) | style strength {best[0]:g}, top-p {best[1]:g} "
            f"| {best[2]:.2f} ({best[3]:.2f}) |"
        )
    if args.card:
        with open(args.card, encoding="utf-8") as handle:
            card = json.load(handle)
        for genre in card["genres"]:
            if genre["key"] in chosen:
                genre["style_strength"], genre["top_p"] = chosen[genre["key"]]
        card["sampling_defaults"] = {
            "chosen_by": "benchmarks/levers/sampling_defaults.py",
            "sweeps": args.sweeps,
            "rule": f"lowest real-vs-generated (as notated) with critic recall >= {RECALL_SHARE}x the real "
            f"pieces'; the default (style strength {DEFAULT_STYLE_STRENGTH}, top-p {DEFAULT_TOP_P}) unless "
            f"beaten by {MARGIN} or more",
        }
        atomic_write_json(args.card, card)
        print(f"wrote the sampling defaults of {len(chosen)} genres into {args.card}")


if __name__ == "__main__":
    main()
