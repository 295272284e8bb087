"""A line-based reader for the block-style YAML that manifests are written in.

Most Kubernetes manifests use a small part of YAML: block mappings and sequences, plain
and simply quoted one-line scalars, literal block scalars (``|``), flow collections on one
line (``{}``, ``{bus: virtio}``, ``[ReadWriteMany]``, ``[{name: http, port: 80}]``),
comments, ``---`` separators and ``...`` document ends. This module reads exactly that subset
line by line, about three times faster than building the same data from libyaml's event
stream in Python, and produces the same result: the same values (YAML 1.1 scalar
resolution through the same resolvers), the same packed positions (libyaml's marks,
including where collections and block scalars end), the same document lines and the same
duplicate-key problems.

Anything outside the subset -- tabs, anchors, aliases, tags, flow collections over several
lines or with anything but one-line scalars and flow collections in them (a plain scalar
with ':', '#' or a leading indicator, a trailing comma, an implicit pair in a sequence, a
duplicate key), folded block scalars and those with an indentation indicator, multi-line
plain or quoted scalars, escapes, explicit keys, directives, empty documents, a document
after ``...`` without ``---``, unusual characters, and every kind of invalid YAML -- makes
:func:`read` return None, and the caller reads the file with libyaml. A fallback is always
correct; the differential tests (``tests/test_blockyaml.py``) hold the subset to the libyaml
reading byte for byte.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from kvlint.yamlnodes import (
    MAX_DEPTH,
    Document,
    InputProblem,
    PList,
    PMap,
    _helm_source,
    _plain_value,
)

# Texts with characters outside printable ASCII and the line feed (tabs, carriage returns,
# control characters) or, in non-ASCII text, with anything libyaml would treat specially
# (other line breaks: NEL, LS, PS; the byte order mark, surrogates and non-characters) are
# left to libyaml.
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\n"
_BAD = "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"


def _single_quote_end(v: str, start: int) -> int:
    """The offset of the quote that closes the single-quoted scalar opening at ``start``
    (a doubled quote inside is an escaped one); -1 when the line does not close it."""
    e = start + 1
    while True:
        e = v.find("'", e)
        if e < 0 or v[e + 1 : e + 2] != "'":
            return e
        e += 2


@functools.cache
def _bad() -> re.Pattern[str]:
    # Compiled on first use: compiling this class takes several milliseconds, and most
    # runs read ASCII text only.
    return re.compile(_BAD)


#: First characters a plain key or value may not start with (YAML indicators); keys and
#: values starting with a quote, ``{``, ``[``, ``|`` or ``-`` are looked at more closely.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_NULL_KEYS = frozenset(("~", "null", "Null", "NULL", "<<"))
#: Longest key libyaml accepts as a simple key is 1024 characters; stay well below it.
_MAX_KEY = 1000
#: Files longer than this are left to libyaml (its node budget applies to them).
_MAX_LINES = 500_000
#: The block scalar headers read here: literal, with clip, strip or keep chomping.
_HEADERS = frozenset(("|", "|-", "|+"))

# What a line is (the first item of its classification).
_BLANK, _OUTSIDE, _DOC, _EOF, _KEY, _ITEM, _ITEM_KEY = range(7)
# What a key's or an item's value on the line is.
_PENDING, _SCALAR, _EMPTY_MAP, _EMPTY_LIST, _LITERAL, _FLOW = range(6)
_BLANK_T: tuple[Any, ...] = (_BLANK, 0, 0, None, 0, None, 0, 0)
_OUTSIDE_T: tuple[Any, ...] = (_OUTSIDE, 0, 0, None, 0, None, 0, 0)
_DOC_T: tuple[Any, ...] = (_DOC, 0, 0, None, 0, None, 0, 0)
#: A document end marker (``...``): a separator after which only ``---`` may start a document.
_DOC_END_T: tuple[Any, ...] = (_DOC, 0, 1, None, 0, None, 0, 0)
#: A line that cannot occur in a text read here (it holds a NUL) marks the end of the text.
_EOF_LINE = "\x00"
#: Multiplying a 1-based line number by these fills in the line halves of a packed position
#: (see parse.pack) for a key and its value on that line, or for a value alone.
_KEY_VALUE_LINES = (1 << 120) | (1 << 72) | (1 << 24)
_VALUE_LINES = (1 << 72) | (1 << 24)
#: Those products by line number (a list lookup is cheaper than a multiplication of
#: long ints), grown to the longest text read.
_KV_LINES: list[int] = []
_V_LINES: list[int] = []


def _grow(size: int) -> None:
    size = max(size, 2 * len(_KV_LINES), 1024)
    _KV_LINES.extend(i * _KEY_VALUE_LINES for i in range(len(_KV_LINES), size))
    _V_LINES.extend(i * _VALUE_LINES for i in range(len(_V_LINES), size))


_EOF_T: tuple[Any, ...] = (_EOF, 0, 0, None, 0, None, 0, 0)
#: Classified lines by their text. Manifests repeat most of their lines ("- name: rootdisk",
#: "    bus: virtio"), so most lines are looked up rather than read. Each entry holds
#: only immutable values; the cache is emptied when it grows past _CACHE_MAX entries
#: (about 20 MB; the 10k bench tree has 65,000 distinct lines).
_cache: dict[str, tuple[Any, ...]] = {_EOF_LINE: _EOF_T}
_CACHE_MAX = 100_000
#: A column beyond any line.
_FAR = 1 << 23


def read(text: str, path: str) -> tuple[list[Document], list[int], list[InputProblem]] | None:
    """Documents, their first lines and duplicate-key problems of ``text``, or None when
    the text uses anything outside the block subset (read it with libyaml then)."""
    if text.isascii():
        if text.encode("ascii").translate(None, _PRINTABLE):
            return None
    elif _bad().search(text) is not None:
        return None
    lines = text.split("\n")
    ends_nl = lines[-1] == ""
    if ends_nl:
        lines.pop()
    n = len(lines)
    if n > _MAX_LINES:
        return None
    lines.append(_EOF_LINE)
    docs: list[Document] = []
    doc_lines: list[int] = []
    problems: list[InputProblem] = []
    cache = _cache
    cache_get = cache.get
    classify = _classify
    if n + 2 > len(_KV_LINES):
        _grow(n + 2)
    kv_lines = _KV_LINES
    v_lines = _V_LINES

    # The open collection lives in locals: whether it is a mapping, its column (-1 when
    # none is open), the container, its positions, its parent's positions and its slot
    # there (None for the root). ``stack`` holds the enclosing ones. ``pending`` is a key
    # whose value starts on a later line: container, positions, key, the key's column, the
    # packed position of a null value, the key half of a packed position.
    stack: list[tuple[Any, ...]] = []
    cur_map = False
    cur_ind = -1
    cont: Any = None
    ptab: Any = None
    cur_parent: Any = None
    cur_slot: Any = None
    root: Any = None
    root_pos = 0
    first = -1
    explicit = False
    ended = False
    pending: tuple[Any, ...] | None = None
    index = 0
    skip = 0
    new: Any
    newp: Any
    for line_no, line in enumerate(lines, 1):
        if line_no <= skip:
            continue  # a block scalar's lines
        info = cache_get(line)
        if info is None:
            info = classify(line)
            if len(cache) >= _CACHE_MAX:
                cache.clear()
                cache[_EOF_LINE] = _EOF_T
            cache[line] = info
        kind, ind, c, key, vkind, value, cols, here = info
        if kind < 2:
            if kind == 0:  # _BLANK
                continue
            return None  # _OUTSIDE
        if pending is not None:
            pcont, pptab, pkey, pind, pnull, pkpos = pending
            pending = None
            dash = kind == 5 or kind == 6  # _ITEM, _ITEM_KEY
            if kind >= 4 and (ind > pind or (ind == pind and dash)):
                # The key's value is a collection starting on this line (made here rather
                # than by _empty(): this is the parser's most frequent allocation).
                if dash:
                    new = PList()
                    new._p = newp = []
                else:
                    new = PMap()
                    new._p = newp = {}
                pcont[pkey] = new
                pptab[pkey] = pkpos | line_no << 72 | here
                if len(stack) >= MAX_DEPTH:
                    return None
                stack.append((cur_map, cur_ind, cont, ptab, cur_parent, cur_slot))
                cur_map, cur_ind, cont, ptab, cur_parent, cur_slot = not dash, ind, new, newp, pptab, pkey
            else:
                pcont[pkey] = None
                pptab[pkey] = pnull
        if kind < 4 or ind < cur_ind:
            # Close the collections deeper than this line (all of them at a document
            # separator or the end of the text). libyaml's block-end marks sit at the next
            # token: where this line starts (column 1 for a separator or the end).
            if kind < 4:
                target = -1
                end = line_no << 24 | 1
                # Without a final line break, libyaml first closes what is deeper than the
                # end of the last line, where that line ends.
                last = len(lines[n - 1]) if kind == 3 and not ends_nl and n else _FAR
            else:
                target = ind
                end = line_no << 24 | (ind + 1)
                last = _FAR
            early = n << 24 | (last + 1)
            while cur_ind > target:
                if cur_parent is None:
                    root_pos |= early if cur_ind > last else end
                else:
                    cur_parent[cur_slot] |= early if cur_ind > last else end
                if stack:
                    cur_map, cur_ind, cont, ptab, cur_parent, cur_slot = stack.pop()
                else:
                    cur_ind = -1
            if kind < 4:
                if first < 0 and not ended and info is _DOC_END_T:
                    return None  # '...' with no document before it
                if first >= 0:
                    doc = Document(path, index, root, None, root=root_pos)
                    if path == "<stdin>":
                        doc.origin = _helm_source(text, first)
                    docs.append(doc)
                    doc_lines.append(first + 1)
                    index += 1
                elif explicit:
                    return None  # an empty document: libyaml reads it as null
                if kind == 3:  # _EOF
                    break
                root = None
                root_pos = 0
                first = -1
                ended = info is _DOC_END_T
                explicit = not ended
                continue
        if ind != cur_ind:
            if cur_ind < 0:
                if first >= 0 or ended:
                    return None  # a second node at the top level, or a document without '---' after '...'
                first = line_no - 1
                root = _empty(kind == 4)  # _KEY
                root_pos = line_no << 72 | (ind + 1) << 48
                cur_map, cur_ind, cont, ptab, cur_parent, cur_slot = kind == 4, ind, root, root._p, None, None
            else:
                return None  # deeper than the open collection: a continuation line or an error
        if kind == 4:  # _KEY
            if not cur_map:
                # The end of an indentless sequence (one at its parent key's column).
                if not stack or stack[-1][1] != ind or not stack[-1][0]:
                    return None
                cur_parent[cur_slot] |= line_no << 24 | (ind + 1)
                cur_map, cur_ind, cont, ptab, cur_parent, cur_slot = stack.pop()
        else:
            if cur_map:
                return None  # an item where a key was expected
            if kind == 5:  # _ITEM
                if vkind == 5:  # _FLOW
                    if len(stack) + value.depth >= MAX_DEPTH - 1:
                        return None
                    cont.append(_build(value, kv_lines[line_no], v_lines[line_no]))
                else:
                    cont.append(value if vkind == 1 else _empty(vkind == 2))  # _SCALAR, _EMPTY_MAP
                ptab.append(v_lines[line_no] | cols)
                continue
            # An item that is a mapping whose first key is on this line.
            if len(stack) >= MAX_DEPTH:
                return None
            new = _empty(True)
            ptab.append(line_no << 72 | (c + 1) << 48)
            stack.append((cur_map, cur_ind, cont, ptab, cur_parent, cur_slot))
            cur_map, cur_ind, cont, ptab, cur_parent, cur_slot = True, c, new, new._p, ptab, len(cont)
            cont_parent = stack[-1][2]
            cont_parent.append(new)
        # A key of the open mapping.
        if key in cont:
            problems.append(
                InputProblem(
                    "KV903",
                    f"duplicate key {key!r}: the API server's strict decoding rejects it "
                    "(only the last value would be read)",
                    line_no,
                    c + 1,
                )
            )
        if vkind == 1:  # _SCALAR
            cont[key] = value
            ptab[key] = kv_lines[line_no] | cols
        elif vkind == 0:  # _PENDING
            pending = (cont, ptab, key, c, kv_lines[line_no] | cols, line_no << 120 | (c + 1) << 96)
        elif vkind == 4:  # _LITERAL
            block = _block(lines, line_no - 1, c, value, ends_nl, n)
            if block is None:
                return None
            cont[key] = block[0]
            skip = block[1]
            # libyaml ends a block scalar after the last line break it consumed.
            ptab[key] = line_no << 120 | line_no << 72 | cols | (skip + 1) << 24 | 1
        elif vkind == 5:  # _FLOW
            if len(stack) + value.depth >= MAX_DEPTH - 1:
                return None
            cont[key] = _build(value, kv_lines[line_no], v_lines[line_no])
            ptab[key] = kv_lines[line_no] | cols
        else:
            cont[key] = _empty(vkind == 2)  # _EMPTY_MAP
            ptab[key] = kv_lines[line_no] | cols
    return docs, doc_lines, problems


class _Flow:
    """A flow collection read from one line: whether it is a mapping, how deeply it nests,
    and its entries ``(key, columns, value)`` (mapping) or ``(columns, value)`` (sequence),
    where a value is a scalar's value or a nested _Flow. Immutable once made (classified
    lines are cached and shared); :func:`_build` makes the document's containers from it."""

    __slots__ = ("is_map", "depth", "entries")

    def __init__(self, is_map: bool, depth: int, entries: tuple[Any, ...]) -> None:
        self.is_map = is_map
        self.depth = depth
        self.entries = entries


def _build(t: _Flow, kv: int, v: int) -> Any:
    """The containers of a flow collection on the line whose position products are ``kv``
    (key and value) and ``v`` (value only)."""
    new: Any
    if t.is_map:
        new = PMap()
        p: Any = {}
        new._p = p
        for key, cols, child in t.entries:
            new[key] = _build(child, kv, v) if type(child) is _Flow else child
            p[key] = kv | cols
    else:
        new = PList()
        p = []
        new._p = p
        for cols, child in t.entries:
            new.append(_build(child, kv, v) if type(child) is _Flow else child)
            p.append(v | cols)
    return new


#: Characters that end a plain scalar inside a flow collection, or make it one not read here.
_FLOW_STOP = frozenset(",[]{}:#")
_FLOW_MAX_DEPTH = 16


def _flow_scalar(v: str, i: int) -> tuple[Any, int, int, bool] | None:
    """The scalar starting at ``v[i]`` inside a flow collection: (value, end of its text,
    index after it, whether it was quoted), or None when it is outside the subset."""
    ch = v[i]
    if ch == '"':
        e = v.find('"', i + 1)
        if e < 0:
            return None
        text = v[i + 1 : e]
        if "\\" in text:
            return None
        return text, e + 1, e + 1, True
    if ch == "'":
        e = _single_quote_end(v, i)
        if e < 0:
            return None
        return v[i + 1 : e].replace("''", "'"), e + 1, e + 1, True
    if ch in _INDICATORS or ch == " ":
        return None
    j = i
    n = len(v)
    stop = _FLOW_STOP
    while j < n and v[j] not in stop:
        j += 1
    # A ':' ends a key (when a space follows) and is otherwise outside the subset, as is '#'.
    if j < n and (v[j] == "#" or (v[j] == ":" and v[j + 1 : j + 2] != " ")):
        return None
    end = j
    while v[end - 1] == " ":
        end -= 1
    return v[i:end], end, j, False


def _flow(v: str, i: int, vc: int, depth: int) -> tuple[_Flow, int] | None:
    """The flow collection starting at ``v[i]`` (``{`` or ``[``, at column ``vc + i``):
    it and the index after its closing bracket, or None when it is outside the subset."""
    if depth > _FLOW_MAX_DEPTH:
        return None
    is_map = v[i] == "{"
    close = "}" if is_map else "]"
    n = len(v)
    entries: list[Any] = []
    keys: set[str] = set()
    deepest = 0
    i += 1
    while i < n and v[i] == " ":
        i += 1
    if i < n and v[i] == close:
        return _Flow(is_map, depth, ()), i + 1
    while True:
        if i >= n:
            return None
        kcols = 0
        key = None
        if is_map:
            sc = _flow_scalar(v, i)
            if sc is None:
                return None
            raw, kend, nxt, quoted = sc
            if v[nxt : nxt + 2] != ": ":
                return None
            if not quoted and (raw in _NULL_KEYS or len(raw) > _MAX_KEY):
                return None
            key = raw
            if key in keys:
                return None  # a duplicate key: libyaml's reading reports it
            keys.add(key)
            kcols = (vc + i + 1) << 96
            i = nxt + 1
            while i < n and v[i] == " ":
                i += 1
            if i >= n:
                return None
        ch = v[i]
        start = i
        child: Any
        if ch == "{" or ch == "[":
            got = _flow(v, i, vc, depth + 1)
            if got is None:
                return None
            child, i = got
            end = i
            deepest = max(deepest, child.depth)
        else:
            sc = _flow_scalar(v, i)
            if sc is None:
                return None
            raw, end, i, quoted = sc
            if i < n and v[i] == ":":
                return None  # a pair inside a sequence, or a mapping in a value
            child = raw if quoted else _plain_value(raw)
        cols = kcols | (vc + start + 1) << 48 | (vc + end + 1)
        entries.append((key, cols, child) if is_map else (cols, child))
        while i < n and v[i] == " ":
            i += 1
        if i >= n:
            return None
        if v[i] == close:
            return _Flow(is_map, max(depth, deepest), tuple(entries)), i + 1
        if v[i] != ",":
            return None
        i += 1
        while i < n and v[i] == " ":
            i += 1
        if i < n and (v[i] == close or v[i] == ","):
            return None  # a trailing comma, or an empty entry


def _empty(is_map: bool) -> Any:
    """A new empty mapping or list of a parsed document."""
    new: Any
    if is_map:
        new = PMap()
        new._p = {}
    else:
        new = PList()
        new._p = []
    return new


def _classify(line: str) -> tuple[Any, ...]:
    """What a line outside block scalars is, without its line number, as
    ``(line kind, indent, content column, key, value kind, value, columns, here)``:

    * ``_KEY``: a key and maybe its value (``content column`` is the key's);
    * ``_ITEM_KEY``: a sequence item holding a mapping whose first key is on the line;
    * ``_ITEM``: a sequence item holding a scalar or an empty collection (no key);
    * ``_BLANK``, ``_DOC``: a blank or comment line, a document separator;
    * ``_OUTSIDE``: a line outside the subset.

    ``columns`` holds the column halves of the packed position (see parse.pack): the key's
    and the value's start and end. A pending value's are those of the null it becomes when
    no collection follows (just after the ':'); a literal's end is filled in when it is read.
    ``here`` is the column half of the start of a collection that begins on the line (at
    its indent): the value of the key before it.
    """
    s = line.lstrip(" ")
    if not s or s[0] == "#":
        return _BLANK_T
    ind = len(line) - len(s)
    if ind == 0 and (s[0] == "-" or s[0] == ".") and (s.startswith("---") or s.startswith("...")):
        rest = s[3:]
        if rest and (rest[0] != " " or not _is_comment(rest)):
            return _OUTSIDE_T
        return _DOC_END_T if s[0] == "." else _DOC_T
    if s[0] == "-" and (len(s) == 1 or s[1] == " "):
        rest = s[1:].lstrip(" ")
        if not rest or rest[0] == "#":
            return _OUTSIDE_T  # an empty item, or one whose content starts on the next line
        c = ind + len(s) - len(rest)
        entry = _key_entry(rest, c)
        if entry is None:
            value = _value(rest, c)
            if value is None:
                return _OUTSIDE_T
            return (_ITEM, ind, c, None, value[0], value[1], value[2], (ind + 1) << 48)
        if not entry:
            return _OUTSIDE_T
        return (_ITEM_KEY, ind, c, *entry, (ind + 1) << 48)
    entry = _key_entry(s, ind)
    if not entry:
        return _OUTSIDE_T
    return (_KEY, ind, ind, *entry, (ind + 1) << 48)


def _key_entry(s: str, c: int) -> tuple[Any, ...] | None:
    """``(key, value kind, value, key columns, value columns)`` of a key line's text ``s``
    (at column ``c``); None when ``s`` is no key line, () when it is one outside the
    subset."""
    ch = s[0]
    if ch == "{" or ch == "[":
        return None  # a flow collection (an item's value, or outside the subset)
    if ch == '"' or ch == "'":
        k = _quoted_key_end(s)
        if k <= 0:
            return None
        key = s[1 : k - 1] if ch == '"' else s[1 : k - 1].replace("''", "'")
        if ch == '"' and "\\" in key:
            return ()
    else:
        k = s.find(": ")
        if k < 0:
            if s[-1] != ":":
                return None
            k = len(s) - 1
        h = s.find(" #")
        if 0 <= h < k:
            return None  # a scalar and a comment
        if ch in _INDICATORS:
            return ()
        key = s[:k]
        if key[-1] == " " or len(key) > _MAX_KEY or key in _NULL_KEYS:
            return ()
    # ``k`` is the column of the ':' in ``s``.
    kcols = (c + 1) << 96
    v = s[k + 1 :].lstrip(" ")
    if not v or v[0] == "#":
        col = c + k + 2
        return (key, _PENDING, None, kcols | col << 48 | col)
    vc = c + len(s) - len(v)
    if v[0] == "|":
        header = v.rstrip(" ")
        if header not in _HEADERS:
            return ()
        return (key, _LITERAL, header[1:2], kcols | (vc + 1) << 48)
    value = _value(v, vc)
    if value is None:
        return ()
    return (key, value[0], value[1], kcols | value[2])


def _is_comment(rest: str) -> bool:
    """Whether what follows a token is only spaces and maybe a comment."""
    r = rest.lstrip(" ")
    return not r or (r[0] == "#" and len(r) < len(rest))


def _quoted_key_end(s: str) -> int:
    """Where the ':' after a quoted key is in ``s`` (which starts with a quote), or -1 when
    ``s`` is not a quoted key on one line followed by ': ' or a final ':'."""
    q = s[0]
    if q == '"':
        e = s.find('"', 1)
    else:
        e = 1
        while True:
            e = s.find("'", e)
            if e < 0 or s[e + 1 : e + 2] != "'":
                break
            e += 2
    if e < 0:
        return -1
    k = e + 1
    if s[k : k + 1] != ":" or (k + 1 < len(s) and s[k + 1] != " "):
        return -1
    return k


def _value(v: str, vc: int) -> tuple[int, Any, int] | None:
    """``(value kind, value, value columns)`` of the value text ``v`` at column ``vc``
    (a scalar or an empty flow collection on one line), or None when it is outside the
    subset."""
    ch = v[0]
    if ch in _INDICATORS:
        if ch == '"' or ch == "'":
            if ch == '"':
                e = v.find('"', 1)
                if e < 0:
                    return None
                text = v[1:e]
                if "\\" in text:
                    return None
            else:
                e = _single_quote_end(v, 0)
                if e < 0:
                    return None
                text = v[1:e].replace("''", "'")
            rest = v[e + 1 :]
            if rest and not _is_comment(rest):
                return None
            return _SCALAR, text, (vc + 1) << 48 | (vc + e + 2)
        if ch == "{" or ch == "[":
            if v[1:2] == ("}" if ch == "{" else "]"):
                if len(v) > 2 and not _is_comment(v[2:]):
                    return None
                return (_EMPTY_MAP if ch == "{" else _EMPTY_LIST), None, (vc + 1) << 48 | (vc + 3)
            got = _flow(v, 0, vc, 1)
            if got is None:
                return None
            flow, e = got
            if e < len(v) and not _is_comment(v[e:]):
                return None
            if not flow.entries:
                return (_EMPTY_MAP if ch == "{" else _EMPTY_LIST), None, (vc + 1) << 48 | (vc + e + 1)
            return _FLOW, flow, (vc + 1) << 48 | (vc + e + 1)
        if ch != "-" or len(v) == 1 or v[1] == " ":
            return None
    h = v.find(" #")
    if h >= 0:
        v = v[:h]
    v = v.rstrip(" ")
    if v[-1] == ":" or ": " in v:
        return None
    return _SCALAR, _plain_value(v), (vc + 1) << 48 | (vc + len(v) + 1)


def _block(lines: list[str], i: int, parent: int, chomp: str, ends_nl: bool, n: int) -> tuple[str, int] | None:
    """A literal block scalar whose header is on line ``i`` in a mapping at column
    ``parent``: (its value, the first line after it). ``n`` is the number of lines."""
    j = i + 1
    indent = 0
    leading = 0
    while j < n:
        ln = lines[j]
        if ln:
            st = ln.lstrip(" ")
            if not st:
                return None  # a line of spaces: libyaml's rules for them are subtle
            indent = len(ln) - len(st)
            break
        leading += 1
        j += 1
    if indent <= parent:
        return None  # an empty block scalar
    body_start = j
    last = j
    j += 1
    while j < n:
        ln = lines[j]
        if ln:
            if ln[:indent].strip(" "):
                break  # a less indented line ends the scalar
            if not ln.strip(" "):
                return None
            last = j
        j += 1
    if last == n - 1 and not ends_nl:
        return None  # the last line has no line break
    body = "\n".join([ln[indent:] for ln in lines[body_start : last + 1]])
    if leading:
        body = "\n" * leading + body
    if chomp == "-":
        value = body
    elif chomp == "+":
        value = body + "\n" * (j - last)
    else:
        value = body + "\n"
    return value, j
