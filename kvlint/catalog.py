"""The rule catalog: one YAML file per rule in ``rules/``, the single source of each
rule's documentation (CLI, SARIF descriptors, README table and tests read it)."""

from __future__ import annotations

import contextlib
import os
import pickle
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

_HERE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """``rules`` or ``schemas``: inside the installed package, else in the source checkout."""
    inside = _HERE / name
    if inside.is_dir():
        return inside
    return _HERE.parent / name


@dataclass(frozen=True, slots=True)
class RuleMeta:
    id: str
    name: str
    severity: str
    summary: str
    why: str
    fix: str
    reason: str | None = None
    area: str = ""
    docs: str = ""
    fixable: str | None = None
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Why the rule was retired (its id is never reused and no check reports it), else None.
    retired: str | None = None

    @property
    def help_uri(self) -> str:
        return self.docs or f"https://github.com/kvlint/kvlint/blob/main/rules/{self.id}.yaml"


REQUIRED = ("id", "name", "severity", "summary", "why", "fix")


def _load_one(path: Path) -> RuleMeta:
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=loader)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a rule file must be a mapping")
    missing = [k for k in REQUIRED if not data.get(k)]
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    if data["severity"] not in ("error", "warning", "info"):
        raise ValueError(f"{path}: severity must be error, warning or info")
    if os.path.splitext(path.name)[0] != data["id"]:
        raise ValueError(f"{path}: file name must be the rule id")
    return RuleMeta(
        id=str(data["id"]),
        name=str(data["name"]),
        severity=str(data["severity"]),
        summary=str(data["summary"]).strip(),
        why=str(data["why"]).strip(),
        fix=str(data["fix"]).strip(),
        reason=data.get("reason"),
        area=str(data.get("area", "")),
        docs=str(data.get("docs", "")),
        fixable=data.get("fixable"),
        examples=data.get("examples") or {},
        retired=str(data["retired"]).strip() if data.get("retired") else None,
    )


@lru_cache(maxsize=1)
def load() -> dict[str, RuleMeta]:
    """All rules, by id, in id order.

    Reading the rule files is a noticeable part of a small run's start-up, so the result is
    also kept in the cache folder, keyed by every rule file's name, size and modification
    time and by the kvlint version (a changed rule file is never missed)."""
    paths = sorted(resource_dir("rules").glob("KV*.yaml"))
    found = _cache_key(paths)
    if found is not None:
        key, cached = found
        with contextlib.suppress(Exception):  # a bad cache file only costs time
            with open(cached, "rb") as fh:
                stored_key, out = pickle.load(fh)
            if stored_key == key and all(isinstance(r, RuleMeta) for r in out.values()):
                return dict(out)
    rules = [_load_one(p) for p in paths]
    out = {r.id: r for r in sorted(rules, key=lambda r: r.id)}
    if found is not None:
        from kvlint.cache import store

        store(cached, (key, out))
    return out


def _cache_key(paths: list[Path]) -> tuple[str, str] | None:
    """The exact key of the rule files (kept in the cache file and compared) and the cache
    file's path (named by a checksum of the key)."""
    import zlib

    from kvlint import __version__
    from kvlint.cache import cache_dir

    parts = [__version__]
    try:
        for p in paths:
            st = p.stat()
            parts.append(f"{p}:{st.st_size}:{st.st_mtime_ns}")
    except OSError:
        return None
    key = "\n".join(parts)
    return key, os.path.join(cache_dir(), f"catalog-{zlib.crc32(key.encode()):08x}.pickle")
