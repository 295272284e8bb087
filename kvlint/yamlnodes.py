"""The shared node and position types of a parsed YAML document (``Document``, ``PMap``,
``PList``, packed positions, ``InputProblem``) and YAML 1.1 scalar resolution: what the
parser (``parse``) and the block reader (``blockyaml``) both build on."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

Path = tuple[Any, ...]
Pos = tuple[int, int, int, int, int, int]

#: Deepest nesting accepted; deeper documents are reported, not converted.
MAX_DEPTH = 256

_TAG = "tag:yaml.org,2002:"


@dataclass(slots=True)
class Document:
    """One YAML document of one file.

    Parsed documents keep their positions inside the data: every mapping is a ``PMap`` and
    every list a ``PList`` carrying a packed position per entry (no path tuples, a few dozen
    bytes per node); ``root`` is the document node's own. A document built elsewhere (a stub,
    an assumed object) may pass an explicit ``{path: Pos}`` map instead.
    """

    path: str
    index: int
    data: Any
    explicit: dict[Path, Pos] | None = None
    #: Source file named by a generator (Helm's '# Source:' comment), for piped input.
    origin: str | None = None
    root: int = 0

    # Pickled by the constructor's arguments (the context cache and parallel runs move many
    # documents): much cheaper to load than the state dataclasses with slots use by default.
    def __reduce__(self) -> tuple[Any, ...]:
        return (Document, (self.path, self.index, self.data, self.explicit, self.origin, self.root))

    def _walk(self, path: Path) -> tuple[int, int]:
        """(packed position of the deepest existing node on ``path``, its depth)."""
        node = self.data
        packed = self.root
        depth = 0
        for k in path:
            table = getattr(node, "_p", None)
            if table is None:
                break
            if isinstance(node, dict):
                hit = table.get(k) if isinstance(k, str) else None
            else:
                hit = table[k] if isinstance(k, int) and 0 <= k < len(table) else None
            if hit is None:
                break
            packed = hit
            node = node[k]
            depth += 1
        return packed, depth

    def position(self, path: Path) -> Pos | None:
        """Position of the node at ``path``, or of its nearest ancestor that exists."""
        if self.explicit is not None:
            p = path
            while True:
                found = self.explicit.get(p)
                if found is not None:
                    return found
                if not p:
                    return None
                p = p[:-1]
        packed, _ = self._walk(path)
        return unpack(packed) if packed else None

    def exact(self, path: Path) -> Pos | None:
        """Position of the node at exactly ``path``; None when there is no such node."""
        if self.explicit is not None:
            return self.explicit.get(path)
        packed, depth = self._walk(path)
        return unpack(packed) if packed and depth == len(path) else None

    def positions(self) -> Iterator[tuple[Path, Pos]]:
        """Every (path, position) of the document, parents before children."""
        if self.explicit is not None:
            yield from self.explicit.items()
            return
        if self.root:
            yield (), unpack(self.root)
        stack: list[tuple[Path, Any]] = [((), self.data)]
        while stack:
            base, node = stack.pop()
            table = getattr(node, "_p", None)
            if table is None:
                continue
            items = table.items() if isinstance(node, dict) else enumerate(table)
            for k, packed in items:
                yield base + (k,), unpack(packed)
                stack.append((base + (k,), node[k]))

    @property
    def pos(self) -> _PosView:
        return _PosView(self)


class _PosView(Mapping[Path, Pos]):
    """Read-only ``{path: Pos}`` view of a document's positions."""

    __slots__ = ("doc",)

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def get(self, path: Path, default: Any = None) -> Any:
        hit = self.doc.exact(path)
        return default if hit is None else hit

    def __getitem__(self, path: Path) -> Pos:
        hit = self.doc.exact(path)
        if hit is None:
            raise KeyError(path)
        return hit

    def __contains__(self, path: object) -> bool:
        return isinstance(path, tuple) and self.doc.exact(path) is not None

    def __iter__(self) -> Iterator[Path]:
        return (p for p, _ in self.doc.positions())

    def __len__(self) -> int:
        return sum(1 for _ in self.doc.positions())


class PMap(dict):  # type: ignore[type-arg]
    """A mapping from a parsed document: ``_p[key]`` is the packed position of the entry
    (its key, and its value's start and end)."""

    __slots__ = ("_p",)
    _p: dict[str, int]


class PList(list):  # type: ignore[type-arg]
    """A list from a parsed document: ``_p[i]`` is the packed position of item ``i``."""

    __slots__ = ("_p",)
    _p: list[int]


_B = 24
_M = (1 << _B) - 1


def pack(kl: int, kc: int, line: int, col: int, el: int, ec: int) -> int:
    """Six 1-based positions (key line/column, value start, value end) in one int, 24 bits
    each (the parser's fast path writes the same layout inline: kl << 120 | kc << 96 |
    line << 72 | col << 48 | el << 24 | ec). Files are far below 16M lines or columns."""
    return (
        ((((((min(kl, _M) << _B) | min(kc, _M)) << _B | min(line, _M)) << _B) | min(col, _M)) << _B | min(el, _M)) << _B
    ) | min(ec, _M)


def unpack(packed: int) -> Pos:
    return (
        (packed >> (5 * _B)) & _M,
        (packed >> (4 * _B)) & _M,
        (packed >> (3 * _B)) & _M,
        (packed >> (2 * _B)) & _M,
        (packed >> _B) & _M,
        packed & _M,
    )


@dataclass(slots=True)
class InputProblem:
    """A problem with the input itself (becomes a KV9xx finding)."""

    rule: str
    message: str
    line: int = 1
    column: int = 1


#: Integers longer than this many bits (about 3,900 decimal digits) stay text: Python
#: cannot print an integer of more than 4,300 digits, and no API field holds one.
MAX_INT_BITS = 13_000


def _int(text: str) -> int | str:
    value = _int_value(text)
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        return text
    return value


def _int_value(text: str) -> int | str:
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

_RESOLVERS: dict[str, list[tuple[str, Any]]] = dict(yaml.resolver.Resolver.yaml_implicit_resolvers)


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


def _plain_value(value: str) -> Any:
    """A plain scalar's value: PyYAML's (YAML 1.1) implicit resolvers, as the composer
    applies them."""
    if not value:
        return None
    resolvers = _RESOLVERS.get(value[0])
    if resolvers is None:
        return value
    for rtag, rx in resolvers:
        if rx.match(value):
            return _typed(rtag, value)
    return value


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
