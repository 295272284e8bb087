"""``--format json``: a stable contract for scripts (version 1)."""

from __future__ import annotations

from typing import Any

from kvlint.engine import Result
from kvlint.report import fastjson


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
    """The report and a line break."""
    return fastjson.dumps(document(result)) + "\n"
