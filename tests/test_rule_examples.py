"""Every rule's failing and passing examples (rules/KVnnn.yaml) are run here."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from kvlint import catalog
from kvlint.checks import load_all
from kvlint.runner import lint_paths, lint_text
from tests.helpers import config_from

RULES = catalog.load()
CASES: list[Any] = []
for rid, meta in RULES.items():
    for kind in ("fail", "pass"):
        for i, ex in enumerate(meta.examples.get(kind) or []):
            CASES.append(pytest.param(rid, kind, ex, id=f"{rid}-{kind}-{i}"))

# Input rules are exercised through files, not objects.
INPUT_RULES = {r for r in RULES if r.startswith("KV9")}


# No input makes a correct check fail: tests/test_engine.py forces an internal error instead.
NO_FAIL_EXAMPLE = {"KV907"}


#: Retired rules: documented, never reported, their ids never reused.
RETIRED = {rid for rid, meta in RULES.items() if meta.retired}


def test_every_rule_has_examples() -> None:
    for rid, meta in RULES.items():
        if rid not in NO_FAIL_EXAMPLE and rid not in RETIRED:
            assert meta.examples.get("fail"), f"{rid} has no failing example"
        assert meta.examples.get("pass"), f"{rid} has no passing example"


def test_every_check_rule_is_documented_and_every_rule_is_checked() -> None:
    checked = {r for c in load_all() for r in c.rules}
    assert checked <= set(RULES), f"rules without a rules/*.yaml: {sorted(checked - set(RULES))}"
    undocumented = set(RULES) - checked - INPUT_RULES - RETIRED
    assert not undocumented, f"rules no check reports: {sorted(undocumented)}"
    assert not checked & RETIRED, f"retired rules still reported: {sorted(checked & RETIRED)}"


def test_retired_rules_are_documented_as_retired() -> None:
    assert "KV513" in RETIRED
    for rid in RETIRED:
        meta = RULES[rid]
        assert meta.summary.startswith("Retired"), rid
        assert not meta.examples.get("fail"), f"{rid}: a retired rule has no failing example"


@pytest.mark.parametrize(("rule", "kind", "example"), CASES)
def test_rule_example(rule: str, kind: str, example: dict[str, Any], tmp_path: Path) -> None:
    config = config_from(example.get("config"))
    if "base64" in example:
        target = tmp_path / "example.yaml"
        target.write_bytes(base64.b64decode(example["base64"]))
        result = lint_paths([str(target)], config)
    else:
        result = lint_text(example["yaml"], config, path="example.yaml")
    hits = [f for f in result.findings if f.rule == rule]
    if kind == "fail":
        assert hits, f"{rule} did not fire on: {example.get('title')}\nall findings: " + "\n".join(
            f"{f.rule} {f.location.line}:{f.location.column} {f.message}" for f in result.findings
        )
        if "findings" in example:
            want = sorted((p["line"], p["column"]) for p in example["findings"])
            got = sorted((f.location.line, f.location.column) for f in hits)
            assert got == want, f"{rule}: positions {got} != {want}"
        if "severity" in example:
            assert {f.severity for f in hits} == {example["severity"]}
        for f in hits:
            assert f.fix, f"{rule}: finding without a fix hint"
            assert f.location.line >= 1
    else:
        assert not hits, f"{rule} fired on a passing example ({example.get('title')}): " + "; ".join(
            f"{f.location.line}:{f.location.column} {f.message}" for f in hits
        )
