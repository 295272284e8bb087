"""KV3xx: CPU, devices, confidential computing, Hyper-V, scheduling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kvlint.checks import workload
from kvlint.inventory import Workload, as_dict, as_list, enumerate_dicts, get
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
            if ctx.cluster.version < (1, 9)
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
    if ctx.cluster.version < (1, 9):
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
        yield ctx.finding(
            "KV302",
            w.obj,
            path,
            f"GPU {name!r}: VMI specifies a GPU but feature gate VGPULiveMigration is not enabled",
            related=[gates.source.loc(gates.path, label="feature gates")] if gates.source else [],
        )
        return
    device = gpu.get("deviceName")
    mdevs = ctx.cluster.mediated_devices.value
    if not isinstance(device, str):
        yield ctx.finding(
            "KV302",
            w.obj,
            path,
            f"GPU {name!r} is a DRA GPU (claimName): VMI specifies non-migratable GPU device",
        )
    elif mdevs is not None and device not in mdevs:
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
        if ctx.cluster.version >= (1, 6):
            yield ctx.finding("KV305", w.obj, path, "VMI uses Secure Execution (s390x launchSecurity)")
        return
    if isinstance(ls.get("sev"), dict):
        yield ctx.finding(
            "KV303", w.obj, path + ("sev",), "VMI uses SEV: encrypted guest memory cannot be live-migrated"
        )
    if isinstance(ls.get("snp"), dict) and ctx.cluster.version >= (1, 7):
        yield ctx.finding(
            "KV303", w.obj, path + ("snp",), "VMI uses SEV-SNP, which KubeVirt counts as SEV: VMI uses SEV"
        )
    if isinstance(ls.get("tdx"), dict) and ctx.cluster.version >= (1, 7):
        yield ctx.finding("KV304", w.obj, path + ("tdx",), "VMI uses TDX: trust-domain guests cannot be live-migrated")


@workload("KV306", "KV307")
def hyperv(ctx: Context, w: Workload) -> Iterator[Finding]:
    features = as_dict(get(w.spec, "domain", "features"))
    hp = features.get("hypervPassthrough")
    fpath = w.sp("domain", "features")
    if isinstance(hp, dict) and ctx.cluster.version >= (1, 3):
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
        if len(models) < 2:
            yield ctx.finding(
                "KV308",
                w.obj,
                path if explicit else w.sp("domain"),
                f"the VMI uses the host-model CPU ({'explicit' if explicit else 'KubeVirt default'}), "
                f"but only {len(models)} Node(s) in view carry a {HOST_MODEL_LABEL}* label: there "
                "is no second node to migrate to (the node does not allow migration with host-model)",
            )


@workload("KV310")
def dedicated_cpu(ctx: Context, w: Workload) -> Iterator[Finding]:
    cpu = as_dict(get(w.spec, "domain", "cpu"))
    if cpu.get("dedicatedCpuPlacement") is not True:
        return
    path = w.sp("domain", "cpu", "dedicatedCpuPlacement")
    v = ctx.cluster.version
    if cpu.get("isolateEmulatorThread") is True and (0, 59) <= v < (1, 1):
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
