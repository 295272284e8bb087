"""KV3xx: CPU, devices, confidential computing, Hyper-V, scheduling, instancetypes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kvlint import versions
from kvlint.checks import workload
from kvlint.inventory import Workload, as_dict, as_list, enumerate_dicts, get, path_str
from kvlint.models import Finding

if TYPE_CHECKING:
    from kvlint.engine import Context

HOSTNAME = "kubernetes.io/hostname"
HOST_MODEL_LABEL = "host-model-cpu.node.kubevirt.io/"
TSC_LABEL = "cpu-timer.node.kubevirt.io/tsc-frequency"
CPUMANAGER_LABEL = "kubevirt.io/cpumanager"


def _nodes(ctx: Context) -> list[dict[str, Any]]:
    return [as_dict(get(n.data, "metadata", "labels")) for n in ctx.inv.kind("Node")]


@workload("KV301")
def host_devices(ctx: Context, w: Workload) -> Iterator[Finding]:
    for i, dev in enumerate_dicts(w.devices().get("hostDevices")):
        msg = (
            "VMI uses a PCI host devices"
            if not versions.holds("pci-host-device-message", ctx.cluster.version)
            else "VMI specifies non-migratable generic PCI host device"
        )
        yield ctx.finding(
            "KV301",
            w.obj,
            w.sp("domain", "devices", "hostDevices", i),
            f"host device {dev.get('name')!r} ({dev.get('deviceName') or dev.get('claimName')}) "
            f"is passed through: {msg}",
        )


@workload("KV302")
def gpus(ctx: Context, w: Workload) -> Iterator[Finding]:
    gpu_list = list(enumerate_dicts(w.devices().get("gpus")))
    if not gpu_list:
        return
    base = w.sp("domain", "devices", "gpus")
    if not versions.holds("vgpu-live-migration", ctx.cluster.version):
        yield ctx.finding(
            "KV302",
            w.obj,
            base + (gpu_list[0][0],),
            "VMI uses a PCI host devices: any GPU blocks live migration before KubeVirt v1.9",
        )
        return
    if len(gpu_list) > 1:
        yield ctx.finding(
            "KV302",
            w.obj,
            base + (gpu_list[1][0],),
            f"{len(gpu_list)} GPUs are assigned: VMI specifies too many GPUs (at most one "
            "mediated vGPU can be live-migrated)",
        )
        return
    i, gpu = gpu_list[0]
    path = base + (i,)
    gates = ctx.cluster.feature_gates
    name = gpu.get("name")
    device = gpu.get("deviceName")
    if not isinstance(device, str):
        # A DRA GPU (claimName, no deviceName) is never a permitted mediated device: checked
        # before the gate, so the verdict does not depend on it.
        yield ctx.finding(
            "KV302",
            w.obj,
            path,
            f"GPU {name!r} is a DRA GPU (claimName): VMI specifies non-migratable GPU device",
        )
        return
    if gates.value is None:
        yield ctx.finding(
            "KV302",
            w.obj,
            path,
            f"GPU {name!r}: live migration of a GPU needs the VGPULiveMigration feature gate, and "
            "no KubeVirt CR is in view to tell whether it is on (off by default)",
            severity="warning",
        )
        return
    if "VGPULiveMigration" not in gates.value:
        hco_note = (
            " (HCO does not enable it; only its jsonpatch annotation could)"
            if ctx.cluster.platform == "hco" and gates.source is not None and gates.source.kind == "HyperConverged"
            else ""
        )
        yield ctx.finding(
            "KV302",
            w.obj,
            path,
            f"GPU {name!r}: VMI specifies a GPU but feature gate VGPULiveMigration is not enabled{hco_note}",
            related=[gates.source.loc(gates.path, label="feature gates")] if gates.source else [],
        )
        return
    mdevs = ctx.cluster.mediated_devices.value
    if mdevs is not None and device not in mdevs:
        yield ctx.finding(
            "KV302",
            w.obj,
            path + ("deviceName",),
            f"GPU {name!r} ({device}) is not a permitted mediated device "
            "(permittedHostDevices.mediatedDevices): VMI specifies non-migratable GPU device",
        )


@workload("KV303", "KV304", "KV305")
def launch_security(ctx: Context, w: Workload) -> Iterator[Finding]:
    ls = get(w.spec, "domain", "launchSecurity")
    if not isinstance(ls, dict):
        return
    path = w.sp("domain", "launchSecurity")
    arch = w.spec.get("architecture") or ctx.cluster.architecture.value
    if arch == "s390x":
        if versions.holds("secure-execution-blocks", ctx.cluster.version):
            yield ctx.finding("KV305", w.obj, path, "VMI uses Secure Execution (s390x launchSecurity)")
        return
    if isinstance(ls.get("sev"), dict):
        yield ctx.finding(
            "KV303", w.obj, path + ("sev",), "VMI uses SEV: encrypted guest memory cannot be live-migrated"
        )
    if isinstance(ls.get("snp"), dict) and versions.holds("snp-tdx-block", ctx.cluster.version):
        yield ctx.finding(
            "KV303", w.obj, path + ("snp",), "VMI uses SEV-SNP, which KubeVirt counts as SEV: VMI uses SEV"
        )
    if isinstance(ls.get("tdx"), dict) and versions.holds("snp-tdx-block", ctx.cluster.version):
        yield ctx.finding("KV304", w.obj, path + ("tdx",), "VMI uses TDX: trust-domain guests cannot be live-migrated")


@workload("KV306", "KV307")
def hyperv(ctx: Context, w: Workload) -> Iterator[Finding]:
    features = as_dict(get(w.spec, "domain", "features"))
    hp = features.get("hypervPassthrough")
    fpath = w.sp("domain", "features")
    if (
        isinstance(hp, dict)
        and isinstance(features.get("hyperv"), dict)
        and versions.holds("hyperv-with-passthrough-rejected", ctx.cluster.version)
    ):
        # v1.9.0 pkg/virt-api/webhooks/hyperv.go ValidateVirtualMachineInstanceHypervMode
        yield ctx.finding(
            "KV306",
            w.obj,
            fpath + ("hyperv",),
            "rejected at admission: Cannot explicitly set hyperV features if HypervPassthrough is "
            "being used (hyperv and hypervPassthrough are both set), so the VM never runs",
            fix="keep either spec.domain.features.hyperv or hypervPassthrough, not both",
        )
        return
    if isinstance(hp, dict) and versions.holds("hyperv-passthrough-blocks", ctx.cluster.version):
        enabled = hp.get("enabled")
        if enabled is True:
            yield ctx.finding("KV306", w.obj, fpath + ("hypervPassthrough", "enabled"), "VMI uses hyperv passthrough")
        elif enabled is None:
            yield ctx.finding(
                "KV306",
                w.obj,
                fpath + ("hypervPassthrough",),
                "hypervPassthrough is set without 'enabled'; KubeVirt reads the flag without a "
                "nil check, so the outcome is undefined",
                severity="warning",
                fix="write 'hypervPassthrough: {enabled: false}' or remove it (true blocks live migration)",
            )
    reen = get(features, "hyperv", "reenlightenment")
    # FeatureState.enabled defaults to true (SetDefaults_FeatureState), so `reenlightenment: {}` is on.
    if isinstance(reen, dict) and reen.get("enabled") is not False:
        # The TSC frequency hint that lets it migrate (v1.9.0 pkg/virt-controller/watch/
        # topology/hinter.go TopologyHintsForVMI) is computed for amd64 VMIs only, from the
        # KubeVirt CR's minimumClusterTSCFrequency when set, else from the nodes' labels.
        arch = w.spec.get("architecture") or ctx.cluster.architecture.value
        if arch != "amd64":
            yield ctx.finding(
                "KV307",
                w.obj,
                fpath + ("hyperv", "reenlightenment"),
                f"Hyper-V reenlightenment is on in a {arch} VMI: KubeVirt computes the TSC frequency "
                "hint for amd64 VMIs only, so HyperV Reenlightenment VMIs cannot migrate when TSC "
                "Frequency is not exposed on the cluster",
                severity="error",
            )
            return
        kv = ctx.cluster.kubevirt
        minimum = (
            get(kv.data, "spec", "configuration", "developerConfiguration", "minimumClusterTSCFrequency")
            if kv is not None
            else None
        )
        if isinstance(minimum, int) and not isinstance(minimum, bool) and minimum > 0:
            return  # the configured cluster minimum is the hint
        nodes = _nodes(ctx)
        with_tsc = [n for n in nodes if any(k.startswith(TSC_LABEL) for k in n)]
        if with_tsc:
            return  # the cluster exposes the TSC frequency: KubeVirt sets the topology hint
        if nodes:
            sev, extra = "error", "no Node in view exposes the label " + TSC_LABEL
        else:
            sev, extra = (
                "warning",
                (
                    "it migrates only if nodes expose the TSC frequency (label "
                    + TSC_LABEL
                    + "), which kvlint cannot see offline"
                ),
            )
        yield ctx.finding(
            "KV307",
            w.obj,
            fpath + ("hyperv", "reenlightenment", "enabled"),
            "Hyper-V reenlightenment is on: HyperV Reenlightenment VMIs cannot migrate when TSC "
            f"Frequency is not exposed on the cluster; {extra}",
            severity=sev,
        )


def _cpu_model(ctx: Context, w: Workload) -> tuple[str, bool]:
    """Effective CPU model, and whether it is explicit in the template."""
    model = get(w.spec, "domain", "cpu", "model")
    if isinstance(model, str) and model:
        return model, True
    if isinstance(ctx.cluster.cpu_model.value, str):
        return ctx.cluster.cpu_model.value, False
    arch = w.spec.get("architecture") or ctx.cluster.architecture.value
    return ("host-passthrough" if arch == "arm64" else "host-model"), False


@workload("KV308", "KV309")
def cpu_model(ctx: Context, w: Workload) -> Iterator[Finding]:
    model, explicit = _cpu_model(ctx, w)
    path = w.sp("domain", "cpu", "model")
    if model == "host-passthrough" and explicit:
        yield ctx.finding(
            "KV309",
            w.obj,
            path,
            "cpu.model is host-passthrough: KubeVirt adds no CPU-model node selector to the "
            "migration target, so the VM may land on a host with a different CPU and fail "
            "inside libvirt/QEMU (or crash the guest)",
        )
    if model == "host-model":
        nodes = _nodes(ctx)
        if not nodes:
            return
        models = [n for n in nodes if any(k.startswith(HOST_MODEL_LABEL) for k in n)]
        where = path if explicit else w.sp("domain")
        how = "explicit" if explicit else "KubeVirt default"
        if any(k.startswith(MIGRATION_MODEL_LABEL) for n in nodes for k in n):
            yield from _host_model_targets(ctx, w, where, how, nodes)
            return
        if len(models) < 2:
            yield ctx.finding(
                "KV308",
                w.obj,
                where,
                f"the VMI uses the host-model CPU ({how}), "
                f"but only {len(models)} Node(s) in view carry a {HOST_MODEL_LABEL}* label: there "
                "is no second node to migrate to (the node does not allow migration with host-model)",
            )


#: The label a migration target needs for a source whose host-model CPU is <model>
#: (v1.9.0 pkg/virt-controller/watch/migration/migration.go getHostCpuModelFromMap).
MIGRATION_MODEL_LABEL = "cpu-model-migration.node.kubevirt.io/"


def _host_model_targets(
    ctx: Context, w: Workload, where: tuple[Any, ...], how: str, nodes: list[dict[str, Any]]
) -> Iterator[Finding]:
    """With the node labeller's labels in view: for each node the VM may run on (its
    host-model CPU <M>), is there another node labelled cpu-model-migration.../<M>?"""
    stuck: list[str] = []
    sources = 0
    for i, n in enumerate(nodes):
        host = [k[len(HOST_MODEL_LABEL) :] for k in n if k.startswith(HOST_MODEL_LABEL) and str(n[k]).lower() == "true"]
        if not host:
            continue
        sources += 1
        label = MIGRATION_MODEL_LABEL + host[0]
        if not any(str(m.get(label, "")).lower() == "true" for j, m in enumerate(nodes) if j != i):
            stuck.append(host[0])
    if sources == 0:
        yield ctx.finding(
            "KV308",
            w.obj,
            where,
            f"the VMI uses the host-model CPU ({how}), but no Node in view carries a {HOST_MODEL_LABEL}* "
            "label: the node does not allow migration with host-model",
        )
        return
    if not stuck:
        return
    models = ", ".join(sorted(set(stuck)))
    if len(stuck) == sources:
        yield ctx.finding(
            "KV308",
            w.obj,
            where,
            f"the VMI uses the host-model CPU ({how}); the migration target must carry "
            f"{MIGRATION_MODEL_LABEL}<source host model>, and for no node in view does another node "
            f"carry it (host models: {models}): no node is suitable to run the required CPU model",
        )
    else:
        yield ctx.finding(
            "KV308",
            w.obj,
            where,
            f"the VMI uses the host-model CPU ({how}); started on a node whose host model is {models}, "
            f"it cannot migrate: no other node in view carries {MIGRATION_MODEL_LABEL}<that model>",
            severity="warning",
        )


@workload("KV310")
def dedicated_cpu(ctx: Context, w: Workload) -> Iterator[Finding]:
    cpu = as_dict(get(w.spec, "domain", "cpu"))
    if cpu.get("dedicatedCpuPlacement") is not True:
        return
    path = w.sp("domain", "cpu", "dedicatedCpuPlacement")
    v = ctx.cluster.version
    lifted = versions.since("dedicated-cpu-isolated-emulator-migratable")
    if cpu.get("isolateEmulatorThread") is True and (0, 59) <= v < lifted:
        yield ctx.finding(
            "KV310",
            w.obj,
            path,
            "VMI uses dedicated CPUs and emulator thread isolation, which blocks live migration in KubeVirt v0.59–v1.0",
            severity="error",
            blocks=True,
            fix="upgrade to KubeVirt v1.1 or later, or drop isolateEmulatorThread",
        )
        return
    nodes = _nodes(ctx)
    cpumanager = [n for n in nodes if str(n.get(CPUMANAGER_LABEL, "")).lower() == "true"]
    if nodes and len(cpumanager) < 2:
        yield ctx.finding(
            "KV310",
            w.obj,
            path,
            f"dedicatedCpuPlacement pins vCPUs: the migration target needs another node labelled "
            f"{CPUMANAGER_LABEL}=true with free dedicated CPUs, and only {len(cpumanager)} Node(s) in "
            "view carry it",
            severity="warning",
            blocks=True,
        )
    else:
        yield ctx.finding(
            "KV310",
            w.obj,
            path,
            "dedicatedCpuPlacement pins vCPUs: the migration target must be another node labelled "
            f"{CPUMANAGER_LABEL}=true with enough free dedicated CPUs, or the migration stays pending",
        )


def _single_host_terms(aff: Any) -> list[tuple[tuple[Any, ...], str]]:
    """Paths (relative to affinity) of required node-affinity terms that allow one host."""
    out = []
    terms = get(aff, "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
    term_list = list(enumerate_dicts(terms))
    hosts_per_term = []
    for ti, term in term_list:
        hosts: set[str] | None = None
        where: tuple[Any, ...] = ()
        for key in ("matchExpressions", "matchFields"):
            for ei, expr in enumerate_dicts(term.get(key)):
                k = expr.get("key")
                on_host = (key == "matchExpressions" and k == HOSTNAME) or (
                    key == "matchFields" and k == "metadata.name"
                )
                if on_host and expr.get("operator") == "In":
                    vals = {v for v in as_list(expr.get("values")) if isinstance(v, str)}
                    hosts = vals if hosts is None else hosts & vals
                    where = (
                        "nodeAffinity",
                        "requiredDuringSchedulingIgnoredDuringExecution",
                        "nodeSelectorTerms",
                        ti,
                        key,
                        ei,
                    )
        hosts_per_term.append((hosts, where))
    # Terms are ORed: pinned only if every term pins to hosts, and together they allow one.
    if term_list and all(h is not None for h, _ in hosts_per_term):
        union: set[str] = set().union(*(h for h, _ in hosts_per_term if h is not None))
        if len(union) <= 1:
            out.append((hosts_per_term[0][1], next(iter(union), "")))
    return out


@workload("KV311")
def node_pinning(ctx: Context, w: Workload) -> Iterator[Finding]:
    sel = w.spec.get("nodeSelector")
    if isinstance(sel, dict) and isinstance(sel.get(HOSTNAME), str):
        yield ctx.finding(
            "KV311",
            w.obj,
            w.sp("nodeSelector", HOSTNAME),
            f"nodeSelector pins the VM to node {sel[HOSTNAME]!r}: the migration target pod "
            "inherits the selector and may never run on the source node, so every migration "
            "stays unschedulable and fails",
            scheduling=True,
        )
        return
    for rel, host in _single_host_terms(w.spec.get("affinity")):
        yield ctx.finding(
            "KV311",
            w.obj,
            w.sp("affinity", *rel),
            f"required node affinity allows only node {host!r}: the migration target pod inherits "
            "it and can never be scheduled away from the source node",
            scheduling=True,
        )


CPU_MODEL_LABEL = "cpu-model.node.kubevirt.io/"
CPU_FEATURE_LABEL = "cpu-feature.node.kubevirt.io/"


@workload("KV312")
def cpu_node_labels(ctx: Context, w: Workload) -> Iterator[Finding]:
    """A named CPU model or required CPU features become node-selector labels on the
    migration target: with Nodes in view, at least two nodes must carry them."""
    nodes = _nodes(ctx)
    if not nodes:
        return
    model, explicit = _cpu_model(ctx, w)
    needs: list[tuple[str, tuple[Any, ...]]] = []
    if model not in ("host-model", "host-passthrough"):
        path = w.sp("domain", "cpu", "model") if explicit else w.sp("domain")
        needs.append((CPU_MODEL_LABEL + model, path))
    for i, feat in enumerate_dicts(get(w.spec, "domain", "cpu", "features")):
        name = feat.get("name")
        if isinstance(name, str) and feat.get("policy") in (None, "", "require"):
            needs.append((CPU_FEATURE_LABEL + name, w.sp("domain", "cpu", "features", i)))
    for label, path in needs:
        carriers = sum(1 for n in nodes if str(n.get(label, "")).lower() == "true")
        if carriers < 2:
            yield ctx.finding(
                "KV312",
                w.obj,
                path,
                f"the launcher pod requires the node label {label}=true, and only {carriers} "
                f"of the {len(nodes)} Node(s) in view carry it: there is no second node the "
                "migration target could be scheduled on",
                scheduling=True,
            )


@workload("KV313", "KV314")
def instancetype_application(ctx: Context, w: Workload) -> Iterator[Finding]:
    """The instancetype and preference the VM names: conflicts KubeVirt rejects, and
    objects kvlint cannot see (the template alone is judged then)."""
    if w.obj.kind not in ("VirtualMachine", "VirtualMachinePool"):
        return
    eff = w.vmi()
    for path, origin in eff.conflicts:
        related = [origin.obj.loc(origin.path, label=origin.label)] if origin.obj is not None else []
        where = path_str(path[len(w.spec_path) :]) if path[: len(w.spec_path)] == w.spec_path else path_str(path)
        yield ctx.finding(
            "KV313",
            w.obj,
            path,
            f"VM field(s) {where} conflicts with selected instance type: {origin.label} sets "
            f"{path_str(origin.path)}, so KubeVirt rejects the VM",
            related=related,
        )
    for origin, why, short in eff.unmet:
        related = [origin.obj.loc(origin.path, label=origin.label)] if origin.obj is not None else []
        by_it = short[-1:] == ("instancetype",)
        yield ctx.finding(
            "KV313",
            w.obj,
            short,
            f"{why} ({origin.label} {path_str(origin.path)}): KubeVirt rejects the VM",
            related=related,
            fix=(
                "pick a larger instancetype, or a preference whose requirements it meets"
                if by_it
                else f"give the VM what the preference requires at {path_str(short[len(w.spec_path) :])}, "
                "or pick a preference whose requirements it meets"
            ),
        )
    for u in eff.unknown:
        yield ctx.finding(
            "KV314",
            w.obj,
            u.ref,
            f"{u.why}: kvlint judges the VM template without its {u.role} values (CPU placement, "
            "memory, GPUs, host devices, node selector...)",
            fix=(
                f"add the {u.kind} {u.name} manifest to the linted files or pass it with --cluster-state"
                if u.name
                else f"name the {u.role} in spec.{u.role}.name, or pass the objects it is inferred from"
            ),
        )
