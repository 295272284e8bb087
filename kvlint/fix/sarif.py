"""SARIF fixes: the single replacement each finding's fix makes in its file.

They are worked out where the finding is made, from the text the linter read (see
``facts``); ``attach_fixes`` does it afterwards for a result whose findings have none,
reading the files again (and leaving out a file that changed since it was linted).
(``facts.attach_fixes`` does it for a finished result.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kvlint.fix.edits import UNSAFE, Fixer, Refused, fixable
from kvlint.fix.splice import FileFixer, Item, _read
from kvlint.models import Finding

#: ``finding.data`` key: the SARIF fix of this finding was worked out (whether or not there is one).
DONE = "sarif_fix_done"


def _offset_to_pos(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def _common_prefix(a: str, b: str, limit: int) -> int:
    """Length of the common prefix of ``a`` and ``b`` (at most ``limit``): compares whole
    slices (in C), halving the step, instead of one character at a time."""
    lo, step = 0, 1
    while lo + step <= limit and a[lo : lo + step] == b[lo : lo + step]:
        lo += step
        step *= 2
    while step > 1:
        step //= 2
        if lo + step <= limit and a[lo : lo + step] == b[lo : lo + step]:
            lo += step
    return lo


def replacement(old: str, new: str) -> tuple[int, int, int, int, str] | None:
    """The one region of ``old`` that ``new`` replaces, as (start line, start column, end
    line, end column, inserted text): 1-based, columns in code points, end exclusive."""
    if old == new:
        return None
    n = min(len(old), len(new))
    p = _common_prefix(old, new, n)
    s = _common_prefix(old[p:][::-1], new[p:][::-1], n - p)
    sl, sc = _offset_to_pos(old, p)
    el, ec = _offset_to_pos(old, len(old) - s)
    return sl, sc, el, ec, new[p : len(new) - s]


def attach(
    display: str,
    text: str,
    pairs: Iterable[tuple[Finding, Fixer]],
    unsafe: bool = True,
    fixer: FileFixer | None = None,
) -> int:
    """Work out the SARIF fix of each finding of one file (``text``: what was linted);
    returns how many got one."""
    count = 0
    ff = fixer
    for f, fx in pairs:
        f.data[DONE] = True
        if fx.safety == UNSAFE and not unsafe:
            continue
        if fx.applies is not None and not fx.applies(f):
            continue
        if ff is None:
            ff = FileFixer(display, text)
        edits = ff.edits_for(f, fx)
        if not edits:
            continue
        outcome = ff.apply([Item(f, fx, edits)])
        if not outcome.applied:
            continue
        region = replacement(text, outcome.new_text)
        if region is None:
            continue
        sl, sc, el, ec, inserted = region
        description = "; ".join(e.description for e in edits)
        if fx.safety == UNSAFE:
            description = "unsafe fix (changes behaviour): " + description
        f.data["fixes"] = [
            {
                "file": display,
                "start_line": sl,
                "start_column": sc,
                "end_line": el,
                "end_column": ec,
                "text": inserted,
                "description": description,
            }
        ]
        count += 1
    return count


def fixable_pairs(findings: Iterable[Finding], skip_done: bool = True) -> dict[str, list[tuple[Finding, Fixer]]]:
    """The findings that may have a fix, by file."""
    by_file: dict[str, list[tuple[Finding, Fixer]]] = {}
    for f in findings:
        fx = fixable(f)
        if fx is None or f.object is None or f.location.file.startswith("<"):
            continue
        if skip_done and f.data.get(DONE):
            continue
        by_file.setdefault(f.location.file, []).append((f, fx))
    return by_file


def attach_from_files(
    findings: Iterable[Finding],
    stamps: dict[str, str],
    unsafe: bool = True,
    read: Callable[[str], str] | None = None,
) -> int:
    """``attach`` for the findings that have no SARIF fix worked out yet, reading their
    files again; a file whose text is not the one linted (``stamps``, when known) is left
    out."""
    from kvlint.reader import text_stamp

    count = 0
    for display, pairs in sorted(fixable_pairs(findings).items()):
        try:
            text = read(display) if read is not None else _read(display)[1]
        except (OSError, Refused):
            continue
        if display in stamps and stamps[display] != text_stamp(text):
            continue
        count += attach(display, text, pairs, unsafe)
    return count


def drop_suppressed(findings: Iterable[Finding]) -> None:
    """Suppressed findings get no fix (they are not fixed either)."""
    for f in findings:
        if f.suppressed is not None:
            f.data.pop("fixes", None)
