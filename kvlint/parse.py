"""YAML/JSON loading with exact node positions.

The loader composes YAML with libyaml (PyYAML's C composer when present) and converts
the node graph to plain Python data itself, so that:

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

import math
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

Path = tuple[Any, ...]
Pos = tuple[int, int, int, int, int, int]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Upper bound of nodes converted per file (alias expansion included).
MAX_NODES = 2_000_000
#: Upper bound of nodes produced by re-using anchored collections (alias expansion).
MAX_ALIAS_NODES = 100_000
#: Deepest nesting accepted; deeper documents are reported, not converted.
MAX_DEPTH = 256
#: Upper bound of path elements stored per file (each node's position key is its full path,
#: so a document both deep and wide costs depth x nodes, not nodes).
MAX_PATH_CELLS = 32_000_000

_TAG = "tag:yaml.org,2002:"
_MERGE = "tag:yaml.org,2002:merge"
_C_LOADER: Any = getattr(yaml, "CSafeLoader", None)
_TEMPLATE_RE = re.compile(r"\{\{|\{%|\$\{[A-Za-z_][A-Za-z0-9_]*\}|<%=")
_INT_RE = re.compile(r"[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|0o?[0-7_]+|[0-9][0-9_]*|[1-9][0-9_]*(:[0-5]?[0-9])+)$")


@dataclass(slots=True)
class Document:
    """One YAML document of one file."""

    path: str
    index: int
    data: Any
    pos: dict[Path, Pos]
    #: Source file named by a generator (Helm's '# Source:' comment), for piped input.
    origin: str | None = None

    def position(self, path: Path) -> Pos | None:
        """Position of the node at ``path``, or of its nearest ancestor that exists."""
        p = path
        while True:
            hit = self.pos.get(p)
            if hit is not None:
                return hit
            if not p:
                return None
            p = p[:-1]


@dataclass(slots=True)
class InputProblem:
    """A problem with the input itself (becomes a KV9xx finding)."""

    rule: str
    message: str
    line: int = 1
    column: int = 1


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


def _int(text: str) -> int | str:
    t = text.replace("_", "")
    sign = 1
    if t[:1] in "+-":
        if t[0] == "-":
            sign = -1
        t = t[1:]
    try:
        if t.startswith("0b"):
            return sign * int(t[2:], 2)
        if t.startswith("0x"):
            return sign * int(t[2:], 16)
        if t.startswith("0o"):
            return sign * int(t[2:], 8)
        if ":" in t:
            value = 0
            for part in t.split(":"):
                value = value * 60 + int(part)
            return sign * value
        if len(t) > 1 and t[0] == "0":
            return sign * int(t, 8)
        return sign * int(t)
    except ValueError:
        return text


def _float(text: str) -> float | str:
    t = text.replace("_", "").lower()
    if t in (".inf", "+.inf"):
        return math.inf
    if t == "-.inf":
        return -math.inf
    if t == ".nan":
        return math.nan
    try:
        if ":" in t:
            sign = -1.0 if t.startswith("-") else 1.0
            value = 0.0
            for part in t.lstrip("+-").split(":"):
                value = value * 60 + float(part)
            return sign * value
        return float(t)
    except ValueError:
        return text


_BOOL_TRUE = frozenset(("yes", "true", "on", "y"))


class _Converter:
    """Turns a composed node graph into plain data plus positions."""

    __slots__ = ("pos", "budget", "problems", "keys", "seen", "flagged")

    def __init__(self, problems: list[InputProblem], budget: list[int]) -> None:
        self.pos: dict[Path, Pos] = {}
        #: [nodes left, alias-expanded nodes left], shared by the documents of one file.
        self.budget = budget
        self.problems = problems
        self.keys: dict[str, str] = {}
        self.seen: set[int] = set()
        #: Key nodes already reported (an aliased mapping is converted once per alias).
        self.flagged: set[int] = set()

    def convert(self, node: Any, path: Path, kpos: tuple[int, int], depth: int, aliased: bool = False) -> Any:
        budget = self.budget
        budget[0] -= 1
        budget[2] -= len(path)
        if aliased:
            budget[1] -= 1
        if budget[0] < 0 or budget[1] < 0:
            raise _TooLarge
        if budget[2] < 0:
            raise _TooLarge(
                f"the file has too many deeply nested YAML nodes (over {MAX_PATH_CELLS} "
                "path elements in all); it was not read"
            )
        if not aliased and not isinstance(node, yaml.ScalarNode):
            if id(node) in self.seen:
                aliased = True
            else:
                self.seen.add(id(node))
        sm = node.start_mark
        em = node.end_mark
        self.pos[path] = (kpos[0], kpos[1], sm.line + 1, sm.column + 1, em.line + 1, em.column + 1)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if depth > MAX_DEPTH:
            raise _TooDeep(sm.line + 1, sm.column + 1)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(child, path + (i,), (0, 0), depth + 1, aliased) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth, aliased)
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

    def mapping(self, node: Any, path: Path, depth: int, aliased: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
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
            out[key] = self.convert(
                vnode,
                path + (key,),
                (knode.start_mark.line + 1, knode.start_mark.column + 1),
                depth + 1,
                aliased,
            )
        if merges:
            merged: dict[str, Any] = {}
            for knode, vnode in self.merge_pairs(merges):
                key = self.key_text(knode)
                if key is None or key in out or key in merged:
                    continue
                merged[key] = self.convert(
                    vnode,
                    path + (key,),
                    (knode.start_mark.line + 1, knode.start_mark.column + 1),
                    depth + 1,
                    True,
                )
            merged.update(out)
            out = merged
        return out


# -- fast path: build straight from libyaml's event stream ---------------------------------

_RESOLVERS: dict[str, list[tuple[str, Any]]] = dict(yaml.resolver.Resolver.yaml_implicit_resolvers)
_NULL_KEYS = frozenset(("", "~", "null", "Null", "NULL"))


class _Fallback(Exception):
    """The document uses a feature the fast path leaves to the node-graph converter
    (aliases, merge keys, non-string keys, very deep nesting)."""


def _typed(tag: str, value: str) -> Any:
    if not tag.startswith(_TAG):
        return value
    kind = tag[18:]
    if kind == "str":
        return value
    if kind == "null":
        return None
    if kind == "bool":
        return value.lower() in _BOOL_TRUE
    if kind == "int":
        return _int(value)
    if kind == "float":
        return _float(value)
    return value


def _scalar_value(event: Any) -> Any:
    tag = event.tag
    value: str = event.value
    if tag is None or tag == "!":
        if not event.implicit[0]:
            return value
        # Plain scalar: PyYAML's (YAML 1.1) implicit resolvers, as the composer applies them.
        if not value:
            return None
        resolvers = _RESOLVERS.get(value[0])
        if resolvers is None:
            return value
        for rtag, rx in resolvers:
            if rx.match(value):
                return _typed(rtag, value)
        return value
    return _typed(tag, value)


def _fast_documents(text: str, result: ParsedFile) -> None:
    """Documents of a file without aliases, merge keys or non-string keys, read from the
    event stream in one pass. Raises _Fallback otherwise (nothing is kept then)."""
    loader = _C_LOADER(text) if _C_LOADER is not None else yaml.SafeLoader(text)
    get = loader.get_event
    path_name = result.path
    docs: list[Document] = []
    lines: list[int] = []
    nodes = MAX_NODES
    cells = MAX_PATH_CELLS
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
            plist: list[tuple[Path, Pos]] = []
            # stack entries: [container, path, plist index, pending key, key line, key col]
            stack: list[list[Any]] = []
            root: Any = None
            first = -1
            while True:
                event = get()
                et = type(event)
                if et is ScalarEvent:
                    nodes -= 1
                    sm = event.start_mark
                    if first < 0:
                        first = sm.line
                    if stack:
                        top = stack[-1]
                        c = top[0]
                        if type(c) is dict and top[3] is None:
                            raw = event.value
                            tag = event.tag
                            if (tag is None or tag == "!") and event.implicit[0] and (raw == "<<" or raw in _NULL_KEYS):
                                raise _Fallback
                            if tag == _MERGE or tag == "tag:yaml.org,2002:null":
                                raise _Fallback  # (an explicit !!null key is null too)
                            k = keys.get(raw)
                            if k is None:
                                k = keys[raw] = raw
                            if k in c:
                                problems.append(
                                    InputProblem(
                                        "KV903",
                                        f"duplicate key {k!r}: the API server's strict decoding rejects it "
                                        "(only the last value would be read)",
                                        sm.line + 1,
                                        sm.column + 1,
                                    )
                                )
                            top[3] = k
                            top[4] = sm.line + 1
                            top[5] = sm.column + 1
                            continue
                        em = event.end_mark
                        value = event.value
                        if event.tag is not None or not event.implicit[0] or (not value or value[0] in _RESOLVERS):
                            value = _scalar_value(event)
                        cells -= len(top[1]) + 1
                        if cells < 0:
                            raise _Fallback  # the converter reports the limit precisely
                        if type(c) is dict:
                            k = top[3]
                            c[k] = value
                            plist.append(
                                (
                                    top[1] + (k,),
                                    (top[4], top[5], sm.line + 1, sm.column + 1, em.line + 1, em.column + 1),
                                )
                            )
                            top[3] = None
                        else:
                            plist.append(
                                (top[1] + (len(c),), (0, 0, sm.line + 1, sm.column + 1, em.line + 1, em.column + 1))
                            )
                            c.append(value)
                    else:
                        em = event.end_mark
                        root = _scalar_value(event)
                        plist.append(((), (0, 0, sm.line + 1, sm.column + 1, em.line + 1, em.column + 1)))
                elif et is MappingStartEvent or et is SequenceStartEvent:
                    nodes -= 1
                    sm = event.start_mark
                    if first < 0:
                        first = sm.line
                    new: Any = {} if et is MappingStartEvent else []
                    if stack:
                        top = stack[-1]
                        c = top[0]
                        if type(c) is dict:
                            k = top[3]
                            if k is None:
                                raise _Fallback  # a collection used as a key
                            c[k] = new
                            path = top[1] + (k,)
                            kl, kc = top[4], top[5]
                            top[3] = None
                        else:
                            path = top[1] + (len(c),)
                            c.append(new)
                            kl = kc = 0
                        if len(stack) >= MAX_DEPTH:
                            raise _Fallback
                    else:
                        root = new
                        path = ()
                        kl = kc = 0
                    cells -= len(path)
                    stack.append([new, path, len(plist), None, 0, 0])
                    plist.append((path, (kl, kc, sm.line + 1, sm.column + 1, 0, 0)))
                elif et is MappingEndEvent or et is SequenceEndEvent:
                    top = stack.pop()
                    em = event.end_mark
                    p, old = plist[top[2]]
                    plist[top[2]] = (p, (old[0], old[1], old[2], old[3], em.line + 1, em.column + 1))
                elif et is DocumentEndEvent:
                    break
                elif et is AliasEvent:
                    raise _Fallback
            if nodes < 0 or cells < 0:
                raise _Fallback  # the converter reports the limits precisely
            doc = Document(path_name, index, root, dict(plist))
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


_HELM_SOURCE_RE = re.compile(r"^#\s*Source:\s*(\S.*?)\s*$")


def _helm_source(text: str, first_line: int) -> str | None:
    """The '# Source: chart/templates/x.yaml' comment Helm puts above a rendered document."""
    lines = text.splitlines()
    i = min(first_line, len(lines)) - 1
    while i >= 0:
        line = lines[i].strip()
        if line.startswith("---"):
            return None
        m = _HELM_SOURCE_RE.match(line)
        if m:
            return m.group(1)
        if line and not line.startswith("#"):
            return None
        i -= 1
    return None


def parse_text(path: str, text: str) -> ParsedFile:
    """Parse a YAML or JSON file's text into documents and input problems.

    A templated file (Helm, Jinja, envsubst) yields one KV902 problem and no documents:
    its unrendered objects would only produce noise.
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
    try:
        _fast_documents(text, result)
        result.comments = _comments(text)
        if result.comments:
            result.lines = text.splitlines()
        return result
    except (_Fallback, yaml.YAMLError, RecursionError):
        # Read it again with the node-graph converter: it handles every YAML feature and
        # reports errors and limits precisely.
        result.documents.clear()
        result.doc_lines.clear()
        result.problems.clear()
    budget = [MAX_NODES, MAX_ALIAS_NODES, MAX_PATH_CELLS]
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
                data = conv.convert(node, (), (0, 0), 0)
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
            result.documents.append(Document(path, index, data, conv.pos))
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
    result.comments = _comments(text)
    if result.comments:
        result.lines = text.splitlines()
    return result
