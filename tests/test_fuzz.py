"""Property-based fuzzing of the whole pipeline (see docs/fuzzing.md).

Valid manifests of the kinds kvlint reads are mutated (keys dropped or renamed, values
swapped for other types, nulls, duplicated list entries, unicode, huge numbers, nested
garbage), serialised with ``yaml.safe_dump`` and sometimes damaged as text. For every
input:

* nothing raises, and no check fails (no KV907 finding);
* the JSON report parses and keeps its contract; SARIF is JSON with a ``runs[0].results``
  list; the text, JUnit and GitHub formats render;
* linting twice gives the same JSON (deterministic output);
* the exit code the CLI would use is 0, 1 or 2, and 2 exactly when there is an input error.

Profiles: the default run is bounded for CI (well under a minute); ``CI=1`` makes it
derandomized (the same examples every run); ``KVLINT_FUZZ=long`` runs many more examples.
"""

from __future__ import annotations

import copy
import json
import os
import xml.etree.ElementTree as ET
from importlib.util import find_spec
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kvlint import catalog, parse, report
from kvlint.config import Config
from kvlint.engine import Result, fails
from kvlint.runner import lint_text

HAVE_SARIF = find_spec("kvlint.report.sarif") is not None

_COMMON = dict(
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
settings.register_profile("kvlint-fuzz", max_examples=200, **_COMMON)
settings.register_profile("kvlint-fuzz-ci", max_examples=200, derandomize=True, **_COMMON)
settings.register_profile("kvlint-fuzz-long", max_examples=5000, **_COMMON)


def _profile() -> settings:
    if os.environ.get("KVLINT_FUZZ") == "long":
        return settings.get_profile("kvlint-fuzz-long")
    if os.environ.get("CI"):
        return settings.get_profile("kvlint-fuzz-ci")
    return settings.get_profile("kvlint-fuzz")


#: Applied to each test (not loaded globally: other test modules keep their own settings).
FUZZ = _profile()

# --------------------------------------------------------------------------- seed manifests

VM = {
    "apiVersion": "kubevirt.io/v1",
    "kind": "VirtualMachine",
    "metadata": {"name": "db", "namespace": "apps", "labels": {"app": "db"}},
    "spec": {
        "runStrategy": "Always",
        "dataVolumeTemplates": [
            {
                "metadata": {"name": "db-root"},
                "spec": {
                    "storage": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "30Gi"}},
                        "storageClassName": "ceph-rbd",
                    },
                    "source": {"http": {"url": "https://example.com/disk.qcow2"}},
                },
            }
        ],
        "template": {
            "metadata": {"labels": {"app": "db", "workload": "db"}},
            "spec": {
                "evictionStrategy": "LiveMigrate",
                "nodeSelector": {"kubernetes.io/hostname": "node-1"},
                "domain": {
                    "cpu": {"model": "host-passthrough", "dedicatedCpuPlacement": True},
                    "memory": {"guest": "8Gi"},
                    "features": {"hyperv": {"relaxed": {}, "reenlightenment": {}}},
                    "devices": {
                        "disks": [
                            {"name": "root", "disk": {"bus": "virtio"}},
                            {"name": "data", "disk": {}},
                        ],
                        "interfaces": [
                            {"name": "default", "masquerade": {}, "ports": [{"port": 80}]},
                            {"name": "sec", "bridge": {}},
                        ],
                        "hostDevices": [{"name": "acc", "deviceName": "example.com/ACC"}],
                        "gpus": [{"name": "gpu", "deviceName": "nvidia.com/GRID_T4-1Q"}],
                        "filesystems": [{"name": "shared", "virtiofs": {}}],
                    },
                },
                "networks": [
                    {"name": "default", "pod": {}},
                    {"name": "sec", "multus": {"networkName": "br"}},
                ],
                "volumes": [
                    {"name": "root", "dataVolume": {"name": "db-root"}},
                    {"name": "data", "persistentVolumeClaim": {"claimName": "db-data"}},
                    {"name": "imported", "dataVolume": {"name": "imported"}},
                    {"name": "ci", "cloudInitNoCloud": {"userData": "#cloud-config\n"}},
                ],
            },
        },
    },
}

DATA_VOLUME = {
    "apiVersion": "cdi.kubevirt.io/v1beta1",
    "kind": "DataVolume",
    "metadata": {"name": "imported", "namespace": "apps"},
    "spec": {
        "source": {"registry": {"url": "docker://quay.io/containerdisks/fedora:latest"}},
        "storage": {"resources": {"requests": {"storage": "10Gi"}}, "storageClassName": "ceph-rbd"},
    },
}

PVC = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "db-data", "namespace": "apps"},
    "spec": {
        "accessModes": ["ReadWriteOnce"],
        "volumeMode": "Block",
        "resources": {"requests": {"storage": "100Gi"}},
        "storageClassName": "ceph-rbd",
    },
}

STORAGE_PROFILE = {
    "apiVersion": "cdi.kubevirt.io/v1beta1",
    "kind": "StorageProfile",
    "metadata": {"name": "ceph-rbd"},
    "spec": {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]},
    "status": {
        "provisioner": "openshift-storage.rbd.csi.ceph.com",
        "claimPropertySets": [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}],
    },
}

HCO = {
    "apiVersion": "hco.kubevirt.io/v1beta1",
    "kind": "HyperConverged",
    "metadata": {"name": "kubevirt-hyperconverged", "namespace": "openshift-cnv"},
    "spec": {
        "evictionStrategy": "LiveMigrate",
        "liveMigrationConfig": {
            "parallelMigrationsPerCluster": 5,
            "parallelOutboundMigrationsPerNode": 2,
            "completionTimeoutPerGiB": 150,
            "progressTimeout": 150,
            "bandwidthPerMigration": "512Mi",
            "allowPostCopy": False,
        },
        "permittedHostDevices": {
            "mediatedDevices": [{"mdevNameSelector": "GRID T4-1Q", "resourceName": "nvidia.com/GRID_T4-1Q"}]
        },
        "featureGates": {"decentralizedLiveMigration": False},
    },
}

MIGRATION_POLICY = {
    "apiVersion": "migrations.kubevirt.io/v1alpha1",
    "kind": "MigrationPolicy",
    "metadata": {"name": "db"},
    "spec": {
        "selectors": {
            "namespaceSelector": {"tier": "data"},
            "virtualMachineInstanceSelector": {"app": "db"},
        },
        "allowPostCopy": True,
        "bandwidthPerMigration": "1Gi",
        "completionTimeoutPerGiB": 300,
    },
}

VMIM = {
    "apiVersion": "kubevirt.io/v1",
    "kind": "VirtualMachineInstanceMigration",
    "metadata": {"name": "migrate-db", "namespace": "apps"},
    "spec": {"vmiName": "db"},
}

SEEDS: list[dict[str, Any]] = [VM, DATA_VOLUME, PVC, STORAGE_PROFILE, HCO, MIGRATION_POLICY, VMIM]
SEED_TEXT = yaml.safe_dump_all(SEEDS, sort_keys=False)

# --------------------------------------------------------------------------- strategies

TRICKY_STRINGS = [
    "",
    " ",
    "null",
    "~",
    "yes",
    "on",
    "0x1F",
    "010",
    "1e3",
    ".nan",
    "-.inf",
    "<<",
    "ReadWriteMany",
    "LiveMigrate",
    "64Mi",
    "-1Gi",
    "0.5Ki",
    "99999999999999999999Ei",
    "1e-9",
    "{{ .Values.x }}",
    "${VAR}",
    "*alias",
    "&anchor",
    "!tag",
    "key: value",
    "- item",
    "a\tb",
    "line\nbreak",
    "\x1b[31mred\x1b[0m",
    "\x07\x08\x0b",
    "\u202etxt.exe",  # right-to-left override
    "שלום עולם",  # right-to-left script
    "مرحبا",
    "😀🚀👩‍👩‍👧",
    "\ufeffbom",
    "\u2028\u2029\x85",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "ｆｕｌｌｗｉｄｔｈ",
    "a" * 300,
]

texts = st.one_of(
    st.sampled_from(TRICKY_STRINGS),
    st.text(max_size=30),  # surrogates excluded by default: no file can decode to one
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=10),  # control characters
    st.text(alphabet=st.characters(whitelist_categories=("Lo", "So", "Mn", "Cf")), max_size=15),
)
huge_ints = st.one_of(
    st.sampled_from([2**31, 2**32, 2**63 - 1, 2**63, -(2**63) - 1, 2**64]),
    # up to 4,000 digits (Python refuses to print an int over 4,300, and so does safe_dump)
    st.builds(pow, st.sampled_from([10, -10]), st.sampled_from([19, 30, 100, 4000])),
    st.integers(),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    huge_ints,
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
)
garbage = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(texts, inner, max_size=4),
    ),
    max_leaves=12,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, path + (k,)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, path + (i,)))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        node = node[k]
    return node


def _set(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


OPS = (
    "drop",
    "swap",
    "null",
    "duplicate",
    "text",
    "int",
    "garbage",
    "rename",
    "transplant",
    "wrap",
)


@st.composite
def mutated(draw: st.DrawFn, doc: dict[str, Any]) -> Any:
    """``doc`` after 1-6 random edits, each at a random node."""
    out: Any = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 6))):
        paths = _paths(out)
        # Mostly below the root: a document that is no longer an object is less interesting.
        path = draw(st.sampled_from(paths[1:] if len(paths) > 1 and draw(st.integers(0, 9)) else paths))
        node = _get(out, path)
        op = draw(st.sampled_from(OPS))
        if op == "drop" and path:
            parent = _get(out, path[:-1])
            del parent[path[-1]]
        elif op == "swap":
            if isinstance(node, dict):
                new: Any = list(node.values())
            elif isinstance(node, list):
                new = {str(i): v for i, v in enumerate(node)}
            elif isinstance(node, str):
                new = draw(st.sampled_from([0, 1.5, True, [node], {node: node}]))
            else:
                new = str(node)
            out = _set(out, path, new)
        elif op == "null":
            out = _set(out, path, None)
        elif op == "duplicate" and isinstance(node, list) and node:
            i = draw(st.integers(0, len(node) - 1))
            node.insert(i, copy.deepcopy(node[i]))
        elif op == "text":
            out = _set(out, path, draw(texts))
        elif op == "int":
            out = _set(out, path, draw(huge_ints))
        elif op == "garbage":
            out = _set(out, path, draw(garbage))
        elif op == "rename" and path and isinstance(_get(out, path[:-1]), dict):
            parent = _get(out, path[:-1])
            parent[draw(texts)] = parent.pop(path[-1])
        elif op == "transplant":
            donor = draw(st.sampled_from(_paths(out)))
            out = _set(out, path, copy.deepcopy(_get(out, donor)))
        elif op == "wrap":
            out = _set(out, path, draw(st.sampled_from([[node], {"x": node}, [node, node]])))
    return out


documents = st.lists(st.sampled_from(SEEDS), min_size=1, max_size=4).flatmap(
    lambda docs: st.tuples(*[st.one_of(st.just(d), mutated(d)) for d in docs])
)

RAW_EDITS = (
    ":",
    "-",
    "\t",
    " ",
    "\n",
    "- ",
    ": ",
    "#",
    "&a ",
    "*a",
    "<<: ",
    "[",
    "{",
    "'",
    '"',
    "!!",
    "? ",
    "---\n",
    "\x00",
)


@st.composite
def damaged(draw: st.DrawFn, text: str) -> str:
    """``text`` with 1-3 raw edits: a character deleted, or punctuation inserted."""
    for _ in range(draw(st.integers(1, 3))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        if draw(st.booleans()):
            text = text[:i] + text[i + 1 :]
        else:
            text = text[:i] + draw(st.sampled_from(RAW_EDITS)) + text[i:]
    return text


def dump(docs: Any) -> str:
    return yaml.safe_dump_all(list(docs), sort_keys=False, allow_unicode=True)


# --------------------------------------------------------------------------- known bugs

#: Check-module bugs the fuzzer found and that are reported, not fixed here (the checks and
#: kvlint/effective.py belong to their owners). ``check`` tolerates a KV907 finding whose
#: message contains one of these fragments, so that the fuzzer keeps looking for new bugs;
#: test_known_check_bug reproduces each one as a strict xfail, which turns into a failure
#: (XPASS) once the bug is fixed: then delete its entry.
_VMI = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {{name: vm, namespace: apps}}
spec:
  domain:
    devices:
      disks: [{{name: root, disk: {{}}}}]
      interfaces: [{{name: {iface}, masquerade: {{}}}}]
      filesystems: [{{name: {fs}, virtiofs: {{}}}}]
  networks: [{{name: {net}, pod: {{}}}}]
  volumes: [{{name: {vol}, containerDisk: {{image: quay.io/x/y}}}}]
"""
FOUND_BY_FUZZING: dict[str, tuple[tuple[str, ...], str]] = {
    # effective.py block_migration_volumes (used by the time_budget check): volume names are
    # looked up in a set (line 710) and filesystem names put in one (line 701)
    "volume-name-is-a-list": (
        ("check time_budget: TypeError: unhashable type",),
        _VMI.format(iface="default", net="default", fs="fs", vol="[root]"),
    ),
    "filesystem-name-is-a-list": (
        ("check time_budget: TypeError: unhashable type",),
        _VMI.format(iface="default", net="default", fs="[fs]", vol="root"),
    ),
}


# --------------------------------------------------------------------------- the properties

FINDING_KEYS = {"rule", "severity", "reason", "message", "fix", "file", "line", "column", "object"}
SUMMARY_KEYS = {"files", "objects", "errors", "warnings", "infos"}


def exit_code(result: Result, fail_on: str = "error") -> int:
    """cli.lint's exit code."""
    if result.input_errors:
        return 2
    return 1 if fails(result.findings, fail_on) else 0


def check(text: str) -> None:
    result = lint_text(text)
    internal = [f.message for f in result.findings if f.rule == "KV907"]
    assert not internal, internal

    out = report.render("json", result)
    doc = json.loads(out)
    assert set(doc) == {"version", "findings", "summary", "run"} and doc["version"] == 1
    assert set(doc["summary"]) == SUMMARY_KEYS
    for f in doc["findings"]:
        assert set(f) == FINDING_KEYS
        assert isinstance(f["line"], int) and f["line"] >= 1 and f["column"] >= 1
        assert f["severity"] in ("error", "warning", "info")
        assert f["object"] is None or set(f["object"]) == {
            "apiVersion",
            "kind",
            "namespace",
            "name",
        }
    assert doc["summary"]["errors"] == sum(1 for f in doc["findings"] if f["severity"] == "error")
    assert doc["summary"]["files"] == 1

    if HAVE_SARIF:
        sarif = json.loads(report.render("sarif", result))
        assert isinstance(sarif["runs"][0]["results"], list)
    report.render("text", result, color=False, show_fix=True)
    report.render("github", result)
    ET.fromstring(report.render("junit", result))

    again = lint_text(text)
    assert report.render("json", again) == out, "output is not deterministic"

    code = exit_code(result)
    assert code in (0, 1, 2)
    input_rules = {rid for rid, meta in catalog.load().items() if meta.area == "input"}
    input_error = any(f.rule in input_rules and f.severity == "error" for f in result.findings)
    assert (code == 2) == input_error, (code, [f.rule for f in result.findings])
    for fail_on in ("warning", "info"):
        assert exit_code(result, fail_on) in (0, 1, 2)


def test_seed_manifests_are_valid() -> None:
    result = lint_text(SEED_TEXT, Config())
    assert not result.input_errors
    assert result.objects == len(SEEDS)
    check(SEED_TEXT)


@FUZZ
@given(documents)
@example((VM,))
@example((HCO, {**HCO, "spec": None}))
def test_mutated_manifests(docs: tuple[Any, ...]) -> None:
    check(dump(docs))


@FUZZ
@given(st.data())
def test_damaged_text(data: st.DataObject) -> None:
    docs = data.draw(documents)
    check(data.draw(damaged(dump(docs))))


@FUZZ
@given(
    st.sampled_from(SEEDS),
    st.dictionaries(st.sampled_from(["metadata", "spec", "status", "items"]), garbage, min_size=1),
)
def test_garbage_bodies(seed: dict[str, Any], body: dict[str, Any]) -> None:
    """A real apiVersion and kind around garbage: every check of that kind meets it."""
    doc = {"apiVersion": seed["apiVersion"], "kind": seed["kind"], **body}
    check(dump([doc, *SEEDS]))


@FUZZ
@given(st.sampled_from(SEEDS), texts)
def test_every_string_replaced(seed: dict[str, Any], value: str) -> None:
    """One string value for every string field of a manifest (keys stay)."""

    def sub(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (v if k in ("apiVersion", "kind") else sub(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [sub(v) for v in node]
        return value if isinstance(node, str) else node

    check(dump([sub(seed), *[s for s in SEEDS if s is not seed]]))


def _parsed(pf: Any) -> tuple[Any, ...]:
    return (
        repr([d.data for d in pf.documents]),  # repr: NaN != NaN
        [sorted(d.positions(), key=repr) for d in pf.documents],
        [(p.rule, p.line, p.column, p.message) for p in pf.problems],
        pf.doc_lines,
    )


@FUZZ
@given(st.data())
def test_one_pass_reader_agrees_with_the_converter(data: st.DataObject) -> None:
    """parse.py reads plain documents from the event stream and falls back to the node-graph
    converter for the rest; both must give the same data, positions and problems."""
    if not hasattr(parse, "_fast_documents") or not hasattr(parse, "_Fallback"):
        pytest.skip("no one-pass reader in kvlint.parse")
    text = dump(data.draw(documents))
    if data.draw(st.booleans()):
        text = data.draw(damaged(text))
    fast = _parsed(parse.parse_text("f.yaml", text, block=False))
    original = parse._fast_documents

    def fallback(*args: Any) -> None:
        raise parse._Fallback

    parse._fast_documents = fallback
    try:
        slow = _parsed(parse.parse_text("f.yaml", text, block=False))
    finally:
        parse._fast_documents = original
    assert fast == slow


@FUZZ
@given(st.data())
def test_line_reader_agrees_with_libyaml(data: st.DataObject) -> None:
    """Block YAML is read line by line (kvlint.blockyaml) and everything else by libyaml;
    on fuzzed and damaged manifests, the reading is libyaml's."""
    text = dump(data.draw(documents))
    if data.draw(st.booleans()):
        text = data.draw(damaged(text))
    assert _parsed(parse.parse_text("f.yaml", text)) == _parsed(parse.parse_text("f.yaml", text, block=False))


@pytest.mark.parametrize("name", list(FOUND_BY_FUZZING))
def test_input_found_by_fuzzing(name: str) -> None:
    # Inputs that once raised inside a check (KV907): kept as regressions.
    _, text = FOUND_BY_FUZZING[name]
    result = lint_text(text)
    internal = [f.message for f in result.findings if f.rule == "KV907"]
    assert not internal, internal


# --------------------------------------------------------------------------- campaign

#: ``KVLINT_FUZZ_CAMPAIGN=N`` runs N generated inputs through both pipelines (a held run and
#: the streaming run the CLI uses) and every report format, counting what happens instead of
#: stopping at the first problem; ``KVLINT_FUZZ_REPORT=FILE`` writes the counts as JSON.
#: Not run otherwise (see docs/fuzzing.md).
CAMPAIGN = int(os.environ.get("KVLINT_FUZZ_CAMPAIGN", "0") or 0)

campaign_inputs = st.one_of(
    documents.map(lambda docs: ("mutated", dump(docs))),
    documents.flatmap(lambda docs: damaged(dump(docs))).map(lambda text: ("damaged", text)),
    st.tuples(
        st.sampled_from(SEEDS),
        st.dictionaries(st.sampled_from(["metadata", "spec", "status", "items"]), garbage, min_size=1),
    ).map(
        lambda sb: ("garbage-body", dump([{"apiVersion": sb[0]["apiVersion"], "kind": sb[0]["kind"], **sb[1]}, *SEEDS]))
    ),
)


@pytest.mark.skipif(not CAMPAIGN, reason="set KVLINT_FUZZ_CAMPAIGN=N to run a fuzz campaign of N inputs")
def test_fuzz_campaign(tmp_path_factory: pytest.TempPathFactory) -> None:
    from collections import Counter

    from hypothesis import Phase

    from kvlint.runner import Options, lint_paths

    folder = tmp_path_factory.mktemp("campaign")
    target = folder / "input.yaml"
    counts: Counter[str] = Counter()
    internal: Counter[str] = Counter()
    stopped: list[str] = []

    @settings(
        max_examples=CAMPAIGN,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(campaign_inputs)
    def one(case: tuple[str, str]) -> None:
        how, text = case
        counts["inputs"] += 1
        counts[f"inputs: {how}"] += 1
        try:
            held = lint_text(text)
            for fmt in ("json", "sarif", "text", "github", "junit"):
                report.render(fmt, held)
            json.loads(report.render("json", held))
            target.write_text(text, encoding="utf-8", errors="surrogatepass")
            streamed = lint_paths([str(target)], Config(), options=Options(cache=False, jobs=1))
            json.loads(report.render("json", streamed))
        except Exception as e:  # noqa: BLE001 - counted: an error that would stop a run
            stopped.append(f"{type(e).__name__}: {e} <- {text[:300]!r}")
            return
        rules = {f.rule for f in held.findings}
        code = exit_code(held)
        counts[f"exit {code}"] += 1
        for rule in sorted(r for r in rules if r.startswith("KV9")):
            counts[f"files with {rule}"] += 1
        for f in held.findings + streamed.findings:
            if f.rule == "KV907":
                internal[f.message.split(":")[0]] += 1
        if "KV907" in rules or any(f.rule == "KV907" for f in streamed.findings):
            counts["inputs with a KV907 (a check failed on one object; the run went on)"] += 1

    one()
    summary = {
        "counts": dict(sorted(counts.items())),
        "errors that stop a run": len(stopped),
        "KV907 by check": dict(internal.most_common()),
        "first errors that stop a run": stopped[:20],
    }
    out = os.environ.get("KVLINT_FUZZ_REPORT")
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2)
    print(json.dumps(summary, indent=2))
    assert counts["inputs"] >= min(CAMPAIGN, 100)
    assert not stopped, stopped[:5]
