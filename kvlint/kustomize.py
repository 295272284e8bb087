"""Kustomize awareness for un-rendered trees.

kvlint lints files as they are in the repository. In a kustomize tree two things would
otherwise mislead it:

* a kustomization's ``namespace:`` is applied by kustomize to every resource it includes
  (directly or through bases); kvlint applies it too, unless two kustomizations disagree on
  a file's namespace (a base shared by overlays), where the file keeps its own;
* files listed under ``patches`` / ``patchesStrategicMerge`` / ``patchesJson6902`` are
  fragments, not whole objects: they are neither linted nor used for resolution.

For the fully rendered result, pipe ``kustomize build overlays/prod | kvlint lint -``.
"""

from __future__ import annotations

import posixpath
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
