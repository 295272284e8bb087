"""The fast in-house schema validator (kvlint.schema_validate) and the KV8xx schema rules.

(a) verdicts agree with ``jsonschema`` (Draft202012Validator with the referencing Registry
    of tests/test_schemas.py) on every good / bad manifest there, on seeded random mutations
    of the good ones, and on every corpus object;
(b) each error sits at the deepest path at fault, with the keyword jsonschema names;
(c) edge semantics: booleans are not numbers, integral floats are integers, enum equality;
(d) findings point at the right line and column;
(e) every known-invalid corpus file of tests/test_schemas.py gets a schema finding;
(f) nothing heavy is imported on the lint path.
"""

from __future__ import annotations

import copy
import random
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from kvlint import schema_validate as sv
from kvlint.config import Config
from kvlint.runner import lint_paths, lint_text
from tests.test_schemas import (
    BAD,
    CORPUS,
    GOOD,
    KNOWN_INVALID,
    _corpus_objects,
    errors_of,
    fmt,
    validator_for,
)

# --------------------------------------------------------------------------- helpers


def ours(doc: dict[str, Any], key: tuple[str, str] | None = None) -> list[sv.SchemaError]:
    api_version, kind = key or (doc["apiVersion"], doc["kind"])
    errs = sv.validate(api_version, kind, doc)
    assert errs is not None, f"no schema for {api_version}/{kind}"
    return errs


def show(errs: list[sv.SchemaError]) -> str:
    return "\n".join(f"{sv.path_str(e.path) or '<root>'} [{e.keyword}] {e.message}" for e in errs)


def agree(doc: dict[str, Any], what: str, key: tuple[str, str] | None = None) -> None:
    """Same verdict; ``key`` (apiVersion, kind) picks the schema when the document's own
    apiVersion / kind may have been mutated."""
    mine = ours(doc, key)
    theirs = errors_of(doc) if key is None else list(validator_for(*key).iter_errors(doc))
    assert bool(mine) == bool(theirs), (
        f"{what}: in-house says {'invalid' if mine else 'valid'}, jsonschema says "
        f"{'invalid' if theirs else 'valid'}\nin-house:\n{show(mine)}\njsonschema:\n"
        + "\n".join(fmt(e) for e in theirs)
    )


# --------------------------------------------------------------------------- (a) agreement


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_manifests_pass(name: str) -> None:
    errs = ours(GOOD[name])
    assert not errs, show(errs)


@pytest.mark.parametrize(("case", "doc", "path", "keyword"), BAD, ids=[b[0] for b in BAD])
def test_bad_manifests_fail_at_the_deepest_path(case: str, doc: dict[str, Any], path: str, keyword: str) -> None:
    agree(doc, case)
    want = tuple(int(p) if p.isdigit() else p for p in path.split("/")) if path else ()
    errs = ours(doc)
    if keyword == "additionalProperties":
        # jsonschema names the parent object; the in-house validator the unknown key itself.
        hits = [e for e in errs if e.keyword == keyword and e.path[:-1] == want]
    else:
        hits = [e for e in errs if e.keyword == keyword and e.path == want]
    assert hits, f"{case}: expected a {keyword} error at /{path}; got:\n{show(errs)}"


_ODD_VALUES: list[Any] = [
    True,
    False,
    None,
    0,
    -1,
    7,
    2.5,
    3.0,
    "",
    "x",
    "true",
    "7",
    "LiveMigrate",
    "64Mi",
    "1Gbps",
    [],
    ["a"],
    [1],
    {},
    {"k": "v"},
    {"k": True},
]


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_leaves(v, path + (k,)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_leaves(v, path + (i,)))
    return out


def _mutations(seed: int, count: int) -> list[tuple[str, tuple[str, str], dict[str, Any]]]:
    rnd = random.Random(seed)
    out = []
    names = sorted(GOOD)
    for n in range(count):
        name = names[n % len(names)]
        doc = copy.deepcopy(GOOD[name])
        for _ in range(rnd.randint(1, 3)):
            paths = _leaves(doc)
            target = paths[rnd.randrange(len(paths))]
            parent: Any = doc
            for p in target[:-1]:
                parent = parent[p]
            action = rnd.random()
            if action < 0.6:
                parent[target[-1]] = copy.deepcopy(rnd.choice(_ODD_VALUES))
            elif (
                action < 0.8
                and isinstance(parent, dict)
                and target[-1]
                not in (
                    "apiVersion",
                    "kind",
                )
            ):
                del parent[target[-1]]
            elif isinstance(parent, dict):
                parent[str(target[-1]) + rnd.choice(["s", "X", "_"])] = rnd.choice(_ODD_VALUES)
        key = (GOOD[name]["apiVersion"], GOOD[name]["kind"])
        out.append((f"{name}#{n}", key, doc))
    return out


MUTATIONS = _mutations(20240611, 600)


@pytest.mark.parametrize(("what", "key", "doc"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_random_mutations_agree_with_jsonschema(what: str, key: tuple[str, str], doc: dict[str, Any]) -> None:
    agree(doc, what, key)


@pytest.fixture(scope="module")
def corpus_docs() -> list[tuple[str, int, dict[str, Any]]]:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not available at {CORPUS}")
    docs = list(_corpus_objects())
    if not docs:
        pytest.skip("corpus has no object of an indexed kind")
    return docs


def test_corpus_objects_agree_with_jsonschema(
    corpus_docs: list[tuple[str, int, dict[str, Any]]],
) -> None:
    for rel, i, doc in corpus_docs:
        agree(doc, f"{rel} [doc {i}]")


# --------------------------------------------------------------------------- (c) semantics


def _compile(schema: dict[str, Any]) -> Any:
    return sv._Compiler({"t.json": schema}).node(schema, "t.json")


SEMANTIC_CASES: list[tuple[dict[str, Any], Any]] = [
    ({"type": "integer"}, True),
    ({"type": "integer"}, 3.0),
    ({"type": "integer"}, 3.5),
    ({"type": "integer"}, 3),
    ({"type": "number"}, False),
    ({"type": "number"}, 3),
    ({"type": "number"}, float("inf")),
    ({"type": ["string", "null"]}, None),
    ({"type": "boolean"}, 0),
    ({"enum": [1, "a"]}, True),
    ({"enum": [1, "a"]}, 1.0),
    ({"enum": [True]}, 1),
    ({"enum": [None]}, None),
    ({"enum": ["a"]}, ["a"]),
    ({"minimum": 1}, True),
    ({"minimum": 1}, 0),
    ({"maximum": 1}, 1.5),
    ({"minimum": 0, "type": ["integer", "string"]}, "-5"),
    ({"pattern": "^a"}, 5),
    ({"pattern": "b"}, "abc"),
    ({"pattern": "^b"}, "abc"),
    ({"type": "object", "required": ["x"]}, []),
    ({"required": ["x"]}, "not an object"),
    ({"additionalProperties": False, "properties": {}}, {}),
    ({"additionalProperties": False}, {"a": 1}),
    ({"additionalProperties": {"type": "string"}, "properties": {"a": {}}}, {"a": 1, "b": "x"}),
    ({"additionalProperties": {"type": "string"}}, {"b": 1}),
    ({"items": {"type": "string"}}, ["a", 1]),
    ({"items": {"type": "string"}}, {"0": 1}),
    ({"$ref": "#/$defs/s", "$defs": {"s": {"type": "string"}}, "minimum": 3}, 2),
    ({"$ref": "#/$defs/s", "$defs": {"s": {"type": "string"}}}, "x"),
]


@pytest.mark.parametrize(("schema", "value"), SEMANTIC_CASES)
def test_edge_semantics_match_jsonschema(schema: dict[str, Any], value: Any) -> None:
    mine = sv.validate_node(_compile(schema), value)
    theirs = list(Draft202012Validator(schema).iter_errors(value))
    assert bool(mine) == bool(theirs), (schema, value, [e.message for e in mine], theirs)


def test_recursive_refs_compile() -> None:
    schema = {
        "$defs": {
            "t": {
                "type": "object",
                "properties": {"child": {"$ref": "#/$defs/t"}},
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/t",
    }
    node = _compile(schema)
    assert sv.validate_node(node, {"child": {"child": {}}}) == []
    errs = sv.validate_node(node, {"child": {"child": {"x": 1}}})
    assert [e.path for e in errs] == [("child", "child", "x")]


def test_errors_are_bounded_and_all_reported() -> None:
    doc = copy.deepcopy(GOOD["VirtualMachine"])
    doc["metadata"]["labels"] = {f"l{i}": i for i in range(10)}
    assert len(ours(doc)) == 10  # every error, not the first one only
    doc["metadata"]["labels"] = {f"l{i}": i for i in range(200)}
    assert len(ours(doc)) == sv.MAX_ERRORS


def test_compiled_schemas_are_cached_and_unknown_kinds_have_none() -> None:
    a = sv.compiled("kubevirt.io/v1", "VirtualMachine")
    assert a is not None and a is sv.compiled("kubevirt.io/v1", "VirtualMachine")
    assert sv.validate("kubevirt.io/v1", "Kubevirt", {}) is None
    assert sv.validate("example.com/v1", "Thing", {}) is None


def test_messages_speak_the_users_language() -> None:
    vm = copy.deepcopy(GOOD["VirtualMachine"])
    ts = vm["spec"]["template"]["spec"]
    ts["domian"] = ts.pop("domain")
    ts["evictionStrategy"] = "livemigrate"
    vm["metadata"]["labels"]["tier"] = True
    ts["domian"]["memory"]["guest"] = "4GB"
    msgs = {e.message for e in ours(vm)}
    assert "unknown field 'domian' in spec.template.spec (did you mean 'domain'?)" in msgs
    assert (
        "spec.template.spec.evictionStrategy: 'livemigrate' is not one of None, LiveMigrate, "
        "LiveMigrateIfPossible, External (did you mean 'LiveMigrate'?)" in msgs
    )
    assert (
        "metadata.labels.tier: expected a string, got boolean (YAML reads unquoted "
        "yes/no/on/off/true/false as booleans — quote it)" in msgs
    )
    assert "missing required field 'domain' in spec.template.spec" in msgs


# --------------------------------------------------------------------------- (d) positions


def _hits(text: str, prefix: str = "KV8") -> list[tuple[str, int, int]]:
    res = lint_text(textwrap.dedent(text), Config(), path="x.yaml")
    return sorted((f.rule, f.location.line, f.location.column) for f in res.findings if f.rule.startswith(prefix))


def test_positions_point_at_the_node_at_fault() -> None:
    text = """\
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata:
          name: web
          labels: {backup: yes}
        spec:
          runStrategy: always
          template:
            spec:
              domain:
                devices:
                  disks:
                  - name: root
                    bootOrder: 0
                  - {name: data, disk: {bus: ide}}
                  interfaces:
                  - name: default
                    masquerade: {}
                memory: {guest: 4GB}
              networks:
              - name: default
                pod: {}
                multus: {default: true}
              volumez: []
        """
    assert _hits(text) == [
        ("KV801", 24, 7),  # unknown key: the key itself
        ("KV802", 5, 12),  # label value in a flow mapping: its key
        ("KV803", 7, 3),  # runStrategy
        ("KV803", 15, 33),  # bus inside nested flow mappings
        ("KV805", 23, 9),  # multus lacks networkName: the multus key
        ("KV808", 14, 13),  # bootOrder
        ("KV809", 19, 18),  # memory.guest
    ]


def test_positions_in_a_list_document_and_for_required_at_the_root() -> None:
    text = """\
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: PersistentVolumeClaim
          metadata: {name: data}
          spec:
            accessModes: [ReadWriteMany]
            resources: {requests: {storage: 10GB}}
        - apiVersion: storage.k8s.io/v1
          kind: StorageClass
          metadata: {name: fast}
        """
    assert _hits(text) == [("KV805", 10, 3), ("KV809", 9, 28)]


def test_a_misplaced_field_is_kv804_and_its_missing_parent_is_not_kv805() -> None:
    text = """\
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: web}
        spec:
          domain:
            devices: {}
        """
    assert _hits(text) == [("KV804", 5, 3)]
    res = lint_text(textwrap.dedent(text), Config())
    (f,) = [f for f in res.findings if f.rule == "KV804"]
    assert "spec.template.spec" in f.message and "spec.template is missing" in f.message
    assert f.fix == "move domain to spec.template.spec.domain"


def test_a_typo_of_a_required_field_is_only_kv801() -> None:
    text = """\
        apiVersion: kubevirt.io/v1
        kind: VirtualMachineInstance
        metadata: {name: web}
        spec:
          domian: {devices: {}}
        """
    assert _hits(text) == [("KV801", 5, 3)]


def test_v1alpha3_is_validated_with_the_v1_schema() -> None:
    text = """\
        apiVersion: kubevirt.io/v1alpha3
        kind: VirtualMachineInstance
        metadata: {name: web}
        spec:
          domain: {devices: {}}
          evictionStrategy: livemigrate
        """
    assert _hits(text) == [("KV803", 6, 3), ("KV807", 1, 1)]


def test_no_double_reports_with_kv106_and_kv208() -> None:
    text = """\
        apiVersion: cdi.kubevirt.io/v1beta1
        kind: DataVolume
        metadata: {name: root}
        spec:
          source: {blank: {}}
          storage:
            accessModes: [ReadWriteMultiple]
            resources: {requests: {storage: 1Gi}}
        ---
        apiVersion: kubevirt.io/v1
        kind: VirtualMachineInstance
        metadata: {name: web}
        spec:
          domain:
            devices:
              interfaces:
              - name: default
                masquerade: {}
                ports: [{port: 70000, protocol: tcp}]
          networks: [{name: default, pod: {}}]
        """
    res = lint_text(textwrap.dedent(text), Config())
    rules = sorted(f.rule for f in res.findings if f.rule in ("KV106", "KV208") or f.rule.startswith("KV8"))
    assert rules == ["KV106", "KV208", "KV208"]


# --------------------------------------------------------------------------- (e) corpus


def _known_invalid_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    out = []
    for key in sorted(KNOWN_INVALID):
        if key.endswith("*"):
            out.extend(sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.glob(key[:-1] + "*.yaml")))
        elif (CORPUS / key).is_file():
            out.append(key)
    return out


#: Known-invalid corpus files whose schema problems another rule reports (the KV8xx rules
#: never report the same node twice): CDI's negative DataVolume tests are KV106's, the
#: MigrationPolicy documentation blocks the KV5xx rules' (when those are in the catalog).
_DEFERRED_PREFIXES = {
    "kubevirt__containerized-data-importer/tests__manifests__dvInvalidAccessModes": "KV106",
    "kubevirt__containerized-data-importer/tests__manifests__dvMissingCompleteSpec": "KV106",
    "kubevirt__user-guide/docs__cluster_admin__migration_policies.md__": "KV5",
}


@pytest.mark.parametrize("rel", _known_invalid_files() or ["<no corpus>"])
def test_known_invalid_corpus_files_get_a_schema_finding(rel: str) -> None:
    if rel == "<no corpus>":
        pytest.skip(f"corpus not available at {CORPUS}")
    res = lint_paths([str(CORPUS / rel)], Config())
    families = ["KV8"]
    for prefix, family in _DEFERRED_PREFIXES.items():
        if rel.startswith(prefix) and any(r.startswith(family) for r in res.context.rules):  # type: ignore[union-attr]
            families.append(family)
    hits = [f for f in res.findings if f.rule.startswith(tuple(families))]
    assert hits, f"{rel}: no {'/'.join(families)} finding; got " + ", ".join(
        f"{f.rule}@{f.location.line}" for f in res.findings
    )


def test_corpus_has_no_internal_errors_from_the_schema_check() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not available at {CORPUS}")
    res = lint_paths([str(CORPUS)], Config())
    internal = [f for f in res.findings if f.rule == "KV907" and "schema_problems" in f.message]
    assert not internal, [f.message for f in internal]


# --------------------------------------------------------------------------- (g) library fast path

RELEASES = [(1, m) for m in range(10)]


def _library_verdict(doc: dict[str, Any], key: tuple[str, str], release: sv.Release) -> bool:
    fname = sv.index()["schemas"][f"{key[0]}/{key[1]}"]
    validator = sv._fast_validator(fname, release)
    assert validator is not None, "jsonschema-rs did not compile the schema"
    return bool(validator.is_valid(doc))


@pytest.mark.parametrize("release", RELEASES, ids=[sv.release_name(r) for r in RELEASES])
def test_library_verdicts_agree_with_the_walk_on_every_release(release: sv.Release) -> None:
    """The fast path trusts jsonschema-rs's "valid": it must never call an object valid that
    the walk finds at fault (nor the reverse), on any release view."""
    pytest.importorskip("jsonschema_rs")
    cases: list[tuple[str, tuple[str, str], dict[str, Any]]] = [
        (name, (d["apiVersion"], d["kind"]), d) for name, d in GOOD.items()
    ]
    cases += [(b[0], (b[1]["apiVersion"], b[1]["kind"]), b[1]) for b in BAD if isinstance(b[1].get("kind"), str)]
    cases += MUTATIONS[:200]
    for what, key, doc in cases:
        root = sv.compiled(key[0], key[1], release)
        if root is None:
            continue
        walk_valid = not sv.validate_node(root, doc)
        assert _library_verdict(doc, key, release) == walk_valid, (what, sv.release_name(release))


def test_the_fast_path_gives_the_same_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("jsonschema_rs")
    docs = [d for d in GOOD.values()] + [b[1] for b in BAD if isinstance(b[1].get("kind"), str)]

    def run() -> list[list[tuple[Any, ...]]]:
        return [
            [(e.path, e.keyword, e.message) for e in sv.validate(d["apiVersion"], d["kind"], d, (1, 5)) or []]
            for d in docs
        ]

    slow = run()
    monkeypatch.setattr(sv, "FAST_AFTER", 0)
    fast = run()
    assert fast == slow
    assert any(slow) and not all(slow)


# --------------------------------------------------------------------------- (f) imports


def test_lint_path_imports_nothing_heavy() -> None:
    code = textwrap.dedent(
        """
        import sys
        from kvlint.runner import lint_text
        res = lint_text(
            "apiVersion: kubevirt.io/v1\\nkind: VirtualMachine\\nmetadata: {name: a}\\n"
            "spec: {domian: {}}\\n"
        )
        assert any(f.rule == "KV801" for f in res.findings), res.findings
        heavy = sorted(
            m for m in sys.modules
            if m.split(".")[0]
            in ("jsonschema", "jsonschema_rs", "pydantic", "referencing", "jsonschema_specifications")
        )
        print(",".join(heavy))
        """
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "", f"heavy modules imported on the lint path: {p.stdout.strip()}"


def _plain_distance(a: str, b: str) -> int:
    """Optimal string alignment distance, the textbook table (no cut-off)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _plain_close_match(word: str, options: tuple[str, ...]) -> str | None:
    low = word.lower()
    best: tuple[int, int, str] | None = None
    for i, o in enumerate(options):
        ol = o.lower()
        if ol == low:
            return o
        d = _plain_distance(low, ol)
        extends = len(low) >= 5 and ol.startswith(low)
        if abs(len(ol) - len(low)) > max(2, len(low) // 4) and not extends:
            continue
        if (d <= max(2, len(low) // 4) and d < len(low) // 2 + 1) or extends:
            cand = (d, i, o)
            if best is None or cand < best:
                best = cand
    return best[2] if best else None


def test_did_you_mean_agrees_with_the_plain_search() -> None:
    """The cut-off distance and the cache give the same suggestion as computing every
    distance in full, on misspellings of real field names."""
    rng = random.Random(7)
    fields = (
        "evictionStrategy",
        "runStrategy",
        "dataVolumeTemplates",
        "accessModes",
        "storageClassName",
        "volumeMode",
        "domain",
        "devices",
        "interfaces",
        "masquerade",
        "bridge",
        "networks",
        "cpu",
        "memory",
        "guest",
        "nodeSelector",
        "tolerations",
        "affinity",
        "hostDevices",
        "gpus",
        "sev",
        "guestAgentPing",
        "bus",
        "name",
        "image",
        "model",
        "dedicatedCpuPlacement",
        "io",
    )
    letters = "abcdefghijklmnopqrstuvwxyzABC"
    for _ in range(3000):
        w = list(rng.choice(fields))
        for _ in range(rng.randint(0, 4)):
            op = rng.randrange(4)
            pos = rng.randrange(len(w) + 1)
            if op == 0:
                w.insert(pos, rng.choice(letters))
            elif op == 1 and pos < len(w):
                del w[pos]
            elif op == 2 and pos < len(w):
                w[pos] = rng.choice(letters)
            elif pos + 1 < len(w):
                w[pos], w[pos + 1] = w[pos + 1], w[pos]
        word = "".join(w) or "x"
        options = tuple(rng.sample(fields, rng.randint(1, len(fields))))
        assert sv.close_match(word, options) == _plain_close_match(word, options), (word, options)
        for o in options[:3]:
            limit = rng.randint(0, 4)
            full = _plain_distance(word.lower(), o.lower())
            assert sv._distance(word.lower(), o.lower(), limit) == (full if full <= limit else limit + 1)
