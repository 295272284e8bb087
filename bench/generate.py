#!/usr/bin/env python3
"""Generate a deterministic GitOps-style tree of KubeVirt manifests for kvlint's benchmark.

    python bench/generate.py --vms 1000 --out bench/out/vms-1000

Layout (N = --vms; about N/50 namespaces):

    cluster/storage-classes.yaml     StorageClasses: Ceph RBD (default virt class), hostpath,
                                     NFS, EBS, a vendor SAN class known only by its profile
    cluster/storage-profiles.yaml    CDI StorageProfiles (some with spec.claimPropertySets)
    cluster/hyperconverged.yaml      one HyperConverged (hco.kubevirt.io/v1beta1)
    cluster/namespaces.yaml          every Namespace, with labels
    cluster/migration-policies.yaml  MigrationPolicies (migrations.kubevirt.io/v1alpha1)
    apps/<ns>/vm-<i>.yaml            one VirtualMachine per file; some files also hold the
                                     VM's PVC or DataVolume (multi-document)
    apps/<ns>/vm-<i>-data.yaml       the VM's standalone PVC or DataVolume, when not in the
                                     VM's own file

About a third of the VMs carry a live-migration blocker (RWO claim, bridge on the pod
network without the annotation, host devices, hostDisk, a hostname nodeSelector, SEV, ...).

Deterministic: the only randomness is ``random.Random`` seeded from N, dictionaries keep
insertion order and files are written in sorted order, so the same N always produces a
byte-identical tree. Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import sys
from pathlib import Path
from typing import Any

#: Bump when the output changes, so that cached trees (bench/out) are regenerated.
GENERATOR_VERSION = 1
STAMP = ".bench-tree-stamp"

VMS_PER_NAMESPACE = 50
BLOCKER_SHARE = 1 / 3

RBD_VIRT = "ocs-storagecluster-ceph-rbd-virtualization"
RBD = "ocs-storagecluster-ceph-rbd"
HOSTPATH = "local-hostpath"
NFS = "nfs-csi"
EBS = "gp3-csi"
SAN = "vendor-san"

TEAMS = [
    "payments",
    "billing",
    "search",
    "identity",
    "catalog",
    "orders",
    "ledger",
    "media",
    "analytics",
    "reporting",
    "crm",
    "erp",
    "hr",
    "inventory",
    "shipping",
    "support",
]
TIERS = ["frontend", "backend", "data", "batch"]
ENVS = ["prod", "staging", "dev"]
ROLES = {
    "frontend": ["web", "gateway", "proxy"],
    "backend": ["api", "worker", "app"],
    "data": ["db", "cache", "queue"],
    "batch": ["etl", "build", "render"],
}
OS_IMAGES = [
    ("fedora", "quay.io/containerdisks/fedora:40"),
    ("centos-stream9", "quay.io/containerdisks/centos-stream:9"),
    ("rhel9", "registry.redhat.io/rhel9/rhel-guest-image:9.4"),
    ("ubuntu", "quay.io/containerdisks/ubuntu:22.04"),
]
PACKAGES = [
    "qemu-guest-agent",
    "chrony",
    "podman",
    "nginx",
    "postgresql-server",
    "redis",
    "git",
    "jq",
    "tmux",
    "htop",
    "rsync",
    "firewalld",
    "node-exporter",
    "haproxy",
    "java-17-openjdk",
]
#: Live-migration blockers and their relative weights.
BLOCKERS = [
    ("rwo-pvc", 4),  # standalone PVC, ReadWriteOnce on node-local hostpath storage
    ("rwo-dv-ebs", 2),  # standalone DataVolume, spec.storage on EBS (profile: RWO Block)
    ("rwo-template-pvc", 3),  # dataVolumeTemplate spec.pvc with ReadWriteOnce
    ("rwo-template-ebs", 2),  # dataVolumeTemplate spec.storage on EBS
    ("pod-bridge", 3),  # bridge binding on the pod network, no allow annotation
    ("pod-bridge-vm-ann", 1),  # ... with the annotation on the VM's own metadata (ignored)
    ("host-device", 2),  # spec.domain.devices.hostDevices
    ("host-disk", 2),  # hostDisk volume, not shared
    ("node-hostname", 3),  # nodeSelector kubernetes.io/hostname
    ("sev", 1),  # launchSecurity.sev
]

_PLAIN = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9_./,:=@ -]*$")
_NUMBERISH = re.compile(r"^[-+]?[0-9][0-9_.:eExXoObBa-fA-F+-]*$")
_RESERVED = {
    "y",
    "n",
    "yes",
    "no",
    "on",
    "off",
    "true",
    "false",
    "null",
    "~",
}


# --------------------------------------------------------------------------- YAML emitter


def _scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if (
        _PLAIN.match(s)
        and not _NUMBERISH.match(s)
        and s.lower() not in _RESERVED
        and not s.endswith((" ", ":"))
        and ": " not in s
        and " #" not in s
    ):
        return s
    return json.dumps(s)


#: Set by dump(): write small collections in flow style (``{bus: virtio}``, ``[ReadWriteMany]``).
_FLOW = False
FLOW_WIDTH = 72


def _flow_scalar(v: Any) -> str:
    s = _scalar(v)
    if isinstance(v, str) and s == v and any(c in v for c in ",[]{}:"):
        return json.dumps(v)
    return s


def _flow(v: Any) -> str | None:
    """``v`` in flow style, or None when it is too large or holds a multi-line string."""
    if isinstance(v, dict):
        parts = []
        for k, item in v.items():
            text = _flow(item)
            if text is None:
                return None
            parts.append(f"{_flow_scalar(k)}: {text}")
        out = "{" + ", ".join(parts) + "}"
    elif isinstance(v, list):
        items = [_flow(item) for item in v]
        if any(t is None for t in items):
            return None
        out = "[" + ", ".join(t for t in items if t is not None) + "]"
    elif isinstance(v, str) and "\n" in v:
        return None
    else:
        out = _flow_scalar(v)
    return out if len(out) <= FLOW_WIDTH else None


def _emit(v: Any, indent: int, out: list[str]) -> None:
    """Block-style YAML for dicts/lists below a key that was already written."""
    pad = " " * indent
    if isinstance(v, dict):
        for k, item in v.items():
            _emit_entry(f"{pad}{_scalar(k)}:", item, indent, out)
    elif isinstance(v, list):
        for item in v:
            # Kubernetes style: list items at the parent key's indentation.
            flow = _flow(item) if _FLOW and isinstance(item, dict) else None
            if flow is not None:
                out.append(f"{pad}- {flow}")
            elif isinstance(item, dict) and item:
                first = True
                for k, sub in item.items():
                    lead = f"{pad}- " if first else f"{pad}  "
                    _emit_entry(f"{lead}{_scalar(k)}:", sub, indent + 2, out)
                    first = False
            else:
                _emit_entry(f"{pad}-", item, indent, out, is_item=True)
    else:  # pragma: no cover - callers never pass scalars here
        raise TypeError(type(v))


def _emit_entry(head: str, v: Any, indent: int, out: list[str], is_item: bool = False) -> None:
    flow = _flow(v) if _FLOW and isinstance(v, (dict, list)) and len(head) < 40 else None
    if flow is not None:
        out.append(f"{head} {flow}")
    elif isinstance(v, dict):
        if not v:
            out.append(f"{head} {{}}")
        else:
            out.append(head)
            _emit(v, indent + 2, out)
    elif isinstance(v, list):
        if not v:
            out.append(f"{head} []")
        else:
            out.append(head)
            _emit(v, indent, out)
    elif isinstance(v, str) and "\n" in v:
        body_pad = " " * (indent + 2)
        chomp = "" if v.endswith("\n") else "-"
        out.append(f"{head} |{chomp}")
        for line in v.rstrip("\n").split("\n"):
            out.append(f"{body_pad}{line}" if line else "")
    else:
        out.append(f"{head} {_scalar(v)}")


def dump(doc: dict[str, Any], comment: str | None = None, flow: bool = False) -> str:
    global _FLOW
    _FLOW = flow
    out: list[str] = []
    if comment:
        out.extend(f"# {line}" if line else "#" for line in comment.split("\n"))
    try:
        _emit(doc, 0, out)
    finally:
        _FLOW = False
    return "\n".join(out) + "\n"


def dump_all(docs: list[tuple[dict[str, Any], str | None]], flow: bool = False) -> str:
    return "---\n".join(dump(d, c, flow) for d, c in docs)


# --------------------------------------------------------------------------- cluster/


def storage_classes() -> list[tuple[dict[str, Any], str | None]]:
    def sc(
        name: str,
        provisioner: str,
        *,
        annotations: dict[str, str] | None = None,
        parameters: dict[str, str] | None = None,
        binding: str = "Immediate",
        expansion: bool = True,
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name}
        if annotations:
            meta["annotations"] = annotations
        doc: dict[str, Any] = {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": meta,
            "provisioner": provisioner,
        }
        if parameters:
            doc["parameters"] = parameters
        doc["reclaimPolicy"] = "Delete"
        doc["allowVolumeExpansion"] = expansion
        doc["volumeBindingMode"] = binding
        return doc

    ceph_params = {
        "clusterID": "openshift-storage",
        "pool": "ocs-storagecluster-cephblockpool",
        "imageFeatures": "layering,deep-flatten,exclusive-lock,object-map,fast-diff",
        "csi.storage.k8s.io/fstype": "ext4",
        "csi.storage.k8s.io/provisioner-secret-name": "rook-csi-rbd-provisioner",
        "csi.storage.k8s.io/provisioner-secret-namespace": "openshift-storage",
        "csi.storage.k8s.io/node-stage-secret-name": "rook-csi-rbd-node",
        "csi.storage.k8s.io/node-stage-secret-namespace": "openshift-storage",
    }
    virt_params = dict(ceph_params, mounter="rbd", mapOptions="krbd:rxbounce")
    return [
        (
            sc(
                RBD_VIRT,
                "openshift-storage.rbd.csi.ceph.com",
                annotations={
                    "storageclass.kubevirt.io/is-default-virt-class": "true",
                    "description": "Ceph RBD tuned for virtual machine disks",
                },
                parameters=virt_params,
            ),
            "Default class for VM disks: Ceph RBD (CDI default: ReadWriteMany Block).",
        ),
        (
            sc(
                RBD,
                "openshift-storage.rbd.csi.ceph.com",
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
                parameters=ceph_params,
            ),
            "Cluster default class for pods.",
        ),
        (
            sc(
                HOSTPATH,
                "kubevirt.io.hostpath-provisioner",
                parameters={"storagePool": "local"},
                binding="WaitForFirstConsumer",
                expansion=False,
            ),
            "Node-local NVMe through the hostpath provisioner: ReadWriteOnce only.",
        ),
        (
            sc(
                NFS,
                "nfs.csi.k8s.io",
                parameters={"server": "nfs.storage.example.com", "share": "/exports/vms"},
            ),
            None,
        ),
        (
            sc(
                EBS,
                "ebs.csi.aws.com",
                parameters={
                    "type": "gp3",
                    "iops": "3000",
                    "throughput": "125",
                    "encrypted": "true",
                },
                binding="WaitForFirstConsumer",
            ),
            "AWS EBS gp3 (ReadWriteOnce).",
        ),
        (
            sc(
                SAN,
                "csi.san.vendor.example.com",
                parameters={"array": "san-01", "protocol": "iscsi"},
            ),
            "A vendor driver CDI does not know: its StorageProfile lists the claim properties.",
        ),
    ]


def storage_profiles() -> list[tuple[dict[str, Any], str | None]]:
    def prof(name: str, sets: list[dict[str, Any]] | None, clone: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "apiVersion": "cdi.kubevirt.io/v1beta1",
            "kind": "StorageProfile",
            "metadata": {"name": name},
            "spec": {},
        }
        if sets is not None:
            doc["spec"]["claimPropertySets"] = sets
        if clone:
            doc["spec"]["cloneStrategy"] = clone
        return doc

    return [
        (prof(RBD_VIRT, None, "csi-clone"), None),
        (prof(HOSTPATH, None), None),
        (prof(NFS, [{"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}], "copy"), None),
        (prof(EBS, None, "snapshot"), None),
        (
            prof(
                SAN,
                [
                    {"accessModes": ["ReadWriteMany"], "volumeMode": "Block"},
                    {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"},
                ],
                "csi-clone",
            ),
            "Without these claimPropertySets CDI could not render spec.storage claims.",
        ),
    ]


def hyperconverged() -> dict[str, Any]:
    return {
        "apiVersion": "hco.kubevirt.io/v1beta1",
        "kind": "HyperConverged",
        "metadata": {"name": "kubevirt-hyperconverged", "namespace": "openshift-cnv"},
        "spec": {
            "evictionStrategy": "LiveMigrate",
            "liveMigrationConfig": {
                "parallelMigrationsPerCluster": 5,
                "parallelOutboundMigrationsPerNode": 2,
                "completionTimeoutPerGiB": 150,
                "progressTimeout": 150,
                "bandwidthPerMigration": "640Mi",
                "allowPostCopy": False,
            },
            "featureGates": {"deployKubeSecondaryDNS": False, "enableCommonBootImageImport": True},
            "infra": {},
            "workloads": {},
        },
    }


def migration_policies(
    count: int = 4, namespaces: list[dict[str, Any]] | None = None
) -> list[tuple[dict[str, Any], str | None]]:
    """The four policies of the default tree; with ``count`` > 4, also one policy per team,
    environment and role (a cluster with a policy per team), in a fixed order; 0 = none."""

    def pol(name: str, selectors: dict[str, Any], **spec: Any) -> dict[str, Any]:
        return {
            "apiVersion": "migrations.kubevirt.io/v1alpha1",
            "kind": "MigrationPolicy",
            "metadata": {"name": name},
            "spec": dict(spec, selectors=selectors),
        }

    base = [
        (
            pol(
                "data-tier",
                {"namespaceSelector": {"tier": "data"}},
                allowAutoConverge=True,
                bandwidthPerMigration="1Gi",
                completionTimeoutPerGiB=300,
            ),
            None,
        ),
        (
            pol(
                "prod-databases",
                {
                    "namespaceSelector": {"env": "prod"},
                    "virtualMachineInstanceSelector": {"workload": "db"},
                },
                allowPostCopy=False,
                allowAutoConverge=True,
                completionTimeoutPerGiB=600,
            ),
            None,
        ),
        (
            pol(
                "batch-slow",
                {"namespaceSelector": {"tier": "batch"}},
                bandwidthPerMigration="256Mi",
                completionTimeoutPerGiB=120,
            ),
            None,
        ),
        (
            pol(
                "large-memory",
                {"virtualMachineInstanceSelector": {"size": "large"}},
                allowPostCopy=True,
                completionTimeoutPerGiB=800,
            ),
            None,
        ),
    ]
    if count <= len(base):
        return base[:count]
    out = list(base)
    teams = sorted({ns["team"] for ns in namespaces or ()}) or TEAMS
    roles = [r for tier in TIERS for r in ROLES[tier]]
    k = 0
    while len(out) < count:
        team = teams[k % len(teams)]
        env = ENVS[(k // len(teams)) % len(ENVS)]
        role = roles[(k // (len(teams) * len(ENVS))) % len(roles)]
        shape = k % 5
        name = f"team-{team}-{env}-{role}-{k:04d}"
        if shape == 0:  # namespace labels only
            sel: dict[str, Any] = {"namespaceSelector": {"team": team, "env": env}}
        elif shape == 1:  # VMI labels only
            sel = {"virtualMachineInstanceSelector": {"app.kubernetes.io/name": role, "workload": role}}
        elif shape == 2:  # both
            sel = {
                "namespaceSelector": {"team": team},
                "virtualMachineInstanceSelector": {"app.kubernetes.io/name": role},
            }
        elif shape == 3:  # a namespace by name, and a VMI label no VM carries
            sel = {
                "namespaceSelector": {"kubernetes.io/metadata.name": f"{team}-{env}-000"},
                "virtualMachineInstanceSelector": {"migration": "custom"},
            }
        else:  # the same selectors as policy k-4 (a tie decided by name)
            j = k - 4
            sel = {"namespaceSelector": {"team": teams[j % len(teams)], "env": ENVS[(j // len(teams)) % len(ENVS)]}}
        out.append((pol(name, sel, bandwidthPerMigration=f"{256 * (1 + k % 4)}Mi", completionTimeoutPerGiB=150), None))
        k += 1
    return out


# --------------------------------------------------------------------------- apps/


def cloud_init(rng: random.Random, name: str, role: str) -> str:
    pkgs = rng.sample(PACKAGES, rng.randint(2, 5))
    lines = [
        "#cloud-config",
        f"hostname: {name}",
        "users:",
        "  - name: cloud-user",
        "    sudo: ALL=(ALL) NOPASSWD:ALL",
        "    ssh_authorized_keys:",
    ]
    for k in range(1 if rng.random() < 0.8 else 2):
        key = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(68))
        lines.append(f"      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5{key} ops-{k}@example.com")
    lines += ["packages:"] + [f"  - {p}" for p in pkgs]
    lines += [
        "write_files:",
        f"  - path: /etc/{role}/{role}.conf",
        "    permissions: '0644'",
        "    content: |",
        f"      listen_port = {rng.choice([80, 443, 5432, 6379, 8080, 9000])}",
        f"      log_level = {rng.choice(['info', 'warn', 'debug'])}",
    ]
    if rng.random() < 0.25:
        lines += [
            "  - path: /etc/sysctl.d/90-tuning.conf",
            "    content: |",
            "      vm.swappiness = 10",
            f"      net.core.somaxconn = {rng.choice([1024, 4096, 8192])}",
        ]
    lines += [
        "runcmd:",
        "  - systemctl enable --now qemu-guest-agent",
        f'  - echo "provisioned $(hostname -s) as {role}" >> /var/log/provision.log',
    ]
    if rng.random() < 0.25:
        lines += ["  - mkfs.xfs -f /dev/vdb", "  - mkdir -p /data", "  - mount /dev/vdb /data"]
    return "\n".join(lines) + "\n"


def build_vm(
    rng: random.Random, i: int, ns: dict[str, Any]
) -> tuple[list[tuple[dict[str, Any], str | None]], list[tuple[dict[str, Any], str | None]], str | None]:
    """Return (documents of the VM file, documents of a separate data file, blocker)."""
    name = f"vm-{i:05d}"
    tier = ns["tier"]
    role = rng.choice(ROLES[tier])
    blocker: str | None = None
    if rng.random() < BLOCKER_SHARE:
        blocker = rng.choices([b for b, _ in BLOCKERS], weights=[w for _, w in BLOCKERS])[0]
    os_name, os_image = rng.choice(OS_IMAGES)
    cores = rng.choice([1, 2, 2, 4, 4, 8])
    mem_gi = rng.choice([2, 4, 8, 16, 32])
    size = "large" if mem_gi >= 16 else "small"
    labels = {
        "app.kubernetes.io/name": role,
        "app.kubernetes.io/part-of": ns["team"],
        "tier": tier,
        "env": ns["env"],
    }
    tmpl_labels: dict[str, Any] = {
        "kubevirt.io/domain": name,
        "app.kubernetes.io/name": role,
        "workload": "db" if role == "db" else role,
        "size": size,
    }
    vm_annotations: dict[str, Any] = {
        "description": f"{role} server for {ns['team']} ({ns['env']})",
        "argocd.argoproj.io/sync-wave": str(rng.randint(1, 5)),
    }
    tmpl_annotations: dict[str, Any] = {}
    if rng.random() < 0.5:
        tmpl_annotations["vm.kubevirt.io/flavor"] = rng.choice(["small", "medium", "large"])

    extra_docs: list[tuple[dict[str, Any], str | None]] = []
    dvts: list[dict[str, Any]] = []
    disks: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []

    # Root disk: a dataVolumeTemplate (spec.storage or spec.pvc) or a containerDisk.
    root_kind = rng.choices(["storage", "pvc", "container"], weights=[6, 3, 1])[0]
    if blocker in ("rwo-template-pvc",):
        root_kind = "pvc"
    elif blocker == "rwo-template-ebs":
        root_kind = "storage"
    root_size = rng.choice([20, 30, 40, 60, 80])
    source_ref = {
        "kind": "DataSource",
        "name": os_name,
        "namespace": "openshift-virtualization-os-images",
    }
    if root_kind == "storage":
        storage: dict[str, Any] = {"resources": {"requests": {"storage": f"{root_size}Gi"}}}
        if blocker == "rwo-template-ebs":
            storage = {"storageClassName": EBS, **storage}
        else:
            choice = rng.choice([None, None, RBD_VIRT, NFS, SAN])
            if choice:
                storage = {"storageClassName": choice, **storage}
        dvts.append(
            {
                "metadata": {"name": f"{name}-root"},
                "spec": {"storage": storage, "sourceRef": source_ref},
            }
        )
        volumes.append({"name": "rootdisk", "dataVolume": {"name": f"{name}-root"}})
    elif root_kind == "pvc":
        if blocker == "rwo-template-pvc":
            mode, sc, vmode = "ReadWriteOnce", rng.choice([RBD_VIRT, HOSTPATH]), "Filesystem"
        else:
            mode, sc, vmode = "ReadWriteMany", rng.choice([RBD_VIRT, SAN]), "Block"
        dvts.append(
            {
                "metadata": {"name": f"{name}-root"},
                "spec": {
                    "pvc": {
                        "accessModes": [mode],
                        "volumeMode": vmode,
                        "storageClassName": sc,
                        "resources": {"requests": {"storage": f"{root_size}Gi"}},
                    },
                    "source": {"registry": {"url": f"docker://{os_image}", "pullMethod": "node"}},
                },
            }
        )
        volumes.append({"name": "rootdisk", "persistentVolumeClaim": {"claimName": f"{name}-root"}})
    else:
        volumes.append({"name": "rootdisk", "containerDisk": {"image": os_image}})
    disks.append({"name": "rootdisk", "disk": {"bus": "virtio"}})

    # Data disk: a standalone PVC or DataVolume (same file or its own file).
    want_data = (
        blocker in ("rwo-pvc", "rwo-dv-ebs")
        or (role in ("db", "cache", "queue", "etl") and rng.random() < 0.8)
        or rng.random() < 0.25
    )
    if want_data:
        data_name = f"{name}-data"
        data_size = rng.choice([50, 100, 200, 500])
        kind = "pvc" if blocker == "rwo-pvc" else "dv" if blocker == "rwo-dv-ebs" else rng.choice(["pvc", "dv"])
        if kind == "pvc":
            if blocker == "rwo-pvc":
                mode, sc, vmode = "ReadWriteOnce", HOSTPATH, "Filesystem"
            else:
                mode, sc, vmode = rng.choice(
                    [("ReadWriteMany", RBD_VIRT, "Block"), ("ReadWriteMany", NFS, "Filesystem")]
                )
            doc = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": data_name,
                    "namespace": ns["name"],
                    "labels": {"app.kubernetes.io/instance": name},
                },
                "spec": {
                    "accessModes": [mode],
                    "volumeMode": vmode,
                    "storageClassName": sc,
                    "resources": {"requests": {"storage": f"{data_size}Gi"}},
                },
            }
            volumes.append({"name": "datadisk", "persistentVolumeClaim": {"claimName": data_name}})
        else:
            storage = {"resources": {"requests": {"storage": f"{data_size}Gi"}}}
            if blocker == "rwo-dv-ebs":
                storage = {"storageClassName": EBS, **storage}
            else:
                choice = rng.choice([None, NFS, SAN])
                if choice:
                    storage = {"storageClassName": choice, **storage}
            doc = {
                "apiVersion": "cdi.kubevirt.io/v1beta1",
                "kind": "DataVolume",
                "metadata": {
                    "name": data_name,
                    "namespace": ns["name"],
                    "annotations": {"cdi.kubevirt.io/storage.bind.immediate.requested": "true"},
                },
                "spec": {"source": {"blank": {}}, "storage": storage},
            }
            volumes.append({"name": "datadisk", "dataVolume": {"name": data_name}})
        disks.append({"name": "datadisk", "disk": {"bus": "virtio"}})
        extra_docs_same = rng.random() < 0.5
        extra_docs.append((doc, None if extra_docs_same else f"Data disk of {name}."))
    else:
        extra_docs_same = True

    if blocker == "host-disk":
        disks.append({"name": "scratch", "disk": {"bus": "virtio"}})
        volumes.append(
            {
                "name": "scratch",
                "hostDisk": {
                    "path": f"/var/lib/vms/{name}-scratch.img",
                    "type": "DiskOrCreate",
                    "capacity": "10Gi",
                },
            }
        )

    disks.append({"name": "cloudinitdisk", "disk": {"bus": "virtio"}})
    volumes.append({"name": "cloudinitdisk", "cloudInitNoCloud": {"userData": cloud_init(rng, name, role)}})

    # Networks: masquerade on the pod network, sometimes a secondary multus bridge.
    pod_iface: dict[str, Any] = {"name": "default", "masquerade": {}}
    if blocker in ("pod-bridge", "pod-bridge-vm-ann"):
        pod_iface = {"name": "default", "bridge": {}}
        if blocker == "pod-bridge-vm-ann":
            vm_annotations["kubevirt.io/allow-pod-bridge-network-live-migration"] = ""
    elif rng.random() < 0.08:
        # Bridge on the pod network done right: the annotation on the template.
        pod_iface = {"name": "default", "bridge": {}}
        tmpl_annotations["kubevirt.io/allow-pod-bridge-network-live-migration"] = ""
    if "masquerade" in pod_iface and role in ("web", "gateway", "proxy", "api"):
        pod_iface["ports"] = [{"name": "http", "port": 8080}, {"name": "https", "port": 8443}]
    interfaces = [pod_iface]
    networks: list[dict[str, Any]] = [{"name": "default", "pod": {}}]
    if rng.random() < 0.3:
        interfaces.append({"name": "storage-net", "bridge": {}})
        networks.append({"name": "storage-net", "multus": {"networkName": f"{ns['name']}/storage-net"}})

    devices: dict[str, Any] = {"disks": disks, "interfaces": interfaces}
    if blocker == "host-device":
        devices["hostDevices"] = [
            {
                "name": "accel",
                "deviceName": rng.choice(["intel.com/qat", "xilinx.com/ALVEO_U250", "vendor.example.com/HSM_ACCEL"]),
            }
        ]

    resources: dict[str, Any] = {"requests": {"memory": f"{mem_gi}Gi", "cpu": str(max(1, cores // 2))}}
    if rng.random() < 0.4:
        resources["limits"] = {"memory": f"{mem_gi}Gi", "cpu": str(cores)}
    domain: dict[str, Any] = {
        "cpu": {"cores": cores},
        "memory": {"guest": f"{mem_gi}Gi"},
        "resources": resources,
    }
    if rng.random() < 0.5:
        domain["machine"] = {"type": "pc-q35-rhel9.4.0"}
    if blocker == "sev":
        domain["firmware"] = {"bootloader": {"efi": {"secureBoot": False}}}
        domain["launchSecurity"] = {"sev": {"policy": {"secureBoot": False}}}
    elif rng.random() < 0.3:
        domain["features"] = {"acpi": {}, "smm": {"enabled": True}}
        domain["firmware"] = {"bootloader": {"efi": {"secureBoot": True}}}
    domain["devices"] = devices

    tspec: dict[str, Any] = {}
    strategy = rng.choices(["LiveMigrate", None, "LiveMigrateIfPossible", "None"], weights=[5, 3, 1, 1])[0]
    if strategy:
        tspec["evictionStrategy"] = strategy
    tspec["terminationGracePeriodSeconds"] = 180
    if blocker == "node-hostname":
        tspec["nodeSelector"] = {"kubernetes.io/hostname": f"worker-{rng.randint(1, 24):02d}"}
    elif rng.random() < 0.2:
        tspec["nodeSelector"] = {"node-role.kubernetes.io/virt": ""}
    if rng.random() < 0.15:
        tspec["tolerations"] = [{"key": "virt-only", "operator": "Exists", "effect": "NoSchedule"}]
    tspec["domain"] = domain
    tspec["networks"] = networks
    tspec["volumes"] = volumes

    spec: dict[str, Any] = {"runStrategy": rng.choice(["Always", "Always", "RerunOnFailure", "Manual"])}
    if dvts:
        spec["dataVolumeTemplates"] = dvts
    spec["template"] = {
        "metadata": {"labels": tmpl_labels, "annotations": tmpl_annotations},
        "spec": tspec,
    }

    vm: dict[str, Any] = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {
            "name": name,
            "namespace": ns["name"],
            "labels": labels,
            "annotations": vm_annotations,
        },
        "spec": spec,
    }
    head = f"{role} VM {name} of team {ns['team']} ({ns['env']})."
    vm_docs: list[tuple[dict[str, Any], str | None]] = [(vm, head)]
    sep_docs: list[tuple[dict[str, Any], str | None]] = []
    if extra_docs:
        if extra_docs_same:
            vm_docs += extra_docs
        else:
            sep_docs = extra_docs
    return vm_docs, sep_docs, blocker


# --------------------------------------------------------------------------- tree


def source_digest() -> str:
    """Digest of this file: a tree generated by another revision is not reused."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def generate(
    vms: int,
    seed: int = 0,
    *,
    namespaces: int | None = None,
    policies: int = 4,
    flow: float = 0.0,
    multi_doc: float | None = None,
    small: bool = False,
) -> tuple[dict[str, str], dict[str, Any]]:
    """Return {relative path: text} and a summary.

    Knobs (the defaults give the original tree, byte for byte):
    ``namespaces`` (default about vms/50), ``policies`` MigrationPolicies (4: the default set;
    more: one per team, environment and role as well), ``flow`` the share of VM files written
    with flow-style collections, ``multi_doc`` the share of VMs with a data disk whose
    PVC/DataVolume goes into the VM's own file (default: the generator's own half), ``small``
    one object per file and no cloud-init user data (many small files)."""
    rng = random.Random(f"kvlint-bench/{GENERATOR_VERSION}/{seed}/{vms}")
    # Separate streams, so that a knob never changes what the main stream draws.
    knob_rng = random.Random(f"kvlint-bench-knobs/{seed}/{vms}")
    n_ns = namespaces if namespaces is not None else max(1, round(vms / VMS_PER_NAMESPACE))
    n_ns = max(1, n_ns)
    namespaces_ = []
    for k in range(n_ns):
        team = TEAMS[k % len(TEAMS)]
        env = ENVS[(k // len(TEAMS)) % len(ENVS)]
        tier = rng.choice(TIERS)
        namespaces_.append({"name": f"{team}-{env}-{k:03d}", "team": team, "env": env, "tier": tier})

    files: dict[str, str] = {}
    files["cluster/storage-classes.yaml"] = dump_all(storage_classes())
    files["cluster/storage-profiles.yaml"] = dump_all(storage_profiles())
    files["cluster/hyperconverged.yaml"] = dump(hyperconverged(), "OpenShift Virtualization operator configuration.")
    if policies > 0:
        files["cluster/migration-policies.yaml"] = dump_all(migration_policies(policies, namespaces_))
    files["cluster/namespaces.yaml"] = dump_all(
        [
            (
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {
                        "name": ns["name"],
                        "labels": {
                            "tier": ns["tier"],
                            "env": ns["env"],
                            "team": ns["team"],
                            "openshift.io/cluster-monitoring": "true",
                        },
                    },
                },
                None,
            )
            for ns in namespaces_
        ]
    )

    blockers: dict[str, int] = {}
    multi_doc_files = flow_files = 0
    for i in range(vms):
        ns = namespaces_[i % n_ns]
        vm_docs, sep_docs, blocker = build_vm(rng, i, ns)
        if small:
            for vol in vm_docs[0][0]["spec"]["template"]["spec"].get("volumes", ()):
                if "cloudInitNoCloud" in vol:
                    vol["cloudInitNoCloud"] = {"userData": "#cloud-config\n"}
        if multi_doc is not None and (vm_docs[1:] or sep_docs):
            extra = vm_docs[1:] + sep_docs
            if knob_rng.random() < multi_doc:
                vm_docs, sep_docs = vm_docs[:1] + [(d, None) for d, _ in extra], []
            else:
                vm_docs, sep_docs = vm_docs[:1], extra
        as_flow = flow > 0 and knob_rng.random() < flow
        flow_files += as_flow
        base = f"apps/{ns['name']}/vm-{i:05d}"
        if small:
            for j, doc in enumerate(vm_docs + sep_docs):
                suffix = "" if j == 0 else f"-{doc[0]['kind'].lower()}-{j}"
                files[f"{base}{suffix}.yaml"] = dump_all([doc], flow=as_flow)
        else:
            files[f"{base}.yaml"] = dump_all(vm_docs, flow=as_flow)
            multi_doc_files += len(vm_docs) > 1
            if sep_docs:
                files[f"{base}-data.yaml"] = dump_all(sep_docs, flow=as_flow)
        if blocker:
            blockers[blocker] = blockers.get(blocker, 0) + 1
    summary = {
        "generator_version": GENERATOR_VERSION,
        "generator_sha256": source_digest(),
        "seed": seed,
        "vms": vms,
        "namespaces": n_ns,
        "policies": policies,
        "flow": flow,
        "multi_doc": multi_doc,
        "small": small,
        "files": len(files),
        "multi_document_vm_files": multi_doc_files,
        "flow_style_vm_files": flow_files,
        "vms_with_blocker": sum(blockers.values()),
        "blockers": dict(sorted(blockers.items())),
        "bytes": sum(len(t.encode()) for t in files.values()),
    }
    return files, summary


def write_tree(files: dict[str, str], out: Path, summary: dict[str, Any]) -> None:
    if out.exists():
        stamp = out / STAMP
        if not stamp.exists() and any(out.iterdir()):
            raise SystemExit(f"generate.py: {out} exists and is not a generated tree; refusing to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    # Marks the folder as a generated tree even if writing is interrupted.
    (out / STAMP).write_text(json.dumps({"incomplete": True}) + "\n", encoding="utf-8")
    for rel in sorted(files):
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(files[rel])
    # Written last; not a .yaml/.json file, so linters never read it.
    (out / STAMP).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def check_tree(out: Path) -> int:
    """Parse every .yaml file with PyYAML; return the number of documents."""
    import yaml  # PyYAML is a kvlint dependency; only needed for --check.

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs = 0
    for root, _dirs, names in os.walk(out):
        for n in sorted(names):
            if n.endswith(".yaml"):
                with open(os.path.join(root, n), encoding="utf-8") as fh:
                    for d in yaml.load_all(fh.read(), Loader=loader):
                        if not isinstance(d, dict) or "kind" not in d:
                            raise SystemExit(f"generate.py: {n}: unexpected document {d!r:.80}")
                        docs += 1
    return docs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vms", type=int, required=True, help="number of VirtualMachines")
    ap.add_argument("--out", type=Path, required=True, help="output folder (replaced if it is a generated tree)")
    ap.add_argument("--seed", type=int, default=0, help="variation seed (default 0)")
    ap.add_argument("--namespaces", type=int, help="number of namespaces (default about vms/50)")
    ap.add_argument("--policies", type=int, default=4, help="MigrationPolicies (default 4; 0 = none)")
    ap.add_argument("--flow", type=float, default=0.0, help="share of VM files in flow style (0..1)")
    ap.add_argument("--multi-doc", type=float, help="share of data disks written into the VM's own file (0..1)")
    ap.add_argument("--small", action="store_true", help="one object per file, no cloud-init user data")
    ap.add_argument("--check", action="store_true", help="parse the written tree with PyYAML afterwards")
    args = ap.parse_args(argv)
    if args.vms < 1:
        ap.error("--vms must be at least 1")
    files, summary = generate(
        args.vms,
        args.seed,
        namespaces=args.namespaces,
        policies=args.policies,
        flow=args.flow,
        multi_doc=args.multi_doc,
        small=args.small,
    )
    write_tree(files, args.out, summary)
    print(
        f"wrote {summary['files']} files ({summary['bytes'] / 1e6:.1f} MB) for {args.vms} VMs in "
        f"{summary['namespaces']} namespaces to {args.out}; "
        f"{summary['vms_with_blocker']} VMs with a "
        f"live-migration blocker"
    )
    if args.check:
        print(f"check: {check_tree(args.out)} documents parse")
    return 0


if __name__ == "__main__":
    sys.exit(main())
