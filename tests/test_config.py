"""The configuration file: discovery, validation, and its effect on a run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kvlint.config import ConfigError, find_config, load_config
from kvlint.runner import lint_paths
from tests.test_cli import EXE

VMI = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {name: gpu, namespace: scratch}
spec:
  domain:
    devices:
      hostDevices: [{name: acc, deviceName: example.com/ACC}]
      interfaces: [{name: default, masquerade: {}}]
  networks: [{name: default, pod: {}}]
"""


def test_found_upward(tmp_path: Path) -> None:
    (tmp_path / ".kvlint.yaml").write_text("failOn: warning\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert find_config(str(sub)) == str(tmp_path / ".kvlint.yaml")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("failon: error\n", "1:1: failon: unknown key"),
        ("rules:\n  KV101: of\n", "rules.KV101"),
        ("assumptions:\n  claims:\n    a/b: [RWX]\n", "assumptions.claims.a/b.0"),
        ("kubevirtVersion: 1.10\n", "kubevirtVersion"),
        ("platform: [hco\n", "invalid YAML"),
    ],
)
def test_invalid_config_is_one_clear_line(tmp_path: Path, text: str, fragment: str) -> None:
    p = tmp_path / ".kvlint.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(str(p))
    assert str(p) in str(e.value) and fragment in str(e.value)
    assert "\n" not in str(e.value)


def test_config_levels_ignores_and_version(tmp_path: Path) -> None:
    (tmp_path / "vmi.yaml").write_text(VMI)
    cfg_path = tmp_path / ".kvlint.yaml"
    cfg_path.write_text(
        'kubevirtVersion: "1.8"\nrules:\n  KV108: off\nignore:\n  - rules: [KV301]\n    namespace: scratch\n    reason: lab\n'
    )
    cfg = load_config(str(cfg_path))
    res = lint_paths([str(tmp_path / "vmi.yaml")], cfg)
    kv301 = [f for f in res.findings if f.rule == "KV301"]
    assert kv301 and all(f.suppressed == ("config", "lab") for f in kv301)
    assert "v1.9" not in kv301[0].message and "PCI host devices" in kv301[0].message


def test_unused_config_ignore_is_reported(tmp_path: Path) -> None:
    (tmp_path / "vmi.yaml").write_text(VMI)
    cfg_path = tmp_path / ".kvlint.yaml"
    cfg_path.write_text("ignore:\n  - rules: [KV101]\n    name: nothing-*\n")
    res = lint_paths([str(tmp_path / "vmi.yaml")], load_config(str(cfg_path)))
    unused = [f for f in res.findings if f.rule == "KV908"]
    assert len(unused) == 1 and unused[0].location.file == str(cfg_path) and unused[0].location.line == 2


def test_cli_rejects_bad_config_and_unknown_rule(tmp_path: Path) -> None:
    (tmp_path / "vmi.yaml").write_text(VMI)
    (tmp_path / ".kvlint.yaml").write_text("rules:\n  KV999: off\n")
    p = subprocess.run([EXE, "lint", "vmi.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 2 and "KV999" in p.stderr and "Traceback" not in p.stderr


def test_init_writes_a_valid_starter(tmp_path: Path) -> None:
    p = subprocess.run([EXE, "init"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0
    load_config(str(tmp_path / ".kvlint.yaml"))
    again = subprocess.run([EXE, "init"], cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 2
