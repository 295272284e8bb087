"""KV1xx: volumes, disks and DataVolumes (shared storage, access modes, hotplug, host disks)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kvlint import versions
from kvlint.checks import objects, workload
from kvlint.inventory import K8sObject, Workload, as_dict, as_list, enumerate_dicts, get, name_of
from kvlint.models import Finding
from kvlint.storage import ACCESS_MODES, Access

if TYPE_CHECKING:
    from kvlint.engine import Context

LOCAL_SOURCES = (
    "containerDisk",
    "ephemeral",
    "emptyDisk",
    "cloudInitNoCloud",
    "cloudInitConfigDrive",
    "sysprep",
    "configMap",
    "secret",
    "serviceAccount",
    "downwardAPI",
    "downwardMetrics",
    "memoryDump",
    "containerPath",
)


def claim_name(volume: dict[str, object]) -> tuple[str, str] | None:
    """(source key, claim name) of a PVC or DataVolume volume."""
    pvc = volume.get("persistentVolumeClaim")
    if isinstance(pvc, dict) and isinstance(pvc.get("claimName"), str):
        return "persistentVolumeClaim", pvc["claimName"]
    dv = volume.get("dataVolume")
    if isinstance(dv, dict) and isinstance(dv.get("name"), str):
        return "dataVolume", dv["name"]
    return None


def _fs_names(w: Workload) -> set[str]:
    return {f["name"] for _, f in enumerate_dicts(w.devices().get("filesystems")) if isinstance(f.get("name"), str)}


def _describe(acc: Access) -> str:
    kinds = {
        "template": f"dataVolumeTemplate {acc.claim!r}",
        "DataVolume": f"DataVolume {acc.claim!r}",
        "PersistentVolumeClaim": f"PVC {acc.claim!r}",
        "assumption": f"claim {acc.claim!r} (assumed)",
    }
    return kinds.get(acc.source_kind or "", f"claim {acc.claim!r}")


def _rwx_classes(ctx: Context) -> list[str]:
    """Storage classes in view whose StorageProfile (spec, else status) or assumed claim
    property sets offer ReadWriteMany."""
    memo = ctx.cluster.memo
    if "rwx-classes" not in memo:
        from kvlint import storage_capabilities as caps

        names: set[str] = set()
        profiled: set[str] = set()
        for prof in ctx.inv.kind("StorageProfile"):
            sets = as_list(get(prof.data, "spec", "claimPropertySets")) or as_list(
                get(prof.data, "status", "claimPropertySets")
            )
            if sets:
                profiled.add(prof.name)
            if any(isinstance(cs, dict) and "ReadWriteMany" in as_list(cs.get("accessModes")) for cs in sets):
                names.add(prof.name)
        for sc in ctx.inv.kind("StorageClass"):
            provisioner = sc.data.get("provisioner")
            if sc.name in profiled or not isinstance(provisioner, str):
                continue
            params = {str(k): str(v) for k, v in as_dict(sc.data.get("parameters")).items()}
            if any(mode == "ReadWriteMany" for mode, _ in caps.capabilities(provisioner, params) or ()):
                names.add(sc.name)
        for name, claim_sets in ctx.config.storage_classes.items():
            if any("ReadWriteMany" in cs.access_modes for cs in claim_sets):
                names.add(name)
        memo["rwx-classes"] = sorted(names)
    classes: list[str] = memo["rwx-classes"]
    return classes


def _rwx_fix(acc: Access, ctx: Context) -> str:
    if acc.source_kind in ("template", "DataVolume"):
        classes = _rwx_classes(ctx)
        if len(classes) == 1:
            sc, which = classes[0], "it offers RWX (its StorageProfile or CDI's provisioner table)"
        elif classes:
            shown = ", ".join(classes[:4]) + (", ..." if len(classes) > 4 else "")
            sc, which = "<class>", f"one of {shown}: they offer RWX"
        else:
            sc, which = "<class>", "a class that offers RWX; none in view does"
        return (
            "request shared storage in the DataVolume spec:\n"
            f"  storage: {{accessModes: [ReadWriteMany], storageClassName: {sc}}}   # {which}\n"
            "(or set the StorageProfile's claimPropertySets so that RWX comes first)"
        )
    return (
        "use a PVC with 'accessModes: [ReadWriteMany]' on a storage class that supports it "
        "(e.g. Ceph RBD block, CephFS, NFS); changing a bound PVC needs a new PVC and a volume "
        "migration (spec.updateVolumesStrategy: Migration)"
    )


@workload("KV101", "KV102")
def volume_access_modes(ctx: Context, w: Workload) -> Iterator[Finding]:
    fs = _fs_names(w)
    for i, vol in enumerate_dicts(w.spec.get("volumes")):
        ref = claim_name(vol)
        if ref is None:
            continue
        source, name = ref
        vname = vol.get("name") if isinstance(vol.get("name"), str) else name
        acc = ctx.resolver.claim(w, name)
        path = w.sp("volumes", i, source)
        virtiofs = vname in fs
        what = f"virtiofs filesystem {vname!r}" if virtiofs else f"volume {vname!r}"
        if acc.shared is False:
            related = []
            if acc.decided_by is not None:
                dobj, dpath = acc.decided_by
                related.append(dobj.loc(dpath, label=f"access modes decided by {dobj.display()}"))
            msg = (
                f"{what} uses {_describe(acc)} with access modes [{acc.short_modes()}]: live "
                "migration requires every PVC to be shared (ReadWriteMany)"
            )
            if acc.decided_by is not None and acc.decided_by[0] is not w.obj:
                msg += f" (decided by {acc.decided_by[0].display()})"
            if virtiofs:
                msg += "; a virtiofs PVC needs RWX like any other PVC"
            yield ctx.finding(
                "KV101",
                w.obj,
                path,
                msg,
                fix=_rwx_fix(acc, ctx),
                related=related,
                chain=[s.as_dict() for s in acc.steps],
                volume=vname,
            )
        elif acc.shared is None and not (acc.invalid and acc.source_kind in ("template", "DataVolume")):
            yield ctx.finding(
                "KV102",
                w.obj,
                path,
                f"cannot tell whether {what} is shared: {acc.unknown}; KubeVirt needs ReadWriteMany to live-migrate",
                chain=[s.as_dict() for s in acc.steps],
                volume=vname,
            )


@workload("KV103")
def host_disk(ctx: Context, w: Workload) -> Iterator[Finding]:
    for i, vol in enumerate_dicts(w.spec.get("volumes")):
        hd = vol.get("hostDisk")
        if not isinstance(hd, dict):
            continue
        if hd.get("shared") is True:
            continue
        yield ctx.finding(
            "KV103",
            w.obj,
            w.sp("volumes", i, "hostDisk") + (("shared",) if "shared" in hd else ()),
            f"volume {vol.get('name')!r} is a hostDisk that is not marked shared: "
            "cannot migrate VMI with non-shared HostDisk",
        )


@workload("KV104")
def virtiofs_old(ctx: Context, w: Workload) -> Iterator[Finding]:
    if versions.holds("virtiofs-migratable", ctx.cluster.version):
        return
    for i, f in enumerate_dicts(w.devices().get("filesystems")):
        if isinstance(f.get("virtiofs"), dict):
            yield ctx.finding(
                "KV104",
                w.obj,
                w.sp("domain", "devices", "filesystems", i),
                f"filesystem {f.get('name')!r} uses virtiofs, which blocks live migration before "
                f"KubeVirt v1.5 (target v{ctx.cluster.version[0]}.{ctx.cluster.version[1]})",
            )


def _dv_problems(spec: dict[str, object]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    pvc = spec.get("pvc")
    storage = spec.get("storage")
    if isinstance(pvc, dict) and isinstance(storage, dict):
        yield ("storage",), "both spec.pvc and spec.storage are set: Duplicate storage definition"
        return
    if not isinstance(pvc, dict) and not isinstance(storage, dict):
        yield (), "neither spec.pvc nor spec.storage is set: Missing Data volume PVC"
        return
    if isinstance(pvc, dict):
        modes = as_list(pvc.get("accessModes"))
        if not modes:
            yield ("pvc",), "spec.pvc has no accessModes: at least 1 access mode is required"
        elif len(modes) > 1:
            yield ("pvc", "accessModes"), "spec.pvc lists several accessModes: PVC multiple accessModes"
    for key in ("pvc", "storage"):
        block = spec.get(key)
        if not isinstance(block, dict):
            continue
        for j, m in enumerate(as_list(block.get("accessModes"))):
            if m not in ACCESS_MODES:
                yield (key, "accessModes", j), (f"unknown access mode {m!r} (one of {', '.join(ACCESS_MODES)})")
    yield from _dv_source_problems(spec)


def _dv_source_problems(spec: dict[str, object]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Where the data comes from: a source, a sourceRef, or external population (the
    claim's dataSource / dataSourceRef), exactly one of them (KubeVirt v1.9.0
    pkg/storage/admitters/data-volume-template.go validateDataVolume, since v1.4.0; CDI v1.66.0
    pkg/apiserver/webhooks/datavolume-validate.go)."""
    target = spec.get("pvc") if isinstance(spec.get("pvc"), dict) else spec.get("storage")
    block = as_dict(target)
    external = block.get("dataSource") is not None or block.get("dataSourceRef") is not None
    source, source_ref = spec.get("source"), spec.get("sourceRef")
    if external and (source is not None or source_ref is not None):
        yield (
            (("source",) if source is not None else ("sourceRef",)),
            ("External population is incompatible with Source and SourceRef"),
        )
    elif not external and source is None and source_ref is None:
        yield (
            (),
            (
                "no source, sourceRef or dataSource: Data volume should have either Source, SourceRef, "
                "or be externally populated"
            ),
        )
    elif not external and source is not None and source_ref is not None:
        yield ("sourceRef",), "both source and sourceRef are set: Data volume should have either Source or SourceRef"


@workload("KV105", "KV106")
def data_volume_templates(ctx: Context, w: Workload) -> Iterator[Finding]:
    if w.dvt_path is None:
        return
    used = set()
    for _, vol in enumerate_dicts(w.spec.get("volumes")):
        ref = claim_name(vol)
        if ref is not None:
            used.add(ref[1])
    for i, dvt in w.dvts():
        base = w.dvt_path + (i,)
        name = get(dvt, "metadata", "name")
        if not isinstance(name, str) or not name:
            yield ctx.finding(
                "KV106",
                w.obj,
                base,
                "dataVolumeTemplate has no metadata.name",
                fix="give the template a metadata.name and reference it from a volume",
            )
            continue
        if name not in used:
            yield ctx.finding(
                "KV105",
                w.obj,
                base + ("metadata", "name"),
                f"dataVolumeTemplate {name!r} is not referenced by any volume: KubeVirt rejects "
                f"the VM (DataVolumeTemplate entry spec.dataVolumeTemplate[{i}] must be "
                "referenced in the VMI template's 'volumes' list)",
                fix=(
                    f"add a volume '- name: {name}\n  dataVolume:\n    name: {name}' to the "
                    "template's volumes (and a matching disk), or delete the template"
                ),
            )
        ns = get(dvt, "metadata", "namespace")
        if isinstance(ns, str) and ns and w.obj.namespace and ns != w.obj.namespace:
            yield ctx.finding(
                "KV106",
                w.obj,
                base + ("metadata", "namespace"),
                f"Embedded DataVolume namespace {ns} differs from VM namespace {w.obj.namespace}",
                fix="remove metadata.namespace from the template (it inherits the VM's)",
            )
        spec = as_dict(dvt.get("spec"))
        for sub, msg in _dv_problems(spec):
            yield ctx.finding("KV106", w.obj, base + ("spec",) + sub, f"dataVolumeTemplate {name!r}: {msg}")


@objects(("DataVolume",), "KV106")
def data_volume_object(ctx: Context, obj: K8sObject) -> Iterator[Finding]:
    if obj.group != "cdi.kubevirt.io":
        return
    spec = as_dict(obj.data.get("spec"))
    for sub, msg in _dv_problems(spec):
        yield ctx.finding("KV106", obj, ("spec",) + sub, f"DataVolume {obj.name!r}: {msg}")


@workload("KV107")
def backend_storage(ctx: Context, w: Workload) -> Iterator[Finding]:
    if ctx.cluster.version[:2] != (1, 3):
        return
    dev = w.devices()
    tpm = as_dict(dev.get("tpm"))
    efi = as_dict(get(w.spec, "domain", "firmware", "bootloader", "efi"))
    for flag, path in (
        (tpm.get("persistent") is True, w.sp("domain", "devices", "tpm", "persistent")),
        (efi.get("persistent") is True, w.sp("domain", "firmware", "bootloader", "efi", "persistent")),
    ):
        if flag:
            yield ctx.finding(
                "KV107",
                w.obj,
                path,
                "persistent TPM/EFI state lives on a backend-storage PVC, which KubeVirt v1.3 "
                "requires to be ReadWriteMany for live migration (Backend storage PVC is not RWX "
                "otherwise)",
            )
            return


def block_migration_volumes(w: Workload) -> list[tuple[int, str, str]]:
    """(index, name, source) of the volumes whose local files a live migration copies
    (BlockMigration): every non-PVC source except virtiofs-shared volumes and read-only
    CD-ROMs. PVC, DataVolume and hostDisk volumes never turn it on (a shared hostDisk is
    migrated as is; a non-shared one is KV103)."""
    fs = _fs_names(w)
    cdroms = set()
    for _, d in enumerate_dicts(w.devices().get("disks")):
        cd = d.get("cdrom")
        if isinstance(cd, dict) and cd.get("readOnly") is not False:
            cdroms.add(name_of(d))
    out = []
    for i, vol in enumerate_dicts(w.spec.get("volumes")):
        name = name_of(vol)
        if name is None or name in fs or name in cdroms:
            continue
        source = next((s for s in LOCAL_SOURCES if s in vol), None)
        if source is not None:
            out.append((i, name, source))
    return out


@workload("KV108")
def block_migration(ctx: Context, w: Workload) -> Iterator[Finding]:
    local = block_migration_volumes(w)
    if local:
        yield ctx.finding(
            "KV108",
            w.obj,
            w.sp("volumes", local[0][0]),
            "live migration will copy local disks to the target (BlockMigration): "
            + ", ".join(f"{name} ({source})" for _, name, source in local),
        )


@workload("KV109")
def persistent_reservation(ctx: Context, w: Workload) -> Iterator[Finding]:
    for i, d in enumerate_dicts(w.devices().get("disks")):
        lun = d.get("lun")
        if not (isinstance(lun, dict) and lun.get("reservation") is True):
            continue
        path = w.sp("domain", "devices", "disks", i, "lun", "reservation")
        if not versions.holds("persistent-reservation-migratable", ctx.cluster.version):
            yield ctx.finding(
                "KV109",
                w.obj,
                path,
                f"disk {d.get('name')!r} uses SCSI persistent reservation, which blocks live "
                "migration before KubeVirt v1.9",
                blocks=True,
            )
        elif get(w.obj.data, *_vm_spec_path(w), "updateVolumesStrategy") == "Migration":
            yield ctx.finding(
                "KV109",
                w.obj,
                path,
                f"disk {d.get('name')!r} uses SCSI persistent reservation: the VM is live-migratable "
                "but volume (storage) migration is refused (StorageLiveMigratable is False)",
                severity="warning",
                fix="drop lun.reservation before migrating volumes, or migrate the storage offline",
            )


def _vm_spec_path(w: Workload) -> tuple[str, ...]:
    """Where the VirtualMachine spec sits (a pool wraps it in virtualMachineTemplate)."""
    return ("spec", "virtualMachineTemplate", "spec") if w.obj.kind == "VirtualMachinePool" else ("spec",)


@workload("KV110")
def disk_cache(ctx: Context, w: Workload) -> Iterator[Finding]:
    for i, d in enumerate_dicts(w.devices().get("disks")):
        cache = d.get("cache")
        base = w.sp("domain", "devices", "disks", i)
        shared_bad = d.get("shareable") is True and cache not in (None, "none")
        if cache in ("writethrough", "writeback") and not shared_bad:
            yield ctx.finding(
                "KV110",
                w.obj,
                base + ("cache",),
                f"disk {d.get('name')!r} sets cache: {cache}; libvirt may refuse the migration as "
                "unsafe unless migrations.unsafeMigrationOverride is true (libvirt behaviour, "
                "inferred by KubeVirt's override flag)",
            )
        if shared_bad:
            # v1.9.0 pkg/virt-launcher/virtwrap/converter/converter.go Convert_v1_Disk_To_api_Disk
            yield ctx.finding(
                "KV110",
                w.obj,
                base + ("shareable",),
                f"disk {d.get('name')!r} is shareable with cache: {cache}: a sharable disk requires "
                "cache = none, so virt-launcher cannot build the domain and the VM never starts",
                fix="set 'cache: none' on the shareable disk (or leave cache unset: KubeVirt then uses none)",
                severity="error",
            )
