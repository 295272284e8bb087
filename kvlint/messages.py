"""Finding messages a person can read: the verdict on a first line of at most
:data:`FIRST_LINE_LIMIT` characters, details on the following lines."""

from __future__ import annotations

FIRST_LINE_LIMIT = 300

#: Where a long line may be broken, best first: after a clause, a sentence, a colon.
_BREAKS = ("; ", ". ", ": ", ", ")


def _top_level_breaks(line: str, sep: str, limit: int) -> list[int]:
    """Offsets of ``sep`` in ``line`` before ``limit`` that are outside brackets."""
    depth, out = 0, []
    for i, ch in enumerate(line[:limit]):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0 and line.startswith(sep, i):
            out.append(i)
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
