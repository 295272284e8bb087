"""Output formats. Each module has ``render(result, **options) -> str``."""

from __future__ import annotations

FORMATS = ("text", "json")


def render(fmt: str, result: object, **options: object) -> str:
    if fmt == "text":
        from kvlint.report import text

        return text.render(result, **options)  # type: ignore[arg-type]
    if fmt == "json":
        from kvlint.report import json_report

        return json_report.render(result)  # type: ignore[arg-type]
    raise ValueError(f"unknown format {fmt!r}")
