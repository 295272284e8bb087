"""The progress line: on a terminal, after the delay, erased at the end; never elsewhere."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from kvlint.cli import cli
from kvlint.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_shown_on_a_terminal_after_the_delay_and_erased(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KVLINT_NO_PROGRESS", raising=False)
    now = [0.0]
    out = Terminal()
    p = Progress(out, delay=1.0, clock=lambda: now[0])
    p.tick("files read", 1, 10)
    assert out.getvalue() == ""  # a short run shows nothing
    now[0] = 1.5
    p.tick("files read", 5, 10)
    now[0] = 1.55
    p.tick("files read", 6, 10)  # at most ten updates a second
    now[0] = 1.7
    p.tick("files read", 10, 10)
    p.close()
    assert out.getvalue() == ("\rkvlint: files read 5/10\033[K" + "\rkvlint: files read 10/10\033[K" + "\r\033[K")


def test_never_shown_off_a_terminal() -> None:
    out = io.StringIO()
    p = Progress(out, delay=0.0)
    p.tick("files read", 1, 1)
    p.close()
    assert out.getvalue() == ""


def test_cli_output_has_no_progress_when_piped(tmp_path: Path) -> None:
    (tmp_path / "vm.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    res = CliRunner().invoke(cli, ["lint", "--no-config", "-f", "json", str(tmp_path)])
    assert "\r" not in res.output and "\033[K" not in res.stderr
