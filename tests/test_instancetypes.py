"""The effective VMI (kvlint.vmi): instancetypes and preferences applied as KubeVirt applies
them, the bundled common instancetypes, conflicts, unknown objects, and findings that point
at the object that supplied a value."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from kvlint.vmi import common, common_names
from tests.helpers import found, lint
from tests.test_explain import run


def vm(spec_extra: str, domain: str = "", name: str = "db") -> str:
    """A VM with a pod network and LiveMigrate; ``spec_extra`` YAML goes into its spec,
    ``domain`` YAML into its template's domain."""
    dom = yaml.safe_load(textwrap.dedent(domain)) or {}
    dom.setdefault("devices", {})["interfaces"] = [{"name": "default", "masquerade": {}}]
    spec = {"runStrategy": "Always", **(yaml.safe_load(textwrap.dedent(spec_extra)) or {})}
    spec["template"] = {
        "spec": {
            "evictionStrategy": "LiveMigrate",
            "domain": dom,
            "networks": [{"name": "default", "pod": {}}],
        }
    }
    doc = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": "apps"},
        "spec": spec,
    }
    return str(yaml.safe_dump(doc, sort_keys=False))


def verdict(text: str, **config: object) -> set[tuple[str, str]]:
    return {(f.rule, f.severity) for f in lint(text, **config).findings}


HAND_CX1_LARGE = """
cpu:
  sockets: 2
  cores: 1
  threads: 1
  maxSockets: 2
  dedicatedCpuPlacement: true
  isolateEmulatorThread: true
  numa:
    guestMappingPassthrough: {}
ioThreadsPolicy: auto
memory:
  guest: 4Gi
  hugepages:
    pageSize: 2Mi
"""


NODES = """
---
apiVersion: v1
kind: Node
metadata:
  name: a
  labels: {kubevirt.io/cpumanager: "true", kubernetes.io/hostname: a}
"""


@pytest.mark.parametrize("version", ["1.4", "1.9"])
@pytest.mark.parametrize("extra", ["", NODES])
def test_cx1_large_judged_as_if_written_out(version: str, extra: str) -> None:
    from_it = vm("instancetype:\n  name: cx1.large\n") + extra
    by_hand = vm("", HAND_CX1_LARGE) + extra
    got = verdict(from_it, kubevirtVersion=version)
    assert got == verdict(by_hand, kubevirtVersion=version)
    assert ("KV310", "warning" if extra else "info") in got


def test_cx1_large_on_kubevirt_1_0_has_no_common_instancetypes() -> None:
    # v1.0.0 deploys no common instancetypes: unknown, and the template alone is judged.
    fs = found(vm("instancetype:\n  name: cx1.large\n"), kubevirtVersion="1.0")
    assert [f.rule for f in fs] == ["KV314"]


def test_u1_medium_with_fedora_preference_as_if_written_out() -> None:
    from_it = vm("instancetype:\n  name: u1.medium\npreference:\n  name: fedora\n")
    by_hand = vm(
        "",
        """
        cpu: {sockets: 1, cores: 1, threads: 1}
        memory: {guest: 4Gi}
        features: {smm: {}}
        firmware:
          bootloader:
            efi: {secureBoot: true}
        """,
    )
    assert verdict(from_it) == verdict(by_hand)
    res = lint(from_it)
    w = res.inventory.workloads[0] if res.inventory else None
    assert w is not None
    assert w.spec["domain"]["memory"]["guest"] == "4Gi"
    assert w.spec["domain"]["firmware"]["bootloader"]["efi"] == {"secureBoot": True}
    assert w.spec["domain"]["devices"]["interfaces"][0]["model"] == "virtio"
    assert w.spec["architecture"] == "amd64"
    # The template as written is untouched.
    assert "memory" not in w.template_spec["domain"]


INSTANCETYPE = """
apiVersion: instancetype.kubevirt.io/v1beta1
kind: {kind}
metadata:
  name: pinned
{ns}spec:
  cpu: {{guest: 4}}
  memory: {{guest: 16Gi}}
{body}"""

BODIES = {
    "KV301": "  hostDevices:\n  - name: qat\n    deviceName: intel.com/qat\n",
    "KV302": "  gpus:\n  - name: gpu1\n    deviceName: nvidia.com/TU104GL_Tesla_T4\n",
    "KV303": "  launchSecurity:\n    sev: {}\n",
    "KV311": "  nodeSelector:\n    kubernetes.io/hostname: node-a\n",
}
INLINE = {
    "KV301": "devices:\n  hostDevices:\n  - name: qat\n    deviceName: intel.com/qat\n",
    "KV302": "devices:\n  gpus:\n  - name: gpu1\n    deviceName: nvidia.com/TU104GL_Tesla_T4\n",
    "KV303": "launchSecurity:\n  sev: {}\n",
    "KV311": "",
}


@pytest.mark.parametrize("rule", sorted(BODIES))
@pytest.mark.parametrize("kind", ["VirtualMachineInstancetype", "VirtualMachineClusterInstancetype"])
def test_instancetype_in_repo_blocks_as_if_the_vm_said_so(rule: str, kind: str) -> None:
    ns = "  namespace: apps\n" if kind == "VirtualMachineInstancetype" else ""
    it = INSTANCETYPE.format(kind=kind, ns=ns, body=BODIES[rule])
    text = it + "---\n" + vm(f"instancetype:\n  kind: {kind}\n  name: pinned\n")
    res = lint(text, platform="kubevirt")
    hits = [f for f in res.findings if f.rule == rule]
    assert hits, [(f.rule, f.message) for f in res.findings]
    f = hits[0]
    # Points at the instancetype's node, with the VM's spec.instancetype as related location.
    assert f.location.line > 6 and f.location.line < it.count("\n") + 1
    assert any(r.path == "spec.instancetype" for r in f.related)
    assert "pinned" in f.message
    # Blocked exactly as if the VM said so itself: the eviction rule names it.
    assert any(g.rule == "KV701" for g in res.findings) or rule == "KV302"
    # The same rules and severities as the inline VM (with the memory written out too).
    domain = "cpu: {sockets: 4, cores: 1, threads: 1}\nmemory: {guest: 16Gi}\n"
    inline = vm("", domain + INLINE[rule])
    if rule == "KV311":
        inline = inline.replace(
            "      evictionStrategy",
            "      nodeSelector:\n        kubernetes.io/hostname: node-a\n      evictionStrategy",
        )
    assert {(g.rule, g.severity) for g in res.findings} == verdict(inline, platform="kubevirt")


def test_conflict_is_reported_and_the_vm_value_kept() -> None:
    text = (
        INSTANCETYPE.format(kind="VirtualMachineInstancetype", ns="  namespace: apps\n", body="")
        + "---\n"
        + vm("instancetype:\n  kind: VirtualMachineInstancetype\n  name: pinned\n", "cpu: {sockets: 2}\n")
    )
    fs = found(text, "KV313")
    assert len(fs) == 1
    assert "domain.cpu.sockets" in fs[0].message
    assert fs[0].related and fs[0].related[0].line == 8


def test_unknown_namespaced_instancetype_warns() -> None:
    fs = found(vm("instancetype:\n  kind: VirtualMachineInstancetype\n  name: nope\n"), "KV314")
    assert [f.severity for f in fs] == ["warning"]
    assert "VirtualMachineInstancetype nope" in fs[0].fix


def test_unknown_cluster_preference_warns() -> None:
    fs = found(vm("preference:\n  name: not-a-common-one\n"), "KV314")
    assert len(fs) == 1 and "not-a-common-one" in fs[0].message


def test_object_in_view_wins_over_the_bundled_one() -> None:
    mine = """
apiVersion: instancetype.kubevirt.io/v1beta1
kind: VirtualMachineClusterInstancetype
metadata:
  name: u1.medium
spec:
  cpu: {guest: 1}
  memory: {guest: 4Gi}
  launchSecurity: {sev: {}}
---
"""
    fs = found(mine + vm("instancetype:\n  name: u1.medium\n"), "KV303")
    assert len(fs) == 1 and fs[0].location.line == 9


def test_revision_name_reads_the_controller_revision() -> None:
    rev = """
apiVersion: apps/v1
kind: ControllerRevision
metadata:
  name: db-u1.medium-rev
  namespace: apps
data:
  apiVersion: instancetype.kubevirt.io/v1beta1
  kind: VirtualMachineClusterInstancetype
  metadata: {name: u1.medium}
  spec:
    cpu: {guest: 1}
    memory: {guest: 4Gi}
    gpus:
    - name: gpu1
      deviceName: nvidia.com/TU104GL_Tesla_T4
---
"""
    text = rev + vm("instancetype:\n  name: u1.medium\n  revisionName: db-u1.medium-rev\n")
    fs = found(text, "KV302", kubevirtVersion="1.8")
    assert len(fs) == 1 and fs[0].location.line == 15


def test_preference_masquerade_only_on_pod_interfaces_without_binding() -> None:
    pref = """
apiVersion: instancetype.kubevirt.io/v1beta1
kind: VirtualMachinePreference
metadata: {name: p, namespace: apps}
spec:
  devices:
    preferredInterfaceMasquerade: {}
---
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: web, namespace: apps}
spec:
  preference: {kind: VirtualMachinePreference, name: p}
  template:
    spec:
      domain:
        devices:
          interfaces:
          - name: default
          - name: sec
      networks:
      - {name: default, pod: {}}
      - {name: sec, multus: {networkName: br}}
"""
    res = lint(pref)
    assert res.inventory is not None
    w = res.inventory.workloads[0]
    ifaces = w.spec["domain"]["devices"]["interfaces"]
    assert ifaces[0].get("masquerade") == {} and "masquerade" not in ifaces[1]
    assert "masquerade" not in w.template_spec["domain"]["devices"]["interfaces"][0]


def test_bundled_table_has_provenance_per_version() -> None:
    assert common("instancetype", "cx1.large", (1, 0)) is None
    spec, prov = common("instancetype", "cx1.large", (1, 9)) or ({}, "")
    assert spec["cpu"]["dedicatedCPUPlacement"] is True and "v1.9.0" in prov
    assert "fedora" in common_names("preference", (1, 1))
    assert "rhel.9" in common_names("preference", (1, 9))


def test_explain_shows_which_object_supplied_each_value(tmp_path: Path) -> None:
    import pathlib

    p = pathlib.Path(str(tmp_path)) / "vm.yaml"
    p.write_text(vm("instancetype:\n  name: cx1.large\npreference:\n  name: fedora\n"))
    r = run("apps/db", str(p), "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    it = doc["instancetype"]
    assert it["instancetype"]["name"] == "cx1.large"
    assert "v1.9.0" in it["instancetype"]["from"]
    paths = {v["path"]: v["from"] for v in it["values"]}
    assert paths["spec.template.spec.domain.cpu.dedicatedCpuPlacement"].endswith("spec.cpu.dedicatedCPUPlacement")
    assert "fedora" in paths["spec.template.spec.domain.firmware.bootloader.efi"]
    text = run("apps/db", str(p)).stdout
    assert "Instancetype: VirtualMachineClusterInstancetype cx1.large" in text


@pytest.mark.parametrize(
    "options",
    [{"jobs": 1, "keep": True}, {"jobs": 1}, {"jobs": 2}],
    ids=["held", "stream", "parallel"],
)
def test_instancetype_in_another_file_blocks_drains(tmp_path: Path, options: dict[str, object]) -> None:
    from kvlint.config import Config
    from kvlint.runner import Options, lint_paths

    it = INSTANCETYPE.format(kind="VirtualMachineClusterInstancetype", ns="", body=BODIES["KV301"])
    (tmp_path / "00-instancetype.yaml").write_text(it)
    for i in range(70):  # enough files for the parallel runner to split them
        doc = vm("instancetype:\n  kind: VirtualMachineClusterInstancetype\n  name: pinned\n", name=f"vm-{i}")
        (tmp_path / f"vm-{i:02d}.yaml").write_text(doc)
    res = lint_paths([str(tmp_path)], Config(platform="kubevirt"), options=Options(**options))  # type: ignore[arg-type]
    rules = [f.rule for f in res.findings]
    assert rules.count("KV301") == 70 and rules.count("KV701") == 70
    kv301 = next(f for f in res.findings if f.rule == "KV301")
    assert kv301.location.file.endswith("00-instancetype.yaml")
    assert kv301.related[0].file.endswith(".yaml") and "vm-" in kv301.related[0].file


def test_instancetype_node_selector_applies_from_v1_1() -> None:
    text = (
        INSTANCETYPE.format(kind="VirtualMachineInstancetype", ns="  namespace: apps\n", body=BODIES["KV311"])
        + "---\n"
        + vm("instancetype:\n  kind: VirtualMachineInstancetype\n  name: pinned\n")
    )
    assert found(text, "KV311", kubevirtVersion="1.1")
    assert not found(text, "KV311", kubevirtVersion="1.0")  # no such field in v1.0.0


def test_stubs_keep_the_instancetype_devices(tmp_path: Path) -> None:
    """A post-copy cluster CR names the VMs with VFIO devices, those from an instancetype too,
    whether the workloads are held, streamed or checked in other processes."""
    from kvlint.config import Config
    from kvlint.runner import Options, lint_paths

    kv = (
        "apiVersion: kubevirt.io/v1\nkind: KubeVirt\nmetadata: {name: kubevirt, namespace: kubevirt}\n"
        "spec:\n  configuration:\n    migrations: {allowPostCopy: true}\n"
    )
    (tmp_path / "00-kubevirt.yaml").write_text(kv)
    it = INSTANCETYPE.format(kind="VirtualMachineClusterInstancetype", ns="", body=BODIES["KV301"])
    (tmp_path / "01-instancetype.yaml").write_text(it)
    for i in range(70):
        doc = vm("instancetype:\n  kind: VirtualMachineClusterInstancetype\n  name: pinned\n", name=f"vm-{i}")
        (tmp_path / f"vm-{i:02d}.yaml").write_text(doc)
    outputs = []
    for options in ({"jobs": 1, "keep": True}, {"jobs": 1}, {"jobs": 2}):
        res = lint_paths([str(tmp_path)], Config(platform="kubevirt"), options=Options(**options))  # type: ignore[arg-type]
        msgs = [f.message for f in res.findings if f.location.file.endswith("00-kubevirt.yaml")]
        outputs.append(msgs)
    assert outputs[0] == outputs[1] == outputs[2]
    assert any("vm-69" in m and "hostDevice qat" in m for m in outputs[0]), outputs[0]


INFERRED_VM = """
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: rhel, namespace: apps}
spec:
  runStrategy: Always
  instancetype: {inferFromVolume: rootdisk}
  preference: {inferFromVolume: rootdisk}
  dataVolumeTemplates:
  - metadata: {name: rhel-root}
    spec:
      sourceRef: {kind: DataSource, name: rhel9, namespace: openshift-virtualization-os-images}
      storage: {resources: {requests: {storage: 30Gi}}}
  template:
    spec:
      domain:
        devices:
          interfaces: [{name: default, masquerade: {}}]
      networks: [{name: default, pod: {}}]
      volumes:
      - name: rootdisk
        dataVolume: {name: rhel-root}
"""

DATA_SOURCE = """
apiVersion: cdi.kubevirt.io/v1beta1
kind: DataSource
metadata:
  name: rhel9
  namespace: openshift-virtualization-os-images
  labels:
    instancetype.kubevirt.io/default-instancetype: cx1.large
    instancetype.kubevirt.io/default-preference: rhel.9
spec:
  source:
    snapshot: {name: rhel9-abc, namespace: openshift-virtualization-os-images}
---
"""


def test_infer_from_volume_reads_the_data_source_labels() -> None:
    res = lint(DATA_SOURCE + INFERRED_VM)
    assert res.inventory is not None
    w = next(w for w in res.inventory.workloads if w.obj.name == "rhel")
    eff = w.vmi()
    assert eff.instancetype is not None and eff.instancetype.name == "cx1.large"
    assert eff.preference is not None and eff.preference.name == "rhel.9"
    assert w.spec["domain"]["cpu"]["dedicatedCpuPlacement"] is True
    assert not [f for f in res.findings if f.rule == "KV314"]
    # Without the DataSource the inference cannot be followed offline.
    fs = found(INFERRED_VM, "KV314")
    assert len(fs) == 2 and "inferred from volume 'rootdisk'" in fs[0].message


WRONG_TYPES = [None, [], {}, "s", 3, True, [1, 2]]
IT_FIELDS = ["cpu", "memory", "gpus", "hostDevices", "nodeSelector", "launchSecurity", "annotations", "ioThreads"]
PREF_FIELDS = ["cpu", "devices", "features", "firmware", "machine", "clock", "requirements", "annotations"]


@pytest.mark.parametrize("field", [f"instancetype.{f}" for f in IT_FIELDS] + [f"preference.{f}" for f in PREF_FIELDS])
def test_wrong_types_in_instancetype_and_preference_never_crash(field: str) -> None:
    role, key = field.split(".")
    for bad in WRONG_TYPES:
        it = {"cpu": {"guest": 2}, "memory": {"guest": "4Gi"}}
        pref = {"devices": {"preferredInterfaceMasquerade": {}}, "requirements": {"cpu": {"guest": 1}}}
        (it if role == "instancetype" else pref)[key] = bad
        docs = [
            {
                "apiVersion": "instancetype.kubevirt.io/v1beta1",
                "kind": "VirtualMachineInstancetype",
                "metadata": {"name": "x", "namespace": "apps"},
                "spec": it,
            },
            {
                "apiVersion": "instancetype.kubevirt.io/v1beta1",
                "kind": "VirtualMachinePreference",
                "metadata": {"name": "p", "namespace": "apps"},
                "spec": pref,
            },
        ]
        text = "---\n".join(str(yaml.safe_dump(d)) for d in docs) + "---\n"
        text += vm(
            "instancetype: {kind: VirtualMachineInstancetype, name: x}\n"
            "preference: {kind: VirtualMachinePreference, name: p}\n",
            "cpu: {sockets: 2}\n",
        )
        assert not found(text, "KV907"), (field, bad)


def test_common_instancetypes_deployment_follows_the_cluster_configuration() -> None:
    vm_text = vm("instancetype:\n  name: cx1.large\n")
    off = (
        "apiVersion: kubevirt.io/v1\nkind: KubeVirt\nmetadata: {name: kubevirt, namespace: kubevirt}\n"
        "spec:\n  configuration:\n    commonInstancetypesDeployment: {enabled: false}\n---\n"
    )
    assert [f.rule for f in found(off + vm_text, "KV314")] == ["KV314"]
    gate = (
        "apiVersion: kubevirt.io/v1\nkind: KubeVirt\nmetadata: {name: kubevirt, namespace: kubevirt}\n"
        "spec:\n  configuration:\n    developerConfiguration: {featureGates: [CommonInstancetypesDeploymentGate]}\n---\n"
    )
    assert not found(gate + vm_text, "KV314", kubevirtVersion="1.2")
    no_gate = gate.replace("[CommonInstancetypesDeploymentGate]", "[]")
    assert found(no_gate + vm_text, "KV314", kubevirtVersion="1.2")
    hco = (
        "apiVersion: hco.kubevirt.io/v1beta1\nkind: HyperConverged\nmetadata: {name: h, namespace: o}\nspec: {}\n---\n"
    )
    # HCO v1.12 (KubeVirt v1.2) sets the gate; HCO v1.11 (v1.1) does not.
    assert not found(hco + vm_text, "KV314", kubevirtVersion="1.2")
    assert found(hco + vm_text, "KV314", kubevirtVersion="1.1")


def test_pool_template_instancetype_is_applied() -> None:
    text = INSTANCETYPE.format(kind="VirtualMachineClusterInstancetype", ns="", body=BODIES["KV301"]) + (
        "---\napiVersion: pool.kubevirt.io/v1alpha1\nkind: VirtualMachinePool\n"
        "metadata: {name: pool, namespace: apps}\n"
        "spec:\n  replicas: 2\n  selector: {matchLabels: {app: p}}\n"
        "  virtualMachineTemplate:\n    metadata: {labels: {app: p}}\n    spec:\n"
        "      instancetype: {name: pinned}\n      runStrategy: Always\n"
        "      template:\n        metadata: {labels: {app: p}}\n        spec:\n"
        "          domain: {devices: {interfaces: [{name: default, masquerade: {}}]}}\n"
        "          networks: [{name: default, pod: {}}]\n"
    )
    fs = found(text, "KV301")
    assert len(fs) == 1 and fs[0].location.line < 12
    assert fs[0].related and fs[0].related[0].path == "spec.virtualMachineTemplate.spec.instancetype"


SNAPSHOT = """
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: rhel9-abc
  namespace: openshift-virtualization-os-images
  labels:
    instancetype.kubevirt.io/default-instancetype: u1.medium
    instancetype.kubevirt.io/default-preference: rhel.9
---
"""


def _inferred(text: str, version: str) -> tuple[str | None, str | None, list[str]]:
    res = lint(text, kubevirtVersion=version)
    assert res.inventory is not None
    w = next(w for w in res.inventory.workloads if w.obj.name == "rhel")
    eff = w.vmi()
    kv314 = [f.message for f in res.findings if f.rule == "KV314"]
    return (
        eff.instancetype.name if eff.instancetype else None,
        eff.preference.name if eff.preference else None,
        kv314,
    )


def test_infer_from_volume_follows_a_data_source_to_its_volume_snapshot_from_1_9() -> None:
    unlabelled = DATA_SOURCE.replace(
        "  labels:\n    instancetype.kubevirt.io/default-instancetype: cx1.large\n"
        "    instancetype.kubevirt.io/default-preference: rhel.9\n",
        "",
    )
    assert _inferred(SNAPSHOT + unlabelled + INFERRED_VM, "1.9")[:2] == ("u1.medium", "rhel.9")
    # v1.8 does not follow VolumeSnapshots: KubeVirt cannot infer, and kvlint says why.
    it, pref, kv314 = _inferred(SNAPSHOT + unlabelled + INFERRED_VM, "1.8")
    assert (it, pref) == (None, None)
    assert len(kv314) == 2 and "VolumeSnapshots are followed from KubeVirt v1.9" in kv314[0]
    # The snapshot not in view: unknown, as for any other object.
    assert "are not in view" in _inferred(unlabelled + INFERRED_VM, "1.9")[2][0]


def test_infer_from_volume_follows_a_template_snapshot_source() -> None:
    text = INFERRED_VM.replace(
        "sourceRef: {kind: DataSource, name: rhel9, namespace: openshift-virtualization-os-images}",
        "source: {snapshot: {name: rhel9-abc, namespace: openshift-virtualization-os-images}}",
    )
    assert text != INFERRED_VM
    assert _inferred(SNAPSHOT + text, "1.9")[:2] == ("u1.medium", "rhel.9")
    assert _inferred(SNAPSHOT + text, "1.8")[:2] == (None, None)


def test_infer_from_volume_known_failures_say_why() -> None:
    unlabelled = SNAPSHOT.replace("  labels:\n", "  labels:\n    other: x\n").replace(
        "    instancetype.kubevirt.io/default-instancetype: u1.medium\n"
        "    instancetype.kubevirt.io/default-preference: rhel.9\n",
        "",
    )
    text = INFERRED_VM.replace(
        "sourceRef: {kind: DataSource, name: rhel9, namespace: openshift-virtualization-os-images}",
        "source: {snapshot: {name: rhel9-abc, namespace: openshift-virtualization-os-images}}",
    )
    kv314 = _inferred(unlabelled + text, "1.9")[2]
    assert len(kv314) == 2
    assert "VolumeSnapshot openshift-virtualization-os-images/rhel9-abc has no" in kv314[0]
    container = INFERRED_VM.replace("dataVolume: {name: rhel-root}", "containerDisk: {image: quay.io/x/y}")
    assert "neither a persistentVolumeClaim nor a dataVolume" in _inferred(container, "1.9")[2][0]


GATED_PREFERENCE = """
apiVersion: instancetype.kubevirt.io/v1beta1
kind: VirtualMachinePreference
metadata: {name: gated, namespace: apps}
spec:
  preferredArchitecture: arm64
  preferredLaunchSecurity: {sev: {}}
  firmware:
    preferredEfi: {secureBoot: false}
  devices:
    preferredDiskBus: virtio
---
"""


@pytest.mark.parametrize(
    ("version", "arch", "sev", "efi"),
    [("1.9", True, True, True), ("1.8", True, False, True), ("1.6", False, False, True), ("1.3", False, False, False)],
)
def test_preference_fields_are_applied_only_where_they_exist(version: str, arch: bool, sev: bool, efi: bool) -> None:
    text = GATED_PREFERENCE + vm(
        "preference:\n  kind: VirtualMachinePreference\n  name: gated\n",
        "devices:\n  disks: [{name: root, disk: {}}]\n",
    )
    res = lint(text, kubevirtVersion=version)
    assert res.inventory is not None
    spec = next(w for w in res.inventory.workloads if w.obj.kind == "VirtualMachine").spec
    assert ("architecture" in spec) is arch
    assert ("launchSecurity" in spec["domain"]) is sev
    assert ("efi" in spec["domain"].get("firmware", {}).get("bootloader", {})) is efi
    # A field of every release is always applied.
    assert spec["domain"]["devices"]["disks"][0]["disk"]["bus"] == "virtio"


def test_instancetype_fields_are_gated_too() -> None:
    text = INSTANCETYPE.format(kind="VirtualMachineInstancetype", ns="  namespace: apps\n", body=BODIES["KV311"])
    text += "---\n" + vm("instancetype:\n  kind: VirtualMachineInstancetype\n  name: pinned\n")
    # spec.nodeSelector of an instancetype exists from v1.1: v1.0 prunes it when storing it.
    assert found(text, "KV311", kubevirtVersion="1.1")
    assert not found(text, "KV311", kubevirtVersion="1.0")
