"""kvlint's verdicts on upstream example manifests.

Each corpus file is linted together with a cluster object that fixes the platform: a plain
KubeVirt CR (default pod binding bridge, no feature gates) or a HyperConverged CR
(masquerade). A verdict is the set of rules that report a certain blocker (error) and the
set of rules that report a possible one (warning).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kvlint.config import Config
from kvlint.inventory import parse_version
from kvlint.runner import lint_paths
from tests.conftest import shared_or_skip

KUBEVIRT_CR = """\
apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata: {name: kubevirt, namespace: kubevirt}
spec:
  configuration:
    developerConfiguration: {featureGates: []}
"""
HCO_CR = """\
apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
spec: {evictionStrategy: LiveMigrate}
"""

KV = "kubevirt__kubevirt/examples__"
NO_IFACE_PLAIN = {"KV206"}

# file -> (certain blockers on plain KubeVirt, certain blockers on HCO, possible blockers on both)
CASES: dict[str, tuple[set[str], set[str], set[str]]] = {
    KV + "vmi-migratable.yaml": (set(), set(), set()),
    KV + "vmi-masquerade.yaml": (set(), set(), set()),
    KV + "vmi-fedora.yaml": (set(), set(), set()),
    KV + "vmi-sriov.yaml": (set(), set(), set()),
    KV + "vmi-multus-multiple-net.yaml": (set(), set(), set()),
    KV + "vmi-multus-ptp.yaml": (set(), set(), set()),
    # Under HCO the gates are known (HCO never enables VGPULiveMigration), and a DRA GPU is never
    # migratable whatever the gates.
    KV + "vmi-gpu.yaml": ({"KV206", "KV302"}, {"KV302"}, set()),
    KV + "vmi-dra-pgpu.yaml": ({"KV206", "KV302"}, {"KV302"}, set()),
    KV + "vmi-usb.yaml": ({"KV206", "KV301"}, {"KV301"}, set()),
    KV + "vmi-host-disk.yaml": ({"KV206", "KV103"}, {"KV103"}, set()),
    KV + "vmi-fedora-isolated.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vmi-pvc.yaml": (NO_IFACE_PLAIN, set(), {"KV102"}),
    KV + "vm-alpine-multipvc.yaml": (NO_IFACE_PLAIN, set(), {"KV102"}),
    KV + "vm-windows-clarge-windows.yaml": (NO_IFACE_PLAIN, set(), {"KV102"}),
    KV + "vmi-windows.yaml": (set(), set(), {"KV102"}),
    KV + "vm-alpine-datavolume.yaml": (NO_IFACE_PLAIN | {"KV101"}, {"KV101"}, set()),
    KV + "vm-cirros.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vm-cirros-sata.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vm-priorityclass.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vm-cirros-csmall.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vm-cirros-clarge.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vm-cirros-cluster-csmall.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vm-pool-cirros.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vmi-replicaset-cirros.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vmi-ephemeral.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vmi-sata.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vmi-nocloud.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vmi-alpine-efi.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vmi-secureboot.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vmi-kernel-boot.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vmi-with-sidecar-hook.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vm-cirros-with-sidecar-hook-configmap.yaml": (NO_IFACE_PLAIN, set(), set()),
    KV + "vmi-arm.yaml": (NO_IFACE_PLAIN, set(), set()),
    "kubevirt__containerized-data-importer/manifests__example__vm-dv.yaml": (
        NO_IFACE_PLAIN | {"KV101"},
        {"KV101"},
        set(),
    ),
}


def verdict(path: Path, cluster_yaml: str, tmp_path: Path, version: str | None = None) -> tuple[set[str], set[str]]:
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(cluster_yaml)
    cfg = Config(kubevirt_version=parse_version(version) if version else None)
    result = lint_paths([str(path), str(cluster)], cfg)
    mine = [f for f in result.findings if f.location.file != str(cluster) and f.data.get("blocks")]
    certain = {f.rule for f in mine if f.severity == "error"}
    possible = {f.rule for f in mine if f.severity == "warning"}
    return certain, possible


@pytest.mark.parametrize("name", sorted(CASES))
def test_plain_kubevirt(name: str, tmp_path: Path) -> None:
    path = shared_or_skip("corpus", *name.split("/"))
    certain, possible = verdict(path, KUBEVIRT_CR, tmp_path)
    want_certain, _, want_possible = CASES[name]
    if "KV302" in want_possible:
        # A KubeVirt CR is in view without the VGPULiveMigration gate: certain.
        want_possible = want_possible - {"KV302"}
    assert certain == want_certain
    assert possible == want_possible


@pytest.mark.parametrize("name", sorted(CASES))
def test_hco(name: str, tmp_path: Path) -> None:
    path = shared_or_skip("corpus", *name.split("/"))
    certain, possible = verdict(path, HCO_CR, tmp_path)
    _, want_certain, want_possible = CASES[name]
    assert certain == want_certain
    assert possible == want_possible


def test_isolated_emulator_thread_blocks_on_v1_0(tmp_path: Path) -> None:
    path = shared_or_skip("corpus", "kubevirt__kubevirt", "examples__vmi-fedora-isolated.yaml")
    certain, _ = verdict(path, HCO_CR, tmp_path, version="1.0")
    assert "KV310" in certain


def test_gpu_blocks_before_v1_9_even_with_hco(tmp_path: Path) -> None:
    path = shared_or_skip("corpus", "kubevirt__kubevirt", "examples__vmi-gpu.yaml")
    certain, _ = verdict(path, HCO_CR, tmp_path, version="1.8")
    assert certain == {"KV302"}
