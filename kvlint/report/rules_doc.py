"""Rendering of the rule catalog (``kvlint rules``, README table)."""

from __future__ import annotations

import json
from dataclasses import asdict

from kvlint.catalog import RuleMeta


def table(rules: list[RuleMeta], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([_public(r) for r in rules], indent=2) + "\n"
    if fmt == "markdown":
        out = ["| ID | Name | Severity | KubeVirt reason | Summary |", "|---|---|---|---|---|"]
        for r in rules:
            out.append(f"| [{r.id}](rules/{r.id}.yaml) | {r.name} | {_severity(r)} | {r.reason or ''} | {r.summary} |")
        return "\n".join(out) + "\n"
    width = max((len(r.name) for r in rules), default=0)
    return "".join(f"{r.id}  {_severity(r):<7}  {r.name:<{width}}  {r.summary}\n" for r in rules)


def _severity(r: RuleMeta) -> str:
    return "retired" if r.retired else r.severity


def _public(r: RuleMeta) -> dict[str, object]:
    d = asdict(r)
    d.pop("examples", None)
    return d


def one(r: RuleMeta, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(_public(r), indent=2) + "\n"
    h = "## " if fmt == "markdown" else ""
    parts = [
        f"{h}{r.id} {r.name} ({_severity(r)})",
        "",
        r.summary,
    ]
    if r.retired:
        parts += ["", r.retired]
    if r.reason:
        parts += ["", f"KubeVirt reason: {r.reason}"]
    parts += ["", f"{'### ' if fmt == 'markdown' else ''}Why it matters", "", r.why]
    parts += ["", f"{'### ' if fmt == 'markdown' else ''}What to do instead", "", r.fix]
    fails = r.examples.get("fail") or []
    if fails:
        ex = fails[0]
        parts += ["", f"{'### ' if fmt == 'markdown' else ''}Example that fails", ""]
        if fmt == "markdown":
            parts += ["```yaml", str(ex.get("yaml", "")).rstrip(), "```"]
        else:
            parts += ["    " + line for line in str(ex.get("yaml", "")).rstrip().splitlines()]
    if r.fixable:
        parts += ["", f"Automatic fix: {r.fixable}"]
    if r.docs:
        parts += ["", f"Docs: {r.docs}"]
    return "\n".join(parts) + "\n"
