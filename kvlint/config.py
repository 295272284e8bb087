"""Run configuration (CLI options merged over ``.kvlint.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field

LEVELS = ("off", "info", "warning", "error")


@dataclass(frozen=True, slots=True)
class ClaimSet:
    """One StorageProfile claimPropertySet: access modes and a volume mode."""

    access_modes: tuple[str, ...]
    volume_mode: str | None


@dataclass
class Config:
    platform: str | None = None
    kubevirt_version: tuple[int, int] | None = None
    fail_on: str = "error"
    #: rule id -> off | info | warning | error
    rules: dict[str, str] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    #: Assumed claimPropertySets per storage class, for classes not in view.
    storage_classes: dict[str, tuple[ClaimSet, ...]] = field(default_factory=dict)
    #: Assumed cluster default storage class (when no StorageClass in view is annotated).
    default_storage_class: str | None = None
    #: Assumed access modes of claims not in view: "namespace/name" -> modes.
    claims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Where the configuration came from (for messages).
    source: str | None = None
