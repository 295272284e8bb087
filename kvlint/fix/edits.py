"""Edits and their building blocks: the fixer registry, the original document as the
linter read it, and ruamel.yaml node and comment surgery."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kvlint.models import Finding
from kvlint.parse import Document, Path

if TYPE_CHECKING:
    from kvlint.engine import Context
    from kvlint.inventory import Workload

SAFE = "safe"
UNSAFE = "unsafe"

ALLOW_BRIDGE_ANN = "kubevirt.io/allow-pod-bridge-network-live-migration"
MIGRATION_PORTS = (49152, 49153)
RWX = "ReadWriteMany"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: Expectation value: the path must not exist after the fix.
MISSING: Any = _Missing()

Expectation = tuple[Path, Any]


class Refused(Exception):
    """A fix that cannot be applied safely; the message says why."""


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Edit:
    #: Identity: edits with the same key (two findings on one interface) are applied once.
    key: tuple[Any, ...]
    description: str
    #: Paths (from the document root) of the subtrees this edit changes, adds or removes.
    touched: tuple[Path, ...]
    #: Mutates a ruamel document; returns the values the fixed document must hold.
    apply: Callable[[Any, Original], list[Expectation]]


FixFn = Callable[[Finding, Any], "list[Edit] | None"]
#: (finding, the run's context, the workload it is on, in full): adds to ``finding.data``
#: the facts only the lint run knows (storage resolution); called while the check runs.
PrepareFn = Callable[[Finding, "Context", "Workload"], None]
#: Whether a finding may have a fix at all, from its data alone (no document is loaded
#: for the findings it rules out).
AppliesFn = Callable[[Finding], bool]


@dataclass(frozen=True)
class Fixer:
    rule: str
    safety: str
    fn: FixFn
    prepare: PrepareFn | None = None
    applies: AppliesFn | None = None


FIXERS: dict[str, Fixer] = {}


def fixer(
    rule: str, safety: str, prepare: PrepareFn | None = None, applies: AppliesFn | None = None
) -> Callable[[FixFn], FixFn]:
    def deco(fn: FixFn) -> FixFn:
        FIXERS[rule] = Fixer(rule, safety, fn, prepare, applies)
        return fn

    return deco


def fixable(f: Finding) -> Fixer | None:
    """The fixer of a finding's rule, for findings that are not suppressed."""
    if f.suppressed is not None:
        return None
    return FIXERS.get(f.rule)


# --------------------------------------------------------------------------- the original document


@dataclass
class Original:
    """One document as the linter read it: YAML 1.1 data, node positions and the file's lines."""

    doc: Document
    lines: list[str]

    @property
    def data(self) -> Any:
        return self.doc.data

    def value(self, path: Path) -> Any:
        return _get(self.doc.data, path)

    def scalar_text(self, path: Path) -> str:
        """The scalar at ``path`` exactly as written (a plain scalar on one line)."""
        pos = self.doc.exact(path)
        if pos is None:
            raise Refused(f"no node at {_path_text(path)}")
        _, _, line, col, end_line, end_col = pos
        if line != end_line or line < 1 or line > len(self.lines):
            raise Refused(f"the value at {_path_text(path)} spans several lines")
        text = self.lines[line - 1][col - 1 : end_col - 1]
        if not text or text[0] in "\"'|>&*!" or "\\" in text or '"' in text:
            raise Refused(f"the value at {_path_text(path)} is not a plain scalar")
        return text


def _get(data: Any, path: Path) -> Any:
    cur = data
    for p in path:
        in_map = isinstance(cur, dict) and not isinstance(p, int) and p in cur
        in_list = isinstance(cur, list) and isinstance(p, int) and 0 <= p < len(cur)
        if not (in_map or in_list):
            return MISSING
        cur = cur[p]
    return cur


def object_base(data: Any, path: Path, kind: str) -> Path | None:
    """The path of the object (a document root or a List item) that ``path`` lies in, in
    plain parsed data or a round-trip document alike."""
    candidates: list[Path] = [()]
    p: Path = ()
    while len(path) >= len(p) + 2 and path[len(p)] == "items" and isinstance(path[len(p) + 1], int):
        p = p + path[len(p) : len(p) + 2]
        candidates.append(p)
    for base in reversed(candidates):
        obj = _get(data, base)
        if isinstance(obj, dict) and obj.get("kind") == kind:
            return base
    return None


def _path_text(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(document)"


# --------------------------------------------------------------------------- ruamel helpers


def _key_of(mapping: Any, text: Any) -> Any:
    """The actual key of ``mapping`` that the linter calls ``text`` (keys are key text)."""
    if text in mapping:
        return text
    for k in mapping:
        if isinstance(k, bool):
            if str(k).lower() == str(text).lower():
                return k
        elif k is None:
            if text in ("null", "~", ""):
                return k
        elif str(k) == str(text):
            return k
    raise KeyError(text)


def node_at(doc: Any, path: Path) -> Any:
    """The ruamel node at ``path``; KeyError when it does not exist."""
    cur = doc
    for p in path:
        if isinstance(p, int) and isinstance(cur, list):
            if not 0 <= p < len(cur):
                raise KeyError(p)
            cur = cur[p]
        elif isinstance(cur, dict):
            cur = cur[_key_of(cur, p)]
        else:
            raise KeyError(p)
    return cur


def _find(doc: Any, path: Path) -> Any:
    try:
        return node_at(doc, path)
    except KeyError:
        return None


def _is_map(node: Any) -> bool:
    return isinstance(node, dict)


def _ca_item(mapping: Any, key: Any) -> list[Any] | None:
    ca = getattr(mapping, "ca", None)
    if ca is None:
        return None
    item = ca.items.get(key)
    return item if isinstance(item, list) else None


def _split_comment(mapping: Any, key: Any) -> tuple[str | None, str]:
    """(end-of-line comment of ``key``'s line, the comment lines that follow it)."""
    item = _ca_item(mapping, key)
    if not item or len(item) < 3 or item[2] is None:
        return None, ""
    value = str(item[2].value)
    first, nl, rest = value.partition("\n")
    eol = first.strip() or None
    return eol, rest if nl else ""


def _last_leaf(mapping: Any) -> tuple[Any, Any] | None:
    """(mapping, key) of the last scalar entry in ``mapping``'s subtree, where ruamel keeps
    the comment lines that follow it."""
    cur = mapping
    while _is_map(cur) and len(cur):
        last = list(cur.keys())[-1]
        child = cur[last]
        if _is_map(child) and len(child) and not _flow(child):
            cur = child
            continue
        return cur, last
    return None


def _flow(node: Any) -> bool:
    fa = getattr(node, "fa", None)
    return bool(fa is not None and fa.flow_style())


def _comment_token(value: str, column: int = 0) -> Any:
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    return CommentToken(value, CommentMark(column))


def _append_comment_lines(mapping: Any, key: Any, lines: str) -> None:
    """Add full comment lines after ``key``'s entry (ruamel keeps them with that key)."""
    if not lines:
        return
    item = mapping.ca.items.get(key)
    if item is None:
        item = [None, None, None, None]
        mapping.ca.items[key] = item
    while len(item) < 4:
        item.append(None)
    if item[2] is None:
        item[2] = _comment_token("\n" + lines)
    else:
        value = str(item[2].value)
        if not value.endswith("\n"):
            value += "\n"
        item[2].value = value + lines


def _prepend_comment_lines(mapping: Any, lines: str) -> None:
    """Put full comment lines before the first entry of ``mapping``."""
    tokens = []
    for line in lines.splitlines():
        text = line.strip()
        if not text:
            continue
        if not text.startswith("#"):
            raise Refused("comment lines after the entry could not be kept")
        tokens.append(_comment_token(text + "\n", len(line) - len(line.lstrip())))
    if not tokens:
        return
    ca = mapping.ca
    if ca.comment is None:
        ca.comment = [None, tokens]
    else:
        while len(ca.comment) < 2:
            ca.comment.append(None)
        ca.comment[1] = tokens + list(ca.comment[1] or [])


def _set_eol_comment(mapping: Any, key: Any, eol: str | None) -> None:
    if eol:
        mapping.yaml_add_eol_comment(eol, key)


def delete_key(mapping: Any, key: Any) -> str | None:
    """Delete ``key`` from a ruamel mapping, keeping the comment lines that follow its line
    (ruamel files them under the deleted key) with the entry before it. Returns the key's
    end-of-line comment, for an entry that moves elsewhere."""
    eol, rest = _split_comment(mapping, key)
    keys = list(mapping.keys())
    idx = keys.index(key)
    if rest and idx == 0 and len(keys) > 1:
        _prepend_comment_lines(mapping, rest)
    elif rest and idx == 0:
        raise Refused("comment lines after the entry could not be kept")
    elif rest:
        prev = keys[idx - 1]
        target: tuple[Any, Any] | None = (mapping, prev)
        child = mapping[prev]
        if _is_map(child) and len(child) and not _flow(child):
            target = _last_leaf(child)
        if target is None:
            raise Refused("comment lines after the entry could not be kept")
        _append_comment_lines(target[0], target[1], rest)
    if _ca_item(mapping, key) is not None:
        del mapping.ca.items[key]
    del mapping[key]
    return eol


def _new_map(flow: bool = False) -> Any:
    from ruamel.yaml.comments import CommentedMap

    m = CommentedMap()
    if flow:
        m.fa.set_flow_style()
    return m


def _new_seq(items: Iterable[Any], flow: bool = False) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    s = CommentedSeq(list(items))
    if flow:
        s.fa.set_flow_style()
    return s


def _dq(text: str) -> Any:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return DoubleQuotedScalarString(text)


def _set_at(doc: Any, path: Path, value: Any) -> None:
    parent = node_at(doc, path[:-1])
    last = path[-1]
    if isinstance(last, int) and isinstance(parent, list):
        parent[last] = value
    else:
        parent[_key_of(parent, last)] = value


def _node_path(f: Finding) -> tuple[int, Path] | None:
    node = f.data.get("node")
    if not isinstance(node, tuple) or len(node) != 2:
        return None
    index, path = node
    if not isinstance(index, int) or not isinstance(path, tuple):
        return None
    return index, path


def bridge_annotation_paths(f: Finding) -> tuple[int, Path, Path, Path] | None:
    """For a KV202 finding: the document index, the annotation's path, the path of the
    object (the parent of its own metadata), and the path of its VMI template's metadata
    relative to the object; None when the finding does not name the annotation on the
    metadata of a VM-like object (a VMI has no template)."""
    from kvlint.inventory import WORKLOAD_PATHS

    node = _node_path(f)
    if node is None or f.object is None:
        return None
    path = node[1]
    if len(path) < 3 or path[-3:] != ("metadata", "annotations", ALLOW_BRIDGE_ANN):
        return None
    paths = WORKLOAD_PATHS.get(f.object.kind)
    if paths is None or f.object.kind == "VirtualMachineInstance":
        return None
    return node[0], path, path[:-3], paths[1]


def bridge_binding_path(f: Finding) -> Path | None:
    """For a KV201 finding: the path of the interface's ``bridge`` key (the interface is
    its parent); None when the finding names no such key."""
    node = _node_path(f)
    if node is None or f.object is None:
        return None
    path = node[1]
    if not path or path[-1] != "bridge":
        return None
    return path


def bridge_allowed_on_object(f: Finding, data: Any, path: Path) -> bool:
    """Whether the VM-like object that ``path`` lies in carries the allow-bridge annotation
    on its own metadata: the safe KV202 fix (moving it to the VMI template) is the one to
    apply then, not a change of binding (plain parsed data or a round-trip document)."""
    if f.object is None or f.object.kind == "VirtualMachineInstance":
        return False
    base = object_base(data, path, f.object.kind)
    annotations = _get(data, (base or ()) + ("metadata", "annotations"))
    return isinstance(annotations, dict) and ALLOW_BRIDGE_ANN in annotations
