"""The rule catalog: one YAML file per rule in ``rules/``, the single source of each
rule's documentation (CLI, SARIF descriptors, README table and tests read it)."""

from __future__ import annotations

import os
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
    #: Every finding of the rule blocks live migration (``blocks: true``; eviction reads it).
    #: A rule that blocks only in some cases says so at the check, with ``blocks=True``.
    blocks: bool = False
    #: A finding of the rule (an error) means the API server or KubeVirt's admission
    #: rejects the object (``rejects: true``): it never exists in the cluster.
    rejects: bool = False
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
        blocks=data.get("blocks") is True,
        rejects=data.get("rejects") is True,
        examples=data.get("examples") or {},
        retired=str(data["retired"]).strip() if data.get("retired") else None,
    )


@lru_cache(maxsize=1)
def load() -> dict[str, RuleMeta]:
    """All rules, by id, in id order, read from the rule files (with libyaml's C loader:
    tens of milliseconds; no cache to go stale)."""
    paths = sorted(resource_dir("rules").glob("KV*.yaml"))
    rules = [_load_one(p) for p in paths]
    return {r.id: r for r in sorted(rules, key=lambda r: r.id)}
