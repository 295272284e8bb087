"""A parallel run finds exactly what a single process finds, byte for byte."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kvlint import report
from kvlint.config import Config
from kvlint.runner import PARALLEL_MIN_FILES, Options, lint_paths
from tests.conftest import ROOT, shared_or_skip


def both(paths: list[str], config: Config | None = None) -> tuple[str, str]:
    one = lint_paths(paths, config or Config(), options=Options(jobs=1))
    two = lint_paths(paths, config or Config(), options=Options(jobs=2))
    return report.render("json", one) + report.render("text", one), report.render("json", two) + report.render(
        "text", two
    )


def test_corpus_same_findings_in_parallel() -> None:
    corpus = shared_or_skip("corpus")
    serial, parallel = both([str(corpus)])
    assert serial == parallel


def test_examples_tree_replicated_same_findings(tmp_path: Path) -> None:
    # Enough files to take the parallel path: the examples copied into several folders,
    # plus cross-file facts (PVCs, HCO, policies) and suppressions.
    copies = -(-PARALLEL_MIN_FILES // 8) + 1
    for i in range(copies):
        shutil.copytree(ROOT / "examples", tmp_path / f"copy{i}")
    (tmp_path / "copy0" / "policy.yaml").write_text(
        "apiVersion: migrations.kubevirt.io/v1alpha1\nkind: MigrationPolicy\n"
        "metadata: {name: db}\nspec:\n  selectors:\n    virtualMachineInstanceSelector: {app: db}\n"
    )
    (tmp_path / "copy1" / "vmim.yaml").write_text(
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstanceMigration\n"
        "metadata: {name: m, namespace: db}\nspec: {vmiName: db-2}\n"
    )
    vm = tmp_path / "copy2" / "apps" / "db" / "vm-db-2.yaml"
    vm.write_text(
        vm.read_text().replace("  name: db-2\n", '  name: db-2\n  annotations:\n    kvlint.io/ignore: "KV311,KV999"\n')
    )
    serial, parallel = both([str(tmp_path)])
    assert "KV603" in serial and "suppressed" in serial and "KV908" in serial
    assert serial == parallel


@pytest.mark.parametrize("platform", ["hco", "kubevirt"])
def test_parallel_respects_config(tmp_path: Path, platform: str) -> None:
    for i in range(-(-PARALLEL_MIN_FILES // 8) + 1):
        shutil.copytree(ROOT / "examples", tmp_path / f"c{i}")
    cfg = Config(platform=platform, rules={"KV108": "off", "KV101": "warning"})
    serial, parallel = both([str(tmp_path)], cfg)
    assert serial == parallel
