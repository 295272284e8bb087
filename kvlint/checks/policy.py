"""KV5xx: MigrationPolicy (admission, selection by countMatchingLabels, settings).

Phase 1 checks each policy's structure: what the API server (CRD schema, pruning of unknown
fields) and KubeVirt's admission webhook accept. Phase 2 matches the policies in view against
the VMs / VMIs in view with :mod:`kvlint.policy`, which follows virt-controller's
``matchPolicy`` / ``countMatchingLabels`` on the running VMI's labels: ties decided by name
(KV511), policies that match nothing (KV512), Namespaces not in view (KV514) and selectors on
the node labels virt-controller adds (KV520). KV513 is retired. A policy
that phase 1 found would be rejected (:data:`REJECTING`) never exists, so it takes no part in
the matching.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from kvlint import catalog, versions
from kvlint import policy as pm
from kvlint.checks import objects, workload
from kvlint.effective import describe_value
from kvlint.inventory import K8sObject, Workload, as_dict, enumerate_dicts, get, path_str
from kvlint.models import Finding, Location
from kvlint.parse import Path

if TYPE_CHECKING:
    from kvlint.engine import Context

API_VERSION = pm.API_VERSION
SELECTOR_KEYS = ("namespaceSelector", "virtualMachineInstanceSelector")
#: Fields of MigrationPolicySpec (in some release). The releases each one exists in come from
#: kvlint's generated schemas (:func:`_field_releases`).
POLICY_FIELDS: tuple[str, ...] = (
    "selectors",
    "allowAutoConverge",
    "bandwidthPerMigration",
    "completionTimeoutPerGiB",
    "allowPostCopy",
    "allowWorkloadDisruption",
    "maxDowntimeMs",
    "experimental",
)


def _field_releases(key: str) -> str | None:
    """The KubeVirt releases in which MigrationPolicy spec.<key> exists (None: all)."""
    from kvlint import schema_validate as sv

    return sv.field_releases(API_VERSION, "MigrationPolicy", ("spec", key))


def _has_field(key: str, version: tuple[int, int]) -> bool:
    from kvlint import schema_validate as sv

    ranges = _field_releases(key)
    return ranges is None or sv.in_ranges(ranges, sv.modelled_release(version))


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


_YAML_SPECIAL = ("true", "false", "yes", "no", "on", "off", "y", "n", "null", "~")


def _yaml_scalar(v: Any) -> str:
    """``v`` as a YAML scalar that reads back as the same value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    text = str(v)
    needs_quotes = (
        text == ""
        or text.lower() in _YAML_SPECIAL
        or re.fullmatch(r"[-+.]?[0-9][0-9_.eE:+-]*", text) is not None
        or any(c in text for c in ":#{}[],&*!|>'\"%@`")
        or text != text.strip()
    )
    if needs_quotes:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def quote_value(v: Any) -> str:
    """The string KubeVirt would need, quoted, for a value YAML read as a non-string."""
    if isinstance(v, bool):
        return '"true"' if v else '"false"'
    if v is None:
        return '""'
    if isinstance(v, (int, float)):
        return f'"{v}"'
    return '"..."'


def _selectors(obj: K8sObject) -> dict[str, Any] | None:
    sel = get(obj.data, "spec", "selectors")
    return sel if isinstance(sel, dict) else None


def _sel_text(sel: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sel.items()) + "}"


def _policy_loc(p: K8sObject, label: str = "") -> Location:
    path: Path = ("spec", "selectors") if p.has(("spec", "selectors")) else ("spec",)
    return p.loc(path, label=label or f"MigrationPolicy {p.name}")


def _policy_locs(ctx: Context, policies: list[K8sObject]) -> list[Location]:
    """``_policy_loc`` of each policy, worked out once per policy and run (a tie names the
    same policies for many workloads)."""
    cache: dict[int, Location] = ctx.cluster.memo.setdefault("policy-locations", {})
    out = []
    for p in policies:
        loc = cache.get(id(p))
        if loc is None:
            loc = cache[id(p)] = _policy_loc(p)
        out.append(loc)
    return out


def labels_path(w: Workload) -> Path:
    return w.meta_path + ("labels",)


def _template_where(w: Workload) -> str:
    return path_str(w.meta_path)


def _labels_fix(w: Workload, label: str = "") -> str:
    """YAML adding ``label`` (default ``app: <name>``) to the VMI labels of ``w``."""
    parts = list(w.meta_path) + ["labels"]
    lines = [("  " * depth) + f"{part}:" for depth, part in enumerate(parts)]
    lines.append("  " * len(parts) + (label or f"app: {w.obj.name or 'my-vm'}"))
    return "\n".join(lines)


def _workloads_in_view(ctx: Context) -> list[Workload]:
    return list(ctx.inv.workloads)


# --------------------------------------------------------------------------- phase 1: structure


@objects(
    ("MigrationPolicy",),
    "KV501",
    "KV502",
    "KV503",
    "KV504",
    "KV505",
    "KV506",
    "KV507",
    "KV508",
    "KV509",
    "KV510",
)
def policy_structure(ctx: Context, p: K8sObject) -> Iterator[Finding]:
    if not is_kubevirt_policy(p):
        return
    if p.api_version != API_VERSION:
        yield ctx.finding(
            "KV501",
            p,
            ("apiVersion",),
            f"MigrationPolicy has apiVersion {p.api_version!r}: KubeVirt serves MigrationPolicy "
            f"only as {API_VERSION}, so the API server rejects this object (no matches for kind "
            '"MigrationPolicy" in that version) and the policy never exists',
            fix=f"apiVersion: {API_VERSION}",
        )
    spec = p.data.get("spec")
    if not isinstance(spec, dict):
        where: Path = ("spec",) if "spec" in p.data else ("kind",)
        yield ctx.finding(
            "KV502",
            p,
            where,
            "MigrationPolicy has no spec: the CRD requires spec and spec.selectors, so the API "
            "server rejects it" + (f" (spec is {describe_value(spec)})" if "spec" in p.data else ""),
            fix="spec:\n  selectors:\n    virtualMachineInstanceSelector:\n      workload-type: db",
        )
        return
    yield from _selectors_checks(ctx, p, spec)
    yield from _field_checks(ctx, p, spec)


def _selectors_checks(ctx: Context, p: K8sObject, spec: dict[str, Any]) -> Iterator[Finding]:
    selectors = spec.get("selectors")
    if selectors is None:
        misplaced = [k for k in SELECTOR_KEYS if k in spec]
        hint = f" ({' and '.join(misplaced)} must go under spec.selectors)" if misplaced else ""
        if misplaced:
            fix = "spec:\n  selectors:\n" + "\n".join(
                f"    {k}:\n" + _yaml_map(as_dict(spec.get(k)), 6) for k in misplaced
            )
        else:
            fix = (
                "spec:\n  selectors:\n    virtualMachineInstanceSelector:\n"
                "      workload-type: db\n    # or selectors: {} to match every VMI (catch-all)"
            )
        yield ctx.finding(
            "KV502",
            p,
            ("spec", "selectors") if "selectors" in spec else ("spec",),
            "spec.selectors is missing"
            + (" (null)" if "selectors" in spec else "")
            + ": the CRD requires it, so the API server rejects the policy; a policy without "
            "selectors would match no VMI at all" + hint,
            fix=fix,
        )
        return
    if not isinstance(selectors, dict):
        yield ctx.finding(
            "KV502",
            p,
            ("spec", "selectors"),
            f"spec.selectors is {describe_value(selectors)}, not a mapping: the API server rejects the "
            "policy (selectors has the fields namespaceSelector and "
            "virtualMachineInstanceSelector)",
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
            parsed = _parse_selector_text(sel) if isinstance(sel, str) else {}
            yield ctx.finding(
                "KV503",
                p,
                base,
                f"spec.selectors.{key} is {describe_value(sel)}: it must be a plain map of label key to "
                "string value (map[string]string), so the API server rejects the policy",
                fix=f"spec:\n  selectors:\n    {key}:\n" + _yaml_map(parsed or {"workload-type": "db"}, 6),
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
                for _, e in enumerate_dicts(lv):
                    vals = e.get("values")
                    if e.get("operator") == "In" and isinstance(vals, list) and len(vals) == 1:
                        plain[str(e.get("key"))] = vals[0]
                    else:
                        shown_vals = vals if vals is not None else ""
                        unexpressible.append(f"{e.get('key')} {e.get('operator')} {shown_vals}".strip())
            elif not isinstance(lv, str):
                yield ctx.finding(
                    "KV504",
                    p,
                    base + (lk,),
                    f"label value of {lk!r} in spec.selectors.{key} is read as {describe_value(lv)}, "
                    "not a string (YAML 1.1 reads unquoted true/yes/on/numbers as non-strings): "
                    "the API server rejects the policy, since selector values must be strings",
                    fix=f"quote the value, exactly as the label is written on the "
                    f"{'Namespace' if key == 'namespaceSelector' else 'VMI'}:\n"
                    f"  {key}:\n    {lk}: {quote_value(lv)}"
                    + ('   # or "yes" / "on" / "True", as written' if lv is True else "")
                    + ('   # or "no" / "off" / "False", as written' if lv is False else ""),
                )
            else:
                plain[lk] = lv
        if label_selector:
            note = (
                f"; {', '.join(unexpressible)} cannot be written as a plain map (only exact "
                "key=value pairs, all of which must match)"
                if unexpressible
                else ""
            )
            where = "matchLabels" if "matchLabels" in sel else "matchExpressions"
            yield ctx.finding(
                "KV503",
                p,
                base + (where,),
                f"spec.selectors.{key} is written as a Kubernetes LabelSelector ({where}), but "
                "it is a plain map of label key to value: the API server rejects the policy "
                f"({where} is read as a label whose value is not a string)" + note,
                fix=f"spec:\n  selectors:\n    {key}:\n" + _yaml_map(plain, 6),
            )
    unknown = [k for k in selectors if k not in SELECTOR_KEYS]
    if catch_all and p.api_version == API_VERSION:
        pruned = f" once the API server prunes the unknown key(s) {', '.join(unknown)} (KV509)" if unknown else ""
        yield ctx.finding(
            "KV510",
            p,
            ("spec", "selectors"),
            f"the selectors are empty{pruned}, so this policy matches every VMI in every "
            "namespace (with score 0): every VM that no more specific policy matches gets its "
            "settings" + _settings_summary(p),
            fix="restrict the policy to the VMs it is meant for:\n  spec:\n    selectors:\n"
            "      virtualMachineInstanceSelector:\n        workload-type: db\n"
            "      namespaceSelector:\n        kubernetes.io/metadata.name: apps",
        )
    for k in unknown:
        yield _unknown(ctx, p, ("spec", "selectors", k), SELECTOR_KEYS, "spec.selectors")


def _parse_selector_text(text: str) -> dict[str, str]:
    """``a=b,c=d`` (kubectl -l syntax) as a map; {} when it is not that syntax."""
    out: dict[str, str] = {}
    for part in text.split(","):
        k, sep, v = part.partition("=")
        if not sep or not k.strip():
            return {}
        out[k.strip()] = v.strip().lstrip("=")
    return out


def _settings_summary(p: K8sObject) -> str:
    spec = as_dict(p.data.get("spec"))
    set_fields = [
        f"{k}: {_yaml_scalar(spec[k])}"
        for k in POLICY_FIELDS
        if k != "selectors" and k in spec and not isinstance(spec[k], (dict, list))
    ]
    return f" ({', '.join(set_fields)})" if set_fields else ""


def _nested(keys: list[str], value: Any) -> str:
    """YAML for ``value`` at ``keys`` (one mapping level per key)."""
    lines = [("  " * i) + f"{k}:" for i, k in enumerate(keys)]
    pad = len(keys) * 2
    if isinstance(value, dict):
        return "\n".join(lines) + "\n" + _yaml_map(value, pad)
    if isinstance(value, (list, type(None))):
        return "\n".join(lines) + " ..."
    return "\n".join(lines) + " " + _yaml_scalar(value)


def _unknown(ctx: Context, p: K8sObject, path: Path, known: tuple[str, ...] | list[str], where: str) -> Finding:
    key = str(path[-1])
    value = get(p.data, *path)
    target: list[str] | None = None
    hint = ""
    if where == "spec" and key in SELECTOR_KEYS:
        target = ["spec", "selectors", key]
        hint = f"; it belongs under spec.selectors: spec.selectors.{key}"
    else:
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
        if key in ("selector", "labelSelector", "matchLabels"):
            close = ["selectors" if where == "spec" else "virtualMachineInstanceSelector"]
        if key in ("vmiSelector", "virtualMachineSelector", "vmSelector", "podSelector"):
            close = ["virtualMachineInstanceSelector"]
        if close:
            target = where.split(".") + [close[0]]
            hint = f"; did you mean {where}.{close[0]}?"
    fix = (
        f"write it as {'.'.join(target)}:\n" + _nested(target, value)
        if target
        else f"remove it; {where} has only: {', '.join(known)}"
    )
    return ctx.finding(
        "KV509",
        p,
        path,
        f"{where}.{key} is not a MigrationPolicy field: the API server prunes unknown fields "
        f"silently, so the policy is stored without it and it never applies{hint}",
        fix=fix,
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
        ranges = _field_releases(key)
        if ranges is not None and not _has_field(key, version):
            from kvlint import schema_validate as sv

            first = sv.parse_ranges(ranges)[0][0]
            target = sv.modelled_release(version)
            later = target < first
            since = f"{first[0]}.{first[1]}"
            yield ctx.finding(
                "KV508",
                p,
                path,
                f"spec.{key} is not part of MigrationPolicy in KubeVirt {vtext} (target version; "
                f"the field {sv.release_phrase(ranges, target).split(';')[0]}): the API server "
                "prunes it, so the policy is stored and applied without it",
                fix=(
                    f"upgrade KubeVirt to v{since} or later, or remove spec.{key}; "
                    "if the cluster already runs a newer KubeVirt, set it:\n"
                    f'  kubevirtVersion: "{since}"'
                    "   # .kvlint.yaml, or --kubevirt-version"
                )
                if later
                else f"remove spec.{key}: KubeVirt {vtext} no longer has it",
            )
    yield from _value_checks(ctx, p, spec)
    if _has_field("experimental", version):
        yield from _experimental_checks(ctx, p, spec)


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
            "set it cluster-wide in the HyperConverged CR instead (it applies to every "
            "migration):\n"
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
            "  kind: KubeVirt\n  spec:\n    configuration:\n      migrations:\n"
            f"        {key}: {shown}"
        )
    return ctx.finding(
        "KV507",
        p,
        ("spec", key),
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


#: spec.experimental (v1.9.0 ExperimentalMigrationOptions: stallDetector and compression;
#: downtimeTuning is not in v1.9.0): field -> expected value, where a
#: value is "bool", "quantity", ("int", minimum, maximum) or a tuple of allowed strings.
EXPERIMENTAL: dict[str, dict[str, Any] | tuple[str, ...]] = {
    "stallDetector": {
        "stallMargin": ("int", 0, 100),
        "ewmaAlpha": ("factor", 0, 1, True),
        "stallProgressTimeout": ("int", 0, None),
        "switchoverTimeout": ("int", 0, None),
        "precopyPossibleFactor": ("factor", 1, None, False),
        "patienceWindowDecayFactor": ("factor", 0, 1, False),
        "searchLocalMinima": "bool",
        "completionTimeoutFactor": ("factor", 1, None, False),
    },
    "compression": ("none", "zstd"),
}


def _bad_value(value: Any, expected: Any) -> str | None:
    """Why ``value`` does not fit ``expected`` (see EXPERIMENTAL), or None."""
    if expected == "bool":
        return None if isinstance(value, bool) else "a boolean (unquoted true or false)"
    if expected == "quantity":
        ok = (isinstance(value, str) and QUANTITY_RE.match(value) is not None) or (
            isinstance(value, (int, float)) and not isinstance(value, bool)
        )
        return None if ok else "a quantity (e.g. 0.5, 2, 500m)"
    if isinstance(expected, tuple) and expected and expected[0] == "factor":
        return _bad_factor(value, expected)
    if isinstance(expected, tuple) and expected and expected[0] == "int":
        _, lo, hi = expected
        if isinstance(value, bool) or not isinstance(value, int):
            return "an unquoted integer"
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return f"an integer from {lo}" + (f" to {hi}" if hi is not None else " up")
        return None
    if isinstance(expected, tuple):
        return None if value in expected else "one of " + ", ".join(expected)
    return None


def _bad_factor(value: Any, expected: tuple[Any, ...]) -> str | None:
    """The stall detector's factors are strings holding a decimal number in a range (v1.9.0
    StallDetectorOptions ``*string``; migrationpolicy-admitter.go validateStallDetectorFactor)."""
    _, lo, hi, exclusive = expected
    rng = f"greater than {lo}" if exclusive else f"at least {lo}"
    rng += f" and at most {hi}" if hi is not None else ""
    if not isinstance(value, str):
        return f"a quoted decimal number, {rng} (the field is a string)"
    try:
        number = float(value)
    except ValueError:
        return f"a quoted decimal number, {rng}"
    if number != number or (number <= lo if exclusive else number < lo) or (hi is not None and number > hi):
        return f"a quoted decimal number, {rng}"
    return None


def _experimental_checks(ctx: Context, p: K8sObject, spec: dict[str, Any]) -> Iterator[Finding]:
    if "experimental" not in spec or spec["experimental"] is None:
        return
    exp = spec["experimental"]
    base: Path = ("spec", "experimental")
    if not isinstance(exp, dict):
        yield ctx.finding(
            "KV506",
            p,
            base,
            f"spec.experimental is {describe_value(exp)}, not a mapping: the API server rejects the policy",
            fix="spec:\n  experimental:\n    compression: zstd",
        )
        return
    for key, value in exp.items():
        path = base + (key,)
        expected = EXPERIMENTAL.get(key)
        if expected is None:
            yield _unknown(ctx, p, path, list(EXPERIMENTAL), "spec.experimental")
            continue
        if value is None:
            continue
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                yield ctx.finding(
                    "KV506",
                    p,
                    path,
                    f"spec.experimental.{key} is {describe_value(value)}, not a mapping: "
                    "the API server rejects the policy",
                    fix=f"spec:\n  experimental:\n    {key}: {{}}",
                )
                continue
            for sub, sub_value in value.items():
                sub_expected = expected.get(sub)
                if sub_expected is None:
                    where = f"spec.experimental.{key}"
                    yield _unknown(ctx, p, path + (sub,), list(expected), where)
                    continue
                why = _bad_value(sub_value, sub_expected) if sub_value is not None else None
                if why:
                    yield ctx.finding(
                        "KV506",
                        p,
                        path + (sub,),
                        f"spec.experimental.{key}.{sub} is {describe_value(sub_value)}; it must be "
                        f"{why}: the API server rejects the policy",
                        fix=f"write {sub} as {why}",
                    )
            continue
        why = _bad_value(value, expected)
        if why:
            yield ctx.finding(
                "KV506",
                p,
                path,
                f"spec.experimental.{key} is {describe_value(value)}; it must be {why}: "
                "the API server rejects the policy",
                fix=f"spec:\n  experimental:\n    {key}: {expected[0] if expected else ''}",
            )


def _value_checks(ctx: Context, p: K8sObject, spec: dict[str, Any]) -> Iterator[Finding]:
    if "bandwidthPerMigration" in spec:
        v = spec["bandwidthPerMigration"]
        path: Path = ("spec", "bandwidthPerMigration")
        negative = False
        if isinstance(v, str):
            if QUANTITY_RE.match(v) is None:
                yield ctx.finding(
                    "KV506",
                    p,
                    path,
                    f"bandwidthPerMigration {v!r} is not a Kubernetes quantity (a number with an "
                    "optional suffix Ki, Mi, Gi, … or k, M, G, …; no spaces, no 'B' or '/s'): the "
                    "API server rejects the policy",
                    fix="spec:\n  bandwidthPerMigration: 64Mi   # bytes per second; 0 = unlimited",
                )
            else:
                negative = _quantity_sign(v) < 0
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            yield ctx.finding(
                "KV506",
                p,
                path,
                f"bandwidthPerMigration is {describe_value(v)}, not a quantity: the API server rejects the policy",
                fix="spec:\n  bandwidthPerMigration: 64Mi   # bytes per second; 0 = unlimited",
            )
        else:
            negative = v < 0
        if negative:
            yield ctx.finding(
                "KV505",
                p,
                path,
                f"bandwidthPerMigration {v} is negative: KubeVirt's admission rejects the policy "
                'with "must not be negative" (spec.bandwidthPerMigration)',
                fix="spec:\n  bandwidthPerMigration: 64Mi   # a positive limit, or 0 for unlimited",
            )
    if "completionTimeoutPerGiB" in spec:
        v = spec["completionTimeoutPerGiB"]
        path = ("spec", "completionTimeoutPerGiB")
        if isinstance(v, bool) or not isinstance(v, int):
            yield ctx.finding(
                "KV506",
                p,
                path,
                f"completionTimeoutPerGiB is {describe_value(v) if not isinstance(v, str) else repr(v)}, "
                "not an integer (seconds per GiB): the API server rejects the policy",
                fix="spec:\n  completionTimeoutPerGiB: 150   # an unquoted integer; 0 disables the timeout",
            )
        elif v < 0:
            yield ctx.finding(
                "KV505",
                p,
                path,
                f"completionTimeoutPerGiB {v} is negative: KubeVirt's admission rejects the policy "
                'with "must not be negative" (spec.completionTimeoutPerGiB)',
                fix="spec:\n  completionTimeoutPerGiB: 150   # seconds per GiB; 0 disables the timeout",
            )
    for key in BOOL_FIELDS:
        if not _has_field(key, ctx.cluster.version):
            continue  # pruned on this version (KV508)
        if key in spec and not isinstance(spec[key], bool):
            v = spec[key]
            yield ctx.finding(
                "KV506",
                p,
                ("spec", key),
                f"{key} is {repr(v) if isinstance(v, str) else describe_value(v)}, not a boolean: the "
                "API server rejects the policy",
                fix=f"spec:\n  {key}: true   # unquoted true or false",
            )
    if "maxDowntimeMs" in spec and _has_field("maxDowntimeMs", ctx.cluster.version):
        v = spec["maxDowntimeMs"]
        lo, hi = MAX_DOWNTIME_RANGE
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            yield ctx.finding(
                "KV506",
                p,
                ("spec", "maxDowntimeMs"),
                f"maxDowntimeMs is {repr(v) if isinstance(v, str) else describe_value(v)}: the CRD "
                f"accepts an integer from {lo} to {hi} (milliseconds), so the API server rejects "
                "the policy",
                fix="spec:\n  maxDowntimeMs: 900   # KubeVirt's default; 1..2000000",
            )


# --------------------------------------------------------------------------- matching
#
# Phase 2: a policy that phase-1 rules found the API server or KubeVirt's admission would
# reject never exists in the cluster, so it takes no part in the matching.

#: Rules whose findings mean the API server / admission rejects the policy (``rejects:
#: true`` in the rule file; KV507-KV509 leave it stored without the offending field).
REJECTING = frozenset(rid for rid, meta in catalog.load().items() if meta.rejects)


def admitted(ctx: Context) -> list[K8sObject]:
    """The policies in view that would exist in the cluster (computed once per run, in
    phase 2, when the phase-1 findings that reject policies are known)."""
    cached: list[K8sObject] | None = ctx.cluster.memo.get("admitted-policies")
    if cached is not None:
        return cached
    rejected = {
        id(p)
        for p in pm.policies(ctx.inv)
        if any(f.rule in REJECTING and f.severity == "error" for f in ctx.for_object(p))
    }
    out = [p for p in pm.policies(ctx.inv) if id(p) not in rejected]
    ctx.cluster.memo["admitted-policies"] = out
    return out


def _name(p: K8sObject) -> str:
    return p.name or "(unnamed)"


def _policy_names(scores: list[pm.PolicyScore]) -> str:
    return ", ".join(_name(s.policy) for s in scores)


def _selector_desc(p: K8sObject) -> str:
    sel = _selectors(p) or {}
    parts = []
    for key in SELECTOR_KEYS:
        v = sel.get(key)
        if isinstance(v, dict) and v:
            parts.append(f"{key} {_sel_text(v)}")
    return "; ".join(parts) if parts else "selectors {}"


def _tie_fix(ctx: Context, w: Workload, name: str) -> str:
    """The fix of a tie (the same text for every workload of one kind tied the same way)."""
    cache: dict[tuple[Path, str], str] = ctx.cluster.memo.setdefault("tie-fixes", {})
    key = (w.meta_path, name)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = _tie_fix_text(w, name)
    return hit


def _tie_fix_text(w: Workload, name: str) -> str:
    return (
        "make the intended policy the most specific one: give the VM a label and require it in "
        f"that policy only, e.g. if {name} is meant for this VM:\n"
        + _labels_fix(w, label=f"migration-policy: {name}")
        + f"\nand in MigrationPolicy {name}:\n  spec:\n    selectors:\n"
        f"      virtualMachineInstanceSelector:\n        migration-policy: {name}\n"
        "(or merge the tied policies into one)"
    )


def _all_admitted(ctx: Context) -> bool:
    flag: bool | None = ctx.cluster.memo.get("all-policies-admitted")
    if flag is None:
        flag = ctx.cluster.memo["all-policies-admitted"] = len(admitted(ctx)) == len(pm.policies(ctx.inv))
    return flag


def _match(ctx: Context, w: Workload) -> pm.PolicyMatch | None:
    """The policy match of ``w`` among the admitted policies (None when there are none)."""
    candidates = admitted(ctx)
    if not candidates:
        return None
    if _all_admitted(ctx):
        # Every policy is admitted: the match the effective settings use (computed once).
        m: pm.PolicyMatch | None = w.memo.get("policy")
        if m is None:
            m = w.memo["policy"] = pm.match(ctx.inv, w)
        return m
    return pm.match(ctx.inv, w, candidates)


@workload("KV511", phase=2)
def policy_matching(ctx: Context, w: Workload) -> Iterator[Finding]:
    m = _match(ctx, w)
    if m is None or m.winner is None or not m.ties:
        return
    winner = m.winner
    where = labels_path(w)
    tied = [winner] + m.ties
    assumed = ""
    if m.assumptions:
        assumed = " Assumed: " + "; ".join(m.assumptions) + "."
    yield ctx.finding(
        "KV511",
        w.obj,
        where,
        f"{len(tied)} MigrationPolicies match {w.obj.display()} with the same score (total "
        f"{winner.total}, VMI labels {winner.vmi_score}): {_policy_names(tied)}.\nKubeVirt picks "
        f"{_name(winner.policy)} only because its name sorts first; renaming or adding a policy "
        f"changes which settings this VM migrates with.{assumed}",
        related=_policy_locs(ctx, [s.policy for s in tied]),
        fix=_tie_fix(ctx, w, _name(m.ties[0].policy)),
        policies=[_name(s.policy) for s in tied],
        winner=_name(winner.policy),
    )


def _reach(ctx: Context) -> dict[int, tuple[int, list[str]]]:
    """Admitted policy (by id) -> (how many workloads in view it matches, the workloads it
    matches only on some node). Computed once per run from each workload's match."""
    cached: dict[int, tuple[int, list[str]]] | None = ctx.cluster.memo.get("policy-reach")
    if cached is not None:
        return cached
    counts: dict[int, int] = {}
    conditional: dict[int, list[str]] = {}
    for w in _workloads_in_view(ctx):
        m = _match(ctx, w)
        if m is None:
            break
        for s in m.matched:
            counts[id(s.policy)] = counts.get(id(s.policy), 0) + 1
        for s in m.conditional_all:
            conditional.setdefault(id(s.policy), []).append(w.obj.display())
    out = {k: (counts.get(k, 0), conditional.get(k, [])) for k in counts.keys() | conditional.keys()}
    ctx.cluster.memo["policy-reach"] = out
    return out


def _needs_namespace_view(p: K8sObject) -> bool:
    sel = _selectors(p)
    ns_sel = as_dict(sel.get("namespaceSelector")) if sel else {}
    return any(k != pm.METADATA_NAME for k in ns_sel)


def _ns_assumption_map(ctx: Context) -> dict[int, dict[str, list[str]]]:
    """Admitted policy (by id) -> namespace not in view -> names of the VMs in it that the
    policy does not match only because of the namespace labels assumed (only
    kubernetes.io/metadata.name). Workloads alike (same namespace, same values of the label
    keys the selectors use) are scored once."""
    cached: dict[int, dict[str, list[str]]] | None = ctx.cluster.memo.get("policy-ns-assumptions")
    if cached is not None:
        return cached
    out: dict[int, dict[str, list[str]]] = {}
    ctx.cluster.memo["policy-ns-assumptions"] = out
    cands = [p for p in admitted(ctx) if _needs_namespace_view(p)]
    if not cands:
        return out
    keys = sorted(pm.index(ctx.inv, admitted(ctx)).vmi_keys)
    namespaces: dict[str, tuple[dict[str, str], bool]] = {}
    groups: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, str], list[str]]] = {}
    for w in _workloads_in_view(ctx):
        ns_info = namespaces.get(w.obj.ns)
        if ns_info is None:
            ns_info = namespaces[w.obj.ns] = pm.namespace_labels(ctx.inv, w.obj.ns)
        ns_labels, in_view = ns_info
        if in_view:
            continue
        labels = pm.running_labels(w)
        key = (w.obj.ns, tuple(str(labels[k]) if k in labels else None for k in keys))
        group = groups.get(key)
        if group is None:
            group = groups[key] = (labels, ns_labels, [])
        group[2].append(w.obj.name)
    for (ns, _), (labels, ns_labels, names) in groups.items():
        for p in cands:
            s = pm.score(p, labels, ns_labels)
            if not s.matched and s.note == pm.NS_MISMATCH:
                out.setdefault(id(p), {}).setdefault(ns or "", []).extend(names)
    return out


def _ns_assumptions(ctx: Context, p: K8sObject) -> dict[str, list[str]]:
    """Namespaces not in view whose assumed labels decide that ``p`` does not match a VM in
    them: namespace -> names of those VMs."""
    return _ns_assumption_map(ctx).get(id(p), {})


def _admitted_policy(ctx: Context, p: K8sObject) -> bool:
    ids: set[int] | None = ctx.cluster.memo.get("admitted-policy-ids")
    if ids is None:
        ids = ctx.cluster.memo["admitted-policy-ids"] = {id(a) for a in admitted(ctx)}
    return id(p) in ids


@objects(("MigrationPolicy",), "KV514", phase=2)
def namespace_assumption(ctx: Context, p: K8sObject) -> Iterator[Finding]:
    if not _admitted_policy(ctx, p):
        return
    ns_sel = as_dict(as_dict(_selectors(p)).get("namespaceSelector"))
    for ns, names in sorted(_ns_assumptions(ctx, p).items()):
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        labels = _yaml_map(ns_sel, 6)
        if not ns:
            # No metadata.namespace: the namespace is chosen when the VM is applied.
            yield ctx.finding(
                "KV514",
                p,
                ("spec", "selectors", "namespaceSelector"),
                f"namespaceSelector {_sel_text(ns_sel)} is evaluated against the labels of the "
                f"namespace that {shown} (no metadata.namespace) will be applied to, which kvlint "
                "cannot know: it counts them as not matched by this policy",
                fix="set metadata.namespace on those VMs, and add that Namespace with its labels to the "
                "input (or pass the cluster's objects with --cluster-state FILE):\n"
                "  apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: <their namespace>\n"
                "    labels:\n" + labels,
                namespace=None,
                workloads=names,
            )
            continue
        yield ctx.finding(
            "KV514",
            p,
            ("spec", "selectors", "namespaceSelector"),
            f"namespaceSelector {_sel_text(ns_sel)} is evaluated against the labels of Namespace "
            f"{ns}, which is not in view: kvlint assumes it carries only "
            f"{pm.METADATA_NAME}={ns}, so it counts {shown} in it as not matched by this "
            "policy; if the Namespace has these labels, the policy applies to them",
            fix="add the Namespace manifest to the input (or pass the cluster's objects with "
            "--cluster-state FILE):\n  apiVersion: v1\n  kind: Namespace\n  metadata:\n"
            f"    name: {ns}\n    labels:\n" + labels,
            namespace=ns,
            workloads=names,
        )


@objects(("MigrationPolicy",), "KV512", phase=2)
def policy_matches_nothing(ctx: Context, p: K8sObject) -> Iterator[Finding]:
    if not _admitted_policy(ctx, p):
        return  # rejected by the API server anyway: reported by KV501-KV506
    workloads = _workloads_in_view(ctx)
    if not workloads:
        return
    if id(p) in _reach(ctx):
        return  # matches some VM in view (or may, on some node: KV520)
    reasons: list[str] = []
    for w in workloads[:3]:
        ns_labels, _ = pm.namespace_labels(ctx.inv, w.obj.ns)
        s = pm.score(p, pm.running_labels(w), ns_labels)
        reasons.append(f"{w.obj.display()}: {s.note}")
    more = len(workloads) - len(reasons)
    assumed = (
        " — assuming the Namespaces not in view carry no other labels (see KV514)" if _ns_assumptions(ctx, p) else ""
    )
    yield ctx.finding(
        "KV512",
        p,
        ("spec", "selectors"),
        f"MigrationPolicy {_name(p)} ({_selector_desc(p)}) matches none of the {len(workloads)} "
        f"VM(s)/VMI(s) in view ({'; '.join(reasons)}{f' and {more} more' if more else ''})"
        f"{assumed}: check the label keys and values against the VM templates' metadata.labels",
        fix="make the selector match the labels of the VMs it is meant for, e.g. on the VM:\n"
        "  spec:\n    template:\n      metadata:\n        labels:\n          workload-type: db\n"
        "and in the policy:\n  spec:\n    selectors:\n      virtualMachineInstanceSelector:\n"
        "        workload-type: db",
    )


@objects(("MigrationPolicy",), "KV516")
def stall_detection_gate(ctx: Context, p: K8sObject) -> Iterator[Finding]:
    """v1.9.0's policy admission refuses a new or changed maxDowntimeMs or
    experimental.stallDetector unless the MigrationStallDetection gate is on
    (migrationpolicy-admitter.go MigrationPolicyAdmitter.Admit)."""
    if not is_kubevirt_policy(p) or not versions.holds("policy-stall-detection-gate", ctx.cluster.version):
        return
    spec = as_dict(p.data.get("spec"))
    fields: list[tuple[Path, str]] = []
    if spec.get("maxDowntimeMs") is not None:
        fields.append((("spec", "maxDowntimeMs"), "maxDowntimeMs"))
    if as_dict(spec.get("experimental")).get("stallDetector") is not None:
        fields.append((("spec", "experimental", "stallDetector"), "experimental.stallDetector"))
    if not fields:
        return
    gates = ctx.cluster.feature_gates
    if gates.value is not None and "MigrationStallDetection" in gates.value:
        return
    related = [gates.source.loc(gates.path, label="feature gates")] if gates.source is not None else []
    for path, name in fields:
        if gates.value is None:
            yield ctx.finding(
                "KV516",
                p,
                path,
                f"{name} cannot be modified without enabling the MigrationStallDetection feature gate, "
                "and no KubeVirt CR or HyperConverged is in view to tell whether it is on (off by default)",
                severity="warning",
            )
        else:
            yield ctx.finding(
                "KV516",
                p,
                path,
                f"rejected at admission: {name} cannot be modified without enabling the "
                f"MigrationStallDetection feature gate ({gates.origin()} does not enable it)",
                related=related,
            )


def _node_requirement(pairs: dict[str, str]) -> str:
    words = {
        pm.NODE_NAME: "the VMI to run on node {v} ({k}={v})",
        pm.TARGET_NODE_NAME: "the migration's target node to be {v} ({k}={v})",
    }
    return " and ".join(words[k].format(k=k, v=v) for k, v in pairs.items())


@objects(("MigrationPolicy",), "KV520", phase=2)
def policy_selects_node(ctx: Context, p: K8sObject) -> Iterator[Finding]:
    if not _admitted_policy(ctx, p):
        return
    vmi_sel = as_dict(as_dict(_selectors(p)).get("virtualMachineInstanceSelector"))
    node_pairs = {str(k): pm.kube_str(v) for k, v in vmi_sel.items() if k in pm.NODE_LABELS}
    if not node_pairs:
        return
    key = next(iter(node_pairs))
    path: Path = ("spec", "selectors", "virtualMachineInstanceSelector", key)
    sets = (
        "virt-controller sets kubevirt.io/nodeName on every running VMI to the node it runs on, and "
        "kubevirt.io/migrationTargetNodeName to the target node just before it chooses the policy"
    )
    fix = (
        "select the VMs by a label of their own template instead, e.g. on the VM:\n"
        "  spec:\n    template:\n      metadata:\n        labels:\n          migration-tier: slow-network\n"
        "and in the policy:\n  spec:\n    selectors:\n      virtualMachineInstanceSelector:\n"
        "        migration-tier: slow-network"
    )
    empty = [k for k, v in node_pairs.items() if v == ""]
    if empty:
        yield ctx.finding(
            "KV520",
            p,
            ("spec", "selectors", "virtualMachineInstanceSelector", empty[0]),
            f"virtualMachineInstanceSelector requires {empty[0]} to be empty: {sets}; a node name is "
            "never empty, so this policy never matches any VMI",
            fix=fix,
        )
        return
    _, conditional = _reach(ctx).get(id(p), (0, []))
    shown = ", ".join(conditional[:5]) + (f" and {len(conditional) - 5} more" if len(conditional) > 5 else "")
    whom = (
        f"; the other selectors match {len(conditional)} VM(s)/VMI(s) in view ({shown}), and kvlint's "
        "verdicts for them (winning policy, effective migration settings, time budget) assume "
        "the policy does not apply"
        if conditional
        else "; its other selectors match no VM in view"
    )
    yield ctx.finding(
        "KV520",
        p,
        path,
        f"virtualMachineInstanceSelector requires {_node_requirement(node_pairs)}: {sets}, so this "
        "policy applies only there; which node that is cannot be known from the manifests" + whom,
        fix=fix,
        nodes=node_pairs,
        workloads=conditional,
    )
