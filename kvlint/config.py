"""Run configuration: ``.kvlint.yaml`` (validated) merged under the CLI options.

The file is found upward from the current folder (``--config FILE`` names one). pydantic is
imported only when a file is actually read, to keep start-up lean.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("off", "info", "warning", "error")
#: Rules that are off unless the configuration sets a level (as kube-linter's opt-in
#: checks): KV108 is no blocker, and one info per VM with a container disk is noise.
DEFAULT_LEVELS: dict[str, str] = {"KV108": "off"}
CONFIG_NAMES = (".kvlint.yaml", ".kvlint.yml")


class ConfigError(Exception):
    """A configuration problem, with a one-line message naming the file (and key)."""


@dataclass(frozen=True, slots=True)
class ClaimSet:
    """One StorageProfile claimPropertySet: access modes and a volume mode."""

    access_modes: tuple[str, ...]
    volume_mode: str | None


@dataclass(frozen=True, slots=True)
class IgnoreEntry:
    """A configuration suppression: rules, and optional path/namespace/name/kind globs."""

    rules: tuple[str, ...]
    path: str | None = None
    namespace: str | None = None
    name: str | None = None
    kind: str | None = None
    reason: str = ""
    #: 1-based line of the entry in the configuration file (for "unused" reports).
    line: int = 1


@dataclass
class Config:
    platform: str | None = None
    kubevirt_version: tuple[int, int] | None = None
    #: OpenShift Virtualization release (``--openshift-virtualization 4.19``): selects the
    #: hco platform, the KubeVirt version and the HCO release's defaults.
    openshift_virtualization: tuple[int, int] | None = None
    fail_on: str = "error"
    #: rule id -> off | info | warning | error (DEFAULT_LEVELS unless set)
    rules: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    exclude: list[str] = field(default_factory=list)
    ignore: list[IgnoreEntry] = field(default_factory=list)
    inline_suppressions: bool = True
    #: Assumed claimPropertySets per storage class, for classes not in view.
    storage_classes: dict[str, tuple[ClaimSet, ...]] = field(default_factory=dict)
    #: Assumed cluster default storage class (when no StorageClass in view is annotated).
    default_storage_class: str | None = None
    #: Assumed access modes of claims not in view: "namespace/name" -> modes.
    claims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Extra objects assumed to exist in the cluster (Nodes, a KubeVirt CR, ...).
    assumed_objects: list[dict[str, Any]] = field(default_factory=list)
    #: Where the configuration came from (for messages).
    source: str | None = None


def set_openshift_virtualization(cfg: Config, text: str, where: str = "--openshift-virtualization") -> None:
    """Select an OpenShift Virtualization release: platform hco and the KubeVirt version its
    HCO release ships (``kvlint/data/versions.json``). Raises ConfigError for a release the
    table does not know, or one that contradicts an explicit KubeVirt version."""
    from kvlint import versions

    parts = text.strip().lstrip("vV").split(".")
    try:
        release = (int(parts[0]), int(parts[1]))
    except (ValueError, IndexError):
        raise ConfigError(f"{where}: not an OpenShift Virtualization release: {text!r} (expected e.g. 4.19)") from None
    row = versions.openshift_virtualization(release)
    if row is None:
        known = ", ".join(versions.openshift_releases())
        raise ConfigError(f"{where}: unknown OpenShift Virtualization release {text!r} (known: {known})")
    kv = tuple(int(p) for p in str(row["kubevirt"]).split("."))
    if cfg.kubevirt_version is not None and cfg.kubevirt_version != kv:
        have = f"{cfg.kubevirt_version[0]}.{cfg.kubevirt_version[1]}"
        raise ConfigError(
            f"{where}: OpenShift Virtualization {text} ships KubeVirt v{row['kubevirt']}, not the configured v{have}"
        )
    if cfg.platform not in (None, "hco"):
        raise ConfigError(f"{where}: OpenShift Virtualization is the hco platform, not {cfg.platform!r}")
    cfg.openshift_virtualization = release
    cfg.platform = "hco"
    cfg.kubevirt_version = (kv[0], kv[1])


def find_config(start: str | None = None) -> str | None:
    """The nearest ``.kvlint.yaml`` from ``start`` (default: cwd) upward."""
    cur = os.path.abspath(start or os.getcwd())
    while True:
        for name in CONFIG_NAMES:
            cand = os.path.join(cur, name)
            if os.path.isfile(cand):
                return cand
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def load_config(path: str) -> Config:
    """Read and validate a configuration file. Raises ConfigError with a one-line message."""
    from kvlint.parse import parse_text
    from kvlint.source import SourceFile, read

    text = read(SourceFile(path, path))
    if text.text is None:
        raise ConfigError(f"{path}: {text.error}")
    parsed = parse_text(path, text.text)
    if parsed.problems:
        p = parsed.problems[0]
        raise ConfigError(f"{path}:{p.line}:{p.column}: {p.message}")
    if not parsed.documents or parsed.documents[0].data is None:
        return Config(source=path)
    doc = parsed.documents[0]
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1:1: the configuration must be a mapping")
    return _validate(path, data, doc.pos)


def _validate(path: str, data: dict[str, Any], pos: Mapping[Any, Any]) -> Config:
    """Validate the configuration data; ``pos`` maps paths to positions (for messages)."""
    from pydantic import ValidationError

    from kvlint._config_schema import ConfigFile

    try:
        model = ConfigFile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        where = pos.get(loc) or pos.get(loc[:-1]) or (0, 0, 1, 1, 1, 1)
        line, col = (where[0], where[1]) if where[0] else (where[2], where[3])
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        raise ConfigError(f"{path}:{line}:{col}: {dotted}: {msg}") from None
    cfg = Config(source=path)
    cfg.platform = model.platform
    if model.kubevirtVersion is not None:
        from kvlint.inventory import parse_version

        try:
            cfg.kubevirt_version = parse_version(str(model.kubevirtVersion))
        except ValueError as e:
            raise ConfigError(f"{path}: kubevirtVersion: {e}") from None
    if model.openshiftVirtualization is not None:
        set_openshift_virtualization(cfg, str(model.openshiftVirtualization), f"{path}: openshiftVirtualization")
    if model.failOn is not None:
        cfg.fail_on = model.failOn
    cfg.rules = {**DEFAULT_LEVELS, **{k.upper(): v for k, v in model.rules.items()}}
    cfg.exclude = list(model.exclude)
    for i, entry in enumerate(model.ignore):
        p = pos.get(("ignore", i))
        cfg.ignore.append(
            IgnoreEntry(
                rules=tuple(r.upper() for r in entry.rules),
                path=entry.path,
                namespace=entry.namespace,
                name=entry.name,
                kind=entry.kind,
                reason=entry.reason or "",
                line=p[2] if p else 1,
            )
        )
    a = model.assumptions
    if a is not None:
        cfg.default_storage_class = a.defaultStorageClass
        for name, sets in a.storageClasses.items():
            cfg.storage_classes[name] = tuple(ClaimSet(tuple(s.accessModes), s.volumeMode) for s in sets)
        cfg.claims = {k: tuple(v) for k, v in a.claims.items()}
        cfg.assumed_objects = list(a.objects)
    return cfg


def check_rule_ids(cfg: Config, known: set[str]) -> None:
    """Reject rule ids the catalog does not know (typos would silently do nothing)."""
    ids = set(cfg.rules) | {r for e in cfg.ignore for r in e.rules if r != "ALL"}
    unknown = sorted(ids - known)
    if unknown:
        raise ConfigError(f"{cfg.source or 'configuration'}: unknown rule id(s): {', '.join(unknown)}")
