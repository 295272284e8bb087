"""A run holds the workloads it checked as summaries, not as parsed documents: the parsed
documents are freed as each batch is checked, also without the cyclic garbage collector
(which ``kvlint`` turns off for its runs)."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

from kvlint.config import Config
from kvlint.parse import PMap
from kvlint.runner import Options, lint_paths
from tests.conftest import ROOT


def _parsed_vms() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is PMap and o.get("kind") == "VirtualMachine")


def test_checked_workloads_are_freed_without_the_cycle_collector(tmp_path: Path) -> None:
    vms = sorted((ROOT / "examples").rglob("vm-*.yaml"))
    assert vms
    for i in range(3):
        for p in vms:
            dest = tmp_path / f"copy-{i}" / p.relative_to(ROOT / "examples")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
    gc.collect()
    before = _parsed_vms()
    gc.disable()
    try:
        summaries = lint_paths([str(tmp_path)], Config(), options=Options(jobs=1))
        after = _parsed_vms()
        kept = lint_paths([str(tmp_path)], Config(), options=Options(jobs=1, keep=True))
        held = _parsed_vms()
    finally:
        gc.enable()
    assert summaries.findings and kept.findings
    assert after == before
    # (the test's own check: with keep= the parsed workloads are held, and counted)
    assert held - after >= len(vms) * 3
