"""Effective migration settings of a workload, and its migration time budget.

Each setting is built in layers (kubevirt-facts §3, §4); every value records where it came
from (an object and a path, or ``default (platform, version)``):

1. **Platform defaults.** KubeVirt's defaults (§3.1: ``defaultClusterConfig``), or on an
   HCO platform HCO's ``liveMigrationConfig`` defaults for the fields HCO exposes (§3.2) and
   KubeVirt's for the rest (HCO owns the KubeVirt CR, so the fields it does not expose
   stay at KubeVirt's defaults).
2. **The cluster CR.** On HCO: the HyperConverged's ``spec.liveMigrationConfig``
   (``hco.kubevirt.io/v1beta1``) or ``spec.virtualization.liveMigrationConfig``
   (``hco.kubevirt.io/v1``), plus ``add``/``replace`` operations on
   ``/spec/configuration/migrations`` in its ``kubevirt.kubevirt.io/jsonpatch`` annotation
   (HCO's unsupported escape hatch, applied after rendering). HCO overwrites the KubeVirt
   CR, so a KubeVirt CR in the linted files is ignored there (rule KV413 says so); a
   KubeVirt CR that comes only from ``--cluster-state`` with no HyperConverged in view is
   read as HCO's rendering. On plain KubeVirt: ``spec.configuration.migrations``, JSON-merged
   over the defaults. A value in the wrong place (the v1beta1 location on a v1 object and
   vice versa), of a field the target version does not have, or invalid (wrong type,
   pattern, range) is not applied; the KV4xx rules report it.
   Unset ``allowWorkloadDisruption`` then follows the cluster's ``allowPostCopy``
   (``GetMigrationConfiguration``; before v1.5 there is no such field and ``allowPostCopy``
   alone decides).
3. **The winning MigrationPolicy** (``kvlint.policy.match``): only its non-nil
   ``allowAutoConverge``, ``bandwidthPerMigration``, ``completionTimeoutPerGiB``,
   ``allowPostCopy``, ``allowWorkloadDisruption`` (v1.5+) and ``maxDowntimeMs`` (v1.9+)
   override; when it sets ``allowPostCopy`` but not ``allowWorkloadDisruption``, the latter
   takes the policy's ``allowPostCopy`` (``applyMigrationPolicySpec``).

HCO default mapping
-------------------
kvlint targets KubeVirt versions (product decision 2), but HCO changed its
``liveMigrationConfig`` defaults by *HCO* release (facts §3.2). kvlint applies the defaults
of the HCO release that ships the target KubeVirt version. HCO release 1.(N+10) ships
KubeVirt 1.N (HCO ``hack/config`` ``KUBEVIRT_VERSION``; e.g. HCO 1.11 was built on KubeVirt
1.1, HCO 1.18 on 1.8):

* target KubeVirt < v1.4: HCO v1.10-v1.13 (also used below v1.0):
  completionTimeoutPerGiB 800, parallelOutboundMigrationsPerNode 2, no
  allowWorkloadDisruption field (unset);
* target KubeVirt v1.4-v1.8: HCO v1.14-v1.18: 150, 2, no allowWorkloadDisruption field;
* target KubeVirt >= v1.9 (kvlint's default): HCO main after 03da3cff, the unreleased
  release that ships KubeVirt v1.9: 20, 1, allowWorkloadDisruption false.

In all of them ``parallelMigrationsPerCluster`` is 5, ``progressTimeout`` 150,
``allowAutoConverge`` and ``allowPostCopy`` false, ``bandwidthPerMigration`` and
``network`` unset. "Unset" ``allowWorkloadDisruption`` follows ``allowPostCopy`` in
KubeVirt; HCO main's per-field default ``false`` is copied to the KubeVirt CR, so there
it does *not* follow ``allowPostCopy`` (kvlint's KV411 reports the consequence). The
history before HCO v1.10 is not in the facts; the v1.10 set is used for KubeVirt < v1.0.

Time budget (§3.3)
------------------
``memory`` = ``spec.domain.memory.guest`` if set, else ``spec.domain.resources.requests.memory``
(else an instancetype's ``spec.memory.guest`` when the instancetype is in view). The data
size is ``ceil(bytes / 10**9)`` (``ScaledValue(resource.Giga)``: decimal GB, rounded up, so
1Gi counts 2 and 6Gi counts 7), and the acceptable completion time is
``completionTimeoutPerGiB`` x that count (0 disables it). One memory pass at the effective
``bandwidthPerMigration`` (converted to MiB/s as ``QuantityToMebiByte`` does; 0 means
unlimited) takes ``bytes / (MiB/s x 1048576)`` seconds: a lower bound, since a running guest
dirties pages and needs more passes. The local disk files a block migration also copies
add to both numbers, and their sizes are not knowable offline; the budget says so.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from kvlint.inventory import (
    Cluster,
    Inventory,
    K8sObject,
    Setting,
    Workload,
    as_dict,
    enumerate_dicts,
    get,
    path_str,
)
from kvlint.parse import Path
from kvlint.policy import PolicyMatch, match

# -- quantities ----------------------------------------------------------------------

#: The CRD pattern of ``bandwidthPerMigration`` (KubeVirt and HCO; facts §3.1).
QUANTITY_PATTERN = re.compile(
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|"
    r"([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_QTY = re.compile(
    r"^(?P<num>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<bin>[KMGTPE]i)|(?P<dec>[numkMGTPE])|[eE](?P<exp>[+-]?[0-9]+))?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
MIB = 1048576
#: Bounds that keep hostile quantities cheap: Kubernetes quantities fit an int64 scaled by
#: at most 10^-9, so nothing valid comes near them.
_QTY_MAX_LEN = 64
_QTY_MAX_EXP = 40


def parse_quantity(value: Any) -> Fraction | None:
    """Exact value of a Kubernetes quantity (``16Gi``, ``1.5G``, ``500m``, ``1e9``, or an
    integer); ``None`` when it is not one (fractional exponents included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if not isinstance(value, str):
        return None
    return _parse_quantity_text(value)


@functools.lru_cache(maxsize=1024)
def _parse_quantity_text(value: str) -> Fraction | None:
    # The same few quantities ("8Gi", "64Mi") recur on every VM of a tree.
    if len(value) > _QTY_MAX_LEN:
        return None  # no real quantity is this long; Python's big numbers would be slow
    m = _QTY.match(value)
    if m is None:
        return None
    number = Fraction(m.group("num"))
    if m.group("bin"):
        return number * _BINARY[m.group("bin")]
    if m.group("dec"):
        return number * _DECIMAL[m.group("dec")]
    if m.group("exp") is not None:
        exp = int(m.group("exp"))
        if abs(exp) > _QTY_MAX_EXP:
            return None  # far outside what Kubernetes can represent (int64 milli-units)
        return number * Fraction(10) ** exp
    return number


def quantity_bytes(q: Fraction) -> int:
    """``Quantity.Value()``: rounded up to an integer."""
    return math.ceil(q)


def giga_count(q: Fraction) -> int:
    """``Quantity.ScaledValue(resource.Giga)``: ceil(value / 10**9)."""
    return math.ceil(q / 10**9)


def mebibytes_per_second(q: Fraction) -> int:
    """KubeVirt's ``QuantityToMebiByte`` (bandwidth in MiB/s; 0 = unlimited)."""
    raw = int(q) if q.denominator == 1 else math.ceil(q) - 1
    if raw <= 0:
        return 0
    if raw < MIB:
        return 1
    return math.floor(Fraction(raw, MIB) + Fraction(1, 2))


# -- the fields ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    #: uint32 | int64 | uint64 | bool | string | quantity
    kind: str
    #: KubeVirt version that added it to spec.configuration.migrations.
    since: tuple[int, int] = (0, 0)
    #: Exposed by HCO's liveMigrationConfig.
    hco: bool = False
    #: Settable by a MigrationPolicy, and since which version.
    policy_since: tuple[int, int] | None = None


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("parallelMigrationsPerCluster", "uint32", hco=True),
        Field("parallelOutboundMigrationsPerNode", "uint32", hco=True),
        Field("bandwidthPerMigration", "quantity", hco=True, policy_since=(0, 0)),
        Field("completionTimeoutPerGiB", "int64", hco=True, policy_since=(0, 0)),
        Field("progressTimeout", "int64", hco=True),
        Field("maxDowntimeMs", "uint64", since=(1, 9), policy_since=(1, 9)),
        Field("utilityVolumesTimeout", "int64", since=(1, 8)),
        Field("unsafeMigrationOverride", "bool"),
        Field("allowAutoConverge", "bool", hco=True, policy_since=(0, 0)),
        Field("allowPostCopy", "bool", hco=True, policy_since=(0, 0)),
        # Policy field: "present by v1.6.0, absent in v1.0.0" (facts §4); kvlint (KV508 too)
        # takes v1.6.
        Field("allowWorkloadDisruption", "bool", since=(1, 5), hco=True, policy_since=(1, 5)),
        Field("disableTLS", "bool"),
        Field("network", "string", hco=True),
        Field("matchSELinuxLevelOnMigration", "bool"),
        Field("nodeDrainTaintKey", "string"),
    )
}

#: KubeVirt defaults (facts §3.1). ``None``: unset.
KUBEVIRT_DEFAULTS: dict[str, Any] = {
    "parallelMigrationsPerCluster": 5,
    "parallelOutboundMigrationsPerNode": 2,
    "bandwidthPerMigration": "0Mi",
    "completionTimeoutPerGiB": 150,
    "progressTimeout": 150,
    "maxDowntimeMs": 900,
    "utilityVolumesTimeout": 150,
    "unsafeMigrationOverride": False,
    "allowAutoConverge": False,
    "allowPostCopy": False,
    "allowWorkloadDisruption": None,
    "disableTLS": False,
    "network": None,
    "matchSELinuxLevelOnMigration": None,
    "nodeDrainTaintKey": "kubevirt.io/drain",
}

KUBEVIRT_NOTES = {
    "bandwidthPerMigration": "unlimited",
    "network": "unset: the pod network",
    "matchSELinuxLevelOnMigration": "unset: the target gets the source's SELinux level",
}

HCO_JSONPATCH = "kubevirt.kubevirt.io/jsonpatch"
MIGRATIONS_POINTER = "/spec/configuration/migrations"


def fields_for(version: tuple[int, int]) -> list[Field]:
    return [f for f in FIELDS.values() if version >= f.since]


def hco_defaults(version: tuple[int, int]) -> tuple[str, dict[str, Any]]:
    """The liveMigrationConfig defaults of the HCO release that ships ``version`` (see the
    module docstring), with a label naming that release."""
    common: dict[str, Any] = {
        "parallelMigrationsPerCluster": 5,
        "progressTimeout": 150,
        "allowAutoConverge": False,
        "allowPostCopy": False,
    }
    if version >= (1, 9):
        return "HCO main, which ships KubeVirt v1.9", {
            **common,
            "parallelOutboundMigrationsPerNode": 1,
            "completionTimeoutPerGiB": 20,
            "allowWorkloadDisruption": False,
        }
    if version >= (1, 4):
        return "HCO v1.14-v1.18, which ship KubeVirt v1.4-v1.8", {
            **common,
            "parallelOutboundMigrationsPerNode": 2,
            "completionTimeoutPerGiB": 150,
        }
    return "HCO v1.10-v1.13, which ship KubeVirt v1.0-v1.3", {
        **common,
        "parallelOutboundMigrationsPerNode": 2,
        "completionTimeoutPerGiB": 800,
    }


def hco_has_field(name: str, version: tuple[int, int]) -> bool:
    """Whether the HCO release for ``version`` has ``liveMigrationConfig.<name>``."""
    f = FIELDS.get(name)
    if f is None or not f.hco:
        return False
    if name == "allowWorkloadDisruption":
        return version >= (1, 9)
    return True


# -- validation (shared with kvlint.checks.cluster) -----------------------------------

UINT32_MAX = 2**32 - 1
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1
MAX_DOWNTIME_RANGE = (1, 2_000_000)


def describe_value(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def problem(f: Field, value: Any, hco: bool) -> tuple[str, str] | None:
    """Why ``value`` is not valid for field ``f``: (kind, text) with kind one of
    ``type``, ``quantity``, ``negative``, ``range``; ``None`` when valid or null."""
    if value is None:
        return None
    if f.kind in ("uint32", "int64", "uint64"):
        n = _as_int(value)
        if n is None:
            return "type", f"must be an integer, not {describe_value(value)}"
        if f.name == "maxDowntimeMs":
            lo, hi = MAX_DOWNTIME_RANGE
            if not lo <= n <= hi:
                return "range", f"{n} is outside {lo}..{hi} (milliseconds)"
            return None
        if n < 0:
            return "negative", f"{n} is negative"
        limit = {"uint32": UINT32_MAX, "int64": INT64_MAX, "uint64": UINT64_MAX}[f.kind]
        if n > limit:
            return "type", f"{n} does not fit the field's Go type {f.kind}"
        return None
    if f.kind == "bool":
        if not isinstance(value, bool):
            return "type", f"must be true or false, not {describe_value(value)}"
        return None
    if f.kind == "string":
        if not isinstance(value, str):
            return "type", f"must be a string, not {describe_value(value)}"
        return None
    # quantity
    if hco and not isinstance(value, str):
        return "type", (
            f"must be a string quantity such as '64Mi' (HCO's field is a string), not {describe_value(value)}"
        )
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return "type", f"must be a quantity (integer or string), not {describe_value(value)}"
    if isinstance(value, str) and not QUANTITY_PATTERN.match(value):
        return "quantity", f"{value!r} is not a Kubernetes quantity"
    q = parse_quantity(value)
    if q is None:
        return "quantity", f"{value!r} is not a Kubernetes quantity (fractional exponent)"
    if q < 0:
        return "negative", f"{value!r} is negative"
    return None


# -- where the cluster configuration lives --------------------------------------------


def is_hco_v1(obj: K8sObject) -> bool:
    return obj.api_version.endswith("/v1")


def hco_config_path(obj: K8sObject) -> Path:
    """The valid location of liveMigrationConfig for this HyperConverged's apiVersion."""
    if is_hco_v1(obj):
        return ("spec", "virtualization", "liveMigrationConfig")
    return ("spec", "liveMigrationConfig")


KUBEVIRT_CONFIG_PATH: Path = ("spec", "configuration", "migrations")


# -- results -------------------------------------------------------------------------


def origin(s: Setting) -> str:
    """Where a setting came from, in words."""
    if s.source is not None:
        where = f"{s.source.display()} {path_str(s.path)}".strip()
        return f"{s.note}: {where}" if s.note else where
    return s.note or ("assumed default" if s.assumed else "default")


@dataclass(slots=True)
class TimeBudget:
    """§3.3 for one workload. ``outcome``: ``unknown`` (memory or a setting unknown),
    ``disabled`` (completionTimeoutPerGiB 0), ``unlimited`` (no bandwidth cap),
    ``fits``, ``post-copy``, ``pause``, ``pause-abort``, ``abort``."""

    outcome: str = "unknown"
    memory: Any = None
    memory_source: str = ""
    memory_path: Path = ()
    memory_bytes: int | None = None
    gb_count: int | None = None
    completion_timeout_per_gib: int | None = None
    acceptable_seconds: int | None = None
    bandwidth: Any = None
    bandwidth_mib: int | None = None
    pass_seconds: Fraction | None = None
    vfio: list[str] = field(default_factory=list)
    block_migration: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def arithmetic(self) -> str:
        """The numbers, e.g. ``16Gi counts as 18 GB x 20 s = 360 s; at 32Mi/s ...``."""
        parts = []
        if self.gb_count is not None and self.completion_timeout_per_gib is not None:
            parts.append(
                f"{self.memory} counts as {self.gb_count} GB x "
                f"{self.completion_timeout_per_gib} s = {self.acceptable_seconds} s"
            )
        if self.pass_seconds is not None and self.bandwidth_mib:
            parts.append(
                f"at {self.bandwidth_mib}Mi/s one pass of {self.memory_bytes} bytes needs "
                f"{seconds(self.pass_seconds)} s"
            )
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "memory": self.memory,
            "memorySource": self.memory_source or None,
            "memoryBytes": self.memory_bytes,
            "gigabytes": self.gb_count,
            "completionTimeoutPerGiB": self.completion_timeout_per_gib,
            "acceptableCompletionSeconds": self.acceptable_seconds,
            "bandwidthPerMigration": self.bandwidth,
            "bandwidthMiBPerSecond": self.bandwidth_mib,
            "onePassSeconds": None if self.pass_seconds is None else float(self.pass_seconds),
            "vfioDevices": list(self.vfio),
            "blockMigrationVolumes": list(self.block_migration),
            "notes": list(self.notes),
        }


def seconds(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.1f}"


@dataclass(slots=True)
class Effective:
    settings: dict[str, Setting]
    policy: PolicyMatch
    budget: TimeBudget
    #: Values not applied (wrong place, invalid, not in this version) and other caveats.
    notes: list[str] = field(default_factory=list)

    def value(self, name: str) -> Any:
        s = self.settings.get(name)
        return None if s is None else s.value


# -- layers --------------------------------------------------------------------------


def defaults(cluster: Cluster) -> dict[str, Setting]:
    """Layer 1: the platform defaults for the target version."""
    version = cluster.version
    vtext = f"v{version[0]}.{version[1]}"
    assumed_platform = cluster.platform_source.startswith("assumed")
    out: dict[str, Setting] = {}
    hco_label, hco_vals = hco_defaults(version)
    for f in fields_for(version):
        value = KUBEVIRT_DEFAULTS[f.name]
        extra = KUBEVIRT_NOTES.get(f.name)
        note = f"default (KubeVirt {vtext}{'; ' + extra if extra else ''})"
        assumed = cluster.kubevirt is None if cluster.platform == "kubevirt" else False
        if cluster.platform == "hco":
            assumed = cluster.hco is None
            if f.name in hco_vals:
                value = hco_vals[f.name]
                note = f"default (hco, KubeVirt {vtext}: {hco_label})"
            elif f.hco:
                note = (
                    f"default (hco, KubeVirt {vtext}: unset in {hco_label}; KubeVirt default"
                    f"{', ' + extra if extra else ''})"
                )
            else:
                note = f"default (hco: not exposed by HCO, KubeVirt {vtext} default{'; ' + extra if extra else ''})"
        if assumed_platform:
            note += "; platform assumed"
        out[f.name] = Setting(value, None, (), assumed=assumed, note=note)
    return out


def _apply_block(
    out: dict[str, Setting],
    obj: K8sObject,
    base: Path,
    block: dict[str, Any],
    version: tuple[int, int],
    hco: bool,
    notes: list[str],
    note: str = "",
) -> None:
    for key, value in block.items():
        f = FIELDS.get(key) if isinstance(key, str) else None
        where = f"{obj.display()} {path_str(base + (key,))}"
        if f is None or version < f.since or (hco and not hco_has_field(key, version)):
            if f is not None:
                owner = "HCO" if hco else "KubeVirt"
                notes.append(f"{where} is not applied: not a field of {owner} for KubeVirt v{version[0]}.{version[1]}")
            continue
        if value is None:
            continue
        bad = problem(f, value, hco)
        if bad is not None:
            notes.append(f"{where} is not applied: {bad[1]}")
            continue
        out[key] = Setting(value, obj, base + (key,), note=note)


def _jsonpatch_ops(hco: K8sObject) -> list[tuple[str, Any]]:
    """(field or "", value) of add/replace/remove ops on the KubeVirt CR's migrations in
    the HyperConverged's jsonpatch annotation; "" with a dict value for the whole block."""
    raw = hco.annotations().get(HCO_JSONPATCH)
    if not isinstance(raw, str):
        return []
    try:
        ops = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    out: list[tuple[str, Any]] = []
    for op in ops if isinstance(ops, list) else []:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            continue
        path, kind = op["path"], op.get("op")
        whole = path == MIGRATIONS_POINTER and isinstance(op.get("value"), dict)
        if whole and kind in ("add", "replace"):
            out.append(("", op["value"]))
        elif path.startswith(MIGRATIONS_POINTER + "/"):
            name = path[len(MIGRATIONS_POINTER) + 1 :]
            if kind in ("add", "replace"):
                out.append((name, op.get("value")))
            elif kind == "remove":
                out.append((name, None))
    return out


def _apply_jsonpatch(out: dict[str, Setting], hco: K8sObject, version: tuple[int, int]) -> None:
    ann_path: Path = ("metadata", "annotations", HCO_JSONPATCH)
    for name, value in _jsonpatch_ops(hco):
        items = list(value.items()) if name == "" else [(name, value)]
        for key, val in items:
            f = FIELDS.get(key)
            if f is None or version < f.since:
                continue
            if val is None:
                out[key] = Setting(
                    KUBEVIRT_DEFAULTS[key],
                    hco,
                    ann_path,
                    note="removed by the HCO jsonpatch annotation: KubeVirt default",
                )
            elif problem(f, val, False) is None:
                out[key] = Setting(
                    val,
                    hco,
                    ann_path,
                    note=f"HCO jsonpatch annotation (unsupported) on {MIGRATIONS_POINTER}/{key}",
                )


def resolve_disruption(out: dict[str, Setting]) -> None:
    """Unset allowWorkloadDisruption follows allowPostCopy (``GetMigrationConfiguration``);
    before v1.5 there is no such field and allowPostCopy alone decides."""
    apc = out["allowPostCopy"]
    awd = out.get("allowWorkloadDisruption")
    if awd is not None and awd.value is not None:
        return
    why = (
        "no allowWorkloadDisruption before KubeVirt v1.5: allowPostCopy decides"
        if awd is None
        else "unset, follows allowPostCopy"
    )
    if apc.source is None:
        why += f" ({apc.note})"
    out["allowWorkloadDisruption"] = Setting(apc.value, apc.source, apc.path, apc.assumed, note=why)


def object_settings(cluster: Cluster, obj: K8sObject | None, note: str = "") -> tuple[dict[str, Setting], list[str]]:
    """Defaults plus the migration configuration of one cluster CR (a HyperConverged, read
    at its apiVersion's location and jsonpatch annotation, or a KubeVirt CR), as if it were
    the cluster's; ``allowWorkloadDisruption`` resolved."""
    version = cluster.version
    out = defaults(cluster)
    notes: list[str] = []
    if obj is not None and obj.kind == "HyperConverged":
        path = hco_config_path(obj)
        block = get(obj.data, *path)
        if isinstance(block, dict):
            _apply_block(out, obj, path, block, version, True, notes, note=note)
        _apply_jsonpatch(out, obj, version)
    elif obj is not None:
        block = get(obj.data, *KUBEVIRT_CONFIG_PATH)
        if isinstance(block, dict):
            _apply_block(out, obj, KUBEVIRT_CONFIG_PATH, block, version, False, notes, note=note)
    resolve_disruption(out)
    return out, notes


def cluster_object(cluster: Cluster) -> tuple[K8sObject | None, str, str]:
    """The CR whose migration configuration applies, the note its values carry, and why a
    CR in view is not used (empty when none is ignored)."""
    if cluster.platform == "hco":
        if cluster.hco is not None:
            return cluster.hco, "", ""
        kv = cluster.kubevirt
        if kv is not None and kv.context_only:
            return kv, "as rendered by HCO (cluster state)", ""
        if kv is not None and isinstance(get(kv.data, *KUBEVIRT_CONFIG_PATH), dict):
            return (
                None,
                "",
                (
                    f"{kv.display()} spec.configuration.migrations is not applied: HCO overwrites "
                    "the KubeVirt CR, and no HyperConverged is in view (HCO defaults assumed)"
                ),
            )
        return None, "", ""
    return cluster.kubevirt, "", ""


def cluster_settings(inv: Inventory, cluster: Cluster) -> tuple[dict[str, Setting], list[str]]:
    """Layers 1 and 2 for the cluster, with unset allowWorkloadDisruption resolved."""
    obj, note, ignored = cluster_object(cluster)
    out, notes = object_settings(cluster, obj, note)
    if ignored:
        notes.append(ignored)
    return out, notes


def apply_policy(
    settings: dict[str, Setting], policy: K8sObject, version: tuple[int, int], notes: list[str]
) -> dict[str, Setting]:
    """Layer 3: the winning MigrationPolicy's non-nil fields."""
    out = dict(settings)
    spec = as_dict(policy.data.get("spec"))
    for f in FIELDS.values():
        if f.policy_since is None or version < f.policy_since:
            continue
        value = spec.get(f.name)
        if value is None:
            continue
        bad = problem(f, value, False)
        if bad is not None:
            notes.append(f"{policy.display()} spec.{f.name} is not applied: {bad[1]}")
            continue
        out[f.name] = Setting(value, policy, ("spec", f.name))
    if (
        spec.get("allowPostCopy") is not None
        and "allowPostCopy" in out
        and out["allowPostCopy"].source is policy
        and (spec.get("allowWorkloadDisruption") is None or version < (1, 5))
    ):
        apc = out["allowPostCopy"]
        out["allowWorkloadDisruption"] = Setting(
            apc.value,
            policy,
            ("spec", "allowPostCopy"),
            note="the policy sets allowPostCopy without allowWorkloadDisruption, which follows it",
        )
    return out


# -- the workload side ---------------------------------------------------------------


def memory_of(inv: Inventory, w: Workload) -> tuple[Any, K8sObject, Path] | None:
    """The memory quantity that sizes the migration, with the object and path it is at."""
    guest = get(w.spec, "domain", "memory", "guest")
    if guest is not None:
        return guest, w.obj, w.sp("domain", "memory", "guest")
    req = get(w.spec, "domain", "resources", "requests", "memory")
    if req is not None:
        return req, w.obj, w.sp("domain", "resources", "requests", "memory")
    it = get(w.obj.data, "spec", "instancetype")
    if w.obj.kind == "VirtualMachine" and isinstance(it, dict) and isinstance(it.get("name"), str):
        kind = str(it.get("kind") or "VirtualMachineClusterInstancetype")
        kind = {
            "virtualmachineclusterinstancetype": "VirtualMachineClusterInstancetype",
            "virtualmachineinstancetype": "VirtualMachineInstancetype",
        }.get(kind.lower(), kind)
        ns = "" if kind == "VirtualMachineClusterInstancetype" else w.obj.ns
        obj = inv.lookup(kind, ns, it["name"])
        if obj is not None and get(obj.data, "spec", "memory", "guest") is not None:
            return get(obj.data, "spec", "memory", "guest"), obj, ("spec", "memory", "guest")
    return None


def vfio_devices(w: Workload) -> list[str]:
    """Host devices, GPUs and SR-IOV interfaces (``vmitrait.HasVFIO``)."""
    dev = w.devices()
    out = [f"hostDevice {d.get('name')}" for _, d in enumerate_dicts(dev.get("hostDevices"))]
    out += [f"GPU {d.get('name')}" for _, d in enumerate_dicts(dev.get("gpus"))]
    out += [
        f"SR-IOV interface {d.get('name')}"
        for _, d in enumerate_dicts(dev.get("interfaces"))
        if d.get("sriov") is not None
    ]
    return out


def block_migration_volumes(w: Workload) -> list[str]:
    """Volumes whose local files a block migration copies (as rule KV108 decides)."""
    from kvlint.checks.storage import block_migration_volumes as local

    return [f"{name} ({source})" for _, name, source in local(w)]


#: Outcomes where a migration does not simply fit its completion time (KV417 reports them).
NOT_FITTING = frozenset(("abort", "pause", "pause-abort", "post-copy"))


def time_budget(inv: Inventory, w: Workload, settings: dict[str, Setting], full: bool = True) -> TimeBudget:
    """The time budget of one workload; with ``full=False`` the VFIO devices and the
    block-migrated volumes (and their note) are only filled in when the migration does not
    fit (what rule KV417 reports), which saves their cost on every other workload."""
    b = TimeBudget()
    _budget(inv, w, settings, b)
    if full or b.outcome in NOT_FITTING:
        b.vfio = vfio_devices(w)
        b.block_migration = block_migration_volumes(w)
        if b.block_migration:
            b.notes.insert(
                0,
                "block migration also copies the local disk files of "
                + ", ".join(b.block_migration)
                + "; their sizes are not knowable offline, so both the budget and the transfer "
                "are larger than computed here",
            )
    return b


def _budget(inv: Inventory, w: Workload, settings: dict[str, Setting], b: TimeBudget) -> None:
    mem = memory_of(inv, w)
    if mem is None:
        b.notes.append(
            "memory unknown: neither spec.domain.memory.guest nor "
            "spec.domain.resources.requests.memory is set (or the instancetype is not in view)"
        )
        return
    value, obj, path = mem
    b.memory = value
    b.memory_path = path if obj is w.obj else ()
    b.memory_source = f"{obj.display()} {path_str(path)}"
    q = parse_quantity(value)
    if q is None or q <= 0:
        b.notes.append(f"memory {value!r} is not a positive Kubernetes quantity")
        return
    b.memory_bytes = quantity_bytes(q)
    b.gb_count = giga_count(q)
    per_gib = settings["completionTimeoutPerGiB"].value
    bw = settings["bandwidthPerMigration"].value
    b.bandwidth = bw
    if not isinstance(per_gib, int) or isinstance(per_gib, bool):
        return
    b.completion_timeout_per_gib = per_gib
    b.acceptable_seconds = per_gib * b.gb_count
    bq = parse_quantity(bw) if bw is not None else Fraction(0)
    if bq is None:
        return
    b.bandwidth_mib = mebibytes_per_second(bq)
    if b.bandwidth_mib:
        b.pass_seconds = Fraction(b.memory_bytes, b.bandwidth_mib * MIB)
    b.notes.append("one pass is a lower bound: a running guest dirties memory, so pre-copy needs more than one pass")
    if per_gib == 0:
        b.outcome = "disabled"
        return
    if per_gib < 0:
        return
    if not b.bandwidth_mib or b.pass_seconds is None:
        b.outcome = "unlimited"
        return
    acceptable = b.acceptable_seconds
    if b.pass_seconds <= acceptable:
        b.outcome = "fits"
        return
    disruption = settings["allowWorkloadDisruption"].value is True
    post_copy = settings["allowPostCopy"].value is True
    if not disruption:
        b.outcome = "abort"
        return
    b.vfio = vfio_devices(w)
    if post_copy and not b.vfio:
        b.outcome = "post-copy"
    elif b.pass_seconds <= 2 * acceptable:
        b.outcome = "pause"
    else:
        b.outcome = "pause-abort"


def effective(inv: Inventory, cluster: Cluster, w: Workload, full: bool = True) -> Effective:
    """The effective migration settings of one workload, and its time budget."""
    cached = cluster.memo.get("cluster_settings")
    if cached is None:
        cached = cluster.memo["cluster_settings"] = cluster_settings(inv, cluster)
    settings, notes = dict(cached[0]), list(cached[1])
    pm = w.memo.get("policy")
    if pm is None:
        pm = w.memo["policy"] = match(inv, w)
    if pm.winner is not None:
        settings = apply_policy(settings, pm.winner.policy, cluster.version, notes)
    budget = time_budget(inv, w, settings, full)
    return Effective(settings, pm, budget, notes)
