"""Suppressions: object annotations, inline comments, configuration entries, baselines.

* annotation ``kvlint.io/ignore: "KV101,KV203"`` (or ``all``) on the object a finding
  belongs to, with an optional ``kvlint.io/ignore-reason``;
* comment ``# kvlint: ignore=KV101,KV203 -- reason`` at the end of the offending line or on
  its own line right above it; in a document's leading comments it covers the document;
* ``ignore:`` entries of ``.kvlint.yaml`` (rules plus path / namespace / name / kind globs);
* a baseline file (fingerprints of accepted findings).

Suppressed findings stay in the result (``Finding.suppressed``), are counted, and appear in
SARIF as suppressed results. A suppression that suppresses nothing is reported (KV908) so
that it does not rot.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from kvlint import catalog
from kvlint.config import Config, IgnoreEntry
from kvlint.fingerprint import fingerprint
from kvlint.inventory import Inventory, K8sObject
from kvlint.models import Finding, Location
from kvlint.parse import ParsedFile

IGNORE_ANN = "kvlint.io/ignore"
IGNORE_REASON_ANN = "kvlint.io/ignore-reason"
UNUSED_RULE = "KV908"
_COMMENT_RE = re.compile(r"#\s*kvlint:\s*ignore=([A-Za-z0-9_,\s]+?)\s*(?:--\s*(.*))?$")


def _ids(text: str) -> set[str]:
    return {p.strip().upper() for p in text.split(",") if p.strip()}


@dataclass
class _Comment:
    file: str
    line: int
    rules: set[str]
    reason: str
    #: lines this comment covers
    lines: range
    used: set[str] = field(default_factory=set)


@dataclass
class _Annotation:
    obj: K8sObject
    rules: set[str]
    reason: str
    used: set[str] = field(default_factory=set)


def _comments(pf: ParsedFile) -> list[_Comment]:
    """Inline suppression comments of one file and the lines each covers.

    A comment after code covers its own line. A comment on a line of its own covers the
    next content line, or the whole document when that line starts a document.
    """
    out = []
    doc_starts = sorted(pf.doc_lines)
    text_lines = pf.lines
    for line, text in sorted(pf.comments.items()):
        m = _COMMENT_RE.search(text)
        if m is None:
            continue
        raw = text_lines[line - 1] if 0 < line <= len(text_lines) else text
        covered: range
        if not raw.lstrip().startswith("#"):
            covered = range(line, line + 1)
        else:
            nxt = line + 1
            while nxt <= len(text_lines):
                t = text_lines[nxt - 1].strip()
                if t and not t.startswith("#") and t != "---":
                    break
                nxt += 1
            if nxt in doc_starts:
                end = next((s for s in doc_starts if s > nxt), len(text_lines) + 1)
                covered = range(nxt, end)
            else:
                covered = range(nxt, nxt + 1)
        out.append(_Comment(pf.path, line, _ids(m.group(1)), (m.group(2) or "").strip(), covered))
    return out


def _config_matches(e: IgnoreEntry, f: Finding) -> bool:
    if f.rule not in e.rules and "ALL" not in e.rules:
        return False
    if e.path and not (
        fnmatch.fnmatch(f.location.file, e.path) or f.location.file.startswith(e.path.rstrip("/") + "/")
    ):
        return False
    obj = f.object
    if e.namespace and not (obj and fnmatch.fnmatch(obj.namespace or "", e.namespace)):
        return False
    if e.name and not (obj and fnmatch.fnmatch(obj.name, e.name)):
        return False
    return not (e.kind and not (obj and obj.kind == e.kind))


def load_baseline(path: str) -> dict[str, int]:
    """fingerprint -> line of the entry in the baseline file."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    data = json.loads(text)
    entries = data.get("findings", []) if isinstance(data, dict) else []
    out: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        m = re.search(r'"fingerprint":\s*"([0-9a-f]+)"', line)
        if m:
            out[m.group(1)] = lineno
    for e in entries:
        fp = e.get("fingerprint") if isinstance(e, dict) else None
        if isinstance(fp, str):
            out.setdefault(fp, 1)
    return out


def write_baseline(path: str, findings: Sequence[Finding]) -> int:
    rows = []
    for f in findings:
        if f.suppressed is not None and f.suppressed[0] != "baseline":
            continue
        obj = f.object
        rows.append(
            {
                "fingerprint": fingerprint(f),
                "rule": f.rule,
                "file": f.location.file,
                "object": f"{obj.kind}/{obj.namespace or ''}/{obj.name}" if obj else None,
                "message": f.message,
            }
        )
    rows.sort(key=lambda r: (r["file"], r["rule"], r["fingerprint"]))
    body = ",\n".join("    " + json.dumps(r, sort_keys=True) for r in rows)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{\n  "version": 1,\n  "findings": [\n' + body + ("\n" if body else "") + "  ]\n}\n")
    return len(rows)


def apply(
    findings: list[Finding],
    files: Sequence[ParsedFile],
    inv: Inventory,
    config: Config,
    baseline: dict[str, int] | None = None,
    baseline_path: str | None = None,
    unused_meta_fix: str = "",
) -> list[Finding]:
    """Mark suppressed findings; return extra findings for unused suppressions."""
    comments: dict[str, list[_Comment]] = {}
    annotations: dict[tuple[str, str, str, str], _Annotation] = {}
    if config.inline_suppressions:
        for pf in files:
            cs = _comments(pf)
            if cs:
                comments[pf.path] = cs
        for obj in inv.objects:
            if obj.context_only and not obj.stub:
                continue
            value = obj.annotations().get(IGNORE_ANN)
            if isinstance(value, str) and value.strip():
                reason = obj.annotations().get(IGNORE_REASON_ANN)
                annotations[(obj.file, obj.kind, obj.ns, obj.name)] = _Annotation(
                    obj, _ids(value), reason if isinstance(reason, str) else ""
                )
    used_entries: set[int] = set()
    used_baseline: set[str] = set()
    unsuppressible = catalog.ids_with("unsuppressible")
    for f in findings:
        if f.rule in unsuppressible:
            continue  # input and internal errors cannot be suppressed (``suppressible: false``)
        ref = f.object
        if ref is not None:
            ann = annotations.get((f.location.file, ref.kind, ref.namespace or "", ref.name))
            if ann is not None and (f.rule in ann.rules or "ALL" in ann.rules):
                ann.used.add(f.rule if f.rule in ann.rules else "ALL")
                f.suppressed = ("annotation", ann.reason)
                continue
        hit = None
        for c in comments.get(f.location.file, ()):
            if f.location.line in c.lines and (f.rule in c.rules or "ALL" in c.rules):
                hit = c
                break
        if hit is not None:
            hit.used.add(f.rule if f.rule in hit.rules else "ALL")
            f.suppressed = ("comment", hit.reason)
            continue
        for i, e in enumerate(config.ignore):
            if _config_matches(e, f):
                used_entries.add(i)
                f.suppressed = ("config", e.reason)
                break
        if f.suppressed is not None:
            continue
        if baseline:
            fp = fingerprint(f)
            if fp in baseline:
                used_baseline.add(fp)
                f.suppressed = ("baseline", "in the baseline")
    extra: list[Finding] = []

    def unused(loc: Location, what: str, obj: K8sObject | None = None) -> None:
        extra.append(
            Finding(
                rule=UNUSED_RULE,
                severity="info",
                message=what,
                fix=unused_meta_fix,
                location=loc,
                object=obj.ref() if obj else None,
            )
        )

    for ann in annotations.values():
        for rid in sorted(ann.rules - ann.used):
            unused(
                ann.obj.loc(("metadata", "annotations", IGNORE_ANN)),
                f"annotation {IGNORE_ANN} suppresses {rid}, but {rid} reports nothing on {ann.obj.display()}",
                ann.obj,
            )
    for cs in comments.values():
        for c in cs:
            for rid in sorted(c.rules - c.used):
                unused(
                    Location(c.file, c.line, 1, c.line, 1),
                    f"comment 'kvlint: ignore={rid}' suppresses nothing on the lines it covers",
                )
    for i, e in enumerate(config.ignore):
        if i not in used_entries:
            unused(
                Location(config.source or ".kvlint.yaml", e.line, 1, e.line, 1),
                f"configuration ignore entry for {', '.join(e.rules)} matches no finding",
            )
    if baseline and baseline_path:
        for fp, line in sorted(baseline.items(), key=lambda kv: kv[1]):
            if fp not in used_baseline:
                unused(
                    Location(baseline_path, line, 1, line, 1),
                    f"baseline entry {fp[:12]} no longer matches a finding: it was fixed "
                    "(refresh the baseline with --write-baseline)",
                )
    return extra
