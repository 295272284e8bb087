"""Plain data passed between the stages: findings, locations, object references."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True, slots=True)
class ObjectRef:
    api_version: str
    kind: str
    namespace: str | None
    name: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }

    def display(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"

    # Pickled by the constructor's arguments (parallel runs send many findings): much
    # cheaper to load than the state dataclasses with slots use by default.
    def __reduce__(self) -> tuple[Any, ...]:
        return (ObjectRef, (self.api_version, self.kind, self.namespace, self.name))


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    #: JSON-pointer-like path of the node, for fingerprints and explanations.
    path: str = ""
    #: What this location is (for related locations), e.g. "PersistentVolumeClaim apps/db".
    label: str = ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            Location,
            (self.file, self.line, self.column, self.end_line, self.end_column, self.path, self.label),
        )


@dataclass(slots=True)
class Finding:
    rule: str
    severity: str
    message: str
    fix: str
    location: Location
    reason: str | None = None
    object: ObjectRef | None = None
    related: tuple[Location, ...] = ()
    #: Set by the engine when a suppression applies: (kind, justification).
    suppressed: tuple[str, str] | None = None
    #: Extra, machine-readable facts for explain / fix.
    data: dict[str, Any] = field(default_factory=dict)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            Finding,
            (
                self.rule,
                self.severity,
                self.message,
                self.fix,
                self.location,
                self.reason,
                self.object,
                self.related,
                self.suppressed,
                self.data,
            ),
        )

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.rule, self.message)

    def as_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "rule": self.rule,
            "severity": self.severity,
            "reason": self.reason,
            "message": self.message,
            "fix": self.fix,
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "object": self.object.as_dict() if self.object else None,
        }


@dataclass
class RunNotes:
    """What a run read besides its PATHS and what it skipped, for every output format."""

    #: "412 files from the git repository at ." (None: no context was read).
    context: str | None = None
    #: Context folders and how many files each gave: (folder, source, files).
    context_sources: list[tuple[str, str, int]] = field(default_factory=list)
    #: Linted paths that are not Kubernetes manifests (skipped, not errors).
    skipped: list[str] = field(default_factory=list)
    #: Other one-line notes (kustomize rendering).
    messages: list[str] = field(default_factory=list)
    #: Overlays rendered for this run (``kvlint.kustomize.Rendered``), until mapped back.
    rendered: list[Any] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "context": [{"folder": f, "source": s, "files": n} for f, s, n in self.context_sources],
            "skipped": list(self.skipped),
            "notes": list(self.messages),
        }
