"""Storage resolution: which access modes a VM volume's claim gets.

Follows CDI's DataVolume rendering (``spec.pvc`` copied verbatim; ``spec.storage``
completed from the StorageProfile of the storage class, whose status comes from its
``spec.claimPropertySets`` or from CDI's provisioner capability table) and KubeVirt's
reading of the PVC's ``spec.accessModes``. Every step is recorded, so that a finding
can say which object and which rule decided the access mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kvlint.config import ClaimSet, Config
from kvlint.inventory import (
    Inventory,
    K8sObject,
    Workload,
    as_dict,
    as_list,
    enumerate_dicts,
    get,
    path_str,
)
from kvlint.parse import Path

RWX = "ReadWriteMany"
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
SHORT = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
DEFAULT_CLASS_ANN = "storageclass.kubernetes.io/is-default-class"
DEFAULT_VIRT_CLASS_ANN = "storageclass.kubevirt.io/is-default-virt-class"
APPLY_PROFILE_LABEL = "cdi.kubevirt.io/applyStorageProfile"


@dataclass(slots=True)
class Step:
    """One step of a resolution chain: what was read, where."""

    text: str
    obj: K8sObject | None = None
    path: Path = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.text}
        if self.obj is not None:
            loc = self.obj.loc(self.path)
            out.update(object=self.obj.display(), file=loc.file, line=loc.line, column=loc.column)
        return out


@dataclass(slots=True)
class Access:
    """The resolved access modes of one claim (``modes is None``: unknown)."""

    claim: str
    modes: tuple[str, ...] | None = None
    volume_mode: str | None = None
    steps: list[Step] = field(default_factory=list)
    #: The object and path whose value decided the access modes.
    decided_by: tuple[K8sObject, Path] | None = None
    #: Why the modes are unknown (what is missing and how to supply it).
    unknown: str | None = None
    #: The DataVolume (template) spec itself is invalid: CDI or the API server refuses it
    #: (reported by KV106, so not again as unknown).
    invalid: str | None = None
    #: "template" | "DataVolume" | "PersistentVolumeClaim" | "assumption" | None
    source_kind: str | None = None

    @property
    def shared(self) -> bool | None:
        if self.modes is None:
            return None
        return RWX in self.modes

    def short_modes(self) -> str:
        return ", ".join(SHORT.get(m, m) for m in self.modes or ())


def _modes(value: Any) -> tuple[str, ...]:
    return tuple(m for m in as_list(value) if isinstance(m, str))


def _claim_sets(value: Any) -> list[ClaimSet]:
    out = []
    for _, s in enumerate_dicts(value):
        vm = s.get("volumeMode")
        out.append(ClaimSet(_modes(s.get("accessModes")), vm if isinstance(vm, str) else None))
    return out


def _timestamp(obj: K8sObject) -> str:
    ts = get(obj.data, "metadata", "creationTimestamp")
    return ts if isinstance(ts, str) else ""


def default_class(inv: Inventory, virt: bool) -> tuple[K8sObject | None, str]:
    """CDI's choice of default class among the StorageClasses in view, and which annotation
    (worked out again only when the StorageClasses in view change)."""
    classes = inv.kind("StorageClass")
    if not classes:
        return None, ""
    key = ("default-class", virt, id(classes), len(classes), id(classes[-1]))
    hit = inv.memo.get(key)
    if hit is None:
        hit = inv.memo[key] = _default_class(inv, virt)
    return hit


def _default_class(inv: Inventory, virt: bool) -> tuple[K8sObject | None, str]:
    annotations = ([DEFAULT_VIRT_CLASS_ANN] if virt else []) + [DEFAULT_CLASS_ANN]
    for ann in annotations:
        marked = [sc for sc in inv.kind("StorageClass") if str(sc.annotations().get(ann, "")).lower() == "true"]
        if marked:
            # Newest creationTimestamp wins, then the smallest name.
            newest = max(_timestamp(s) for s in marked)
            best = sorted(s.name for s in marked if _timestamp(s) == newest)[0]
            return next(s for s in marked if s.name == best), ann
    return None, ""


class Resolver:
    def __init__(self, inv: Inventory, config: Config) -> None:
        self.inv = inv
        self.config = config

    # -- claims ---------------------------------------------------------------------

    def claim(self, w: Workload, name: str) -> Access:
        """Resolve the claim a volume names (``persistentVolumeClaim`` or ``dataVolume``)."""
        acc = Access(name)
        ns = w.obj.ns
        for i, dvt in w.dvts():
            if get(dvt, "metadata", "name") == name and w.dvt_path is not None:
                spec_path = w.dvt_path + (i, "spec")
                acc.source_kind = "template"
                acc.steps.append(Step(f"dataVolumeTemplate {name!r} of {w.obj.display()}", w.obj, w.dvt_path + (i,)))
                self._dv_spec(acc, w.obj, spec_path, as_dict(dvt.get("spec")))
                return acc
        dv = self.inv.lookup("DataVolume", ns, name)
        if dv is not None:
            acc.source_kind = "DataVolume"
            acc.steps.append(Step(f"{dv.display()}", dv, ()))
            self._dv_spec(acc, dv, ("spec",), as_dict(dv.data.get("spec")))
            return acc
        pvc = self.inv.lookup("PersistentVolumeClaim", ns, name)
        if pvc is not None:
            acc.source_kind = "PersistentVolumeClaim"
            acc.steps.append(Step(f"{pvc.display()}", pvc, ()))
            self._pvc(acc, pvc)
            return acc
        key = f"{ns}/{name}" if ns else name
        assumed = self.config.claims.get(key) or self.config.claims.get(name)
        if assumed:
            acc.source_kind = "assumption"
            acc.modes = assumed
            acc.steps.append(
                Step(f"assumed access modes for claim {key!r} from {self.config.source or 'the configuration'}")
            )
            return acc
        where = f"namespace {ns!r}" if ns else "the same (unset) namespace"
        acc.unknown = f"no PersistentVolumeClaim or DataVolume named {name!r} in {where} is in view"
        return acc

    def _pvc(self, acc: Access, pvc: K8sObject) -> None:
        spec = as_dict(pvc.data.get("spec"))
        modes = _modes(spec.get("accessModes"))
        if modes:
            acc.modes = modes
            vm = spec.get("volumeMode")
            acc.volume_mode = vm if isinstance(vm, str) else "Filesystem"
            acc.decided_by = (pvc, ("spec", "accessModes"))
            acc.steps.append(Step(f"spec.accessModes = [{', '.join(modes)}]", pvc, ("spec", "accessModes")))
            return
        if str(pvc.labels().get(APPLY_PROFILE_LABEL, "")).lower() == "true":
            acc.steps.append(
                Step(
                    f"no accessModes; label {APPLY_PROFILE_LABEL} lets CDI render them from the StorageProfile",
                    pvc,
                    ("metadata", "labels"),
                )
            )
            self._storage(acc, pvc, ("spec",), spec, content_kubevirt=True)
            return
        acc.invalid = f"{pvc.display()} has no spec.accessModes; the API server rejects it"
        acc.unknown = acc.invalid

    # -- DataVolumes -----------------------------------------------------------------

    def _dv_spec(self, acc: Access, obj: K8sObject, spec_path: Path, spec: dict[str, Any]) -> None:
        pvc = spec.get("pvc")
        storage = spec.get("storage")
        if isinstance(pvc, dict) and isinstance(storage, dict):
            acc.invalid = "both spec.pvc and spec.storage are set; CDI rejects the DataVolume"
        elif not isinstance(pvc, dict) and not isinstance(storage, dict):
            acc.invalid = (
                "neither spec.pvc nor spec.storage is set; CDI rejects the DataVolume (Missing Data volume PVC)"
            )
        if acc.invalid:
            acc.unknown = acc.invalid
            return
        if isinstance(pvc, dict):
            modes = _modes(pvc.get("accessModes"))
            p = spec_path + ("pvc", "accessModes")
            if not modes:
                acc.invalid = (
                    "spec.pvc has no accessModes; CDI requires exactly one (spec.pvc is copied "
                    "verbatim, without StorageProfile defaults)"
                )
                acc.unknown = acc.invalid
                return
            acc.modes = modes
            vm = pvc.get("volumeMode")
            acc.volume_mode = vm if isinstance(vm, str) else "Filesystem"
            acc.decided_by = (obj, p)
            acc.steps.append(Step(f"spec.pvc.accessModes = [{', '.join(modes)}] (copied verbatim to the PVC)", obj, p))
            return
        content = spec.get("contentType")
        self._storage(
            acc,
            obj,
            spec_path + ("storage",),
            as_dict(storage),
            content_kubevirt=content in (None, "kubevirt"),
            archive=content == "archive",
        )

    def _storage(
        self,
        acc: Access,
        obj: K8sObject,
        path: Path,
        storage: dict[str, Any],
        content_kubevirt: bool,
        archive: bool = False,
    ) -> None:
        """CDI's rendering of ``spec.storage`` (or of a PVC with applyStorageProfile)."""
        modes = _modes(storage.get("accessModes"))
        vm_raw = storage.get("volumeMode")
        vmode: str | None = vm_raw if isinstance(vm_raw, str) and vm_raw else None
        if archive:
            vmode = "Filesystem"
        if modes:
            acc.modes = modes
            acc.volume_mode = vmode or "Filesystem"
            acc.decided_by = (obj, path + ("accessModes",))
            acc.steps.append(
                Step(f"{path_str(path)}.accessModes = [{', '.join(modes)}] (explicit)", obj, path + ("accessModes",))
            )
            return
        sets, origin = self._class_sets(acc, obj, path, storage, content_kubevirt)
        if sets is None:
            return
        prof_obj, prof_path, prof_name = origin
        if vmode is None:
            if not sets or not sets[0].access_modes:
                acc.unknown = f"no accessMode specified in StorageProfile {prof_name}; CDI cannot render the claim"
                return
            first = sets[0]
            acc.modes = first.access_modes
            acc.volume_mode = first.volume_mode or "Filesystem"
            acc.steps.append(
                Step(
                    f"no accessModes or volumeMode requested: CDI takes the first claimPropertySet "
                    f"of {prof_name} = [{', '.join(first.access_modes)}] {first.volume_mode or ''}".rstrip(),
                    prof_obj,
                    prof_path + (0,) if prof_obj is not None and prof_path else prof_path,
                )
            )
        else:
            match = next((s for s in sets if s.volume_mode == vmode and s.access_modes), None)
            if match is None:
                acc.unknown = (
                    f"no matching accessMode specified in StorageProfile {prof_name} for "
                    f"volumeMode {vmode}; CDI cannot render the claim"
                )
                return
            acc.modes = match.access_modes
            acc.volume_mode = vmode
            acc.steps.append(
                Step(
                    f"volumeMode {vmode} requested without accessModes: CDI takes the first "
                    f"claimPropertySet of {prof_name} with that volumeMode = [{', '.join(match.access_modes)}]",
                    prof_obj,
                    prof_path,
                )
            )
        acc.decided_by = (prof_obj, prof_path) if prof_obj is not None else (obj, path)

    def class_offers(
        self, obj: K8sObject, path: Path, claim: dict[str, Any], content_kubevirt: bool
    ) -> tuple[list[ClaimSet], str] | None:
        """The claimPropertySets the storage class of ``claim`` (a claim spec at ``path`` of
        ``obj``) offers, read as a claim resolution reads them, and the class with where its
        sets come from (e.g. ``gp3 (spec)``); None when they are not known."""
        sets, origin = self._class_sets(Access(""), obj, path, claim, content_kubevirt)
        return (sets, origin[2]) if sets else None

    def _class_sets(
        self,
        acc: Access,
        obj: K8sObject,
        path: Path,
        storage: dict[str, Any],
        content_kubevirt: bool,
    ) -> tuple[list[ClaimSet] | None, tuple[K8sObject | None, Path, str]]:
        """The claimPropertySets that apply, and where they came from."""
        none: tuple[K8sObject | None, Path, str] = (None, (), "")
        sc_name = storage.get("storageClassName")
        sc: K8sObject | None = None
        if isinstance(sc_name, str) and sc_name:
            sc = self.inv.lookup("StorageClass", "", sc_name)
            acc.steps.append(Step(f"storageClassName = {sc_name}", obj, path + ("storageClassName",)))
        else:
            sc, ann = default_class(self.inv, content_kubevirt)
            if sc is not None:
                sc_name = sc.name
                acc.steps.append(
                    Step(
                        f"no storageClassName: default class {sc.name} (annotation {ann})",
                        sc,
                        ("metadata", "annotations", ann),
                    )
                )
            elif self.config.default_storage_class:
                sc_name = self.config.default_storage_class
                sc = self.inv.lookup("StorageClass", "", sc_name)
                acc.steps.append(
                    Step(
                        f"no storageClassName: assumed default class {sc_name} "
                        f"({self.config.source or 'configuration'})"
                    )
                )
            else:
                acc.unknown = (
                    "the claim names no storageClassName and no StorageClass in view is annotated "
                    f"as default ({DEFAULT_VIRT_CLASS_ANN} or {DEFAULT_CLASS_ANN})"
                )
                return None, none
        assert isinstance(sc_name, str)
        profile = self.inv.lookup("StorageProfile", "", sc_name)
        if profile is not None:
            spec_sets = _claim_sets(get(profile.data, "spec", "claimPropertySets"))
            if spec_sets:
                acc.steps.append(
                    Step(f"{profile.display()} spec.claimPropertySets", profile, ("spec", "claimPropertySets"))
                )
                return spec_sets, (profile, ("spec", "claimPropertySets"), f"{sc_name} (spec)")
            status_sets = _claim_sets(get(profile.data, "status", "claimPropertySets"))
            if status_sets:
                acc.steps.append(
                    Step(f"{profile.display()} status.claimPropertySets", profile, ("status", "claimPropertySets"))
                )
                return status_sets, (profile, ("status", "claimPropertySets"), f"{sc_name} (status)")
        assumed = self.config.storage_classes.get(sc_name)
        if assumed:
            acc.steps.append(
                Step(f"assumed claimPropertySets of class {sc_name} from {self.config.source or 'the configuration'}")
            )
            return list(assumed), (None, (), f"{sc_name} (assumed)")
        if sc is not None:
            provisioner = sc.data.get("provisioner")
            params = {str(k): str(v) for k, v in as_dict(sc.data.get("parameters")).items()}
            if isinstance(provisioner, str):
                from kvlint import storage_capabilities as caps

                pairs = caps.capabilities(provisioner, params)
                if pairs:
                    key = caps.provisioner_key(provisioner, params)
                    acc.steps.append(
                        Step(
                            f"{sc.display()} provisioner {provisioner}: CDI's capability table "
                            f"(key {key}, {caps.source_label()})",
                            sc,
                            ("provisioner",),
                        )
                    )
                    return [ClaimSet((m,), v) for m, v in pairs], (
                        sc,
                        ("provisioner",),
                        f"{sc_name} (CDI table for {key})",
                    )
                why = (
                    "CDI does not support it"
                    if caps.is_unsupported(provisioner)
                    else "it is not in CDI's capability table"
                )
                acc.unknown = (
                    f"StorageClass {sc_name} uses provisioner {provisioner}, and {why}; no "
                    f"StorageProfile {sc_name} with claimPropertySets is in view"
                )
                acc.steps.append(Step(acc.unknown, sc, ("provisioner",)))
                return None, none
        acc.unknown = f"neither StorageClass {sc_name} nor its StorageProfile is in view"
        return None, none
