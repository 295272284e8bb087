"""The text-level fixes give exactly the fixed text of the ruamel.yaml round trip.

Every finding of a rule with a text fixer is fixed both ways (SARIF replacement, description
included) on the examples, the rules' fix examples, generated benchmark trees (flow style
included) and the shared corpus (when present); the two must agree everywhere, and the text
path must have done the work on the generated trees (else it would compare nothing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kvlint import catalog
from kvlint.config import Config
from kvlint.fix.edits import fixable
from kvlint.fix.sarif import attach
from kvlint.fix.splice import FileFixer
from kvlint.fix.textedit import NO_FIX, TEXT_FIXERS, text_fix
from kvlint.runner import Options, lint_paths
from tests.conftest import shared_or_skip

ROOT = Path(__file__).resolve().parent.parent
MISSED: list[Any] = []


def _compare(paths: list[str]) -> tuple[int, int]:
    """(findings compared, findings the text path fixed or knew had no fix)."""
    result = lint_paths(paths, Config(), options=Options(cache=False, fixes=True))
    by_file: dict[str, list[Any]] = {}
    for f in result.findings:
        fx = fixable(f)
        if fx is None or (fx.applies is not None and not fx.applies(f)):
            continue  # (no fix either way, without looking at the text)
        if f.rule in TEXT_FIXERS and f.object is not None:
            by_file.setdefault(f.location.file, []).append((f, fx))
    compared = by_text = 0
    for display, pairs in sorted(by_file.items()):
        text = Path(display).read_text(encoding="utf-8")
        for f, fx in pairs:
            f.data.pop("fixes", None)
            attach(display, text, [(f, fx)], text_path=False)
            slow = f.data.pop("fixes", None)
            done = text_fix(FileFixer(display, text), f)
            attach(display, text, [(f, fx)], text_path=True)
            fast = f.data.pop("fixes", None)
            assert fast == slow, (display, f.rule, f.data.get("node"))
            compared += 1
            MISSED.append((display, f.rule, done is None))
            if done is not None:
                by_text += 1
                if done[0] is NO_FIX:
                    assert slow is None, (display, f.rule)
    return compared, by_text


def _generated(tmp_path: Path, *args: str) -> Path:
    gen = ROOT / "bench" / "generate.py"
    if not gen.exists():
        pytest.skip("bench/generate.py is not in this checkout")
    tree = tmp_path / "tree"
    subprocess.run([sys.executable, str(gen), "--out", str(tree), *args], check=True, capture_output=True)
    return tree


def test_text_fixes_equal_the_round_trip_on_a_generated_tree(tmp_path: Path) -> None:
    compared, by_text = _compare([str(_generated(tmp_path, "--vms", "800"))])
    assert compared > 50
    assert by_text > compared * 0.9, [m for m in MISSED if m[2]][:5]


def test_text_fixes_equal_the_round_trip_on_flow_style(tmp_path: Path) -> None:
    compared, _ = _compare([str(_generated(tmp_path, "--vms", "300", "--flow", "0.5", "--seed", "3"))])
    assert compared > 10


def test_text_fixes_equal_the_round_trip_on_the_examples() -> None:
    _compare([str(ROOT / "examples")])


def test_text_fixes_equal_the_round_trip_on_the_fix_examples(tmp_path: Path) -> None:
    n = 0
    for rid in sorted(TEXT_FIXERS):
        with open(catalog.resource_dir("rules") / f"{rid}.yaml", encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        for i, ex in enumerate(data.get("fix_examples") or []):
            p = tmp_path / f"{rid}-{i}.yaml"
            p.write_text(ex["before"], encoding="utf-8")
            n += 1
    compared, by_text = _compare([str(tmp_path)])
    assert n and compared >= n and by_text > 0


def test_text_fixes_equal_the_round_trip_on_the_corpus() -> None:
    corpus = shared_or_skip("corpus")
    _compare([str(corpus)])
