"""YAML/JSON loading with exact node positions.

Three readers, tried in order, give the same result wherever more than one applies:

1. plain block-style YAML (most manifests) is read line by line (:mod:`kvlint.blockyaml`);
2. other texts without aliases or merge keys are built from libyaml's event stream;
3. everything else is composed by libyaml (PyYAML's C composer when present) and the node
   graph is converted here, which also reports errors and limits precisely.

All of them turn YAML into plain Python data themselves, so that:

* every node keeps its line and column (``Document.pos``),
* scalars resolve the way kubectl's YAML decoder reads them (YAML 1.1: ``yes``/``on``
  are booleans, ``010`` is octal),
* no tag is ever constructed into an object (``!!python/object`` stays a string),
* duplicate keys, merge keys and alias expansion are handled explicitly and bounded.

Positions are 1-based. ``pos`` maps a path tuple (keys and list indexes from the document
root) to ``(key_line, key_col, line, col, end_line, end_col)``; ``key_line`` is 0 for
list items and the root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from kvlint import blockyaml as _blockyaml
from kvlint.yamlnodes import _BOOL_TRUE as _BOOL_TRUE
from kvlint.yamlnodes import _RESOLVERS as _RESOLVERS
from kvlint.yamlnodes import _TAG as _TAG
from kvlint.yamlnodes import MAX_DEPTH as MAX_DEPTH
from kvlint.yamlnodes import MAX_INT_BITS as MAX_INT_BITS
from kvlint.yamlnodes import Document as Document
from kvlint.yamlnodes import InputProblem as InputProblem
from kvlint.yamlnodes import Path as Path
from kvlint.yamlnodes import PList as PList
from kvlint.yamlnodes import PMap as PMap
from kvlint.yamlnodes import Pos as Pos
from kvlint.yamlnodes import _float as _float
from kvlint.yamlnodes import _helm_source as _helm_source
from kvlint.yamlnodes import _int as _int
from kvlint.yamlnodes import _plain_value as _plain_value
from kvlint.yamlnodes import _typed as _typed
from kvlint.yamlnodes import pack as pack
from kvlint.yamlnodes import unpack as unpack

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Upper bound of nodes converted per file (alias expansion included).
MAX_NODES = 2_000_000
#: Upper bound of nodes produced by re-using anchored collections (alias expansion).
MAX_ALIAS_NODES = 100_000

_MERGE = "tag:yaml.org,2002:merge"
_C_LOADER: Any = getattr(yaml, "CSafeLoader", None)
_C_PARSER: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None) if _C_LOADER is not None else None
_TEMPLATE_RE = re.compile(r"\{\{|\{%|\$\{[A-Za-z_][A-Za-z0-9_]*\}|<%=")


@dataclass(slots=True)
class ParsedFile:
    path: str
    documents: list[Document] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    #: Comment lines by line number: used by inline suppressions.
    comments: dict[int, str] = field(default_factory=dict)
    #: 1-based start line of each document (for document-level comments).
    doc_lines: list[int] = field(default_factory=list)
    #: The file's lines, kept only when it has kvlint comments (inline suppressions).
    lines: list[str] = field(default_factory=list)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ParsedFile, (self.path, self.documents, self.problems, self.comments, self.doc_lines, self.lines))


class _TooLarge(Exception):
    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message or (
            "the file expands to too many YAML nodes (alias expansion over "
            f"{MAX_ALIAS_NODES} or {MAX_NODES} in all); it was not read"
        )


class _TooDeep(Exception):
    def __init__(self, line: int, column: int) -> None:
        super().__init__()
        self.line = line
        self.column = column


class _Converter:
    """Turns a composed node graph into plain data plus positions."""

    __slots__ = ("budget", "problems", "keys", "seen", "flagged")

    def __init__(self, problems: list[InputProblem], budget: list[int]) -> None:
        #: [nodes left, alias-expanded nodes left], shared by the documents of one file.
        self.budget = budget
        self.problems = problems
        self.keys: dict[str, str] = {}
        self.seen: set[int] = set()
        #: Key nodes already reported (an aliased mapping is converted once per alias).
        self.flagged: set[int] = set()

    @staticmethod
    def packed(node: Any, kl: int = 0, kc: int = 0) -> int:
        sm = node.start_mark
        em = node.end_mark
        return pack(kl, kc, sm.line + 1, sm.column + 1, em.line + 1, em.column + 1)

    def convert(self, node: Any, depth: int, aliased: bool = False) -> Any:
        budget = self.budget
        budget[0] -= 1
        if aliased:
            budget[1] -= 1
        if budget[0] < 0 or budget[1] < 0:
            raise _TooLarge
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if not aliased:
            if id(node) in self.seen:
                aliased = True
            else:
                self.seen.add(id(node))
        if depth > MAX_DEPTH:
            raise _TooDeep(node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.SequenceNode):
            out = PList()
            out._p = [self.packed(child) for child in node.value]
            out.extend(self.convert(child, depth + 1, aliased) for child in node.value)
            return out
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, depth, aliased)
        return None  # pragma: no cover - libyaml has no other node kinds

    @staticmethod
    def scalar(node: Any) -> Any:
        return _typed(node.tag, node.value)

    def report(self, node: Any, rule: str, message: str) -> None:
        """One input problem per key node, however many times aliases convert it."""
        if id(node) in self.flagged:
            return
        self.flagged.add(id(node))
        self.problems.append(InputProblem(rule, message, node.start_mark.line + 1, node.start_mark.column + 1))

    def key_text(self, node: Any) -> str | None:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == "tag:yaml.org,2002:null":
                # sigs.k8s.io/yaml (kubectl) fails with "unsupported map key of type: <nil>".
                self.report(node, "KV904", "a mapping key is null; Kubernetes only accepts string keys")
                return None
            value = node.value
            k = self.keys.get(value)
            if k is None:
                k = self.keys[value] = value
            return k
        self.report(node, "KV904", "a mapping key is a collection; Kubernetes only accepts string keys")
        return None

    def merge_pairs(self, merges: list[Any]) -> list[tuple[Any, Any]]:
        """(key, value) nodes of merge sources in precedence order: each source's own keys,
        then what it merges itself, then the next source. Each source is read once."""
        pairs: list[tuple[Any, Any]] = []
        done: set[int] = set()
        stack = [
            src for m in reversed(merges) for src in reversed(m.value if isinstance(m, yaml.SequenceNode) else [m])
        ]
        while stack:
            src = stack.pop()
            if not isinstance(src, yaml.MappingNode) or id(src) in done:
                continue
            done.add(id(src))
            nested = []
            for knode, vnode in src.value:
                if knode.tag == _MERGE:
                    nested.append(vnode)
                    continue
                self.budget[0] -= 1
                self.budget[1] -= 1
                if self.budget[0] < 0 or self.budget[1] < 0:
                    raise _TooLarge
                pairs.append((knode, vnode))
            for m in reversed(nested):
                stack.extend(reversed(m.value if isinstance(m, yaml.SequenceNode) else [m]))
        return pairs

    def mapping(self, node: Any, depth: int, aliased: bool) -> dict[str, Any]:
        out = PMap()
        out._p = positions = {}
        merges: list[Any] = []
        for knode, vnode in node.value:
            if knode.tag == _MERGE:
                merges.append(vnode)
                continue
            key = self.key_text(knode)
            if key is None:
                continue
            if key in out:
                self.report(
                    knode,
                    "KV903",
                    f"duplicate key {key!r}: the API server's strict decoding rejects it "
                    "(only the last value would be read)",
                )
            out[key] = self.convert(vnode, depth + 1, aliased)
            positions[key] = self.packed(vnode, knode.start_mark.line + 1, knode.start_mark.column + 1)
        if merges:
            merged = PMap()
            merged._p = {}
            for knode, vnode in self.merge_pairs(merges):
                key = self.key_text(knode)
                if key is None or key in out or key in merged:
                    continue
                merged[key] = self.convert(vnode, depth + 1, True)
                merged._p[key] = self.packed(vnode, knode.start_mark.line + 1, knode.start_mark.column + 1)
            merged.update(out)
            merged._p.update(positions)
            out = merged
        return out


# -- fast path: build straight from libyaml's event stream ---------------------------------

_NULL_KEYS = frozenset(("", "~", "null", "Null", "NULL"))


class _Fallback(Exception):
    """The document uses a feature the fast path leaves to the node-graph converter
    (aliases, merge keys, non-string keys, very deep nesting)."""


def _scalar_value(event: Any) -> Any:
    tag = event.tag
    value: str = event.value
    if tag is None or tag == "!":
        if not event.implicit[0]:
            return value
        return _plain_value(value)
    return _typed(tag, value)


def _fast_documents(text: str, result: ParsedFile) -> None:
    """Documents of a file without aliases, merge keys or non-string keys, read from the
    event stream in one pass. Raises _Fallback otherwise (nothing is kept then)."""
    # Only the event stream is read: libyaml's parser alone, without the loader's Python
    # constructor and resolver set-up.
    loader = _C_PARSER(text) if _C_PARSER is not None else yaml.SafeLoader(text)
    get = loader.get_event
    path_name = result.path
    docs: list[Document] = []
    lines: list[int] = []
    nodes = MAX_NODES
    keys: dict[str, str] = {}
    problems: list[InputProblem] = []
    try:
        index = 0
        while True:
            event = get()
            et = type(event)
            if et is StreamEndEvent:
                break
            if et is not DocumentStartEvent:
                continue
            # The open collection (``cur``, its positions ``curp``, whether it is a mapping,
            # the pending key and its packed position, its slot in its parent) lives in
            # locals; ``stack`` saves the parents' while a nested collection is open.
            stack: list[tuple[Any, Any, bool, Any]] = []
            cur: Any = None
            curp: Any = None
            is_map = False
            key: str | None = None
            kpos = 0
            slot: Any = None
            root: Any = None
            root_pos = 0
            first = -1
            while True:
                event = get()
                et = type(event)
                if et is ScalarEvent:
                    nodes -= 1
                    sm = event.start_mark
                    if first < 0:
                        first = sm.line
                    if cur is None:
                        em = event.end_mark
                        root = _scalar_value(event)
                        root_pos = (sm.line + 1) << 72 | (sm.column + 1) << 48 | (em.line + 1) << 24 | em.column + 1
                        continue
                    if is_map and key is None:
                        raw = event.value
                        tag = event.tag
                        if (tag is None or tag == "!") and event.implicit[0] and (raw == "<<" or raw in _NULL_KEYS):
                            raise _Fallback
                        if tag == _MERGE or tag == "tag:yaml.org,2002:null":
                            raise _Fallback  # (an explicit !!null key is null too)
                        key = keys.get(raw)
                        if key is None:
                            key = keys[raw] = raw
                        if key in cur:
                            problems.append(
                                InputProblem(
                                    "KV903",
                                    f"duplicate key {key!r}: the API server's strict decoding rejects it "
                                    "(only the last value would be read)",
                                    sm.line + 1,
                                    sm.column + 1,
                                )
                            )
                        # the key's half of the packed position (see pack())
                        kpos = (sm.line + 1) << 120 | (sm.column + 1) << 96
                        continue
                    em = event.end_mark
                    value = event.value
                    if event.tag is not None or not event.implicit[0] or (not value or value[0] in _RESOLVERS):
                        value = _scalar_value(event)
                    packed = (sm.line + 1) << 72 | (sm.column + 1) << 48 | (em.line + 1) << 24 | em.column + 1
                    if is_map:
                        cur[key] = value
                        curp[key] = kpos | packed
                        key = None
                    else:
                        curp.append(packed)
                        cur.append(value)
                elif et is MappingStartEvent or et is SequenceStartEvent:
                    nodes -= 1
                    sm = event.start_mark
                    if first < 0:
                        first = sm.line
                    new: Any
                    newp: Any
                    if et is MappingStartEvent:
                        new = PMap()
                        newp = new._p = {}
                    else:
                        new = PList()
                        newp = new._p = []
                    start = (sm.line + 1) << 72 | (sm.column + 1) << 48
                    new_slot: Any = None
                    if cur is None:
                        root = new
                        root_pos = start
                    else:
                        if is_map:
                            if key is None:
                                raise _Fallback  # a collection used as a key
                            cur[key] = new
                            curp[key] = kpos | start
                            new_slot = key
                            key = None
                        else:
                            new_slot = len(cur)
                            cur.append(new)
                            curp.append(start)
                        if len(stack) >= MAX_DEPTH:
                            raise _Fallback
                    stack.append((cur, curp, is_map, slot))
                    cur, curp, is_map, slot = new, newp, et is MappingStartEvent, new_slot
                elif et is MappingEndEvent or et is SequenceEndEvent:
                    em = event.end_mark
                    # Fill in where the collection ends (its entry in the parent, or the root).
                    end = (em.line + 1) << 24 | em.column + 1
                    parent, parentp, parent_is_map, parent_slot = stack.pop()
                    if parent is None:
                        root_pos |= end
                    else:
                        parentp[slot] |= end
                    cur, curp, is_map, slot = parent, parentp, parent_is_map, parent_slot
                    key = None
                elif et is DocumentEndEvent:
                    break
                elif et is AliasEvent:
                    raise _Fallback
            if nodes < 0:
                raise _Fallback  # the converter reports the limits precisely
            doc = Document(path_name, index, root, None, root=root_pos)
            if path_name == "<stdin>":
                doc.origin = _helm_source(text, max(first, 0))
            docs.append(doc)
            lines.append(max(first, 0) + 1)
            index += 1
    finally:
        loader.dispose()
    result.documents.extend(docs)
    result.doc_lines.extend(lines)
    result.problems.extend(problems)


_BLOCK_START_RE = re.compile(r"(?:^|[:\-]\s)[|>][0-9+-]*\s*(?:#.*)?$")


def looks_templated(text: str) -> tuple[int, int] | None:
    """Line and column of the first template marker (Helm/Jinja/envsubst/ERB), if any.

    Markers inside comments and inside block scalars (``|`` / ``>``, where cloud-init
    scripts legitimately use ``${VAR}`` and Jinja) do not count.
    """
    if _TEMPLATE_RE.search(text) is None:
        return None
    block_indent = -1
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if block_indent >= 0:
            if not stripped or indent > block_indent:
                continue
            block_indent = -1
        m = _TEMPLATE_RE.search(line)
        if m is not None:
            hash_at = line.find("#")
            if hash_at < 0 or hash_at > m.start() or (hash_at > 0 and line[hash_at - 1] not in " \t"):
                return lineno, m.start() + 1
        if _BLOCK_START_RE.search(line.rstrip()):
            block_indent = indent
    return None


def _comments(text: str) -> dict[int, str]:
    out: dict[int, str] = {}
    if "kvlint" not in text:
        return out
    for i, line in enumerate(text.splitlines(), 1):
        j = line.find("#")
        if j >= 0 and "kvlint" in line:
            out[i] = line[j:]
    return out


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    """Line and column of a reader error's offset (libyaml counts UTF-8 bytes, PyYAML
    characters)."""
    if _C_LOADER is not None and issubclass(_Loader, _C_LOADER):
        offset = len(text.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "ignore"))
    start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - start + 1


def parse_text(path: str, text: str, *, block: bool = True) -> ParsedFile:
    """Parse a YAML or JSON file's text into documents and input problems.

    A templated file (Helm, Jinja, envsubst) yields one KV902 problem and no documents:
    its unrendered objects would only produce noise. Plain block YAML is read by the
    line-based reader (:mod:`kvlint.blockyaml`) unless ``block`` is False; everything else,
    and that with ``block=False``, by libyaml.
    """
    result = ParsedFile(path)
    templated = looks_templated(text)
    if templated is not None:
        result.problems.append(
            InputProblem(
                "KV902",
                "the file contains template syntax (Helm, Jinja, envsubst) and was not linted; "
                "render it and lint the output, e.g. 'helm template . | kvlint lint -'",
                templated[0],
                templated[1],
            )
        )
        return result
    read = _blockyaml.read(text, path) if block else None
    if read is not None:
        result.documents, result.doc_lines, result.problems = read
    else:
        try:
            _fast_documents(text, result)
        except (_Fallback, yaml.YAMLError, RecursionError):
            # Read it again with the node-graph converter: it handles every YAML feature
            # and reports errors and limits precisely.
            result.documents.clear()
            result.doc_lines.clear()
            result.problems.clear()
            _convert_documents(text, result)
    _check_shapes(result)
    result.comments = _comments(text)
    if result.comments:
        result.lines = text.splitlines()
    return result


#: The rule for a document (or List item) that is not a Kubernetes object.
NOT_AN_OBJECT = "KV909"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__  # pragma: no cover - parsed data has no other types


def _is_object_like(value: Any) -> bool:
    return isinstance(value, dict) and ("kind" in value or "apiVersion" in value)


def holds_objects(docs: list[Document]) -> bool:
    """Whether a file's documents look like Kubernetes manifests: some document has an
    ``apiVersion`` or ``kind`` at its top, or is a list of mappings that have one (a
    top-level list of objects, which kubectl rejects, is still a manifest gone wrong)."""
    return any(
        _is_object_like(d.data) or (isinstance(d.data, list) and any(_is_object_like(i) for i in d.data)) for d in docs
    )


def _check_shapes(result: ParsedFile) -> None:
    """Every document of a file that holds Kubernetes objects gets an answer: one that is
    not an object (a list, a scalar, a mapping without a kind, a kind or apiVersion that is
    not a string, a List whose items are not objects) is reported, and a document whose
    kind or apiVersion is not a string is not read any further. Files without any
    ``apiVersion`` or ``kind`` (neither at the top of a document nor in a top-level list)
    are not manifests: nothing is reported for them. Empty documents are fine."""
    docs = result.documents
    if not holds_objects(docs):
        return
    kept: list[Document] = []
    for d in docs:
        data = d.data
        if data is None:
            kept.append(d)
            continue
        if not isinstance(data, dict):
            what = _type_name(data)
            hint = (
                "; a list of objects belongs under 'items' of a 'kind: List'"
                if isinstance(data, list) and any(_is_object_like(i) for i in data)
                else ""
            )
            _shape_problem(result, d, (), f"document {d.index + 1} is {what}, not a Kubernetes object{hint}")
            kept.append(d)
            continue
        bad = False
        for key in ("apiVersion", "kind"):
            if key in data and not isinstance(data[key], str):
                _shape_problem(
                    result, d, (key,), f"'{key}' is {_type_name(data[key])}, not a string: the object was not checked"
                )
                bad = True
        if bad:
            continue  # (nothing can tell what it is; checks must not meet it)
        kind = data.get("kind")
        if kind is None:
            _shape_problem(result, d, (), f"document {d.index + 1} has no 'kind': it is not a Kubernetes object")
        elif kind == "List" or (kind.endswith("List") and isinstance(data.get("items"), list)):
            items = data.get("items")
            if items is not None and not isinstance(items, list):
                _shape_problem(result, d, ("items",), f"the {kind}'s 'items' is {_type_name(items)}, not a list")
            elif isinstance(items, list):
                for i, item in enumerate(items):
                    if not isinstance(item, dict):
                        _shape_problem(
                            result, d, ("items", i), f"item {i + 1} of the {kind} is {_type_name(item)}, not an object"
                        )
                        continue
                    for key in ("apiVersion", "kind"):
                        if key in item and not isinstance(item[key], str):
                            _shape_problem(
                                result,
                                d,
                                ("items", i, key),
                                f"item {i + 1} of the {kind}: '{key}' is {_type_name(item[key])}, not a string",
                            )
                    if "kind" not in item:
                        _shape_problem(result, d, ("items", i), f"item {i + 1} of the {kind} has no 'kind'")
        kept.append(d)
    result.documents = kept


def _shape_problem(result: ParsedFile, doc: Document, path: Path, message: str) -> None:
    pos = doc.position(path)
    if pos is not None and pos[0] and len(path) and not isinstance(path[-1], int):
        line, col = pos[0], pos[1]  # at the key
    elif pos is not None and pos[2]:
        line, col = pos[2], pos[3]
    else:
        line, col = (result.doc_lines[doc.index] if doc.index < len(result.doc_lines) else 1), 1
    result.problems.append(InputProblem(NOT_AN_OBJECT, message, line, col))


def parse_input(path: str, text: str) -> ParsedFile:
    """:func:`parse_text` for a file being linted: a file that is not a Kubernetes manifest
    (:func:`kvlint.manifest.is_manifest_file`) comes back without documents, marked with
    one ``not-a-manifest`` problem (the run skips and counts it)."""
    from kvlint import manifest

    if path == "<stdin>":
        return parse_text(path, text)
    if manifest.known_non_manifest_name(path):
        why = manifest.is_manifest_file(path, text)
    else:
        pf = parse_text(path, text)
        unreadable = any(p.rule in ("KV901", "KV902") for p in pf.problems)
        why = manifest.is_manifest_file(path, text, None if unreadable else [d.data for d in pf.documents])
        if why is None:
            return pf
    return ParsedFile(path, [], [InputProblem(manifest.NOT_A_MANIFEST, why or "not a Kubernetes manifest")])


def _convert_documents(text: str, result: ParsedFile) -> None:
    """Documents and problems of any text, composed by libyaml and converted here."""
    path = result.path
    budget = [MAX_NODES, MAX_ALIAS_NODES]
    loader = None
    index = 0
    try:
        # PyYAML's pure-Python reader rejects control characters here already.
        loader = _Loader(text)
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover
                break
            conv = _Converter(result.problems, budget)
            try:
                data = conv.convert(node, 0)
            except _TooDeep as e:
                result.problems.append(
                    InputProblem(
                        "KV905",
                        f"document {index + 1} is nested more than {MAX_DEPTH} levels deep; it was not read",
                        e.line,
                        e.column,
                    )
                )
                index += 1
                continue
            result.documents.append(Document(path, index, data, None, root=conv.packed(node)))
            if path == "<stdin>":
                result.documents[-1].origin = _helm_source(text, node.start_mark.line)
            result.doc_lines.append(node.start_mark.line + 1)
            index += 1
    except _TooLarge as e:
        result.documents.clear()
        result.problems.append(InputProblem("KV905", e.message))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        col = mark.column + 1 if mark is not None else 1
        offset = getattr(e, "position", None)
        if mark is None and isinstance(offset, int):
            line, col = _offset_position(text, offset)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        if "nesting depth" in problem:
            result.problems.append(
                InputProblem("KV905", f"the file is nested too deeply to be read ({problem})", line, col)
            )
        else:
            result.problems.append(InputProblem("KV901", f"invalid YAML: {problem}", line, col))
    except RecursionError:
        result.documents.clear()
        result.problems.append(InputProblem("KV905", "the file is nested too deeply to be read", 1, 1))
    finally:
        if loader is not None:
            loader.dispose()
