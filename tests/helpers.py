"""Small helpers so tests read like the rule docs: lint a text, get (rule, line, col)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from kvlint.config import ClaimSet, Config
from kvlint.engine import Result
from kvlint.inventory import parse_version
from kvlint.models import Finding
from kvlint.runner import lint_text


def config_from(data: dict[str, Any] | None) -> Config:
    data = data or {}
    cfg = Config()
    cfg.rules.clear()  # every rule on, the opt-in ones (off by default) included
    if "platform" in data:
        cfg.platform = data["platform"]
    if "kubevirtVersion" in data:
        cfg.kubevirt_version = parse_version(str(data["kubevirtVersion"]))
    for name, sets in (data.get("storageClasses") or {}).items():
        cfg.storage_classes[name] = tuple(ClaimSet(tuple(s.get("accessModes", ())), s.get("volumeMode")) for s in sets)
    for name, modes in (data.get("claims") or {}).items():
        cfg.claims[name] = tuple(modes)
    if "defaultStorageClass" in data:
        cfg.default_storage_class = data["defaultStorageClass"]
    return cfg


def lint(text: str, **config: Any) -> Result:
    return lint_text(textwrap.dedent(text), config_from(config))


def found(text: str, rule: str | None = None, **config: Any) -> list[Finding]:
    res = lint(text, **config)
    return [f for f in res.findings if rule is None or f.rule == rule]


def positions(text: str, rule: str, **config: Any) -> list[tuple[int, int]]:
    return [(f.location.line, f.location.column) for f in found(text, rule, **config)]


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``git -C repo args`` with a fixed author and committer (no global configuration
    needed), its output captured as text."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        env=env,
        check=check,
        timeout=600,
    )
