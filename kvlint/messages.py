"""Finding messages a person can read: the verdict on a first line of at most
:data:`FIRST_LINE_LIMIT` characters, details on the following lines."""

from __future__ import annotations

import re

FIRST_LINE_LIMIT = 300

#: Where a long line may be broken, best first: after a clause, a sentence, a colon.
_BREAKS = ("; ", ". ", ": ", ", ")


_BRACKETS = re.compile(r"[(\[{)\]}]")


def _top_level_breaks(line: str, sep: str, limit: int) -> list[int]:
    """Offsets of ``sep`` in ``line`` before ``limit`` that are outside brackets (a closing
    bracket without an opening one is ignored). Every finding's message passes here: the
    separator and the brackets are found with ``str.find`` and a regular expression, not
    character by character."""
    out: list[int] = []
    end = limit + len(sep) - 1  # (a separator may start just before the limit)
    i = line.find(sep, 0, end)
    if i < 0:
        return out
    # The depth after each bracket before the limit, by offset.
    changes: list[tuple[int, int]] = []
    depth = 0
    for m in _BRACKETS.finditer(line, 0, limit):
        depth = depth + 1 if m.group() in "([{" else max(0, depth - 1)
        changes.append((m.start(), depth))
    k, current = 0, 0
    while i >= 0:
        while k < len(changes) and changes[k][0] < i:
            current = changes[k][1]
            k += 1
        if current == 0:
            out.append(i)
        i = line.find(sep, i + 1, end)
    return out


def fit_first_line(message: str, limit: int = FIRST_LINE_LIMIT) -> str:
    """``message`` with a first line of at most ``limit`` characters: a longer first line is
    broken after its last clause outside brackets (``; ``, ``. ``, ``: ``, ``, ``) that fits,
    and the rest moves to the next line. A message that already fits is returned as it is."""
    first, nl, rest = message.partition("\n")
    if len(first) <= limit:
        return message
    tail_rest = nl + rest if nl else ""
    for sep in _BREAKS:
        cuts = [c for c in _top_level_breaks(first, sep, limit) if c > limit // 3]
        if cuts:
            cut = cuts[-1]
            return first[: cut + len(sep)].rstrip() + "\n" + first[cut + len(sep) :] + tail_rest
    cut = first.rfind(" ", 0, limit)
    if cut <= 0:
        return message
    return first[:cut] + "\n" + first[cut + 1 :] + tail_rest
