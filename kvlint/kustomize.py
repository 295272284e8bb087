"""Kustomize awareness for un-rendered trees.

kvlint lints files as they are in the repository. In a kustomize tree two things would
otherwise mislead it:

* a kustomization's ``namespace:`` is applied by kustomize to every resource it includes
  (directly or through bases); kvlint applies it too, unless two kustomizations disagree on
  a file's namespace (a base shared by overlays), where the file keeps its own;
* files listed under ``patches`` / ``patchesStrategicMerge`` / ``patchesJson6902`` are
  fragments, not whole objects: they are neither linted nor used for resolution.

A folder given as a PATH that holds an overlay is rendered instead (see below).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kvlint.parse import ParsedFile

NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass
class KustomizeInfo:
    #: display path -> namespace kustomize gives its objects
    namespaces: dict[str, str] = field(default_factory=dict)
    #: display paths of patch files
    patches: set[str] = field(default_factory=set)


def is_kustomization(path: str) -> bool:
    return posixpath.basename(path) in NAMES


def _norm(base_dir: str, rel: str) -> str:
    return posixpath.normpath(posixpath.join(base_dir, rel)) if base_dir else posixpath.normpath(rel)


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def analyse(files: Sequence[ParsedFile], all_paths: Sequence[str]) -> KustomizeInfo:
    """Read every kustomization among ``files`` and map namespaces and patch files."""
    info = KustomizeInfo()
    kusts: dict[str, dict[str, Any]] = {}
    for pf in files:
        if pf.documents and is_kustomization(pf.path) and isinstance(pf.documents[0].data, dict):
            kusts[posixpath.dirname(pf.path)] = pf.documents[0].data
    if not kusts:
        return info
    paths = set(all_paths)
    by_dir: dict[str, list[str]] = {}
    for p in paths:
        by_dir.setdefault(posixpath.dirname(p), []).append(p)

    def resources_of(d: str, seen: frozenset[str]) -> list[str]:
        """Files a kustomization in folder d includes (transitively)."""
        k = kusts.get(d)
        if k is None or d in seen:
            return []
        out: list[str] = []
        for res in _strings(k.get("resources")) + _strings(k.get("bases")):
            target = _norm(d, res)
            if target in paths:
                out.append(target)
            elif target in kusts:
                out.extend(resources_of(target, seen | {d}))
        return out

    assigned: dict[str, set[str]] = {}
    for d, k in kusts.items():
        for key in ("patchesStrategicMerge",):
            for rel in _strings(k.get(key)):
                info.patches.add(_norm(d, rel))
        for key in ("patches", "patchesJson6902"):
            for item in k.get(key) or []:
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    info.patches.add(_norm(d, item["path"]))
                elif isinstance(item, str):
                    info.patches.add(_norm(d, item))
        ns = k.get("namespace")
        if isinstance(ns, str) and ns:
            for f in resources_of(d, frozenset()):
                assigned.setdefault(f, set()).add(ns)
    for f, namespaces in assigned.items():
        if len(namespaces) == 1:
            info.namespaces[f] = next(iter(namespaces))
    return info


# -- Rendering overlays -------------------------------------------------------------------
#
# A folder given as a PATH that holds an overlay kustomization (one that builds on a base
# outside its folder, or patches) is rendered with the kustomize (or kubectl kustomize) found
# on PATH, with origin annotations; the rendered objects are linted, and each finding is
# mapped back to the file it comes from: the patch that set the field, else the resource
# file the object was read from.

_PATCH_KEYS = ("patches", "patchesStrategicMerge", "patchesJson6902")
_ORIGIN = "config.kubernetes.io/origin"
_TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"


def kustomization_file(folder: str) -> str | None:
    for name in NAMES:
        cand = os.path.join(folder, name)
        if os.path.isfile(cand):
            return cand
    return None


def _load_yaml(path: str) -> Any:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def is_overlay(data: Any) -> bool:
    """A kustomization that builds on something outside its folder or patches it."""
    if not isinstance(data, dict):
        return False
    if any(data.get(k) for k in (*_PATCH_KEYS, "components")):
        return True
    refs = _strings(data.get("resources")) + _strings(data.get("bases"))
    return any(posixpath.normpath(r).startswith("..") for r in refs)


def renderer() -> list[str] | None:
    """The command that renders a kustomization folder: kustomize build, else kubectl kustomize."""
    exe = shutil.which("kustomize")
    if exe:
        return [exe, "build"]
    exe = shutil.which("kubectl")
    if exe:
        return [exe, "kustomize"]
    return None


@dataclass
class Rendered:
    """One rendered overlay: ``display`` names it in findings that cannot be mapped back."""

    folder: str
    display: str
    temp_path: str
    #: folder of every kustomization in the build (absolute) -> its data
    kustomizations: dict[str, dict[str, Any]] = field(default_factory=dict)


def render(folder: str, command: list[str]) -> tuple[str | None, str]:
    """Render ``folder`` with origin annotations: (the YAML text, "") or (None, why not).

    The user's files are not touched: a temporary kustomization elsewhere includes the
    folder and asks for the annotations."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kvlint-kustomize-") as tmp:
        rel = os.path.relpath(os.path.abspath(folder), tmp).replace(os.sep, "/")
        with open(os.path.join(tmp, "kustomization.yaml"), "w", encoding="utf-8") as fh:
            fh.write(f"resources:\n- {rel}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n")
        try:
            out = subprocess.run([*command, tmp], capture_output=True, text=True, timeout=300, check=False)
        except (OSError, subprocess.SubprocessError) as e:
            return None, f"{' '.join(command[:2])} failed: {e}"
        if out.returncode != 0:
            err = (out.stderr.strip().splitlines() or ["no message"])[-1]
            return None, f"{os.path.basename(command[0])} {command[1]} failed: {err[:300]}"
        # Origins are relative to the temporary folder: make them absolute.
        text = re.sub(
            r"(?m)^(\s+path: )(\S.*)$",
            lambda m: m.group(1) + os.path.normpath(os.path.join(tmp, m.group(2))),
            out.stdout,
        )
        return text, ""


def _chain(folder: str) -> dict[str, dict[str, Any]]:
    """Every kustomization a build of ``folder`` reads (folder -> data), by resources/bases/components."""
    out: dict[str, dict[str, Any]] = {}
    todo = [os.path.abspath(folder)]
    while todo:
        d = todo.pop()
        if d in out:
            continue
        kf = kustomization_file(d)
        data = _load_yaml(kf) if kf else None
        if not isinstance(data, dict):
            continue
        out[d] = data
        for ref in _strings(data.get("resources")) + _strings(data.get("bases")) + _strings(data.get("components")):
            target = os.path.normpath(os.path.join(d, ref))
            if os.path.isdir(target):
                todo.append(target)
    return out


def render_overlays(paths: Sequence[str], mode: bool | None, messages: list[str]) -> tuple[list[str], list[Rendered]]:
    """Render the PATHS that are overlay folders (``mode`` None), every PATH folder with a
    kustomization (True) or none (False). Returns the PATHS left to lint as files and the
    rendered overlays (each written to a temporary file); ``messages`` gets a line for each
    overlay rendered or not."""
    import tempfile

    from kvlint.source import display_path

    if mode is False:
        return list(paths), []
    left: list[str] = []
    done: list[Rendered] = []
    command: list[str] | None = None
    looked = False
    for p in paths:
        kf = kustomization_file(p) if p != "-" and os.path.isdir(p) else None
        if kf is None or not (mode or is_overlay(_load_yaml(kf))):
            left.append(p)
            continue
        disp = display_path(p).rstrip("/") or "."
        if not looked:
            command, looked = renderer(), True
        if command is None:
            messages.append(
                f"kustomize: {disp} was not rendered: neither kustomize nor kubectl is on PATH; "
                "its files were linted as they are"
            )
            left.append(p)
            continue
        text, why = render(p, command)
        if text is None:
            messages.append(f"kustomize: {disp} was not rendered ({why}); its files were linted as they are")
            left.append(p)
            continue
        fd, temp_path = tempfile.mkstemp(prefix="kvlint-rendered-", suffix=".yaml")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        tool = "kubectl kustomize" if command[1] == "kustomize" else "kustomize build"
        done.append(Rendered(disp, f"{disp} ({tool})", temp_path, _chain(p)))
        messages.append(f"kustomize: {disp} rendered with {tool}; findings point at its source files")
    return left, done


def cleanup(rendered: Sequence[Rendered]) -> None:
    for r in rendered:
        with contextlib.suppress(OSError):
            os.unlink(r.temp_path)


def _item_key(item: Any) -> tuple[str, Any] | None:
    if isinstance(item, dict):
        if isinstance(item.get("name"), str):
            return ("name", item["name"])
        meta = item.get("metadata")
        if isinstance(meta, dict) and isinstance(meta.get("name"), str):
            return ("metadata.name", meta["name"])
    return None


def _follow(rendered: Any, other: Any, path: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The path in ``other`` of the node at ``path`` in ``rendered``: list items are matched by
    their name (``name`` or ``metadata.name``), else by index; None when ``other`` lacks it."""
    out: list[Any] = []
    r, o = rendered, other
    for step in path:
        if isinstance(step, int):
            if not isinstance(r, list) or not isinstance(o, list) or step >= len(r):
                return None
            item = r[step]
            key = _item_key(item)
            if key is not None:
                j = next((i for i, x in enumerate(o) if _item_key(x) == key), None)
            else:
                j = step if step < len(o) else None
            if j is None:
                return None
            r, o = item, o[j]
            out.append(j)
        else:
            if not isinstance(r, dict) or not isinstance(o, dict) or step not in o:
                return None
            r, o = r.get(step), o[step]
            out.append(step)
    return tuple(out)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


@dataclass
class _Patch:
    file: str  # display path
    doc: Any  # parsed Document of the patch (strategic merge) or of the op list (JSON 6902)
    kind: str | None
    name: str | None
    json6902: bool


def _patches(kustomizations: dict[str, dict[str, Any]]) -> list[_Patch]:
    from kvlint.parse import parse_text
    from kvlint.source import display_path

    out: list[_Patch] = []

    def add(folder: str, rel: str, target: Any) -> None:
        full = os.path.normpath(os.path.join(folder, rel))
        try:
            with open(full, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError):
            return
        target = target if isinstance(target, dict) else {}
        for doc in parse_text(display_path(full), text).documents:
            if isinstance(doc.data, list):
                out.append(_Patch(doc.path, doc, target.get("kind"), target.get("name"), True))
            elif isinstance(doc.data, dict):
                meta: dict[str, Any] = doc.data["metadata"] if isinstance(doc.data.get("metadata"), dict) else {}
                kind = doc.data.get("kind") or target.get("kind")
                name = meta.get("name") or target.get("name")
                out.append(_Patch(doc.path, doc, kind, name, False))

    for folder, k in kustomizations.items():
        for rel in _strings(k.get("patchesStrategicMerge")):
            add(folder, rel, None)
        for key in ("patches", "patchesJson6902"):
            for item in k.get(key) or []:
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    add(folder, item["path"], item.get("target"))
    return out


def _op_path(pointer: Any) -> tuple[Any, ...] | None:
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        return None
    parts: list[Any] = []
    for raw in pointer[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(part) if part.isdigit() else part)
    return tuple(parts)


def _patch_position(p: _Patch, rendered: Any, path: tuple[Any, ...]) -> Any:
    """Position in the patch file of the node it sets at ``path`` of the rendered object."""
    if p.json6902:
        for i, op in enumerate(p.doc.data):
            target = _op_path(op.get("path")) if isinstance(op, dict) else None
            if target is None or op.get("op") not in ("add", "replace") or path[: len(target)] != target:
                continue
            rest = path[len(target) :]
            return p.doc.position((i, "value", *rest)) or p.doc.position((i, "value")) or p.doc.position((i,))
        return None
    found = _follow(rendered, p.doc.data, path)
    if found is None or len(path) <= 1:  # apiVersion / kind / metadata name the target only
        return None
    if path[0] == "metadata" and path[1:2] in (("name",), ("namespace",)):
        return None
    return p.doc.position(found)


def _source_doc(data: dict[str, Any], meta: dict[str, Any], sources: dict[str, list[Any]]) -> Any:
    """The document of the file named by the object's origin annotation that it was built from."""
    from kvlint.parse import parse_text
    from kvlint.source import display_path

    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    origin = ann.get(_ORIGIN) if isinstance(ann, dict) else None
    src_file = None
    if isinstance(origin, str):
        for line in origin.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "path" and value.strip():
                src_file = value.strip()
    if src_file is None:
        return None
    if src_file not in sources:
        try:
            with open(src_file, encoding="utf-8") as fh:
                sources[src_file] = parse_text(display_path(src_file), fh.read()).documents
        except (OSError, UnicodeDecodeError):
            sources[src_file] = []
    same_kind = [d for d in sources[src_file] if isinstance(d.data, dict) and d.data.get("kind") == data.get("kind")]
    name = meta.get("name")
    exact = [d for d in same_kind if _item_key(d.data) == ("metadata.name", name)]
    close = [d for d in same_kind if isinstance(name, str) and str((_item_key(d.data) or ("", "\0"))[1]) in name]
    cands = exact or close or (same_kind if len(same_kind) == 1 else [])
    return cands[0] if cands else None


#: rendered key line -> (file, line, column, set by a patch)
LineMap = dict[int, tuple[str, int, int, bool]]


def _line_map(r: Rendered, text: str) -> LineMap:
    from kvlint.parse import parse_text

    patches = _patches(r.kustomizations)
    sources: dict[str, list[Any]] = {}
    lines: LineMap = {}
    for rdoc in parse_text(r.display, text).documents:
        data = rdoc.data
        if not isinstance(data, dict):
            continue
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        assert isinstance(meta, dict)
        sdoc = _source_doc(data, meta, sources)
        skey = _item_key(sdoc.data) if sdoc is not None else None
        src_name = skey[1] if skey else meta.get("name")
        mine = [p for p in patches if p.kind == data.get("kind") and p.name in (src_name, meta.get("name"))]
        for path in _paths(data):
            pos = rdoc.position(path)
            if pos is None:
                continue
            rline = pos[0] or pos[2]
            hit: tuple[str, int, int, bool] | None = None
            for p in reversed(mine):
                ppos = _patch_position(p, data, path)
                if ppos is not None:
                    hit = (p.file, ppos[0] or ppos[2], ppos[1] if ppos[0] else ppos[3], True)
                    break
            if hit is None and sdoc is not None:
                for n in range(len(path), -1, -1):
                    found = _follow(data, sdoc.data, path[:n])
                    spos = sdoc.position(found) if found is not None else None
                    if spos is not None:
                        hit = (sdoc.path, spos[0] or spos[2], spos[1] if spos[0] else spos[3], False)
                        break
            if hit is not None:
                lines[rline] = hit  # deeper nodes on the same line win
    return lines


def _remap_findings(findings: list[Any], display: str, lines: LineMap) -> None:
    import dataclasses

    from kvlint.models import Location

    def moved(loc: Location) -> tuple[Location, bool] | None:
        if loc.file != display or loc.line not in lines:
            return None
        file, line, col, patched = lines[loc.line]
        return dataclasses.replace(loc, file=file, line=line, column=col, end_line=line, end_column=col), patched

    def line_ref(m: re.Match[str]) -> str:
        hit = lines.get(int(m.group(1)))
        return f"({hit[0]}:{hit[1]})" if hit else m.group(0)

    for f in findings:
        if f.location.file != display:
            continue
        f.message = re.sub(r"\(line (\d+)\)", line_ref, f.message)
        main = moved(f.location)
        related = []
        patch_loc = None
        for rel in f.related:
            m = moved(rel)
            related.append(m[0] if m else rel)
            if m and m[1] and patch_loc is None:
                patch_loc = m[0]
        for step in f.data.get("chain") or ():
            # Resolution steps (explain, SARIF) name rendered lines too.
            if isinstance(step, dict) and step.get("file") == display and step.get("line") in lines:
                file, line, col, patched = lines[step["line"]]
                step.update(file=file, line=line, column=col)
                if patched:  # the last patched step is the most specific one
                    patch_loc = Location(file, line, col, line, col, label=str(step.get("step", "")))
        f.data.pop("node", None)  # a fix would edit the rendered text, not the sources
        if main is not None:
            loc, patched = main
            if not patched and patch_loc is not None:
                # The overlay's patch is what makes this object fail: report it there.
                related.append(dataclasses.replace(loc, label="the node in the resource the patch applies to"))
                loc = dataclasses.replace(patch_loc, label="")
            f.location = loc
        f.related = tuple(related)


def remap(result: Any, rendered: Sequence[Rendered]) -> None:
    """Point the findings on rendered objects at their source files (in place)."""
    for r in rendered:
        try:
            with open(r.temp_path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError:
            continue
        _remap_findings(result.findings, r.display, _line_map(r, text))
    result.findings.sort(key=lambda f: f.sort_key())


def overlays_walked(files: Sequence[Any]) -> str | None:
    """A note naming the overlay kustomizations among the files a walk found (linted as files,
    not rendered), or None."""
    found = sorted(
        posixpath.dirname(f.display) or "."
        for f in files
        if posixpath.basename(f.display) in NAMES and is_overlay(_load_yaml(f.real))
    )
    if not found:
        return None
    shown = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
    return (
        f"kustomize: {len(found)} overlay{'' if len(found) == 1 else 's'} linted as files, not rendered "
        f"({shown}); name an overlay folder as a PATH to lint its rendered objects"
    )
