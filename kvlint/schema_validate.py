"""A small, fast validator for kvlint's structural JSON Schemas (``schemas/``).

The schemas use a restricted keyword subset of draft 2020-12 (``$ref`` local or into
``_defs.json``, ``$defs``, ``type``, ``properties``, ``additionalProperties``, ``required``,
``enum``, ``items``, ``pattern``, ``minimum``, ``maximum``; ``$schema``, ``$id`` and
``description`` are annotations). ``x-kvlint-releases`` on a property (or a whole schema) names
the releases it exists in (``"v1.6-v1.9"``, ``"v1.0-v1.2,v1.5-v1.9"``; absent: every release);
the schemas are compiled for one target release, and a key that exists only in other releases is
reported as such (keyword ``release``), not as unknown. Each schema is compiled once per process into a graph of
:class:`_Node` objects with every ``$ref`` resolved, and documents are checked by one
recursive walk over the data. Nothing heavy is imported: the JSON files are read with the
standard library on first use.

Verdicts agree with ``jsonschema``'s Draft202012Validator (tests/test_schema_validate.py):
booleans are not integers or numbers, an integral float is an integer, ``pattern`` uses
``re.search`` and applies to strings only, ``minimum``/``maximum`` to numbers only. Errors
differ on purpose in two ways: each names the deepest path at fault (an unknown key's own
path, not its parent's), and a node whose type is wrong reports only that.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from kvlint.parse import PList, PMap

#: Errors reported per document at most.
MAX_ERRORS = 50

Path = tuple[Any, ...]


@dataclass(frozen=True, slots=True, eq=False)
class SchemaError:
    """One schema violation at ``path`` (keys and list indexes from the object root)."""

    path: Path
    #: additionalProperties | release | required | type | enum | pattern | minimum | maximum
    keyword: str
    message: str
    #: The offending value (for ``required``: the missing field's name).
    value: Any = None
    #: Allowed property names (additionalProperties), enum values, JSON type names or (release)
    #: the releases the field exists in.
    expected: tuple[Any, ...] = ()
    #: Closest allowed name or value, when one is close enough.
    suggestion: str | None = None


# --------------------------------------------------------------------------- compiled schema

_NONE_TYPE = type(None)
_PY_TYPES: dict[str, tuple[type, ...]] = {
    # Parsed documents use dict/list subclasses that carry positions.
    "object": (dict, PMap),
    "array": (list, PList),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "null": (_NONE_TYPE,),
}

_QUANTITY = "a Kubernetes quantity such as 512Mi, 1Gi or 500m"
_DURATION = "a duration such as 1m0s, 90s or 48h"
#: What a pattern means, by the $defs entry that declares it or by the pattern itself.
_PATTERN_MEANING: dict[str, str] = {
    "Quantity": _QUANTITY,
    "QuantityString": _QUANTITY,
    "Duration": _DURATION,
    r"^(0(?:\.\d{1,3})?|1)$": 'a fraction from 0 to 1 with at most 3 decimals, e.g. "0.055"',
    r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$": "a MAC address such as 02:00:00:00:00:01",
}


class _Node:
    """A compiled (sub)schema."""

    __slots__ = (
        "types",
        "type_names",
        "int_float",
        "props",
        "addl",
        "closed",
        "required",
        "enum",
        "enum_set",
        "items",
        "pattern",
        "pattern_meaning",
        "minimum",
        "maximum",
        "refs",
        "simple",
        "any",
        "name",
        "absent",
        "component",
        "release",
        "_index",
    )

    def __init__(self) -> None:
        self.types: frozenset[type] | None = None
        self.type_names: tuple[str, ...] = ()
        #: "integer" is allowed but "number" is not: an integral float still passes.
        self.int_float = False
        self.props: dict[str, _Node] | None = None
        self.addl: _Node | None = None
        self.closed = False
        self.required: tuple[str, ...] = ()
        self.enum: tuple[Any, ...] | None = None
        #: The enum as a set, when all of its values are strings.
        self.enum_set: frozenset[str] | None = None
        self.items: _Node | None = None
        self.pattern: re.Pattern[str] | None = None
        self.pattern_meaning = ""
        self.minimum: float | None = None
        self.maximum: float | None = None
        self.refs: tuple[_Node, ...] = ()
        #: Only a type check (or nothing) to do: checked inline by the parent.
        self.simple = False
        #: Accepts every value.
        self.any = False
        #: Name of the $defs entry this node was compiled from.
        self.name = ""
        #: Properties that exist in other releases than the target: name -> their releases.
        self.absent: dict[str, str] | None = None
        #: kubevirt | cdi | hco | core: whose releases ``absent`` counts.
        self.component = ""
        #: The release this node was compiled for.
        self.release: Release = (0, 0)
        self._index: dict[str, list[Path]] | None = None

    def finish(self) -> None:
        self.simple = (
            self.props is None
            and self.addl is None
            and not self.closed
            and not self.required
            and self.enum is None
            and self.items is None
            and self.pattern is None
            and self.minimum is None
            and self.maximum is None
            and not self.refs
        )
        self.any = self.simple and self.types is None

    def property_names(self) -> tuple[str, ...]:
        names: list[str] = list(self.props or ())
        for r in self.refs:
            names.extend(r.property_names())
        return tuple(dict.fromkeys(names))

    def absent_range(self, key: str) -> str | None:
        """The releases ``key`` exists in, when it is a property of another release."""
        if self.absent is not None and key in self.absent:
            return self.absent[key]
        for r in self.refs:
            hit = r.absent_range(key)
            if hit is not None:
                return hit
        return None

    def child(self, key: Any) -> _Node | None:
        """The node that validates ``value[key]``, or None when nothing declares it."""
        if isinstance(key, int):
            if self.items is not None:
                return self.items
        else:
            if self.props is not None and key in self.props:
                return self.props[key]
            if self.addl is not None:
                return self.addl
        for r in self.refs:
            hit = r.child(key)
            if hit is not None:
                return hit
        return None

    def descendants_named(self, name: str, max_depth: int = 3) -> list[Path]:
        """Relative paths (through object properties only) where ``name`` is declared,
        shallowest first."""
        if self._index is None:
            index: dict[str, list[Path]] = {}
            seen: set[int] = set()
            frontier: list[tuple[_Node, Path]] = [(self, ())]
            for _ in range(max_depth):
                nxt: list[tuple[_Node, Path]] = []
                for node, rel in frontier:
                    if id(node) in seen:
                        continue
                    seen.add(id(node))
                    for n in (node, *node.refs):
                        for key, sub in (n.props or {}).items():
                            index.setdefault(key, []).append(rel + (key,))
                            nxt.append((sub, rel + (key,)))
                frontier = nxt
            self._index = index
        return self._index.get(name, [])


RANGE_KEY = "x-kvlint-releases"
_ANNOTATIONS = frozenset(("$ref", "$schema", "$id", "$defs", "description", RANGE_KEY))

Release = tuple[int, int]


def release_name(r: Release) -> str:
    return f"v{r[0]}.{r[1]}"


def parse_ranges(text: str) -> tuple[tuple[Release, Release], ...]:
    """``"v1.0-v1.2,v1.5-v1.9"`` -> ``(((1, 0), (1, 2)), ((1, 5), (1, 9)))``."""
    out: list[tuple[Release, Release]] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        a = _rel(lo)
        out.append((a, _rel(hi) if hi else a))
    return tuple(out)


def _rel(text: str) -> Release:
    major, _, minor = text.strip().lstrip("v").partition(".")
    return int(major), int(minor or 0)


def in_ranges(text: str, release: Release) -> bool:
    return any(lo <= release <= hi for lo, hi in parse_ranges(text))


def _component(file: str) -> str:
    if file.startswith("cdi."):
        return "cdi"
    if file.startswith("hco."):
        return "hco"
    if file.startswith(("core_", "storage.", "k8s.")):
        return "core"
    return "kubevirt"


class _Compiler:
    def __init__(self, docs: dict[str, dict[str, Any]], release: Release = (1, 9)) -> None:
        self.docs = docs
        self.release = release
        self.components: dict[str, str] = {}
        self.memo: dict[int, _Node] = {}
        self.resolving: set[int] = set()

    def resolve(self, ref: str, file: str) -> tuple[dict[str, Any], str, str]:
        target_file, _, pointer = ref.partition("#")
        target_file = target_file or file
        cur: Any = self.docs[target_file]
        name = ""
        for part in pointer.lstrip("/").split("/") if pointer.strip("/") else ():
            name = part.replace("~1", "/").replace("~0", "~")
            cur = cur[name]
        if not isinstance(cur, dict):
            raise ValueError(f"{file}: $ref {ref!r} does not point at a schema")
        return cur, target_file, name

    def node(self, schema: dict[str, Any], file: str, name: str = "") -> _Node:
        key = id(schema)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        ref = schema.get("$ref")
        validating = set(schema) - _ANNOTATIONS
        if ref is not None and not validating:
            # A pure reference: share the target's node.
            if key in self.resolving:
                raise ValueError(f"{file}: $ref cycle through {ref!r}")
            self.resolving.add(key)
            target, tfile, tname = self.resolve(ref, file)
            n = self.node(target, tfile, tname)
            self.resolving.discard(key)
            self.memo[key] = n
            return n
        n = _Node()
        n.name = name
        comp = self.components.get(file)
        if comp is None:
            comp = self.components[file] = _component(file)
        n.component = comp
        n.release = self.release
        self.memo[key] = n
        t = schema.get("type")
        if t is not None:
            names = tuple(t) if isinstance(t, list) else (t,)
            py: set[type] = set()
            for tn in names:
                py.update(_PY_TYPES[tn])
            n.types = frozenset(py)
            n.type_names = names
            n.int_float = "integer" in names and "number" not in names
        props = schema.get("properties")
        if props is not None:
            n.props = {}
            for k, v in props.items():
                rng = v.get(RANGE_KEY)
                if rng is not None and not in_ranges(rng, self.release):
                    if n.absent is None:
                        n.absent = {}
                    n.absent[k] = rng
                    continue
                n.props[k] = self.node(v, file, "")
        addl = schema.get("additionalProperties")
        if addl is False:
            n.closed = True
            if n.props is None:
                n.props = {}
        elif isinstance(addl, dict):
            n.addl = self.node(addl, file, "")
        req = schema.get("required")
        if req:
            n.required = tuple(req)
        if "enum" in schema:
            n.enum = tuple(schema["enum"])
            if all(type(v) is str for v in n.enum):
                n.enum_set = frozenset(n.enum)
        items = schema.get("items")
        if isinstance(items, dict):
            n.items = self.node(items, file, "")
        pat = schema.get("pattern")
        if pat is not None:
            n.pattern = re.compile(pat)
            n.pattern_meaning = _PATTERN_MEANING.get(name) or _PATTERN_MEANING.get(pat, "")
        if "minimum" in schema:
            n.minimum = schema["minimum"]
        if "maximum" in schema:
            n.maximum = schema["maximum"]
        if ref is not None:
            target, tfile, tname = self.resolve(ref, file)
            n.refs = (self.node(target, tfile, tname),)
        n.finish()
        return n


# --------------------------------------------------------------------------- loading (lazy)

_STATE: dict[str, Any] = {}
_ROOTS: dict[tuple[str, Release], _Node | None] = {}
#: The release compiled when none is given (kvlint's default target).
DEFAULT_RELEASE: Release = (1, 9)


def _schema_dir() -> FsPath:
    from kvlint.catalog import resource_dir

    return resource_dir("schemas")


def _read(name: str) -> Any:
    with open(_schema_dir() / name, encoding="utf-8") as fh:
        return json.load(fh)


def index() -> dict[str, Any]:
    """``schemas/index.json`` (``schemas`` and ``deprecatedApiVersions``)."""
    idx = _STATE.get("index")
    if idx is None:
        idx = _STATE["index"] = _read("index.json")
    return idx  # type: ignore[no-any-return]


def _docs() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] | None = _STATE.get("docs")
    if docs is None:
        docs = _STATE["docs"] = {"_defs.json": _read("_defs.json")}
    return docs


def _compiler(release: Release) -> _Compiler:
    comps: dict[Release, _Compiler] = _STATE.setdefault("compilers", {})
    comp = comps.get(release)
    if comp is None:
        comp = comps[release] = _Compiler(_docs(), release)
    return comp


def _doc(fname: str) -> dict[str, Any]:
    docs = _docs()
    if fname not in docs:
        docs[fname] = _read(fname)
    return docs[fname]


def modelled_release(release: Release | None) -> Release:
    """The release whose schemas model ``release``: itself, or the nearest release kvlint has
    schemas for (a newer target is checked as the newest, an older one as the oldest)."""
    if release is None:
        return DEFAULT_RELEASE
    bounds: tuple[Release, Release] | None = _STATE.get("bounds")
    if bounds is None:
        known = sorted(parse_ranges(n)[0][0] for n in index().get("releases") or {}) or [DEFAULT_RELEASE]
        bounds = _STATE["bounds"] = (known[0], known[-1])
    return min(max(release, bounds[0]), bounds[1])


def compiled(api_version: str, kind: str, release: Release | None = None) -> _Node | None:
    """The compiled schema of ``apiVersion/kind`` as of ``release`` (cached), or None when
    kvlint has none."""
    rel = modelled_release(release)
    key = (f"{api_version}/{kind}", rel)
    try:
        return _ROOTS[key]
    except KeyError:
        pass
    fname = index()["schemas"].get(key[0])
    root = None
    if fname is not None:
        root = _compiler(rel).node(_doc(fname), fname)
    _ROOTS[key] = root
    return root


def kind_releases(api_version: str, kind: str) -> str | None:
    """The releases that serve ``apiVersion/kind``, when kvlint has its schema and not every
    release does."""
    key = f"{api_version}/{kind}"
    cache: dict[str, str | None] = _STATE.setdefault("kind_releases", {})
    if key not in cache:
        fname = index()["schemas"].get(key)
        rng = _doc(fname).get(RANGE_KEY) if fname is not None else None
        cache[key] = str(rng) if rng is not None else None
    return cache[key]


def kind_component(api_version: str, kind: str) -> str:
    """kubevirt | cdi | hco | core: whose releases the schema of ``apiVersion/kind`` follows."""
    return _component(str(index()["schemas"].get(f"{api_version}/{kind}", "")))


def field_releases(api_version: str, kind: str, path: Path) -> str | None:
    """The releases the field at ``path`` (object keys from the root) exists in: None when it
    exists in every release (or is not declared at all)."""
    fname = index()["schemas"].get(f"{api_version}/{kind}")
    if fname is None:
        return None
    cur: Any = _doc(fname)
    file = fname
    for key in path:
        while "$ref" in cur and "properties" not in cur:
            target, _, pointer = str(cur["$ref"]).partition("#")
            file = target or file
            cur = _doc(file)
            for part in pointer.strip("/").split("/"):
                cur = cur[part]
        props = cur.get("properties")
        if not isinstance(props, dict) or key not in props:
            return None
        cur = props[key]
    rng = cur.get(RANGE_KEY)
    return str(rng) if rng is not None else None


def release_info(release: Release) -> dict[str, str | None]:
    """The upstream tags kvlint's schemas model for ``release`` (kubevirt, cdi, hco)."""
    info = index().get("releases", {}).get(release_name(release))
    return dict(info) if isinstance(info, dict) else {}


def node_at(root: _Node, path: Path) -> _Node | None:
    """The node that validates the data at ``path``, if the schema declares it."""
    cur: _Node | None = root
    for key in path:
        if cur is None:
            return None
        cur = cur.child(key)
    return cur


# --------------------------------------------------------------------------- messages


def path_str(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _materialize(link: Any) -> Path:
    out: list[Any] = []
    while link:
        link, key = link
        out.append(key)
    out.reverse()
    return tuple(out)


def show(value: Any) -> str:
    """A value the way a manifest would show it."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return type(value).__name__


_ARTICLE = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {show(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


_BOOL_WORDS = frozenset(("true", "false", "yes", "no", "on", "off", "y", "n"))
_NUMERIC = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _type_hint(names: tuple[str, ...], value: Any) -> str:
    if "string" in names:
        if isinstance(value, bool):
            return " (YAML reads unquoted yes/no/on/off/true/false as booleans — quote it)"
        if isinstance(value, (int, float)):
            return " (YAML reads unquoted numbers as numbers — quote it)"
        if value is None:
            return ' (an empty value is null in YAML — write "" or remove the key)'
    if isinstance(value, str):
        if "boolean" in names and value.lower() in _BOOL_WORDS:
            return " (remove the quotes)"
        if ("integer" in names or "number" in names) and _NUMERIC.fullmatch(value.strip()):
            return " (remove the quotes)"
    if "array" in names and isinstance(value, dict):
        return " (start each list item with '- ')"
    if "object" in names and value is None:
        return " (an empty value is null in YAML; write {} or remove the key)"
    return ""


def _type_error(node: _Node, value: Any, path: Path) -> SchemaError:
    names = tuple(n for n in node.type_names if n != "null") or node.type_names
    if "integer" in names and "number" in names:
        names = tuple(n for n in names if n != "integer")
    want = " or ".join(_ARTICLE[n] for n in names)
    where = path_str(path) or "the document"
    msg = f"{where}: expected {want}, got {_got(value)}{_type_hint(names, value)}"
    return SchemaError(path, "type", msg, value, node.type_names)


def _distance(a: str, b: str, limit: int | None = None) -> int:
    """Optimal string alignment distance (edits, adjacent swaps count one). With ``limit``:
    ``limit + 1`` for any distance over it (known early, often after a few rows)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        # Each cell is at least the smaller of the two rows above it (a swap looks two
        # rows back): once both rows exceed the limit, so does the distance.
        if limit is not None and min(cur) > limit and (not prev or min(prev) > limit):
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1] if limit is None else min(prev[-1], limit + 1)


def close_match(word: str, options: tuple[str, ...] | list[str]) -> str | None:
    """The option ``word`` most likely misspells: a case-insensitive equal first, then the
    nearest by edit distance (at most 2, or a quarter of the word), or an option that
    extends the word (``guestAgent`` -> ``guestAgentPing``)."""
    if not options or not word:
        return None
    return _close_match(word, tuple(options))


@functools.lru_cache(maxsize=4096)
def _close_match(word: str, options: tuple[str, ...]) -> str | None:
    # (a tree repeats its misspellings: the answer for a word and a field list is kept)
    low = word.lower()
    limit = min(max(2, len(low) // 4), len(low) // 2)
    best: tuple[int, int, str] | None = None
    for i, o in enumerate(options):
        ol = o.lower()
        if ol == low:
            return o
        extends = len(low) >= 5 and ol.startswith(low)
        if abs(len(ol) - len(low)) > max(2, len(low) // 4) and not extends:
            continue
        d = _distance(low, ol, None if extends else limit)
        if d <= limit or extends:
            cand = (d, i, o)
            if best is None or cand < best:
                best = cand
    return best[2] if best else None


def _unknown_error(node: _Node, key: str, parent: Path) -> SchemaError:
    allowed = node.property_names()
    hint = close_match(key, allowed) if isinstance(key, str) else None
    where = f"in {path_str(parent)}" if parent else "at the top level"
    msg = f"unknown field {key!r} {where}"
    if hint:
        msg += f" (did you mean {hint!r}?)"
    elif not allowed:
        msg += " (it must be empty: {})"
    return SchemaError(parent + (key,), "additionalProperties", msg, key, allowed, hint)


def _release_error(node: _Node, key: str, parent: Path, ranges: str, release: Release) -> SchemaError:
    where = f"in {path_str(parent)}" if parent else "at the top level"
    msg = f"field {key!r} {where} {release_phrase(ranges, release, node.component)}"
    return SchemaError(parent + (key,), "release", msg, key, (ranges, release_name(release), node.component))


_COMPONENT = {"cdi": "CDI", "hco": "HCO"}


def _shipped(component: str, r: Release) -> str:
    """``KubeVirt v1.6`` or ``CDI v1.63.1 (shipped with KubeVirt v1.6)``."""
    name = _COMPONENT.get(component)
    tag = release_info(r).get(component) if name else None
    if not name or not tag:
        return f"KubeVirt {release_name(r)}"
    if re.fullmatch(r"[0-9a-f]{40}", tag):
        tag = f"main@{tag[:10]}"
    return f"{name} {tag} (shipped with KubeVirt {release_name(r)})"


def release_phrase(ranges: str, release: Release, component: str = "kubevirt") -> str:
    """``exists from KubeVirt v1.6; the target is v1.5`` and the like."""
    spans = parse_ranges(ranges)
    first, last = spans[0][0], spans[-1][1]
    target = f"the target is KubeVirt {release_name(release)}"
    if release < first:
        return f"exists from {_shipped(component, first)}; {target}"
    if release > last:
        return f"was removed after {_shipped(component, last)}; {target}"
    listed = ", ".join(release_name(a) if a == b else f"{release_name(a)}-{release_name(b)}" for a, b in spans)
    return f"exists only in KubeVirt {listed}; {target}"


def _enum_error(node: _Node, value: Any, path: Path) -> SchemaError:
    enum = node.enum or ()
    listed = ", ".join(str(v) if isinstance(v, str) else show(v) for v in enum[:16])
    if len(enum) > 16:
        listed += f", ... ({len(enum)} values)"
    strings = tuple(v for v in enum if isinstance(v, str))
    hint = close_match(value, strings) if isinstance(value, str) else None
    msg = f"{path_str(path) or 'the document'}: {show(value)} is not one of {listed}"
    if hint:
        msg += f" (did you mean {hint!r}?)"
    return SchemaError(path, "enum", msg, value, enum, hint)


def _pattern_error(node: _Node, value: str, path: Path) -> SchemaError:
    assert node.pattern is not None
    meaning = node.pattern_meaning
    if meaning:
        msg = f"{path_str(path)}: {show(value)} is not {meaning}"
    else:
        msg = f"{path_str(path)}: {show(value)} does not match the pattern {node.pattern.pattern}"
    return SchemaError(path, "pattern", msg, value, (node.pattern.pattern,))


def _range_error(keyword: str, value: Any, bound: float, path: Path) -> SchemaError:
    how = "less than the minimum" if keyword == "minimum" else "greater than the maximum"
    msg = f"{path_str(path)}: {show(value)} is {how} {bound}"
    return SchemaError(path, keyword, msg, value, (bound,))


def _required_error(name: str, path: Path) -> SchemaError:
    where = f"in {path_str(path)}" if path else "at the top level"
    return SchemaError(path, "required", f"missing required field {name!r} {where}", name)


# --------------------------------------------------------------------------- validation


class _Full(Exception):
    pass


def _add(errs: list[SchemaError], e: SchemaError) -> None:
    errs.append(e)
    if len(errs) >= MAX_ERRORS:
        raise _Full


def _enum_ok(node: _Node, value: Any) -> bool:
    es = node.enum_set
    if es is not None:
        return type(value) is str and value in es
    return any(_equal(e, value) for e in node.enum or ())


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans differ from numbers, also inside lists and mappings."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return False
    return bool(a == b)


def _walk(node: _Node, value: Any, link: Any, errs: list[SchemaError]) -> None:
    """Validate ``value`` against ``node``. ``link`` is the path as nested pairs
    ``(parent_link, key)`` (``()`` at the root), turned into a tuple only on error."""
    t = type(value)
    types = node.types
    if types is not None and t not in types and not (node.int_float and t is float and value.is_integer()):
        _add(errs, _type_error(node, value, _materialize(link)))
        return
    for r in node.refs:
        _walk(r, value, link, errs)
    if node.enum is not None and not _enum_ok(node, value):
        _add(errs, _enum_error(node, value, _materialize(link)))
    if t is PMap or t is dict:
        props = node.props
        addl = node.addl
        if props is not None or addl is not None:
            closed = node.closed
            for k, v in value.items():
                sub = props.get(k) if props is not None else None
                if sub is None:
                    if closed:
                        rng = node.absent_range(k) if node.absent is not None or node.refs else None
                        if rng is not None:
                            _add(errs, _release_error(node, k, _materialize(link), rng, node.release))
                        else:
                            _add(errs, _unknown_error(node, k, _materialize(link)))
                        continue
                    sub = addl
                    if sub is None:
                        continue
                if sub.simple:
                    st = sub.types
                    if st is None:
                        continue
                    vt = type(v)
                    if vt in st or (sub.int_float and vt is float and v.is_integer()):
                        continue
                    _add(errs, _type_error(sub, v, _materialize((link, k))))
                else:
                    _walk(sub, v, (link, k), errs)
        if node.required:
            for name in node.required:
                if name not in value:
                    _add(errs, _required_error(name, _materialize(link)))
    elif t is PList or t is list:
        sub = node.items
        if sub is not None and not sub.any:
            for i, v in enumerate(value):
                _walk(sub, v, (link, i), errs)
    elif t is str:
        pat = node.pattern
        if pat is not None and pat.search(value) is None:
            _add(errs, _pattern_error(node, value, _materialize(link)))
    elif t is int or t is float:
        lo = node.minimum
        if lo is not None and value < lo:
            _add(errs, _range_error("minimum", value, lo, _materialize(link)))
        hi = node.maximum
        if hi is not None and value > hi:
            _add(errs, _range_error("maximum", value, hi, _materialize(link)))


def validate_node(root: _Node, data: Any) -> list[SchemaError]:
    """Every violation of ``data`` against a compiled schema, at most :data:`MAX_ERRORS`."""
    errs: list[SchemaError] = []
    with contextlib.suppress(_Full):
        _walk(root, data, (), errs)
    return errs


# --------------------------------------------------------------------------- library fast path

#: Objects validated by the in-house walk alone (per process) before the verdicts of the
#: compiled library validator are used: importing jsonschema-rs and compiling a
#: VirtualMachine schema costs about 45 ms, a valid object then some 65 µs less than the
#: walk, so it pays from about 700 objects on; 2,000 keeps it out of runs where it barely would.
FAST_AFTER = 2000
_ID_BASE = "https://kvlint.example/schemas/"
_FAST: dict[str, Any] = {"count": 0}
_FAST_VALIDATORS: dict[tuple[str, Release], Any] = {}


def _library() -> Any:
    """The ``jsonschema_rs`` module, or None when it is not installed."""
    if "lib" not in _FAST:
        try:
            import jsonschema_rs
        except ImportError:  # an optional speed-up: the in-house walk decides alone
            _FAST["lib"] = None
        else:
            _FAST["lib"] = jsonschema_rs
    return _FAST["lib"]


def release_view(doc: Any, release: Release) -> Any:
    """``doc`` without the properties ``release`` lacks (what :class:`_Compiler` compiles)."""
    if isinstance(doc, dict):
        out: dict[str, Any] = {}
        for k, v in doc.items():
            if k == RANGE_KEY:
                continue
            if k == "properties" and isinstance(v, dict):
                out[k] = {
                    name: release_view(sub, release)
                    for name, sub in v.items()
                    if not (isinstance(sub, dict) and RANGE_KEY in sub and not in_ranges(sub[RANGE_KEY], release))
                }
            else:
                out[k] = release_view(v, release)
        return out
    if isinstance(doc, list):
        return [release_view(v, release) for v in doc]
    return doc


def _fast_validator(fname: str, release: Release) -> Any:
    key = (fname, release)
    if key not in _FAST_VALIDATORS:
        lib = _library()
        validator = None
        if lib is not None:
            registries: dict[Release, Any] = _FAST.setdefault("registries", {})
            try:
                reg = registries.get(release)
                if reg is None:
                    defs = release_view(_doc("_defs.json"), release)
                    reg = registries[release] = lib.Registry([(_ID_BASE + "_defs.json", defs)])
                validator = lib.validator_for(release_view(_doc(fname), release), registry=reg)
            except Exception:  # noqa: BLE001 - any library failure: the in-house walk decides
                validator = None
        _FAST_VALIDATORS[key] = validator
    return _FAST_VALIDATORS[key]


def validate(api_version: str, kind: str, data: Any, release: Release | None = None) -> list[SchemaError] | None:
    """Every violation (at most :data:`MAX_ERRORS`) of ``data`` against the schema of
    ``apiVersion/kind`` as of ``release`` (default :data:`DEFAULT_RELEASE`); None when kvlint
    has no schema for it.

    Past the first :data:`FAST_AFTER` objects, a valid object is recognised by jsonschema-rs
    (when installed; its verdicts agree with the walk's, tests/test_schema_validate.py), and
    only an invalid one is walked for kvlint's own errors (positions, wording, did-you-mean,
    releases)."""
    rel = modelled_release(release)
    root = compiled(api_version, kind, rel)
    if root is None:
        return None
    _FAST["count"] += 1
    if _FAST["count"] > FAST_AFTER:
        validator = _fast_validator(index()["schemas"][f"{api_version}/{kind}"], rel)
        if validator is not None:
            try:
                if validator.is_valid(data):
                    return []
            except Exception:  # noqa: BLE001 - e.g. a value the library cannot convert
                pass
    return validate_node(root, data)
