"""What each rule says: the text output of every failing example in rules/KVnnn.yaml, kept in
tests/golden/rules/KVnnn.txt so that a change of wording shows up in review.

After an intended change of a message (or of a rule's logic), regenerate the files with:

    KVLINT_UPDATE_GOLDEN=1 python -m pytest tests/test_rule_messages.py
"""

from __future__ import annotations

import base64
import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from kvlint import catalog
from kvlint.messages import FIRST_LINE_LIMIT
from kvlint.report import text
from kvlint.runner import lint_paths, lint_text
from tests.conftest import ROOT
from tests.helpers import config_from

GOLDEN = ROOT / "tests" / "golden" / "rules"
RULES = catalog.load()


def _example_output(rule: str, index: int, example: dict[str, Any], tmp: Path) -> tuple[str, list[str]]:
    config = config_from(example.get("config"))
    if "base64" in example:
        target = tmp / "example.yaml"
        target.write_bytes(base64.b64decode(example["base64"]))
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            result = lint_paths(["example.yaml"], config)
        finally:
            os.chdir(cwd)
    else:
        result = lint_text(example["yaml"], config, path="example.yaml")
    hits = [f for f in result.findings if f.rule == rule]
    only = dataclasses.replace(result, findings=hits, cluster=None)
    head = f"## {rule} fail[{index}]: {example.get('title', '')}".rstrip()
    return head + "\n" + text.render(only), [f.message for f in hits]


@pytest.mark.parametrize("rule", [r for r, m in RULES.items() if m.examples.get("fail")])
def test_rule_messages(rule: str, tmp_path: Path) -> None:
    parts: list[str] = []
    for i, example in enumerate(RULES[rule].examples["fail"]):
        out, messages = _example_output(rule, i, example, tmp_path)
        parts.append(out)
        for m in messages:
            first = m.splitlines()[0] if m else ""
            assert len(first) <= FIRST_LINE_LIMIT, f"{rule}: first line of {len(first)} characters: {first}"
    got = "\n".join(parts)
    path = GOLDEN / f"{rule}.txt"
    if os.environ.get("KVLINT_UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"missing {path}; run with KVLINT_UPDATE_GOLDEN=1"
    assert got == path.read_text(encoding="utf-8"), (
        f"{rule}'s messages changed; review, then: KVLINT_UPDATE_GOLDEN=1 python -m pytest tests/test_rule_messages.py"
    )


def test_no_stale_golden_files() -> None:
    known = {f"{r}.txt" for r, m in RULES.items() if m.examples.get("fail")}
    stale = sorted(p.name for p in GOLDEN.glob("*.txt") if p.name not in known)
    assert not stale, f"golden files of rules without failing examples: {stale}"
