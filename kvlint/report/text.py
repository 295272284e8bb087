"""``--format text``: grouped by file, ``line:col severity rule message``, fix hints."""

from __future__ import annotations

import os
from typing import TextIO

from kvlint.engine import Result
from kvlint.models import SEVERITY_RANK
from kvlint.report.json_report import summary

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_BOLD = "\033[1m"
_DIM = "\033[2m"
_RESET = "\033[0m"


def wants_color(flag: bool | None, stream: TextIO | None, env: dict[str, str] | None = None) -> bool:
    """Whether to colour text output. ``--color``/``--no-color`` (``flag``) decide when given;
    otherwise a non-empty ``NO_COLOR`` turns colour off, a non-empty ``FORCE_COLOR`` turns it
    on, ``TERM=dumb`` turns it off, and else only a terminal (``stream``; None for a file)
    gets colour."""
    if flag is not None:
        return flag
    e = os.environ if env is None else env
    if e.get("NO_COLOR"):
        return False
    if e.get("FORCE_COLOR"):
        return True
    if e.get("TERM") == "dumb" or stream is None:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def notes(result: Result) -> list[str]:
    """The lines that say what a run read besides its PATHS, and what it skipped."""
    out: list[str] = []
    info = result.notes
    if info.context:
        out.append(f"context: {info.context}")
    out.extend(info.messages)
    if info.skipped:
        names = ", ".join(info.skipped[:3]) + (", ..." if len(info.skipped) > 3 else "")
        out.append(f"skipped {_plural(len(info.skipped), 'non-manifest file')} (no apiVersion/kind): {names}")
    return out


def render(
    result: Result, color: bool = False, show_fix: bool = True, quiet: bool = False, fail_on: str = "error"
) -> str:
    """Findings grouped by file. ``quiet``: only the findings at or above ``fail_on`` and the
    summary line."""

    def c(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    lines: list[str] = []
    current = None
    floor = SEVERITY_RANK.get(fail_on, 2) if quiet else 0
    for f in result.findings:
        if f.suppressed is not None or SEVERITY_RANK[f.severity] < floor:
            continue
        loc = f.location
        if loc.file != current:
            if current is not None:
                lines.append("")
            lines.append(c(_BOLD, loc.file))
            current = loc.file
        reason = f" [{f.reason}]" if f.reason else ""
        obj = f" ({f.object.display()})" if f.object else ""
        first, *details = f.message.splitlines() or [""]
        # A finding about a whole input (unreadable, missing) has no position to show.
        where = loc.file if f.rule == "KV906" else f"{loc.file}:{loc.line}:{loc.column}"
        lines.append(f"  {where}: {c(_COLORS[f.severity], f.severity)} {f.rule} {first}{reason}{obj}")
        lines.extend(f"      {d}" for d in details)
        for rel in f.related:
            if rel.label or rel.file != loc.file:
                what = f" {rel.label}" if rel.label else ""
                lines.append(c(_DIM, f"      see: {rel.file}:{rel.line}:{rel.column}{what}"))
        if show_fix and f.fix:
            fix_lines = f.fix.splitlines()
            lines.append(c(_DIM, f"      fix: {fix_lines[0]}"))
            lines.extend(c(_DIM, f"           {extra}") for extra in fix_lines[1:])
    s = summary(result)
    if lines:
        lines.append("")
    total = s["errors"] + s["warnings"] + s["infos"]
    head = "no problems" if total == 0 else _plural(total, "problem")
    suppressed = sum(1 for f in result.findings if f.suppressed is not None)
    extra = f", {suppressed} suppressed" if suppressed else ""
    lines.append(
        f"{head} ({_plural(s['errors'], 'error')}, {_plural(s['warnings'], 'warning')}, "
        f"{s['infos']} info{extra}) in {_plural(s['files'], 'file')}, {_plural(s['objects'], 'object')}"
    )
    if not quiet:
        if result.cluster is not None:
            cl = result.cluster
            how = cl.platform_source
            if how.startswith("assumed (") and how.endswith(")"):
                how = "assumed: " + how[len("assumed (") : -1]
            lines.append(f"platform: {cl.platform} ({how}); KubeVirt v{cl.version[0]}.{cl.version[1]}")
        lines.extend(notes(result))
    return "\n".join(lines) + "\n"
