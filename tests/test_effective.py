"""Effective migration settings (kvlint.effective): defaults by platform and version, the
cluster CR, the MigrationPolicy layer, and the completion-time arithmetic."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from kvlint.effective import (
    Effective,
    giga_count,
    mebibytes_per_second,
    origin,
    parse_quantity,
    quantity_bytes,
)
from kvlint.effective import effective as compute
from tests.helpers import lint

VM = """
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: db, namespace: apps}
spec:
  template:
    metadata:
      labels: {app: db}
    spec:
      domain:
        memory: {guest: 16Gi}
        devices:
          interfaces: [{name: default, masquerade: {}}]
      networks: [{name: default, pod: {}}]
"""

HCO_V1BETA1 = """
apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
spec: {}
"""

KUBEVIRT_EMPTY = """
apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata: {name: kubevirt, namespace: kubevirt}
spec:
  configuration: {}
"""


def eff(*docs: str, **config: Any) -> Effective:
    res = lint("\n---\n".join(d.strip("\n") for d in docs), **config)
    assert res.inventory is not None and res.cluster is not None
    w = next(w for w in res.inventory.workloads if w.obj.name == "db")
    return compute(res.inventory, res.cluster, w)


def values(e: Effective, *names: str) -> tuple[Any, ...]:
    return tuple(e.value(n) for n in names)


# -- quantities ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("16Gi", Fraction(16 * 2**30)),
        ("1.5Gi", Fraction(3 * 2**29)),
        (".5Ki", Fraction(512)),
        ("+1Ki", Fraction(1024)),
        ("1Ti", Fraction(2**40)),
        ("2k", Fraction(2000)),
        ("1M", Fraction(10**6)),
        ("1G", Fraction(10**9)),
        ("3T", Fraction(3 * 10**12)),
        ("500m", Fraction(1, 2)),
        ("1e3", Fraction(1000)),
        ("1.5E2", Fraction(150)),
        ("2e-3", Fraction(2, 1000)),
        ("1E", Fraction(10**18)),
        ("-64Mi", Fraction(-64 * 2**20)),
        (1024, Fraction(1024)),
    ],
)
def test_parse_quantity_is_exact(text: Any, exact: Fraction) -> None:
    assert parse_quantity(text) == exact


@pytest.mark.parametrize("text", ["64MBps", "1Gbps", "64 Mi", "64mi", "Mi", "", "1e", "1.5.2", True, 1.5])
def test_parse_quantity_rejects(text: Any) -> None:
    assert parse_quantity(text) is None


@pytest.mark.parametrize(
    ("memory", "count"),
    [("1Gi", 2), ("6Gi", 7), ("16Gi", 18), ("1G", 1), ("1000M", 1), ("1001M", 2), ("512Mi", 1)],
)
def test_gb_rounding(memory: str, count: int) -> None:
    q = parse_quantity(memory)
    assert q is not None
    assert giga_count(q) == count


def test_quantity_bytes_rounds_up() -> None:
    q = parse_quantity("1500m")
    assert q is not None
    assert quantity_bytes(q) == 2


@pytest.mark.parametrize(
    ("bandwidth", "mib"),
    [("0", 0), ("0Mi", 0), ("1Ki", 1), ("64Mi", 64), ("1.5Mi", 2), ("100M", 95), ("1Gi", 1024)],
)
def test_bandwidth_in_mebibytes(bandwidth: str, mib: int) -> None:
    q = parse_quantity(bandwidth)
    assert q is not None
    assert mebibytes_per_second(q) == mib


# -- defaults by platform and version ------------------------------------------------

FIELDS = (
    "completionTimeoutPerGiB",
    "parallelOutboundMigrationsPerNode",
    "parallelMigrationsPerCluster",
    "progressTimeout",
    "allowWorkloadDisruption",
)


def test_kubevirt_defaults() -> None:
    e = eff(KUBEVIRT_EMPTY, VM)
    assert values(e, *FIELDS) == (150, 2, 5, 150, False)
    assert e.value("bandwidthPerMigration") == "0Mi"
    assert e.value("nodeDrainTaintKey") == "kubevirt.io/drain"
    assert e.value("maxDowntimeMs") == 900
    assert origin(e.settings["completionTimeoutPerGiB"]).startswith("default (KubeVirt v1.9")
    assert "follows allowPostCopy" in origin(e.settings["allowWorkloadDisruption"])


def test_kubevirt_version_limits_the_fields() -> None:
    e = eff(KUBEVIRT_EMPTY, VM, kubevirtVersion="1.7")
    assert "maxDowntimeMs" not in e.settings
    assert "utilityVolumesTimeout" not in e.settings
    e = eff(KUBEVIRT_EMPTY, VM, kubevirtVersion="1.4")
    # No allowWorkloadDisruption field before v1.5: allowPostCopy alone decides.
    assert "allowPostCopy decides" in origin(e.settings["allowWorkloadDisruption"])


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.9", (20, 1, 5, 150, False)),
        ("1.8", (150, 2, 5, 150, False)),
        ("1.4", (150, 2, 5, 150, False)),
        ("1.3", (800, 2, 5, 150, False)),
        ("1.0", (800, 2, 5, 150, False)),
    ],
)
def test_hco_defaults_by_version(version: str, expected: tuple[Any, ...]) -> None:
    e = eff(HCO_V1BETA1, VM, kubevirtVersion=version)
    assert values(e, *FIELDS) == expected
    head = f"default (hco, KubeVirt v{version}"
    assert origin(e.settings["completionTimeoutPerGiB"]).startswith(head)
    awd = origin(e.settings["allowWorkloadDisruption"])
    if version == "1.9":
        # HCO main defaults the field to false (not "follows allowPostCopy").
        assert "follows" not in awd
    else:
        assert "follows allowPostCopy" in awd or "allowPostCopy decides" in awd


def test_hco_assumed_without_cluster_cr() -> None:
    e = eff(VM)
    s = e.settings["completionTimeoutPerGiB"]
    assert s.value == 20 and s.assumed
    assert "platform assumed" in origin(s)


def test_hco_does_not_expose_kubevirt_only_fields() -> None:
    e = eff(HCO_V1BETA1, VM)
    assert "not exposed by HCO" in origin(e.settings["disableTLS"])
    assert e.value("disableTLS") is False


# -- the cluster CR ------------------------------------------------------------------


def test_hco_overrides_defaults_and_kubevirt_cr() -> None:
    hco = """
apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
spec:
  liveMigrationConfig:
    completionTimeoutPerGiB: 300
    bandwidthPerMigration: 64Mi
"""
    kv = """
apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata: {name: kubevirt-kubevirt-hyperconverged, namespace: openshift-cnv}
spec:
  configuration:
    migrations:
      completionTimeoutPerGiB: 999
      progressTimeout: 999
"""
    e = eff(hco, kv, VM)
    assert values(e, "completionTimeoutPerGiB", "bandwidthPerMigration", "progressTimeout") == (
        300,
        "64Mi",
        150,
    )
    s = e.settings["completionTimeoutPerGiB"]
    assert s.source is not None and s.source.kind == "HyperConverged"
    assert s.path == ("spec", "liveMigrationConfig", "completionTimeoutPerGiB")


def test_hco_v1_location_and_misplaced_block() -> None:
    v1 = """
apiVersion: hco.kubevirt.io/v1
kind: HyperConverged
metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
spec:
  liveMigrationConfig:
    completionTimeoutPerGiB: 777
  virtualization:
    liveMigrationConfig:
      parallelMigrationsPerCluster: 9
"""
    e = eff(v1, VM)
    assert e.value("parallelMigrationsPerCluster") == 9
    # The v1beta1 location on a v1 object is dropped by the API server: not applied.
    assert e.value("completionTimeoutPerGiB") == 20


def test_invalid_values_are_not_applied() -> None:
    hco = """
apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
spec:
  liveMigrationConfig:
    bandwidthPerMigration: 64MBps
    completionTimeoutPerGiB: "300"
    disableTLS: true
"""
    e = eff(hco, VM)
    assert values(e, "bandwidthPerMigration", "completionTimeoutPerGiB", "disableTLS") == (
        "0Mi",
        20,
        False,
    )
    assert any("bandwidthPerMigration" in n for n in e.notes)


def test_kubevirt_cr_on_plain_kubevirt() -> None:
    kv = """
apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata: {name: kubevirt, namespace: kubevirt}
spec:
  configuration:
    migrations:
      allowPostCopy: true
      parallelOutboundMigrationsPerNode: 4
"""
    e = eff(kv, VM)
    names = ("allowPostCopy", "allowWorkloadDisruption", "parallelOutboundMigrationsPerNode")
    assert values(e, *names) == (True, True, 4)
    awd = e.settings["allowWorkloadDisruption"]
    assert awd.source is not None and awd.path[-1] == "allowPostCopy"
    assert "follows allowPostCopy" in origin(awd)


def test_explicit_workload_disruption_does_not_follow() -> None:
    kv = """
apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata: {name: kubevirt, namespace: kubevirt}
spec:
  configuration:
    migrations:
      allowPostCopy: true
      allowWorkloadDisruption: false
"""
    e = eff(kv, VM)
    assert values(e, "allowPostCopy", "allowWorkloadDisruption") == (True, False)


def test_hco_jsonpatch_annotation() -> None:
    hco = """
apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata:
  name: kubevirt-hyperconverged
  namespace: openshift-cnv
  annotations:
    kubevirt.kubevirt.io/jsonpatch: '[{"op": "add",
      "path": "/spec/configuration/migrations/disableTLS", "value": true}]'
spec: {}
"""
    e = eff(hco, VM)
    assert e.value("disableTLS") is True
    assert "jsonpatch" in origin(e.settings["disableTLS"])


def test_kubevirt_cr_ignored_on_hco_platform_without_hyperconverged() -> None:
    kv = """
apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata: {name: kubevirt, namespace: kubevirt}
spec:
  configuration:
    migrations:
      completionTimeoutPerGiB: 999
"""
    e = eff(kv, VM, platform="hco")
    assert e.value("completionTimeoutPerGiB") == 20
    assert any("HCO overwrites" in n for n in e.notes)


# -- the MigrationPolicy layer -------------------------------------------------------

POLICY = """
apiVersion: migrations.kubevirt.io/v1alpha1
kind: MigrationPolicy
metadata: {name: db}
spec:
  selectors:
    virtualMachineInstanceSelector: {app: db}
"""


def test_policy_overrides_only_its_non_nil_fields() -> None:
    policy = POLICY + "  bandwidthPerMigration: 1Gi\n  allowPostCopy: null\n"
    hco = """
apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata: {name: kubevirt-hyperconverged, namespace: openshift-cnv}
spec:
  liveMigrationConfig:
    completionTimeoutPerGiB: 300
    bandwidthPerMigration: 64Mi
"""
    e = eff(hco, policy, VM)
    assert e.policy.winner is not None and e.policy.winner.policy.name == "db"
    assert values(e, "bandwidthPerMigration", "completionTimeoutPerGiB", "allowPostCopy") == (
        "1Gi",
        300,
        False,
    )
    bw = e.settings["bandwidthPerMigration"]
    assert bw.source is not None and bw.source.kind == "MigrationPolicy"
    assert e.settings["completionTimeoutPerGiB"].source is not None
    assert e.settings["completionTimeoutPerGiB"].source.kind == "HyperConverged"


def test_policy_cannot_set_cluster_only_fields() -> None:
    policy = POLICY + "  progressTimeout: 5\n  parallelMigrationsPerCluster: 1\n"
    e = eff(KUBEVIRT_EMPTY, policy, VM)
    assert values(e, "progressTimeout", "parallelMigrationsPerCluster") == (150, 5)


def test_policy_post_copy_drives_workload_disruption() -> None:
    # HCO main's cluster value is an explicit false; the policy's allowPostCopy wins for both.
    policy = POLICY + "  allowPostCopy: true\n"
    e = eff(HCO_V1BETA1, policy, VM)
    assert values(e, "allowPostCopy", "allowWorkloadDisruption") == (True, True)
    awd = e.settings["allowWorkloadDisruption"]
    assert awd.source is not None and awd.source.kind == "MigrationPolicy"
    assert awd.path == ("spec", "allowPostCopy")


def test_policy_explicit_workload_disruption_is_kept() -> None:
    policy = POLICY + "  allowPostCopy: true\n  allowWorkloadDisruption: false\n"
    e = eff(HCO_V1BETA1, policy, VM)
    assert values(e, "allowPostCopy", "allowWorkloadDisruption") == (True, False)


def test_policy_workload_disruption_applies_from_v1_5() -> None:
    # MigrationPolicy has allowWorkloadDisruption since v1.5.0 (GetMigrationConfigurationByPolicy).
    policy = POLICY + "  allowPostCopy: true\n  allowWorkloadDisruption: false\n"
    assert values(eff(KUBEVIRT_EMPTY, policy, VM, kubevirtVersion="1.5"), "allowWorkloadDisruption") == (False,)
    assert values(eff(KUBEVIRT_EMPTY, policy, VM, kubevirtVersion="1.4"), "allowWorkloadDisruption") == (True,)


def test_policy_that_does_not_match_is_ignored() -> None:
    policy = POLICY.replace("{app: db}", "{app: web}") + "  bandwidthPerMigration: 1Gi\n"
    e = eff(HCO_V1BETA1, policy, VM)
    assert e.policy.winner is None
    assert e.value("bandwidthPerMigration") == "0Mi"


# -- the time budget -----------------------------------------------------------------


def test_time_budget_arithmetic() -> None:
    hco = HCO_V1BETA1.replace("spec: {}", "spec:\n  liveMigrationConfig:\n    bandwidthPerMigration: 32Mi")
    b = eff(hco, VM).budget
    assert (b.memory_bytes, b.gb_count, b.acceptable_seconds, b.bandwidth_mib) == (
        17179869184,
        18,
        360,
        32,
    )
    assert b.pass_seconds == 512
    assert b.outcome == "abort"
    assert b.arithmetic() == (
        "16Gi counts as 18 GB x 20 s = 360 s; at 32Mi/s one pass of 17179869184 bytes needs 512 s"
    )


def test_time_budget_outcomes() -> None:
    def kv(extra: str) -> str:
        return (
            KUBEVIRT_EMPTY.replace("configuration: {}", "configuration:\n    migrations:\n")
            + "      completionTimeoutPerGiB: 20\n      bandwidthPerMigration: 32Mi\n"
            + extra
        )

    assert eff(kv(""), VM).budget.outcome == "abort"
    assert eff(kv("      allowWorkloadDisruption: true\n"), VM).budget.outcome == "pause"
    assert eff(kv("      allowPostCopy: true\n"), VM).budget.outcome == "post-copy"
    small = VM.replace("16Gi", "1Gi")
    assert eff(kv(""), small).budget.outcome == "fits"
    unlimited = KUBEVIRT_EMPTY
    assert eff(unlimited, VM).budget.outcome == "unlimited"
    disabled = kv("").replace("completionTimeoutPerGiB: 20", "completionTimeoutPerGiB: 0")
    assert eff(disabled, VM).budget.outcome == "disabled"


def test_time_budget_memory_from_requests_and_block_migration_note() -> None:
    vm = VM.replace("memory: {guest: 16Gi}", "resources: {requests: {memory: 6Gi}}") + (
        "      volumes:\n      - name: root\n        containerDisk: {image: fedora}\n"
    )
    b = eff(KUBEVIRT_EMPTY, vm).budget
    assert b.memory == "6Gi" and b.gb_count == 7
    assert b.block_migration == ["root (containerDisk)"]
    assert any("not knowable" in n for n in b.notes)


def test_time_budget_unknown_memory() -> None:
    vm = VM.replace("        memory: {guest: 16Gi}\n", "")
    b = eff(KUBEVIRT_EMPTY, vm).budget
    assert b.outcome == "unknown" and b.memory is None
