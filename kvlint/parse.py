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

Path = tuple[Any, ...]
Pos = tuple[int, int, int, int, int, int]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Upper bound of nodes converted per file (alias expansion included).
MAX_NODES = 2_000_000
#: Upper bound of nodes produced by re-using anchored collections (alias expansion).
MAX_ALIAS_NODES = 100_000
#: Deepest nesting accepted; deeper documents are reported, not converted.
MAX_DEPTH = 256

_TAG = "tag:yaml.org,2002:"
_TEMPLATE_RE = re.compile(r"\{\{|\{%|\$\{[A-Za-z_][A-Za-z0-9_]*\}|<%=")
_INT_RE = re.compile(r"[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|0o?[0-7_]+|[0-9][0-9_]*|[1-9][0-9_]*(:[0-5]?[0-9])+)$")


@dataclass(slots=True)
class Document:
    """One YAML document of one file."""

    path: str
    index: int
    data: Any
    pos: dict[Path, Pos]

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
    pass


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

    __slots__ = ("pos", "budget", "problems", "keys", "seen")

    def __init__(self, problems: list[InputProblem], budget: list[int]) -> None:
        self.pos: dict[Path, Pos] = {}
        #: [nodes left, alias-expanded nodes left], shared by the documents of one file.
        self.budget = budget
        self.problems = problems
        self.keys: dict[str, str] = {}
        self.seen: set[int] = set()

    def convert(
        self, node: Any, path: Path, kpos: tuple[int, int], depth: int, aliased: bool = False
    ) -> Any:
        budget = self.budget
        budget[0] -= 1
        if aliased:
            budget[1] -= 1
        if budget[0] < 0 or budget[1] < 0:
            raise _TooLarge
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
            return [
                self.convert(child, path + (i,), (0, 0), depth + 1, aliased)
                for i, child in enumerate(node.value)
            ]
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth, aliased)
        return None  # pragma: no cover - libyaml has no other node kinds

    @staticmethod
    def scalar(node: Any) -> Any:
        tag: str = node.tag
        value: str = node.value
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

    def key_text(self, node: Any) -> str | None:
        if isinstance(node, yaml.ScalarNode):
            value = node.value
            if node.tag == "tag:yaml.org,2002:null":
                value = "null"
            k = self.keys.get(value)
            if k is None:
                k = self.keys[value] = value
            return k
        self.problems.append(
            InputProblem(
                "KV904",
                "a mapping key is a collection; Kubernetes only accepts string keys",
                node.start_mark.line + 1,
                node.start_mark.column + 1,
            )
        )
        return None

    def mapping(self, node: Any, path: Path, depth: int, aliased: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merges: list[Any] = []
        for knode, vnode in node.value:
            if knode.tag == "tag:yaml.org,2002:merge":
                merges.append(vnode)
                continue
            key = self.key_text(knode)
            if key is None:
                continue
            if key in out:
                self.problems.append(
                    InputProblem(
                        "KV903",
                        f"duplicate key {key!r}: the API server's strict decoding rejects it "
                        "(only the last value would be read)",
                        knode.start_mark.line + 1,
                        knode.start_mark.column + 1,
                    )
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
            for m in merges:
                sources = m.value if isinstance(m, yaml.SequenceNode) else [m]
                for src in sources:
                    if not isinstance(src, yaml.MappingNode):
                        continue
                    for knode, vnode in src.value:
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
            if hash_at < 0 or hash_at > m.start() or (
                hash_at > 0 and line[hash_at - 1] not in " \t"
            ):
                return lineno, m.start() + 1
        if _BLOCK_START_RE.search(line.rstrip()):
            block_indent = indent
    return None


def _comments(text: str) -> dict[int, str]:
    out: dict[int, str] = {}
    if "#" not in text:
        return out
    for i, line in enumerate(text.splitlines(), 1):
        j = line.find("#")
        if j >= 0 and "kvlint" in line:
            out[i] = line[j:]
    return out


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
    budget = [MAX_NODES, MAX_ALIAS_NODES]
    loader = _Loader(text)
    index = 0
    try:
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
                        f"document {index + 1} is nested more than {MAX_DEPTH} levels deep; "
                        "it was not read",
                        e.line,
                        e.column,
                    )
                )
                index += 1
                continue
            result.documents.append(Document(path, index, data, conv.pos))
            result.doc_lines.append(node.start_mark.line + 1)
            index += 1
    except _TooLarge:
        result.documents.clear()
        result.problems.append(
            InputProblem(
                "KV905",
                "the file expands to too many YAML nodes (alias expansion over "
                f"{MAX_ALIAS_NODES} or {MAX_NODES} in all); it was not read",
            )
        )
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        col = mark.column + 1 if mark is not None else 1
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        if "nesting depth" in problem:
            result.problems.append(
                InputProblem("KV905", f"the file is nested too deeply to be read ({problem})", line, col)
            )
        else:
            result.problems.append(InputProblem("KV901", f"invalid YAML: {problem}", line, col))
    except RecursionError:
        result.documents.clear()
        result.problems.append(
            InputProblem("KV905", "the file is nested too deeply to be read", 1, 1)
        )
    finally:
        loader.dispose()
    result.comments = _comments(text)
    if result.comments:
        result.lines = text.splitlines()
    return result
