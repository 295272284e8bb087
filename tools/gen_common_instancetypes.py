"""Regenerate ``kvlint/data/common-instancetypes.json`` from a KubeVirt git repository.

virt-operator deploys the common cluster instancetypes and preferences it embeds (the
``common-cluster{instancetypes,preferences}-bundle.yaml`` files of
``pkg/virt-operator/resource/generate/components/data/``, moved to its
``common-instancetypes/`` subfolder in v1.8.0). This reads both bundles at each release
tag and writes, per KubeVirt minor version, the name and ``spec`` of every object (the
descriptive annotations are dropped), with the tag, the path and the bundle version they
were read from. Identical specs are stored once.

Usage: python tools/gen_common_instancetypes.py GIT_DIR [TAG ...]
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

TAGS = [f"v1.{n}.0" for n in range(0, 10)]
DATA = "pkg/virt-operator/resource/generate/components/data"
OUT = Path(__file__).resolve().parent.parent / "kvlint" / "data" / "common-instancetypes.json"


def git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True, text=True).stdout


def bundle_version(git_dir: str, tag: str) -> str | None:
    for path in ("hack/common-instancetypes/default.sh", "hack/config-default.sh"):
        try:
            text = git(git_dir, "show", f"{tag}:{path}")
        except subprocess.CalledProcessError:
            continue
        m = re.search(r'common_instancetypes_version=\$\{COMMON_INSTANCETYPES_VERSION:-"([^"]+)"\}', text)
        if m:
            return m.group(1)
    return None


def main(argv: list[str]) -> int:
    git_dir, tags = argv[0], argv[1:] or TAGS
    specs: dict[str, Any] = {}
    versions: dict[str, Any] = {}
    for tag in tags:
        files = git(git_dir, "ls-tree", "-r", "--name-only", tag, DATA).split()
        entry: dict[str, Any] = {"tag": tag, "bundle": bundle_version(git_dir, tag)}
        found = False
        for kind, stem in (("instancetypes", "clusterinstancetypes"), ("preferences", "clusterpreferences")):
            path = next((f for f in files if f.endswith(f"common-{stem}-bundle.yaml")), None)
            if path is None:
                continue
            found = True
            entry[f"{kind}_path"] = path
            names: dict[str, str] = {}
            for doc in yaml.safe_load_all(git(git_dir, "show", f"{tag}:{path}")):
                if not isinstance(doc, dict):
                    continue
                spec = doc.get("spec") or {}
                key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
                specs[key] = spec
                names[doc["metadata"]["name"]] = key
            entry[kind] = dict(sorted(names.items()))
        if found:
            versions[tag.lstrip("v").rsplit(".", 1)[0]] = entry
    out = {
        "source": "github.com/kubevirt/kubevirt, files named above at each tag",
        "apiVersion": "instancetype.kubevirt.io/v1beta1",
        "versions": versions,
        "specs": dict(sorted(specs.items())),
    }
    OUT.write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")
    print(f"{OUT}: {len(versions)} versions, {len(specs)} distinct specs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
