"""``kvlint explain``: the installed command on the bundled examples/ and on small trees."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

EXE = shutil.which("kvlint", path=os.path.dirname(sys.executable)) or shutil.which("kvlint")

TOP_KEYS = {
    "version",
    "object",
    "platform",
    "verdict",
    "blockers",
    "volumes",
    "policy",
    "settings",
    "settingsNotes",
    "eviction",
    "timeBudget",
    "otherFindings",
    "instancetype",
}


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    if EXE is None:
        pytest.fail("the kvlint console script is not installed (pip install -e .)")
    return subprocess.run(
        [EXE, "explain", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_db2_is_not_migratable_with_the_pvc_chain() -> None:
    p = run("db/db-2", "examples/")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "VirtualMachine db/db-2" in out
    assert "Verdict: NOT MIGRATABLE" in out
    assert "KV101 [DisksNotLiveMigratable] examples/apps/db/vm-db-2.yaml:" in out
    # The storage resolution chain: which object, which rule.
    assert "claim db-2-data: [ReadWriteOnce]" in out
    assert "PersistentVolumeClaim db/db-2-data  (examples/apps/db/pvc.yaml:" in out
    assert "spec.accessModes = [ReadWriteOnce]  (examples/apps/db/pvc.yaml:" in out
    assert "Effective migration settings:" in out
    assert re.search(r"completionTimeoutPerGiB\s+150\s+HyperConverged openshift-cnv/", out)
    assert "Eviction strategy: LiveMigrate" in out
    assert "Time budget:" in out and "16Gi counts as 18 GB x 150 s = 2700 s" in out
    assert "Traceback" not in p.stderr


def test_json_has_the_documented_shape() -> None:
    p = run("--format", "json", "db/db-2", "examples/")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert set(doc) == TOP_KEYS
    assert doc["version"] == 1
    assert doc["object"]["kind"] == "VirtualMachine"
    assert (doc["object"]["namespace"], doc["object"]["name"]) == ("db", "db-2")
    assert doc["verdict"] == "not migratable"
    kv101 = [b for b in doc["blockers"] if b["rule"] == "KV101"]
    assert kv101 and kv101[0]["reason"] == "DisksNotLiveMigratable"
    assert kv101[0]["related"][0]["file"] == "examples/apps/db/pvc.yaml"
    (vol,) = [v for v in doc["volumes"] if v["name"] == "data"]
    assert vol["claim"] == "db-2-data" and vol["accessModes"] == ["ReadWriteOnce"]
    assert vol["shared"] is False
    assert [s["object"] for s in vol["chain"]] == ["PersistentVolumeClaim db/db-2-data"] * 2
    assert set(doc["policy"]) == {"winner", "candidates", "ties", "assumptions", "conditional"}
    for name, s in doc["settings"].items():
        assert {"value", "source", "assumed"} <= set(s), name
    assert doc["settings"]["bandwidthPerMigration"]["value"] == "512Mi"
    bw = doc["settings"]["bandwidthPerMigration"]
    assert bw["file"] == "examples/cluster/hyperconverged.yaml"
    assert doc["eviction"]["value"] == "LiveMigrate" and doc["eviction"]["explicit"] is True
    tb = doc["timeBudget"]
    assert tb["outcome"] == "fits"
    assert (tb["gigabytes"], tb["acceptableCompletionSeconds"], tb["bandwidthMiBPerSecond"]) == (
        18,
        2700,
        512,
    )
    assert any(f["rule"] == "KV701" for f in doc["otherFindings"])


def test_documented_keys_are_in_docs() -> None:
    text = (ROOT / "docs" / "explain.md").read_text(encoding="utf-8")
    for key in TOP_KEYS:
        assert f"`{key}`" in text, key


def test_migratable_vm_and_name_alone() -> None:
    p = run("db-1", "examples/")
    assert p.returncode == 0, p.stderr
    assert "Verdict: MIGRATABLE" in p.stdout
    assert "shared (ReadWriteMany)" in p.stdout


def test_kind_prefix() -> None:
    p = run("vm/legacy/erp", "examples/")
    assert p.returncode == 0, p.stderr
    assert "KV301 [HostDeviceNotLiveMigratable]" in p.stdout


def test_unknown_name_exits_2() -> None:
    p = run("db/nope", "examples/")
    assert p.returncode == 2
    assert p.stdout == ""
    assert "no VM, VMI, pool or replica set 'db/nope'" in p.stderr
    assert "vm/db/db-1" in p.stderr  # a similar name is suggested


def test_malformed_target_exits_2() -> None:
    p = run("a/b/c/d", "examples/")
    assert p.returncode == 2
    assert "not NAMESPACE/NAME" in p.stderr


AMBIGUOUS = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: app, namespace: apps}
spec:
  template:
    spec:
      domain:
        memory: {guest: 16Gi}
        devices:
          interfaces: [{name: default, masquerade: {}}]
      networks: [{name: default, pod: {}}]
---
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {name: app, namespace: apps}
spec:
  domain:
    devices:
      interfaces: [{name: default, masquerade: {}}]
  networks: [{name: default, pod: {}}]
---
apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
spec:
  liveMigrationConfig:
    bandwidthPerMigration: 32Mi
"""


def test_ambiguous_lists_candidates(tmp_path: Path) -> None:
    (tmp_path / "apps.yaml").write_text(AMBIGUOUS, encoding="utf-8")
    p = run("apps/app", ".", cwd=tmp_path)
    assert p.returncode == 2
    assert "ambiguous" in p.stderr
    assert "vm/apps/app" in p.stderr and "vmi/apps/app" in p.stderr


def test_time_budget_abort_in_json(tmp_path: Path) -> None:
    (tmp_path / "apps.yaml").write_text(AMBIGUOUS, encoding="utf-8")
    p = run("--format", "json", "vm/apps/app", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["verdict"] == "migratable"
    tb = doc["timeBudget"]
    assert tb["outcome"] == "abort"
    assert (tb["acceptableCompletionSeconds"], tb["onePassSeconds"]) == (360, 512.0)
    assert "18 GB x 20 s = 360 s" in tb["summary"]
    assert doc["settings"]["completionTimeoutPerGiB"]["source"].startswith("default (hco")
    (kv417,) = [f for f in doc["otherFindings"] if f["rule"] == "KV417"]
    assert kv417["severity"] == "warning" and kv417["line"] == 8


def test_platform_option_changes_defaults(tmp_path: Path) -> None:
    (tmp_path / "vm.yaml").write_text(AMBIGUOUS.split("---")[0], encoding="utf-8")
    p = run("--format", "json", "--platform", "kubevirt", "--kubevirt-version", "1.8", "app", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["platform"] == {"name": "kubevirt", "source": "configured", "kubevirtVersion": "1.8"}
    assert doc["settings"]["completionTimeoutPerGiB"]["value"] == 150
    assert doc["settings"]["completionTimeoutPerGiB"]["assumed"] is True
    assert "maxDowntimeMs" not in doc["settings"]
