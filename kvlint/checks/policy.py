"""KV5xx: MigrationPolicy (kubevirt-facts §4).

Structure (what the API server and KubeVirt's admission accept) is checked per policy in
phase 1; how the policies in view match the VMs in view (ties, catch-alls, the label-less
VMI quirk, namespaces not in view) uses :mod:`kvlint.policy`, the same matching code as
virt-controller's ``matchPolicy`` / ``countMatchingLabels``. "Matches nothing" runs in
phase 2 so that a policy the API server rejects anyway is not reported twice.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from kvlint import policy as pm
from kvlint.checks import objects, workload
from kvlint.inventory import K8sObject, Workload, as_dict, get, path_str
from kvlint.models import Finding, Location
from kvlint.parse import Path

if TYPE_CHECKING:
    from kvlint.engine import Context

API_VERSION = pm.API_VERSION
SELECTOR_KEYS = ("namespaceSelector", "virtualMachineInstanceSelector")
#: Fields of MigrationPolicySpec, with the KubeVirt version that introduced them.
POLICY_FIELDS: dict[str, tuple[int, int]] = {
    "selectors": (0, 0),
    "allowAutoConverge": (0, 0),
    "bandwidthPerMigration": (0, 0),
    "completionTimeoutPerGiB": (0, 0),
    "allowPostCopy": (0, 0),
    "allowWorkloadDisruption": (1, 6),
    "maxDowntimeMs": (1, 9),
    "experimental": (1, 9),
}
#: Cluster-wide migration settings (KubeVirt CR spec.configuration.migrations) that a
#: policy cannot set; True when HCO exposes the field in liveMigrationConfig.
CLUSTER_ONLY: dict[str, bool] = {
    "progressTimeout": True,
    "parallelMigrationsPerCluster": True,
    "parallelOutboundMigrationsPerNode": True,
    "network": True,
    "disableTLS": False,
    "unsafeMigrationOverride": False,
    "nodeDrainTaintKey": False,
    "matchSELinuxLevelOnMigration": False,
    "utilityVolumesTimeout": False,
}
BOOL_FIELDS = ("allowAutoConverge", "allowPostCopy", "allowWorkloadDisruption")
MAX_DOWNTIME_RANGE = (1, 2_000_000)
QUANTITY_RE = re.compile(
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)


# --------------------------------------------------------------------------- helpers


def is_kubevirt_policy(obj: K8sObject) -> bool:
    """A MigrationPolicy meant for KubeVirt (right group, a typo of it, or no group at all);
    a kind of the same name from an unrelated API group is left alone."""
    group = obj.group
    return group == "" or group == "kubevirt.io" or group.endswith(".kubevirt.io")


def _yaml_map(data: dict[str, Any], indent: int) -> str:
    pad = " " * indent
    if not data:
        return pad + "{}"
    return "\n".join(f"{pad}{k}: {_yaml_scalar(v)}" for k, v in data.items())


def _yaml_scalar(v: Any) -> str:
    if isinstance(v, str):
        if v == "" or v.lower() in ("true", "false", "yes", "no", "on", "off", "y", "n", "null", "~") or re.fullmatch(
            r"[-+]?[0-9][0-9_.eE+-]*", v
        ) or any(c in v for c in ":#{}[],&*!|>'\"%@`"):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return v
    return quote_value(v)


def quote_value(v: Any) -> str:
    """The string KubeVirt would need, quoted, for a value YAML read as a non-string."""
    if isinstance(v, bool):
        return '"true"' if v else '"false"'
    if v is None:
        return '""'
    if isinstance(v, (int, float)):
        return f'"{v}"'
    return '"..."'


def _kind_of(v: Any) -> str:
    if isinstance(v, bool):
        return f"boolean {str(v).lower()}"
    if isinstance(v, int):
        return f"integer {v}"
    if isinstance(v, float):
        return f"number {v}"
    if v is None:
        return "null"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return type(v).__name__


def _selectors(obj: K8sObject) -> dict[str, Any] | None:
    sel = get(obj.data, "spec", "selectors")
    return sel if isinstance(sel, dict) else None


def _sel_text(sel: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sel.items()) + "}"


def _policy_loc(p: K8sObject, label: str = "") -> Location:
    path: Path = ("spec", "selectors") if p.has(("spec", "selectors")) else ("spec",)
    return p.loc(path, label=label or f"MigrationPolicy {p.name}")


def labels_path(w: Workload) -> Path:
    return w.meta_path + ("labels",)


def _template_where(w: Workload) -> str:
    return path_str(w.meta_path)


def _labels_fix(w: Workload, extra: str = "") -> str:
    parts = list(w.meta_path) + ["labels"]
    lines = []
    for depth, part in enumerate(parts):
        lines.append("  " * depth + f"{part}:")
    lines.append("  " * len(parts) + f"app: {w.obj.name or 'my-vm'}")
    return "\n".join(lines) + (("\n" + extra) if extra else "")


def _workloads_in_view(ctx: Context) -> list[Workload]:
    return list(ctx.inv.workloads)


# --------------------------------------------------------------------------- phase 1: structure


@objects(
    ("MigrationPolicy",),
    "KV501", "KV502", "KV503", "KV504", "KV505", "KV506", "KV507", "KV508", "KV509", "KV510", "KV515",
)
def policy_structure(ctx: Context, p: K8sObject) -> Iterator[Finding]:
    if not is_kubevirt_policy(p):
        return
    if p.api_version != API_VERSION:
        yield ctx.finding(
            "KV501", p, ("apiVersion",),
            f"MigrationPolicy has apiVersion {p.api_version!r}: KubeVirt serves MigrationPolicy only "
            f"as {API_VERSION}, so the API server rejects this object (no matches for kind "
            "\"MigrationPolicy\" in that version) and the policy never exists",
            fix=f"apiVersion: {API_VERSION}",
        )
    spec = p.data.get("spec")
    if not isinstance(spec, dict):
        where: Path = ("spec",) if "spec" in p.data else ("kind",)
        yield ctx.finding(
            "KV502", p, where,
            "MigrationPolicy has no spec: the CRD requires spec and spec.selectors, so the API "
            "server rejects it" + (f" (spec is {_kind_of(spec)})" if "spec" in p.data else ""),
            fix="spec:\n  selectors:\n    virtualMachineInstanceSelector:\n      workload-type: db",
        )
        return
    yield from _selectors_checks(ctx, p, spec)
    yield from _field_checks(ctx, p, spec)


def _selectors_checks(ctx: Context, p: K8sObject, spec: dict[str, Any]) -> Iterator[Finding]:
    selectors = spec.get("selectors")
    if selectors is None:
        misplaced = [k for k in SELECTOR_KEYS if k in spec]
        hint = (
            f" ({' and '.join(misplaced)} must go under spec.selectors)" if misplaced else ""
        )
        yield ctx.finding(
            "KV502", p, ("spec", "selectors") if "selectors" in spec else ("spec",),
            "spec.selectors is missing" + (" (null)" if "selectors" in spec else "")
            + ": the CRD requires it, so the API server rejects the policy; a policy without "
            "selectors would match no VMI at all" + hint,
            fix="spec:\n  selectors:\n    virtualMachineInstanceSelector:\n      workload-type: db\n"
            "    # or selectors: {} to match every VMI (catch-all)",
        )
        return
    if not isinstance(selectors, dict):
        yield ctx.finding(
            "KV502", p, ("spec", "selectors"),
            f"spec.selectors is {_kind_of(selectors)}, not a mapping: the API server rejects the "
            "policy (selectors has the fields namespaceSelector and virtualMachineInstanceSelector)",
            fix="spec:\n  selectors:\n    virtualMachineInstanceSelector:\n      workload-type: db",
        )
        return
    catch_all = True
    for key in SELECTOR_KEYS:
        sel = selectors.get(key)
        base: Path = ("spec", "selectors", key)
        if sel is None:
            continue
        if not isinstance(sel, dict):
            catch_all = False
            yield ctx.finding(
                "KV503", p, base,
                f"spec.selectors.{key} is {_kind_of(sel)}: it must be a plain map of label key to "
                "string value (map[string]string), so the API server rejects the policy",
                fix=f"spec:\n  selectors:\n    {key}:\n      workload-type: db",
            )
            continue
        if sel:
            catch_all = False
        plain: dict[str, Any] = {}
        unexpressible: list[str] = []
        label_selector = False
        for lk, lv in sel.items():
            if lk == "matchLabels" and isinstance(lv, dict):
                label_selector = True
                plain.update(lv)
            elif lk == "matchExpressions" and isinstance(lv, list):
                label_selector = True
                for expr in lv:
                    e = as_dict(expr)
                    vals = e.get("values")
                    if e.get("operator") == "In" and isinstance(vals, list) and len(vals) == 1:
                        plain[str(e.get("key"))] = vals[0]
                    else:
                        unexpressible.append(
                            f"{e.get('key')} {e.get('operator')} {vals if vals is not None else ''}".strip()
                        )
            elif not isinstance(lv, str):
                yield ctx.finding(
                    "KV504", p, base + (lk,),
                    f"label value of {lk!r} in spec.selectors.{key} is read as {_kind_of(lv)}, not a "
                    "string (YAML 1.1 reads unquoted true/yes/on/numbers as non-strings): the API "
                    "server rejects the policy, since selector values must be strings",
                    fix=f"quote the value, exactly as the label is written on the "
                    f"{'Namespace' if key == 'namespaceSelector' else 'VMI'}:\n"
                    f"  {key}:\n    {lk}: {quote_value(lv)}",
                )
            else:
                plain[lk] = lv
        if label_selector:
            note = (
                f"; {', '.join(unexpressible)} cannot be written as a plain map (only exact key=value "
                "pairs, all of which must match)"
                if unexpressible
                else ""
            )
            where = "matchLabels" if "matchLabels" in sel else "matchExpressions"
            yield ctx.finding(
                "KV503", p, base + (where,),
                f"spec.selectors.{key} is written as a Kubernetes LabelSelector ({where}), but it is a "
                "plain map of label key to value: the API server rejects the policy (matchLabels is "
                "not a string)" + note,
                fix=f"spec:\n  selectors:\n    {key}:\n"
                + _yaml_map({k: v for k, v in plain.items()}, 6),
            )
    if catch_all:
        yield ctx.finding(
            "KV510", p, ("spec", "selectors"),
            "the selectors are empty, so this policy matches every VMI in every namespace (with "
            "score 0): every VM that no more specific policy matches gets its settings"
            + _settings_summary(p),
            fix="restrict the policy to the VMs it is meant for:\n  spec:\n    selectors:\n"
            "      virtualMachineInstanceSelector:\n        workload-type: db\n"
            "      namespaceSelector:\n        kubernetes.io/metadata.name: apps",
        )
    for k in selectors:
        if k not in SELECTOR_KEYS:
            yield _unknown(ctx, p, ("spec", "selectors", k), SELECTOR_KEYS, "spec.selectors")


def _settings_summary(p: K8sObject) -> str:
    spec = as_dict(p.data.get("spec"))
    set_fields = [f"{k}: {spec[k]}" for k in POLICY_FIELDS if k != "selectors" and k in spec]
    return f" ({', '.join(set_fields)})" if set_fields else ""


def _unknown(ctx: Context, p: K8sObject, path: Path, known: tuple[str, ...] | list[str], where: str) -> Finding:
    key = str(path[-1])
    hint = ""
    if where == "spec" and key in SELECTOR_KEYS:
        hint = f"; it belongs under spec.selectors: spec.selectors.{key}"
    else:
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
        if key in ("selector", "labelSelector", "matchLabels"):
            close = ["selectors" if where == "spec" else "virtualMachineInstanceSelector"]
        if key in ("vmiSelector", "virtualMachineSelector", "vmSelector", "podSelector"):
            close = ["virtualMachineInstanceSelector"]
        if close:
            hint = f"; did you mean {where}.{close[0]}?"
    return ctx.finding(
        "KV509", p, path,
        f"{where}.{key} is not a MigrationPolicy field: the API server prunes unknown fields "
        f"silently, so the policy is stored without it and it never applies{hint}",
        fix=(f"rename it: {where}.{close[0]}" if hint.startswith("; did") else
             f"move it: spec.selectors.{key}" if hint else
             f"remove it; a MigrationPolicy spec has only: {', '.join(known)}"),
    )


def _field_checks(ctx: Context, p: K8sObject, spec: dict[str, Any]) -> Iterator[Finding]:
    version = ctx.cluster.version
    vtext = f"v{version[0]}.{version[1]}"
    for key, value in spec.items():
        path: Path = ("spec", key)
        if key in CLUSTER_ONLY:
            yield _cluster_only(ctx, p, key, value)
            continue
        if key not in POLICY_FIELDS:
            yield _unknown(ctx, p, path, list(POLICY_FIELDS), "spec")
            continue
        since = POLICY_FIELDS[key]
        if version < since:
            yield ctx.finding(
                "KV508", p, path,
                f"spec.{key} is not part of MigrationPolicy in KubeVirt {vtext} (target version; "
                f"the field exists from v{since[0]}.{since[1]}): the API server prunes it, so the "
                "policy is stored and applied without it",
                fix=f"upgrade KubeVirt to v{since[0]}.{since[1]} or later, or remove spec.{key}; "
                "if the cluster already runs a newer KubeVirt, set it:\n"
                f"  kubevirtVersion: \"{since[0]}.{since[1]}\"   # .kvlint.yaml, or --kubevirt-version",
            )
    yield from _value_checks(ctx, p, spec)
    exp = spec.get("experimental")
    if isinstance(exp, dict) and exp.get("stallDetector") is not None and exp.get("downtimeTuning") is not None:
        yield ctx.finding(
            "KV515", p, ("spec", "experimental", "downtimeTuning"),
            "spec.experimental sets both stallDetector and downtimeTuning: KubeVirt's admission "
            "rejects the policy, the two switchover strategies are mutually exclusive",
            fix="keep one of them:\n  spec:\n    experimental:\n      stallDetector: {}\n"
            "      # downtimeTuning: ...   (removed)",
            related=[p.loc(("spec", "experimental", "stallDetector"), label="stallDetector")],
        )


def _cluster_only(ctx: Context, p: K8sObject, key: str, value: Any) -> Finding:
    hco_exposed = CLUSTER_ONLY[key]
    shown = _yaml_scalar(value) if not isinstance(value, (dict, list)) else "..."
    hco = ctx.cluster.hco
    if ctx.cluster.platform == "hco" and hco_exposed:
        if hco is not None and hco.api_version.endswith("/v1"):
            block = f"  spec:\n    virtualization:\n      liveMigrationConfig:\n        {key}: {shown}"
        else:
            block = f"  spec:\n    liveMigrationConfig:\n      {key}: {shown}"
        fix = (
            "set it cluster-wide in the HyperConverged CR instead (it applies to every migration):\n"
            "  kind: HyperConverged\n" + block
        )
    elif ctx.cluster.platform == "hco":
        fix = (
            f"remove it: {key} is a cluster-wide setting of the KubeVirt CR "
            "(spec.configuration.migrations) that HCO does not expose, so on OpenShift "
            "Virtualization it stays at KubeVirt's default"
        )
    else:
        fix = (
            "set it cluster-wide in the KubeVirt CR instead (it applies to every migration):\n"
            f"  kind: KubeVirt\n  spec:\n    configuration:\n      migrations:\n        {key}: {shown}"
        )
    return ctx.finding(
        "KV507", p, ("spec", key),
        f"spec.{key} cannot be set per MigrationPolicy (only allowAutoConverge, "
        "bandwidthPerMigration, completionTimeoutPerGiB, allowPostCopy, allowWorkloadDisruption, "
        "maxDowntimeMs and experimental can): it is a cluster-wide migration setting, the API "
        "server prunes it as an unknown field, and the policy silently applies without it",
        fix=fix,
    )


def _quantity_sign(text: str) -> int:
    """-1, 0 or 1 for a quantity string that matches QUANTITY_RE."""
    m = re.match(r"^([+-]?)(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))", text)
    if m is None:
        return 0
    try:
        number = Decimal(m.group(2))
    except InvalidOperation:
        return 0
    if number == 0:
        return 0
    return -1 if m.group(1) == "-" else 1


def _value_checks(ctx: Context, p: K8sObject, spec: dict[str, Any]) -> Iterator[Finding]:
    if "bandwidthPerMigration" in spec:
        v = spec["bandwidthPerMigration"]
        path: Path = ("spec", "bandwidthPerMigration")
        negative = False
        if isinstance(v, str):
            if QUANTITY_RE.match(v) is None:
                yield ctx.finding(
                    "KV506", p, path,
                    f"bandwidthPerMigration {v!r} is not a Kubernetes quantity (a number with an "
                    "optional suffix Ki, Mi, Gi, … or k, M, G, …; no spaces, no 'B' or '/s'): the "
                    "API server rejects the policy",
                    fix="spec:\n  bandwidthPerMigration: 64Mi   # bytes per second; 0 = unlimited",
                )
            else:
                negative = _quantity_sign(v) < 0
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            yield ctx.finding(
                "KV506", p, path,
                f"bandwidthPerMigration is {_kind_of(v)}, not a quantity: the API server rejects the policy",
                fix="spec:\n  bandwidthPerMigration: 64Mi   # bytes per second; 0 = unlimited",
            )
        else:
            negative = v < 0
        if negative:
            yield ctx.finding(
                "KV505", p, path,
                f"bandwidthPerMigration {v} is negative: KubeVirt's admission rejects the policy "
                "with \"must not be negative\" (spec.bandwidthPerMigration)",
                fix="spec:\n  bandwidthPerMigration: 64Mi   # a positive limit, or 0 for unlimited",
            )
    if "completionTimeoutPerGiB" in spec:
        v = spec["completionTimeoutPerGiB"]
        path = ("spec", "completionTimeoutPerGiB")
        if isinstance(v, bool) or not isinstance(v, int):
            yield ctx.finding(
                "KV506", p, path,
                f"completionTimeoutPerGiB is {_kind_of(v) if not isinstance(v, str) else repr(v)}, "
                "not an integer (seconds per GiB): the API server rejects the policy",
                fix="spec:\n  completionTimeoutPerGiB: 150   # an unquoted integer; 0 disables the timeout",
            )
        elif v < 0:
            yield ctx.finding(
                "KV505", p, path,
                f"completionTimeoutPerGiB {v} is negative: KubeVirt's admission rejects the policy "
                "with \"must not be negative\" (spec.completionTimeoutPerGiB)",
                fix="spec:\n  completionTimeoutPerGiB: 150   # seconds per GiB; 0 disables the timeout",
            )
    for key in BOOL_FIELDS:
        if key in spec and not isinstance(spec[key], bool):
            v = spec[key]
            yield ctx.finding(
                "KV506", p, ("spec", key),
                f"{key} is {repr(v) if isinstance(v, str) else _kind_of(v)}, not a boolean: the "
                "API server rejects the policy",
                fix=f"spec:\n  {key}: true   # unquoted true or false",
            )
    if "maxDowntimeMs" in spec and ctx.cluster.version >= POLICY_FIELDS["maxDowntimeMs"]:
        v = spec["maxDowntimeMs"]
        lo, hi = MAX_DOWNTIME_RANGE
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            yield ctx.finding(
                "KV506", p, ("spec", "maxDowntimeMs"),
                f"maxDowntimeMs is {repr(v) if isinstance(v, str) else _kind_of(v)}: the CRD "
                f"accepts an integer from {lo} to {hi} (milliseconds), so the API server rejects the policy",
                fix="spec:\n  maxDowntimeMs: 900   # KubeVirt's default; 1..2000000",
            )


# --------------------------------------------------------------------------- matching


def _policy_names(scores: list[pm.PolicyScore]) -> str:
    return ", ".join(s.policy.name for s in scores)


def _selector_desc(p: K8sObject) -> str:
    sel = _selectors(p) or {}
    parts = []
    for key in SELECTOR_KEYS:
        v = sel.get(key)
        if isinstance(v, dict) and v:
            parts.append(f"{key} {_sel_text(v)}")
    return "; ".join(parts) if parts else "selectors {}"


@workload("KV511", "KV513")
def policy_matching(ctx: Context, w: Workload) -> Iterator[Finding]:
    if not pm.policies(ctx.inv):
        return
    m = pm.match(ctx.inv, w)
    if m.winner is None:
        return
    labels = pm.vmi_labels(w)
    unlabelled = labels is None
    assumed = ""
    if m.assumptions and any("namespaceSelector" in s.note for s in m.ranked if not s.matched):
        assumed = " Assumed: " + "; ".join(m.assumptions) + " (add the Namespace manifest or --cluster-state)."
    where = labels_path(w)
    winner = m.winner
    if m.ties:
        tied = [winner] + m.ties
        related = [_policy_loc(s.policy) for s in tied]
        quirk = (
            " (the VM's template has no labels, so every policy with selectors matches it with "
            "score 0; see KV513)"
            if unlabelled and any(s.note for s in tied)
            else ""
        )
        yield ctx.finding(
            "KV511", w.obj, where,
            f"{len(tied)} MigrationPolicies match {w.obj.display()} with the same score (total "
            f"{winner.total}, VMI labels {winner.vmi_score}): {_policy_names(tied)}. KubeVirt "
            f"picks {winner.policy.name} only because its name sorts first; renaming a policy "
            f"changes which settings this VM migrates with{quirk}.{assumed}",
            related=related,
            fix=(
                "make the intended policy the most specific one: give the VM a label and require it "
                "in that policy only, e.g.\n"
                + _labels_fix(w).replace(f"app: {w.obj.name or 'my-vm'}", "migration-policy: "
                                          + (m.ties[0].policy.name))
                + f"\nand in MigrationPolicy {m.ties[0].policy.name}:\n  spec:\n    selectors:\n"
                "      virtualMachineInstanceSelector:\n"
                f"        migration-policy: {m.ties[0].policy.name}\n"
                "(or merge the tied policies into one)"
            ),
            policies=[s.policy.name for s in tied],
            winner=winner.policy.name,
        )
    if unlabelled:
        quirky = [s for s in m.ranked if s.matched and s.note]
        if quirky:
            wins = [s for s in quirky if s is winner]
            names = "; ".join(f"{s.policy.name} ({_selector_desc(s.policy)})" for s in quirky)
            outcome = (
                f"{winner.policy.name} wins, so the VM migrates with a policy its author did not target"
                if wins
                else f"the winner is {winner.policy.name}"
            )
            yield ctx.finding(
                "KV513", w.obj, where,
                f"{w.obj.display()} has no labels in {_template_where(w)}: KubeVirt's "
                "countMatchingLabels skips the selectors for a VMI without labels, so "
                f"{'these MigrationPolicies match' if len(quirky) > 1 else 'MigrationPolicy'} "
                f"{names} {'match' if len(quirky) > 1 else 'matches'} it with score 0; {outcome}. "
                "(If the running VMI already carries virt-controller's kubevirt.io/nodeName label, "
                "the selectors are evaluated instead and do not match: either way the outcome "
                "hinges on this quirk, not on labels you wrote.)",
                related=[_policy_loc(s.policy) for s in quirky],
                fix="give the VM template at least one label, so the policies' selectors are "
                "evaluated:\n" + _labels_fix(w),
                policies=[s.policy.name for s in quirky],
                winner=winner.policy.name,
            )


@objects(("MigrationPolicy",), "KV514")
def namespace_assumption(ctx: Context, p: K8sObject) -> Iterator[Finding]:
    if p.api_version != API_VERSION:
        return
    sel = _selectors(p)
    ns_sel = as_dict(sel.get("namespaceSelector")) if sel else {}
    if not ns_sel or all(k == pm.METADATA_NAME for k in ns_sel):
        return
    missing: dict[str, list[str]] = {}
    for w in _workloads_in_view(ctx):
        labels = pm.vmi_labels(w)
        if labels is None:
            continue  # the namespaceSelector is skipped for a VMI without labels
        ns_labels, in_view = pm.namespace_labels(ctx.inv, w.obj.ns)
        if in_view:
            continue
        s = pm.score(p, labels, ns_labels)
        if not s.matched and s.note.startswith("namespaceSelector"):
            missing.setdefault(w.obj.ns or "(namespace not set)", []).append(w.obj.name)
    for ns, names in sorted(missing.items()):
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        yield ctx.finding(
            "KV514", p, ("spec", "selectors", "namespaceSelector"),
            f"namespaceSelector {_sel_text(ns_sel)} is evaluated against the labels of Namespace "
            f"{ns}, which is not in view: kvlint assumes it carries only "
            f"{pm.METADATA_NAME}={ns} and so counts {shown} in it as not matched by this policy; "
            "if the Namespace has these labels, the policy applies to them",
            fix=f"add the Namespace manifest to the input (or pass the cluster's objects with "
            f"--cluster-state FILE):\n  apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: {ns}\n"
            f"    labels:\n" + _yaml_map(ns_sel, 6),
            namespace=ns,
            workloads=names,
        )


@objects(("MigrationPolicy",), "KV512", phase=2)
def policy_matches_nothing(ctx: Context, p: K8sObject) -> Iterator[Finding]:
    if p.api_version != API_VERSION or _selectors(p) is None:
        return
    if any(f.severity == "error" for f in ctx.for_object(p)):
        return  # rejected by the API server anyway: reported by KV501-KV509
    workloads = _workloads_in_view(ctx)
    if not workloads:
        return
    reasons: list[str] = []
    for w in workloads:
        ns_labels, _ = pm.namespace_labels(ctx.inv, w.obj.ns)
        s = pm.score(p, pm.vmi_labels(w), ns_labels)
        if s.matched:
            return
        if len(reasons) < 3:
            reasons.append(f"{w.obj.display()}: {s.note}")
    ns_assumed = any(f.rule == "KV514" for f in ctx.for_object(p))
    yield ctx.finding(
        "KV512", p, ("spec", "selectors"),
        f"MigrationPolicy {p.name} ({_selector_desc(p)}) matches none of the {len(workloads)} "
        f"VM(s)/VMI(s) in view ({'; '.join(reasons)}"
        + (f" and {len(workloads) - len(reasons)} more" if len(workloads) > len(reasons) else "")
        + ")"
        + (" — assuming the Namespaces not in view have no other labels (see KV514)" if ns_assumed else "")
        + ": check the label keys and values against the VM templates' metadata.labels",
        fix="make the selector match the labels of the VMs it is meant for, e.g. on the VM:\n"
        "  spec:\n    template:\n      metadata:\n        labels:\n          workload-type: db\n"
        "and in the policy:\n  spec:\n    selectors:\n      virtualMachineInstanceSelector:\n"
        "        workload-type: db",
    )
