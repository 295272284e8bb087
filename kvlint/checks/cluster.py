"""KV4xx: the cluster's migration configuration (KubeVirt and HCO CRs, limits, time budget).

Validates HCO ``liveMigrationConfig`` (``spec.liveMigrationConfig`` in
``hco.kubevirt.io/v1beta1``, ``spec.virtualization.liveMigrationConfig`` in
``hco.kubevirt.io/v1``) and KubeVirt ``spec.configuration.migrations``; reports
contradictions and risky settings, the migration network's NetworkAttachmentDefinition,
and, per VM, whether one memory pass fits the completion timeout (the time budget of
``kvlint.effective``).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kvlint import effective as eff
from kvlint import versions
from kvlint.checks import objects, workload
from kvlint.inventory import K8sObject, Setting, Workload, as_dict, as_list, get, path_str
from kvlint.models import Finding, Location
from kvlint.parse import Path

if TYPE_CHECKING:
    from kvlint.engine import Context

PROBLEM_RULES = {"type": "KV404", "quantity": "KV405", "negative": "KV406", "range": "KV407"}
NAD_KIND = "NetworkAttachmentDefinition"
NAD_GROUP = "k8s.cni.cncf.io"
STRICT = (
    "kubectl apply rejects the object (strict field validation is its default); with "
    "validation off the API server silently drops the field"
)
JSONPATCH_FIX = (
    "HCO does not expose it. If you really need it, HCO's unsupported escape hatch is a JSON "
    "patch annotation on the HyperConverged (it raises the alert "
    "KubevirtHyperconvergedClusterOperatorUSModification):\n"
    "  metadata:\n    annotations:\n      kubevirt.kubevirt.io/jsonpatch: "
    '\'[{"op": "add", "path": "/spec/configuration/migrations/<field>", '
    '"value": <value>}]\''
)


def _v(ctx: Context) -> str:
    major, minor = ctx.cluster.version
    return f"v{major}.{minor}"


def _known(ctx: Context, hco: bool) -> list[str]:
    version = ctx.cluster.version
    if hco:
        return [f for f in eff.FIELDS if eff.hco_has_field(f, version)]
    return [f.name for f in eff.fields_for(version)]


def _suggest(key: str, candidates: list[str]) -> str | None:
    lower = {c.lower(): c for c in candidates}
    if key.lower() in lower:
        return lower[key.lower()]
    hits = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    if not hits:
        hits = difflib.get_close_matches(key.lower(), list(lower), n=1, cutoff=0.6)
        return lower[hits[0]] if hits else None
    return hits[0]


def _block_findings(ctx: Context, obj: K8sObject, base: Path, block: Any, hco: bool) -> Iterator[Finding]:
    """Validate every field of one liveMigrationConfig / migrations block."""
    where = path_str(base)
    if not isinstance(block, dict):
        if block is not None:
            yield ctx.finding(
                "KV404",
                obj,
                base,
                f"{where} must be a mapping of migration settings, not "
                f"{eff.describe_value(block)}: the API server rejects the object",
            )
        return
    known = _known(ctx, hco)
    for key, value in block.items():
        path = base + (key,)
        if not isinstance(key, str):
            continue
        f = eff.FIELDS.get(key)
        if hco and f is not None and not f.hco:
            yield ctx.finding(
                "KV403",
                obj,
                path,
                f"{where}.{key} is a KubeVirt CR setting (spec.configuration.migrations.{key}) "
                f"that HCO does not expose: {STRICT}, and HCO would not pass it on anyway "
                "(it owns the KubeVirt CR, where the field stays at KubeVirt's default)",
                fix=JSONPATCH_FIX.replace("<field>", key),
            )
            continue
        if key not in known:
            if f is not None and hco:
                msg = (
                    f"{where}.{key} is not a field of the HCO release that ships KubeVirt "
                    f"{_v(ctx)} (HCO added liveMigrationConfig.allowWorkloadDisruption after "
                    "v1.18, for KubeVirt v1.9): " + STRICT
                )
                fix = "remove it, or target a newer version (--kubevirt-version)"
            elif f is not None:
                msg = (
                    f"{where}.{key} was added in KubeVirt v{f.since[0]}.{f.since[1]}; KubeVirt "
                    f"{_v(ctx)} does not have it: " + STRICT
                )
                fix = "remove it, or target a newer version (--kubevirt-version)"
            else:
                guess = _suggest(key, known)
                if guess is None and hco:
                    guess = _suggest(key, list(eff.FIELDS))
                mean = f" Did you mean {guess!r}?" if guess else ""
                if guess and hco and not eff.FIELDS[guess].hco:
                    mean += " (a KubeVirt CR field that HCO does not expose, see KV403)"
                msg = f"{where}.{key} is not a migration setting: {STRICT}.{mean}"
                fix = f"rename it to {guess}" if guess else f"remove it; the known fields are: {', '.join(known)}"
            yield ctx.finding("KV402", obj, path, msg, fix=fix)
            continue
        assert f is not None
        bad = eff.problem(f, value, hco)
        if bad is None:
            continue
        kind, text = bad
        rule = PROBLEM_RULES[kind]
        yield ctx.finding(rule, obj, path, _problem_message(f, kind, text, where, hco), key=True)


def _problem_message(f: eff.Field, kind: str, text: str, where: str, hco: bool) -> str:
    name = f"{where}.{f.name}"
    if kind == "type":
        owner = "HyperConverged CRD" if hco else "KubeVirt CRD"
        return f"{name} {text}: the {owner} schema rejects it, so the object cannot be applied"
    if kind == "quantity":
        return (
            f"{name}: {text} (bytes per second: '64Mi' is 64 MiB/s, '1Gi' 1 GiB/s; units such "
            "as MBps, Gbps or Mi/s are not quantities): the CRD pattern rejects it"
            + ("; HCO could not parse it either and its reconciliation would fail" if hco else "")
        )
    if kind == "range":
        return f"{name}: {text}; the CRD allows 1..2000000 ms (QEMU's maximum downtime), so the API server rejects it"
    # negative
    if f.kind == "uint32":
        effect = (
            f"the field is a uint32 in {'HCO' if hco else 'KubeVirt'}'s Go types: the operator cannot decode the object"
        )
    elif f.name == "completionTimeoutPerGiB":
        effect = (
            "acceptableCompletionTime becomes negative, so every migration times out at once "
            "(aborted, or paused / switched to post-copy); a MigrationPolicy with a negative "
            "value is rejected with 'must not be negative'"
        )
    elif f.name == "progressTimeout":
        effect = "every migration counts as stuck at once and is aborted"
    elif f.name == "bandwidthPerMigration":
        effect = (
            "KubeVirt's QuantityToMebiByte refuses negative quantities, so migrations fail; a "
            "MigrationPolicy with a negative value is rejected with 'must not be negative'"
        )
    else:
        effect = "KubeVirt does not validate it and the behaviour is undefined"
    return f"{name}: {text}: {effect}"


# -- contradictions and risks, on the CR that sets them -------------------------------


def _set_by(s: Setting | None, obj: K8sObject) -> bool:
    return s is not None and s.source is obj


def _loc(s: Setting, label: str) -> list[Location]:
    return [s.source.loc(s.path, label=label)] if s.source is not None else []


def _vfio_in_view(ctx: Context) -> list[str]:
    out = []
    for w in ctx.inv.workloads:
        if w.obj.context_only and not w.obj.stub:
            continue  # stubs of linted workloads keep their VFIO devices
        devices = eff.vfio_devices(w)
        if not devices:
            continue
        e = eff.effective(ctx.inv, ctx.cluster, w, full=False)
        if e.value("allowPostCopy") is True:
            out.append(f"{w.obj.display()} ({', '.join(devices)})")
    return out


def _risks(ctx: Context, obj: K8sObject, settings: dict[str, Setting]) -> Iterator[Finding]:
    outbound = settings["parallelOutboundMigrationsPerNode"]
    per_cluster = settings["parallelMigrationsPerCluster"]
    if (_set_by(outbound, obj) or _set_by(per_cluster, obj)) and (
        isinstance(outbound.value, int) and isinstance(per_cluster.value, int) and outbound.value > per_cluster.value
    ):
        at = outbound if _set_by(outbound, obj) else per_cluster
        other = per_cluster if at is outbound else outbound
        yield ctx.finding(
            "KV409",
            obj,
            at.path,
            f"parallelOutboundMigrationsPerNode {outbound.value} ({eff.origin(outbound)}) is "
            f"greater than parallelMigrationsPerCluster {per_cluster.value} "
            f"({eff.origin(per_cluster)}): the per-node limit can never be reached, at most "
            f"{per_cluster.value} migration(s) run in the whole cluster, so a node drain "
            "evacuates its VMs more slowly than the per-node setting suggests",
            related=_loc(other, f"the other limit: {eff.origin(other)}"),
        )

    apc = settings["allowPostCopy"]
    awd = settings["allowWorkloadDisruption"]
    if _set_by(apc, obj) and apc.value is True:
        vfio = _vfio_in_view(ctx)
        in_view = "; VMs in view with VFIO devices, which never switch to post-copy: " + "; ".join(vfio) if vfio else ""
        yield ctx.finding(
            "KV410",
            obj,
            apc.path,
            "allowPostCopy is true: a migration that exceeds its completion time is switched to "
            "post-copy, where the VM already runs on the target while its memory is still "
            "pulled from the source; if the migration network or either node fails during "
            "post-copy, neither side holds the whole memory and the VM is lost (it is never "
            "rolled back). Post-copy never starts for a VM with VFIO devices (host devices, "
            "GPUs, SR-IOV interfaces)" + in_view,
        )
        if ctx.cluster.version >= (1, 5) and awd.value is False:
            why = "set explicitly" if _set_by(awd, obj) and awd.source is not None else eff.origin(awd)
            yield ctx.finding(
                "KV411",
                obj,
                awd.path if _set_by(awd, obj) else apc.path,
                f"allowPostCopy is true but allowWorkloadDisruption is false ({why}): at the "
                "completion timeout KubeVirt only switches to post-copy when "
                "allowWorkloadDisruption is on, so it aborts the migration instead and "
                "allowPostCopy has no effect",
                related=_loc(awd, "allowWorkloadDisruption") if not _set_by(awd, obj) else [],
            )

    for name, effect in (
        (
            "completionTimeoutPerGiB",
            "no migration ever times out: one that cannot converge runs forever, holding its "
            "target pod and a parallel-migration slot, and allowPostCopy / "
            "allowWorkloadDisruption never take over",
        ),
        (
            "progressTimeout",
            "a migration whose remaining data stops falling is never aborted as stuck",
        ),
    ):
        s = settings[name]
        if _set_by(s, obj) and s.value == 0:
            yield ctx.finding("KV412", obj, s.path, f"{name} is 0, which disables it: {effect}")


def _nad_config(nad: K8sObject) -> str | None:
    """Why a NAD's spec.config is not a bridge-type CNI config with IPAM (None: it is)."""
    raw = get(nad.data, "spec", "config")
    if raw is None:
        return (
            "has no spec.config, so Multus looks for a CNI configuration file of that name on "
            "each node, which kvlint cannot check"
        )
    if not isinstance(raw, str):
        return "has a spec.config that is not a string of JSON"
    try:
        conf = json.loads(raw)
    except json.JSONDecodeError as e:
        return f"has a spec.config that is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})"
    except RecursionError:
        return "has a spec.config nested too deeply to be read as JSON"
    if not isinstance(conf, dict):
        return "has a spec.config that is not a JSON object"
    plugins = [p for p in as_list(conf.get("plugins")) if isinstance(p, dict)]
    main = plugins[0] if plugins else conf
    cni = main.get("type")
    mode = main.get("mode")
    bridge_like = cni in ("bridge", "cnv-bridge") or (cni == "macvlan" and mode in (None, "bridge"))
    if not bridge_like:
        what = f"CNI type {cni!r}" + (f" (mode {mode!r})" if mode is not None else "")
        return (
            f"uses {what}, not the bridge-type attachment KubeVirt and OpenShift document for the "
            "migration network (a Linux bridge, or macvlan in bridge mode, with IPAM)"
        )
    ipam = as_dict(main.get("ipam"))
    if not ipam.get("type"):
        return (
            f"({cni}) has no IPAM: virt-handler's migration0 interface would get no IP address, "
            "and KubeVirt takes the migration address from it"
        )
    return None


def _network(ctx: Context, obj: K8sObject, s: Setting) -> Iterator[Finding]:
    name = s.value
    if not isinstance(name, str) or not name:
        return
    ns = obj.namespace
    nads = [o for o in ctx.inv.kind(NAD_KIND) if o.group == NAD_GROUP and o.name == name]
    here = [o for o in nads if ns is None or o.namespace in (ns, None)]
    here.sort(key=lambda o: (o.context_only, o.namespace is None))
    if here:
        nad = here[0]
        why = _nad_config(nad)
        if why is not None:
            yield ctx.finding(
                "KV416",
                obj,
                s.path,
                f"the migration network {name!r}: {nad.display()} {why}; virt-handler attaches "
                f"it as {name}@migration0 on every node",
                related=[nad.loc(("spec", "config"), label=f"{nad.display()} spec.config")],
                severity="info" if "Multus looks for" in why else None,
            )
        return
    install = ns or "(namespace not set)"
    if nads:
        others = sorted({o.namespace or "(unset)" for o in nads})
        yield ctx.finding(
            "KV415",
            obj,
            s.path,
            f"the migration network {name!r} names a NetworkAttachmentDefinition that is in "
            f"namespace(s) {', '.join(others)}, not in {install}, where {obj.display()} (and so "
            f"KubeVirt) is installed: virt-handler pods carry the annotation "
            f"k8s.v1.cni.cncf.io/networks: {name}@migration0, which Multus resolves in their "
            "own namespace, so they do not start",
            related=[o.loc(("metadata", "namespace"), label=o.display()) for o in nads[:3]],
        )
        return
    yield ctx.finding(
        "KV414",
        obj,
        s.path,
        f"the migration network {name!r} names a NetworkAttachmentDefinition "
        f"({NAD_GROUP}/v1) that is not in view in namespace {install}: kvlint cannot check that "
        "it exists there (virt-handler pods do not start without it) or that it is a "
        "bridge-type network with IPAM",
        fix=(
            "add the NetworkAttachmentDefinition manifest to the linted files, or pass the "
            f"cluster's: oc get network-attachment-definitions -n {ns or '<namespace>'} -o yaml "
            "> nads.yaml; kvlint lint --cluster-state nads.yaml ..."
        ),
    )


# -- the checks ----------------------------------------------------------------------

CLUSTER_RULES = (
    "KV401",
    "KV402",
    "KV403",
    "KV404",
    "KV405",
    "KV406",
    "KV407",
    "KV409",
    "KV410",
    "KV411",
    "KV412",
    "KV414",
    "KV415",
    "KV416",
)


@objects(("HyperConverged",), *CLUSTER_RULES)
def hyperconverged(ctx: Context, obj: K8sObject) -> Iterator[Finding]:
    if obj.group != "hco.kubevirt.io":
        return
    v1 = eff.is_hco_v1(obj)
    valid = eff.hco_config_path(obj)
    misplaced: list[tuple[Path, str]] = [
        (
            ("spec", "liveMigrationConfig") if v1 else ("spec", "virtualization", "liveMigrationConfig"),
            (
                "spec.liveMigrationConfig is the hco.kubevirt.io/v1beta1 location; in "
                "hco.kubevirt.io/v1 the settings live under spec.virtualization.liveMigrationConfig"
                if v1
                else "spec.virtualization.liveMigrationConfig is the hco.kubevirt.io/v1 location; in "
                "hco.kubevirt.io/v1beta1 the settings live under spec.liveMigrationConfig"
            ),
        ),
        (
            ("spec", "migrations"),
            "spec.migrations is the KubeVirt CR's key (spec.configuration.migrations); the "
            f"HyperConverged calls it {path_str(valid)}",
        ),
    ]
    for path, text in misplaced:
        if obj.has(path):
            yield ctx.finding(
                "KV401",
                obj,
                path,
                f"{text}: {STRICT}, so none of these settings apply",
                fix=f"move the block to {path_str(valid)} (apiVersion {obj.api_version})",
            )
            yield from _block_findings(ctx, obj, path, get(obj.data, *path), True)
    if obj.has(valid):
        yield from _block_findings(ctx, obj, valid, get(obj.data, *valid), True)
    settings, _ = eff.object_settings(ctx.cluster, obj)
    yield from _risks(ctx, obj, settings)
    yield from _network(ctx, obj, settings["network"])


@objects(("KubeVirt",), *CLUSTER_RULES, "KV408", "KV413")
def kubevirt_cr(ctx: Context, obj: K8sObject) -> Iterator[Finding]:
    if obj.group != "kubevirt.io":
        return
    valid = eff.KUBEVIRT_CONFIG_PATH
    misplaced: list[tuple[Path, str]] = [
        (("spec", "migrations"), "spec.migrations belongs under spec.configuration"),
        (
            ("spec", "configuration", "migrationConfiguration"),
            "migrationConfiguration is the Go field name (KubeVirt's admission errors use it); "
            "the JSON key is migrations",
        ),
        (
            ("spec", "configuration", "liveMigrationConfig"),
            "liveMigrationConfig is the HyperConverged's key; the KubeVirt CR calls it migrations",
        ),
    ]
    for path, text in misplaced:
        if obj.has(path):
            yield ctx.finding(
                "KV401",
                obj,
                path,
                f"{text}: {STRICT}, so none of these settings apply",
                fix=f"move the block to {path_str(valid)}",
            )
            yield from _block_findings(ctx, obj, path, get(obj.data, *path), False)
    block = get(obj.data, *valid)
    if obj.has(valid):
        yield from _block_findings(ctx, obj, valid, block, False)
    if isinstance(block, dict) and block.get("maxDowntimeMs") is not None:
        yield from _downtime_gate(ctx, obj, valid + ("maxDowntimeMs",))
    if ctx.cluster.platform == "hco":
        if isinstance(block, dict) and block:
            hco = ctx.cluster.hco
            source = (
                f"{hco.display()} {path_str(eff.hco_config_path(hco))} (or HCO's defaults)"
                if hco is not None
                else "the HyperConverged's liveMigrationConfig (none in view: HCO's defaults)"
            )
            unexposed = [k for k in block if k in eff.FIELDS and not eff.FIELDS[k].hco]
            extra = (
                f"; {', '.join(unexposed)} cannot be set through HCO at all and return to KubeVirt's defaults"
                if unexposed
                else ""
            )
            yield ctx.finding(
                "KV413",
                obj,
                valid,
                f"{obj.display()} sets spec.configuration.migrations on an HCO cluster "
                f"(platform {ctx.cluster.platform_source}): HCO owns the KubeVirt CR and "
                f"rewrites this block from {source}, so these edits are reverted" + extra,
            )
        return
    settings, _ = eff.object_settings(ctx.cluster, obj)
    yield from _risks(ctx, obj, settings)
    yield from _network(ctx, obj, settings["network"])


def _downtime_gate(ctx: Context, obj: K8sObject, path: Path) -> Iterator[Finding]:
    if ctx.cluster.version < (1, 9):
        return  # not a field before v1.9 (KV402)
    gates_path: Path = ("spec", "configuration", "developerConfiguration", "featureGates")
    gates = {g for g in as_list(get(obj.data, *gates_path)) if isinstance(g, str)}
    if "MigrationStallDetection" in gates:
        return
    related = [obj.loc(gates_path, label="feature gates")] if obj.has(gates_path) else []
    if "MigrationDowntimeTuning" in gates and not versions.holds("policy-downtime-tuning", ctx.cluster.version):
        # v1.9.0 pkg/virt-operator/webhooks/kubevirt-update-admitter.go: only
        # MigrationStallDetection; MigrationDowntimeTuning comes after v1.9.0.
        yield ctx.finding(
            "KV408",
            obj,
            path,
            "rejected at admission: maxDowntimeMs is set with only the MigrationDowntimeTuning "
            "feature gate, which KubeVirt v1.9.0 does not have; its admission requires "
            "MigrationStallDetection ('maxDowntimeMs cannot be modified without enabling the "
            "MigrationStallDetection feature gate')",
            related=related,
        )
        return
    if "MigrationDowntimeTuning" in gates:
        return  # after v1.9.0 either gate is accepted
    yield ctx.finding(
        "KV408",
        obj,
        path,
        "maxDowntimeMs cannot be modified without enabling the MigrationStallDetection"
        + (" or MigrationDowntimeTuning" if versions.holds("policy-downtime-tuning", ctx.cluster.version) else "")
        + " feature gate: virt-operator's admission rejects the KubeVirt CR "
        "(the error names spec.configuration.migrationConfiguration.maxDowntimeMs)",
        related=related,
    )


@workload("KV417")
def time_budget(ctx: Context, w: Workload) -> Iterator[Finding]:
    e = eff.effective(ctx.inv, ctx.cluster, w, full=False)
    b = e.budget
    if b.outcome not in ("abort", "pause", "pause-abort", "post-copy"):
        return
    s = e.settings
    per_gib, bw = s["completionTimeoutPerGiB"], s["bandwidthPerMigration"]
    awd, apc = s["allowWorkloadDisruption"], s["allowPostCopy"]
    acc = b.acceptable_seconds or 0
    nums = b.arithmetic()
    # First line: the verdict (short); then one line per detail.
    details = [f"numbers: {nums}"] if nums else []
    if b.outcome == "abort":
        sev = "warning"
        msg = (
            f"live migration of this VM may not finish within its completion time ({acc} s), so "
            "KubeVirt would abort it ('Aborting migration: not completed after "
            f"{acc} seconds')"
        )
        details.append(f"allowWorkloadDisruption false, from {eff.origin(awd)}")
    elif b.outcome == "post-copy":
        sev = "info"
        msg = (
            f"one memory pass does not fit the completion time ({acc} s): every migration of this VM "
            "switches to post-copy, and if the network fails during post-copy the VM is lost"
        )
        details.append(f"allowPostCopy from {eff.origin(apc)}; allowWorkloadDisruption from {eff.origin(awd)}")
    else:
        how = (
            "gets a very large max downtime (VFIO devices " + ", ".join(b.vfio) + ": post-copy never starts for them)"
            if b.vfio
            else "is paused (dom.Suspend)"
        )
        if b.outcome == "pause":
            sev = "warning"
            msg = (
                f"one memory pass does not fit the completion time ({acc} s): each migration of this "
                "VM interrupts the workload"
            )
            details.append(
                f"after {acc} s the guest {how} and the deadline doubles to {2 * acc} s "
                f"(allowWorkloadDisruption from {eff.origin(awd)})"
            )
        else:
            sev = "warning"
            msg = "live migration of this VM may not finish even with workload disruption, so KubeVirt would abort it"
            details.append(
                f"after {acc} s the guest {how} and the deadline doubles to {2 * acc} s, still shorter than one pass"
            )
    assumed = [x for x in (per_gib, awd) if x.assumed]
    if sev == "error" and assumed:
        sev = "warning"
        msg += " (this rests on assumed platform defaults: put the HyperConverged or KubeVirt CR in view)"
    if e.policy.conditional:
        # A policy that matches only on some node would replace the winner there (KV520).
        names = ", ".join(x.policy.name for x in e.policy.conditional)
        sev = "warning" if sev == "error" else sev
        details.append(
            f"assumes MigrationPolicy {names} does not apply: it matches this VM only on a particular node (KV520)"
        )
    details.append(f"completionTimeoutPerGiB {per_gib.value} from {eff.origin(per_gib)}")
    details.append(f"bandwidthPerMigration {bw.value} from {eff.origin(bw)}")
    details.append(
        "one pass at the bandwidth cap is an estimate: QEMU sends zero pages as headers only, "
        "and a running guest dirties memory while it is copied"
    )
    if b.block_migration:
        details.append(
            "block migration also copies the local disks "
            + ", ".join(b.block_migration)
            + ", whose sizes kvlint cannot know"
        )
    msg = "\n".join([msg, *details])
    related: list[Location] = []
    for setting, label in ((per_gib, "completionTimeoutPerGiB"), (bw, "bandwidthPerMigration")):
        related += _loc(setting, f"{label} {setting.value} ({eff.origin(setting)})")
    path = b.memory_path or w.sp("domain")
    yield ctx.finding(
        "KV417",
        w.obj,
        path,
        msg,
        severity=sev,
        related=related,
        acceptable_seconds=acc,
        pass_seconds=float(b.pass_seconds or 0),
        outcome=b.outcome,
    )


@objects(("KubeVirt",), "KV418")
def selinux_level(ctx: Context, obj: K8sObject) -> Iterator[Finding]:
    """matchSELinuxLevelOnMigration: false lets the target launcher get another SELinux level."""
    if obj.group != "kubevirt.io":
        return
    path = eff.KUBEVIRT_CONFIG_PATH + ("matchSELinuxLevelOnMigration",)
    if get(obj.data, *path) is False:
        yield ctx.finding(
            "KV418",
            obj,
            path,
            "matchSELinuxLevelOnMigration is false: the migration target's launcher pod gets an "
            "SELinux level chosen by the container runtime instead of the source's, and shared "
            "(RWX) volumes whose storage does not relabel per pod become unreadable on the "
            "target, failing the migration",
        )
