"""KV6xx: VirtualMachineInstanceMigration (admission and what virt-handler checks).

The create admission (``migration-create-admitter.go``) is replayed offline: vmiName and
priority, the target VMI looked up in the migration's own namespace, its LiveMigratable
verdict (from the blockers phase-1 rules found, hence phase 2), and the decentralized
(cross-cluster) fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kvlint.checks import objects
from kvlint.checks.eviction import blockers
from kvlint.inventory import K8sObject, Workload, as_dict
from kvlint.models import Finding

if TYPE_CHECKING:
    from kvlint.engine import Context

DECENTRALIZED_GATE = "DecentralizedLiveMigration"
DISKS_REASON = "DisksNotLiveMigratable"
#: The order in which virt-handler's calculateLiveMigrationCondition tests the reasons
#: (v1.6+); only the first failing one is reported. In v1.0-v1.5 the disk check came first.
REASON_ORDER = (
    "InterfaceNotLiveMigratable",
    "CPUModeLiveMigratable",
    "HostDeviceNotLiveMigratable",
    "SEVNotLiveMigratable",
    "TDXNotLiveMigratable",
    "SecureExecutionNotLiveMigratable",
    "NoTSCFrequencyNotLiveMigratable",
    "HypervPassthroughNotLiveMigratable",
    DISKS_REASON,
)
PRIORITY_MESSAGE = "Migration priority queue, only virt-controller is allowed to set priority field"


def _is_vmim(obj: K8sObject) -> bool:
    return obj.group == "kubevirt.io"


def _spec(obj: K8sObject) -> dict[str, Any]:
    return as_dict(obj.data.get("spec"))


def _vmi_name(obj: K8sObject) -> str | None:
    name = _spec(obj).get("vmiName")
    return name if isinstance(name, str) and name else None


def _decentralized(obj: K8sObject) -> list[str]:
    spec = _spec(obj)
    return [k for k in ("sendTo", "receive") if spec.get(k) is not None]


def target(ctx: Context, obj: K8sObject) -> Workload | None:
    """The VMI the migration names, looked up in the migration's own namespace; a VM of that
    name counts, since the VMI it starts has the VM's name."""
    name = _vmi_name(obj)
    if name is None:
        return None
    for kind in ("VirtualMachineInstance", "VirtualMachine"):
        hit = ctx.inv.lookup(kind, obj.ns, name)
        if hit is None:
            continue
        for w in ctx.inv.workloads:
            if w.obj is hit:
                return w
    return None


def _order(ctx: Context) -> tuple[str, ...]:
    if ctx.cluster.version < (1, 6):
        return (DISKS_REASON,) + tuple(r for r in REASON_ORDER if r != DISKS_REASON)
    return REASON_ORDER


def _rank(ctx: Context, f: Finding) -> int:
    order = _order(ctx)
    return order.index(f.reason) if f.reason in order else len(order)


def _rejects(f: Finding) -> bool:
    """A blocker that makes LiveMigratable False (it carries one of its reasons), as opposed to
    one that lets the migration be admitted and then fail (e.g. an unschedulable target)."""
    return f.reason is not None and f.reason.endswith("LiveMigratable")


def _describe(found: list[Finding]) -> str:
    parts = []
    for f in found[:4]:
        head = f"{f.rule} {f.reason or ''}".strip()
        parts.append(f"{head} at line {f.location.line}: {f.message}")
    more = f"; and {len(found) - 4} more" if len(found) > 4 else ""
    return "; ".join(parts) + more


# --------------------------------------------------------------------------- phase 1


@objects(("VirtualMachineInstanceMigration",), "KV601", "KV602", "KV604", "KV605", "KV606", "KV607")
def migration_spec(ctx: Context, obj: K8sObject) -> Iterator[Finding]:
    if not _is_vmim(obj):
        return
    spec = _spec(obj)
    ns = obj.ns or "<namespace>"

    yield ctx.finding(
        "KV605",
        obj,
        ("kind",),
        f"{obj.display()} is a one-shot action committed as a manifest: a GitOps tool (Argo CD, "
        "Flux) re-applies it on every sync, which starts a new migration once the old object is "
        "gone, or prunes/shows it OutOfSync once it completes; its spec can never be changed "
        '("update of Migration object\'s spec is restricted")',
        fix="trigger migrations imperatively instead of committing them:\n"
        f"  virtctl migrate {_vmi_name(obj) or '<vm>'} -n {ns}\n"
        "or from a Job (or an Argo CD hook with hook-delete-policy) that runs virtctl migrate, "
        "and remove this manifest from the tree",
    )

    raw = spec.get("vmiName")
    if not isinstance(raw, str) or not raw:
        path: tuple[str, ...] = ("kind",)
        if "vmiName" in spec:
            path = ("spec", "vmiName")
        elif "spec" in obj.data:
            path = ("spec",)
        if raw is None or raw == "":
            msg = (
                "vmiName is missing: KubeVirt's admission rejects the migration with "
                '"vmiName is missing" (spec.vmiName)'
            )
        else:
            msg = (
                f"spec.vmiName is {raw!r}, not a string (YAML reads unquoted numbers and "
                "true/yes/on as non-strings): the API server rejects the migration; quote the name"
            )
        fix = "name the VMI to migrate (for a VM, the VM's name):\n  spec:\n    vmiName: <vm-name>"
        if raw is not None and raw != "" and not isinstance(raw, (dict, list)):
            shown = str(raw).lower() if isinstance(raw, bool) else str(raw)
            fix = f'quote the name:\n  spec:\n    vmiName: "{shown}"'
        yield ctx.finding("KV601", obj, path, msg, fix=fix)

    if spec.get("priority") is not None:
        yield ctx.finding(
            "KV602",
            obj,
            ("spec", "priority"),
            f"spec.priority is set ({spec.get('priority')!r}): KubeVirt's admission rejects it "
            f'with "{PRIORITY_MESSAGE}" (reported on spec.migrationPriority); the priority '
            "queue is for evacuation and descheduler migrations only",
            fix="remove spec.priority:\n  spec:\n    vmiName: " + (_vmi_name(obj) or "<vm-name>"),
        )

    vmi_name = _vmi_name(obj)
    if vmi_name is not None and target(ctx, obj) is None:
        yield ctx.finding(
            "KV604",
            obj,
            ("spec", "vmiName"),
            f"no VirtualMachineInstance or VirtualMachine named {vmi_name!r} in namespace "
            f"{obj.ns or '(unset)'} is in view, so kvlint cannot tell whether it can migrate. "
            "KubeVirt looks the VMI up in the migration's own namespace and rejects the "
            f"migration with 'the VMI \"{obj.ns or '<namespace>'}/{vmi_name}\" does not exist' "
            "if it is not running there",
            fix="add the VM's manifest to the input (or the cluster's objects with --cluster-state "
            "FILE), and make sure the migration's metadata.namespace is the VM's namespace:\n"
            f"  metadata:\n    namespace: <namespace of {vmi_name}>",
        )

    send = spec.get("sendTo")
    recv = spec.get("receive")
    if isinstance(send, dict) and isinstance(recv, dict):
        sid, rid = send.get("migrationID"), recv.get("migrationID")
        if sid is not None and rid is not None and sid != rid:
            yield ctx.finding(
                "KV606",
                obj,
                ("spec", "receive", "migrationID"),
                f"sendTo migrationID {sid} does not match receive migrationID {rid}: KubeVirt's "
                "admission rejects the migration (both sides of a decentralized migration must "
                "use the same ID)",
                related=[obj.loc(("spec", "sendTo", "migrationID"), label="sendTo.migrationID")],
                fix="use one migrationID on both:\n  spec:\n    sendTo:\n"
                f"      migrationID: {sid}\n"
                f"      connectURL: {send.get('connectURL') or '<url>'}\n"
                f"    receive:\n      migrationID: {sid}",
            )

    fields = _decentralized(obj)
    gates = ctx.cluster.feature_gates
    kv = ctx.cluster.kubevirt
    gate_missing = gates.value is not None and DECENTRALIZED_GATE not in gates.value
    if fields and kv is not None and gate_missing:
        yield ctx.finding(
            "KV607",
            obj,
            ("spec", fields[0]),
            f"spec.{' and spec.'.join(fields)} {'make' if len(fields) > 1 else 'makes'} this a "
            "decentralized (cross-cluster) migration, "
            f"which needs the feature gate {DECENTRALIZED_GATE}, but {kv.display()} does not "
            "enable it: the migration is rejected",
            related=[kv.loc(gates.path, label=f"featureGates of {kv.display()}")],
            fix="enable the gate in the KubeVirt CR:\n  spec:\n    configuration:\n"
            f"      developerConfiguration:\n        featureGates:\n        - {DECENTRALIZED_GATE}",
        )


# --------------------------------------------------------------------------- phase 2


@objects(("VirtualMachineInstanceMigration",), "KV603", phase=2)
def migration_target(ctx: Context, obj: K8sObject) -> Iterator[Finding]:
    if not _is_vmim(obj):
        return
    w = target(ctx, obj)
    if w is None:
        return
    certain, possible = blockers(ctx, w)
    if not certain and not possible:
        return
    decentralized = bool(_decentralized(obj))
    found = sorted(certain or possible, key=lambda f: (_rank(ctx, f), f.location.line))
    reasoned = [f for f in found if _rejects(f)]
    related = [f.location for f in found[:6]]
    who = w.obj.display()
    exemption = ""
    if reasoned:
        first = reasoned[0]
        if decentralized and first.reason == DISKS_REASON:
            # migration-create-admitter.go isMigratable: disks are no reason to refuse a
            # decentralized migration; other blockers still make it fail or be refused.
            rest = [f for f in found if f.reason != DISKS_REASON]
            if not rest:
                return
            found = rest
            reasoned = [f for f in found if f in reasoned]
            exemption = f" ({DISKS_REASON} alone is allowed for a decentralized migration with spec.sendTo/receive)"
    if reasoned:
        first = reasoned[0]
        verdict = (
            "KubeVirt's admission rejects it: \"Cannot migrate VMI, Reason: "
            f'{first.reason}, Message: …" (KubeVirt reports only the first failing reason)'
        )
    else:
        verdict = "KubeVirt admits it, but the migration cannot complete"
    if certain:
        msg = f"the migration targets {who}, which cannot live-migrate: {verdict}{exemption}. Blockers: "
        sev = "error"
    else:
        msg = (
            f"the migration targets {who}, which may not be able to live-migrate: if the blockers "
            f"below hold, {verdict}{exemption}. Possible blockers: "
        )
        sev = "warning"
    yield ctx.finding(
        "KV603",
        obj,
        ("spec", "vmiName"),
        msg + _describe(found),
        severity=sev,
        related=related,
        fix=f"fix the blockers on {who} first (each finding above has its own fix), then migrate; "
        "until then, do not request this migration",
        blockers=[f.rule for f in found],
        target=w.obj.name,
    )
