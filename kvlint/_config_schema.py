"""pydantic model of ``.kvlint.yaml`` (imported only when a configuration file is read)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

AccessMode = Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        # A section left with only comments ('rules:') reads as null: treat it as empty.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


class ClaimSetModel(_Strict):
    accessModes: list[AccessMode] = Field(min_length=1)
    volumeMode: Literal["Filesystem", "Block"] | None = None


class IgnoreModel(_Strict):
    rules: list[str] = Field(min_length=1)
    path: str | None = None
    namespace: str | None = None
    name: str | None = None
    kind: str | None = None
    reason: str | None = None


class AssumptionsModel(_Strict):
    defaultStorageClass: str | None = None
    storageClasses: dict[str, list[ClaimSetModel]] = Field(default_factory=dict)
    claims: dict[str, list[AccessMode]] = Field(default_factory=dict)
    objects: list[dict[str, Any]] = Field(default_factory=list)


class ConfigFile(_Strict):
    platform: Literal["hco", "kubevirt"] | None = None
    kubevirtVersion: str | None = None  # quoted: an unquoted 1.10 would read as 1.1
    openshiftVirtualization: str | None = None  # e.g. "4.19" (quoted, like kubevirtVersion)
    failOn: Literal["error", "warning", "info"] | None = None
    rules: dict[str, Literal["off", "info", "warning", "error"]] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)
    ignore: list[IgnoreModel] = Field(default_factory=list)
    assumptions: AssumptionsModel | None = None

    @model_validator(mode="before")
    @classmethod
    def _off_is_a_level(cls, data: Any) -> Any:
        # YAML 1.1 reads an unquoted 'off' as false: accept it as the level 'off'.
        if isinstance(data, dict) and isinstance(data.get("rules"), dict):
            data = {**data, "rules": {k: ("off" if v is False else v) for k, v in data["rules"].items()}}
        return data
