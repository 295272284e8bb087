"""Planning ``kvlint fix``: which findings get which edits, file by file (nothing is
written here)."""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kvlint.fix.edits import UNSAFE, Edit, Expectation, Fixer, Refused, _node_path, fixable
from kvlint.fix.splice import FileFixer, Item, Outcome, _read, _same
from kvlint.fix.textedit import NO_FIX, TEXT_FIXERS, TextFix, text_fix
from kvlint.models import Finding
from kvlint.parse import Document, Path

if TYPE_CHECKING:
    from kvlint.engine import Result

# --------------------------------------------------------------------------- planning


@dataclass
class FilePlan:
    display: str
    real: str
    text: str
    new_text: str
    data: bytes
    #: Text encoding prefix kept on write (a UTF-8 byte order mark).
    bom: bytes
    stamp: tuple[int, int, str]
    applied: list[Item]
    refused: list[tuple[Item, str]]
    reemitted: int
    touched: dict[int, list[Path]]

    @property
    def changed(self) -> bool:
        return self.new_text != self.text

    def new_bytes(self) -> bytes:
        return self.bom + self.new_text.encode("utf-8")


@dataclass
class Plan:
    files: list[FilePlan] = field(default_factory=list)
    #: Findings with a fix (of the selected safety) that were applied.
    fixed: list[Finding] = field(default_factory=list)
    #: Findings whose fix exists but was not applied (with why).
    refused: list[tuple[Finding, str]] = field(default_factory=list)
    #: Findings with an unsafe fix that was not requested (--unsafe-fixes).
    unsafe_available: list[Finding] = field(default_factory=list)
    #: Unsuppressed findings that remain after the fixes.
    remaining: list[Finding] = field(default_factory=list)
    #: Files that could not be read or fixed (message per file).
    errors: list[str] = field(default_factory=list)


def _linted_docs(result: Result) -> dict[tuple[str, int], Document]:
    out: dict[tuple[str, int], Document] = {}
    if result.inventory is None:
        return out
    for obj in result.inventory.objects:
        if not obj.context_only:
            out[(obj.doc.path, obj.doc.index)] = obj.doc
    return out


def stamp(path: str, data: bytes) -> tuple[int, int, str]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest()


def plan(
    result: Result,
    unsafe: bool = False,
    sources: dict[str, str] | None = None,
) -> Plan:
    """Work out the fixes for a lint result (nothing is written). ``sources`` maps the file
    names findings use to the paths to read (default: the same)."""
    out = Plan()
    by_file: dict[str, list[tuple[Finding, Fixer]]] = {}
    for f in result.findings:
        fx = fixable(f)
        if fx is None or f.location.file.startswith("<") or f.object is None:
            if f.suppressed is None:
                out.remaining.append(f)
            continue
        by_file.setdefault(f.location.file, []).append((f, fx))
    from kvlint.fix.facts import prepare_held
    from kvlint.reader import text_stamp

    # Facts not recorded while the checks ran (a result that keeps its objects in full).
    prepare_held(result.findings, result.context)
    stamps = result.stamps
    linted = {} if stamps else _linted_docs(result)
    for display in sorted(by_file):
        pairs = by_file[display]
        real = (sources or {}).get(display, display)
        try:
            data, text, bom = _read(real)
            st = stamp(real, data)
        except (OSError, Refused) as e:
            msg = e.strerror if isinstance(e, OSError) else str(e)
            out.errors.append(f"{display}: cannot fix: {msg}")
            out.remaining.extend(f for f, _ in pairs)
            continue
        ff = FileFixer(display, text)
        if ff.error is not None:
            out.errors.append(ff.error)
            out.remaining.extend(f for f, _ in pairs)
            continue
        items: list[Item] = []
        texts: dict[int, str] = {}
        unchanged = stamps.get(display) == text_stamp(text) if stamps else True
        for f, fx in pairs:
            node = _node_path(f)
            doc = ff.docs.get(node[0]) if node is not None else None
            if not stamps:
                seen = linted.get((display, node[0])) if node is not None else None
                unchanged = doc is not None and seen is not None and _same(doc.data, seen.data)
            if doc is None or not unchanged:
                out.refused.append((f, "the file changed since it was linted"))
                out.remaining.append(f)
                continue
            if fx.safety == UNSAFE and not unsafe and f.rule in TEXT_FIXERS:
                # Only counted: the text-level fix tells whether there is one, without a
                # round trip (which stays the answer when the text path cannot tell).
                if fx.applies is not None and not fx.applies(f):
                    out.remaining.append(f)
                    continue
                found = text_fix(ff, f)
                if found is not None:
                    if found[0] is not NO_FIX:
                        out.unsafe_available.append(f)
                    out.remaining.append(f)
                    continue
            if f.rule in TEXT_FIXERS and not (fx.applies is not None and not fx.applies(f)):
                found = text_fix(ff, f)
                if found is not None and found[0] is not NO_FIX and (fx.safety != UNSAFE or unsafe):
                    items.append(Item(f, fx, [_text_edit(f, found[0])]))
                    texts[id(items[-1])] = found[1]
                    continue
            edits = ff.edits_for(f, fx)
            if not edits:
                out.remaining.append(f)
                continue
            if fx.safety == UNSAFE and not unsafe:
                out.unsafe_available.append(f)
                out.remaining.append(f)
                continue
            items.append(Item(f, fx, edits))
        if not items:
            continue
        if len(items) == 1 and id(items[0]) in texts:
            # One fix in the file, done at the text level (verified as the round trip's).
            it = items[0]
            node = _node_path(it.finding)
            assert node is not None
            outcome = Outcome(texts[id(it)], [it], [], 0, {node[0]: list(it.edits[0].touched)})
        else:
            for k, it in enumerate(items):
                if id(it) in texts:  # several fixes in the file: the round trip does them together
                    items[k] = Item(it.finding, it.fixer, ff.edits_for(it.finding, it.fixer) or [])
            items = [it for it in items if it.edits]
            if not items:
                continue
            outcome = ff.apply(items)
        for it, why in outcome.refused:
            out.refused.append((it.finding, why))
        done = {id(it) for it in outcome.applied}
        for it in items:
            if id(it) in done:
                out.fixed.append(it.finding)
            else:
                out.remaining.append(it.finding)
        if outcome.new_text != text:
            out.files.append(
                FilePlan(
                    display,
                    real,
                    text,
                    outcome.new_text,
                    data,
                    bom,
                    st,
                    outcome.applied,
                    outcome.refused,
                    outcome.reemitted,
                    outcome.touched,
                )
            )
    # A finding refused for one reason may be listed once per edit: keep the first reason.
    seen_ids: set[int] = set()
    refused = []
    for f, why in out.refused:
        if id(f) not in seen_ids and f not in out.fixed:
            seen_ids.add(id(f))
            refused.append((f, why))
    out.refused = refused
    out.remaining.sort(key=Finding.sort_key)
    return out


def _text_edit(f: Finding, fix: TextFix) -> Edit:
    """The edit a text-level fix stands for (its description and touched paths; it is not
    applied to a round-trip document)."""

    def apply(d: object, orig: object) -> list[Expectation]:
        raise Refused("a text-level fix")

    node = _node_path(f)
    return Edit(("text", f.rule, node), fix.description, fix.touched, apply)


def unified_diff(fp: FilePlan) -> str:
    a = fp.text.splitlines(keepends=True)
    b = fp.new_text.splitlines(keepends=True)
    lines = []
    for line in difflib.unified_diff(a, b, f"a/{fp.display}", f"b/{fp.display}"):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)
