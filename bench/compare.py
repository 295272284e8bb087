#!/usr/bin/env python3
"""Side-by-side table of two bench/run.py --json results (e.g. before and after a change).

    python bench/compare.py BEFORE.json AFTER.json

For every shape and size in both: kvlint's ratio to the floor measured in the same run
(median wall times, and for --jobs 1 also the ratio of CPU times, steadier on a busy
machine), peak memory, and the growth from the smallest to the largest size. Standard
library only.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _cmd(tree: dict[str, Any], key: str) -> dict[str, Any] | None:
    c = tree["commands"].get(key)
    return c if c and c.get("wall_median_s") else None


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None, field: str = "wall_median_s") -> float | None:
    if a is None or b is None or not b.get(field):
        return None
    return float(a[field]) / float(b[field])


def _fmt(v: float | None, unit: str = "x") -> str:
    if v is None:
        return "n/a"
    return f"{v:.2f}{unit}" if unit == "x" else f"{v:.0f} {unit}"


def _peak(c: dict[str, Any] | None) -> float | None:
    return None if c is None else max(c["maxrss_mb"], c["tree_rss_peak_mb"])


def _label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def rows(result: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for key, tree in result["trees"].items():
        shape, _, size = key.rpartition("/")
        shape = tree.get("shape", shape or "bench")
        out[shape, int(tree.get("size", size))] = tree
    return out


def table(before: dict[str, Any], after: dict[str, Any]) -> str:
    rb, ra = rows(before), rows(after)
    keys = [k for k in ra if k in rb]
    sizes = sorted({n for _, n in keys})
    lo, hi = (sizes[0], sizes[-1]) if sizes else (0, 0)
    head = (
        "| shape | size | --jobs 1 / floor (wall; CPU) before → after | default / floor before → after "
        "| peak RSS --jobs 1 before → after | peak RSS default before → after |"
    )
    if len(sizes) > 1:
        head += f" growth {_label(lo)}→{_label(hi)} --jobs 1 before → after |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for shape, n in keys:
        cells = [shape, _label(n)]
        for key in ("kvlint-jobs1", "kvlint"):
            parts = []
            for res in (rb, ra):
                t = res[shape, n]
                fl, m = _cmd(t, "floor"), _cmd(t, key)
                text = _fmt(_ratio(m, fl))
                if key == "kvlint-jobs1":
                    text += f"; {_fmt(_ratio(m, fl, 'cpu_median_s'))}"
                parts.append(text)
            cells.append(" → ".join(parts))
        for key in ("kvlint-jobs1", "kvlint"):
            cells.append(" → ".join(_fmt(_peak(_cmd(res[shape, n], key)), "MB") for res in (rb, ra)))
        if len(sizes) > 1:
            if n == hi and (shape, lo) in rb and (shape, lo) in ra:
                cells.append(
                    " → ".join(
                        _fmt(_ratio(_cmd(res[shape, hi], "kvlint-jobs1"), _cmd(res[shape, lo], "kvlint-jobs1")))
                        for res in (rb, ra)
                    )
                )
            else:
                cells.append("")
        lines.append("| " + " | ".join(cells) + " |")
    if (
        ("policies-200", hi) in ra
        and ("policies-4", hi) in ra
        and ("policies-200", hi) in rb
        and ("policies-4", hi) in rb
    ):
        parts = []
        for res in (rb, ra):
            a, b = _cmd(res["policies-200", hi], "kvlint-jobs1"), _cmd(res["policies-4", hi], "kvlint-jobs1")
            parts.append(f"{_fmt(_ratio(a, b))} (CPU {_fmt(_ratio(a, b, 'cpu_median_s'))})")
        lines.append("")
        lines.append(f"200 / 4 policies at {_label(hi)}, --jobs 1: " + " → ".join(parts))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as a, open(argv[1], encoding="utf-8") as b:
        print(table(json.load(a), json.load(b)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
