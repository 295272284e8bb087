"""Automatic fixes: mechanical edits of the YAML that a finding points at.

Design:

* **Fixers** (``FIXERS``, rule id -> :class:`Fixer`) hold all the knowledge of which rule has
  which fix. A fixer is ``fn(finding, doc) -> list[Edit] | None``: it inspects the ruamel.yaml
  round-trip document (never mutates it) and returns edits, or None when this instance cannot
  be fixed mechanically. An :class:`Edit` names the paths whose subtrees it changes
  (``touched``) and mutates a fresh copy of the document in ``apply``; ``apply`` also gets the
  original document as kubectl reads it (:class:`Original`: YAML 1.1 values and the exact
  scalar text) and returns what the fixed document must hold afterwards (expectations).
* **Splice.** A file is cut into one chunk per YAML document at the document boundaries the
  parser reports (``---`` lines, ``...`` lines); only chunks of documents with a fix are
  rewritten, every other byte stays as it was. Inside a chunk the document body is loaded
  twice with ruamel.yaml (``typ="rt"``, quotes preserved, the file's own indentation, no
  re-wrapping): once emitted as is (A) and once with the edits applied (B). The line hunks
  between A and B are the fix; they are mapped onto the original text through the lines A
  shares with it (a three-way merge), so that lines ruamel would reformat (``null`` written
  as an empty value, odd indentation elsewhere) are not touched. When a hunk cannot be
  mapped, the whole document is re-emitted (B) instead.
* **Verification.** Each rewritten chunk is parsed again with :func:`kvlint.parse.parse_text`
  (the linter's own YAML 1.1 reading): its data must equal the original's everywhere except
  at the touched paths, equal B's at the touched paths, meet the edits' expectations, and
  keep every comment line. The spliced file is parsed once more as a whole. A fix that fails
  any of this is not applied (and reported); the other fixes of the document still are.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import hashlib
import io
import os
import re
import stat
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kvlint.models import Finding
from kvlint.parse import Document, ParsedFile, Path, parse_text

if TYPE_CHECKING:
    from kvlint.engine import Result

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


#: Input problems that make a file impossible to fix (unreadable, templated, nested too deep).
BLOCKING_PROBLEMS = ("KV901", "KV902", "KV904", "KV905")


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
PrepareFn = Callable[[Finding, "Result"], None]


@dataclass(frozen=True)
class Fixer:
    rule: str
    safety: str
    fn: FixFn
    #: Adds facts only the lint run knows (storage resolution) to ``finding.data``.
    prepare: PrepareFn | None = None


FIXERS: dict[str, Fixer] = {}


def fixer(rule: str, safety: str, prepare: PrepareFn | None = None) -> Callable[[FixFn], FixFn]:
    def deco(fn: FixFn) -> FixFn:
        FIXERS[rule] = Fixer(rule, safety, fn, prepare)
        return fn

    return deco


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


# --------------------------------------------------------------------------- fixers: safe


@fixer("KV202", SAFE)
def _move_bridge_annotation(f: Finding, doc: Any) -> list[Edit] | None:
    """Move the bridge annotation from the VM's metadata to its VMI template's metadata."""
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
    base = path[:-3]
    meta_path: Path = base + paths[1]
    template = _find(doc, meta_path[:-1])
    src = _find(doc, base + ("metadata", "annotations"))
    if not _is_map(template) or not _is_map(src) or ALLOW_BRIDGE_ANN not in src:
        return None
    meta = template.get("metadata")
    if meta is not None and not _is_map(meta):
        return None
    dest = meta.get("annotations") if meta is not None else None
    if dest is not None and not _is_map(dest):
        return None
    if dest is not None and ALLOW_BRIDGE_ANN in dest:
        return None
    src_touched = base + ("metadata", "annotations") if len(src) == 1 else path
    if meta is None:
        dst_touched = meta_path
    elif dest is None:
        dst_touched = meta_path + ("annotations",)
    else:
        dst_touched = meta_path + ("annotations", ALLOW_BRIDGE_ANN)

    def apply(d: Any, orig: Original) -> list[Expectation]:
        value_before = orig.value(path)
        tpl = node_at(d, meta_path[:-1])
        annotations = node_at(d, base + ("metadata", "annotations"))
        value = annotations[ALLOW_BRIDGE_ANN]
        eol = delete_key(annotations, ALLOW_BRIDGE_ANN)
        if not len(annotations):
            delete_key(node_at(d, base + ("metadata",)), "annotations")
        if "metadata" not in tpl:
            tpl.insert(0, "metadata", _new_map(_flow(tpl)))
        md = tpl["metadata"]
        if "annotations" not in md:
            pos = list(md.keys()).index("labels") + 1 if "labels" in md else len(md)
            md.insert(pos, "annotations", _new_map(_flow(md)))
        target = md["annotations"]
        target[ALLOW_BRIDGE_ANN] = value
        _set_eol_comment(target, ALLOW_BRIDGE_ANN, eol)
        gone: Path = src_touched if src_touched != path else path
        return [(gone, MISSING), (meta_path + ("annotations", ALLOW_BRIDGE_ANN), value_before)]

    return [
        Edit(
            ("KV202", path),
            f"move annotation {ALLOW_BRIDGE_ANN} from metadata.annotations to "
            f"{_path_text(paths[1])}.annotations, where KubeVirt reads it",
            (src_touched, dst_touched),
            apply,
        )
    ]


def _quote_edit(rule: str, path: Path) -> Edit:
    def apply(d: Any, orig: Original) -> list[Expectation]:
        before = orig.value(path)
        if isinstance(before, (str, dict, list)) or before is None or before is MISSING:
            raise Refused(f"the value at {_path_text(path)} is not a boolean or number")
        text = orig.scalar_text(path)
        _set_at(d, path, _dq(text))
        return [(path, text)]

    return Edit(
        (rule, "quote", path),
        f"quote the value at {_path_text(path)} so it stays the string it is written as",
        (path,),
        apply,
    )


def _plain_scalar_node(doc: Any, path: Path) -> bool:
    """The node at ``path`` is an unquoted scalar (what YAML may read as a non-string)."""
    from ruamel.yaml.scalarstring import ScalarString

    node = _find(doc, path)
    return not (node is None or isinstance(node, (dict, list, ScalarString)))


@fixer("KV504", SAFE)
def _quote_selector_value(f: Finding, doc: Any) -> list[Edit] | None:
    """Quote a MigrationPolicy selector value YAML reads as a boolean or number."""
    node = _node_path(f)
    if node is None or not _plain_scalar_node(doc, node[1]):
        return None
    return [_quote_edit("KV504", node[1])]


#: Maps whose values are label / annotation / selector strings.
LABEL_MAPS = frozenset(("labels", "annotations", "matchLabels", "nodeSelector"))


@fixer("KV802", SAFE)
def _quote_label_value(f: Finding, doc: Any) -> list[Edit] | None:
    """Quote a label, annotation or selector value YAML reads as a boolean or number (other
    type errors are not fixed: the right value is not mechanical)."""
    node = _node_path(f)
    if node is None or f.data.get("keyword", "type") != "type":
        return None
    path = node[1]
    if len(path) < 2 or not isinstance(path[-1], str) or "expected a string" not in f.message:
        return None
    in_label_map = path[-2] in LABEL_MAPS
    in_policy_selector = len(path) >= 3 and path[-3] == "selectors"
    if not (in_label_map or in_policy_selector) or not _plain_scalar_node(doc, path):
        return None
    return [_quote_edit("KV802", path)]


@fixer("KV503", SAFE)
def _plain_selector(f: Finding, doc: Any) -> list[Edit] | None:
    """Rewrite a MigrationPolicy selector written as a LabelSelector (matchLabels, single-value
    ``In`` expressions) as the plain map it is; other expressions have no plain-map form."""
    node = _node_path(f)
    if node is None:
        return None
    path = node[1]
    if not path or path[-1] not in ("matchLabels", "matchExpressions"):
        return None
    sel_path = path[:-1]
    sel = _find(doc, sel_path)
    if not _is_map(sel):
        return None
    sources: list[tuple[Any, Path, Any, Any]] = []  # (label key, value path, value, comment map)
    for k, v in sel.items():
        if k == "matchLabels":
            if not _is_map(v):
                return None
            for lk, lv in v.items():
                sources.append((lk, sel_path + ("matchLabels", str(lk)), lv, v))
        elif k == "matchExpressions":
            if not isinstance(v, list):
                return None
            for i, expr in enumerate(v):
                if not _is_map(expr) or set(expr) - {"key", "operator", "values"}:
                    return None
                vals = expr.get("values")
                if expr.get("operator") != "In" or not isinstance(vals, list) or len(vals) != 1:
                    return None
                if not isinstance(expr.get("key"), str):
                    return None
                sources.append((expr["key"], sel_path + ("matchExpressions", i, "values", 0), vals[0], None))
        else:
            sources.append((k, sel_path + (str(k),), v, sel))
    seen: dict[str, str] = {}
    for lk, _, lv, _ in sources:
        if isinstance(lv, (dict, list)) or lv is None:
            return None
        text = str(lv)
        if str(lk) in seen and seen[str(lk)] != text:
            return None  # contradictory requirements: no map expresses them
        seen[str(lk)] = text

    def apply(d: Any, orig: Original) -> list[Expectation]:
        old = node_at(d, sel_path)
        new = _new_map(_flow(old))
        expected: dict[str, str] = {}
        for lk, vpath, _, cmap in sources:
            if str(lk) in expected:
                continue
            value = node_at(d, vpath)
            before = orig.value(vpath)
            if isinstance(before, str):
                expected[str(lk)] = before
            elif isinstance(before, (bool, int, float)):
                value = _dq(orig.scalar_text(vpath))
                expected[str(lk)] = str(value)
            else:
                raise Refused(f"the value at {_path_text(vpath)} is not a label value")
            new[lk] = value
            if cmap is not None:
                item = _ca_item(cmap, lk)
                if item is not None and cmap is not old:
                    new.ca.items[lk] = item
        parent = node_at(d, sel_path[:-1])
        parent[_key_of(parent, sel_path[-1])] = new
        return [(sel_path, expected)]

    return [
        Edit(
            ("KV503", sel_path),
            f"write {_path_text(sel_path)} as a plain map of label key to value",
            (sel_path,),
            apply,
        )
    ]


def _object_base(doc: Any, path: Path, kind: str) -> Path | None:
    """The path of the object (a document root or a List item) that ``path`` lies in."""
    candidates: list[Path] = [()]
    p: Path = ()
    while len(path) >= len(p) + 2 and path[len(p)] == "items" and isinstance(path[len(p) + 1], int):
        p = p + path[len(p) : len(p) + 2]
        candidates.append(p)
    for base in reversed(candidates):
        obj = _find(doc, base)
        if _is_map(obj) and obj.get("kind") == kind:
            return base
    return None


def _enum_values(api_version: str, kind: str, rel: Path) -> tuple[Any, ...] | None:
    from kvlint import schema_validate as sv

    versions = [api_version]
    for dep in sv.index().get("deprecatedApiVersions", ()):
        if dep.get("apiVersion") == api_version and kind in dep.get("kinds", ()):
            versions.append(dep["replacement"])
    for av in versions:
        root = sv.compiled(av, kind)
        if root is None:
            continue
        node = sv.node_at(root, rel)
        if node is not None and node.enum:
            return tuple(node.enum)
    return None


@fixer("KV803", SAFE)
def _enum_case(f: Finding, doc: Any) -> list[Edit] | None:
    """Correct the case of an enum value when exactly one allowed value matches it
    case-insensitively (``livemigrate`` -> ``LiveMigrate``)."""
    node = _node_path(f)
    if node is None or f.object is None or f.data.get("keyword", "enum") != "enum":
        return None
    path = node[1]
    value = _find(doc, path)
    if not isinstance(value, str) or not path:
        return None
    base = _object_base(doc, path, f.object.kind)
    if base is None:
        return None
    try:
        allowed = _enum_values(f.object.api_version, f.object.kind, path[len(base) :])
    except Exception:  # noqa: BLE001 - no schema, no fix
        allowed = None
    if allowed is None:
        return None
    matches = [a for a in allowed if isinstance(a, str) and a.lower() == value.lower()]
    if len(matches) != 1 or matches[0] == value:
        return None
    new = matches[0]

    def apply(d: Any, orig: Original) -> list[Expectation]:
        old = node_at(d, path)
        if orig.value(path) != value:
            raise Refused(f"the value at {_path_text(path)} is not {value!r}")
        replacement = type(old)(new) if type(old) is not str else new
        _set_at(d, path, replacement)
        return [(path, new)]

    desc = f"write {new} instead of {value} (values are case-sensitive)"
    return [Edit(("KV803", path), desc, (path,), apply)]


# --------------------------------------------------------------------------- fixers: unsafe


def _port_number(orig: Original, path: Path) -> Any:
    return orig.value(path + ("port",))


def _drop_migration_ports(d: Any, orig: Original, iface_path: Path) -> list[Expectation]:
    """Remove the ports entries 49152/49153 of an interface (and ``ports`` if it empties)."""
    iface = node_at(d, iface_path)
    ports = iface.get("ports")
    before = orig.value(iface_path + ("ports",))
    if not isinstance(ports, list) or not isinstance(before, list) or len(ports) != len(before):
        return []
    keep = [
        i
        for i, p in enumerate(before)
        if not (
            isinstance(p, dict)
            and not isinstance(p.get("port"), bool)
            and _port_number(orig, iface_path + ("ports", i)) in MIGRATION_PORTS
        )
    ]
    if len(keep) == len(before):
        return []
    for i in reversed(range(len(before))):
        if i not in keep:
            del ports[i]
    if not keep:
        delete_key(iface, "ports")
        return [(iface_path + ("ports",), MISSING)]
    return [(iface_path + ("ports",), [before[i] for i in keep])]


def _has_migration_ports(iface: Any) -> bool:
    ports = iface.get("ports")
    if not isinstance(ports, list):
        return False
    return any(_is_map(p) and p.get("port") in MIGRATION_PORTS for p in ports)


@fixer("KV201", UNSAFE)
def _bridge_to_masquerade(f: Finding, doc: Any) -> list[Edit] | None:
    """Bind the pod network with masquerade instead of bridge (the guest no longer gets the
    pod IP itself); drops forwarded ports 49152/49153, which masquerade must not forward."""
    node = _node_path(f)
    if node is None or f.object is None:
        return None
    path = node[1]
    if not path or path[-1] != "bridge":
        return None
    iface_path = path[:-1]
    iface = _find(doc, iface_path)
    if not _is_map(iface) or "bridge" not in iface or "masquerade" in iface:
        return None
    if f.object.kind != "VirtualMachineInstance":
        base = _object_base(doc, path, f.object.kind)
        meta_ann = _find(doc, (base or ()) + ("metadata", "annotations"))
        if _is_map(meta_ann) and ALLOW_BRIDGE_ANN in meta_ann:
            return None  # the safe KV202 fix moves the annotation, which allows bridge
    touched: tuple[Path, ...] = (path, iface_path + ("masquerade",))
    if _has_migration_ports(iface):
        touched += (iface_path + ("ports",),)

    def apply(d: Any, orig: Original) -> list[Expectation]:
        it = node_at(d, iface_path)
        pos = list(it.keys()).index("bridge")
        eol, rest = _split_comment(it, "bridge")
        if rest:
            raise Refused("comment lines after the bridge entry")
        delete_key(it, "bridge")
        it.insert(pos, "masquerade", _new_map())
        _set_eol_comment(it, "masquerade", eol)
        out: list[Expectation] = [(path, MISSING), (iface_path + ("masquerade",), {})]
        return out + _drop_migration_ports(d, orig, iface_path)

    name = iface.get("name")
    return [
        Edit(
            ("KV201", iface_path),
            f"bind interface {name!r} with masquerade instead of bridge (the guest gets a NAT "
            "address instead of the pod IP)",
            touched,
            apply,
        )
    ]


@fixer("KV207", UNSAFE)
def _drop_ports(f: Finding, doc: Any) -> list[Edit] | None:
    """Remove the forwarded ports 49152/49153 from a masquerade interface."""
    node = _node_path(f)
    if node is None:
        return None
    path = node[1]
    if len(path) < 4 or path[-1] != "port" or path[-3] != "ports":
        return None
    iface_path = path[:-3]
    iface = _find(doc, iface_path)
    if not _is_map(iface) or not _has_migration_ports(iface):
        return None

    def apply(d: Any, orig: Original) -> list[Expectation]:
        out = _drop_migration_ports(d, orig, iface_path)
        if not out:
            raise Refused("no port 49152/49153 to remove")
        return out

    return [
        Edit(
            ("ports", iface_path),
            f"stop forwarding ports 49152/49153 on interface {iface.get('name')!r}",
            (iface_path + ("ports",),),
            apply,
        )
    ]


def _prepare_rwx(f: Finding, result: Result) -> None:
    """Record, for a KV101 finding on a dataVolumeTemplate, the ReadWriteMany claim property
    set its storage class offers (StorageProfile, configuration or CDI's capability table)."""
    from kvlint.inventory import as_dict, get
    from kvlint.storage import Access

    ctx = result.context
    node = _node_path(f)
    if ctx is None or node is None or f.object is None:
        return
    doc_index, vpath = node
    index = ctx.cluster.memo.get("fix-workloads")
    if index is None:  # (built once: a large tree has thousands of KV101 findings)
        index = ctx.cluster.memo["fix-workloads"] = {}
        for cand in ctx.inv.workloads:
            if not cand.obj.context_only:
                index.setdefault((cand.obj.ref(), cand.obj.doc.index, cand.obj.file), cand)
    w = index.get((f.object, doc_index, f.location.file))
    if w is None or w.dvt_path is None or vpath[: len(w.obj.base)] != w.obj.base:
        return
    rel = vpath[len(w.obj.base) :]
    vol = get(w.obj.data, *rel[:-1])
    if not isinstance(vol, dict):
        return
    src = as_dict(vol.get(rel[-1]))
    name = src.get("name") if rel[-1] == "dataVolume" else src.get("claimName")
    if not isinstance(name, str):
        return
    acc = ctx.resolver.claim(w, name)
    if acc.source_kind != "template":
        return
    for i, dvt in w.dvts():
        if get(dvt, "metadata", "name") != name:
            continue
        spec = as_dict(dvt.get("spec"))
        has_pvc = isinstance(spec.get("pvc"), dict)
        has_storage = isinstance(spec.get("storage"), dict)
        if has_pvc == has_storage:
            return  # invalid (KV106): no fix
        block = "storage" if has_storage else "pvc"
        claim = as_dict(spec.get(block))
        spec_path = w.dvt_path + (i, "spec")
        probe = Access(name)
        # spec.pvc gets the cluster's default class; spec.storage CDI's virt default first.
        kubevirt_content = block == "storage" and spec.get("contentType") in (None, "kubevirt")
        sets, origin = ctx.resolver._class_sets(  # noqa: SLF001 - the resolver's own reading
            probe, w.obj, spec_path + (block,), claim, content_kubevirt=kubevirt_content
        )
        if not sets:
            return
        rwx = [s for s in sets if RWX in s.access_modes]
        if not rwx:
            return
        current = claim.get("volumeMode") if isinstance(claim.get("volumeMode"), str) else None
        want = current or ("Filesystem" if block == "pvc" else None)
        same = [s for s in rwx if want is not None and (s.volume_mode or "Filesystem") == want]
        chosen = same[0] if same else rwx[0]
        mode = chosen.volume_mode
        if block == "pvc" and mode is None and current not in (None, "Filesystem"):
            mode = "Filesystem"
        f.data["rwx_fix"] = {
            "spec": w.obj.base + spec_path,
            "block": block,
            "volumeMode": mode,
            "origin": origin[2],
        }
        return


@fixer("KV101", UNSAFE, prepare=_prepare_rwx)
def _request_rwx(f: Finding, doc: Any) -> list[Edit] | None:
    """Request ReadWriteMany on the dataVolumeTemplate (the storage class offers it); a new
    claim with a different access mode (and maybe volume mode) is a different volume."""
    info = f.data.get("rwx_fix")
    if not isinstance(info, dict):
        return None
    spec_path: Path = tuple(info["spec"])
    block: str = info["block"]
    mode: str | None = info.get("volumeMode")
    claim_path = spec_path + (block,)
    claim = _find(doc, claim_path)
    if not _is_map(claim):
        return None
    modes = claim.get("accessModes")
    if block == "pvc" and not (isinstance(modes, list) and len(modes) == 1):
        return None
    if modes is not None and not isinstance(modes, list):
        return None
    current = claim.get("volumeMode")
    # spec.pvc is copied verbatim, where no volumeMode means Filesystem already.
    set_mode = (
        mode is not None and current != mode and not (block == "pvc" and current is None and mode == "Filesystem")
    )
    touched: tuple[Path, ...] = (claim_path + ("accessModes",),)
    if set_mode:
        touched += (claim_path + ("volumeMode",),)

    def apply(d: Any, orig: Original) -> list[Expectation]:
        c = node_at(d, claim_path)
        am = c.get("accessModes")
        if isinstance(am, list) and len(am) == 1:
            am[0] = type(am[0])(RWX) if type(am[0]) is not str else RWX
        elif isinstance(am, list):
            del am[:]
            am.append(RWX)
        else:
            c.insert(0, "accessModes", _new_seq([RWX], _flow(c)))
        out: list[Expectation] = [(claim_path + ("accessModes",), [RWX])]
        if set_mode:
            assert mode is not None
            if "volumeMode" in c:
                c["volumeMode"] = mode
            else:
                c.insert(list(c.keys()).index("accessModes") + 1, "volumeMode", mode)
            out.append((claim_path + ("volumeMode",), mode))
        return out

    what = f"accessModes [{RWX}]" + (f" and volumeMode {mode}" if set_mode else "")
    return [
        Edit(
            ("rwx", spec_path),
            f"request {what} in {_path_text(claim_path)} (storage class {info.get('origin')} "
            "offers it; the disk becomes a new, shared claim)",
            touched,
            apply,
        )
    ]


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


def _three_way(orig_lines: list[str], a: str, b: str, nl: str) -> list[str] | None:
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
    hunks: list[tuple[int, int, list[str]]] = []
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
    out = list(orig_lines)
    last_end = len(out) + 1
    for start, end, new in sorted(hunks, key=lambda h: (h[0], h[1]), reverse=True):
        if end > last_end:
            return None
        if start == len(out) and out and not out[-1].endswith("\n"):
            out[-1] += nl
        out[start:end] = new
        last_end = start
    return out


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
        self.nl = "\r\n" if self.lines and self.lines[0].endswith("\r\n") else "\n"
        self.parsed: ParsedFile = parse_text(display, text)
        self.error: str | None = None
        blocking = [p for p in self.parsed.problems if p.rule in BLOCKING_PROBLEMS]
        self.chunks = split_documents(text, self.lines) if not blocking else None
        if blocking:
            self.error = f"{display}: the file has input problems ({blocking[0].rule}); not fixed"
        elif self.chunks is None:
            self.error = f"{self.display}: document boundaries are not on separate lines; not fixed"
        self.docs = {d.index: d for d in self.parsed.documents}
        self._yaml_docs: dict[int, Any] = {}
        self._indent: dict[int, tuple[int, int, int]] = {}

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
        return Original(self.docs[index], [line.rstrip("\r\n") for line in self.lines])

    # -- edits ------------------------------------------------------------------------

    def edits_for(self, f: Finding, fx: Fixer) -> list[Edit] | None:
        node = _node_path(f)
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
            a_doc = y.load(body)
            a = _dump(y, a_doc)
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
        merged = _three_way(body_lines, a, b, self.nl)
        if merged is not None:
            candidates.append(("".join(merged), False))
        whole = b if self.nl == "\n" else b.replace("\n", self.nl)
        candidates.append((whole, True))
        reasons = []
        for new_body, reemitted in candidates:
            if not body.endswith(("\n", "\r")) and new_body.endswith("\n") and not tail:
                cut = len(self.nl) if new_body.endswith(self.nl) else 1
                new_body = new_body[:-cut]
            why = self._check(orig, body, new_body, intended, touched, expectations)
            if why is None:
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
        if sorted(after) != sorted(before) or any(
            p.rule in ("KV901", "KV903", "KV904", "KV905") for p in check.problems
        ):
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


def _prepare(fx: Fixer, f: Finding, result: Result) -> None:
    if fx.prepare is None:
        return
    with contextlib.suppress(Exception):  # no facts, no fix
        fx.prepare(f, result)


def fixable(f: Finding) -> Fixer | None:
    """The fixer of a finding's rule, for findings that are not suppressed."""
    if f.suppressed is not None:
        return None
    return FIXERS.get(f.rule)


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
    linted = _linted_docs(result)
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
        for f, fx in pairs:
            node = _node_path(f)
            doc = ff.docs.get(node[0]) if node is not None else None
            seen = linted.get((display, node[0])) if node is not None else None
            if doc is None or seen is None or not _same(doc.data, seen.data):
                out.refused.append((f, "the file changed since it was linted"))
                out.remaining.append(f)
                continue
            _prepare(fx, f, result)
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


def unified_diff(fp: FilePlan) -> str:
    a = fp.text.splitlines(keepends=True)
    b = fp.new_text.splitlines(keepends=True)
    lines = []
    for line in difflib.unified_diff(a, b, f"a/{fp.display}", f"b/{fp.display}"):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


# --------------------------------------------------------------------------- writing


def before_replace(path: str) -> None:
    """Called just before the final check and rename of each file (a hook for tests)."""


class Changed(Exception):
    """The file changed on disk since it was read."""


def write_atomic(fp: FilePlan) -> None:
    """Replace ``fp.real`` with the fixed text: a temporary file in the same folder, written,
    flushed and synced, with the original's mode, renamed over the original only if the
    original still has the size, mtime and content it had when it was read."""
    target = os.path.realpath(fp.real)
    folder = os.path.dirname(target) or "."
    st = os.stat(target)
    fd, tmp = tempfile.mkstemp(prefix=".kvlint-fix-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(fp.new_bytes())
            fh.flush()
            os.fchmod(fh.fileno(), stat.S_IMODE(st.st_mode))
            with contextlib.suppress(OSError):
                os.fchown(fh.fileno(), st.st_uid, st.st_gid)
            os.fsync(fh.fileno())
        before_replace(target)
        try:
            with open(target, "rb") as fh:
                now = fh.read()
            current = stamp(target, now)
        except OSError as e:
            raise Changed(f"cannot read it again: {e.strerror}") from e
        if current != fp.stamp:
            raise Changed("it changed since it was read")
        os.replace(tmp, target)
        tmp = ""
        try:
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# --------------------------------------------------------------------------- SARIF


def _offset_to_pos(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def replacement(old: str, new: str) -> tuple[int, int, int, int, str] | None:
    """The one region of ``old`` that ``new`` replaces, as (start line, start column, end
    line, end column, inserted text): 1-based, columns in code points, end exclusive."""
    if old == new:
        return None
    n = min(len(old), len(new))
    p = 0
    while p < n and old[p] == new[p]:
        p += 1
    s = 0
    while s < n - p and old[len(old) - 1 - s] == new[len(new) - 1 - s]:
        s += 1
    sl, sc = _offset_to_pos(old, p)
    el, ec = _offset_to_pos(old, len(old) - s)
    return sl, sc, el, ec, new[p : len(new) - s]


def attach_fixes(result: Result, unsafe: bool = True) -> int:
    """Fill ``finding.data["fixes"]`` (for SARIF) for every finding that has a fix: the single
    replacement its fix makes in the file. Unsafe fixes are included (described as unsafe)
    unless ``unsafe`` is False. Returns how many findings got one. Nothing is written."""
    by_file: dict[str, list[tuple[Finding, Fixer]]] = {}
    for f in result.findings:
        fx = fixable(f)
        if fx is None or f.object is None or f.location.file.startswith("<"):
            continue
        if fx.safety == UNSAFE and not unsafe:
            continue
        by_file.setdefault(f.location.file, []).append((f, fx))
    linted = _linted_docs(result)
    count = 0
    for display, pairs in sorted(by_file.items()):
        try:
            _, text, _ = _read(display)
        except (OSError, Refused):
            continue
        ff = FileFixer(display, text)
        for f, fx in pairs:
            node = _node_path(f)
            doc = ff.docs.get(node[0]) if node is not None else None
            seen = linted.get((display, node[0])) if node is not None else None
            if doc is None or seen is None or not _same(doc.data, seen.data):
                continue
            _prepare(fx, f, result)
            edits = ff.edits_for(f, fx)
            if not edits:
                continue
            outcome = ff.apply([Item(f, fx, edits)])
            if not outcome.applied:
                continue
            region = replacement(text, outcome.new_text)
            if region is None:
                continue
            sl, sc, el, ec, inserted = region
            description = "; ".join(e.description for e in edits)
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
            count += 1
    return count
