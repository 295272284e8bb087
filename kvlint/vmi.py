"""The effective VMI: the VMI spec KubeVirt builds from a VM, its instancetype and preference.

A VirtualMachine (or a pool's VM template) that names ``spec.instancetype`` and/or
``spec.preference`` does not run its template as written: virt-controller applies the
instancetype's values and then the preference's "preferred" values to the template when it
creates the VMI (``pkg/instancetype/apply`` ``ApplyToVMI`` and
``pkg/instancetype/preference/apply`` ``Apply``, v1.9.0). kvlint's checks read
``Workload.spec``, which is this effective spec; ``Workload.template_spec`` is the template
as written.

Where the objects come from, first hit wins:

1. ``spec.instancetype.revisionName`` (or ``status.instancetypeRef.controllerRevisionRef``):
   the ``ControllerRevision`` in the VM's namespace, whose ``data`` holds the instancetype
   object KubeVirt stored when the VM was first started (``find.revisionFinder``);
2. the object of that kind and name in view (linted files, ``--cluster-state``, context);
3. for the cluster-wide kinds, the common instancetypes and preferences virt-operator
   deploys at the target KubeVirt version (``kvlint/data/common-instancetypes.json``);
4. otherwise the object is unknown: the VM's own template is judged, and rule KV314 says
   what to supply.

Only the fields that exist in the instancetype / preference kind at the target release are
applied (the per-release schemas' ranges; the API server prunes the others when it stores
the object).

Every value taken from an instancetype or preference records its origin (object and path;
for the bundled table the VM's ``spec.instancetype`` / ``spec.preference`` node), so a
finding about such a value points at the object that supplied it. Fields the VM sets and
the instancetype also sets are the conflicts KubeVirt rejects at admission (rule KV313);
the VM's value is kept for the other checks.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any

from kvlint.tree import as_dict, as_list, enumerate_dicts, get, path_str

if TYPE_CHECKING:
    from kvlint.inventory import Inventory, K8sObject, Workload
    from kvlint.models import Finding, Location
    from kvlint.parse import Path

DATA_FILE = FsPath(__file__).resolve().parent / "data" / "common-instancetypes.json"

INSTANCETYPE = "VirtualMachineInstancetype"
CLUSTER_INSTANCETYPE = "VirtualMachineClusterInstancetype"
PREFERENCE = "VirtualMachinePreference"
CLUSTER_PREFERENCE = "VirtualMachineClusterPreference"

#: ``strings.ToLower(kind)`` -> kind (``find/spec.go``: singular, plural, or empty for the
#: cluster-wide kind).
_KINDS: dict[str, dict[str, str]] = {
    "instancetype": {
        "": CLUSTER_INSTANCETYPE,
        "virtualmachineclusterinstancetype": CLUSTER_INSTANCETYPE,
        "virtualmachineclusterinstancetypes": CLUSTER_INSTANCETYPE,
        "virtualmachineinstancetype": INSTANCETYPE,
        "virtualmachineinstancetypes": INSTANCETYPE,
    },
    "preference": {
        "": CLUSTER_PREFERENCE,
        "virtualmachineclusterpreference": CLUSTER_PREFERENCE,
        "virtualmachineclusterpreferences": CLUSTER_PREFERENCE,
        "virtualmachinepreference": PREFERENCE,
        "virtualmachinepreferences": PREFERENCE,
    },
}


@dataclass(slots=True)
class Origin:
    """Where one value of the effective spec came from."""

    #: The object holding the value; ``None`` for the bundled common instancetypes.
    obj: K8sObject | None
    #: The value's path in ``obj`` (or in the bundled object).
    path: Path
    #: "VirtualMachineClusterInstancetype cx1.large" (and, for the table, its provenance).
    label: str
    #: The VM's node naming the object (``spec.instancetype``), from the workload's root.
    ref: Path
    #: Where a bundled object was read from (empty for an object in view).
    prov: str = ""


@dataclass(slots=True)
class Source:
    """A resolved instancetype or preference."""

    role: str  # "instancetype" | "preference"
    kind: str
    name: str
    obj: K8sObject | None
    #: Path of the spec in ``obj`` (``spec``, or ``data.spec`` in a ControllerRevision).
    base: Path
    spec: dict[str, Any]
    label: str
    ref: Path
    note: str = ""
    prov: str = ""

    def origin(self, *keys: Any) -> Origin:
        return Origin(self.obj, self.base + keys, self.label, self.ref, self.prov)


@dataclass(slots=True)
class Unknown:
    role: str
    kind: str
    name: str
    ref: Path
    why: str


@dataclass(slots=True)
class EffectiveVMI:
    spec: dict[str, Any]
    meta: dict[str, Any]
    #: Path from the workload object's root (``spec.template.spec...``) -> origin.
    origins: dict[Path, Origin] = field(default_factory=dict)
    instancetype: Source | None = None
    preference: Source | None = None
    unknown: list[Unknown] = field(default_factory=list)
    #: (path in the workload object of the VM's value, origin of the instancetype's value).
    conflicts: list[tuple[Path, Origin]] = field(default_factory=list)
    #: Preference requirements the VM does not meet: (origin of the requirement, KubeVirt's
    #: message, path in the workload object of what falls short: the VM's
    #: ``spec.instancetype`` or a template field).
    unmet: list[tuple[Origin, str, Path]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def origin_of(self, path: Path) -> tuple[Origin, Path] | None:
        """The origin of the value at ``path`` (or of its nearest ancestor that has one),
        with the rest of the path below it."""
        if not self.origins:
            return None
        for n in range(len(path), 0, -1):
            o = self.origins.get(path[:n])
            if o is not None:
                return o, path[n:]
        return None


# -- the bundled common instancetypes -----------------------------------------------


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def common(role: str, name: str, version: tuple[int, int]) -> tuple[dict[str, Any], str] | None:
    """The spec of a common cluster instancetype / preference virt-operator deploys at
    ``version`` (the newest table row at or below it), with its provenance."""
    table = _table()
    rows = sorted((tuple(int(p) for p in v.split(".")), row) for v, row in as_dict(table.get("versions")).items())
    row: dict[str, Any] | None = None
    for v, r in rows:
        if v <= version:
            row = r
    if row is None:
        return None
    key = as_dict(row.get(role + "s")).get(name)
    if not isinstance(key, str):
        return None
    spec = as_dict(table["specs"]).get(key)
    if not isinstance(spec, dict):
        return None
    prov = f"common-instancetypes {row.get('bundle')} bundled with KubeVirt {row.get('tag')}"
    return copy.deepcopy(spec), prov


def common_names(role: str, version: tuple[int, int]) -> list[str]:
    table = _table()
    best: dict[str, Any] = {}
    for v, r in sorted((tuple(int(p) for p in k.split(".")), r) for k, r in table["versions"].items()):
        if v <= version:
            best = r
    return sorted(as_dict(best.get(role + "s")))


# -- resolution -----------------------------------------------------------------------


def _vm_spec_path(w: Workload) -> Path | None:
    """Path of the VirtualMachine spec that may name an instancetype (VM, pool)."""
    if w.obj.kind == "VirtualMachine":
        return ("spec",)
    if w.obj.kind == "VirtualMachinePool":
        return ("spec", "virtualMachineTemplate", "spec")
    return None


def _resolve(
    inv: Inventory, w: Workload, vm_path: Path, role: str, version: tuple[int, int], deployed: bool
) -> Source | Unknown | None:
    matcher = get(w.obj.data, *vm_path, role)
    if not isinstance(matcher, dict):
        return None
    ref = vm_path + (role,)
    raw_kind = matcher.get("kind")
    kind = _KINDS[role].get(str(raw_kind or "").lower()) if raw_kind is None or isinstance(raw_kind, str) else None
    name = matcher.get("name")
    if kind is None:
        return Unknown(role, str(raw_kind), str(name), ref + ("kind",), f"kind {raw_kind!r} is not a kind of {role}")
    if not isinstance(name, str) or not name:
        infer = matcher.get("inferFromVolume")
        inferred = _infer(inv, w, vm_path, infer, role, version) if isinstance(infer, str) else None
        if not isinstance(inferred, tuple):
            if isinstance(inferred, str):
                why = (
                    f"the {role} is inferred from volume {infer!r} when the VM is created, and KubeVirt "
                    f"v{version[0]}.{version[1]} cannot infer it: {inferred} (the VM is rejected, or with "
                    "inferFromVolumeFailurePolicy: Ignore created without it)"
                )
            elif isinstance(infer, str):
                why = (
                    f"the {role} is inferred from volume {infer!r} when the VM is created, and the labels "
                    "it is read from are not in view"
                )
            else:
                why = f"spec.{role} names no {role}"
            return Unknown(role, kind, "", ref, why)
        name, inferred_kind = inferred
        kind = _KINDS[role].get(inferred_kind.lower(), kind)
    ns = w.obj.ns
    # 1. The ControllerRevision the VM is pinned to.
    rev_name = matcher.get("revisionName")
    status_ref = "instancetypeRef" if role == "instancetype" else "preferenceRef"
    if not isinstance(rev_name, str) or not rev_name:
        rev_name = get(w.obj.data, "status", status_ref, "controllerRevisionRef", "name")
    note = ""
    if isinstance(rev_name, str) and rev_name:
        rev = inv.lookup("ControllerRevision", ns, rev_name)
        spec = get(rev.data, "data", "spec") if rev is not None else None
        if rev is not None and isinstance(spec, dict):
            return Source(
                role,
                kind,
                name,
                rev,
                ("data", "spec"),
                spec,
                f"ControllerRevision {ns}/{rev_name} ({kind} {name})",
                ref,
            )
        note = (
            f"ControllerRevision {rev_name} (the {role} as stored when the VM first started) is not in view; "
            f"the current {kind} {name} is used instead"
        )
    # 2. The object in view.
    obj = inv.lookup(kind, ns, name)
    if obj is not None:
        spec = obj.data.get("spec")
        return Source(role, kind, name, obj, ("spec",), as_dict(spec), obj.display(), ref, note)
    # 3. The bundled common cluster instancetypes / preferences.
    if kind in (CLUSTER_INSTANCETYPE, CLUSTER_PREFERENCE):
        hit = common(role, name, version)
        if hit is not None:
            if deployed:
                spec, prov = hit
                return Source(role, kind, name, None, ("spec",), spec, f"{kind} {name}", ref, note, prov)
            return Unknown(
                role,
                kind,
                name,
                ref,
                f"{kind} {name} is one of the common {role}s, which virt-operator does not deploy "
                "here (before KubeVirt v1.4 only with the CommonInstancetypesDeploymentGate feature "
                "gate; from v1.4 unless commonInstancetypesDeployment.enabled is false)",
            )
    where = (
        "in the cluster" if kind in (CLUSTER_INSTANCETYPE, CLUSTER_PREFERENCE) else f"in namespace {ns or 'default'}"
    )
    return Unknown(
        role,
        kind,
        name,
        ref,
        f"{kind} {name} is not in view (and not a common {role} of KubeVirt "
        f"v{version[0]}.{version[1]}); it must exist {where}",
    )


#: Labels a volume's source carries to name the VM's defaults (``instancetype`` API
#: ``DefaultInstancetypeLabel`` etc.).
_INFER_LABELS = {
    "instancetype": (
        "instancetype.kubevirt.io/default-instancetype",
        "instancetype.kubevirt.io/default-instancetype-kind",
    ),
    "preference": ("instancetype.kubevirt.io/default-preference", "instancetype.kubevirt.io/default-preference-kind"),
}


def _infer(
    inv: Inventory, w: Workload, vm_path: Path, volume: str, role: str, version: tuple[int, int]
) -> tuple[str, str] | str | None:
    """``inferFromVolume`` as KubeVirt resolves it when the VM is created (v1.9.0
    pkg/instancetype/infer/volume.go fromVolumes and the functions it calls): the
    default-instancetype / -preference labels of the volume's PVC; or, for a DataVolume
    volume, of its dataVolumeTemplate's source (source.pvc: the PVC; source.snapshot: the
    VolumeSnapshot; sourceRef: the DataSource, else the DataSource's own source PVC or
    VolumeSnapshot), or of the DataVolume itself (its labels, else the same sources of its
    spec; a DataVolume that no longer exists: the PVC of that name). VolumeSnapshots are
    followed from v1.9.0 only (before, such a source cannot be inferred from).

    Returns (name, kind label or ""); a string saying why KubeVirt cannot infer anything
    from objects that are in view; or ``None`` when an object on the way is not in view."""
    name_label, kind_label = _INFER_LABELS[role]
    ns = w.obj.ns
    snapshots = version >= (1, 9)

    def from_labels(obj: K8sObject) -> tuple[str, str] | None:
        labels = obj.labels()
        value = labels.get(name_label)
        if not isinstance(value, str):
            return None
        kind_value = labels.get(kind_label)
        return value, kind_value if isinstance(kind_value, str) else ""

    def from_object(kind: str, namespace: Any, name: Any, vm_ns: bool = False) -> tuple[str, str] | str | None:
        """fromPVC / fromVolumeSnapshot: the object's labels (a source's namespace is used
        as written: one left out is looked up nowhere)."""
        if not isinstance(name, str) or not isinstance(namespace, str) or not (namespace or vm_ns):
            return None
        obj = inv.lookup(kind, namespace, name)
        if obj is None:
            return None
        return from_labels(obj) or f"{kind} {namespace}/{name} has no {name_label} label"

    def from_data_source(namespace: str, name: Any) -> tuple[str, str] | str | None:
        obj = inv.lookup("DataSource", namespace, name) if isinstance(name, str) else None
        if obj is None:
            return None
        hit = from_labels(obj)
        if hit is not None:
            return hit
        src = as_dict(get(obj.data, "spec", "source"))
        pvc = as_dict(src.get("pvc"))
        if pvc:
            return from_object("PersistentVolumeClaim", pvc.get("namespace"), pvc.get("name"))
        snap = as_dict(src.get("snapshot"))
        if snap and snapshots:
            return from_object("VolumeSnapshot", snap.get("namespace"), snap.get("name"))
        return f"DataSource {namespace}/{name} has no {name_label} label and no source " + (
            "PVC or VolumeSnapshot" if snapshots else "PVC (VolumeSnapshots are followed from KubeVirt v1.9)"
        )

    def from_dv_spec(spec: dict[str, Any], what: str) -> tuple[str, str] | str | None:
        source = as_dict(spec.get("source"))
        pvc = as_dict(source.get("pvc"))
        if pvc:
            return from_object("PersistentVolumeClaim", pvc.get("namespace"), pvc.get("name"))
        snap = as_dict(source.get("snapshot"))
        if snap and snapshots:
            return from_object("VolumeSnapshot", snap.get("namespace"), snap.get("name"))
        ref = as_dict(spec.get("sourceRef"))
        if ref:
            if ref.get("kind") == "DataSource":
                namespace = ref.get("namespace")
                return from_data_source(namespace if isinstance(namespace, str) else ns, ref.get("name"))
            return f"{what} has a sourceRef of kind {ref.get('kind')!r}, which is not inferred from"
        return f"{what} has no source KubeVirt infers from (a PVC, " + (
            "a VolumeSnapshot or a DataSource)" if snapshots else "or a DataSource; VolumeSnapshots from v1.9)"
        )

    for _, vol in enumerate_dicts(w.template_spec.get("volumes")):
        if vol.get("name") != volume:
            continue
        if isinstance(vol.get("persistentVolumeClaim"), dict):
            return from_object("PersistentVolumeClaim", ns, get(vol, "persistentVolumeClaim", "claimName"), True)
        if not isinstance(vol.get("dataVolume"), dict):
            return f"volume {volume!r} is neither a persistentVolumeClaim nor a dataVolume"
        dv = get(vol, "dataVolume", "name")
        if not isinstance(dv, str):
            return None
        for _, dvt in enumerate_dicts(get(w.obj.data, *vm_path, "dataVolumeTemplates")):
            if get(dvt, "metadata", "name") == dv:
                return from_dv_spec(as_dict(dvt.get("spec")), f"dataVolumeTemplate {dv}")
        obj = inv.lookup("DataVolume", ns, dv)
        if obj is not None:
            return from_labels(obj) or from_dv_spec(as_dict(obj.data.get("spec")), f"DataVolume {dv}")
        # A DataVolume that is gone (garbage-collected): the PVC of that name.
        return from_object("PersistentVolumeClaim", ns, dv, True)
    return f"the VM has no volume {volume!r}"


#: The API version whose schema lists the fields of the instancetype / preference kinds
#: (KubeVirt converts the older versions to it).
_SPEC_API = "instancetype.kubevirt.io/v1beta1"


@functools.lru_cache(maxsize=1024)
def _field_range(kind: str, path: Path) -> str | None:
    from kvlint import schema_validate as sv

    return sv.field_releases(_SPEC_API, kind, path)


def _gate(spec: dict[str, Any], kind: str, version: tuple[int, int]) -> dict[str, Any]:
    """``spec`` without the fields that do not exist in ``kind`` at ``version``, according to
    the per-release schemas (their x-kvlint-releases ranges): the API server prunes unknown
    fields of these CRDs when the object is stored, so KubeVirt never applies them there."""
    from kvlint import schema_validate as sv

    release = sv.modelled_release(version)

    def walk(node: dict[str, Any], path: Path) -> dict[str, Any]:
        out: dict[str, Any] | None = None
        for key, value in node.items():
            sub = path + (key,)
            rng = _field_range(kind, sub) if isinstance(key, str) else None
            if rng is not None and not sv.in_ranges(rng, release):
                new: Any = _DROP
            elif isinstance(value, dict):
                new = walk(value, sub)
            else:
                new = value
            if new is not value and out is None:
                out = dict(node)
            if out is not None:
                if new is _DROP:
                    out.pop(key, None)
                else:
                    out[key] = new
        return node if out is None else out

    return walk(spec, ("spec",))


_DROP = object()


# -- copy-on-write helpers ------------------------------------------------------------


class _Tree:
    """A shallow copy of the template spec whose dicts/lists are copied before a write."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root: dict[str, Any] = dict(root)
        self._owned: set[int] = {id(self.root)}

    def node(self, *keys: Any) -> Any:
        """The container at ``keys`` (a mapping is created, or replaces a value of the wrong
        type, where a string key needs one), owned."""
        cur: Any = self.root
        for i, k in enumerate(keys):
            child = cur[k] if isinstance(cur, list) else cur.get(k)
            want_list = i + 1 < len(keys) and isinstance(keys[i + 1], int)
            if isinstance(child, list) and want_list:
                new: Any = child if id(child) in self._owned else list(child)
            elif isinstance(child, dict) and not want_list:
                new = child if id(child) in self._owned else dict(child)
            else:
                new = [] if want_list else {}
            if new is not child:
                self._owned.add(id(new))
                cur[k] = new
            cur = new
        return cur


def _set(t: _Tree, keys: Path, value: Any) -> None:
    parent = t.node(*keys[:-1])
    parent[keys[-1]] = copy.deepcopy(value)


# -- applying -------------------------------------------------------------------------


def _is_set(value: Any) -> bool:
    return value is not None and value != "" and value != 0 and value is not False


def _apply_instancetype(
    eff: EffectiveVMI, t: _Tree, meta: _Tree, w: Workload, src: Source, sp: Path, mp: Path, topology: Any
) -> None:
    it = src.spec
    vmi = t.root

    def put(keys: Path, value: Any, *src_keys: Any) -> None:
        _set(t, keys, value)
        eff.origins[sp + keys] = src.origin(*src_keys)

    def clash(keys: Path, *src_keys: Any) -> None:
        eff.conflicts.append((sp + keys, src.origin(*src_keys)))

    # nodeSelector, schedulerName (apply/nodeselector.go, scheduler.go), annotations: v1.1+
    from kvlint import versions

    inv = w.inv
    newer = inv is None or versions.holds("instancetype-nodeselector-annotations", inv.target_version)
    if newer and isinstance(it.get("nodeSelector"), dict):
        if vmi.get("nodeSelector") is not None:
            clash(("nodeSelector",), "nodeSelector")
        else:
            put(("nodeSelector",), it["nodeSelector"], "nodeSelector")
    if newer and _is_set(it.get("schedulerName")):
        if _is_set(vmi.get("schedulerName")):
            clash(("schedulerName",), "schedulerName")
        else:
            put(("schedulerName",), it["schedulerName"], "schedulerName")
    # cpu (apply/cpu.go)
    cpu_it = as_dict(it.get("cpu"))
    cpu = as_dict(get(vmi, "domain", "cpu"))
    res = as_dict(get(vmi, "domain", "resources"))
    cpu_clash: list[tuple[Path, tuple[Any, ...]]] = []
    for kind in ("requests", "limits"):
        if "cpu" in as_dict(res.get(kind)):
            cpu_clash.append((("domain", "resources", kind, "cpu"), ("cpu", "guest")))
    for k in ("sockets", "cores", "threads"):
        if _is_set(cpu.get(k)):
            cpu_clash.append((("domain", "cpu", k), ("cpu", "guest")))
    pairs = (
        ("model", "model"),
        ("dedicatedCpuPlacement", "dedicatedCPUPlacement"),
        ("isolateEmulatorThread", "isolateEmulatorThread"),
        ("numa", "numa"),
        ("realtime", "realtime"),
    )
    for vk, ik in pairs:
        if cpu_it.get(ik) is not None and _is_set(cpu.get(vk)):
            cpu_clash.append((("domain", "cpu", vk), ("cpu", ik)))
    if cpu_clash:
        for keys, src_keys in cpu_clash:
            clash(keys, *src_keys)
    elif cpu_it:
        for vk, ik in pairs + (("maxSockets", "maxSockets"),):
            if cpu_it.get(ik) is not None:
                put(("domain", "cpu", vk), cpu_it[ik], "cpu", ik)
        guest = cpu_it.get("guest")
        if isinstance(guest, int) and not isinstance(guest, bool):
            for k, v in _topology(guest, topology).items():
                put(("domain", "cpu", k), v, "cpu", "guest")
    # memory (apply/memory.go)
    mem_it = as_dict(it.get("memory"))
    mem = as_dict(get(vmi, "domain", "memory"))
    mem_clash: Path | None = None
    if mem.get("guest") is not None:
        mem_clash = ("domain", "memory", "guest")
    elif mem.get("hugepages") is not None and mem_it.get("hugepages") is not None:
        mem_clash = ("domain", "memory", "hugepages")
    elif mem.get("maxGuest") is not None and mem_it.get("maxGuest") is not None:
        mem_clash = ("domain", "memory", "maxGuest")
    elif "memory" in as_dict(res.get("requests")):
        mem_clash = ("domain", "resources", "requests", "memory")
    elif "memory" in as_dict(res.get("limits")):
        mem_clash = ("domain", "resources", "limits", "memory")
    if mem_clash is not None and mem_it:
        clash(mem_clash, "memory", mem_clash[-1] if mem_clash[-1] in mem_it else "guest")
    elif mem_it:
        for k in ("guest", "hugepages", "maxGuest"):
            if mem_it.get(k) is not None:
                put(("domain", "memory", k), mem_it[k], "memory", k)
    # ioThreads, ioThreadsPolicy, launchSecurity, gpus, hostDevices
    pool = get(it, "ioThreads", "supplementalPoolThreadCount")
    if pool is not None:
        if get(vmi, "domain", "ioThreads", "supplementalPoolThreadCount") is not None:
            clash(("domain", "ioThreads", "supplementalPoolThreadCount"), "ioThreads", "supplementalPoolThreadCount")
        else:
            put(
                ("domain", "ioThreads", "supplementalPoolThreadCount"), pool, "ioThreads", "supplementalPoolThreadCount"
            )
    for vkeys, ikey, empty in (
        (("domain", "ioThreadsPolicy"), "ioThreadsPolicy", None),
        (("domain", "launchSecurity"), "launchSecurity", None),
        (("domain", "devices", "gpus"), "gpus", []),
        (("domain", "devices", "hostDevices"), "hostDevices", []),
    ):
        value = it.get(ikey)
        if value is None or value == empty:
            continue
        mine = get(vmi, *vkeys)
        if mine is not None and mine != empty:
            clash(vkeys, ikey)
        else:
            put(vkeys, value, ikey)
    # annotations (apply/annotations.go): onto the VMI's metadata
    for key, value in as_dict(it.get("annotations") if newer else None).items():
        existing = as_dict(meta.root.get("annotations")).get(key)
        if existing is not None:
            if existing != value:
                eff.conflicts.append((mp + ("annotations", key), src.origin("annotations", key)))
            continue
        meta.node("annotations")[key] = value
        eff.origins[mp + ("annotations", key)] = src.origin("annotations", key)


def _check_requirements(
    eff: EffectiveVMI, it: Source | None, pref: Source, w: Workload, version: tuple[int, int]
) -> None:
    """The preference's ``spec.requirements`` as the VM admission checks them (v1.9.0
    pkg/instancetype/preference/requirements checker.Check with checkCPU / checkMemory /
    checkArch, called from vms-admitter.go Admit). With an instancetype, its CPU and memory
    are compared; without one, the VM's own template: from v1.1 after the preference is
    applied and the VMI defaults are set (v1.1.0 vms-admitter.go Admit; v1.0.0 checked the
    template as written, before applying anything). The architecture requirement exists
    from v1.7.0 (requirements/arch.go checkArch)."""
    from kvlint.quantity import parse_quantity

    req = as_dict(pref.spec.get("requirements"))
    vm_path = w.spec_path
    it_path = _vm_spec_path(w)
    it_ref: Path = (it_path or ()) + ("instancetype",)
    # The spec KubeVirt checks: at v1.0 the template as written, later the applied one.
    spec = w.template_spec if version < (1, 1) else eff.spec
    defaults = version >= (1, 1)

    def unmet(key: str, msg: str, where: Path) -> None:
        eff.unmet.append((pref.origin("requirements", key), msg, where))

    need_cpu = get(req, "cpu", "guest")
    if isinstance(need_cpu, int) and not isinstance(need_cpu, bool):
        if it is not None:
            have_cpu = get(it.spec, "cpu", "guest")
            if isinstance(have_cpu, int) and have_cpu < need_cpu:
                unmet(
                    "cpu",
                    f"insufficient CPU resources of {have_cpu} vCPU provided by instance type, "
                    f"preference requires {need_cpu} vCPU",
                    it_ref,
                )
        else:
            hit = _template_cpu(spec, pref.spec, need_cpu, version, defaults)
            if hit is not None:
                msg, keys = hit
                unmet("cpu", msg, vm_path + ("domain", "cpu") + keys)
    need_mem = get(req, "memory", "guest")
    need_q = parse_quantity(need_mem)
    if need_q is not None:
        guest = get(spec, "domain", "memory", "guest")
        if guest is None and version >= (1, 3):  # setGuestMemory (v1.3.0 defaults.go)
            guest = _defaulted_guest(spec)
        if it is not None:
            # Before v1.6 the instancetype's guest memory alone; from v1.6 the VM's wins.
            have = guest if version >= (1, 6) and guest is not None else get(it.spec, "memory", "guest")
            have_q = parse_quantity(have)
            if have_q is not None and have_q < need_q:
                unmet(
                    "memory",
                    f"insufficient Memory resources of {have} provided by instance type, "
                    f"preference requires {need_mem}",
                    it_ref,
                )
        else:
            have_q = parse_quantity(guest)
            if have_q is None and guest is None and version >= (1, 6):
                guest, have_q = "0", parse_quantity(0)  # v1.6.0 memory.go: none provided is 0Mi
            if have_q is not None and have_q < need_q:
                unmet(
                    "memory",
                    f"insufficient Memory resources of {guest} provided by VirtualMachine, "
                    f"preference requires {need_mem}",
                    vm_path + ("domain", "memory", "guest"),
                )
    need_arch = req.get("architecture")
    if isinstance(need_arch, str) and version >= (1, 7):
        # The VM's architecture, else the preference's preferredArchitecture (the instancetype
        # VM mutator writes it first: v1.9.0 webhooks/vm/mutator.go mutateArch); left unset,
        # a DataSource's template.kubevirt.io/architecture label or the cluster's default
        # (defaults.go SetVirtualMachineDefaults), which kvlint does not judge.
        arch = eff.spec.get("architecture")
        if isinstance(arch, str) and arch and arch != need_arch:
            unmet(
                "architecture",
                f"preference requires architecture {need_arch} but {arch} is being requested",
                vm_path + ("architecture",),
            )


def _defaulted_guest(spec: dict[str, Any]) -> Any:
    """``setGuestMemory``: the guest memory an unset ``memory.guest`` defaults to."""
    from kvlint.quantity import parse_quantity

    for kind in ("requests", "limits"):
        value = get(spec, "domain", "resources", kind, "memory")
        q = parse_quantity(value)
        if q is not None and q != 0:
            return value
    page = get(spec, "domain", "memory", "hugepages", "pageSize")
    return page if parse_quantity(page) is not None else None


def _template_cpu(
    spec: dict[str, Any], pref: dict[str, Any], need: int, version: tuple[int, int], defaults: bool
) -> tuple[str, Path] | None:
    """checkCPU without an instancetype: the vCPUs the VM provides in the preferred topology
    (message, path below ``domain.cpu``), or ``None`` when it provides enough."""
    from kvlint.quantity import parse_quantity

    cpu = get(spec, "domain", "cpu")
    counts = {k: get(spec, "domain", "cpu", k) for k in ("sockets", "cores", "threads")}
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in counts.values()):
        return None
    n = {k: v or 0 for k, v in counts.items()}
    if defaults and not any(n.values()):
        # SetDefaultGuestCPUTopology: sockets from the CPU limit, else the request, else 1.
        sockets = 1
        for kind in ("limits", "requests"):
            value = get(spec, "domain", "resources", kind, "cpu")
            if value is not None:
                q = parse_quantity(value)
                if q is None:
                    return None
                sockets = math.ceil(q)
                break
        n = {"sockets": sockets, "cores": 1, "threads": 1}
    elif not isinstance(cpu, dict):
        return (f"no CPU resources provided by VirtualMachine, preference requires {need} vCPU", ())
    topo = get(pref, "cpu", "preferredCPUTopology") or "preferSockets"
    fmt = "insufficient CPU resources of {} vCPU provided by VirtualMachine, preference requires {} vCPU provided as {}"
    single = {"preferThreads": "threads", "threads": "threads", "preferCores": "cores", "cores": "cores"}
    single.update({"preferSockets": "sockets", "sockets": "sockets"})
    if topo in single:
        key = single[topo]
        return (fmt.format(n[key], need, key), (key,)) if n[key] < need else None
    if version < (1, 1):  # spread and any were not checked before v1.1.0
        return None
    if topo in ("preferSpread", "spread"):
        if version < (1, 3):
            have, label, keys = n["cores"] * n["sockets"], "cores and sockets", ("cores",)
        else:
            across = get(pref, "cpu", "spreadOptions", "across") or "SocketsCores"
            parts = {"SocketsCores": ("sockets", "cores"), "CoresThreads": ("cores", "threads")}.get(
                across, ("sockets", "cores", "threads")
            )
            have, label, keys = math.prod(n[k] for k in parts), str(across), (parts[0],)
        return (fmt.format(have, need, label), keys) if have < need else None
    if topo in ("preferAny", "any"):
        have = n["sockets"] * n["cores"] * n["threads"]
        return (fmt.format(have, need, "cores, sockets and threads"), ("cores",)) if have < need else None
    return None


def _topology(vcpus: int, pref: dict[str, Any]) -> dict[str, int]:
    """``applyGuestCPUTopology``: sockets/cores/threads for ``vcpus`` and the preference."""
    out = {"cores": 1, "sockets": 1, "threads": 1}
    if vcpus == 1:
        return out
    choice = get(pref, "cpu", "preferredCPUTopology") or "sockets"
    if choice in ("preferCores", "cores"):
        out["cores"] = vcpus
    elif choice in ("preferThreads", "threads"):
        out["threads"] = vcpus
    elif choice in ("preferSpread", "spread"):
        ratio = get(pref, "cpu", "spreadOptions", "ratio") or pref.get("preferSpreadSocketToCoreRatio") or 2
        across = get(pref, "cpu", "spreadOptions", "across") or "SocketsCores"
        if not isinstance(ratio, int) or ratio <= 0:
            ratio = 2
        if across == "CoresThreads":
            out["threads"], out["cores"] = ratio, vcpus // ratio
        elif across == "SocketsCoresThreads":
            out["threads"], out["cores"], out["sockets"] = 2, ratio, vcpus // 2 // ratio
        else:
            out["cores"], out["sockets"] = ratio, vcpus // ratio
    else:
        out["sockets"] = vcpus
    return out


def _apply_preference(eff: EffectiveVMI, t: _Tree, meta: _Tree, src: Source, sp: Path, mp: Path) -> None:
    p = src.spec
    vmi = t.root

    def put(keys: Path, value: Any, *src_keys: Any) -> None:
        _set(t, keys, value)
        eff.origins[sp + keys] = src.origin(*src_keys)

    # CPU features (preference/apply/cpu.go)
    feats = [f for f in as_list(get(p, "cpu", "preferredCPUFeatures")) if isinstance(f, dict)]
    if feats:
        have = {f.get("name") for _, f in enumerate_dicts(get(vmi, "domain", "cpu", "features"))}
        for i, f in enumerate(feats):
            if f.get("name") not in have:
                lst = t.node("domain", "cpu").setdefault("features", [])
                if not isinstance(lst, list):
                    break
                eff.origins[sp + ("domain", "cpu", "features", len(lst))] = src.origin("cpu", "preferredCPUFeatures", i)
                lst.append(dict(f))
    dev = as_dict(p.get("devices"))
    vdev = as_dict(get(vmi, "domain", "devices"))
    for pk, vk in (
        ("preferredUseVirtioTransitional", "useVirtioTransitional"),
        ("preferredBlockMultiQueue", "blockMultiQueue"),
        ("preferredNetworkInterfaceMultiQueue", "networkInterfaceMultiQueue"),
        ("preferredRng", "rng"),
        ("preferredTPM", "tpm"),
        ("preferredAutoattachGraphicsDevice", "autoattachGraphicsDevice"),
        ("preferredAutoattachMemBalloon", "autoattachMemBalloon"),
        ("preferredAutoattachPodInterface", "autoattachPodInterface"),
        ("preferredAutoattachSerialConsole", "autoattachSerialConsole"),
        ("preferredAutoattachInputDevice", "autoattachInputDevice"),
    ):
        if dev.get(pk) is not None and vdev.get(vk) is None:
            put(("domain", "devices", vk), dev[pk], "devices", pk)
    if dev.get("preferredDisableHotplug") is not None:
        put(
            ("domain", "devices", "disableHotplug"),
            dev["preferredDisableHotplug"],
            "devices",
            "preferredDisableHotplug",
        )
    # disks (preference/apply/disk.go)
    for i, disk in enumerate_dicts(vdev.get("disks")):
        base: Path = ("domain", "devices", "disks", i)
        target = "disk" if not any(k in disk for k in ("disk", "cdrom", "lun")) else None
        target = target or next(k for k in ("disk", "cdrom", "lun") if k in disk)
        if target == "disk":
            bus = get(disk, "disk", "bus")
            if dev.get("preferredDiskBus") and not bus:
                put(base + ("disk", "bus"), dev["preferredDiskBus"], "devices", "preferredDiskBus")
                bus = dev["preferredDiskBus"]
            for pk, vk in (
                ("preferredDiskBlockSize", "blockSize"),
                ("preferredDiskCache", "cache"),
                ("preferredDiskIO", "io"),
            ):
                if dev.get(pk) and not disk.get(vk):
                    put(base + (vk,), dev[pk], "devices", pk)
            if (
                dev.get("preferredDiskDedicatedIoThread") is not None
                and disk.get("dedicatedIOThread") is None
                and bus == "virtio"
            ):
                put(
                    base + ("dedicatedIOThread",),
                    dev["preferredDiskDedicatedIoThread"],
                    "devices",
                    "preferredDiskDedicatedIoThread",
                )
        elif target in ("cdrom", "lun"):
            pk = "preferredCdromBus" if target == "cdrom" else "preferredLunBus"
            if dev.get(pk) and not get(disk, target, "bus"):
                put(base + (target, "bus"), dev[pk], "devices", pk)
    # interfaces (preference/apply/interface.go)
    pod_nets = {n.get("name") for _, n in enumerate_dicts(vmi.get("networks")) if n.get("pod") is not None}
    for i, iface in enumerate_dicts(vdev.get("interfaces")):
        base = ("domain", "devices", "interfaces", i)
        if dev.get("preferredInterfaceModel") and not iface.get("model"):
            put(base + ("model",), dev["preferredInterfaceModel"], "devices", "preferredInterfaceModel")
        if (
            dev.get("preferredInterfaceMasquerade") is not None
            and not any(k in iface for k in BINDING_KEYS)
            and iface.get("name") in pod_nets
        ):
            put(base + ("masquerade",), dev["preferredInterfaceMasquerade"], "devices", "preferredInterfaceMasquerade")
    # features (preference/apply/features.go)
    feat = as_dict(p.get("features"))
    vfeat = as_dict(get(vmi, "domain", "features"))
    if feat.get("preferredAcpi") is not None:
        put(("domain", "features", "acpi"), feat["preferredAcpi"], "features", "preferredAcpi")
    for pk, vk in (
        ("preferredApic", "apic"),
        ("preferredKvm", "kvm"),
        ("preferredPvspinlock", "pvspinlock"),
        ("preferredSmm", "smm"),
    ):
        if feat.get(pk) is not None and vfeat.get(vk) is None:
            put(("domain", "features", vk), feat[pk], "features", pk)
    hv = feat.get("preferredHyperv")
    if isinstance(hv, dict):
        vhv = as_dict(vfeat.get("hyperv"))
        for k, v in hv.items():
            if v is not None and vhv.get(k) is None:
                put(("domain", "features", "hyperv", k), v, "features", "preferredHyperv", k)
    # firmware (preference/apply/firmware.go)
    fw = as_dict(p.get("firmware"))
    boot = as_dict(get(vmi, "domain", "firmware", "bootloader"))
    if fw:
        if fw.get("preferredUseBios") is True and boot.get("bios") is None and boot.get("efi") is None:
            put(("domain", "firmware", "bootloader", "bios"), {}, "firmware", "preferredUseBios")
            boot = {"bios": {}}
        if (
            fw.get("preferredUseBiosSerial") is not None
            and isinstance(boot.get("bios"), dict)
            and boot["bios"].get("useSerial") is None
        ):
            put(
                ("domain", "firmware", "bootloader", "bios", "useSerial"),
                fw["preferredUseBiosSerial"],
                "firmware",
                "preferredUseBiosSerial",
            )
        if boot.get("efi") is None and boot.get("bios") is None and fw.get("preferredEfi") is not None:
            put(("domain", "firmware", "bootloader", "efi"), fw["preferredEfi"], "firmware", "preferredEfi")
        elif fw.get("preferredUseEfi") is True and boot.get("efi") is None and boot.get("bios") is None:
            put(("domain", "firmware", "bootloader", "efi"), {}, "firmware", "preferredUseEfi")
            if fw.get("preferredUseSecureBoot") is not None:
                put(
                    ("domain", "firmware", "bootloader", "efi", "secureBoot"),
                    fw["preferredUseSecureBoot"],
                    "firmware",
                    "preferredUseSecureBoot",
                )
    # machine, clock, architecture, termination grace, subdomain
    mt = get(p, "machine", "preferredMachineType")
    if mt and not get(vmi, "domain", "machine", "type"):
        put(("domain", "machine", "type"), mt, "machine", "preferredMachineType")
    clock = as_dict(p.get("clock"))
    vclock = as_dict(get(vmi, "domain", "clock"))
    off = clock.get("preferredClockOffset")
    if isinstance(off, dict) and vclock.get("utc") is None and vclock.get("timezone") is None:
        for k, v in off.items():
            put(("domain", "clock", k), v, "clock", "preferredClockOffset", k)
    if clock.get("preferredTimer") is not None and vclock.get("timer") is None:
        put(("domain", "clock", "timer"), clock["preferredTimer"], "clock", "preferredTimer")
    if p.get("preferredSubdomain") and not vmi.get("subdomain"):
        put(("subdomain",), p["preferredSubdomain"], "preferredSubdomain")
    if p.get("preferredTerminationGracePeriodSeconds") is not None and vmi.get("terminationGracePeriodSeconds") is None:
        put(
            ("terminationGracePeriodSeconds",),
            p["preferredTerminationGracePeriodSeconds"],
            "preferredTerminationGracePeriodSeconds",
        )
    if p.get("preferredArchitecture") and not vmi.get("architecture"):
        put(("architecture",), p["preferredArchitecture"], "preferredArchitecture")
    for key, value in as_dict(p.get("annotations")).items():
        if key not in as_dict(meta.root.get("annotations")):
            meta.node("annotations")[key] = value
            eff.origins[mp + ("annotations", key)] = src.origin("annotations", key)
    if p.get("preferredLaunchSecurity") is not None and get(vmi, "domain", "launchSecurity") is None:
        put(("domain", "launchSecurity"), p["preferredLaunchSecurity"], "preferredLaunchSecurity")


#: Interface binding keys (``InterfaceBindingMethod`` and ``binding``).
BINDING_KEYS = ("bridge", "slirp", "masquerade", "sriov", "macvtap", "passt", "binding", "deprecatedSlirp")


def build(inv: Inventory, w: Workload, version: tuple[int, int], deployed: bool = True) -> EffectiveVMI:
    """The effective VMI of one workload (the template itself when it names neither an
    instancetype nor a preference)."""
    vm_path = _vm_spec_path(w)
    if vm_path is None:
        return EffectiveVMI(w.template_spec, w.template_meta)
    vm_spec = as_dict(get(w.obj.data, *vm_path))
    if "instancetype" not in vm_spec and "preference" not in vm_spec:
        return EffectiveVMI(w.template_spec, w.template_meta)
    it = _resolve(inv, w, vm_path, "instancetype", version, deployed)
    pref = _resolve(inv, w, vm_path, "preference", version, deployed)
    for src in (it, pref):
        if isinstance(src, Source):
            src.spec = _gate(src.spec, src.kind, version)
    t, meta = _Tree(w.template_spec), _Tree(w.template_meta)
    eff = EffectiveVMI(t.root, meta.root)
    for s in (it, pref):
        if isinstance(s, Unknown):
            eff.unknown.append(s)
        elif s is not None and s.note:
            eff.notes.append(s.note)
    pref_spec = pref.spec if isinstance(pref, Source) else {}
    if isinstance(it, Source):
        eff.instancetype = it
        _apply_instancetype(eff, t, meta, w, it, w.spec_path, w.meta_path, pref_spec)
    if isinstance(pref, Source):
        eff.preference = pref
        if not eff.conflicts:  # KubeVirt applies no preference to a conflicting VM
            _apply_preference(eff, t, meta, pref, w.spec_path, w.meta_path)
    eff.spec, eff.meta = t.root, meta.root
    # A conflicting VM is refused before its requirements are checked; an instancetype
    # kvlint cannot see leaves them unknown.
    if isinstance(pref, Source) and not eff.conflicts and not isinstance(it, Unknown):
        _check_requirements(eff, it, pref, w, version)
    return eff


# -- findings about values from an instancetype / preference --------------------------


def relocate(f: Finding, obj: K8sObject, path: Path) -> None:
    """Point a finding about a value an instancetype or preference supplied at that
    object's node (the VM's ``spec.instancetype`` / ``spec.preference`` for the bundled
    common objects), with the VM's node naming it as a related location."""
    w = obj.workload
    if w is None:
        return
    eff = w._vmi
    if eff is None or not eff.origins:
        return
    hit = eff.origin_of(path)
    if hit is None:
        return
    origin, rest = hit
    f.data["object_file"] = obj.file
    ref_loc = obj.loc(origin.ref, label=f"{path_str(origin.ref)} of {obj.display()}")
    where = path_str(origin.path + rest)
    if origin.obj is not None:
        f.location = origin.obj.loc(origin.path + rest)
        f.related = (ref_loc, *f.related)
    else:
        f.location = ref_loc
    # The node is not in the VM: no fix edits it there.
    f.data.pop("node", None)
    f.message += f" (from {origin.label}, {where}{'; ' + origin.prov if origin.prov else ''})"
    f.data["origin"] = f"{origin.label} {where}"


def origin_text(w: Workload, path: Path) -> str | None:
    eff = w.vmi()
    hit = eff.origin_of(w.spec_path + path)
    if hit is None:
        return None
    origin, rest = hit
    return f"{origin.label} {path_str(origin.path + rest)}{' (' + origin.prov + ')' if origin.prov else ''}"


def location_of(obj: K8sObject, path: Path, label: str = "") -> Location:
    """``obj.loc(path)``, or the node of the instancetype/preference that supplied it."""
    w = obj.workload
    if w is not None:
        eff = w._vmi
        if eff is not None:
            hit = eff.origin_of(path)
            if hit is not None:
                origin, rest = hit
                if origin.obj is not None:
                    return origin.obj.loc(origin.path + rest, label=label)
                return obj.loc(origin.ref, label=label)
    return obj.loc(path, label=label)
