"""``--format github``: GitHub Actions workflow commands, one annotation per finding.

``::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=KV101 pvc-not-shared::message.
Fix: ...``; warnings use ``::warning``, infos ``::notice``. Suppressed findings are left
out. Paths are relative to ``root`` (default: the working directory, i.e. the checkout in a
workflow); a file outside it keeps its path as given.
"""

from __future__ import annotations

import os

from kvlint import catalog
from kvlint.engine import Result
from kvlint.models import Finding
from kvlint.report.sarif import is_pseudo_file, message_with_fix, relative_to_root, span

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message (after ``::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``file=``, ``title=``, ...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _title(f: Finding, rules: dict[str, catalog.RuleMeta]) -> str:
    meta = rules.get(f.rule)
    return f"{f.rule} {meta.name}" if meta else f.rule


def command(f: Finding, rules: dict[str, catalog.RuleMeta], root: str) -> str:
    props: list[tuple[str, str]] = []
    loc = f.location
    if not is_pseudo_file(loc.file):
        path = relative_to_root(loc.file, root) or loc.file.replace(os.sep, "/")
        line, col, end_line, end_col = span(loc)
        props += [("file", path), ("line", str(line)), ("col", str(col))]
        props.append(("endLine", str(end_line)))
        if end_col is not None:
            props.append(("endColumn", str(end_col)))
    props.append(("title", _title(f, rules)))
    head = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{COMMANDS.get(f.severity, 'warning')} {head}::{escape_data(message_with_fix(f))}"


def render(result: Result, root: str | None = None) -> str:
    root = os.path.abspath(root if root is not None else os.getcwd())
    rules = catalog.load()
    lines = [command(f, rules, root) for f in result.findings if f.suppressed is None]
    return "".join(line + "\n" for line in lines)
