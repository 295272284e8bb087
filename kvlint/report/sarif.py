"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Decisions:

* One run; ``tool.driver.rules`` holds one descriptor per catalog rule (in id order), so a
  result's ``ruleIndex`` is stable for a given catalog.
* Artifact URIs are relative to ``root`` (default: the working directory) with
  ``uriBaseId: %SRCROOT%``; ``originalUriBaseIds`` gives the root's file URI. A file outside
  the root gets an absolute ``file://`` URI (and no base id); pseudo-files such as
  ``<stdin>`` get a percent-encoded relative URI without a base id.
* Levels: error -> ``error``, warning -> ``warning``, info -> ``note`` (the finding's
  effective severity, after ``rules:`` overrides; the descriptor carries the catalog's).
* ``partialFingerprints["kvlint/v1"]`` is :func:`kvlint.fingerprint.fingerprint` (no line
  numbers), so alerts survive unrelated edits.
* Suppressed findings stay as results with ``suppressions``: annotation/comment suppressions
  are ``inSource``, config/baseline ones ``external``.
* Input problems (rules with ``notification: true``, KV901-KV907, without an object) are results and also
  ``toolExecutionNotifications``; ``executionSuccessful`` is ``not result.input_errors``.
  A problem that has no file at all (an internal error outside any object) is only a
  notification: GitHub rejects a whole upload when a result has no artifact location.
* No timestamps or other run-dependent data besides the root URI: same input, same output.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import kvlint
from kvlint import catalog
from kvlint.engine import Result
from kvlint.fingerprint import fingerprint
from kvlint.models import Finding, Location
from kvlint.report import fastjson

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/kvlint/kvlint"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "kvlint/v1"

LEVELS = {"error": "error", "warning": "warning", "info": "note"}
#: GitHub code scanning's ``problem.severity`` vocabulary.
PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "info": "recommendation"}
SUPPRESSION_KINDS = {
    "annotation": "inSource",
    "comment": "inSource",
    "config": "external",
    "baseline": "external",
}


# -- shared helpers (also used by the github format) --------------------------------------


def is_pseudo_file(file: str) -> bool:
    """``<stdin>``, ``<run>``: names that are not paths."""
    return file.startswith("<") and file.endswith(">")


def relative_to_root(file: str, root: str) -> str | None:
    """``file`` (as findings name it, relative to the working directory) relative to
    ``root`` in forward-slash form, or None when it lies outside the root."""
    absolute = os.path.abspath(file)
    try:
        rel = os.path.relpath(absolute, os.path.abspath(root))
    except ValueError:  # another drive on Windows
        return None
    rel = rel.replace(os.sep, "/")
    if rel == ".." or rel.startswith("../"):
        return None
    return str(PurePosixPath(rel))


def message_with_fix(f: Finding) -> str:
    msg = f.message.rstrip()
    fix = f.fix.strip()
    if not fix:
        return msg
    sep = "" if msg.endswith((".", "!", "?")) else "."
    return f"{msg}{sep} Fix: {fix}"


def span(loc: Location) -> tuple[int, int, int, int | None]:
    """(startLine, startColumn, endLine, endColumn) of a finding's node, 1-based.

    The end is never before the start. A block node's end mark sits at column 1 of the line
    after its last character; that becomes "to the end of the previous line" (endColumn
    None, which SARIF reads as the end of ``endLine``). A point (end == start) becomes a
    one-character region so viewers have something to underline.
    """
    line = max(loc.line, 1)
    col = max(loc.column, 1)
    end_line, end_col = loc.end_line, loc.end_column
    if (end_line, end_col) <= (line, col):
        return line, col, line, col + 1
    if end_col <= 1 and end_line > line:
        return line, col, end_line - 1, None
    return line, col, end_line, end_col


# -- SARIF building blocks ----------------------------------------------------------------


class _Artifacts:
    def __init__(self, root: str) -> None:
        self.root = root

    def location(self, file: str) -> dict[str, Any]:
        if is_pseudo_file(file):
            return {"uri": quote(file, safe="")}
        rel = relative_to_root(file, self.root)
        if rel is not None:
            return {"uri": quote(rel, safe="/"), "uriBaseId": SRCROOT}
        return {"uri": Path(os.path.abspath(file)).as_uri()}


def _region(loc: Location) -> dict[str, int]:
    line, col, end_line, end_col = span(loc)
    region = {"startLine": line, "startColumn": col, "endLine": end_line}
    if end_col is not None:
        region["endColumn"] = end_col
    return region


def _physical(art: _Artifacts, loc: Location) -> dict[str, Any]:
    return {"artifactLocation": art.location(loc.file), "region": _region(loc)}


_INLINE_CODE_RE = re.compile(r"(`[^`]*`)")


def _md_prose(line: str) -> str:
    # Keep `code` spans; elsewhere "<name>" placeholders would be read as HTML and vanish.
    parts = _INLINE_CODE_RE.split(line)
    return "".join(p if p.startswith("`") else p.replace("<", "&lt;") for p in parts)


def markdown(text: str) -> str:
    """Rule prose to Markdown: runs of indented lines (YAML or shell snippets) become fenced
    code blocks, except indented ``* `` bullet lists, which Markdown reads as lists."""
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if not block:
            return
        if out and out[-1] != "":
            out.append("")
        if block[0].lstrip().startswith("* "):
            out.extend(_md_prose(b) for b in block)
        else:
            indent = min(len(b) - len(b.lstrip(" ")) for b in block if b.strip())
            out.append("```")
            out.extend(b[indent:] for b in block)
            out.append("```")
        out.append("")
        block.clear()

    for line in text.splitlines():
        if line.startswith((" ", "\t")) and line.strip():
            block.append(line)
            continue
        flush()
        if line.strip() or (out and out[-1] != ""):
            out.append(_md_prose(line))
    flush()
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def _descriptor(meta: catalog.RuleMeta) -> dict[str, Any]:
    tags = ["kubevirt", "live-migration"]
    if meta.area:
        tags.append(meta.area)
    help_md = f"{markdown(meta.why)}\n\n**Fix**\n\n{markdown(meta.fix)}"
    if meta.reason:
        help_md += f"\n\nKubeVirt reason: `{meta.reason}`"
    help_md += f"\n\n[Documentation]({meta.help_uri})"
    return {
        "id": meta.id,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": meta.why},
        "help": {"text": f"{meta.why}\n\nFix:\n{meta.fix}", "markdown": help_md},
        "helpUri": meta.help_uri,
        "defaultConfiguration": {"level": LEVELS[meta.severity]},
        "properties": {
            "tags": tags,
            "problem.severity": PROBLEM_SEVERITY[meta.severity],
            # A rule with a KubeVirt reason mirrors KubeVirt's own migratability check.
            "precision": "very-high" if meta.reason else "high",
        },
    }


def _unknown_descriptor(rule: str) -> dict[str, Any]:
    return {"id": rule, "shortDescription": {"text": rule}}


def _logical(f: Finding) -> list[dict[str, Any]]:
    obj = f.object
    if obj is None:
        return []
    fqn = f"{obj.kind}/{obj.namespace}/{obj.name}" if obj.namespace else f"{obj.kind}/{obj.name}"
    return [
        {
            "name": obj.name,
            "fullyQualifiedName": fqn,
            "kind": "resource",
            "properties": {
                "apiVersion": obj.api_version,
                "kind": obj.kind,
                "namespace": obj.namespace,
            },
        }
    ]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _fixes(art: _Artifacts, f: Finding) -> list[dict[str, Any]]:
    """SARIF ``fixes`` from ``f.data["fixes"]``: a list of
    ``{file, start_line, start_column, end_line, end_column, text, description}``; one SARIF
    fix (one replacement) per entry. Malformed entries are skipped."""
    raw = f.data.get("fixes")
    if not isinstance(raw, list):
        return []
    out = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        file = item.get("file")
        text = item.get("text")
        coords = [_int(item.get(k)) for k in ("start_line", "start_column", "end_line", "end_column")]
        if not isinstance(file, str) or not file or not isinstance(text, str):
            continue
        sl, sc, el, ec = coords
        if sl is None or sc is None or el is None or ec is None or (el, ec) < (sl, sc):
            continue
        description = item.get("description")
        fix: dict[str, Any] = {}
        if isinstance(description, str) and description:
            fix["description"] = {"text": description}
        fix["artifactChanges"] = [
            {
                "artifactLocation": art.location(file),
                "replacements": [
                    {
                        # Exact coordinates: an insertion is an empty region.
                        "deletedRegion": {
                            "startLine": sl,
                            "startColumn": sc,
                            "endLine": el,
                            "endColumn": ec,
                        },
                        "insertedContent": {"text": text},
                    }
                ],
            }
        ]
        out.append(fix)
    return out


def _result(art: _Artifacts, f: Finding, index: int) -> dict[str, Any]:
    location: dict[str, Any] = {"physicalLocation": _physical(art, f.location)}
    logical = _logical(f)
    if logical:
        location["logicalLocations"] = logical
    res: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": message_with_fix(f)},
        "locations": [location],
    }
    related = []
    for i, rel in enumerate(f.related, 1):
        if is_pseudo_file(rel.file):
            continue
        entry: dict[str, Any] = {"id": i, "physicalLocation": _physical(art, rel)}
        text = rel.label or rel.path
        if text:
            entry["message"] = {"text": text}
        related.append(entry)
    if related:
        res["relatedLocations"] = related
    res["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(f)}
    fixes = _fixes(art, f)
    if fixes:
        res["fixes"] = fixes
    if f.suppressed is not None:
        kind, justification = f.suppressed
        sup: dict[str, Any] = {
            "kind": SUPPRESSION_KINDS.get(kind, "external"),
            "status": "accepted",
        }
        if justification:
            sup["justification"] = justification
        sup["properties"] = {"kvlintKind": kind}
        res["suppressions"] = [sup]
    props: dict[str, Any] = {"severity": f.severity}
    if f.reason:
        props["reason"] = f.reason
    if f.object is not None:
        props["object"] = f.object.as_dict()
    res["properties"] = props
    return res


def _notification(art: _Artifacts, f: Finding, index: int | None) -> dict[str, Any]:
    note: dict[str, Any] = {
        "level": LEVELS.get(f.severity, "error"),
        "message": {"text": f.message},
    }
    if not is_pseudo_file(f.location.file):
        note["locations"] = [{"physicalLocation": _physical(art, f.location)}]
    rule: dict[str, Any] = {"id": f.rule}
    if index is not None:
        rule["index"] = index
    note["associatedRule"] = rule
    return note


def is_input_problem(f: Finding) -> bool:
    """An input problem not on an object (``notification: true`` in its rule's YAML)."""
    return f.object is None and f.rule in catalog.ids_with("notification")


def document(result: Result, root: str | None = None) -> dict[str, Any]:
    root = os.path.abspath(root if root is not None else os.getcwd())
    art = _Artifacts(root)
    rules = catalog.load()
    descriptors = [_descriptor(meta) for meta in rules.values()]
    index = {rid: i for i, rid in enumerate(rules)}
    for f in result.findings:
        if f.rule not in index:
            index[f.rule] = len(descriptors)
            descriptors.append(_unknown_descriptor(f.rule))

    results = []
    notifications = []
    for f in result.findings:
        if is_input_problem(f) and f.suppressed is None:
            notifications.append(_notification(art, f, index[f.rule]))
        if is_pseudo_file(f.location.file) and f.location.file != "<stdin>":
            # No artifact to point at (e.g. an internal error outside any object).
            if not is_input_problem(f):
                notifications.append(_notification(art, f, index[f.rule]))
            continue
        results.append(_result(art, f, index[f.rule]))

    root_uri = Path(root).as_uri()
    if not root_uri.endswith("/"):
        root_uri += "/"
    version = kvlint.__version__
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kvlint",
                        "version": version,
                        "semanticVersion": version,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not result.input_errors,
                        "toolExecutionNotifications": notifications + _run_notes(result),
                        "properties": {"kvlint": result.notes.as_dict()},
                    }
                ],
                "originalUriBaseIds": {SRCROOT: {"uri": root_uri}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _run_notes(result: Result) -> list[dict[str, Any]]:
    """What the run read besides its PATHS and what it skipped, as the text output says it."""
    from kvlint.report.text import notes

    return [{"level": "note", "message": {"text": line}} for line in notes(result)]


def render(result: Result, root: str | None = None) -> str:
    return fastjson.dumps(document(result, root)) + "\n"
