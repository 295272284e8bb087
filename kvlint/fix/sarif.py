"""SARIF fixes: the single replacement each finding's fix makes in its file.

They are worked out where the finding is made, from the text the linter read (see
``facts``); ``attach_fixes`` does it afterwards for a result whose findings have none,
reading the files again (and leaving out a file that changed since it was linted).
(``facts.attach_fixes`` does it for a finished result.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from kvlint.fix.edits import UNSAFE, Fixer, Refused, _node_path, fixable
from kvlint.fix.splice import FileFixer, Hunk, Item, _read, _unique_edits, apply_hunks
from kvlint.fix.textedit import NO_FIX, TEXT_FIXERS, TextFix, text_fix
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
    text_path: bool = True,
) -> int:
    """Work out the SARIF fix of each finding of one file (``text``: what was linted);
    returns how many got one."""
    ff = fixer
    by_doc: dict[int, list[Item]] = {}
    count = 0
    for f, fx in pairs:
        f.data[DONE] = True
        if fx.safety == UNSAFE and not unsafe:
            continue
        if fx.applies is not None and not fx.applies(f):
            continue
        if ff is None:
            ff = FileFixer(display, text)
        node = _node_path(f)
        # (Items of a List: one rendering for all of them, ``together``; a text fix per item
        # would read the whole List back once per item.)
        if text_path and f.rule in TEXT_FIXERS and node is not None and _base(node[1]) == ():
            done = text_fix(ff, f)
            if done is not None:
                if done[0] is not NO_FIX:
                    count += int(_record_text(f, fx, display, text, *done))
                continue
        edits = ff.edits_for(f, fx)
        if edits and node is not None:
            by_doc.setdefault(node[0], []).append(Item(f, fx, edits))
    for index, items in by_doc.items():
        assert ff is not None
        alone = together(ff, index, items) if len(items) > 1 else items
        count += len(items) - len(alone)
        for it in alone:
            outcome = ff.apply([it])
            if outcome.applied and _record(it, display, text, outcome.new_text):
                count += 1
    return count


def _record(it: Item, display: str, text: str, new_text: str) -> bool:
    description = "; ".join(e.description for e in it.edits)
    return _write(it.finding, it.fixer, display, text, new_text, description)


def _record_text(f: Finding, fx: Fixer, display: str, text: str, fix: TextFix, new_text: str) -> bool:
    return _write(f, fx, display, text, new_text, fix.description)


def _write(f: Finding, fx: Fixer, display: str, text: str, new_text: str, description: str) -> bool:
    region = replacement(text, new_text)
    if region is None:
        return False
    sl, sc, el, ec, inserted = region
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
    return True


def _base(path: tuple[Any, ...]) -> tuple[Any, ...]:
    """The path of the object a node lies in: an item of a List, else the document."""
    return tuple(path[:2]) if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int) else ()


def together(ff: FileFixer, index: int, items: list[Item]) -> list[Item]:
    """The fixes of several objects of one document (the items of a List) from one
    rendering of the document: each finding gets the line hunks that fall in its object.
    One rendering per finding would cost the document's size per finding (a List of n
    objects: n times n). Returns the items left to do one by one (all of them, unless each
    is on its own object and the rendering of all of them merged hunk by hunk)."""
    bases = [_base(_node_path(it.finding)[1]) for it in items]  # type: ignore[index]
    doc = ff.docs.get(index)
    if doc is None or () in bases or len(set(bases)) != len(bases):
        return items
    spans: list[tuple[int, int]] = []
    for b in bases:
        pos = doc.exact(b)
        if pos is None:
            return items
        _, _, line, _, end_line, end_col = pos
        spans.append((line - 1, end_line - 1 if end_col <= 1 else end_line))
    edits, _, covered = _unique_edits(items)
    if covered or len(edits) != sum(len(it.edits) for it in items):
        return items
    try:
        ff.render(index, edits)
    except Refused:
        return items
    hunks = ff.last_hunks
    if not hunks:
        return items
    mine: list[list[Hunk]] = [[] for _ in items]
    for h in hunks:
        start, end, _ = h
        owners = [
            k for k, (lo, hi) in enumerate(spans) if (lo <= start and end <= hi if start < end else lo < start <= hi)
        ]
        if len(owners) != 1:
            return items
        mine[owners[0]].append(h)
    if not all(mine):
        return items
    text = ff.text
    for it, own in zip(items, mine, strict=True):
        lines = apply_hunks(ff.lines, own, ff.nl)
        if lines is None:
            return items
        _record(it, ff.display, text, "".join(lines))
    return []


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
