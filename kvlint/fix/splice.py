"""Rewriting one file: its documents cut at their boundaries, the edits applied to a
round-trip copy of each document concerned, merged back into the original lines and
verified by reading the result again (see the package documentation)."""

from __future__ import annotations

import copy
import difflib
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kvlint import catalog
from kvlint.fix.edits import (
    MISSING,
    Edit,
    Expectation,
    Fixer,
    Original,
    Refused,
    _get,
    _node_path,
    _path_text,
)
from kvlint.models import Finding
from kvlint.parse import ParsedFile, Path, parse_text

# --------------------------------------------------------------------------- YAML plumbing


def _make_yaml(indent: tuple[int, int, int]) -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 1 << 30
    mapping, sequence, offset = indent
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    return y


def _dump(y: Any, doc: Any) -> str:
    out = io.StringIO()
    y.dump(doc, out)
    return out.getvalue()


def detect_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) most used in ``text``, in ruamel's terms;
    kubectl's style (2, 2, 0) when nothing tells."""
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except yaml.YAMLError:
        return 2, 2, 0
    maps: Counter[int] = Counter()
    offsets: Counter[int] = Counter()
    after_dash: Counter[int] = Counter()
    stack = [root] if root is not None else []
    budget = 20000
    while stack and budget > 0:
        budget -= 1
        n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            if n.flow_style:
                continue
            for k, v in n.value:
                kl, kc = k.start_mark.line, k.start_mark.column
                if isinstance(v, yaml.MappingNode) and not v.flow_style and v.value:
                    first = v.value[0][0].start_mark
                    if first.line > kl and first.column > kc:
                        maps[first.column - kc] += 1
                elif isinstance(v, yaml.SequenceNode) and not v.flow_style and v.value:
                    dash = v.start_mark
                    if dash.line > kl and dash.column >= kc:
                        offsets[dash.column - kc] += 1
                        item = v.value[0].start_mark
                        if item.line == dash.line and item.column > dash.column:
                            after_dash[item.column - dash.column] += 1
                stack.append(v)
        elif isinstance(n, yaml.SequenceNode) and not n.flow_style:
            stack.extend(n.value)
    mapping = maps.most_common(1)[0][0] if maps else 2
    offset = offsets.most_common(1)[0][0] if offsets else 0
    dash_gap = after_dash.most_common(1)[0][0] if after_dash else 2
    dash_gap = max(dash_gap, 2)
    return mapping, offset + dash_gap, offset


@dataclass
class Chunk:
    """The lines of one document: ``head`` (up to its ``---`` line), ``body``, ``tail``
    (its ``...`` line and what follows on the way to the next document)."""

    start: int
    body_start: int
    body_end: int
    end: int


_BARE_MARKER = re.compile(r"^---[ \t]*(#.*)?$")
_BARE_END = re.compile(r"^\.\.\.[ \t]*(#.*)?$")


def split_documents(text: str, lines: Sequence[str]) -> list[Chunk] | None:
    """Line ranges of the documents of ``text`` (0-based, end exclusive), from the parser's
    document start and end marks; None when they do not fall on line boundaries."""
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    starts: list[tuple[int, int, bool]] = []
    ends: list[tuple[int, int, bool]] = []
    try:
        for ev in yaml.parse(text, Loader=loader):
            if isinstance(ev, yaml.DocumentStartEvent):
                mark: Any = ev.start_mark
                starts.append((mark.line, mark.column, bool(ev.explicit)))
            elif isinstance(ev, yaml.DocumentEndEvent):
                mark = ev.end_mark
                ends.append((mark.line, mark.column, bool(ev.explicit)))
    except yaml.YAMLError:
        return None
    if len(starts) != len(ends):
        return None
    n = len(lines)
    bounds = [0]
    for k in range(1, len(starts)):
        end_line, _, end_explicit = ends[k - 1]
        s_line, s_col, s_explicit = starts[k]
        if end_explicit:
            b = -1
            if end_line < n and _BARE_END.match(lines[end_line].rstrip("\r\n")):
                b = end_line + 1
            elif end_line > 0 and _BARE_END.match(lines[end_line - 1].rstrip("\r\n")):
                b = end_line
        elif s_explicit and s_col == 0:
            b = s_line
        else:
            return None
        if b <= bounds[-1] or b > n:
            return None
        bounds.append(b)
    bounds.append(n)
    chunks = []
    for k in range(len(starts)):
        start, end = bounds[k], bounds[k + 1]
        body_start = start
        s_line, s_col, s_explicit = starts[k]
        marker = start <= s_line < end and _BARE_MARKER.match(lines[s_line].rstrip("\r\n"))
        if s_explicit and marker:
            body_start = s_line + 1
        body_end = end
        _, _, e_explicit = ends[k]
        if e_explicit:
            for i in range(end - 1, body_start - 1, -1):
                if _BARE_END.match(lines[i].rstrip("\r\n")):
                    body_end = i
                    break
        chunks.append(Chunk(start, body_start, body_end, end))
    return chunks


def _comment_lines(text: str) -> Counter[str]:
    return Counter(s for s in (line.strip() for line in text.splitlines()) if s.startswith("#"))


def _strip(data: Any, paths: Iterable[Path]) -> Any:
    out = copy.deepcopy(data)
    for path in sorted(paths, key=len, reverse=True):
        if not path:
            return None
        parent = _get(out, path[:-1])
        last = path[-1]
        if isinstance(parent, dict) and not isinstance(last, int):
            parent.pop(last, None)
        elif isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
            parent[last] = MISSING
    return out


def _same(a: Any, b: Any) -> bool:
    """Data equality that tells booleans from numbers (``true`` is not ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return False
    return bool(a == b)


def equal_except(before: Any, after: Any, touched: Iterable[Path]) -> bool:
    """The two documents hold the same data once the ``touched`` subtrees are removed."""
    paths = list(touched)
    return _same(_strip(before, paths), _strip(after, paths))


Hunk = tuple[int, int, list[str]]


def _three_way(orig_lines: list[str], a: str, b: str, nl: str) -> list[str] | None:
    """``orig_lines`` with the hunks of ``_hunks`` applied; None when there are none."""
    hunks = _hunks(orig_lines, a, b, nl)
    return None if hunks is None else apply_hunks(orig_lines, hunks, nl)


def apply_hunks(orig_lines: list[str], hunks: Sequence[Hunk], nl: str) -> list[str] | None:
    """Replace lines [start, end) of ``orig_lines`` by each hunk's lines; None when two
    hunks overlap."""
    out = list(orig_lines)
    last_end = len(out) + 1
    for start, end, new in sorted(hunks, key=lambda h: (h[0], h[1]), reverse=True):
        if end > last_end:
            return None
        if start == len(out) and out and not out[-1].endswith(("\n", "\r")):
            out[-1] += nl
        out[start:end] = new
        last_end = start
    return out


def _hunks(orig_lines: list[str], a: str, b: str, nl: str) -> list[Hunk] | None:
    """Apply the line hunks between ``a`` and ``b`` (two emissions of the same document) to
    ``orig_lines``, through the lines ``a`` shares with the original; None when a hunk lands
    on lines the original writes differently."""
    keys = [line.rstrip("\r\n") for line in orig_lines]
    a_lines = a.splitlines()
    b_lines = b.splitlines()
    amap: dict[int, int] = {}
    blocks = difflib.SequenceMatcher(None, a_lines, keys, autojunk=False).get_matching_blocks()
    prev_a, prev_o = 0, 0
    for blk in blocks:
        # Between two matched runs, a gap of the same length on both sides is the same
        # lines written differently (ruamel normalised spacing): they correspond one to one.
        if blk.a - prev_a == blk.b - prev_o:
            for k in range(blk.a - prev_a):
                amap[prev_a + k] = prev_o + k
        for k in range(blk.size):
            amap[blk.a + k] = blk.b + k
        prev_a, prev_o = blk.a + blk.size, blk.b + blk.size
    hunks: list[Hunk] = []
    ops = difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        new = [line + nl for line in b_lines[j1:j2]]
        if i1 < i2:
            mapped = [amap.get(i) for i in range(i1, i2)]
            first = mapped[0]
            if first is None or any(m != first + k for k, m in enumerate(mapped)):
                return None
            hunks.append((first, first + (i2 - i1), new))
        else:
            if i1 > 0 and (i1 - 1) in amap:
                at = amap[i1 - 1] + 1
            elif i1 < len(a_lines) and i1 in amap:
                at = amap[i1]
            else:
                return None
            hunks.append((at, at, new))
    return hunks


# --------------------------------------------------------------------------- fixing one file


@dataclass
class Item:
    """A finding with the fixer and edits that apply to it."""

    finding: Finding
    fixer: Fixer
    edits: list[Edit]


@dataclass
class Outcome:
    new_text: str
    applied: list[Item]
    refused: list[tuple[Item, str]]
    #: Documents that had to be re-emitted whole (the three-way merge did not apply).
    reemitted: int
    #: Touched paths per document index (for tests and explanations).
    touched: dict[int, list[Path]]


class FileFixer:
    """Applies edits to the documents of one file's text."""

    def __init__(self, display: str, text: str) -> None:
        self.display = display
        self.text = text
        self.lines = text.splitlines(keepends=True)
        # The file's own line break: CRLF, a lone CR (classic Mac OS) or LF.
        first = self.lines[0] if self.lines else "\n"
        self.nl = "\r\n" if first.endswith("\r\n") else "\r" if first.endswith("\r") else "\n"
        self.parsed: ParsedFile = parse_text(display, text)
        self.error: str | None = None
        # Input problems that make a file impossible to fix (``stops_fix: true``: unreadable,
        # templated, nested too deep).
        stops = catalog.ids_with("stops_fix")
        blocking = [p for p in self.parsed.problems if p.rule in stops]
        self.chunks = split_documents(text, self.lines) if not blocking else None
        if blocking:
            self.error = f"{display}: the file has input problems ({blocking[0].rule}); not fixed"
        elif self.chunks is None:
            self.error = f"{self.display}: document boundaries are not on separate lines; not fixed"
        self.docs = {d.index: d for d in self.parsed.documents}
        self._yaml_docs: dict[int, Any] = {}
        self._indent: dict[int, tuple[int, int, int]] = {}
        self._emitted: dict[int, str] = {}
        self._bare: list[str] | None = None
        #: The line hunks of the last ``render`` that merged (file line numbers), else None.
        self.last_hunks: list[Hunk] | None = None

    # -- documents --------------------------------------------------------------------

    def body(self, index: int) -> str:
        assert self.chunks is not None
        c = self.chunks[index]
        return "".join(self.lines[c.body_start : c.body_end])

    def indent(self, index: int) -> tuple[int, int, int]:
        if index not in self._indent:
            self._indent[index] = detect_indent(self.body(index))
        return self._indent[index]

    def load(self, index: int) -> Any:
        """A fresh ruamel document of document ``index``."""
        return _make_yaml(self.indent(index)).load(self.body(index))

    def doc(self, index: int) -> Any:
        """The ruamel document fixers inspect (loaded once, never mutated)."""
        if index not in self._yaml_docs:
            self._yaml_docs[index] = self.load(index)
        return self._yaml_docs[index]

    def original(self, index: int) -> Original:
        if self._bare is None:
            self._bare = [line.rstrip("\r\n") for line in self.lines]
        return Original(self.docs[index], self._bare)

    def emitted(self, index: int) -> str:
        """Document ``index`` loaded and emitted again, unchanged (A of the three-way merge)."""
        if index not in self._emitted:
            self._emitted[index] = _dump(_make_yaml(self.indent(index)), self.doc(index))
        return self._emitted[index]

    # -- edits ------------------------------------------------------------------------

    def edits_for(self, f: Finding, fx: Fixer) -> list[Edit] | None:
        node = _node_path(f)
        if fx.applies is not None and not fx.applies(f):
            return None  # (without loading the document)
        if self.error is not None or node is None or self.chunks is None:
            return None
        index = node[0]
        if index not in self.docs or index >= len(self.chunks):
            return None
        try:
            return fx.fn(f, self.doc(index))
        except Exception:  # noqa: BLE001 - a document ruamel cannot load has no fix
            return None

    def render(self, index: int, edits: Sequence[Edit]) -> tuple[str, bool]:
        """The new text of document ``index``'s chunk with ``edits`` applied, verified;
        (text, re-emitted whole). Raises Refused."""
        assert self.chunks is not None
        c = self.chunks[index]
        y = _make_yaml(self.indent(index))
        body = self.body(index)
        orig = self.original(index)
        try:
            # A is the emission of the inspected document (once per document). B is that
            # document itself the first time (the fixers have inspected it by now; it is
            # loaded again if asked for), afterwards a fresh load (a deep copy of a
            # round-trip document does not keep every comment where it was).
            a = self.emitted(index)
            b_doc = self._yaml_docs.pop(index, None)
            if b_doc is None:
                b_doc = y.load(body)
        except Exception as err:  # noqa: BLE001
            msg = f"ruamel.yaml cannot round-trip the document ({type(err).__name__})"
            raise Refused(msg) from err
        expectations: list[Expectation] = []
        touched: list[Path] = []
        for edit in edits:
            try:
                expectations.extend(edit.apply(b_doc, orig))
            except Refused:
                raise
            except Exception as err:  # noqa: BLE001 - ruamel internals: refuse, never crash
                raise Refused(f"the edit does not apply ({type(err).__name__}: {err})") from err
            touched.extend(edit.touched)
        try:
            b = _dump(y, b_doc)
        except Exception as err:  # noqa: BLE001
            msg = f"ruamel.yaml cannot emit the fixed document ({type(err).__name__})"
            raise Refused(msg) from err
        if a == b:
            raise Refused("the edit changes nothing")
        b_parsed = parse_text(self.display, b)
        if len(b_parsed.documents) != 1 or b_parsed.problems:
            raise Refused("the fixed document does not read back as one document")
        intended = b_parsed.documents[0].data
        head = "".join(self.lines[c.start : c.body_start])
        tail = "".join(self.lines[c.body_end : c.end])
        body_lines = self.lines[c.body_start : c.body_end]
        candidates: list[tuple[str, bool]] = []
        hunks = _hunks(body_lines, a, b, self.nl)
        merged = None if hunks is None else apply_hunks(body_lines, hunks, self.nl)
        if merged is not None:
            candidates.append(("".join(merged), False))
        self.last_hunks = None
        whole = b if self.nl == "\n" else b.replace("\n", self.nl)
        candidates.append((whole, True))
        reasons = []
        for new_body, reemitted in candidates:
            if not body.endswith(("\n", "\r")) and new_body.endswith(("\n", "\r")) and not tail:
                cut = len(self.nl) if new_body.endswith(self.nl) else 1
                new_body = new_body[:-cut]
            why = self._check(orig, body, new_body, intended, touched, expectations)
            if why is None:
                if not reemitted and new_body == "".join(merged or ()):
                    # The hunks, in the file's line numbers (``sarif`` splits them by object).
                    self.last_hunks = [(c.body_start + s, c.body_start + e, new) for s, e, new in hunks or ()]
                return head + new_body + tail, reemitted
            reasons.append(why)
        raise Refused(reasons[-1])

    def _check(
        self,
        orig: Original,
        body: str,
        new_body: str,
        intended: Any,
        touched: list[Path],
        expectations: list[Expectation],
    ) -> str | None:
        parsed = parse_text(self.display, new_body)
        if len(parsed.documents) != 1 or parsed.problems:
            return "the fixed document does not read back as one document"
        data = parsed.documents[0].data
        if not equal_except(orig.data, data, touched):
            return "the round-trip would change the document outside the fix"
        for p in touched:
            if not _same(_get(data, p), _get(intended, p)):
                return f"the fixed text does not hold the fix at {_path_text(p)}"
        for p, want in expectations:
            got = _get(data, p)
            if want is MISSING:
                if got is not MISSING:
                    return f"{_path_text(p)} is still there"
            elif not _same(got, want):
                return f"{_path_text(p)} reads back as {got!r}, not {want!r}"
        lost = _comment_lines(body) - _comment_lines(new_body)
        if lost:
            return f"the round-trip would drop the comment {next(iter(lost))!r}"
        return None

    def apply(self, items: Sequence[Item]) -> Outcome:
        """Apply the items' edits; each document's edits are applied together when they
        verify, else one by one (the ones that verify are kept)."""
        applied: list[Item] = []
        refused: list[tuple[Item, str]] = []
        touched_by_doc: dict[int, list[Path]] = {}
        if self.error is not None or self.chunks is None:
            return Outcome(self.text, [], [(i, self.error or "not fixed") for i in items], 0, {})
        by_doc: dict[int, list[Item]] = {}
        for it in items:
            node = _node_path(it.finding)
            if node is None:
                refused.append((it, "the finding has no node"))
                continue
            by_doc.setdefault(node[0], []).append(it)
        new_chunks: dict[int, str] = {}
        reemitted = 0
        for index in sorted(by_doc):
            doc_items = by_doc[index]
            edits, owners, covered = _unique_edits(doc_items)
            for it, why in covered:
                refused.append((it, why))
            ok_edits: list[Edit] = []
            text: str | None = None
            whole = False
            try:
                text, whole = self.render(index, edits)
                ok_edits = list(edits)
            except Refused:
                for e in edits:
                    try:
                        text2, whole2 = self.render(index, [*ok_edits, e])
                    except Refused as err:
                        for it in owners[e.key]:
                            refused.append((it, str(err)))
                        continue
                    ok_edits.append(e)
                    text, whole = text2, whole2
            if text is None or not ok_edits:
                continue
            new_chunks[index] = text
            reemitted += int(whole)
            done = {e.key for e in ok_edits}
            for e in ok_edits:
                touched_by_doc.setdefault(index, []).extend(e.touched)
            for it in doc_items:
                if all(e.key in done or _covered(e, ok_edits) for e in it.edits):
                    applied.append(it)
        if not new_chunks:
            return Outcome(self.text, applied, refused, reemitted, touched_by_doc)
        assert self.chunks is not None
        parts = []
        for k, c in enumerate(self.chunks):
            parts.append(new_chunks[k] if k in new_chunks else "".join(self.lines[c.start : c.end]))
        new_text = "".join(parts)
        # The spliced file, read as a whole: untouched documents as before, fixed ones as verified.
        check = parse_text(self.display, new_text)
        before = self.docs
        after = {d.index: d for d in check.documents}
        problem = None
        spoils = catalog.ids_with("spoils_fix")
        if sorted(after) != sorted(before) or any(p.rule in spoils for p in check.problems):
            problem = "the spliced file does not read back with the same documents"
        else:
            for idx, d in before.items():
                paths = touched_by_doc.get(idx, [])
                if not equal_except(d.data, after[idx].data, paths):
                    problem = f"document {idx + 1} of the spliced file differs outside the fix"
                    break
        if problem is not None:
            for it in applied:
                refused.append((it, problem))
            return Outcome(self.text, [], refused, 0, {})
        return Outcome(new_text, applied, refused, reemitted, touched_by_doc)


def _covered(e: Edit, accepted: Sequence[Edit]) -> bool:
    return any(_under_any(e.touched, a.touched) for a in accepted)


def _under(path: Path, prefix: Path) -> bool:
    return path[: len(prefix)] == prefix


def _under_any(paths: Iterable[Path], prefixes: Iterable[Path]) -> bool:
    pre = list(prefixes)
    return all(any(_under(p, q) for q in pre) for p in paths)


def _unique_edits(
    items: Sequence[Item],
) -> tuple[list[Edit], dict[tuple[Any, ...], list[Item]], list[tuple[Item, str]]]:
    """One edit per key; an edit inside the subtree of a broader one is left out (the broader
    edit rewrites that subtree; e.g. quoting a selector value inside a rewritten selector)."""
    by_key: dict[tuple[Any, ...], Edit] = {}
    owners: dict[tuple[Any, ...], list[Item]] = {}
    for it in items:
        for e in it.edits:
            by_key.setdefault(e.key, e)
            owners.setdefault(e.key, []).append(it)
    ordered = sorted(by_key.values(), key=lambda e: min((len(p) for p in e.touched), default=0))
    kept: list[Edit] = []
    covered: list[tuple[Item, str]] = []
    for e in ordered:
        if any(_under_any(e.touched, k.touched) for k in kept):
            continue
        if any(_under(p, q) or _under(q, p) for k in kept for p in e.touched for q in k.touched):
            for it in owners[e.key]:
                covered.append((it, "overlaps another fix in the same place; run kvlint fix again"))
            continue
        kept.append(e)
    return kept, owners, covered


def _read(real: str) -> tuple[bytes, str, bytes]:
    """(bytes, text, bom) of a UTF-8 file; Refused for anything else."""
    with open(real, "rb") as fh:
        data = fh.read()
    bom = b""
    raw = data
    if raw.startswith(b"\xef\xbb\xbf"):
        bom, raw = raw[:3], raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        raise Refused("only UTF-8 files can be fixed")
    try:
        return data, raw.decode("utf-8"), bom
    except UnicodeDecodeError as e:
        raise Refused("the file is not valid UTF-8") from e
