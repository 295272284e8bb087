"""Golden outputs for the bundled examples/ tree, one per format.

Regenerate after an intended change with:  KVLINT_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kvlint import report
from kvlint.config import Config
from kvlint.runner import lint_paths
from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
FORMATS = {"text": "examples.txt", "json": "examples.json"}


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return lint_paths(["examples"], Config())
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_golden(fmt: str, result) -> None:  # type: ignore[no-untyped-def]
    out = report.render(fmt, result)
    path: Path = GOLDEN / FORMATS[fmt]
    if os.environ.get("KVLINT_UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert path.exists(), f"missing {path}; run with KVLINT_UPDATE_GOLDEN=1"
    assert out == path.read_text(encoding="utf-8")


def test_output_is_deterministic() -> None:
    first = report.render("json", lint_paths([str(ROOT / "examples")], Config()))
    second = report.render("json", lint_paths([str(ROOT / "examples")], Config()))
    assert first == second
