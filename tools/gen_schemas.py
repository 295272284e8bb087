#!/usr/bin/env python3
"""Generate kvlint's structural schemas (``schemas/``) from the upstream API descriptions.

A maintainer tool, never needed at run time. It reads, at each release tag, from local git
clones (bare or not) of the upstream repositories:

* KubeVirt ``api/openapi-spec/swagger.json`` at v1.0.0 ... v1.9.0;
* CDI ``pkg/operator/resources/crds_generated.go`` (the CRDs CDI installs) at the CDI release
  each KubeVirt release ships with;
* HCO ``config/crd/bases/hco.kubevirt.io_hyperconvergeds.yaml`` at v1.10.0 ... (each HCO
  release ships one KubeVirt minor release, named in its ``hack/config``).

Which CDI release goes with which KubeVirt release is read from HCO's ``hack/config``
(``KUBEVIRT_VERSION`` and ``CDI_VERSION``) at each HCO tag. A KubeVirt release that no HCO tag
ships is read at the HCO commit named in :data:`HCO_UNTAGGED` (v1.9: HCO v1.19 was not tagged
in the clone the schemas were generated from; its main branch at that commit ships KubeVirt
v1.9.0 and CDI v1.66.0); the provenance in ``schemas/index.json`` says so.

The kinds kvlint reads from core Kubernetes (Namespace, Node, PV, PVC, StorageClass) and the
NetworkAttachmentDefinition CRD are stable and hand-kept in ``tools/schema_static/``; they
are copied as they are.

Output: one schema per kind, and ``_defs.json`` for the definitions the KubeVirt kinds share.
A property, a kind or an apiVersion that does not exist in every release carries
``x-kvlint-releases`` (e.g. ``"v1.6-v1.9"``, the KubeVirt releases it exists in); the
validator builds the view of the release the user targets from it. Descriptions are dropped;
objects are closed (unknown keys are reported; an object without declared fields must be
empty) unless upstream keeps unknown fields (x-kubernetes-preserve-unknown-fields, the
metadata of embedded templates, :data:`PRESERVE_UNKNOWN`); objects and lists accept null
(YAML's empty value). Constraints upstream does not publish (enum values of Go string
constants, bounds of Go integer types) come from ``tools/schema_overlay.json``, keyed by
file, definition and property path; a key that no longer resolves stops the generator.

Usage::

    python tools/gen_schemas.py --kubevirt KUBEVIRT_REPO --cdi CDI_REPO --hco HCO_REPO \
        [--out schemas] [--check]

``--check`` writes nothing and exits 1 when ``schemas/`` differs from what it would write.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
STATIC = HERE / "schema_static"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://kvlint.example/schemas/"
GENERATOR = "tools/gen_schemas.py"
RANGE_KEY = "x-kvlint-releases"

#: KubeVirt minor releases kvlint models, by tag.
RELEASES: tuple[tuple[int, int], ...] = tuple((1, m) for m in range(10))
#: HCO commits for KubeVirt releases no HCO tag ships (yet): v1.9 -> HCO main after v1.18,
#: whose hack/config names KubeVirt v1.9.0 and CDI v1.66.0 (HCO v1.19 is not tagged there).
HCO_UNTAGGED: dict[tuple[int, int], str] = {(1, 9): "03da3cff7325b28b4a7361a90bc921e184f875ef"}
#: HCO release tags that may ship a KubeVirt release kvlint models.
HCO_TAGS = tuple(f"v1.{m}.0" for m in range(10, 20))

KUBEVIRT_FILE = "api/openapi-spec/swagger.json"
CDI_FILE = "pkg/operator/resources/crds_generated.go"
HCO_FILE = "config/crd/bases/hco.kubevirt.io_hyperconvergeds.yaml"
HCO_CONFIG = "hack/config"

#: (apiVersion, kind) -> swagger definition, for the KubeVirt kinds.
KUBEVIRT_KINDS: tuple[tuple[str, str, str], ...] = (
    ("kubevirt.io/v1", "VirtualMachine", "v1.VirtualMachine"),
    ("kubevirt.io/v1", "VirtualMachineInstance", "v1.VirtualMachineInstance"),
    ("kubevirt.io/v1", "VirtualMachineInstanceMigration", "v1.VirtualMachineInstanceMigration"),
    ("kubevirt.io/v1", "VirtualMachineInstanceReplicaSet", "v1.VirtualMachineInstanceReplicaSet"),
    ("kubevirt.io/v1", "KubeVirt", "v1.KubeVirt"),
    ("pool.kubevirt.io/v1beta1", "VirtualMachinePool", "v1beta1.VirtualMachinePool"),
    ("migrations.kubevirt.io/v1alpha1", "MigrationPolicy", "v1alpha1.MigrationPolicy"),
    ("instancetype.kubevirt.io/v1beta1", "VirtualMachineInstancetype", "v1beta1.VirtualMachineInstancetype"),
    (
        "instancetype.kubevirt.io/v1beta1",
        "VirtualMachineClusterInstancetype",
        "v1beta1.VirtualMachineClusterInstancetype",
    ),
    ("instancetype.kubevirt.io/v1beta1", "VirtualMachinePreference", "v1beta1.VirtualMachinePreference"),
    (
        "instancetype.kubevirt.io/v1beta1",
        "VirtualMachineClusterPreference",
        "v1beta1.VirtualMachineClusterPreference",
    ),
)
#: CRD key in CDI's crds_generated.go -> kind (all cdi.kubevirt.io/v1beta1).
CDI_KINDS = (
    ("datavolume", "DataVolume"),
    ("cdi", "CDI"),
    ("cdiconfig", "CDIConfig"),
    ("storageprofile", "StorageProfile"),
)
HCO_VERSIONS = ("v1beta1", "v1")

#: Upstream definitions replaced by kvlint's own (tools/schema_static/_base_defs.json).
BASE_REFS = {
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "Quantity",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": "Duration",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "Time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "Time",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "IntOrString",
    "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta": "ObjectMeta",
}
#: Upstream definitions that accept any value.
OPEN_REFS = frozenset(
    (
        "k8s.io.apimachinery.pkg.runtime.RawExtension",
        "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
        "k8s.io.apimachinery.pkg.apis.pkg.runtime.RawExtension",
    )
)
_NUM = "(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))"
QUANTITY_PATTERN = f"^(\\+|-)?{_NUM}(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?{_NUM}))?$"

#: apiVersions kvlint knows to be older or never served, and what replaces them (kvlint's
#: own table, written into index.json as it is).
DEPRECATED_API_VERSIONS: list[dict[str, Any]] = [
    {
        "apiVersion": "kubevirt.io/v1alpha3",
        "replacement": "kubevirt.io/v1",
        "kinds": [
            "VirtualMachine",
            "VirtualMachineInstance",
            "VirtualMachineInstanceMigration",
            "VirtualMachineInstanceReplicaSet",
            "VirtualMachineInstancePreset",
            "KubeVirt",
        ],
        "note": (
            "v1alpha3 is still served with the same schema as v1 but is deprecated; validate against the v1 schema."
        ),
    },
    {
        "apiVersion": "kubevirt.io/v1alpha2",
        "replacement": "kubevirt.io/v1",
        "kinds": ["VirtualMachine", "VirtualMachineInstance", "VirtualMachineInstanceReplicaSet"],
        "note": "no longer served",
    },
    {
        "apiVersion": "kubevirt.io/v1alpha1",
        "replacement": "kubevirt.io/v1",
        "kinds": ["VirtualMachine", "OfflineVirtualMachine", "VirtualMachineReplicaSet"],
        "note": "no longer served (pre-0.6 API)",
    },
    {
        "apiVersion": "cdi.kubevirt.io/v1alpha1",
        "replacement": "cdi.kubevirt.io/v1beta1",
        "kinds": ["DataVolume", "CDIConfig", "CDI"],
        "note": "removed from CDI; convert to v1beta1",
    },
    {
        "apiVersion": "hco.kubevirt.io/v1alpha1",
        "replacement": "hco.kubevirt.io/v1beta1",
        "kinds": ["HyperConverged"],
        "note": "removed; v1beta1 (and the newer v1) are served",
    },
    {
        "apiVersion": "cache.kubevirt.io/v1beta1",
        "replacement": "hco.kubevirt.io/v1beta1",
        "kinds": ["HyperConverged"],
        "note": "operator-sdk scaffolding group left in HCO config/samples; never served",
    },
    {
        "apiVersion": "snapshot.kubevirt.io/v1alpha1",
        "replacement": "snapshot.kubevirt.io/v1beta1",
        "kinds": ["VirtualMachineSnapshot", "VirtualMachineSnapshotContent", "VirtualMachineRestore"],
    },
    {
        "apiVersion": "export.kubevirt.io/v1alpha1",
        "replacement": "export.kubevirt.io/v1beta1",
        "kinds": ["VirtualMachineExport"],
    },
    {
        "apiVersion": "clone.kubevirt.io/v1alpha1",
        "replacement": "clone.kubevirt.io/v1beta1",
        "kinds": ["VirtualMachineClone"],
    },
    {
        "apiVersion": "pool.kubevirt.io/v1alpha1",
        "replacement": "pool.kubevirt.io/v1beta1",
        "kinds": ["VirtualMachinePool"],
        "releases": "v1.0-v1.6",
        "note": "the only pool version KubeVirt v1.0 ... v1.6 serve; v1beta1 replaces it from v1.7",
    },
    {
        "apiVersion": "instancetype.kubevirt.io/v1alpha1",
        "replacement": "instancetype.kubevirt.io/v1beta1",
        "kinds": [
            "VirtualMachineInstancetype",
            "VirtualMachineClusterInstancetype",
            "VirtualMachinePreference",
            "VirtualMachineClusterPreference",
        ],
    },
    {
        "apiVersion": "instancetype.kubevirt.io/v1alpha2",
        "replacement": "instancetype.kubevirt.io/v1beta1",
        "kinds": [
            "VirtualMachineInstancetype",
            "VirtualMachineClusterInstancetype",
            "VirtualMachinePreference",
            "VirtualMachineClusterPreference",
        ],
    },
    {
        "apiVersion": "storage.k8s.io/v1beta1",
        "replacement": "storage.k8s.io/v1",
        "kinds": ["StorageClass"],
        "note": "removed in Kubernetes 1.22",
    },
]

#: Hand-kept schemas copied as they are: (apiVersion, kind, file).
STATIC_KINDS = (
    ("v1", "Namespace", "core_v1_Namespace.json"),
    ("v1", "Node", "core_v1_Node.json"),
    ("v1", "PersistentVolume", "core_v1_PersistentVolume.json"),
    ("v1", "PersistentVolumeClaim", "core_v1_PersistentVolumeClaim.json"),
    ("storage.k8s.io/v1", "StorageClass", "storage.k8s.io_v1_StorageClass.json"),
    (
        "k8s.cni.cncf.io/v1",
        "NetworkAttachmentDefinition",
        "k8s.cni.cncf.io_v1_NetworkAttachmentDefinition.json",
    ),
)


# --------------------------------------------------------------------------- reading upstream


def git_show(repo: Path, tag: str, path: str) -> str | None:
    """The file at ``tag``, or None when the tag or the file does not exist."""
    res = subprocess.run(
        ["git", f"--git-dir={git_dir(repo)}", "show", f"{tag}:{path}"],
        capture_output=True,
        check=False,
    )
    return res.stdout.decode("utf-8") if res.returncode == 0 else None


def git_dir(repo: Path) -> Path:
    return repo / ".git" if (repo / ".git").exists() else repo


def rel_name(r: tuple[int, int]) -> str:
    return f"v{r[0]}.{r[1]}"


def ranges_text(present: Iterable[tuple[int, int]]) -> str:
    """``v1.0-v1.2,v1.5-v1.9`` for the releases in ``present`` (in :data:`RELEASES` order)."""
    have = set(present)
    runs: list[tuple[tuple[int, int], tuple[int, int]]] = []
    start: tuple[int, int] | None = None
    prev: tuple[int, int] | None = None
    for r in RELEASES:
        if r in have:
            if start is None:
                start = r
            prev = r
        elif start is not None and prev is not None:
            runs.append((start, prev))
            start = None
    if start is not None and prev is not None:
        runs.append((start, prev))
    return ",".join(rel_name(a) if a == b else f"{rel_name(a)}-{rel_name(b)}" for a, b in runs)


# --------------------------------------------------------------------------- normalising


def _nullable(types: str) -> list[str]:
    return [types, "null"]


def norm_swagger(s: dict[str, Any], ref: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """A swagger / OpenAPI v3 (CRD) schema in kvlint's keyword subset."""
    if "$ref" in s:
        return ref(s["$ref"].rsplit("/", 1)[-1])
    if s.get("x-kubernetes-int-or-string"):
        if (
            s.get("pattern") == QUANTITY_PATTERN
            or "anyOf" in s
            and any(a.get("pattern") == QUANTITY_PATTERN for a in s["anyOf"])
        ):
            return {"$ref": "_defs.json#/$defs/Quantity"}
        return {"$ref": "_defs.json#/$defs/IntOrString"}
    if "allOf" in s and len(s["allOf"]) == 1:
        return norm_swagger({**s["allOf"][0], **{k: v for k, v in s.items() if k != "allOf"}}, ref)
    t = s.get("type")
    out: dict[str, Any] = {}
    if t == "object" or (t is None and ("properties" in s or "additionalProperties" in s)):
        out["type"] = _nullable("object")
        if s.get("x-kubernetes-preserve-unknown-fields") and "properties" not in s:
            return out
        props = s.get("properties")
        if props:
            out["properties"] = {
                k: EMBEDDED_METADATA if _embedded_metadata(k, v) else norm_swagger(v, ref)
                for k, v in sorted(props.items())
            }
            req = [r for r in s.get("required", ()) if r in props]
            if req:
                out["required"] = sorted(req)
            if not s.get("x-kubernetes-preserve-unknown-fields") and s.get("x-kvlint-name") not in PRESERVE_UNKNOWN:
                out["additionalProperties"] = False
        elif isinstance(s.get("additionalProperties"), dict):
            out["additionalProperties"] = norm_swagger(s["additionalProperties"], ref)
        elif s.get("additionalProperties") is not True:
            # No declared field: the API server prunes every key (an empty struct).
            out["additionalProperties"] = False
        return out
    if t == "array":
        out["type"] = _nullable("array")
        if isinstance(s.get("items"), dict):
            out["items"] = norm_swagger(s["items"], ref)
        return out
    if t in ("string", "integer", "number", "boolean"):
        out["type"] = [t, "null"] if s.get("nullable") else t
        if "enum" in s:
            out["enum"] = list(s["enum"]) + ([None] if s.get("nullable") else [])
        if "pattern" in s and t == "string":
            if s["pattern"] == QUANTITY_PATTERN:
                return {"$ref": "_defs.json#/$defs/QuantityString"}
            out["pattern"] = s["pattern"]
        for kw in ("minimum", "maximum"):
            if kw in s and t in ("integer", "number"):
                out[kw] = s[kw]
        return out
    return {}


#: The metadata of an embedded object (a VM's template, a DataVolume template): the KubeVirt
#: CRDs keep unknown keys there (x-kubernetes-preserve-unknown-fields).
EMBEDDED_METADATA: dict[str, Any] = {"$ref": "_defs.json#/$defs/TemplateObjectMeta"}
#: Definitions whose CRD schema keeps unknown keys (x-kubernetes-preserve-unknown-fields in
#: KubeVirt's generated CRD validation: Clock inlines a union of offsets).
PRESERVE_UNKNOWN = frozenset(("v1.Clock",))


def _embedded_metadata(name: str, s: dict[str, Any]) -> bool:
    if name != "metadata":
        return False
    ref = str(s.get("$ref", "")).rsplit("/", 1)[-1]
    return ref == "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta" or (
        s.get("type") == "object" and not s.get("properties")
    )


def kv_ref(name: str) -> dict[str, Any]:
    if name in BASE_REFS:
        return {"$ref": f"_defs.json#/$defs/{BASE_REFS[name]}"}
    if name in OPEN_REFS:
        return {}
    return {"$ref": f"_defs.json#/$defs/{name}"}


# --------------------------------------------------------------------------- merging releases


def merge(by_release: dict[tuple[int, int], dict[str, Any]]) -> dict[str, Any]:
    """One schema from the same schema at several releases: the newest release's keywords,
    the union of the properties, each property marked with the releases it exists in when
    that is not every release of ``by_release``."""
    rels = sorted(by_release)
    newest = by_release[rels[-1]]
    out = {k: v for k, v in newest.items() if k not in ("properties", "items", "additionalProperties")}
    names: dict[str, None] = {}
    for r in rels:
        names.update(dict.fromkeys(by_release[r].get("properties") or {}))
    if names:
        props: dict[str, Any] = {}
        for name in sorted(names):
            sub = {
                r: by_release[r]["properties"][name] for r in rels if name in (by_release[r].get("properties") or {})
            }
            m = merge(sub)
            if len(sub) != len(rels):
                m = {RANGE_KEY: ranges_text(sub), **m}
            props[name] = m
        out["properties"] = props
        req = [n for n in newest.get("required", ()) if n in names]
        if req:
            out["required"] = req
        elif "required" in out:
            del out["required"]
    items = {r: s["items"] for r, s in by_release.items() if isinstance(s.get("items"), dict)}
    if items:
        out["items"] = merge(items)
    addl = {r: s["additionalProperties"] for r, s in by_release.items() if "additionalProperties" in s}
    if addl:
        newest_addl = addl[max(addl)]
        if isinstance(newest_addl, dict) and not names:
            out["additionalProperties"] = merge({r: a for r, a in addl.items() if isinstance(a, dict)})
        else:
            out["additionalProperties"] = newest_addl
    return _order(out)


_ORDER = (
    RANGE_KEY,
    "type",
    "$ref",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "items",
    "properties",
    "required",
    "additionalProperties",
)


def _order(s: dict[str, Any]) -> dict[str, Any]:
    return {k: s[k] for k in sorted(s, key=lambda k: (_ORDER.index(k) if k in _ORDER else len(_ORDER), k))}


# --------------------------------------------------------------------------- sources


class Sources:
    def __init__(self, kubevirt: Path, cdi: Path, hco: Path) -> None:
        self.kubevirt, self.cdi, self.hco = kubevirt, cdi, hco
        #: release -> (kubevirt tag, cdi tag, hco tag or None)
        self.tags: dict[tuple[int, int], dict[str, str | None]] = {}
        hco_of: dict[tuple[int, int], tuple[str, str]] = {}
        for tag in (*HCO_TAGS, *HCO_UNTAGGED.values()):
            conf = git_show(hco, tag, HCO_CONFIG)
            if conf is None:
                continue
            kv = re.search(r'^KUBEVIRT_VERSION="v(\d+)\.(\d+)', conf, re.M)
            cdi_tag = re.search(r'^CDI_VERSION="(v[^"]+)"', conf, re.M)
            if kv and cdi_tag and (int(kv.group(1)), int(kv.group(2))) not in hco_of:
                hco_of[(int(kv.group(1)), int(kv.group(2)))] = (tag, cdi_tag.group(1))
        for r in RELEASES:
            if r not in hco_of:
                sys.exit(f"no HCO tag or commit (HCO_TAGS, HCO_UNTAGGED) ships KubeVirt {rel_name(r)}")
            htag, ctag = hco_of[r]
            self.tags[r] = {"kubevirt": f"v{r[0]}.{r[1]}.0", "cdi": ctag, "hco": htag}
        self.untagged = [r for r in RELEASES if self.tags[r]["hco"] in HCO_UNTAGGED.values()]

    def hco_tag(self, r: tuple[int, int]) -> str:
        """The HCO release (tag, or commit for an untagged one) modelled for ``r``."""
        return str(self.tags[r]["hco"])

    def swagger(self, r: tuple[int, int]) -> dict[str, Any]:
        text = git_show(self.kubevirt, f"v{r[0]}.{r[1]}.0", KUBEVIRT_FILE)
        if text is None:
            sys.exit(f"KubeVirt v{r[0]}.{r[1]}.0:{KUBEVIRT_FILE} not found")
        return json.loads(text)["definitions"]  # type: ignore[no-any-return]

    def cdi_crds(self, r: tuple[int, int]) -> dict[str, dict[str, Any]]:
        tag = self.tags[r]["cdi"]
        assert tag is not None
        text = git_show(self.cdi, tag, CDI_FILE)
        if text is None:
            sys.exit(f"CDI {tag}:{CDI_FILE} not found")
        # Go raw strings spell a backtick as ` + "`" + `.
        text = text.replace('` + "`" + `', "'")
        return {m.group(1): yaml.safe_load(m.group(2)) for m in re.finditer(r'"(\w+)": `(.*?)`', text, re.S)}

    def hco_crd(self, r: tuple[int, int]) -> dict[str, Any]:
        tag = self.hco_tag(r)
        text = git_show(self.hco, tag, HCO_FILE)
        if text is None:
            sys.exit(f"HCO {tag}:{HCO_FILE} not found")
        return yaml.safe_load(text)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- building


def root_schema(
    api_version: str, kind: str, spec_props: dict[str, Any], required: list[str], description: str
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "apiVersion": {"type": "string", "enum": [api_version]},
        "kind": {"type": "string", "enum": [kind]},
        "metadata": {"$ref": "_defs.json#/$defs/ObjectMeta"},
    }
    props.update(spec_props)
    props["status"] = {"type": ["object", "null"]}
    doc: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": "",
        "description": description,
        "type": "object",
        "properties": props,
        "required": [
            "apiVersion",
            "kind",
            *sorted(r for r in required if r not in ("apiVersion", "kind", "metadata", "status")),
        ],
        "additionalProperties": False,
    }
    return doc


def file_name(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    return f"{group or 'core'}_{version}_{kind}.json"


def build(src: Sources) -> dict[str, str]:
    """File name -> text."""
    files: dict[str, Any] = {}
    index: dict[str, str] = {}

    # KubeVirt: definitions reachable from the kinds' spec, merged over the releases.
    swaggers = {r: src.swagger(r) for r in RELEASES}
    defs_by_rel: dict[str, dict[tuple[int, int], dict[str, Any]]] = {}
    roots: dict[tuple[str, str], dict[tuple[int, int], dict[str, Any]]] = {}
    for r, sw in swaggers.items():
        todo: list[str] = []
        for api_version, kind, defname in KUBEVIRT_KINDS:
            d = sw.get(defname)
            if d is None:
                continue
            roots.setdefault((api_version, kind), {})[r] = d
            for name, sub in d.get("properties", {}).items():
                if name not in ("apiVersion", "kind", "metadata", "status"):
                    todo.extend(re.findall(r'"#/definitions/([^"]+)"', json.dumps(sub)))
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen or name in BASE_REFS or name in OPEN_REFS:
                continue
            seen.add(name)
            d = sw[name]
            defs_by_rel.setdefault(name, {})[r] = norm_swagger({**d, "x-kvlint-name": name}, kv_ref)
            todo.extend(re.findall(r'"#/definitions/([^"]+)"', json.dumps(d)))
    base = json.loads((STATIC / "_base_defs.json").read_text(encoding="utf-8"))
    defs: dict[str, Any] = dict(base["$defs"])
    for name in sorted(defs_by_rel):
        m = merge(defs_by_rel[name])
        if len(defs_by_rel[name]) != len(RELEASES):
            m = {RANGE_KEY: ranges_text(defs_by_rel[name]), **m}
        defs[name] = m
    kv_tags = ", ".join(src.tags[r]["kubevirt"] or "" for r in RELEASES)
    files["_defs.json"] = {
        "$schema": DRAFT,
        "$id": ID_BASE + "_defs.json",
        "description": (
            f"Generated by {GENERATOR}; do not edit. Definitions from kubevirt/kubevirt "
            f"{KUBEVIRT_FILE} at {kv_tags}, and kvlint's own base definitions "
            "(tools/schema_static/_base_defs.json). x-kvlint-releases: the KubeVirt releases "
            "a definition or property exists in, when not all."
        ),
        "$defs": defs,
    }
    for (api_version, kind), by_rel in sorted(roots.items()):
        tags = ", ".join(src.tags[r]["kubevirt"] or "" for r in sorted(by_rel))
        _add_root(
            files,
            index,
            api_version,
            kind,
            by_rel,
            f"Generated by {GENERATOR}; do not edit. KubeVirt {kind} ({api_version}) from "
            f"kubevirt/kubevirt {KUBEVIRT_FILE} definition {KUBEVIRT_KINDS_DEF[(api_version, kind)]} at {tags}.",
        )

    # CDI: the CRDs of the CDI release each KubeVirt release ships with.
    cdi_by_rel = {r: src.cdi_crds(r) for r in RELEASES}
    for key, kind in CDI_KINDS:
        per: dict[tuple[int, int], dict[str, Any]] = {}
        for r, crds in cdi_by_rel.items():
            crd = crds.get(key)
            if crd is None:
                continue
            for v in crd["spec"]["versions"]:
                if v["name"] == "v1beta1" and v.get("served", True):
                    per[r] = v["schema"]["openAPIV3Schema"]
        _add_crd(
            files,
            index,
            "cdi.kubevirt.io/v1beta1",
            kind,
            per,
            "kubevirt/containerized-data-importer",
            CDI_FILE,
            {r: src.tags[r]["cdi"] or "" for r in per},
        )

    # HCO: the HyperConverged CRD of each HCO release.
    hco_by_rel = {r: src.hco_crd(r) for r in RELEASES}
    for version in HCO_VERSIONS:
        per = {}
        for r, crd in hco_by_rel.items():
            for v in crd["spec"]["versions"]:
                if v["name"] == version and v.get("served", True):
                    per[r] = v["schema"]["openAPIV3Schema"]
        if per:
            _add_crd(
                files,
                index,
                f"hco.kubevirt.io/{version}",
                "HyperConverged",
                per,
                "kubevirt/hyperconverged-cluster-operator",
                HCO_FILE,
                {r: src.hco_tag(r) for r in per},
            )

    for api_version, kind, name in STATIC_KINDS:
        doc = json.loads((STATIC / name).read_text(encoding="utf-8"))
        doc["description"] = (
            f"Copied by {GENERATOR} from tools/schema_static/{name} (hand-kept: a stable "
            "API at one recent version). " + str(doc.get("description", ""))
        ).strip()
        files[name] = doc
        index[f"{api_version}/{kind}"] = name

    files["index.json"] = {
        "description": (
            f"Generated by {GENERATOR}; do not edit. schemas maps '<apiVersion>/<kind>' (core "
            "group apiVersion is 'v1') to a file in this directory; releases lists, for each "
            "KubeVirt release kvlint models, the upstream tags its schemas come from; "
            "deprecatedApiVersions lists older apiVersions still seen in the wild and the "
            "apiVersion to use instead."
        ),
        "sources": {
            "kubevirt": {"repository": "kubevirt/kubevirt", "file": KUBEVIRT_FILE},
            "cdi": {
                "repository": "kubevirt/containerized-data-importer",
                "file": CDI_FILE,
                "note": "the CDI release of each KubeVirt release is read from HCO hack/config "
                "(CDI_VERSION next to KUBEVIRT_VERSION) at the HCO tag (or commit) that ships it",
            },
            "hco": {
                "repository": "kubevirt/hyperconverged-cluster-operator",
                "file": HCO_FILE,
                "note": "; ".join(
                    f"{rel_name(r)}: HCO v1.{r[1] + 10} was not tagged in the source the schemas "
                    f"were generated from; they are read at HCO commit {src.hco_tag(r)} (main), "
                    f"whose {HCO_CONFIG} ships KubeVirt {src.tags[r]['kubevirt']} and CDI "
                    f"{src.tags[r]['cdi']}"
                    for r in src.untagged
                ),
            },
        },
        "releases": {rel_name(r): src.tags[r] for r in RELEASES},
        "schemas": dict(sorted(index.items())),
        "deprecatedApiVersions": DEPRECATED_API_VERSIONS,
    }
    apply_overlay(files)
    out: dict[str, str] = {}
    for name, doc in sorted(files.items()):
        if "$id" in doc:
            doc["$id"] = ID_BASE + name
        out[name] = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    return out


KUBEVIRT_KINDS_DEF = {(a, k): d for a, k, d in KUBEVIRT_KINDS}


def _merged_spec(by_rel: dict[tuple[int, int], dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """A kind's top-level properties merged over its releases (each carrying the releases it
    exists in), and the properties the newest release requires."""
    spec_by_rel = {
        r: {
            "properties": {
                k: norm_swagger(v, kv_ref)
                for k, v in d.get("properties", {}).items()
                if k not in ("apiVersion", "kind", "metadata", "status")
            }
        }
        for r, d in by_rel.items()
    }
    merged = merge(spec_by_rel)
    newest = by_rel[max(by_rel)]
    return merged, [x for x in newest.get("required", ()) if x in merged.get("properties", {})]


def _add_crd(
    files: dict[str, Any],
    index: dict[str, str],
    api_version: str,
    kind: str,
    per: dict[tuple[int, int], dict[str, Any]],
    repo: str,
    path: str,
    tags: dict[tuple[int, int], str],
) -> None:
    listed = ", ".join(f"{tags[r]} ({rel_name(r)})" for r in sorted(per))
    _add_root(
        files,
        index,
        api_version,
        kind,
        per,
        f"Generated by {GENERATOR}; do not edit. {kind} ({api_version}) from the CRD in {repo} "
        f"{path} at {listed} (KubeVirt release in parentheses).",
    )


def _add_root(
    files: dict[str, Any],
    index: dict[str, str],
    api_version: str,
    kind: str,
    per: dict[tuple[int, int], dict[str, Any]],
    description: str,
) -> None:
    """One kind's schema, merged over the releases in ``per`` (with the range of releases
    it exists in, when not all), into ``files`` and ``index``."""
    merged, req = _merged_spec(per)
    doc = root_schema(api_version, kind, merged.get("properties", {}), req, description)
    if len(per) != len(RELEASES):
        doc = {RANGE_KEY: ranges_text(per), **doc}
    name = file_name(api_version, kind)
    files[name] = doc
    index[f"{api_version}/{kind}"] = name


OVERLAY = HERE / "schema_overlay.json"
_CONSTRAINTS = ("enum", "pattern", "minimum", "maximum")


def apply_overlay(files: dict[str, Any]) -> None:
    """Add the hand-kept constraints of :data:`OVERLAY` where upstream has none."""
    overlay = json.loads(OVERLAY.read_text(encoding="utf-8"))["constraints"]
    stale: list[str] = []
    for key, add in overlay.items():
        fname, _, rest = key.partition("#")
        defname, _, rel = rest.partition("/")
        doc = files.get(fname)
        cur: Any = doc["$defs"].get(defname) if doc is not None and defname else doc
        for tok in re.findall(r"\[\]|\{\}|[^.\[\]{}]+", rel):
            if not isinstance(cur, dict):
                break
            if tok == "[]":
                cur = cur.get("items")
            elif tok == "{}":
                cur = cur.get("additionalProperties")
            else:
                cur = (cur.get("properties") or {}).get(tok)
        if not isinstance(cur, dict) or "$ref" in cur:
            stale.append(key)
            continue
        for kw in _CONSTRAINTS:
            if kw in add and kw not in cur:
                cur[kw] = add[kw]
    if stale:
        sys.exit(f"{OVERLAY.name}: no such place in the generated schemas: {', '.join(stale)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kubevirt", type=Path, required=True, help="git clone of kubevirt/kubevirt")
    ap.add_argument("--cdi", type=Path, required=True, help="git clone of kubevirt/containerized-data-importer")
    ap.add_argument("--hco", type=Path, required=True, help="git clone of kubevirt/hyperconverged-cluster-operator")
    ap.add_argument("--out", type=Path, default=HERE.parent / "schemas")
    ap.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    args = ap.parse_args(argv)
    files = build(Sources(args.kubevirt, args.cdi, args.hco))
    if args.check:
        stale = sorted(
            n
            for n, text in files.items()
            if not (args.out / n).is_file() or (args.out / n).read_text(encoding="utf-8") != text
        )
        extra = sorted(p.name for p in args.out.glob("*.json") if p.name not in files)
        for n in stale + extra:
            print(f"{args.out / n}: differs from the generated schema", file=sys.stderr)
        return 1 if stale or extra else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for p in args.out.glob("*.json"):
        if p.name not in files:
            p.unlink()
    for n, text in files.items():
        (args.out / n).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
