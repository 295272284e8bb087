"""``messages``: where a long first line is broken is the same as a character-by-character
scan outside brackets finds (the fast search is compared with it on generated lines)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kvlint.messages import _BREAKS, _top_level_breaks, fit_first_line


def _straightforward(line: str, sep: str, limit: int) -> list[int]:
    depth, out = 0, []
    for i, ch in enumerate(line[:limit]):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0 and line.startswith(sep, i):
            out.append(i)
    return out


_PIECES = st.sampled_from(["; ", ". ", ": ", ", ", ";", ".", ":", ",", " ", "(", ")", "[", "]", "{", "}", "ab", "x"])


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECES, max_size=80).map("".join), st.integers(min_value=0, max_value=120))
def test_breaks_are_those_of_a_character_scan(line: str, limit: int) -> None:
    for sep in _BREAKS:
        assert _top_level_breaks(line, sep, limit) == _straightforward(line, sep, limit)


def test_a_separator_may_start_just_before_the_limit() -> None:
    line = "a" * 9 + "; rest"
    assert _top_level_breaks(line, "; ", 10) == [9] == _straightforward(line, "; ", 10)
    assert _top_level_breaks("(a; b) c; d ]; e", "; ", 40) == [8, 13]
    assert fit_first_line("x" * 20 + " (a; b); " + "y" * 30, 40) == "x" * 20 + " (a; b);\n" + "y" * 30
