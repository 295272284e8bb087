"""Tests for the structural JSON Schemas in ``schemas/``.

(a) every schema is valid Draft 2020-12 and sticks to the keyword subset the in-house validator
    understands; every ``$ref`` resolves;
(b) small inline good / bad manifests per kind, the bad ones failing at the expected JSON path;
(c) every object of the shared corpus whose apiVersion/kind is in ``schemas/index.json`` is
    validated; the failures must all be known-and-explained (``KNOWN_INVALID``) but for a handful.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

REPO = Path(__file__).resolve().parent.parent
SCHEMA_DIR = REPO / "schemas"
CORPUS = REPO.parent / "shared" / "corpus"

ALLOWED_KEYWORDS = {
    "$schema",
    "$id",
    "$ref",
    "$defs",
    "type",
    "properties",
    "additionalProperties",
    "required",
    "enum",
    "items",
    "pattern",
    "minimum",
    "maximum",
    "description",
    "x-kvlint-releases",
}
JSON_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}
DRAFT = "https://json-schema.org/draft/2020-12/schema"


# --------------------------------------------------------------------------- loading helpers


def _schema_files() -> list[Path]:
    return sorted(p for p in SCHEMA_DIR.glob("*.json") if p.name != "index.json")


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


INDEX = _load(SCHEMA_DIR / "index.json")
SCHEMAS = {p.name: _load(p) for p in _schema_files()}
REGISTRY: Registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in SCHEMAS.values())
_VALIDATORS: dict[str, Draft202012Validator] = {}


def validator_for(api_version: str, kind: str) -> Draft202012Validator:
    key = f"{api_version}/{kind}"
    if key not in _VALIDATORS:
        _VALIDATORS[key] = Draft202012Validator(SCHEMAS[INDEX["schemas"][key]], registry=REGISTRY)
    return _VALIDATORS[key]


def errors_of(doc: dict[str, Any]) -> list[Any]:
    v = validator_for(doc["apiVersion"], doc["kind"])
    return sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))


def fmt(err: Any) -> str:
    path = "/".join(str(p) for p in err.absolute_path) or "<root>"
    return f"{path}: {err.message[:160]}"


# --------------------------------------------------------------------------- (a) meta checks


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_valid_2020_12(name: str) -> None:
    schema = SCHEMAS[name]
    assert schema.get("$schema") == DRAFT
    assert schema.get("$id", "").endswith("/" + name)
    Draft202012Validator.check_schema(schema)


def _walk(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield every sub-schema (dict in a schema position) with its location."""
    if not isinstance(node, dict):
        raise AssertionError(f"{where}: schema must be an object, got {type(node).__name__}")
    yield where, node
    for key, value in node.items():
        if key in ("properties", "$defs"):
            assert isinstance(value, dict), f"{where}/{key} must be an object"
            for sub_name, sub in value.items():
                yield from _walk(sub, f"{where}/{key}/{sub_name}")
        elif key == "items" or (key == "additionalProperties" and isinstance(value, dict)):
            yield from _walk(value, f"{where}/{key}")


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_uses_only_the_keyword_subset(name: str) -> None:
    for where, sub in _walk(SCHEMAS[name], name):
        unknown = set(sub) - ALLOWED_KEYWORDS
        assert not unknown, f"{where}: keywords outside the allowed subset: {sorted(unknown)}"
        if "type" in sub:
            types = sub["type"] if isinstance(sub["type"], list) else [sub["type"]]
            assert types and set(types) <= JSON_TYPES, f"{where}: bad type {sub['type']!r}"
        if "additionalProperties" in sub:
            assert isinstance(sub["additionalProperties"], (bool, dict)), where
        if "required" in sub:
            assert isinstance(sub["required"], list), where
            assert set(sub["required"]) <= set(sub.get("properties", {})), (
                f"{where}: required names not declared in properties"
            )
        if "enum" in sub:
            assert isinstance(sub["enum"], list) and sub["enum"], where
        if "pattern" in sub:
            re.compile(sub["pattern"])
        if "$schema" in sub or "$id" in sub:
            assert where == name, f"{where}: $schema/$id only at the root"


def _resolve_pointer(doc: dict[str, Any], pointer: str) -> Any:
    cur: Any = doc
    for part in pointer.lstrip("/").split("/"):
        cur = cur[part.replace("~1", "/").replace("~0", "~")]
    return cur


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_refs_are_local_or_defs_and_resolve(name: str) -> None:
    for where, sub in _walk(SCHEMAS[name], name):
        ref = sub.get("$ref")
        if ref is None:
            continue
        m = re.fullmatch(r"(_defs\.json)?#(/\$defs/[A-Za-z0-9_.-]+)", ref)
        assert m, f"{where}: $ref {ref!r} is neither '#/$defs/..' nor '_defs.json#/$defs/..'"
        target_doc = SCHEMAS["_defs.json"] if m.group(1) else SCHEMAS[name]
        assert isinstance(_resolve_pointer(target_doc, m.group(2)), dict), f"{where}: {ref}"


def test_index_is_consistent() -> None:
    assert set(INDEX) >= {"schemas", "deprecatedApiVersions"}
    files = set(SCHEMAS) - {"_defs.json"}
    assert set(INDEX["schemas"].values()) == files, "every kind schema is indexed, and only those"
    for key, fname in INDEX["schemas"].items():
        api_version, kind = key.rsplit("/", 1)
        props = SCHEMAS[fname]["properties"]
        assert props["apiVersion"]["enum"] == [api_version], fname
        assert props["kind"]["enum"] == [kind], fname
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else "core"
        version = api_version.rsplit("/", 1)[-1]
        assert fname == f"{group}_{version}_{kind}.json"
    current = {k.rsplit("/", 1)[0] for k in INDEX["schemas"]}
    for dep in INDEX["deprecatedApiVersions"]:
        assert set(dep) >= {"apiVersion", "replacement", "kinds"}
        assert dep["apiVersion"] not in current, dep
        assert dep["kinds"]


def test_required_kinds_are_covered() -> None:
    wanted = {
        "kubevirt.io/v1/VirtualMachine",
        "kubevirt.io/v1/VirtualMachineInstance",
        "kubevirt.io/v1/VirtualMachineInstanceMigration",
        "kubevirt.io/v1/KubeVirt",
        "migrations.kubevirt.io/v1alpha1/MigrationPolicy",
        "hco.kubevirt.io/v1beta1/HyperConverged",
        "hco.kubevirt.io/v1/HyperConverged",
        "cdi.kubevirt.io/v1beta1/DataVolume",
        "cdi.kubevirt.io/v1beta1/StorageProfile",
        "v1/PersistentVolumeClaim",
        "storage.k8s.io/v1/StorageClass",
        "k8s.cni.cncf.io/v1/NetworkAttachmentDefinition",
        "v1/Namespace",
    }
    assert wanted <= set(INDEX["schemas"])
    deprecated = {d["apiVersion"] for d in INDEX["deprecatedApiVersions"]}
    assert {"kubevirt.io/v1alpha3", "cdi.kubevirt.io/v1alpha1"} <= deprecated


# --------------------------------------------------------------------------- (b) inline cases

VM: dict[str, Any] = {
    "apiVersion": "kubevirt.io/v1",
    "kind": "VirtualMachine",
    "metadata": {
        "name": "fedora",
        "namespace": "vms",
        "labels": {"app": "fedora", "tier": "1"},
        "annotations": {"kubevirt.io/allow-pod-bridge-network-live-migration": "true"},
    },
    "spec": {
        "runStrategy": "Always",
        "dataVolumeTemplates": [
            {
                "metadata": {"name": "fedora-root", "creationTimestamp": None},
                "spec": {
                    "sourceRef": {"kind": "DataSource", "name": "fedora", "namespace": "os-images"},
                    "storage": {
                        "accessModes": ["ReadWriteMany"],
                        "volumeMode": "Block",
                        "resources": {"requests": {"storage": "30Gi"}},
                    },
                },
            }
        ],
        "template": {
            "metadata": {"labels": {"kubevirt.io/domain": "fedora"}},
            "spec": {
                "evictionStrategy": "LiveMigrate",
                "terminationGracePeriodSeconds": 180,
                "nodeSelector": {"kubernetes.io/arch": "amd64"},
                "tolerations": [{"key": "virt", "operator": "Exists", "effect": "NoSchedule"}],
                "domain": {
                    "cpu": {
                        "cores": 2,
                        "sockets": 1,
                        "threads": 1,
                        "model": "host-model",
                        "dedicatedCpuPlacement": False,
                    },
                    "memory": {"guest": "4Gi"},
                    "resources": {"requests": {"memory": "4Gi", "cpu": 2}, "limits": {"cpu": "2"}},
                    "firmware": {"bootloader": {"efi": {"secureBoot": True, "persistent": True}}},
                    "features": {"smm": {"enabled": True}, "acpi": {}, "hyperv": {"relaxed": {}}},
                    "clock": {
                        "utc": {},
                        "timer": {"hpet": {"present": False}, "rtc": {"tickPolicy": "catchup"}},
                    },
                    "devices": {
                        "disks": [
                            {
                                "name": "root",
                                "disk": {"bus": "virtio"},
                                "cache": "none",
                                "bootOrder": 1,
                            },
                            {"name": "cloudinit", "cdrom": {"bus": "sata"}},
                        ],
                        "interfaces": [
                            {
                                "name": "default",
                                "masquerade": {},
                                "model": "virtio",
                                "ports": [{"port": 22, "protocol": "TCP"}],
                            },
                            {"name": "storage", "bridge": {}},
                        ],
                        "tpm": {"persistent": True},
                        "rng": {},
                    },
                },
                "networks": [
                    {"name": "default", "pod": {}},
                    {"name": "storage", "multus": {"networkName": "storage-net"}},
                ],
                "volumes": [
                    {"name": "root", "dataVolume": {"name": "fedora-root"}},
                    {"name": "cloudinit", "cloudInitNoCloud": {"userData": "#cloud-config\n"}},
                ],
            },
        },
    },
}

VMI: dict[str, Any] = {
    "apiVersion": "kubevirt.io/v1",
    "kind": "VirtualMachineInstance",
    "metadata": {"name": "vmi-migratable"},
    "spec": {
        "domain": {
            "resources": {"requests": {"memory": "1024M"}},
            "devices": {"disks": [{"name": "containerdisk", "disk": {"bus": "virtio"}}]},
        },
        "volumes": [
            {
                "name": "containerdisk",
                "containerDisk": {"image": "quay.io/kubevirt/cirros-container-disk-demo:latest"},
            }
        ],
        "readinessProbe": {"guestAgentPing": {}, "initialDelaySeconds": 30, "periodSeconds": 10},
    },
}

VMIM = {
    "apiVersion": "kubevirt.io/v1",
    "kind": "VirtualMachineInstanceMigration",
    "metadata": {"name": "migration-job"},
    "spec": {
        "vmiName": "vmi-migratable",
        "priority": "user-triggered",
        "addedNodeSelector": {"topology.kubernetes.io/zone": "a"},
    },
}

KUBEVIRT = {
    "apiVersion": "kubevirt.io/v1",
    "kind": "KubeVirt",
    "metadata": {"name": "kubevirt", "namespace": "kubevirt"},
    "spec": {
        "imagePullPolicy": "IfNotPresent",
        "workloadUpdateStrategy": {
            "workloadUpdateMethods": ["LiveMigrate"],
            "batchEvictionInterval": "1m0s",
        },
        "configuration": {
            "developerConfiguration": {"featureGates": ["Snapshot", "VMLiveUpdateFeatures"]},
            "evictionStrategy": "LiveMigrate",
            "vmRolloutStrategy": "LiveUpdate",
            "migrations": {
                "parallelMigrationsPerCluster": 5,
                "parallelOutboundMigrationsPerNode": 2,
                "bandwidthPerMigration": "64Mi",
                "completionTimeoutPerGiB": 800,
                "progressTimeout": 150,
                "allowPostCopy": False,
                "disableTLS": False,
                "network": "migration-net",
            },
        },
        "infra": {
            "replicas": 2,
            "nodePlacement": {"nodeSelector": {"node-role.kubernetes.io/infra": ""}},
        },
    },
}

POLICY = {
    "apiVersion": "migrations.kubevirt.io/v1alpha1",
    "kind": "MigrationPolicy",
    "metadata": {"name": "hpc"},
    "spec": {
        "allowAutoConverge": True,
        "bandwidthPerMigration": "217Ki",
        "completionTimeoutPerGiB": 23,
        "allowPostCopy": False,
        "selectors": {
            "namespaceSelector": {"hpc-workloads": "True"},
            "virtualMachineInstanceSelector": {"workload-type": "db"},
        },
    },
}

HCO_V1BETA1 = {
    "apiVersion": "hco.kubevirt.io/v1beta1",
    "kind": "HyperConverged",
    "metadata": {"name": "kubevirt-hyperconverged", "namespace": "openshift-cnv"},
    "spec": {
        "evictionStrategy": "LiveMigrate",
        "featureGates": {"alignCPUs": True, "deployKubeSecondaryDNS": False},
        "liveMigrationConfig": {
            "bandwidthPerMigration": "64Mi",
            "completionTimeoutPerGiB": 800,
            "parallelMigrationsPerCluster": 5,
            "parallelOutboundMigrationsPerNode": 2,
            "progressTimeout": 150,
            "network": "migration-net",
            "allowAutoConverge": False,
            "allowPostCopy": False,
        },
        "workloadUpdateStrategy": {
            "workloadUpdateMethods": ["LiveMigrate", "Evict"],
            "batchEvictionSize": 10,
            "batchEvictionInterval": "1m",
        },
        "infra": {"nodePlacement": {"nodeSelector": {"role": "infra"}}},
    },
}

HCO_V1 = {
    "apiVersion": "hco.kubevirt.io/v1",
    "kind": "HyperConverged",
    "metadata": {"name": "kubevirt-hyperconverged", "namespace": "kubevirt-hyperconverged"},
    "spec": {
        "featureGates": [
            {"name": "alignCPUs"},
            {"name": "decentralizedLiveMigration", "state": "Disabled"},
        ],
        "virtualization": {
            "evictionStrategy": "LiveMigrateIfPossible",
            "liveMigrationConfig": {
                "completionTimeoutPerGiB": 20,
                "parallelMigrationsPerCluster": 5,
                "parallelOutboundMigrationsPerNode": 1,
                "progressTimeout": 150,
                "bandwidthPerMigration": "1Gi",
                "allowWorkloadDisruption": False,
            },
            "vmiCPUAllocationRatio": 10,
        },
        "deployment": {
            "uninstallStrategy": "BlockUninstallIfWorkloadsExist",
            "nodePlacements": {"workload": {"nodeSelector": {"virt": "true"}}},
        },
        "security": {"certConfig": {"ca": {"duration": "48h0m0s", "renewBefore": "24h0m0s"}}},
    },
}

DV = {
    "apiVersion": "cdi.kubevirt.io/v1beta1",
    "kind": "DataVolume",
    "metadata": {"name": "fedora-dv"},
    "spec": {
        "source": {
            "registry": {
                "url": "docker://quay.io/containerdisks/fedora:latest",
                "pullMethod": "node",
            }
        },
        "storage": {
            "accessModes": ["ReadWriteMany"],
            "resources": {"requests": {"storage": "10Gi"}},
        },
        "contentType": "kubevirt",
    },
}

STORAGE_PROFILE = {
    "apiVersion": "cdi.kubevirt.io/v1beta1",
    "kind": "StorageProfile",
    "metadata": {"name": "ceph-rbd"},
    "spec": {
        "cloneStrategy": "csi-clone",
        "claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}],
    },
}

PVC = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "disk0"},
    "spec": {
        "accessModes": ["ReadWriteOnce"],
        "volumeMode": "Filesystem",
        "storageClassName": "local",
        "resources": {"requests": {"storage": "10Gi"}},
    },
}

STORAGE_CLASS = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {
        "name": "ceph-rbd",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
    },
    "provisioner": "rook-ceph.rbd.csi.ceph.com",
    "parameters": {"clusterID": "rook-ceph", "imageFormat": "2"},
    "reclaimPolicy": "Delete",
    "volumeBindingMode": "WaitForFirstConsumer",
    "allowVolumeExpansion": True,
}

NAD = {
    "apiVersion": "k8s.cni.cncf.io/v1",
    "kind": "NetworkAttachmentDefinition",
    "metadata": {"name": "migration-net", "namespace": "kubevirt"},
    "spec": {"config": '{"cniVersion": "0.3.1", "type": "macvlan", "master": "eth1"}'},
}

NAMESPACE = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {"name": "vms", "labels": {"hpc-workloads": "true"}},
}

NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "worker-0", "labels": {"kubevirt.io/schedulable": "true"}},
    "spec": {"taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]},
    "status": {"allocatable": {"cpu": "16"}},
}

VMIRS = {
    "apiVersion": "kubevirt.io/v1",
    "kind": "VirtualMachineInstanceReplicaSet",
    "metadata": {"name": "replicaset"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "x"}},
        "template": {"metadata": {"labels": {"app": "x"}}, "spec": copy.deepcopy(VMI["spec"])},
    },
}

POOL = {
    "apiVersion": "pool.kubevirt.io/v1beta1",
    "kind": "VirtualMachinePool",
    "metadata": {"name": "pool"},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "x"}},
        "virtualMachineTemplate": {
            "metadata": {"labels": {"app": "x"}},
            "spec": {"runStrategy": "Always", "template": copy.deepcopy(VM["spec"]["template"])},
        },
    },
}

PV = {
    "apiVersion": "v1",
    "kind": "PersistentVolume",
    "metadata": {"name": "pv0"},
    "spec": {
        "capacity": {"storage": "10Gi"},
        "accessModes": ["ReadWriteMany"],
        "persistentVolumeReclaimPolicy": "Retain",
        "volumeMode": "Block",
        "csi": {"driver": "rbd.csi.ceph.com", "volumeHandle": "0001"},
    },
}

CDI_CONFIG = {
    "apiVersion": "cdi.kubevirt.io/v1beta1",
    "kind": "CDIConfig",
    "metadata": {"name": "config"},
    "spec": {"scratchSpaceStorageClass": "local", "filesystemOverhead": {"global": "0.055"}},
}

CDI = {
    "apiVersion": "cdi.kubevirt.io/v1beta1",
    "kind": "CDI",
    "metadata": {"name": "cdi"},
    "spec": {
        "imagePullPolicy": "IfNotPresent",
        "workload": {"nodeSelector": {"x": "y"}},
        "config": {"featureGates": ["HonorWaitForFirstConsumer"]},
    },
}

INSTANCETYPE = {
    "apiVersion": "instancetype.kubevirt.io/v1beta1",
    "kind": "VirtualMachineInstancetype",
    "metadata": {"name": "u1.medium", "namespace": "vms"},
    "spec": {"cpu": {"guest": 1}, "memory": {"guest": "4Gi"}},
}
CLUSTER_INSTANCETYPE = {**INSTANCETYPE, "kind": "VirtualMachineClusterInstancetype", "metadata": {"name": "u1.medium"}}
PREFERENCE = {
    "apiVersion": "instancetype.kubevirt.io/v1beta1",
    "kind": "VirtualMachinePreference",
    "metadata": {"name": "fedora", "namespace": "vms"},
    "spec": {"devices": {"preferredDiskBus": "virtio"}, "firmware": {"preferredUseEfi": True}},
}
CLUSTER_PREFERENCE = {**PREFERENCE, "kind": "VirtualMachineClusterPreference", "metadata": {"name": "fedora"}}

GOOD = {
    "VirtualMachineInstancetype": INSTANCETYPE,
    "VirtualMachineClusterInstancetype": CLUSTER_INSTANCETYPE,
    "VirtualMachinePreference": PREFERENCE,
    "VirtualMachineClusterPreference": CLUSTER_PREFERENCE,
    "VirtualMachine": VM,
    "VirtualMachineInstance": VMI,
    "VirtualMachineInstanceMigration": VMIM,
    "KubeVirt": KUBEVIRT,
    "MigrationPolicy": POLICY,
    "HyperConverged-v1beta1": HCO_V1BETA1,
    "HyperConverged-v1": HCO_V1,
    "DataVolume": DV,
    "StorageProfile": STORAGE_PROFILE,
    "PersistentVolumeClaim": PVC,
    "StorageClass": STORAGE_CLASS,
    "NetworkAttachmentDefinition": NAD,
    "Namespace": NAMESPACE,
    "Node": NODE,
    "VirtualMachineInstanceReplicaSet": VMIRS,
    "VirtualMachinePool": POOL,
    "PersistentVolume": PV,
    "CDIConfig": CDI_CONFIG,
    "CDI": CDI,
}


def test_every_indexed_kind_has_a_good_example() -> None:
    covered = {f"{d['apiVersion']}/{d['kind']}" for d in GOOD.values()}
    assert covered == set(INDEX["schemas"])


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_manifest_passes(name: str) -> None:
    errs = errors_of(GOOD[name])
    assert not errs, "\n".join(fmt(e) for e in errs)


def _mutate(doc: dict[str, Any], path: str, value: Any = None, *, delete: bool = False) -> dict[str, Any]:
    """Deep copy ``doc`` and set (or delete) the value at a '/'-separated path."""
    out = copy.deepcopy(doc)
    parts = [int(p) if p.isdigit() else p for p in path.split("/")]
    cur: Any = out
    for p in parts[:-1]:
        cur = cur[p]
    if delete:
        del cur[parts[-1]]
    else:
        cur[parts[-1]] = value
    return out


TS = "spec/template/spec"
DOM = f"{TS}/domain"

# (id, document, expected error path, expected validator keyword)
BAD: list[tuple[str, dict[str, Any], str, str]] = [
    # ---- VirtualMachine: wrong nesting, unknown fields, enums, types
    (
        "vm-domain-directly-under-spec",
        _mutate(VM, "spec/domain", {"devices": {}}),
        "spec",
        "additionalProperties",
    ),
    ("vm-missing-template", _mutate(VM, "spec/template", delete=True), "spec", "required"),
    (
        "vm-volumes-under-template",
        _mutate(VM, "spec/template/volumes", []),
        "spec/template",
        "additionalProperties",
    ),
    ("vm-volumes-under-domain", _mutate(VM, f"{DOM}/volumes", []), DOM, "additionalProperties"),
    (
        "vm-label-bool",
        _mutate(VM, "metadata/labels/live-migratable", True),
        "metadata/labels/live-migratable",
        "type",
    ),
    ("vm-label-int", _mutate(VM, "metadata/labels/tier", 1), "metadata/labels/tier", "type"),
    (
        "vm-annotation-bool",
        _mutate(VM, "metadata/annotations/migration-ready", True),
        "metadata/annotations/migration-ready",
        "type",
    ),
    (
        "vm-template-label-bool",
        _mutate(VM, "spec/template/metadata/labels/hpc", False),
        "spec/template/metadata/labels/hpc",
        "type",
    ),
    (
        "vm-unknown-metadata-key",
        _mutate(VM, "metadata/label", {}),
        "metadata",
        "additionalProperties",
    ),
    ("vm-unknown-top-level-key", _mutate(VM, "version", "v1"), "", "additionalProperties"),
    (
        "vm-eviction-lowercase",
        _mutate(VM, f"{TS}/evictionStrategy", "livemigrate"),
        f"{TS}/evictionStrategy",
        "enum",
    ),
    (
        "vm-runstrategy-lowercase",
        _mutate(VM, "spec/runStrategy", "always"),
        "spec/runStrategy",
        "enum",
    ),
    ("vm-running-string", _mutate(VM, "spec/running", "true"), "spec/running", "type"),
    (
        "vm-dedicated-cpu-string",
        _mutate(VM, f"{DOM}/cpu/dedicatedCpuPlacement", "true"),
        f"{DOM}/cpu/dedicatedCpuPlacement",
        "type",
    ),
    (
        "vm-cpu-unknown-key",
        _mutate(VM, f"{DOM}/cpu/ioThreadsPolicy", "auto"),
        f"{DOM}/cpu",
        "additionalProperties",
    ),
    ("vm-cpu-cores-string", _mutate(VM, f"{DOM}/cpu/cores", "2"), f"{DOM}/cpu/cores", "type"),
    ("vm-domain-no-devices", _mutate(VM, f"{DOM}/devices", delete=True), DOM, "required"),
    (
        "vm-features-unknown",
        _mutate(VM, f"{DOM}/features/hyperV", {}),
        f"{DOM}/features",
        "additionalProperties",
    ),
    (
        "vm-devices-unknown",
        _mutate(VM, f"{DOM}/devices/disk", []),
        f"{DOM}/devices",
        "additionalProperties",
    ),
    (
        "vm-disk-bus-ide",
        _mutate(VM, f"{DOM}/devices/disks/0/disk/bus", "ide"),
        f"{DOM}/devices/disks/0/disk/bus",
        "enum",
    ),
    (
        "vm-disk-bus-case",
        _mutate(VM, f"{DOM}/devices/disks/0/disk/bus", "VirtIO"),
        f"{DOM}/devices/disks/0/disk/bus",
        "enum",
    ),
    (
        "vm-disk-cache-unsafe",
        _mutate(VM, f"{DOM}/devices/disks/0/cache", "unsafe"),
        f"{DOM}/devices/disks/0/cache",
        "enum",
    ),
    (
        "vm-disk-unknown-key",
        _mutate(VM, f"{DOM}/devices/disks/0/disk/dev", "vda"),
        f"{DOM}/devices/disks/0/disk",
        "additionalProperties",
    ),
    (
        "vm-disk-bootorder-zero",
        _mutate(VM, f"{DOM}/devices/disks/0/bootOrder", 0),
        f"{DOM}/devices/disks/0/bootOrder",
        "minimum",
    ),
    (
        "vm-interface-unknown-binding",
        _mutate(VM, f"{DOM}/devices/interfaces/1/macvlan", {}),
        f"{DOM}/devices/interfaces/1",
        "additionalProperties",
    ),
    (
        "vm-interface-bridge-not-empty",
        _mutate(VM, f"{DOM}/devices/interfaces/1/bridge", {"mtu": 9000}),
        f"{DOM}/devices/interfaces/1/bridge",
        "additionalProperties",
    ),
    (
        "vm-interface-model",
        _mutate(VM, f"{DOM}/devices/interfaces/0/model", "virtio-net"),
        f"{DOM}/devices/interfaces/0/model",
        "enum",
    ),
    (
        "vm-port-protocol-case",
        _mutate(VM, f"{DOM}/devices/interfaces/0/ports/0/protocol", "tcp"),
        f"{DOM}/devices/interfaces/0/ports/0/protocol",
        "enum",
    ),
    (
        "vm-memory-bad-quantity",
        _mutate(VM, f"{DOM}/memory/guest", "4GB"),
        f"{DOM}/memory/guest",
        "pattern",
    ),
    (
        "vm-requests-bad-quantity",
        _mutate(VM, f"{DOM}/resources/requests/memory", "1g"),
        f"{DOM}/resources/requests/memory",
        "pattern",
    ),
    (
        "vm-multus-no-networkname",
        _mutate(VM, f"{TS}/networks/1/multus", {"default": True}),
        f"{TS}/networks/1/multus",
        "required",
    ),
    (
        "vm-pvc-claimname-case",
        _mutate(VM, f"{TS}/volumes/0", {"name": "root", "persistentVolumeClaim": {"claimname": "x"}}),
        f"{TS}/volumes/0/persistentVolumeClaim",
        "additionalProperties",
    ),
    (
        "vm-toleration-operator",
        _mutate(VM, f"{TS}/tolerations/0/operator", "exists"),
        f"{TS}/tolerations/0/operator",
        "enum",
    ),
    (
        "vm-nodeselector-int",
        _mutate(VM, f"{TS}/nodeSelector/cpu", 8),
        f"{TS}/nodeSelector/cpu",
        "type",
    ),
    (
        "vm-affinity-operator-case",
        _mutate(
            VM,
            f"{TS}/affinity",
            {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "cpus", "operator": "gt", "values": ["8"]}]}
                        ]
                    }
                }
            },
        ),
        f"{TS}/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/"
        "matchExpressions/0/operator",
        "enum",
    ),
    (
        "vm-dvt-accessmode",
        _mutate(VM, "spec/dataVolumeTemplates/0/spec/storage/accessModes/0", "RWX"),
        "spec/dataVolumeTemplates/0/spec/storage/accessModes/0",
        "enum",
    ),
    (
        "vm-dvt-volumemode-case",
        _mutate(VM, "spec/dataVolumeTemplates/0/spec/storage/volumeMode", "block"),
        "spec/dataVolumeTemplates/0/spec/storage/volumeMode",
        "enum",
    ),
    (
        "vm-dvt-unknown",
        _mutate(VM, "spec/dataVolumeTemplates/0/spec/size", "10Gi"),
        "spec/dataVolumeTemplates/0/spec",
        "additionalProperties",
    ),
    (
        "vm-update-volumes-strategy",
        _mutate(VM, "spec/updateVolumesStrategy", "migrate"),
        "spec/updateVolumesStrategy",
        "enum",
    ),
    # ---- VirtualMachineInstance
    ("vmi-no-spec", _mutate(VMI, "spec", delete=True), "", "required"),
    ("vmi-no-domain", _mutate(VMI, "spec/domain", delete=True), "spec", "required"),
    (
        "vmi-eviction-case",
        _mutate(VMI, "spec/evictionStrategy", "liveMigrate"),
        "spec/evictionStrategy",
        "enum",
    ),
    (
        "vmi-probe-unknown",
        _mutate(VMI, "spec/readinessProbe/guestAgent", {}),
        "spec/readinessProbe",
        "additionalProperties",
    ),
    (
        "vmi-containerdisk-no-image",
        _mutate(VMI, "spec/volumes/0/containerDisk", {"path": "/disk"}),
        "spec/volumes/0/containerDisk",
        "required",
    ),
    # ---- VirtualMachineInstanceMigration
    ("vmim-priority", _mutate(VMIM, "spec/priority", "high"), "spec/priority", "enum"),
    ("vmim-unknown", _mutate(VMIM, "spec/targetNode", "worker-1"), "spec", "additionalProperties"),
    (
        "vmim-selector-int",
        _mutate(VMIM, "spec/addedNodeSelector/rack", 7),
        "spec/addedNodeSelector/rack",
        "type",
    ),
    # ---- KubeVirt
    (
        "kv-migrations-unknown",
        _mutate(KUBEVIRT, "spec/configuration/migrations/bandwidth", "1Gi"),
        "spec/configuration/migrations",
        "additionalProperties",
    ),
    (
        "kv-bandwidth-mbps",
        _mutate(KUBEVIRT, "spec/configuration/migrations/bandwidthPerMigration", "64MBps"),
        "spec/configuration/migrations/bandwidthPerMigration",
        "pattern",
    ),
    (
        "kv-parallel-string",
        _mutate(KUBEVIRT, "spec/configuration/migrations/parallelMigrationsPerCluster", "5"),
        "spec/configuration/migrations/parallelMigrationsPerCluster",
        "type",
    ),
    (
        "kv-maxdowntime-range",
        _mutate(KUBEVIRT, "spec/configuration/migrations/maxDowntimeMs", 0),
        "spec/configuration/migrations/maxDowntimeMs",
        "minimum",
    ),
    (
        "kv-migrations-wrong-key",
        _mutate(KUBEVIRT, "spec/configuration/migrationConfiguration", {}),
        "spec/configuration",
        "additionalProperties",
    ),
    (
        "kv-featuregates-map",
        _mutate(KUBEVIRT, "spec/configuration/developerConfiguration/featureGates", {"Snapshot": True}),
        "spec/configuration/developerConfiguration/featureGates",
        "type",
    ),
    (
        "kv-eviction-case",
        _mutate(KUBEVIRT, "spec/configuration/evictionStrategy", "livemigrate"),
        "spec/configuration/evictionStrategy",
        "enum",
    ),
    (
        "kv-workload-update-method",
        _mutate(KUBEVIRT, "spec/workloadUpdateStrategy/workloadUpdateMethods/0", "Migrate"),
        "spec/workloadUpdateStrategy/workloadUpdateMethods/0",
        "enum",
    ),
    (
        "kv-rollout",
        _mutate(KUBEVIRT, "spec/configuration/vmRolloutStrategy", "liveUpdate"),
        "spec/configuration/vmRolloutStrategy",
        "enum",
    ),
    (
        "kv-duration",
        _mutate(KUBEVIRT, "spec/workloadUpdateStrategy/batchEvictionInterval", "1 minute"),
        "spec/workloadUpdateStrategy/batchEvictionInterval",
        "pattern",
    ),
    # ---- MigrationPolicy
    (
        "mp-selector-matchlabels",
        _mutate(POLICY, "spec/selectors/namespaceSelector", {"matchLabels": {"hpc-workloads": "True"}}),
        "spec/selectors/namespaceSelector/matchLabels",
        "type",
    ),
    (
        "mp-selector-bool",
        _mutate(POLICY, "spec/selectors/namespaceSelector/hpc-workloads", True),
        "spec/selectors/namespaceSelector/hpc-workloads",
        "type",
    ),
    (
        "mp-bandwidth-mbps",
        _mutate(POLICY, "spec/bandwidthPerMigration", "64MBps"),
        "spec/bandwidthPerMigration",
        "pattern",
    ),
    (
        "mp-cluster-only-field",
        _mutate(POLICY, "spec/parallelMigrationsPerCluster", 5),
        "spec",
        "additionalProperties",
    ),
    ("mp-no-selectors", _mutate(POLICY, "spec/selectors", delete=True), "spec", "required"),
    (
        "mp-selectors-unknown",
        _mutate(POLICY, "spec/selectors/vmiSelector", {}),
        "spec/selectors",
        "additionalProperties",
    ),
    # ---- HyperConverged v1beta1
    (
        "hco1b1-disable-tls",
        _mutate(HCO_V1BETA1, "spec/liveMigrationConfig/disableTLS", True),
        "spec/liveMigrationConfig",
        "additionalProperties",
    ),
    (
        "hco1b1-drain-taint",
        _mutate(HCO_V1BETA1, "spec/liveMigrationConfig/nodeDrainTaintKey", "x"),
        "spec/liveMigrationConfig",
        "additionalProperties",
    ),
    (
        "hco1b1-bandwidth-mbps",
        _mutate(HCO_V1BETA1, "spec/liveMigrationConfig/bandwidthPerMigration", "64MBps"),
        "spec/liveMigrationConfig/bandwidthPerMigration",
        "pattern",
    ),
    (
        "hco1b1-bandwidth-number",
        _mutate(HCO_V1BETA1, "spec/liveMigrationConfig/bandwidthPerMigration", 64),
        "spec/liveMigrationConfig/bandwidthPerMigration",
        "type",
    ),
    (
        "hco1b1-v1-layout",
        _mutate(HCO_V1BETA1, "spec/virtualization", {"liveMigrationConfig": {}}),
        "spec",
        "additionalProperties",
    ),
    (
        "hco1b1-featuregates-list",
        _mutate(HCO_V1BETA1, "spec/featureGates", [{"name": "alignCPUs"}]),
        "spec/featureGates",
        "type",
    ),
    (
        "hco1b1-featuregate-unknown",
        _mutate(HCO_V1BETA1, "spec/featureGates/sriovLiveMigration", True),
        "spec/featureGates",
        "additionalProperties",
    ),
    (
        "hco1b1-eviction-case",
        _mutate(HCO_V1BETA1, "spec/evictionStrategy", "livemigrate"),
        "spec/evictionStrategy",
        "enum",
    ),
    (
        "hco1b1-timeout-string",
        _mutate(HCO_V1BETA1, "spec/liveMigrationConfig/progressTimeout", "150s"),
        "spec/liveMigrationConfig/progressTimeout",
        "type",
    ),
    # ---- HyperConverged v1
    (
        "hco1-v1beta1-layout",
        _mutate(HCO_V1, "spec/liveMigrationConfig", {"progressTimeout": 150}),
        "spec",
        "additionalProperties",
    ),
    (
        "hco1-disable-tls",
        _mutate(HCO_V1, "spec/virtualization/liveMigrationConfig/disableTLS", True),
        "spec/virtualization/liveMigrationConfig",
        "additionalProperties",
    ),
    (
        "hco1-bandwidth-mbps",
        _mutate(HCO_V1, "spec/virtualization/liveMigrationConfig/bandwidthPerMigration", "1Gbps"),
        "spec/virtualization/liveMigrationConfig/bandwidthPerMigration",
        "pattern",
    ),
    (
        "hco1-featuregates-map",
        _mutate(HCO_V1, "spec/featureGates", {"alignCPUs": True}),
        "spec/featureGates",
        "type",
    ),
    (
        "hco1-featuregate-state",
        _mutate(HCO_V1, "spec/featureGates/1/state", "disabled"),
        "spec/featureGates/1/state",
        "enum",
    ),
    (
        "hco1-eviction-misplaced",
        _mutate(HCO_V1, "spec/evictionStrategy", "LiveMigrate"),
        "spec",
        "additionalProperties",
    ),
    (
        "hco1-mdev-misplaced",
        _mutate(HCO_V1, "spec/virtualization/nodeMediatedDeviceTypes", []),
        "spec/virtualization",
        "additionalProperties",
    ),
    # ---- DataVolume
    (
        "dv-source-unknown",
        _mutate(DV, "spec/source/url", "http://x"),
        "spec/source",
        "additionalProperties",
    ),
    (
        "dv-content-type-case",
        _mutate(DV, "spec/contentType", "KubeVirt"),
        "spec/contentType",
        "enum",
    ),
    (
        "dv-pull-method",
        _mutate(DV, "spec/source/registry/pullMethod", "Node"),
        "spec/source/registry/pullMethod",
        "enum",
    ),
    (
        "dv-storage-bad-size",
        _mutate(DV, "spec/storage/resources/requests/storage", "10 GiB"),
        "spec/storage/resources/requests/storage",
        "pattern",
    ),
    (
        "dv-http-no-url",
        _mutate(DV, "spec/source", {"http": {"secretRef": "s"}}),
        "spec/source/http",
        "required",
    ),
    ("dv-no-spec", _mutate(DV, "spec", delete=True), "", "required"),
    # ---- StorageProfile
    (
        "sp-clone-strategy-case",
        _mutate(STORAGE_PROFILE, "spec/cloneStrategy", "Snapshot"),
        "spec/cloneStrategy",
        "enum",
    ),
    (
        "sp-claimset-no-volumemode",
        _mutate(STORAGE_PROFILE, "spec/claimPropertySets/0/volumeMode", delete=True),
        "spec/claimPropertySets/0",
        "required",
    ),
    # ---- PVC / StorageClass / NAD / Namespace / Node
    (
        "pvc-accessmode-short",
        _mutate(PVC, "spec/accessModes/0", "RWO"),
        "spec/accessModes/0",
        "enum",
    ),
    (
        "pvc-volumemode-case",
        _mutate(PVC, "spec/volumeMode", "filesystem"),
        "spec/volumeMode",
        "enum",
    ),
    (
        "pvc-size",
        _mutate(PVC, "spec/resources/requests/storage", "10GB"),
        "spec/resources/requests/storage",
        "pattern",
    ),
    ("pvc-unknown", _mutate(PVC, "spec/size", "10Gi"), "spec", "additionalProperties"),
    (
        "sc-param-int",
        _mutate(STORAGE_CLASS, "parameters/imageFormat", 2),
        "parameters/imageFormat",
        "type",
    ),
    (
        "sc-binding-case",
        _mutate(STORAGE_CLASS, "volumeBindingMode", "waitForFirstConsumer"),
        "volumeBindingMode",
        "enum",
    ),
    ("sc-no-provisioner", _mutate(STORAGE_CLASS, "provisioner", delete=True), "", "required"),
    ("sc-spec", _mutate(STORAGE_CLASS, "spec", {}), "", "additionalProperties"),
    (
        "nad-config-mapping",
        _mutate(NAD, "spec/config", {"cniVersion": "0.3.1"}),
        "spec/config",
        "type",
    ),
    (
        "ns-label-bool",
        _mutate(NAMESPACE, "metadata/labels/hpc-workloads", True),
        "metadata/labels/hpc-workloads",
        "type",
    ),
    (
        "node-taint-effect",
        _mutate(NODE, "spec/taints/0/effect", "noschedule"),
        "spec/taints/0/effect",
        "enum",
    ),
    # ---- other kinds kvlint reads
    ("vmirs-no-selector", _mutate(VMIRS, "spec/selector", delete=True), "spec", "required"),
    (
        "pool-domain-in-vm-spec",
        _mutate(POOL, "spec/virtualMachineTemplate/spec/domain", {}),
        "spec/virtualMachineTemplate/spec",
        "additionalProperties",
    ),
    (
        "pv-reclaim-case",
        _mutate(PV, "spec/persistentVolumeReclaimPolicy", "retain"),
        "spec/persistentVolumeReclaimPolicy",
        "enum",
    ),
    (
        "cdiconfig-overhead-number",
        _mutate(CDI_CONFIG, "spec/filesystemOverhead/global", 0.055),
        "spec/filesystemOverhead/global",
        "type",
    ),
    ("cdi-workloads-plural", _mutate(CDI, "spec/workloads", {}), "spec", "additionalProperties"),
]


@pytest.mark.parametrize(("case", "doc", "path", "keyword"), BAD, ids=[b[0] for b in BAD])
def test_bad_manifest_fails_at_path(case: str, doc: dict[str, Any], path: str, keyword: str) -> None:
    errs = errors_of(doc)
    want = path.split("/") if path else []
    hits = [e for e in errs if [str(p) for p in e.absolute_path] == want and e.validator == keyword]
    assert hits, f"{case}: expected a {keyword!r} error at /{path}; got:\n" + "\n".join(fmt(e) for e in errs)


def test_quantity_pattern_examples() -> None:
    pattern = re.compile(SCHEMAS["_defs.json"]["$defs"]["Quantity"]["pattern"])
    for ok in ["64Mi", "0", "1Gi", "500m", "1e3", "2048Mi", "+1.5Gi", ".5", "10G", "100k"]:
        assert pattern.search(ok), ok
    for bad in ["64MBps", "1Gbps", "1g", "10 Gi", "Gi", "1GiB", "1.5.0", ""]:
        assert not pattern.search(bad), bad


# --------------------------------------------------------------------------- (c) corpus

#: Upstream corpus objects that fail on purpose, with the reason. Keyed by path relative to the
#: corpus root, or by a path prefix ending in "*".
_KV = "kubevirt__kubevirt/staging__src__kubevirt.io__api__apitesting__testdata__HEAD__kubevirt.io.v1."
_CDI = "kubevirt__containerized-data-importer/"
_HCO = "kubevirt__hyperconverged-cluster-operator/docs__cluster-configuration.md__"
_UG = "kubevirt__user-guide/docs__"
_BLOG = "kubevirt__kubevirt.github.io/_posts__"
_MP = _UG + "cluster_admin__migration_policies.md__"
_NO_DEVICES = "doc fragment: domain without the required devices"
_FUZZ = "API round-trip fuzz fixture: every field set, with placeholder enum values and out-of-range ints"
_SELECTOR_BOOL = "MigrationPolicy selector value `true` unquoted: selectors are map[string]string"
# fmt: off
KNOWN_INVALID: dict[str, str] = {
    # fuzz fixtures: every field present, but filled with placeholder values
    _KV + "KubeVirt.yaml": _FUZZ,
    _KV + "VirtualMachine.yaml": _FUZZ,
    _KV + "VirtualMachineInstance.yaml": _FUZZ,
    # CDI negative test manifests
    _CDI + "tests__manifests__dvInvalidAccessModes.yaml":
        "CDI negative test: accessModes 'justATest'",
    _CDI + "tests__manifests__dvInvalidSourcePVC.yaml":
        "CDI negative test: source.pvc without name",
    _CDI + "tests__manifests__dvMissingCompleteSpec.yaml":
        "CDI negative test: DataVolume without spec",
    # documentation fragments and placeholders
    _CDI + "doc__os-image-poll-and-update.md__block5.yaml":
        "doc fragment: metadata is the literal '...'",
    _CDI + "doc__preallocation.md__block1.yaml":
        "doc fragment: source/storage are the literal '...'",
    _CDI + "doc__storageprofile.md__block3.yaml":
        "doc fragment: ownerReferences is the literal '...'",
    _HCO + "block28.yaml": "doc placeholder: memoryOvercommitPercentage '<intValue>'",
    _UG + "compute__resources_requests_and_limits.md__block3.yaml":
        "doc fragment: VMI without spec",
    _UG + "network__hotplug__interfaces.md__block5.yaml":
        "doc fragment: a patch body ('template' at the root, no spec)",
    _UG + "user_workloads__instancetypes.md__block6.yaml":
        "doc fragment: VM without spec.template (required even with an instancetype)",
    _MP + "block1.yaml": "doc fragment: MigrationPolicy spec without the required selectors",
    _UG + "compute__cpu_hotplug.md__block3.yaml": _NO_DEVICES,
    _UG + "compute__dedicated_cpu_resources.md__block3.yaml": _NO_DEVICES,
    _UG + "compute__persistent_tpm_and_uefi_state.md__block3.yaml": _NO_DEVICES,
    _UG + "compute__virtual_hardware.md__block6.yaml": _NO_DEVICES,
    # genuine mistakes in published manifests
    "openshift__openshift-docs/modules__virt-attaching-vm-to-sriov-network.adoc__block1.yaml":
        "VM with domain/networks directly under spec (belongs under spec.template.spec)",
    _UG + "compute__virtual_hardware.md__block15.yaml":
        "VM with domain/volumes directly under spec (belongs under spec.template.spec)",
    _UG + "network__interfaces_and_networks.md__block12.yaml":
        "volumes under spec.template instead of spec.template.spec",
    _UG + "storage__disks_and_volumes.md__block7.yaml": "volumes under spec.domain instead of spec",
    _UG + "compute__numa.md__block3.yaml": "ioThreadsPolicy under domain.cpu (belongs to domain)",
    _BLOG + "2021-10-13-Running-Realtime-Workloads.md__block7.yaml":
        "ioThreadsPolicy under domain.cpu (belongs to domain)",
    _UG + "compute__virtual_hardware.md__block12.yaml":
        "persistentVolumeClaim.claimname (field names are case-sensitive: claimName)",
    _UG + "compute__virtual_hardware.md__block13.yaml":
        "disks under domain.resources, claimname, no devices",
    _UG + "user_workloads__guest_operating_system_information.md__block2.yaml":
        "disk.dev is not a KubeVirt field",
    _UG + "user_workloads__guest_operating_system_information.md__block3.yaml":
        "disk.dev is not a KubeVirt field",
    _UG + "user_workloads__presets.md__block12.yaml":
        "top-level 'version' key, VMI domain without devices",
    _UG + "user_workloads__templates.md__block16.yaml":
        "pre-v1 VM: genie network, lowercase keys, interfaces under domain, memory '1g'",
    _BLOG + "2023-07-24-OVN-kubernetes-secondary-networks-policies.md__block4.yaml":
        "typo 'termination/GracePeriodSeconds'",
    _MP + "block2.yaml": _SELECTOR_BOOL,
    _MP + "block4.yaml": _SELECTOR_BOOL,
    _MP + "block5.yaml": _SELECTOR_BOOL,
    _HCO + "block9.yaml":
        "HCO v1: nodeMediatedDeviceTypes belongs under virtualization.mediatedDevicesConfiguration",
    _HCO + "block15.yaml":
        "HCO v1 with the v1beta1 field spec.obsoleteCPUs "
        "(v1: spec.virtualization.obsoleteCPUModels)",
    _HCO + "block57.yaml":
        "node affinity operator 'gt' (must be Gt) and integer value 8 (values are strings)",
    "kubermatic__machine-controller/pkg__cloudprovider__provider__kubevirt__testdata__*":
        "lowercase 'topologyspreadconstraints' (+ maxskew, ...): only Go's case-insensitive "
        "decoder accepts it; the API server prunes it",
}
# fmt: on

#: How many unexplained corpus failures are tolerated ("a handful").
MAX_UNEXPLAINED = 3

_TEMPLATING = re.compile(r"\{\{|\{%|\$\{[A-Z_]+\}")


def _plain(value: Any) -> Any:
    """YAML timestamps come back from PyYAML as datetimes; manifests carry them as strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _corpus_objects() -> Iterator[tuple[str, int, dict[str, Any]]]:
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        rel = path.relative_to(CORPUS).as_posix()
        if rel.startswith("templated/"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if _TEMPLATING.search(text):
            continue
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            continue
        for i, doc in enumerate(docs):
            if not isinstance(doc, dict):
                continue
            if f"{doc.get('apiVersion')}/{doc.get('kind')}" in INDEX["schemas"]:
                yield rel, i, _plain(doc)


def _known_reason(rel: str) -> str | None:
    if rel in KNOWN_INVALID:
        return KNOWN_INVALID[rel]
    for key, reason in KNOWN_INVALID.items():
        if key.endswith("*") and rel.startswith(key[:-1]):
            return reason
    return None


@pytest.fixture(scope="module")
def corpus_results() -> list[tuple[str, int, str, list[str]]]:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not available at {CORPUS}")
    out = []
    for rel, i, doc in _corpus_objects():
        errs = errors_of(doc)
        out.append((rel, i, f"{doc['apiVersion']}/{doc['kind']}", [fmt(e) for e in errs]))
    if not out:
        pytest.skip("corpus has no object of an indexed kind")
    return out


def test_corpus_validates(corpus_results: list[tuple[str, int, str, list[str]]]) -> None:
    failing = [r for r in corpus_results if r[3]]
    unexplained = [r for r in failing if _known_reason(r[0]) is None]
    report = [f"{len(failing)}/{len(corpus_results)} corpus objects fail schema validation:"]
    for rel, i, key, errs in failing:
        reason = _known_reason(rel) or "UNEXPLAINED"
        report.append(f"- {rel} [doc {i}] {key}: {reason}")
        report.extend(f"    {e}" for e in errs[:4])
    print("\n".join(report))
    assert len(unexplained) <= MAX_UNEXPLAINED, "\n".join(report)


def test_known_invalid_corpus_files_still_fail(
    corpus_results: list[tuple[str, int, str, list[str]]],
) -> None:
    """The schemas stay strict: every listed known-invalid corpus file still fails."""
    failing_files = {rel for rel, _, _, errs in corpus_results if errs}
    seen_files = {rel for rel, _, _, _ in corpus_results}
    for key in KNOWN_INVALID:
        if key.endswith("*"):
            matches = {f for f in seen_files if f.startswith(key[:-1])}
            assert matches <= failing_files, sorted(matches - failing_files)
        elif key in seen_files:
            assert key in failing_files, f"{key} no longer fails: update KNOWN_INVALID"


def test_corpus_api_fixtures_have_no_unknown_fields(
    corpus_results: list[tuple[str, int, str, list[str]]],
) -> None:
    """kubevirt's apitesting HEAD fixtures set *every* API field: only value errors are allowed."""
    if not CORPUS.is_dir():
        pytest.skip("no corpus")
    fixtures = sorted(CORPUS.glob("kubevirt__kubevirt/*apitesting__testdata__HEAD__*.yaml"))
    if not fixtures:
        pytest.skip("no apitesting fixtures in the corpus")
    for path in fixtures:
        doc = _plain(yaml.safe_load(path.read_text(encoding="utf-8")))
        structural = [fmt(e) for e in errors_of(doc) if e.validator not in ("enum", "minimum", "maximum", "pattern")]
        assert not structural, f"{path.name}:\n" + "\n".join(structural)
