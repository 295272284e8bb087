"""Cross-file and cross-object resolution of access modes (CDI and KubeVirt rules)."""

from __future__ import annotations

from pathlib import Path

from kvlint.config import Config
from kvlint.runner import lint_paths
from tests.helpers import found

VM_WITH_CLAIM = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {{name: vm, namespace: {ns}}}
spec:
  template:
    spec:
      domain:
        devices:
          disks: [{{name: d, disk: {{}}}}]
          interfaces: [{{name: default, masquerade: {{}}}}]
      networks: [{{name: default, pod: {{}}}}]
      volumes:
      - name: d
        {source}
"""


def vm(source: str, ns: str = "apps") -> str:
    return VM_WITH_CLAIM.format(ns=ns, source=source)


def write(tmp: Path, rel: str, text: str) -> Path:
    p = tmp / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def rules_of(tmp: Path, *paths: str, config: Config | None = None) -> list[tuple[str, str]]:
    res = lint_paths([str(tmp / p) for p in paths] or [str(tmp)], config or Config())
    return [(f.rule, f.severity) for f in res.findings]


def test_pvc_in_another_file(tmp_path: Path) -> None:
    write(tmp_path, "vms/vm.yaml", vm("persistentVolumeClaim: {claimName: data}"))
    write(
        tmp_path,
        "storage/pvc.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: apps}\nspec: {accessModes: [ReadWriteOnce]}\n",
    )
    res = lint_paths([str(tmp_path)], Config())
    hits = [f for f in res.findings if f.rule == "KV101"]
    assert len(hits) == 1
    assert hits[0].location.file.endswith("vms/vm.yaml")
    assert hits[0].related and hits[0].related[0].file.endswith("storage/pvc.yaml")
    assert "PersistentVolumeClaim apps/data" in hits[0].message


def test_pvc_not_in_view_is_a_warning_naming_what_is_missing(tmp_path: Path) -> None:
    write(tmp_path, "vm.yaml", vm("persistentVolumeClaim: {claimName: data}"))
    res = lint_paths([str(tmp_path)], Config())
    hits = [f for f in res.findings if f.rule == "KV102"]
    assert [h.severity for h in hits] == ["warning"]
    assert "'data'" in hits[0].message and "apps" in hits[0].message


def test_storage_profile_in_a_cluster_folder(tmp_path: Path) -> None:
    write(
        tmp_path,
        "cluster/profile.yaml",
        """\
apiVersion: cdi.kubevirt.io/v1beta1
kind: StorageProfile
metadata: {name: fast}
spec:
  claimPropertySets:
  - {accessModes: [ReadWriteMany], volumeMode: Block}
""",
    )
    write(
        tmp_path,
        "apps/dv.yaml",
        """\
apiVersion: cdi.kubevirt.io/v1beta1
kind: DataVolume
metadata: {name: data, namespace: apps}
spec:
  storage: {storageClassName: fast, resources: {requests: {storage: 1Gi}}}
  source: {blank: {}}
""",
    )
    write(tmp_path, "apps/vm.yaml", vm("dataVolume: {name: data}"))
    assert ("KV101", "error") not in rules_of(tmp_path)
    assert ("KV102", "warning") not in rules_of(tmp_path)


def test_profile_status_used_when_spec_empty_and_volume_mode_selects_set(tmp_path: Path) -> None:
    text = """\
apiVersion: cdi.kubevirt.io/v1beta1
kind: StorageProfile
metadata: {name: mixed}
spec: {}
status:
  claimPropertySets:
  - {accessModes: [ReadWriteMany], volumeMode: Block}
  - {accessModes: [ReadWriteOnce], volumeMode: Filesystem}
---
""" + vm("dataVolume: {name: root}").replace(
        "spec:\n  template:",
        "spec:\n  dataVolumeTemplates:\n  - metadata: {name: root}\n    spec:\n      storage: {storageClassName: mixed, volumeMode: Filesystem}\n  template:",
    )
    hits = found(text, "KV101")
    assert len(hits) == 1 and "RWO" in hits[0].message
    assert not found(text.replace("volumeMode: Filesystem}\n  template", "volumeMode: Block}\n  template"), "KV101")


def test_same_pvc_name_in_two_namespaces(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: one}\nspec: {accessModes: [ReadWriteOnce]}\n",
    )
    write(
        tmp_path,
        "b.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: two}\nspec: {accessModes: [ReadWriteMany]}\n",
    )
    write(tmp_path, "vm1.yaml", vm("persistentVolumeClaim: {claimName: data}", ns="one"))
    write(tmp_path, "vm2.yaml", vm("persistentVolumeClaim: {claimName: data}", ns="two"))
    res = lint_paths([str(tmp_path)], Config())
    files = {f.location.file.rsplit("/", 1)[-1] for f in res.findings if f.rule == "KV101"}
    assert files == {"vm1.yaml"}


def test_default_virt_class_wins_over_default_class() -> None:
    text = """\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: rwo
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubevirt.io.hostpath-provisioner
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: rwx
  annotations: {storageclass.kubevirt.io/is-default-virt-class: "true"}
provisioner: rbd.csi.ceph.com
---
""" + vm("dataVolume: {name: root}").replace(
        "spec:\n  template:",
        "spec:\n  dataVolumeTemplates:\n  - metadata: {name: root}\n    spec:\n      storage: {resources: {requests: {storage: 1Gi}}}\n  template:",
    )
    assert not found(text, "KV101")
    # contentType archive is not 'kubevirt': the virt default does not apply.
    archive = text.replace("storage: {resources", "contentType: archive\n      storage: {resources")
    hits = found(archive, "KV101")
    assert len(hits) == 1 and "StorageClass rwo" in hits[0].message


def test_newest_default_class_wins() -> None:
    base = """\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {name}
  creationTimestamp: "{ts}"
  annotations: {{storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: {prov}
---
"""
    text = (
        base.format(name="old-rwx", ts="2024-01-01T00:00:00Z", prov="cephfs.csi.ceph.com")
        + base.format(name="new-rwo", ts="2025-01-01T00:00:00Z", prov="kubevirt.io.hostpath-provisioner")
        + vm("dataVolume: {name: root}").replace(
            "spec:\n  template:",
            "spec:\n  dataVolumeTemplates:\n  - metadata: {name: root}\n    spec:\n      storage: {resources: {requests: {storage: 1Gi}}}\n  template:",
        )
    )
    hits = found(text, "KV101")
    assert len(hits) == 1 and "new-rwo" in hits[0].message + str(hits[0].related)


def test_spec_pvc_ignores_the_profile() -> None:
    text = """\
apiVersion: cdi.kubevirt.io/v1beta1
kind: StorageProfile
metadata: {name: c}
spec: {claimPropertySets: [{accessModes: [ReadWriteMany], volumeMode: Block}]}
---
""" + vm("dataVolume: {name: root}").replace(
        "spec:\n  template:",
        "spec:\n  dataVolumeTemplates:\n  - metadata: {name: root}\n    spec:\n      pvc: {storageClassName: c, accessModes: [ReadWriteOnce]}\n  template:",
    )
    assert len(found(text, "KV101")) == 1


def test_unknown_class_and_assumption_from_config() -> None:
    text = vm("dataVolume: {name: root}").replace(
        "spec:\n  template:",
        "spec:\n  dataVolumeTemplates:\n  - metadata: {name: root}\n    spec:\n      storage: {storageClassName: mystery}\n  template:",
    )
    unknown = found(text, "KV102")
    assert len(unknown) == 1 and "mystery" in unknown[0].message
    assumed = {"storageClasses": {"mystery": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]}}
    assert not found(text, "KV102", **assumed) and not found(text, "KV101", **assumed)


def test_unknown_provisioner_is_unknown_not_an_error() -> None:
    text = (
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: x}\nprovisioner: example.com/csi\n---\n"
        + vm("dataVolume: {name: root}").replace(
            "spec:\n  template:",
            "spec:\n  dataVolumeTemplates:\n  - metadata: {name: root}\n    spec:\n      storage: {storageClassName: x}\n  template:",
        )
    )
    hits = found(text, "KV102")
    assert len(hits) == 1 and "example.com/csi" in hits[0].message
    assert not found(text, "KV101")


def test_cluster_state_feeds_resolution_only(tmp_path: Path) -> None:
    write(tmp_path, "repo/vm.yaml", vm("persistentVolumeClaim: {claimName: data}"))
    state = write(
        tmp_path,
        "state.yaml",
        """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata: {name: data, namespace: apps}
  spec: {accessModes: [ReadWriteOnce]}
- apiVersion: kubevirt.io/v1
  kind: VirtualMachineInstance
  metadata: {name: other, namespace: apps}
  spec: {domain: {devices: {hostDevices: [{name: x, deviceName: y}]}}}
""",
    )
    res = lint_paths([str(tmp_path / "repo")], Config(), cluster_state=[str(state)])
    assert {f.rule for f in res.findings} >= {"KV101"}
    assert all(f.location.file.endswith("repo/vm.yaml") for f in res.findings)


def test_profile_without_a_matching_volume_mode_cannot_be_rendered() -> None:
    text = """\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: ebs}
provisioner: ebs.csi.aws.com
---
""" + vm("dataVolume: {name: root}").replace(
        "spec:\n  template:",
        "spec:\n  dataVolumeTemplates:\n  - metadata: {name: root}\n    spec:\n      storage: {storageClassName: ebs, volumeMode: Filesystem}\n  template:",
    )
    hits = found(text, "KV102")
    assert len(hits) == 1 and "no matching accessMode" in hits[0].message


def test_the_default_class_follows_the_storage_classes_in_view() -> None:
    """CDI's default class is worked out once per set of StorageClasses: a class that comes
    into view later (a lazily loaded context group) changes the answer."""
    from kvlint import storage
    from kvlint.inventory import build, objects_of
    from kvlint.yamlnodes import Document

    def sc(name: str, ts: str) -> Document:
        return Document(
            f"{name}.yaml",
            0,
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": name,
                    "creationTimestamp": ts,
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "x",
            },
            {},
        )

    inv = build([])
    assert storage.default_class(inv, True) == (None, "")
    for obj in objects_of(sc("old", "2024-01-01T00:00:00Z")):
        inv.add(obj)
    first, ann = storage.default_class(inv, True)
    assert first is not None and first.name == "old" and ann == storage.DEFAULT_CLASS_ANN
    assert storage.default_class(inv, True)[0] is first
    for obj in objects_of(sc("new", "2025-01-01T00:00:00Z")):
        inv.add(obj)
    newer = storage.default_class(inv, True)[0]
    assert newer is not None and newer.name == "new"
