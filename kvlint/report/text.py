"""``--format text``: grouped by file, ``line:col severity rule message``, fix hints."""

from __future__ import annotations

from kvlint.engine import Result
from kvlint.report.json_report import summary

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_BOLD = "\033[1m"
_DIM = "\033[2m"
_RESET = "\033[0m"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def render(result: Result, color: bool = False, show_fix: bool = True, quiet: bool = False) -> str:
    def c(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    lines: list[str] = []
    current = None
    for f in result.findings:
        if f.suppressed is not None:
            continue
        loc = f.location
        if loc.file != current:
            if current is not None:
                lines.append("")
            lines.append(c(_BOLD, loc.file))
            current = loc.file
        reason = f" [{f.reason}]" if f.reason else ""
        obj = f" ({f.object.display()})" if f.object else ""
        lines.append(
            f"  {loc.file}:{loc.line}:{loc.column}: {c(_COLORS[f.severity], f.severity)} "
            f"{f.rule} {f.message}{reason}{obj}"
        )
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
    if result.cluster is not None and not quiet:
        cl = result.cluster
        lines.append(f"platform: {cl.platform} ({cl.platform_source}); KubeVirt v{cl.version[0]}.{cl.version[1]}")
    return "\n".join(lines) + "\n"
