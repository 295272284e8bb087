"""Output formats. Each module has ``render(result, **options) -> str``."""

from __future__ import annotations

FORMATS = ("text", "json", "sarif", "junit", "github")


def render(fmt: str, result: object, **options: object) -> str:
    if fmt == "text":
        from kvlint.report import text

        return text.render(result, **options)  # type: ignore[arg-type]
    if fmt == "json":
        from kvlint.report import json_report

        return json_report.render(result)  # type: ignore[arg-type]
    if fmt == "sarif":
        from kvlint.report import sarif

        return sarif.render(result, **options)  # type: ignore[arg-type]
    if fmt == "junit":
        from kvlint.report import junit

        return junit.render(result, **options)  # type: ignore[arg-type]
    if fmt == "github":
        from kvlint.report import github

        return github.render(result, **options)  # type: ignore[arg-type]
    raise ValueError(f"unknown format {fmt!r}")
