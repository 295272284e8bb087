"""The rule catalog: one YAML file per rule in ``rules/``, the single source of each
rule's documentation (CLI, SARIF descriptors, README table and tests read it)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache, lru_cache
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
    #: An input problem that SARIF also reports as a tool execution notification when it is
    #: not on an object (``notification: true``).
    notification: bool = False
    #: Findings of the rule can be suppressed (``suppressible: false``: input and internal
    #: errors cannot, by annotation, comment, configuration or baseline).
    suppressible: bool = True
    #: A file with this input problem is not fixed (``stops_fix: true``).
    stops_fix: bool = False
    #: A fixed file that reads back with this input problem is not written (``spoils_fix: true``).
    spoils_fix: bool = False
    #: The rule validates parts of objects itself (``owns_schema: true``): a schema error
    #: (KV8xx) at a node where it reports is its own, not reported twice.
    owns_schema: bool = False
    #: Why the rule was retired (its id is never reused and no check reports it), else None.
    retired: str | None = None
    #: The rule file (its examples are read from it on first use).
    path: str = ""

    @property
    def examples(self) -> dict[str, list[dict[str, Any]]]:
        """The rule's failing and passing examples (``examples:`` of its file)."""
        return _examples(self.path)

    @property
    def help_uri(self) -> str:
        return self.docs or f"https://github.com/kvlint/kvlint/blob/main/rules/{self.id}.yaml"


REQUIRED = ("id", "name", "severity", "summary", "why", "fix")


#: Top-level keys of a rule file that a run does not need: left out when the catalog is
#: loaded (they are most of each file) and read on first use.
_LATER_KEYS = ("examples", "fix_examples")
_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)[ \t]*:", re.MULTILINE)


def _without_later_keys(text: str) -> str:
    """A rule file's text without the top-level entries named in ``_LATER_KEYS`` (each
    entry runs from its key, at the start of a line, to the next top-level key)."""
    starts = [(m.start(), m.group(1)) for m in _TOP_KEY.finditer(text)]
    if not any(key in _LATER_KEYS for _, key in starts):
        return text
    kept = []
    ends = [start for start, _ in starts[1:]] + [len(text)]
    if starts and starts[0][0] > 0:
        kept.append(text[: starts[0][0]])
    for (start, key), end in zip(starts, ends, strict=True):
        if key not in _LATER_KEYS:
            kept.append(text[start:end])
    return "".join(kept)


def _yaml_load(text: str) -> Any:
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


@cache
def _examples(path: str) -> dict[str, list[dict[str, Any]]]:
    if not path:
        return {}
    with open(path, encoding="utf-8") as fh:
        data = _yaml_load(fh.read())
    found = data.get("examples") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


def _load_one(path: Path) -> RuleMeta:
    with open(path, encoding="utf-8") as fh:
        data = _yaml_load(_without_later_keys(fh.read()))
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
        notification=data.get("notification") is True,
        suppressible=data.get("suppressible") is not False,
        stops_fix=data.get("stops_fix") is True,
        spoils_fix=data.get("spoils_fix") is True,
        owns_schema=data.get("owns_schema") is True,
        retired=str(data["retired"]).strip() if data.get("retired") else None,
        path=str(path),
    )


@lru_cache(maxsize=1)
def load() -> dict[str, RuleMeta]:
    """All rules, by id, in id order, read from the rule files (with libyaml's C loader:
    tens of milliseconds; no cache to go stale)."""
    paths = sorted(resource_dir("rules").glob("KV*.yaml"))
    rules = [_load_one(p) for p in paths]
    return {r.id: r for r in sorted(rules, key=lambda r: r.id)}


#: The boolean rule facts ``ids_with`` answers for.
FACTS = ("blocks", "rejects", "notification", "stops_fix", "spoils_fix", "owns_schema")


_IDS: dict[str, tuple[dict[str, RuleMeta], frozenset[str]]] = {}


def ids_with(fact: str) -> frozenset[str]:
    """The ids of the rules whose YAML sets ``fact`` (one of ``FACTS``; ``unsuppressible``:
    the rules with ``suppressible: false``). Worked out once per loaded catalog."""
    rules = load()
    hit = _IDS.get(fact)
    if hit is not None and hit[0] is rules:
        return hit[1]
    if fact == "unsuppressible":
        ids = frozenset(rid for rid, meta in rules.items() if not meta.suppressible)
    elif fact in FACTS:
        ids = frozenset(rid for rid, meta in rules.items() if getattr(meta, fact))
    else:
        raise ValueError(f"unknown rule fact {fact!r}")
    _IDS[fact] = (rules, ids)
    return ids
