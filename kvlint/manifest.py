"""Is an input file a Kubernetes manifest at all?

A folder of manifests often holds other YAML and JSON: CI definitions, package metadata,
editor settings, Helm chart metadata and values. Those are skipped and counted, not reported
as errors. :func:`is_manifest_file` is the one decision; the parsers call it only for the
files being linted (a configuration file is read with the same parser and is never asked).
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from typing import Any

#: The problem that marks a skipped file (never a finding: the run counts these files).
NOT_A_MANIFEST = "not-a-manifest"

#: File names that are never Kubernetes manifests, whatever they contain.
NON_MANIFEST_NAMES = (
    ".gitlab-ci.yml",
    ".gitlab-ci.yaml",
    ".travis.yml",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
    ".kvlint.yaml",
    ".kvlint.yml",
    ".yamllint",
    ".yamllint.yaml",
    ".yamllint.yml",
    ".golangci.yml",
    ".golangci.yaml",
    ".goreleaser.yml",
    ".goreleaser.yaml",
    ".readthedocs.yml",
    ".readthedocs.yaml",
    "mkdocs.yml",
    "mkdocs.yaml",
    "codecov.yml",
    "dependabot.yml",
    "action.yml",
    "action.yaml",
    "docker-compose*.yml",
    "docker-compose*.yaml",
    "compose.yml",
    "compose.yaml",
    "environment.yml",
    "pnpm-lock.yaml",
    "Chart.yaml",
    "values.yaml",
    "values-*.yaml",
    "package.json",
    "package-lock.json",
    "composer.json",
    "renovate.json",
    ".renovaterc.json",
    "tsconfig*.json",
    "jsconfig*.json",
    "devcontainer.json",
    ".devcontainer.json",
    ".eslintrc.json",
    ".prettierrc.json",
    ".markdownlint.json",
    ".markdownlint.yaml",
    "launch.json",
    "settings.json",
    "extensions.json",
)

#: Kustomize reads these even without apiVersion / kind.
_KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

#: A top-level apiVersion or kind key: at the start of a line (block YAML), a quoted JSON
#: key, or a key in a flow mapping.
_KEY_RE = re.compile(r'(?m)^(?:apiVersion|kind)[ \t]*:|"(?:apiVersion|kind)"\s*:|[{,]\s*(?:apiVersion|kind)\s*:')


#: NON_MANIFEST_NAMES as one pattern (checked for every file of a large tree).
_NAMES_RE = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in NON_MANIFEST_NAMES))


def known_non_manifest_name(path: str) -> bool:
    name = posixpath.basename(path.replace("\\", "/"))
    return _NAMES_RE.match(name) is not None


def is_manifest_file(path: str, text: str, documents: list[Any] | None = None) -> str | None:
    """None when ``path`` is (or may be) a Kubernetes manifest, else why it is not.

    ``documents``: the parsed documents' data when the text could be read as YAML (then a
    document whose top level has apiVersion or kind decides), None when it could not (bad
    syntax, template markers): then the text itself must show such a key."""
    name = posixpath.basename(path.replace("\\", "/"))
    if name in _KUSTOMIZATION_NAMES:
        return None
    if known_non_manifest_name(name):
        return f"{name} is not a Kubernetes manifest"
    if documents is None:
        return None if _KEY_RE.search(text) else "no apiVersion or kind"
    if all(d is None for d in documents):
        return None  # empty: nothing to lint, nothing to skip
    if any(_object_like(d) or (isinstance(d, list) and any(_object_like(i) for i in d)) for d in documents):
        return None  # (a top-level list of objects is a manifest gone wrong: reported, not skipped)
    return "no apiVersion or kind at the top of any document"


def _object_like(value: Any) -> bool:
    return isinstance(value, dict) and ("apiVersion" in value or "kind" in value)
