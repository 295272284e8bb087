"""KV8xx: structural schema problems (schemas/*.json), API kinds and versions.

Every object of a kind kvlint has a schema for is validated with the fast in-house validator
(kvlint.schema_validate). Each violation becomes one finding at the node at fault:

* KV801 unknown field, KV804 the same when the field is known one level off (misplaced),
* KV802 wrong type, KV803 value not in the enum, KV805 missing required field,
* KV808 number out of range, KV809 string not in the required format (quantity, duration),
* KV806 a kind or apiVersion the API group does not serve, KV807 a deprecated apiVersion,
* KV810 a field (or an apiVersion) that exists in other releases than the target one.

The schemas are generated from the upstream API descriptions of every release kvlint models
(tools/gen_schemas.py); each object is validated against the view of the target release
(``kubevirtVersion`` / ``--kubevirt-version``, read from ``ctx.cluster.version``).

Problems that other rules already report are left to them: a schema error at a node where a
KV106 (DataVolume specs), KV208 (pod-network ports), KV4xx, KV5xx or KV6xx finding sits is
not reported again, and when the KV4xx / KV5xx rules are in the catalog, the migration
settings blocks (HCO liveMigrationConfig, KubeVirt spec.configuration.migrations) and the
MigrationPolicy spec are theirs as a whole. The check runs in phase 2 to see their findings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kvlint import catalog
from kvlint import schema_validate as sv
from kvlint.checks import each
from kvlint.inventory import K8sObject, get
from kvlint.models import Finding

if TYPE_CHECKING:
    from kvlint.engine import Context

Path = tuple[Any, ...]

RULES = ("KV801", "KV802", "KV803", "KV804", "KV805", "KV806", "KV807", "KV808", "KV809", "KV810")

KEYWORD_RULE = {
    "additionalProperties": "KV801",
    "type": "KV802",
    "enum": "KV803",
    "required": "KV805",
    "minimum": "KV808",
    "maximum": "KV808",
    "pattern": "KV809",
    "release": "KV810",
}

#: Kinds each API group serves, beyond those of schemas/index.json (kinds kvlint has a
#: schema for, or lists under deprecatedApiVersions).
EXTRA_KINDS: dict[str, tuple[str, ...]] = {
    "kubevirt.io": ("VirtualMachineInstancePreset",),
    "cdi.kubevirt.io": (
        "DataSource",
        "DataImportCron",
        "ObjectTransfer",
        "VolumeImportSource",
        "VolumeUploadSource",
        "VolumeCloneSource",
    ),
    "snapshot.kubevirt.io": (
        "VirtualMachineSnapshot",
        "VirtualMachineSnapshotContent",
        "VirtualMachineRestore",
    ),
    "export.kubevirt.io": ("VirtualMachineExport",),
    "clone.kubevirt.io": ("VirtualMachineClone",),
    "instancetype.kubevirt.io": (
        "VirtualMachineInstancetype",
        "VirtualMachineClusterInstancetype",
        "VirtualMachinePreference",
        "VirtualMachineClusterPreference",
    ),
    "migrations.kubevirt.io": ("MigrationPolicy",),
    "": (
        "ConfigMap",
        "Secret",
        "Service",
        "ServiceAccount",
        "Pod",
        "Endpoints",
        "Event",
        "LimitRange",
        "ResourceQuota",
        "ReplicationController",
        "PodTemplate",
    ),
}

#: Groups whose whole list of kinds kvlint knows: any other kind in them is reported.
#: In other groups only a case or plural variant of a known kind is.
STRICT_GROUPS = frozenset(
    (
        "kubevirt.io",
        "cdi.kubevirt.io",
        "hco.kubevirt.io",
        "pool.kubevirt.io",
        "snapshot.kubevirt.io",
        "export.kubevirt.io",
        "clone.kubevirt.io",
        "instancetype.kubevirt.io",
    )
)

_CATALOG: dict[str, Any] = {}


def _catalog() -> dict[str, Any]:
    """Kinds and versions by group, deprecated apiVersions: built once from index.json."""
    if _CATALOG:
        return _CATALOG
    idx = sv.index()
    kinds: dict[str, set[str]] = {}
    versions: dict[str, set[str]] = {}

    def add(api_version: str, kind: str | None = None) -> None:
        group, _, version = api_version.rpartition("/")
        versions.setdefault(group, set()).add(version)
        if kind is not None:
            kinds.setdefault(group, set()).add(kind)

    for key in idx["schemas"]:
        api_version, _, kind = key.rpartition("/")
        add(api_version, kind)
    deprecated: dict[str, dict[str, Any]] = {}
    for dep in idx.get("deprecatedApiVersions", ()):
        deprecated[dep["apiVersion"]] = dep
        for k in dep["kinds"]:
            add(dep["apiVersion"], k)
            add(dep["replacement"], k)
    for group, extra in EXTRA_KINDS.items():
        kinds.setdefault(group, set()).update(extra)
    #: kind -> the (non-core) groups that serve it, strict groups first.
    owner: dict[str, list[str]] = {}
    for group in sorted(kinds, key=lambda g: (g not in STRICT_GROUPS, g)):
        for k in kinds[group] if group else ():
            owner.setdefault(k, []).append(group)
    _CATALOG.update(
        kinds={g: frozenset(v) for g, v in kinds.items()},
        versions={g: frozenset(v) for g, v in versions.items()},
        deprecated=deprecated,
        owner=owner,
    )
    return _CATALOG


def _split(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def _current_api_version(group: str, kind: str) -> str | None:
    """The apiVersion kvlint has a schema for (or a deprecation's replacement)."""
    idx = sv.index()
    for key in idx["schemas"]:
        av, _, k = str(key).rpartition("/")
        if k == kind and _split(av)[0] == group:
            return av
    for dep in idx.get("deprecatedApiVersions", ()):
        if kind in dep["kinds"] and _split(dep["replacement"])[0] == group:
            return str(dep["replacement"])
    return None


# --------------------------------------------------------------------------- KV806 / KV807


def _is_known(kinds: frozenset[str], kind: str) -> bool:
    return kind in kinds or (kind.endswith("List") and kind[:-4] in kinds)


def _kind_findings(ctx: Context, obj: K8sObject) -> Iterator[Finding]:
    cat = _catalog()
    group, version = _split(obj.api_version)
    kinds: frozenset[str] = cat["kinds"].get(group, frozenset())
    kind = obj.kind
    strict = group in STRICT_GROUPS
    shown = obj.api_version
    if not _is_known(kinds, kind):
        owners = [g for g in cat["owner"].get(kind, ()) if g != group]
        options = sorted(kinds)
        hint = sv.close_match(kind, options) if strict else _case_or_plural(kind, options)
        if hint is not None:
            yield ctx.finding(
                "KV806",
                obj,
                ("kind",),
                f"kind {kind!r} does not exist in {group or 'the core API group'} "
                f"(did you mean {hint!r}?): kubectl fails with 'no matches for kind "
                f'"{kind}" in version "{shown}"\'',
                fix=f"write kind: {hint} (kinds are case-sensitive)",
                suggestion=hint,
            )
        elif owners and (strict or group == ""):
            right = _current_api_version(owners[0], kind) or f"{owners[0]}/..."
            yield ctx.finding(
                "KV806",
                obj,
                ("apiVersion",),
                f"{kind} is served by the API group {owners[0]}, not "
                f"{group or 'the core group'}: kubectl fails with 'no matches for kind "
                f'"{kind}" in version "{shown}"\'',
                fix=f"write apiVersion: {right}",
            )
        elif strict:
            listed = ", ".join(options)
            yield ctx.finding(
                "KV806",
                obj,
                ("kind",),
                f"the API group {group} has no kind {kind!r} (it serves {listed}): kubectl "
                f'fails with \'no matches for kind "{kind}" in version "{shown}"\'',
                fix=f"use one of the kinds of {group}: {listed}",
            )
        return
    if strict and version not in cat["versions"].get(group, ()) and shown not in cat["deprecated"]:
        current = _current_api_version(group, kind)
        served = ", ".join(
            f"{group}/{v}"
            for v in sorted(cat["versions"].get(group, ()))
            if not _removed(str(cat["deprecated"].get(f"{group}/{v}", {}).get("note") or ""))
        )
        yield ctx.finding(
            "KV806",
            obj,
            ("apiVersion",),
            f"the API group {group} has no version {version!r} (served: {served}): kubectl "
            f'fails with \'no matches for kind "{kind}" in version "{shown}"\'',
            fix=f"write apiVersion: {current}" if current else f"use one of {served}",
        )


def _case_or_plural(kind: str, options: list[str]) -> str | None:
    low = kind.lower()
    for o in options:
        ol = o.lower()
        if ol == low or ol + "s" == low or ol + "es" == low:
            return o
    return None


def _removed(note: str) -> bool:
    n = note.lower()
    return "removed" in n or "no longer served" in n or "never served" in n


def _deprecation_findings(ctx: Context, obj: K8sObject, release: sv.Release) -> Iterator[Finding]:
    dep = _catalog()["deprecated"].get(obj.api_version)
    if dep is None:
        return
    if dep.get("releases") and sv.in_ranges(str(dep["releases"]), release):
        # The only version of the kind the target release serves.
        return
    note = str(dep.get("note") or "")
    replacement = dep["replacement"]
    removed = _removed(note)
    if removed:
        state = (
            f"is not served ({note}): the API server rejects the object with 'no matches "
            f'for kind "{obj.kind}" in version "{obj.api_version}"\''
        )
    elif "still served" in note.lower():
        same = f" with the same schema as {replacement}" if "same schema" in note.lower() else ""
        state = f"is deprecated (still served{same}, but a future release may stop serving it)"
    else:
        state = "is deprecated" + (f" ({note})" if note else "")
    yield ctx.finding(
        "KV807",
        obj,
        ("apiVersion",),
        f"apiVersion {obj.api_version} {state}; use {replacement}",
        fix=f"write apiVersion: {replacement} (check the fields against the {replacement} API)",
        severity="error" if removed else None,
        replacement=replacement,
    )


# --------------------------------------------------------------------------- schema findings


#: What ``_schema_errors`` gives: the errors and the apiVersion whose schema was used.
Errors = tuple[list[sv.SchemaError], str] | None


def _memo_key(obj: K8sObject, release: sv.Release) -> tuple[Any, ...]:
    return ("schema", obj.doc.path, obj.doc.index, obj.base, release)


class Precheck:
    """Validates objects other than workloads against their schemas as each shard reads
    them (``kvlint.shard.read_and_split``), so the run's last, single-process step only
    looks the answers up (``results`` go to the inventory's ``memo``). The answer depends
    on nothing but the object and the release: it is the same in any process."""

    def __init__(self, version: tuple[int, int] | None) -> None:
        from kvlint.inventory import DEFAULT_VERSION

        self.release = sv.modelled_release(version or DEFAULT_VERSION)
        self.results: dict[tuple[Any, ...], Errors] = {}

    def __call__(self, doc: Any) -> None:
        from kvlint.inventory import objects_of

        try:
            objects = objects_of(doc)
        except Exception:  # noqa: BLE001 - the checks report it, each in its own guard
            return
        for obj in objects:
            try:
                self.results[_memo_key(obj, self.release)] = _schema_errors_now(obj, self.release)
            except Exception:  # noqa: BLE001 - left to the check, which reports it (KV907)
                continue


def _schema_errors(obj: K8sObject, release: sv.Release, memo: dict[Any, Any] | None = None) -> Errors:
    """Schema errors of the object as of ``release`` and the apiVersion whose schema was
    used (``memo``: answers a ``Precheck`` worked out already)."""
    if memo is not None:
        key = _memo_key(obj, release)
        if key in memo:
            return memo.pop(key)  # type: ignore[no-any-return]
    return _schema_errors_now(obj, release)


def _schema_errors_now(obj: K8sObject, release: sv.Release) -> Errors:
    errors = sv.validate(obj.api_version, obj.kind, obj.data, release)
    if errors is not None:
        return errors, obj.api_version
    dep = _catalog()["deprecated"].get(obj.api_version)
    if dep is None or obj.kind not in dep["kinds"]:
        return None
    if "same schema" not in str(dep.get("note") or "").lower():
        return None
    # Still served with the schema of its replacement: validate against that one.
    errors = sv.validate(dep["replacement"], obj.kind, obj.data, release)
    if errors is None:
        return None
    return [e for e in errors if e.path != ("apiVersion",)], dep["replacement"]


#: Subtrees other rule families validate as a whole, when their rules are in the catalog.
_MIGRATION_BLOCKS: dict[str, Path] = {
    "hco.kubevirt.io/v1beta1/HyperConverged": ("spec", "liveMigrationConfig"),
    "hco.kubevirt.io/v1/HyperConverged": ("spec", "virtualization", "liveMigrationConfig"),
    "kubevirt.io/v1/KubeVirt": ("spec", "configuration", "migrations"),
}


@dataclass(slots=True)
class _Owners:
    #: KV4xx rules exist: HCO liveMigrationConfig / KubeVirt migrations belong to them.
    kv4: bool
    #: KV5xx rules exist: the MigrationPolicy spec belongs to them.
    kv5: bool
    #: (file, line, column) of every finding of an owner rule.
    spots: set[tuple[str, int, int]]


def _owners(ctx: Context, obj: K8sObject) -> _Owners:
    # A finding is located in the object it was reported on, so the owner rules' spots in
    # this object are among its own findings.
    owners = ctx.cluster.memo.get("schema-owners")
    if owners is None:
        owners = ctx.cluster.memo["schema-owners"] = (
            any(r.startswith("KV4") for r in ctx.rules),
            any(r.startswith("KV5") for r in ctx.rules),
        )
    # The rules that validate parts of these objects themselves (``owns_schema: true``:
    # DataVolume specs, pod-network ports, migration settings, MigrationPolicy, migrations):
    # a schema error at a node where one of them already reports is theirs.
    owner_rules = catalog.ids_with("owns_schema")
    return _Owners(
        kv4=owners[0],
        kv5=owners[1],
        spots={
            (f.location.file, f.location.line, f.location.column) for f in ctx.for_object(obj) if f.rule in owner_rules
        },
    )


def _under(path: Path, prefix: Path) -> bool:
    return path[: len(prefix)] == prefix


def _spot(obj: K8sObject, path: Path) -> tuple[str, int, int]:
    loc = obj.loc(path)
    return (loc.file, loc.line, loc.column)


def _owned_elsewhere(obj: K8sObject, schema_av: str, e: sv.SchemaError, own: _Owners) -> bool:
    """True when another rule reports this problem (no double reports)."""
    path = e.path
    if own.kv5 and obj.kind == "MigrationPolicy" and (_under(path, ("spec",)) or (path == () and e.value == "spec")):
        return True
    prefix = _MIGRATION_BLOCKS.get(f"{schema_av}/{obj.kind}") if own.kv4 else None
    # Inside the block; the misplaced or unknown block key itself stays ours (unless reported).
    if (
        prefix is not None
        and _under(path, prefix)
        and not (len(path) == len(prefix) and e.keyword == "additionalProperties")
    ):
        return True
    if not own.spots:
        return False
    if _spot(obj, path) in own.spots:
        return True
    if e.keyword == "required" and _spot(obj, path + (e.value,)) in own.spots:
        return True
    if e.keyword == "additionalProperties":
        # A misplaced block whose every key another rule reports (KV401 on
        # spec.virtualization.liveMigrationConfig of a v1beta1 HyperConverged).
        value = get(obj.data, *path)
        if isinstance(value, dict) and value:
            return all(_spot(obj, path + (k,)) in own.spots for k in value)
    return False


# --------------------------------------------------------------------------- misplaced fields

_MAX_MOVE = 3


def _fits(node: Any, value: Any) -> bool:
    types = node.types
    return types is None or type(value) in types


def _misplaced(root: Any, obj: K8sObject, schema_av: str, e: sv.SchemaError) -> tuple[str, str, list[Path]] | None:
    """(message, fix, target paths) when the unknown key of ``e`` is declared a few levels
    off (up, down or in a sibling), or belongs to the other HyperConverged version's layout."""
    path = e.path
    key = path[-1]
    parent = path[:-1]
    value = get(obj.data, *path)
    targets: list[Path] = []
    best = _MAX_MOVE
    for up in range(min(len(parent), _MAX_MOVE) + 1):
        if up > best:
            break
        anc = parent[: len(parent) - up]
        node = sv.node_at(root, anc)
        if node is None:
            continue
        for rel in node.descendants_named(key):
            full = anc + rel
            score = up + len(rel)
            if full == path or score > best:
                continue
            target = sv.node_at(root, full)
            if target is None or not _fits(target, value):
                continue
            if score < best or not targets:
                best, targets = score, []
            if full not in targets:
                targets.append(full)
    where = sv.path_str(parent) or "the top level"
    if obj.kind == "HyperConverged" and parent == ("spec",):
        other = "hco.kubevirt.io/v1" if schema_av.endswith("v1beta1") else "hco.kubevirt.io/v1beta1"
        other_root = sv.compiled(other, "HyperConverged")
        other_spec = sv.node_at(other_root, ("spec",)) if other_root else None
        if other_spec is not None and key in other_spec.property_names():
            if other.endswith("/v1"):
                return (
                    f"spec.{key} is the {other} layout; in {schema_av} its settings sit "
                    "directly under spec (for example spec.liveMigrationConfig, "
                    "spec.evictionStrategy), so the whole block is unknown here" + _DROPPED,
                    f"either set apiVersion: {other}, or move the fields of spec.{key} directly under spec",
                    [],
                )
            if targets:
                dest = " or ".join(sv.path_str(t) for t in targets[:3])
                return (
                    f"spec.{key} is the {other} location; in {schema_av} it is {dest}" + _DROPPED,
                    f"move spec.{key} to {dest}",
                    targets,
                )
            return (
                f"spec.{key} is a {other} field; {schema_av} regroups spec into "
                "virtualization, storage, networking, workloadSources, security and "
                "deployment, and may name it differently" + _DROPPED,
                f"find the {schema_av} equivalent of spec.{key}, or set apiVersion: {other}",
                [],
            )
    if not targets:
        return None
    targets = targets[:3]
    dest = " or ".join(sv.path_str(t) for t in targets)
    homes = " or ".join(sv.path_str(t[:-1]) or "the top level" for t in targets)
    msg = f"{key!r} belongs under {homes}, not under {where}"
    missing = _missing_required(root, obj, targets[0])
    if missing:
        msg += f" ({missing} is missing altogether)"
    if any(get(obj.data, *t) is not None for t in targets):
        msg += f", where it is already set: this copy is unknown{_DROPPED}"
    else:
        msg += _DROPPED
    return msg, f"move {key} to {dest}", targets


_DROPPED = (
    "; the API server rejects the object under strict field validation or drops the field, so it never takes effect"
)


def _missing_required(root: Any, obj: K8sObject, target: Path) -> str | None:
    """The first required field on the way to ``target`` that the object lacks."""
    node = root
    data: Any = obj.data
    for depth, key in enumerate(target[:-1]):
        if not isinstance(data, dict) or node is None:
            return None
        if key not in data:
            req = node.required + tuple(r for n in node.refs for r in n.required)
            return sv.path_str(target[: depth + 1]) if key in req else None
        data = data[key]
        node = node.child(key)
    return None


# --------------------------------------------------------------------------- messages / fixes

_UNKNOWN_TAIL = (
    "; the API server rejects the object under strict field validation (kubectl's default "
    "--validate=strict) or silently drops the field"
)


def _fix_for(e: sv.SchemaError) -> str | None:
    kw = e.keyword
    if kw == "additionalProperties":
        if e.suggestion:
            return f"rename {e.value!r} to {e.suggestion!r} (field names are case-sensitive)"
        return "remove the field, or look up its correct name and place in the API reference"
    if kw == "release":
        ranges, _, component = e.expected
        first = sv.parse_ranges(str(ranges))[0][0]
        where = sv.path_str(e.path)
        if first > _target(e):
            return (
                f"remove {where}, or upgrade {_UPGRADE.get(str(component), 'KubeVirt')} to the release named; if the "
                "cluster already runs it, set the target: kubevirtVersion in .kvlint.yaml or "
                "--kubevirt-version"
            )
        return (
            f"remove {where} (the target release no longer has it), or set the release the "
            "cluster runs: kubevirtVersion in .kvlint.yaml or --kubevirt-version"
        )
    if kw == "enum":
        if e.suggestion:
            return f"write {e.suggestion} (values are case-sensitive)"
        return "use one of: " + ", ".join(str(v) for v in e.expected if v is not None)
    if kw == "type":
        names = e.expected
        key = e.path[-1] if e.path and isinstance(e.path[-1], str) else None
        if "string" in names and isinstance(e.value, bool):
            example = f'{key}: "yes"' if key else '"yes"'
            return f'quote the value exactly as written, e.g. {example} or "true"'
        if "string" in names and isinstance(e.value, (int, float)):
            return f'quote the value: {key + ": " if key else ""}"{e.value}"'
        if isinstance(e.value, str) and "remove the quotes" in e.message:
            return f"remove the quotes: {key + ': ' if key else ''}{e.value}"
        if "array" in names:
            return "write a list: one item per line, each starting with '- '"
        if "object" in names:
            return "write a mapping (key: value lines, without '- ')"
        return None
    if kw == "required":
        where = sv.path_str(e.path) or "the top level"
        return f"add {e.value} to {where}"
    if kw in ("minimum", "maximum"):
        bound = e.expected[0] if e.expected else "?"
        return f"use a value {'of at least' if kw == 'minimum' else 'of at most'} {bound}"
    if kw == "pattern":
        if "quantity" in e.message:
            return 'write a quantity with a binary or decimal suffix: 512Mi, 1Gi, 2G, 500m (no "B", no space)'
        if "duration" in e.message:
            return "write a Go duration: 1m0s, 90s, 48h, 300ms"
        return None
    return None


_UPGRADE = {"cdi": "KubeVirt (and CDI)", "hco": "the HyperConverged operator"}


def _target(e: sv.SchemaError) -> sv.Release:
    return sv.parse_ranges(str(e.expected[1]))[0][0]


def _release_findings(ctx: Context, obj: K8sObject, release: sv.Release) -> Iterator[Finding]:
    """KV810 on an apiVersion the target release does not serve (the schema of a kind that
    exists in some releases only)."""
    ranges = sv.kind_releases(obj.api_version, obj.kind)
    if ranges is None or sv.in_ranges(ranges, release):
        return
    older = [
        dep["apiVersion"]
        for dep in sv.index().get("deprecatedApiVersions", ())
        if dep.get("replacement") == obj.api_version
        and obj.kind in dep.get("kinds", ())
        and dep.get("releases")
        and sv.in_ranges(str(dep["releases"]), release)
    ]
    fix = f"write apiVersion: {older[0]}" if older else "set the KubeVirt release the cluster runs"
    yield ctx.finding(
        "KV810",
        obj,
        ("apiVersion",),
        f"{obj.kind} {obj.api_version} "
        f"{sv.release_phrase(ranges, release, sv.kind_component(obj.api_version, obj.kind))}: the API server "
        f'rejects the object with \'no matches for kind "{obj.kind}" in version "{obj.api_version}"\''
        + (f" ({older[0]} is the version it serves)" if older else ""),
        fix=fix + " (or kubevirtVersion in .kvlint.yaml / --kubevirt-version, if the cluster runs a newer release)",
    )


def _object_findings(ctx: Context, obj: K8sObject, own: _Owners | None = None) -> list[Finding]:
    """``own``: the owner rules' state (computed here, only when something is to report)."""
    release = sv.modelled_release(ctx.cluster.version)
    out = list(_kind_findings(ctx, obj))
    out.extend(_deprecation_findings(ctx, obj, release))
    rel_findings = list(_release_findings(ctx, obj, release))
    out.extend(rel_findings)
    if out:
        own = own or _owners(ctx, obj)
        if own.spots:
            out = [f for f in out if (f.location.file, f.location.line, f.location.column) not in own.spots]
    if rel_findings:
        return out
    got = _schema_errors(obj, release, ctx.inv.memo)
    if not got or not got[0]:
        return out
    errors, schema_av = got
    own = own or _owners(ctx, obj)
    root = sv.compiled(schema_av, obj.kind, release)
    kept: list[tuple[sv.SchemaError, str, str, str | None]] = []
    moved_to: list[Path] = []
    for e in errors:
        if _owned_elsewhere(obj, schema_av, e, own):
            continue
        rule = KEYWORD_RULE[e.keyword]
        message = e.message
        fix = _fix_for(e)
        if e.keyword == "additionalProperties":
            moved = _misplaced(root, obj, schema_av, e)
            if moved is not None:
                rule = "KV804"
                message, fix, targets = moved
                moved_to.extend(targets)
            else:
                message += _UNKNOWN_TAIL
        kept.append((e, rule, message, fix))
    typos = {(e.path[:-1], e.suggestion) for e, rule, _, _ in kept if rule == "KV801" and e.suggestion}
    for e, rule, message, fix in kept:
        if rule == "KV805" and ((e.path, e.value) in typos or any(_under(t, e.path + (e.value,)) for t in moved_to)):
            # Missing only because it is misspelled (KV801) or misplaced (KV804) here.
            continue
        f = ctx.finding(rule, obj, e.path, message, fix=fix, keyword=e.keyword, suggestion=e.suggestion)
        if e.keyword == "type":
            f.data["expected"] = tuple(e.expected)  # the JSON types allowed (the KV802 fixer reads it)
        out.append(f)
    return out


#: Phase 2: the rules that own parts of these objects (``owns_schema``) have reported by then.
@each(*RULES, phase=2)
def schema_problems(ctx: Context, obj: K8sObject) -> list[Finding]:
    return _object_findings(ctx, obj)
