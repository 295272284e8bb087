"""The installed console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

EXE = shutil.which("kvlint", path=os.path.dirname(sys.executable)) or shutil.which("kvlint")


def run(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    if EXE is None:
        pytest.fail("the kvlint console script is not installed (pip install -e .)")
    return subprocess.run(
        [EXE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_version() -> None:
    from kvlint import __version__

    p = run("--version")
    assert p.returncode == 0
    assert __version__ in p.stdout


def test_python_dash_m() -> None:
    p = subprocess.run([sys.executable, "-m", "kvlint", "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and "kvlint" in p.stdout


def test_lint_examples_fails_with_findings() -> None:
    p = run("lint", "examples/")
    assert p.returncode == 1, p.stderr
    assert "KV101" in p.stdout
    assert "examples/apps/db/vm-db-2.yaml:" in p.stdout
    assert "Traceback" not in p.stderr


def test_json_contract() -> None:
    p = run("lint", "--format", "json", "examples/")
    doc = json.loads(p.stdout)
    assert doc["version"] == 1
    assert set(doc["summary"]) == {"files", "objects", "errors", "warnings", "infos"}
    keys = {"rule", "severity", "reason", "message", "fix", "file", "line", "column", "object"}
    for f in doc["findings"]:
        assert set(f) == keys
        assert f["line"] >= 1 and f["column"] >= 1
        assert set(f["object"]) == {"apiVersion", "kind", "namespace", "name"}
    order = [(f["file"], f["line"], f["column"], f["rule"]) for f in doc["findings"]]
    assert order == sorted(order)


def test_stdin_and_exit_zero() -> None:
    good = (ROOT / "examples/apps/web/vm-web-1.yaml").read_text()
    p = run("lint", "-", stdin=good)
    assert p.returncode == 0, p.stdout
    assert "no problems" in p.stdout or "0 errors" in p.stdout


def test_bad_yaml_exits_2_and_lints_the_rest(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata: [\n")
    shutil.copy(ROOT / "examples/apps/db/vm-db-2.yaml", tmp_path / "vm.yaml")
    p = run("lint", str(tmp_path))
    assert p.returncode == 2
    assert "KV901" in p.stdout and "KV311" in p.stdout
    assert "Traceback" not in p.stderr + p.stdout


def test_missing_path_exits_2(tmp_path: Path) -> None:
    p = run("lint", str(tmp_path / "nope.yaml"))
    assert p.returncode == 2
    assert "no such file" in p.stdout


def test_fail_on_warning(tmp_path: Path) -> None:
    vm = tmp_path / "vm.yaml"
    vm.write_text(
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata: {name: a}\n"
        "spec:\n  domain:\n    devices:\n      disks: [{name: d, disk: {}}]\n"
        "      interfaces: [{name: default, masquerade: {}}]\n"
        "  networks: [{name: default, pod: {}}]\n"
        "  volumes:\n  - name: d\n    persistentVolumeClaim: {claimName: elsewhere}\n"
    )
    assert run("lint", str(vm)).returncode == 0
    assert run("lint", "--fail-on", "warning", str(vm)).returncode == 1


def test_usage_error_exits_2() -> None:
    p = run("lint", "--format", "yaml", "examples/")
    assert p.returncode == 2
    assert "Traceback" not in p.stderr


def test_rules_catalog() -> None:
    p = run("rules")
    assert p.returncode == 0
    assert "KV101" in p.stdout and "KV701" in p.stdout
    one = run("rules", "KV101")
    assert one.returncode == 0 and "ReadWriteMany" in one.stdout
    assert run("rules", "KV999").returncode == 2


def test_several_formats_in_one_run(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    p = run("lint", "--format", "text", "--format", f"json:{out}", "examples/")
    assert p.returncode == 1
    assert "KV101" in p.stdout
    assert json.loads(out.read_text())["version"] == 1
