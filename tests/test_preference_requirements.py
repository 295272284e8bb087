"""Preference requirements (``spec.requirements``) as the VM admission checks them, with and
without an instancetype, release by release."""

from __future__ import annotations

import pytest

from tests.helpers import found
from tests.test_instancetypes import vm


def pref(requirements: str, cpu: str = "") -> str:
    return (
        "apiVersion: instancetype.kubevirt.io/v1beta1\n"
        "kind: VirtualMachinePreference\n"
        "metadata: {name: p, namespace: apps}\n"
        "spec:\n" + (f"  cpu: {cpu}\n" if cpu else "") + f"  requirements: {requirements}\n---\n"
    )


REF = "preference:\n  kind: VirtualMachinePreference\n  name: p\n"


def kv313(text: str, version: str = "1.9") -> list[str]:
    return [f.message for f in found(text, "KV313", kubevirtVersion=version)]


@pytest.mark.parametrize(
    ("topology", "domain", "short"),
    [
        ("", "cpu: {sockets: 2}\n", True),
        ("", "cpu: {sockets: 4}\n", False),
        ("{preferredCPUTopology: cores}", "cpu: {sockets: 4}\n", True),
        ("{preferredCPUTopology: cores}", "cpu: {cores: 4}\n", False),
        ("{preferredCPUTopology: threads}", "cpu: {threads: 4}\n", False),
        ("{preferredCPUTopology: any}", "cpu: {sockets: 2, cores: 2, threads: 1}\n", False),
        ("{preferredCPUTopology: any}", "cpu: {cores: 4}\n", True),  # sockets/threads unset: 0
        ("{preferredCPUTopology: spread}", "cpu: {sockets: 2, cores: 2}\n", False),
        ("{preferredCPUTopology: spread, spreadOptions: {across: CoresThreads}}", "cpu: {sockets: 4}\n", True),
        # No topology: the CPU limit (rounded up), else the request, becomes sockets.
        ("", "resources: {limits: {cpu: 3500m}}\n", False),
        ("", "resources: {requests: {cpu: 2}}\n", True),
        ("", "", True),  # defaults to one socket
    ],
)
def test_cpu_without_instancetype(topology: str, domain: str, short: bool) -> None:
    text = pref("{cpu: {guest: 4}}", topology) + vm(REF, domain + "memory: {guest: 1Gi}\n")
    msgs = kv313(text)
    assert bool(msgs) == short, msgs
    if short:
        assert "provided by VirtualMachine, preference requires 4 vCPU" in msgs[0]


def test_cpu_finding_points_at_the_topology_field() -> None:
    text = pref("{cpu: {guest: 4}}", "{preferredCPUTopology: cores}") + vm(REF, "cpu: {cores: 2}\n")
    fs = found(text, "KV313")
    assert len(fs) == 1
    assert fs[0].location.path == "spec.template.spec.domain.cpu.cores"
    assert fs[0].related and fs[0].related[0].line == 6  # requirements of the preference


@pytest.mark.parametrize(
    ("version", "short"),
    [("1.0", False), ("1.1", True), ("1.2", True)],
)
def test_any_topology_is_checked_from_1_1(version: str, short: bool) -> None:
    text = pref("{cpu: {guest: 4}}", "{preferredCPUTopology: preferAny}") + vm(REF, "cpu: {cores: 2, sockets: 1}\n")
    assert bool(kv313(text, version)) == short


def test_1_0_checks_the_template_as_written() -> None:
    # Before v1.1 the requirements were checked before any default: no cpu at all is refused.
    text = pref("{cpu: {guest: 1}}") + vm(REF, "resources: {requests: {cpu: 2}}\n")
    assert any("no CPU resources provided by VirtualMachine" in m for m in kv313(text, "1.0"))
    assert kv313(text, "1.1") == []


@pytest.mark.parametrize(
    ("domain", "version", "short"),
    [
        ("memory: {guest: 1Gi}\n", "1.9", True),
        ("memory: {guest: 2Gi}\n", "1.9", False),
        ("resources: {requests: {memory: 1Gi}}\n", "1.9", True),  # setGuestMemory from v1.3
        ("resources: {requests: {memory: 1Gi}}\n", "1.2", False),
        ("resources: {limits: {memory: 4Gi}}\n", "1.9", False),
        ("", "1.9", True),  # none provided: 0 from v1.6
        ("", "1.5", False),
    ],
)
def test_memory_without_instancetype(domain: str, version: str, short: bool) -> None:
    text = pref("{memory: {guest: 2Gi}}") + vm(REF, domain)
    msgs = kv313(text, version)
    assert bool(msgs) == short, msgs
    if short:
        assert "provided by VirtualMachine, preference requires 2Gi" in msgs[0]


@pytest.mark.parametrize(
    ("arch", "version", "short"),
    [
        ("arm64", "1.9", True),
        ("arm64", "1.7", True),
        ("arm64", "1.6", False),
        ("amd64", "1.9", False),
        ("", "1.9", False),
    ],
)
def test_architecture_requirement(arch: str, version: str, short: bool) -> None:
    text = pref("{architecture: amd64}") + vm(REF, "memory: {guest: 1Gi}\n")
    if arch:
        text = text.replace(
            "    spec:\n      evictionStrategy", f"    spec:\n      architecture: {arch}\n      evictionStrategy"
        )
    msgs = kv313(text, version)
    assert bool(msgs) == short, msgs
    if short:
        assert f"preference requires architecture amd64 but {arch} is being requested" in msgs[0]


def test_instancetype_case_still_checked_and_unknown_instancetype_is_not() -> None:
    it = (
        "apiVersion: instancetype.kubevirt.io/v1beta1\n"
        "kind: VirtualMachineInstancetype\n"
        "metadata: {name: small, namespace: apps}\n"
        "spec: {cpu: {guest: 2}, memory: {guest: 1Gi}}\n---\n"
    )
    with_it = REF + "instancetype:\n  kind: VirtualMachineInstancetype\n  name: small\n"
    text = pref("{cpu: {guest: 4}}") + it + vm(with_it)
    fs = found(text, "KV313")
    assert len(fs) == 1 and "provided by instance type" in fs[0].message
    assert fs[0].location.path == "spec.instancetype"
    unknown = REF + "instancetype:\n  kind: VirtualMachineInstancetype\n  name: elsewhere\n"
    assert kv313(pref("{cpu: {guest: 4}}") + vm(unknown)) == []


def test_conflicting_vm_is_refused_before_requirements() -> None:
    it = (
        "apiVersion: instancetype.kubevirt.io/v1beta1\n"
        "kind: VirtualMachineInstancetype\n"
        "metadata: {name: small, namespace: apps}\n"
        "spec: {cpu: {guest: 2}, memory: {guest: 1Gi}}\n---\n"
    )
    with_it = REF + "instancetype:\n  kind: VirtualMachineInstancetype\n  name: small\n"
    msgs = kv313(pref("{cpu: {guest: 4}}") + it + vm(with_it, "cpu: {sockets: 2}\n"))
    assert len(msgs) == 1 and "conflicts with selected instance type" in msgs[0]


def test_architecture_from_preferred_architecture() -> None:
    text = pref("{architecture: amd64}").replace("spec:\n", "spec:\n  preferredArchitecture: arm64\n") + vm(
        REF, "memory: {guest: 1Gi}\n"
    )
    assert any("but arm64 is being requested" in m for m in kv313(text, "1.9"))
    # Neither the VM nor the preference names one: the cluster default decides, not judged.
    assert kv313(pref("{architecture: amd64}") + vm(REF, "memory: {guest: 1Gi}\n")) == []
