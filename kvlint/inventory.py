"""The inventory: typed, indexed objects and the cluster-wide facts derived from them.

Everything here is computed once from the parsed documents; checks only read it.
Unknown facts stay explicit (``None`` plus a reason), never guessed silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kvlint.models import Location, ObjectRef
from kvlint.parse import Document, Path, Pos, unpack
from kvlint.tree import as_dict as as_dict
from kvlint.tree import as_list as as_list
from kvlint.tree import enumerate_dicts as enumerate_dicts
from kvlint.tree import get as get
from kvlint.tree import name_of as name_of
from kvlint.tree import path_str as path_str

if TYPE_CHECKING:
    from kvlint.vmi import EffectiveVMI

CLUSTER_SCOPED = frozenset(
    (
        "StorageClass",
        "StorageProfile",
        "MigrationPolicy",
        "Namespace",
        "Node",
        "PersistentVolume",
        "CDIConfig",
        "CDI",
        "VirtualMachineClusterInstancetype",
        "VirtualMachineClusterPreference",
    )
)

#: Kinds whose objects carry a VMI template, with the paths of template spec and metadata
#: and of the dataVolumeTemplates list.
WORKLOAD_PATHS: dict[str, tuple[Path, Path, Path | None]] = {
    "VirtualMachine": (
        ("spec", "template", "spec"),
        ("spec", "template", "metadata"),
        ("spec", "dataVolumeTemplates"),
    ),
    "VirtualMachineInstance": (("spec",), ("metadata",), None),
    "VirtualMachineInstanceReplicaSet": (
        ("spec", "template", "spec"),
        ("spec", "template", "metadata"),
        None,
    ),
    "VirtualMachinePool": (
        ("spec", "virtualMachineTemplate", "spec", "template", "spec"),
        ("spec", "virtualMachineTemplate", "spec", "template", "metadata"),
        ("spec", "virtualMachineTemplate", "spec", "dataVolumeTemplates"),
    ),
}

KUBEVIRT_GROUPS = ("kubevirt.io", "pool.kubevirt.io")


@dataclass(slots=True, eq=False)
class K8sObject:
    doc: Document
    base: Path
    data: dict[str, Any]
    api_version: str
    kind: str
    name: str
    namespace: str | None
    #: True when the object came from --cluster-state / --context (resolution only).
    context_only: bool = False
    #: A slim copy of a workload that another process lints (parallel runs): identity,
    #: labels and kvlint annotations only. Always context_only too.
    stub: bool = False
    #: The workload this object is (VM, VMI, pool, replica set), set by the inventory.
    workload: Workload | None = None

    @property
    def group(self) -> str:
        return self.api_version.rsplit("/", 1)[0] if "/" in self.api_version else ""

    @property
    def ns(self) -> str:
        return self.namespace or ""

    @property
    def file(self) -> str:
        return self.doc.path

    def ref(self) -> ObjectRef:
        return ObjectRef(self.api_version, self.kind, self.namespace, self.name)

    def display(self) -> str:
        return self.ref().display()

    def has(self, path: Path) -> bool:
        return self.doc.exact(self.base + path) is not None

    def loc(self, path: Path = (), label: str = "", key: bool = True) -> Location:
        """Location of the node at ``path`` (or of its nearest existing ancestor).

        For a mapping entry the location starts at its key (``bridge: {}`` points at
        ``bridge``) and ends where the value ends.
        """
        full = self.base + path
        pos = self.doc.position(full)
        if pos is None:
            return Location(self.doc.path, 1, 1, 1, 1, path_str(path), label)
        kl, kc, line, col, el, ec = pos
        if key and kl:
            line, col = kl, kc
        return Location(self.doc.path, line, col, el, ec, path_str(path), label)

    def origin(self) -> str | None:
        """For piped input: the file a generator rendered this object from (Helm's
        '# Source:' comment, kustomize's origin/path annotations)."""
        if self.doc.origin:
            return self.doc.origin
        ann = self.annotations()
        origin = ann.get("config.kubernetes.io/origin")
        if isinstance(origin, str):
            for line in origin.splitlines():
                key, _, value = line.partition(":")
                if key.strip() == "path" and value.strip():
                    return value.strip()
        for ann_key in ("internal.config.kubernetes.io/path", "config.kubernetes.io/path"):
            path = ann.get(ann_key)
            if isinstance(path, str) and path:
                return path
        return None

    def annotations(self) -> dict[str, Any]:
        return as_dict(get(self.data, "metadata", "annotations"))

    def labels(self) -> dict[str, Any]:
        return as_dict(get(self.data, "metadata", "labels"))


@dataclass(slots=True, eq=False)
class Workload:
    """A VM, VMI, pool or replica set: something that becomes a VMI.

    ``spec`` is the effective VMI spec (the template with the instancetype and preference
    applied, ``kvlint.vmi``); ``template_spec`` the template as written.
    """

    obj: K8sObject
    spec_path: Path
    meta_path: Path
    dvt_path: Path | None
    #: The VMI template spec and metadata as written (read once; the data never changes).
    template_spec: dict[str, Any] = field(init=False)
    template_meta: dict[str, Any] = field(init=False)
    #: Values derived for this workload during a run (its MigrationPolicy match).
    memo: dict[str, Any] = field(init=False, default_factory=dict)
    #: The inventory that resolves its instancetype and preference.
    inv: Inventory | None = None
    _vmi: EffectiveVMI | None = None

    def __post_init__(self) -> None:
        self.template_spec = as_dict(get(self.obj.data, *self.spec_path))
        self.template_meta = as_dict(get(self.obj.data, *self.meta_path))

    def vmi(self) -> EffectiveVMI:
        """The effective VMI, built on first use."""
        v = self._vmi
        if v is None:
            from kvlint.vmi import EffectiveVMI, build

            inv = self.inv
            if inv is None:
                v = EffectiveVMI(self.template_spec, self.template_meta)
            else:
                v = build(inv, self, inv.target_version, inv.common_instancetypes)
            self._vmi = v
        return v

    @property
    def spec(self) -> dict[str, Any]:
        v = self._vmi
        return (v or self.vmi()).spec

    @property
    def template_annotations(self) -> dict[str, Any]:
        """The VMI's annotations: the template's, plus those of the instancetype/preference."""
        return as_dict(self.vmi().meta.get("annotations"))

    @property
    def template_labels(self) -> dict[str, Any] | None:
        labels = self.template_meta.get("labels")
        return labels if isinstance(labels, dict) else None

    def sp(self, *keys: Any) -> Path:
        """Path, from the object root, of ``keys`` inside the VMI spec."""
        return self.spec_path + keys

    def dvts(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.dvt_path is None:
            return iter(())
        return enumerate_dicts(get(self.obj.data, *self.dvt_path))

    def devices(self) -> dict[str, Any]:
        return as_dict(get(self.spec, "domain", "devices"))  # cheap: two dict lookups


@dataclass(slots=True)
class Setting:
    """An effective cluster setting: its value, the object and path it came from, and
    whether it rests on an assumed default rather than an object in view."""

    value: Any
    source: K8sObject | None = None
    path: Path = ()
    assumed: bool = False
    note: str = ""

    def origin(self) -> str:
        if self.source is not None:
            return f"{self.source.display()} {path_str(self.path)}"
        return self.note or ("assumed default" if self.assumed else "default")


@dataclass(slots=True)
class Cluster:
    """Cluster-wide facts relevant to migratability."""

    platform: str
    platform_source: str
    version: tuple[int, int]
    hco: K8sObject | None
    kubevirt: K8sObject | None
    default_interface: Setting
    permit_bridge_on_pod: Setting
    eviction_strategy: Setting
    feature_gates: Setting
    bindings: Setting
    mediated_devices: Setting
    cpu_model: Setting
    architecture: Setting
    #: The HCO release whose defaults apply (``kvlint.versions``: the row of the table).
    hco_release: dict[str, Any] = field(default_factory=dict)
    #: Per-run memo of derived values (cluster-wide migration settings, admitted policies).
    memo: dict[Any, Any] = field(default_factory=dict)


def _remove_recent(items: list[Any], obj: Any) -> None:
    """Remove ``obj`` from ``items``, searching from the end (it was added recently)."""
    for i in range(len(items) - 1, -1, -1):
        if items[i] is obj:
            del items[i]
            return
    raise ValueError("object not in the inventory")


#: The group key of context workload stubs loaded on first use (see ``Inventory.lazy``).
LAZY_WORKLOADS = ("*workloads", "")

Loader = Callable[[], list[Document]]


@dataclass
class Inventory:
    objects: list[K8sObject] = field(default_factory=list)
    by_key: dict[tuple[str, str, str], list[K8sObject]] = field(default_factory=dict)
    by_kind: dict[str, list[K8sObject]] = field(default_factory=dict)
    #: Every workload added so far (``workloads`` also loads the lazy context stubs).
    loaded_workloads: list[Workload] = field(default_factory=list)
    #: Context documents read only when something asks for them: ``(kind, namespace)``
    #: (claims of one namespace) or ``LAZY_WORKLOADS`` -> loaders. Pre-commit runs check
    #: one changed file against a whole repository and need only a few of its objects.
    lazy: dict[tuple[str, str], list[Loader]] = field(default_factory=dict)
    #: The KubeVirt version and platform workloads are resolved for (``cluster_facts``).
    target_version: tuple[int, int] = (1, 9)
    target_platform: str = "hco"
    #: Whether virt-operator deploys the common cluster instancetypes and preferences.
    common_instancetypes: bool = True
    #: Answers worked out from the objects in view, each keyed by what it was worked out
    #: from (``storage.default_class``).
    memo: dict[Any, Any] = field(default_factory=dict)

    def add(self, obj: K8sObject) -> None:
        self.objects.append(obj)
        ns = "" if obj.kind in CLUSTER_SCOPED else obj.ns
        self.by_key.setdefault((obj.kind, ns, obj.name), []).append(obj)
        self.by_kind.setdefault(obj.kind, []).append(obj)
        paths = WORKLOAD_PATHS.get(obj.kind)
        if paths is not None and obj.group in KUBEVIRT_GROUPS:
            w = Workload(obj, *paths, inv=self)
            obj.workload = w
            self.loaded_workloads.append(w)

    @property
    def workloads(self) -> list[Workload]:
        if self.lazy:
            self._load(LAZY_WORKLOADS)
        return self.loaded_workloads

    def _load(self, key: tuple[str, str]) -> None:
        for loader in self.lazy.pop(key, ()):
            for doc in loader():
                for obj in _objects_from(doc, doc.data, (), True):
                    self.add(obj)

    def lookup(self, kind: str, namespace: str, name: str) -> K8sObject | None:
        ns = "" if kind in CLUSTER_SCOPED else namespace
        if self.lazy:
            self._load(LAZY_WORKLOADS if kind in WORKLOAD_PATHS else (kind, ns))
        hits = self.by_key.get((kind, ns, name))
        if not hits:
            return None
        # Prefer an object from the linted files (in full, or the stub of one checked
        # elsewhere) over one from context/cluster state.
        for h in hits:
            if not h.context_only or h.stub:
                return h
        return hits[0]

    def pop(self, obj: K8sObject) -> None:
        """Take back an object added recently (a workload checked on its own, see
        ``engine.Run.check_workloads``; lazy context objects may have come in after it)."""
        _remove_recent(self.objects, obj)
        key = (obj.kind, "" if obj.kind in CLUSTER_SCOPED else obj.ns, obj.name)
        _remove_recent(self.by_key[key], obj)
        if not self.by_key[key]:
            del self.by_key[key]
        _remove_recent(self.by_kind[obj.kind], obj)
        if not self.by_kind[obj.kind]:
            del self.by_kind[obj.kind]
        for i in range(len(self.loaded_workloads) - 1, -1, -1):
            if self.loaded_workloads[i].obj is obj:
                del self.loaded_workloads[i]
                break

    def kind(self, kind: str) -> list[K8sObject]:
        if self.lazy:
            for key in [k for k in self.lazy if k[0] == kind or (k == LAZY_WORKLOADS and kind in WORKLOAD_PATHS)]:
                self._load(key)
        return self.by_kind.get(kind, [])


def _objects_from(
    doc: Document,
    data: Any,
    base: Path,
    context_only: bool,
    ns_override: str | None = None,
    stub: bool = False,
) -> Iterator[K8sObject]:
    if not isinstance(data, dict):
        return
    kind = data.get("kind")
    api_version = data.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return
    items = data.get("items")
    if kind == "List" or (kind.endswith("List") and isinstance(items, list)):
        for i, item in enumerate(as_list(items)):
            yield from _objects_from(doc, item, base + ("items", i), context_only, ns_override, stub)
        return
    meta = as_dict(data.get("metadata"))
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        name = meta.get("generateName") if isinstance(meta.get("generateName"), str) else ""
    namespace = meta.get("namespace")
    if ns_override and kind not in CLUSTER_SCOPED:
        namespace = ns_override
    yield K8sObject(
        doc,
        base,
        data,
        api_version,
        kind,
        name or "",
        namespace if isinstance(namespace, str) and namespace else None,
        context_only or stub,
        stub,
    )


def objects_of(doc: Document, namespaces: dict[str, str] | None = None, stub: bool = False) -> list[K8sObject]:
    """The objects of one linted document (or of its stub)."""
    ns = namespaces.get(doc.path) if namespaces else None
    return list(_objects_from(doc, doc.data, (), stub, ns, stub=stub))


def build(
    docs: Iterable[Document],
    context_docs: Iterable[Document] = (),
    namespaces: dict[str, str] | None = None,
    stub_docs: Iterable[Document] = (),
    lazy: dict[tuple[str, str], list[Loader]] | None = None,
) -> Inventory:
    """Index the objects of the linted documents and, for resolution only, of the context.

    ``namespaces`` maps a file to the namespace a kustomization gives its objects (the
    lazy context documents must need none).
    """
    inv = Inventory(lazy=dict(lazy or {}))
    ns = namespaces or {}
    for doc in docs:
        for obj in _objects_from(doc, doc.data, (), False, ns.get(doc.path)):
            inv.add(obj)
    for doc in stub_docs:
        for obj in _objects_from(doc, doc.data, (), True, ns.get(doc.path), stub=True):
            inv.add(obj)
    for doc in context_docs:
        for obj in _objects_from(doc, doc.data, (), True, ns.get(doc.path)):
            inv.add(obj)
    return inv


WORKLOAD_KINDS = frozenset(WORKLOAD_PATHS)
_KVLINT_ANNOTATION = "kvlint.io/"


def is_workload_doc(data: Any) -> bool:
    """A document holding one workload (not a List) of a KubeVirt group."""
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or data["kind"] not in WORKLOAD_KINDS:
        return False
    av = data.get("apiVersion")
    return isinstance(av, str) and av.rsplit("/", 1)[0] in KUBEVIRT_GROUPS


def _slim_meta(meta: Any) -> dict[str, Any]:
    meta = as_dict(meta)
    out = {k: meta[k] for k in ("name", "generateName", "namespace", "labels") if k in meta}
    labels = out.get("labels")
    if isinstance(labels, dict):
        # A plain copy: a stub's positions are its own, and a parsed mapping (with its
        # position table) costs several times as much to send between processes.
        out["labels"] = dict(labels)
    ann = as_dict(meta.get("annotations"))
    kept = {k: v for k, v in ann.items() if k.startswith(_KVLINT_ANNOTATION)}
    if kept:
        out["annotations"] = kept
    return out


def stub_document(doc: Document) -> Document:
    """A slim copy of a workload document: identity, labels and kvlint annotations of the
    object and of its VMI template, and its VFIO devices, with the positions of the
    identity and the annotations."""
    data = doc.data
    assert isinstance(data, dict)
    out: dict[str, Any] = {
        "apiVersion": data.get("apiVersion"),
        "kind": data.get("kind"),
        "metadata": _slim_meta(data.get("metadata")),
    }
    _, meta_path, _ = WORKLOAD_PATHS[str(data.get("kind"))]
    if meta_path != ("metadata",):
        tmeta = get(data, *meta_path)
        if isinstance(tmeta, dict):
            cur = out
            for k in meta_path[:-1]:
                cur = cur.setdefault(k, {})
            cur[meta_path[-1]] = _slim_meta(tmeta)
    # The VFIO devices (host devices, GPUs, SR-IOV interfaces) of the VMI spec: a
    # HyperConverged or KubeVirt CR that enables post-copy names the VMs that have them.
    spec_path, _, _ = WORKLOAD_PATHS[str(data.get("kind"))]
    devices = as_dict(get(data, *spec_path, "domain", "devices"))
    vfio: dict[str, Any] = {}
    for key in ("hostDevices", "gpus"):
        kept = [{"name": d.get("name")} for _, d in enumerate_dicts(devices.get(key))]
        if kept:
            vfio[key] = kept
    sriov: list[dict[str, Any]] = [
        {"name": d.get("name"), "sriov": {}}
        for _, d in enumerate_dicts(devices.get("interfaces"))
        if d.get("sriov") is not None
    ]
    if sriov:
        vfio["interfaces"] = sriov
    if vfio:
        cur = out
        for k in spec_path:
            cur = cur.setdefault(k, {})
        cur.setdefault("domain", {})["devices"] = vfio
    # The instancetype and preference the VM names: their devices count as the VM's own.
    vm_spec: Path | None = {"VirtualMachine": ("spec",), "VirtualMachinePool": spec_path[:-2]}.get(
        str(data.get("kind"))
    )
    if vm_spec is not None:
        for role in ("instancetype", "preference"):
            matcher = get(data, *vm_spec, role)
            if isinstance(matcher, dict):
                cur = out
                for k in vm_spec:
                    cur = cur.setdefault(k, {})
                cur[role] = {k: v for k, v in matcher.items() if isinstance(v, str)}
    ann_kept = as_dict(out["metadata"].get("annotations"))
    meta = data.get("metadata")
    table = getattr(data, "_p", None)
    pos: dict[Path, Pos] = {}
    if doc.explicit is None and table is not None and (meta is None or hasattr(meta, "_p")):
        # Read the positions straight from the parsed containers (what exact() would walk).
        if doc.root:
            pos[()] = unpack(doc.root)
        if "metadata" in table:
            pos[("metadata",)] = unpack(table["metadata"])
        mtable = getattr(meta, "_p", None) or {}
        for key in ("name", "annotations"):
            if key in mtable:
                pos[("metadata", key)] = unpack(mtable[key])
        atable = getattr(as_dict(meta).get("annotations"), "_p", None) or {}
        for k in ann_kept:
            if k in atable:
                pos[("metadata", "annotations", k)] = unpack(atable[k])
    else:
        wanted: list[Path] = [(), ("metadata",), ("metadata", "name"), ("metadata", "annotations")]
        wanted += [("metadata", "annotations", k) for k in ann_kept]
        pos = {p: hit for p in wanted if (hit := doc.exact(p)) is not None}
    return Document(doc.path, doc.index, out, pos, doc.origin)


def parse_version(text: str) -> tuple[int, int]:
    t = text.strip().lstrip("vV")
    parts = t.split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError as e:
        raise ValueError(f"not a KubeVirt version: {text!r} (expected e.g. 1.9 or v1.4.2)") from e


DEFAULT_VERSION = (1, 9)


#: Paths of the HyperConverged fields HCO copies into the KubeVirt CR, by apiVersion
#: (``hco.kubevirt.io/v1`` moves them under ``spec.virtualization`` / ``spec.networking``).
HCO_PATHS: dict[str, dict[str, Path]] = {
    "v1beta1": {
        "evictionStrategy": ("spec", "evictionStrategy"),
        "permittedHostDevices": ("spec", "permittedHostDevices"),
        "defaultCPUModel": ("spec", "defaultCPUModel"),
        "networkBinding": ("spec", "networkBinding"),
        "featureGates": ("spec", "featureGates"),
    },
    "v1": {
        "evictionStrategy": ("spec", "virtualization", "evictionStrategy"),
        "permittedHostDevices": ("spec", "virtualization", "permittedHostDevices"),
        "defaultCPUModel": ("spec", "virtualization", "virtualMachineOptions", "defaultCPUModel"),
        "networkBinding": ("spec", "networking", "networkBinding"),
        "featureGates": ("spec", "featureGates"),
    },
}
KV_JSONPATCH = "kubevirt.kubevirt.io/jsonpatch"


def hco_path(hco: K8sObject, name: str) -> Path:
    return HCO_PATHS["v1" if hco.api_version.endswith("/v1") else "v1beta1"][name]


def _hco_gate_states(hco: K8sObject) -> dict[str, bool]:
    """HCO feature gates as set on the HyperConverged: a mapping of booleans
    (``v1beta1``) or a list of ``{name, state}`` (``v1``; a gate listed without a state is
    enabled)."""
    raw = get(hco.data, *hco_path(hco, "featureGates"))
    if isinstance(raw, dict):
        return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, bool)}
    out: dict[str, bool] = {}
    for _, item in enumerate_dicts(raw):
        name = item.get("name")
        if isinstance(name, str):
            out[name] = item.get("state") in (None, "Enabled")
    return out


def _jsonpatch_gates(hco: K8sObject, gates: set[str]) -> None:
    """Apply the HyperConverged's (unsupported) jsonpatch annotation's add/replace/remove
    operations on the KubeVirt CR's feature gate list."""
    import json

    raw = hco.annotations().get(KV_JSONPATCH)
    if not isinstance(raw, str):
        return
    try:
        ops = json.loads(raw)
    except (ValueError, RecursionError):
        return
    prefix = "/spec/configuration/developerConfiguration/featureGates"
    for op in ops if isinstance(ops, list) else []:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str) or not op["path"].startswith(prefix):
            continue
        value = op.get("value")
        if op["path"] == prefix and op.get("op") in ("add", "replace") and isinstance(value, list):
            gates.clear()
            gates.update(g for g in value if isinstance(g, str))
        elif op.get("op") in ("add", "replace") and isinstance(value, str):
            gates.add(value)


def _common_instancetypes_deployed(
    version: tuple[int, int], gates: Any, kvconf: dict[str, Any], hco: K8sObject | None
) -> bool:
    """Whether virt-operator deploys the common instancetypes (reconcile.go
    commonInstancetypesDeploymentEnabled): from v1.4.0 unless
    commonInstancetypesDeployment.enabled is false (the KubeVirt CR's, or under HCO the
    HyperConverged's, which HCO copies), before that only with the
    CommonInstancetypesDeploymentGate gate (HCO v1.12 and v1.13 set it)."""
    from kvlint import versions

    if version >= versions.since("common-instancetypes-deployed"):
        if hco is not None:
            v1 = hco.api_version.endswith("/v1")
            path = ("spec", "workloadSources") if v1 else ("spec",)
            enabled = get(hco.data, *path, "commonInstancetypesDeployment", "enabled")
        else:
            enabled = get(kvconf, "commonInstancetypesDeployment", "enabled")
        return enabled is not False
    return gates is None or "CommonInstancetypesDeploymentGate" in gates


def cluster_facts(
    inv: Inventory,
    platform: str | None = None,
    version: tuple[int, int] | None = None,
    openshift_virtualization: tuple[int, int] | None = None,
) -> Cluster:
    """Derive platform, defaults and cluster settings from the objects in view.

    On HCO, a HyperConverged in view decides what HCO renders into the KubeVirt CR
    (eviction strategy, feature gates, network binding plugins, default CPU model, permitted
    host devices), unless a KubeVirt CR from the cluster state shows the rendering itself;
    a KubeVirt CR in the linted files is overwritten by HCO then.
    """
    from kvlint import versions

    hcos = sorted(inv.kind("HyperConverged"), key=lambda o: (o.context_only, o.file, o.name))
    kvs = [
        o
        for o in sorted(inv.kind("KubeVirt"), key=lambda o: (o.context_only, o.file, o.name))
        if o.group == "kubevirt.io"
    ]
    hco = hcos[0] if hcos else None
    kv = kvs[0] if kvs else None
    if openshift_virtualization is not None:
        row = versions.openshift_virtualization(openshift_virtualization)
        osv = f"{openshift_virtualization[0]}.{openshift_virtualization[1]}"
        plat, plat_src = (
            "hco",
            (
                f"configured: OpenShift Virtualization {osv}, HCO v{row['hco']} defaults"
                if row is not None
                else f"configured: OpenShift Virtualization {osv}"
            ),
        )
    elif platform:
        plat, plat_src = platform, "configured"
    elif hco is not None:
        plat, plat_src = "hco", f"detected from {hco.display()}"
    elif kv is not None:
        plat, plat_src = "kubevirt", f"detected from {kv.display()}"
    else:
        plat, plat_src = "hco", "assumed (no HyperConverged or KubeVirt CR in view; set --platform)"
    ver = version or DEFAULT_VERSION

    # On HCO with a HyperConverged in view, HCO's rendering decides (a KubeVirt CR from the
    # cluster state is that rendering; one in the linted files is overwritten).
    hco_rules = plat == "hco" and hco is not None and not (kv is not None and kv.context_only)
    hco_row = versions.hco_release(ver)
    hco_name = versions.hco_label(hco_row)

    kvconf_path: Path = ("spec", "configuration")
    kvconf = as_dict(get(kv.data, *kvconf_path)) if kv else {}
    net = as_dict(kvconf.get("network"))

    # Default pod interface binding.
    if plat == "hco":
        default_iface = Setting("masquerade", hco, ("spec",), assumed=hco is None, note="HCO forces masquerade")
    elif kv is not None and isinstance(net.get("defaultNetworkInterface"), str):
        default_iface = Setting(
            net["defaultNetworkInterface"], kv, kvconf_path + ("network", "defaultNetworkInterface")
        )
    elif kv is not None:
        default_iface = Setting("bridge", kv, kvconf_path, note="KubeVirt default")
    else:
        default_iface = Setting("bridge", None, (), assumed=True, note="plain KubeVirt default")

    permit = net.get("permitBridgeInterfaceOnPodNetwork")
    permit_bridge = (
        Setting(permit, kv, kvconf_path + ("network", "permitBridgeInterfaceOnPodNetwork"))
        if isinstance(permit, bool)
        else Setting(True, kv, (), assumed=kv is None, note="KubeVirt default")
    )

    # Eviction strategy.
    evict: Setting
    if plat == "hco" and hco is not None:
        v1 = hco.api_version.endswith("/v1")
        p: Path = ("spec", "virtualization", "evictionStrategy") if v1 else ("spec", "evictionStrategy")
        value = get(hco.data, *p)
        if not isinstance(value, str) and v1:
            # Tolerate the v1beta1 location on a v1 object as well (schema rules flag it).
            value = get(hco.data, "spec", "evictionStrategy")
            p = ("spec", "evictionStrategy")
        ha = get(hco.data, "status", "infrastructureHighlyAvailable")
        if isinstance(value, str):
            evict = Setting(value, hco, p)
        elif ha is False:
            evict = Setting(
                "None",
                hco,
                ("status", "infrastructureHighlyAvailable"),
                note="HCO's mutator writes None on a single-worker cluster",
            )
        else:
            # HCO's mutating webhook (mutateEvictionStrategy) writes LiveMigrate into an unset
            # evictionStrategy when the cluster has more than one worker node.
            evict = Setting(
                "LiveMigrate",
                hco,
                p,
                note="written by HCO's mutator on a cluster with more than one worker node",
            )
    elif kv is not None and isinstance(kvconf.get("evictionStrategy"), str):
        evict = Setting(kvconf["evictionStrategy"], kv, kvconf_path + ("evictionStrategy",))
    elif plat == "kubevirt" and kv is not None:
        evict = Setting("None", kv, kvconf_path, note="KubeVirt default")
    elif plat == "hco":
        evict = Setting(
            "LiveMigrate",
            None,
            (),
            assumed=True,
            note="assumed HCO default (LiveMigrate on highly-available clusters)",
        )
    else:
        evict = Setting("None", None, (), assumed=True, note="assumed KubeVirt default")

    dev = as_dict(kvconf.get("developerConfiguration"))
    gates = dev.get("featureGates")
    if hco_rules and hco is not None:
        rendered = versions.hco_feature_gates(hco_row, _hco_gate_states(hco))
        _jsonpatch_gates(hco, rendered)
        feature_gates = Setting(
            frozenset(rendered),
            hco,
            hco_path(hco, "featureGates"),
            note=f"the gates {hco_name} sets in the KubeVirt CR",
        )
    elif kv is not None:
        feature_gates = Setting(
            frozenset(g for g in as_list(gates) if isinstance(g, str)),
            kv,
            kvconf_path + ("developerConfiguration", "featureGates"),
        )
    else:
        feature_gates = Setting(None, None, (), assumed=True, note="no KubeVirt CR in view")

    binding_conf = as_dict(net.get("binding"))
    if hco_rules and hco is not None:
        binding_conf = as_dict(get(hco.data, *hco_path(hco, "networkBinding")))
    bindings_value: dict[str, bool] = {
        name: isinstance(spec, dict) and spec.get("migration") is not None for name, spec in binding_conf.items()
    }
    if plat == "hco" and hco_row.get("l2bridgeBinding"):
        bindings_value.setdefault("l2bridge", True)  # HCO v1.13+ registers it, with migration
    bindings = (
        Setting(bindings_value, hco, hco_path(hco, "networkBinding"), note=f"{hco_name}: getNetworkBindings")
        if hco_rules and hco is not None
        else Setting(bindings_value, kv, kvconf_path + ("network", "binding"))
        if kv is not None
        else Setting(bindings_value if plat == "hco" else None, hco, (), assumed=True)
    )

    permitted = as_dict(kvconf.get("permittedHostDevices"))
    mdevs = frozenset(
        d.get("resourceName")
        for _, d in enumerate_dicts(permitted.get("mediatedDevices"))
        if isinstance(d.get("resourceName"), str)
    )
    if kv is not None and not hco_rules:
        mediated = Setting(mdevs, kv, kvconf_path + ("permittedHostDevices", "mediatedDevices"))
    elif hco is not None:
        hpd = as_dict(get(hco.data, *hco_path(hco, "permittedHostDevices")))
        mediated = Setting(
            frozenset(
                d.get("resourceName")
                for _, d in enumerate_dicts(hpd.get("mediatedDevices"))
                if isinstance(d.get("resourceName"), str)
            ),
            hco,
            hco_path(hco, "permittedHostDevices") + ("mediatedDevices",),
        )
    else:
        mediated = Setting(None, None, (), assumed=True)

    cpu_model_value = kvconf.get("cpuModel")
    cpu_model_src, cpu_model_path = kv, kvconf_path + ("cpuModel",)
    if hco_rules and hco is not None:
        cpu_model_value = get(hco.data, *hco_path(hco, "defaultCPUModel"))
        cpu_model_src, cpu_model_path = hco, hco_path(hco, "defaultCPUModel")
    cpu_model = (
        Setting(cpu_model_value, cpu_model_src, cpu_model_path)
        if isinstance(cpu_model_value, str) and cpu_model_value
        else Setting(None, cpu_model_src, (), assumed=cpu_model_src is None, note="KubeVirt default (host-model)")
    )
    arch_value = kvconf.get("architectureConfiguration")
    arch_default = get(arch_value, "defaultArchitecture")
    architecture = (
        Setting(arch_default, kv, kvconf_path + ("architectureConfiguration", "defaultArchitecture"))
        if isinstance(arch_default, str)
        else Setting("amd64", None, (), assumed=True, note="assumed amd64")
    )

    common = _common_instancetypes_deployed(ver, feature_gates.value, kvconf, hco if hco_rules else None)
    if (inv.target_version, inv.target_platform, inv.common_instancetypes) != (ver, plat, common):
        inv.target_version, inv.target_platform, inv.common_instancetypes = ver, plat, common
        for w in inv.loaded_workloads:
            w._vmi = None

    return Cluster(
        platform=plat,
        platform_source=plat_src,
        version=ver,
        hco=hco,
        kubevirt=kv,
        default_interface=default_iface,
        permit_bridge_on_pod=permit_bridge,
        eviction_strategy=evict,
        feature_gates=feature_gates,
        bindings=bindings,
        mediated_devices=mediated,
        cpu_model=cpu_model,
        architecture=architecture,
        hco_release=hco_row,
    )
