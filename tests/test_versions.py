"""The version table (kvlint.versions), OpenShift Virtualization release selection, and the
cluster facts a HyperConverged in view decides."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from kvlint import versions
from kvlint.config import Config, ConfigError, load_config, set_openshift_virtualization
from kvlint.effective import hco_defaults
from tests.helpers import found, lint
from tests.test_explain import EXE


def test_every_row_names_its_tag_and_source() -> None:
    t = versions.table()
    for row in t["kubevirt"]:
        assert row["tag"].startswith("v1.") and row["source"], row
        assert versions.since(row["id"]) == tuple(int(p) for p in row["since"].split("."))
    for row in t["hco"]:
        assert row["tag"] and row["kubevirtSource"] and row["featureGatesSource"], row


@pytest.mark.parametrize(
    ("osv", "hco", "kubevirt"),
    [((4, 14), "1.10", "1.0"), ((4, 17), "1.13", "1.3"), ((4, 19), "1.15", "1.5"), ((4, 22), "1.18", "1.8")],
)
def test_openshift_virtualization_maps_to_hco_and_kubevirt(osv: tuple[int, int], hco: str, kubevirt: str) -> None:
    row = versions.openshift_virtualization(osv)
    assert row is not None and row["hco"] == hco and row["kubevirt"] == kubevirt
    assert versions.hco_release(tuple(int(p) for p in kubevirt.split("."))) == row  # type: ignore[arg-type]


def test_hco_release_by_kubevirt_version() -> None:
    assert versions.hco_release((1, 9))["hco"] == "main"
    assert versions.hco_release((0, 59))["hco"] == "1.10"
    assert hco_defaults((1, 3))[1]["completionTimeoutPerGiB"] == 800
    assert hco_defaults((1, 5))[1]["completionTimeoutPerGiB"] == 150
    assert hco_defaults((1, 9))[1] == {
        "completionTimeoutPerGiB": 20,
        "parallelMigrationsPerCluster": 5,
        "parallelOutboundMigrationsPerNode": 1,
        "progressTimeout": 150,
        "allowAutoConverge": False,
        "allowPostCopy": False,
        "allowWorkloadDisruption": False,
    }
    assert "HCO v1.15" in hco_defaults((1, 5))[0]


def test_vgpu_gate_is_never_rendered_by_hco() -> None:
    for row in versions.table()["hco"]:
        everything_on = {k: True for k in row["featureGateMap"]}
        assert "VGPULiveMigration" not in versions.hco_feature_gates(row, everything_on)


def test_set_openshift_virtualization() -> None:
    cfg = Config()
    set_openshift_virtualization(cfg, "4.19")
    assert (cfg.platform, cfg.kubevirt_version, cfg.openshift_virtualization) == ("hco", (1, 5), (4, 19))
    with pytest.raises(ConfigError, match="unknown OpenShift Virtualization release"):
        set_openshift_virtualization(Config(), "4.2")
    with pytest.raises(ConfigError, match="ships KubeVirt v1.5"):
        set_openshift_virtualization(Config(kubevirt_version=(1, 6)), "4.19")
    with pytest.raises(ConfigError, match="hco platform"):
        set_openshift_virtualization(Config(platform="kubevirt"), "4.19")


def test_config_file_key(tmp_path: Path) -> None:
    p = tmp_path / ".kvlint.yaml"
    p.write_text('openshiftVirtualization: "4.19"\n')
    cfg = load_config(str(p))
    assert cfg.kubevirt_version == (1, 5) and cfg.platform == "hco"


VM = """
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: db, namespace: apps}
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        devices:
          hostDevices: [{name: qat, deviceName: intel.com/qat}]
          interfaces: [{name: default, masquerade: {}}]
      networks: [{name: default, pod: {}}]
"""


def test_platform_line_names_the_selection(tmp_path: Path) -> None:
    if EXE is None:
        pytest.fail("the kvlint console script is not installed")
    p = tmp_path / "vm.yaml"
    p.write_text(VM)
    out = subprocess.run(
        [EXE, "lint", "--no-config", "--openshift-virtualization", "4.19", str(p)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "OpenShift Virtualization 4.19, HCO v1.15 defaults); KubeVirt v1.5" in out.stdout, out.stdout + out.stderr


HCO_V1BETA1 = """
apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
spec: {}
---
"""


def test_hco_in_view_makes_the_default_eviction_strategy_known() -> None:
    fs = found(HCO_V1BETA1 + VM, "KV701")
    assert [f.severity for f in fs] == ["error"]
    assert "assumed" not in fs[0].message
    single = HCO_V1BETA1.replace("spec: {}", "spec: {}\nstatus: {infrastructureHighlyAvailable: false}")
    assert not found(single + VM, "KV701")
    # Without a HyperConverged the default stays an assumption.
    assert [f.severity for f in found(VM, "KV701")] == ["warning"]


def _cluster(text: str, **config: object) -> object:
    res = lint(text, **config)
    assert res.cluster is not None
    return res.cluster


def test_hco_v1_fields_under_virtualization_and_networking() -> None:
    hco = textwrap.dedent(
        """
        apiVersion: hco.kubevirt.io/v1
        kind: HyperConverged
        metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
        spec:
          featureGates:
          - name: decentralizedLiveMigration
          networking:
            networkBinding:
              mybind: {sidecarImage: quay.io/x/y, migration: {}}
          virtualization:
            virtualMachineOptions: {defaultCPUModel: Skylake-Server}
            permittedHostDevices:
              mediatedDevices:
              - {mdevNameSelector: GRID T4-1Q, resourceName: nvidia.com/GRID_T4-1Q}
        ---
        apiVersion: kubevirt.io/v1
        kind: KubeVirt
        metadata: {name: kubevirt, namespace: openshift-cnv}
        spec:
          configuration:
            cpuModel: Haswell
            developerConfiguration: {featureGates: [VGPULiveMigration]}
        """
    )
    cl = _cluster(hco)
    assert cl.cpu_model.value == "Skylake-Server"  # type: ignore[attr-defined]
    assert cl.bindings.value.get("mybind") is True  # type: ignore[attr-defined]
    assert cl.mediated_devices.value == frozenset({"nvidia.com/GRID_T4-1Q"})  # type: ignore[attr-defined]
    gates = cl.feature_gates.value  # type: ignore[attr-defined]
    # HCO overwrites the KubeVirt CR in the linted files: its gate list is not used.
    assert "VGPULiveMigration" not in gates and "DecentralizedLiveMigration" in gates


def test_hco_v1beta1_network_binding_and_cpu_model() -> None:
    hco = textwrap.dedent(
        """
        apiVersion: hco.kubevirt.io/v1beta1
        kind: HyperConverged
        metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
        spec:
          defaultCPUModel: Cascadelake-Server
          networkBinding:
            passt: {sidecarImage: quay.io/x/passt}
        """
    )
    cl = _cluster(hco)
    assert cl.cpu_model.value == "Cascadelake-Server"  # type: ignore[attr-defined]
    assert cl.bindings.value.get("passt") is False  # type: ignore[attr-defined]


def test_hco_jsonpatch_annotation_can_add_a_gate() -> None:
    patch = json.dumps(
        [
            {
                "op": "add",
                "path": "/spec/configuration/developerConfiguration/featureGates/-",
                "value": "VGPULiveMigration",
            }
        ]
    )
    hco = textwrap.dedent(
        f"""
        apiVersion: hco.kubevirt.io/v1beta1
        kind: HyperConverged
        metadata:
          name: kubevirt-hyperconverged
          namespace: openshift-cnv
          annotations:
            kubevirt.kubevirt.io/jsonpatch: '{patch}'
        spec: {{}}
        """
    )
    assert "VGPULiveMigration" in _cluster(hco).feature_gates.value  # type: ignore[attr-defined]
