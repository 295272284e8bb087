"""``--format json``: a stable contract for scripts (version 1)."""

from __future__ import annotations

from typing import Any

from kvlint.engine import Result
from kvlint.models import Finding
from kvlint.report import fastjson
from kvlint.report.fastjson import encode_str as _encode_str


def summary(result: Result) -> dict[str, int]:
    active = [f for f in result.findings if f.suppressed is None]
    return {
        "files": result.files,
        "objects": result.objects,
        "errors": sum(1 for f in active if f.severity == "error"),
        "warnings": sum(1 for f in active if f.severity == "warning"),
        "infos": sum(1 for f in active if f.severity == "info"),
    }


def document(result: Result) -> dict[str, Any]:
    return {
        "version": 1,
        "findings": [f.as_dict() for f in result.findings if f.suppressed is None],
        "summary": summary(result),
        "run": result.notes.as_dict(),
    }


def render(result: Result) -> str:
    """``fastjson.dumps(document(result))`` and a line break, with each finding written
    from a template (a report has tens of thousands of them, all of the same shape)."""
    head = '{\n  "version": 1,\n  "findings": '
    texts: list[str] = []
    for f in result.findings:
        if f.suppressed is None:
            text = _finding(f)
            if text is None:
                return fastjson.dumps(document(result)) + "\n"
            texts.append(text)
    body = "[\n    " + ",\n    ".join(texts) + "\n  ]" if texts else "[]"
    tail = fastjson.dumps(summary(result)).replace("\n", "\n  ")
    run = fastjson.dumps(result.notes.as_dict()).replace("\n", "\n  ")
    return head + body + ',\n  "summary": ' + tail + ',\n  "run": ' + run + "\n}\n"


def _finding(f: Finding) -> str | None:
    """A finding as the generic encoder writes it inside the report's list (one level of
    indentation deeper), or None when a field has a type the template does not cover."""
    loc = f.location
    obj = f.object
    fields = (f.rule, f.severity, f.reason, f.message, f.fix, loc.file)
    if any(type(x) is not str and x is not None for x in fields):
        return None
    if type(loc.line) is not int or type(loc.column) is not int:
        return None
    rule, severity, reason, message, fix, file = (_str(x) for x in fields)
    if obj is None:
        ref = "null"
    else:
        parts = (obj.api_version, obj.kind, obj.namespace, obj.name)
        if any(type(x) is not str and x is not None for x in parts):
            return None
        api, kind, ns, name = (_str(x) for x in parts)
        ref = (
            '{\n        "apiVersion": '
            + api
            + ',\n        "kind": '
            + kind
            + ',\n        "namespace": '
            + ns
            + ',\n        "name": '
            + name
            + "\n      }"
        )
    return (
        '{\n      "rule": '
        + rule
        + ',\n      "severity": '
        + severity
        + ',\n      "reason": '
        + reason
        + ',\n      "message": '
        + message
        + ',\n      "fix": '
        + fix
        + ',\n      "file": '
        + file
        + ',\n      "line": '
        + int.__repr__(loc.line)
        + ',\n      "column": '
        + int.__repr__(loc.column)
        + ',\n      "object": '
        + ref
        + "\n    }"
    )


def _str(value: str | None) -> str:
    return "null" if value is None else _encode_str(value)
