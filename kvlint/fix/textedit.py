"""Text-level fixes: the common fixes written straight into the text the linter read.

The ruamel.yaml round trip (``splice``) loads a document and emits it twice per fix, which
costs far more than linting it. For the common shapes of the common fixes (a ``bridge: {}``
line, a one-item ``accessModes`` list, an annotation line moved between two block
mappings) the fixed text is known from kvlint's own parse alone: every node's line and
column. A text fixer returns line hunks, or None whenever its case is not one it writes
exactly as the round trip would (a comment in the way, flow style, quoting, anchors...):
then the round trip runs as before. The result is verified like a round-trip fix (read
back: the same data outside the touched paths, the expectations met, every comment kept).
A differential test holds the two paths to the same fixed text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kvlint.fix.edits import (
    ALLOW_BRIDGE_ANN,
    MIGRATION_PORTS,
    MISSING,
    RWX,
    Expectation,
    _get,
    _node_path,
    _path_text,
    bridge_allowed_on_object,
    bridge_annotation_paths,
    bridge_binding_path,
)
from kvlint.models import Finding
from kvlint.parse import Document, Path, parse_text

if TYPE_CHECKING:
    from kvlint.fix.splice import FileFixer, Hunk


@dataclass(frozen=True)
class TextFix:
    """Line hunks of the file (0-based [start, end) -> new lines) and what they must achieve."""

    description: str
    hunks: list[Hunk]
    touched: tuple[Path, ...]
    expectations: list[Expectation]


#: A text fixer's answer for a finding that has no fix at all (the round trip finds none either).
NO_FIX = TextFix("", [], (), [])

TextFn = Callable[[Finding, "FileFixer", Document], "TextFix | None"]

TEXT_FIXERS: dict[str, TextFn] = {}

_PLAIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*\Z")


def text_fixer(rule: str) -> Callable[[TextFn], TextFn]:
    def deco(fn: TextFn) -> TextFn:
        TEXT_FIXERS[rule] = fn
        return fn

    return deco


def _bare(line: str) -> str:
    return line.rstrip("\r\n")


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _key_line(ff: FileFixer, doc: Document, path: Path, key: str) -> tuple[int, int] | None:
    """(0-based line, 0-based column) of the plain block key ``path[-1]`` == ``key``, when the
    line holds it as written (the key exactly, then ``:``)."""
    pos = doc.exact(path)
    if pos is None:
        return None
    kl, kc = pos[0], pos[1]
    if kl < 1 or kl > len(ff.lines):
        return None
    line = ff.lines[kl - 1]
    if line[kc - 1 : kc - 1 + len(key) + 1] != key + ":":
        return None
    return kl - 1, kc - 1


def _scalar_line(ff: FileFixer, doc: Document, path: Path, key: str) -> tuple[int, int, str] | None:
    """(0-based line, 0-based column, text) of the one-line value of block key ``key`` at
    ``path``, when it ends its line (no comment) and no comment line follows."""
    at = _key_line(ff, doc, path, key)
    pos = doc.exact(path)
    if at is None or pos is None:
        return None
    _, _, line, col, el, ec = pos
    if line != el or line - 1 != at[0]:
        return None
    text = _bare(ff.lines[line - 1])
    if text[ec - 1 :] != "" or text[at[1] + len(key) + 1 : col - 1].strip() or _next_is_comment(ff, line - 1):
        return None
    return line - 1, col - 1, text[col - 1 : ec - 1]


def _last_line(doc: Document, data: Any, path: Path) -> int | None:
    """0-based last line of the subtree at ``path`` (its last scalar, which must be on one line)."""
    best: tuple[int, int] | None = None
    stack: list[tuple[Path, Any]] = [(path, _get(data, path))]
    while stack:
        p, node = stack.pop()
        if isinstance(node, dict | list):
            items = node.items() if isinstance(node, dict) else enumerate(node)
            if not node:
                pos = doc.exact(p)
                if pos is None or pos[2] != pos[4]:
                    return None
                cand = (pos[4], pos[5])
                best = cand if best is None or cand > best else best
            for k, v in items:
                stack.append((p + (k,), v))
            continue
        pos = doc.exact(p)
        if pos is None or pos[2] != pos[4]:
            return None
        cand = (pos[4], pos[5])
        best = cand if best is None or cand > best else best
    return None if best is None else best[0] - 1


def _line_is(ff: FileFixer, i: int, prefix_col: int, rest: str) -> bool:
    """Line ``i`` holds exactly ``rest`` from column ``prefix_col`` (nothing after it)."""
    return _bare(ff.lines[i])[prefix_col:] == rest


def _next_is_comment(ff: FileFixer, i: int) -> bool:
    return i + 1 < len(ff.lines) and _is_comment(ff.lines[i + 1])


# --------------------------------------------------------------------------- fixers


@text_fixer("KV201")
def _bridge_to_masquerade(f: Finding, ff: FileFixer, doc: Document) -> TextFix | None:
    path = bridge_binding_path(f)
    if path is None:
        return None
    iface_path = path[:-1]
    data = doc.data
    iface = _get(data, iface_path)
    if not isinstance(iface, dict) or iface.get("bridge") != {} or "masquerade" in iface:
        return None
    ports = iface.get("ports")
    if isinstance(ports, list) and any(isinstance(p, dict) and p.get("port") in MIGRATION_PORTS for p in ports):
        return None
    if "ports" in iface and not isinstance(ports, list):
        return None
    if bridge_allowed_on_object(f, data, path):
        return NO_FIX  # the safe KV202 fix moves the annotation, which allows bridge
    name = iface.get("name")
    if not isinstance(name, str):
        return None
    at = _key_line(ff, doc, path, "bridge")
    if at is None:
        return None
    i, col = at
    if not _line_is(ff, i, col, "bridge: {}") or _next_is_comment(ff, i):
        return None
    line = ff.lines[i]
    new = line[:col] + "masquerade: {}" + line[len(_bare(line)) :]
    return TextFix(
        f"bind interface {name!r} with masquerade instead of bridge (the guest gets a NAT "
        "address instead of the pod IP)",
        [(i, i + 1, [new])],
        (path, iface_path + ("masquerade",)),
        [(path, MISSING), (iface_path + ("masquerade",), {})],
    )


@text_fixer("KV101")
def _request_rwx(f: Finding, ff: FileFixer, doc: Document) -> TextFix | None:
    info = f.data.get("rwx_fix")
    if not isinstance(info, dict):
        return None
    spec_path: Path = tuple(info["spec"])
    block: str = info["block"]
    mode: str | None = info.get("volumeMode")
    claim_path = spec_path + (block,)
    data = doc.data
    claim = _get(data, claim_path)
    if not isinstance(claim, dict):
        return None
    modes = claim.get("accessModes")
    if not (isinstance(modes, list) and len(modes) == 1 and isinstance(modes[0], str)):
        return None
    current = claim.get("volumeMode")
    set_mode = (
        mode is not None and current != mode and not (block == "pvc" and current is None and mode == "Filesystem")
    )
    if set_mode and not _PLAIN_WORD.match(mode or ""):
        return None
    replace_mode: Hunk | None = None
    if set_mode and "volumeMode" in claim:
        vm = _scalar_line(ff, doc, claim_path + ("volumeMode",), "volumeMode")
        if vm is None or not isinstance(current, str) or not _PLAIN_WORD.match(vm[2]):
            return None
        i_vm, col_vm, _ = vm
        line_vm = ff.lines[i_vm]
        replace_mode = (i_vm, i_vm + 1, [line_vm[:col_vm] + f"{mode}" + line_vm[len(_bare(line_vm)) :]])
    am_path = claim_path + ("accessModes",)
    item = doc.exact(am_path + (0,))
    if _key_line(ff, doc, am_path, "accessModes") is None or item is None:
        return None
    _, _, line, col, el, ec = item
    if line != el:
        return None
    i = line - 1
    text = _bare(ff.lines[i])
    scalar = text[col - 1 : ec - 1]
    if text[ec - 1 :] != "" or not text[: col - 1].rstrip().endswith("-") or text[: col - 1].strip() != "-":
        return None
    if _PLAIN_WORD.match(scalar):
        new_scalar = RWX
    elif len(scalar) >= 2 and scalar[0] == scalar[-1] and scalar[0] in "'\"" and _PLAIN_WORD.match(scalar[1:-1]):
        new_scalar = scalar[0] + RWX + scalar[0]
    else:
        return None
    keys = list(claim)
    if replace_mode is not None:
        pass
    elif keys.index("accessModes") + 1 < len(keys) and set_mode:
        nxt = keys[keys.index("accessModes") + 1]
        nxt_at = _key_line(ff, doc, claim_path + (nxt,), str(nxt)) if isinstance(nxt, str) else None
        if nxt_at is None or nxt_at[0] != i + 1:
            return None
    elif set_mode and _last_line(doc, data, claim_path) != i:
        return None
    if _next_is_comment(ff, i):
        return None
    nl = ff.lines[i][len(text) :] or ff.nl
    hunk_lines = [text[: col - 1] + new_scalar + nl]
    touched: tuple[Path, ...] = (am_path,)
    out: list[Expectation] = [(am_path, [RWX])]
    hunks: list[Hunk] = [(i, i + 1, hunk_lines)]
    if replace_mode is not None:
        if replace_mode[0] == i:
            return None
        hunks.append(replace_mode)
    elif set_mode:
        kc = _key_line(ff, doc, am_path, "accessModes")
        assert kc is not None
        hunk_lines.append(" " * kc[1] + f"volumeMode: {mode}" + nl)
    if set_mode:
        assert mode is not None
        touched += (claim_path + ("volumeMode",),)
        out.append((claim_path + ("volumeMode",), mode))
    what = f"accessModes [{RWX}]" + (f" and volumeMode {mode}" if set_mode else "")
    return TextFix(
        f"request {what} in {_path_text(claim_path)} (storage class {info.get('origin')} "
        "offers it; the disk becomes a new, shared claim)",
        hunks,
        touched,
        out,
    )


def _value_text(ff: FileFixer, doc: Document, path: Path, key: str) -> tuple[int, str] | None:
    """(0-based line, value text) of a ``key: value`` line whose value the round trip writes
    back as it was (a plain word or a quoted string without escapes)."""
    at = _scalar_line(ff, doc, path, key)
    if at is None:
        return None
    i, _, value = at
    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
    if quoted and not any(c in value[1:-1] for c in "'\"\\"):
        return i, value
    return (i, value) if _PLAIN_WORD.match(value) else None


def _block_map_lines(ff: FileFixer, doc: Document, data: Any, path: Path) -> tuple[int, int, int] | None:
    """(0-based key line, 0-based column of its keys, 0-based last line) of a non-empty block
    mapping whose entries start on the lines after its key."""
    node = _get(data, path)
    if not isinstance(node, dict) or not node or not all(isinstance(k, str) for k in node):
        return None
    pos = doc.exact(path)
    first = doc.exact(path + (next(iter(node)),))
    last = _last_line(doc, data, path)
    if pos is None or first is None or last is None or first[0] <= pos[0]:
        return None
    return pos[0] - 1, first[1] - 1, last


@text_fixer("KV202")
def _move_bridge_annotation(f: Finding, ff: FileFixer, doc: Document) -> TextFix | None:
    found = bridge_annotation_paths(f)
    if found is None:
        return None
    index, path, base, template_meta = found
    meta_path: Path = base + template_meta
    data = doc.data
    template = _get(data, meta_path[:-1])
    src_path = base + ("metadata", "annotations")
    src = _get(data, src_path)
    if not isinstance(template, dict) or not isinstance(src, dict) or ALLOW_BRIDGE_ANN not in src:
        return None
    meta = template.get("metadata")
    if not isinstance(meta, dict) or not meta:
        return None
    dest = meta.get("annotations")
    if dest is not None and (not isinstance(dest, dict) or ALLOW_BRIDGE_ANN in dest):
        return None
    value = _value_text(ff, doc, path, ALLOW_BRIDGE_ANN)
    src_block = _block_map_lines(ff, doc, data, src_path)
    md = _block_map_lines(ff, doc, data, meta_path)
    if value is None or src_block is None or md is None:
        return None
    i, value_text = value
    nl = ff.lines[i][len(_bare(ff.lines[i])) :] or ff.nl
    hunks: list[Hunk] = []
    if len(src) == 1:
        key_line = src_block[0]
        if key_line + 1 != i or not _line_is(ff, key_line, doc.exact(src_path)[1] - 1, "annotations:"):  # type: ignore[index]
            return None
        hunks.append((key_line, i + 1, []))
        src_touched: Path = src_path
    else:
        hunks.append((i, i + 1, []))
        src_touched = path
    entry = f"{ALLOW_BRIDGE_ANN}: {value_text}{nl}"
    if dest == {}:
        # ``annotations: {}``: the round trip writes the one entry in block style.
        at = _key_line(ff, doc, meta_path + ("annotations",), "annotations")
        if at is None or not _line_is(ff, at[0], at[1], "annotations: {}") or _next_is_comment(ff, at[0]):
            return None
        indent = ff.indent(index)[0]
        hunks.append((at[0], at[0] + 1, [" " * at[1] + "annotations:" + nl, " " * (at[1] + indent) + entry]))
        dst_touched = meta_path + ("annotations", ALLOW_BRIDGE_ANN)
        if at[0] < i:
            return None
        after = -1
    elif dest is not None:
        dest_block = _block_map_lines(ff, doc, data, meta_path + ("annotations",))
        if dest_block is None:
            return None
        after = dest_block[2]
        new_lines = [" " * dest_block[1] + entry]
        dst_touched = meta_path + ("annotations", ALLOW_BRIDGE_ANN)
    else:
        after_key = "labels" if "labels" in meta else list(meta)[-1]
        last = _last_line(doc, data, meta_path + (after_key,))
        if last is None:
            return None
        after = last
        indent = ff.indent(index)[0]
        new_lines = [" " * md[1] + "annotations:" + nl, " " * (md[1] + indent) + entry]
        dst_touched = meta_path + ("annotations",)
    if after >= 0:
        if _next_is_comment(ff, after) or after < i:
            return None
        hunks.append((after + 1, after + 1, new_lines))
    return TextFix(
        f"move annotation {ALLOW_BRIDGE_ANN} from metadata.annotations to "
        f"{_path_text(template_meta)}.annotations, where KubeVirt reads it",
        hunks,
        (src_touched, dst_touched),
        [
            (src_touched if src_touched != path else path, MISSING),
            (meta_path + ("annotations", ALLOW_BRIDGE_ANN), _get(data, path)),
        ],
    )


# --------------------------------------------------------------------------- verification


def _same_except(a: Any, b: Any, touched: tuple[Path, ...], depth: int = 0) -> bool:
    """``equal_except`` without copying: ``a`` and ``b`` at one path, ``touched`` the touched
    paths under it (relative from ``depth``)."""
    from kvlint.fix.splice import _same

    if not touched:
        return _same(a, b)
    if any(len(p) == depth for p in touched):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        heads = {p[depth] for p in touched}
        for k in a.keys() | b.keys():
            if k in heads:
                sub = tuple(p for p in touched if p[depth] == k)
                if (k in a) != (k in b):
                    if all(len(p) == depth + 1 for p in sub):
                        continue
                    return False
                if not _same_except(a[k], b[k], sub, depth + 1):
                    return False
            elif k not in a or k not in b or not _same(a[k], b[k]):
                return False
        return True
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return False
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            sub = tuple(p for p in touched if p[depth] == i)
            if not _same_except(x, y, sub, depth + 1):
                return False
        return True
    return False


def verify(ff: FileFixer, index: int, fix: TextFix) -> str | None:
    """The whole new text when ``fix`` reads back as intended, else None."""
    from kvlint.fix.splice import _comment_lines, _same, apply_hunks

    lines = apply_hunks(ff.lines, fix.hunks, ff.nl)
    if lines is None:
        return None
    new_text = "".join(lines)
    if _comment_lines(new_text) != _comment_lines(ff.text):
        return None
    check = parse_text(ff.display, new_text)
    if [p.rule for p in check.problems] != [p.rule for p in ff.parsed.problems]:
        return None
    after = {d.index: d for d in check.documents}
    if sorted(after) != sorted(ff.docs):
        return None
    for idx, d in ff.docs.items():
        if not _same_except(d.data, after[idx].data, fix.touched if idx == index else ()):
            return None
    data = after[index].data
    for p, want in fix.expectations:
        got = _get(data, p)
        if want is MISSING:
            if got is not MISSING:
                return None
        elif not _same(got, want):
            return None
    return new_text


def text_fix(ff: FileFixer, f: Finding) -> tuple[TextFix, str] | None:
    """The text-level fix of ``f`` and the file's new text, when there is one that verifies;
    (``NO_FIX``, "") when the finding has no fix."""
    fn = TEXT_FIXERS.get(f.rule)
    node = _node_path(f)
    if fn is None or node is None or ff.error is not None or ff.chunks is None:
        return None
    doc = ff.docs.get(node[0])
    if doc is None or doc.explicit is not None:
        return None
    try:
        fix = fn(f, ff, doc)
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if fix is None:
        return None
    if fix is NO_FIX:
        return fix, ""
    new_text = verify(ff, node[0], fix)
    return None if new_text is None else (fix, new_text)
