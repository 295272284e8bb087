"""kvlint fix: the rule files' fix examples, the splice, the safety net, writing, the CLI."""

from __future__ import annotations

import os
import shutil
import stat
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from kvlint import catalog, fix
from kvlint.cli import cli
from kvlint.config import Config
from kvlint.models import Finding, Location, ObjectRef
from kvlint.parse import parse_text
from kvlint.runner import Options, lint_paths, lint_text
from tests.conftest import shared_or_skip

RULES = catalog.load()


def _rule_file(rid: str) -> dict[str, Any]:
    with open(catalog.resource_dir("rules") / f"{rid}.yaml", encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


FIX_EXAMPLES: list[Any] = []
for _rid in RULES:
    for _i, _ex in enumerate(_rule_file(_rid).get("fix_examples") or []):
        FIX_EXAMPLES.append(pytest.param(_rid, _ex, id=f"{_rid}-fix-{_i}"))


def run_fix(*args: str) -> Result:
    return CliRunner().invoke(cli, ["fix", "--no-context", "--no-config", *args])


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the catalog


def test_fixable_rules_match_the_fixers() -> None:
    for rid, meta in RULES.items():
        fx = fix.FIXERS.get(rid)
        if meta.fixable is not None:
            assert fx is not None, f"{rid} says fixable: {meta.fixable} but has no fixer"
            assert meta.fixable == fx.safety, f"{rid}: fixable {meta.fixable} != fixer {fx.safety}"
            assert _rule_file(rid).get("fix_examples"), f"{rid} is fixable but has no fix_examples"
        elif fx is not None:
            pytest.fail(f"{rid} has a {fx.safety} fixer; set fixable: {fx.safety} in its rule file")
    for rid in fix.FIXERS:
        assert fix.FIXERS[rid].safety in (fix.SAFE, fix.UNSAFE)


def test_every_fix_example_is_well_formed() -> None:
    for param in FIX_EXAMPLES:
        rid, ex = param.values
        assert set(ex) <= {"title", "before", "after", "unsafe"}, f"{rid}: {sorted(ex)}"
        assert ex["before"] != ex["after"], f"{rid}: {ex['title']}"
        assert bool(ex.get("unsafe")) == (RULES[rid].fixable == fix.UNSAFE), f"{rid}: {ex['title']}"


@pytest.mark.parametrize(("rule", "example"), FIX_EXAMPLES)
def test_fix_example(rule: str, example: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "example.yaml"
    target.write_text(example["before"], encoding="utf-8")
    before = lint_paths([str(target)], Config(), options=Options(cache=False, fixes=True))
    assert any(f.rule == rule for f in before.findings), f"{rule} does not fire on the example"
    unsafe = bool(example.get("unsafe"))
    if unsafe:
        res = run_fix(str(target))
        assert target.read_text(encoding="utf-8") == example["before"], "unsafe fix ran by default"
        assert "unsafe fix" in res.output and "--unsafe-fixes" in res.output
    args = ["--unsafe-fixes", str(target)] if unsafe else [str(target)]
    res = run_fix(*args)
    assert res.exit_code in (0, 1), res.output
    assert target.read_text(encoding="utf-8") == example["after"], res.output
    after = lint_paths([str(target)], Config(), options=Options(cache=False, fixes=True))
    assert not any(f.rule == rule for f in after.findings), f"{rule} still fires after the fix"
    again = run_fix(*args)
    assert target.read_text(encoding="utf-8") == example["after"]
    assert "0 fixes applied" in again.output


# --------------------------------------------------------------------------- formatting survives

FOUR_SPACES = """\
# Web server VM (managed by hand)
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
    name: 'web'           # single quotes stay
    namespace: "apps"
    annotations:
        kubevirt.io/allow-pod-bridge-network-live-migration: ""
        description: >-
            folded text
            that stays folded
    labels:
        backup: yes
spec:
    runStrategy: Always   # comment after a value
    template:
        metadata:
            creationTimestamp: null
            labels: {app: web, tier: "front"}
        spec:
            domain:
                devices:
                    interfaces:
                        -   name: default
                            bridge: {}
            networks:
                -   name: default
                    pod: {}
"""


def test_comments_quoting_and_indentation_survive(tmp_path: Path) -> None:
    target = tmp_path / "vm.yaml"
    target.write_text(FOUR_SPACES, encoding="utf-8")
    res = run_fix(str(target))
    assert res.exit_code in (0, 1), res.output
    got = target.read_text(encoding="utf-8")
    want = (
        FOUR_SPACES.replace('        kubevirt.io/allow-pod-bridge-network-live-migration: ""\n', "")
        .replace("        backup: yes\n", '        backup: "yes"\n')
        .replace(
            '            labels: {app: web, tier: "front"}\n',
            '            labels: {app: web, tier: "front"}\n'
            "            annotations:\n"
            '                kubevirt.io/allow-pod-bridge-network-live-migration: ""\n',
        )
    )
    assert got == want
    # ruamel.yaml alone would write "creationTimestamp:" for null: the three-way merge keeps
    # every line the fix does not touch exactly as it was.
    assert "creationTimestamp: null" in got


MULTI = """\
# leading comment of the file
apiVersion: v1
kind: ConfigMap
metadata:
  name: odd-formatting
  creationTimestamp: null
data:
    key:   value     # odd spacing ruamel would normalise
--- # the VM
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: web
  labels:
    backup:   on
  annotations: {note: "x"}
spec:
  runStrategy: Always
  template:
    metadata:
      creationTimestamp: null
    spec:
      domain: {devices: {}}
...
---
apiVersion: v1
kind: ConfigMap
metadata: { name: "after",   creationTimestamp: null }
data: {a:    "1"}
"""


def test_multi_document_splice_keeps_other_documents_byte_identical(tmp_path: Path) -> None:
    target = tmp_path / "multi.yaml"
    target.write_text(MULTI, encoding="utf-8")
    res = run_fix(str(target))
    assert res.exit_code in (0, 1), res.output
    got = target.read_text(encoding="utf-8")
    first, _, rest = MULTI.partition("--- # the VM\n")
    _, sep, last = rest.partition("...\n")
    assert sep
    assert got.startswith(first + "--- # the VM\n")
    assert got.endswith("...\n" + last)
    # The changed line itself is written by ruamel.yaml (single space after the colon).
    assert got == MULTI.replace("    backup:   on\n", '    backup: "on"\n')


def test_only_changed_documents_are_rewritten(tmp_path: Path) -> None:
    text = MULTI.replace("    backup:   on\n", '    backup:   "on"\n')
    target = tmp_path / "clean.yaml"
    target.write_text(text, encoding="utf-8")
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    res = run_fix(str(target))
    assert res.exit_code == 0, res.output
    assert target.stat().st_mtime_ns == 1_000_000_000
    assert target.read_text(encoding="utf-8") == text


def test_crlf_and_bom_are_kept(tmp_path: Path) -> None:
    text = VM_LABEL
    target = tmp_path / "crlf.yaml"
    target.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    run_fix(str(target))
    want = text.replace("backup: yes", 'backup: "yes"').replace("\n", "\r\n")
    assert target.read_bytes() == b"\xef\xbb\xbf" + want.encode()


# --------------------------------------------------------------------------- writing

VM_LABEL = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: web
  labels:
    backup: yes
spec:
  runStrategy: Always
  template:
    spec:
      domain: {devices: {}}
"""
VM_LABEL_FIXED = VM_LABEL.replace("backup: yes", 'backup: "yes"')


def test_diff_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "vm.yaml"
    target.write_text(VM_LABEL, encoding="utf-8")
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    res = run_fix("--diff", str(target))
    assert res.exit_code == 1
    assert target.read_text(encoding="utf-8") == VM_LABEL
    assert target.stat().st_mtime_ns == 1_000_000_000
    assert "--- a/" in res.stdout and "+++ b/" in res.stdout
    assert '-    backup: yes\n+    backup: "yes"\n' in res.stdout
    assert "1 fix would be applied in 1 file" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vm.yaml"]


def test_atomic_write_keeps_the_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "vm.yaml"
    target.write_text(VM_LABEL, encoding="utf-8")
    target.chmod(0o640)
    res = run_fix(str(target))
    assert res.exit_code == 0, res.output
    assert target.read_text(encoding="utf-8") == VM_LABEL_FIXED
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vm.yaml"]
    assert "1 fix applied in 1 file" in res.output


def test_each_newline_convention_is_kept(tmp_path: Path) -> None:
    for name, nl in (("cr.yaml", "\r"), ("lf.yaml", "\n"), ("crlf.yaml", "\r\n")):
        target = tmp_path / name
        target.write_bytes(VM_LABEL.replace("\n", nl).encode())
        run_fix(str(target))
        assert target.read_bytes() == VM_LABEL_FIXED.replace("\n", nl).encode(), name


def test_owner_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "vm.yaml"
    target.write_text(VM_LABEL, encoding="utf-8")
    if os.geteuid() != 0:
        pytest.skip("giving a file to another owner needs root")
    os.chown(target, 4321, 4322)
    res = run_fix(str(target))
    assert res.exit_code == 0, res.output
    assert target.read_text(encoding="utf-8") == VM_LABEL_FIXED
    assert (target.stat().st_uid, target.stat().st_gid) == (4321, 4322)


def test_read_only_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "vm.yaml"
    other = tmp_path / "other.yaml"
    target.write_text(VM_LABEL, encoding="utf-8")
    other.write_text(VM_LABEL, encoding="utf-8")
    target.chmod(0o444)
    res = run_fix(str(tmp_path))
    assert res.exit_code == 2
    assert [line for line in res.stderr.splitlines() if "vm.yaml" in line] == [
        f"kvlint: {target}: not fixed: the file is read-only"
    ]
    assert target.read_text(encoding="utf-8") == VM_LABEL
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    assert other.read_text(encoding="utf-8") == VM_LABEL_FIXED  # the rest goes on


def test_hard_linked_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "vm.yaml"
    target.write_text(VM_LABEL, encoding="utf-8")
    link = tmp_path / "elsewhere.yml.bak"
    os.link(target, link)
    res = run_fix(str(target))
    assert res.exit_code == 2
    assert "not fixed: the file has 2 hard links" in res.stderr
    assert target.read_text(encoding="utf-8") == VM_LABEL == link.read_text(encoding="utf-8")
    assert target.stat().st_ino == link.stat().st_ino


def test_leftover_temporary_files_are_removed_on_the_next_run(tmp_path: Path) -> None:
    target = tmp_path / "vm.yaml"
    target.write_text(VM_LABEL, encoding="utf-8")
    old = tmp_path / ".kvlint-fix-abc123.tmp"
    old.write_text("half written", encoding="utf-8")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    fresh = tmp_path / ".kvlint-fix-def456.tmp"  # another run may be writing it now
    fresh.write_text("being written", encoding="utf-8")
    res = run_fix(str(target))
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, "vm.yaml"]


def test_symlinked_file_is_fixed_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text(VM_LABEL, encoding="utf-8")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    run_fix(str(link))
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == VM_LABEL_FIXED


def test_file_changed_before_the_write_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "vm.yaml"
    target.write_text(VM_LABEL, encoding="utf-8")
    edited = VM_LABEL + "# edited by someone else meanwhile\n"

    def meddle(path: str) -> None:
        Path(path).write_text(edited, encoding="utf-8")

    monkeypatch.setattr(fix.write, "before_replace", meddle)
    res = run_fix(str(target))
    assert res.exit_code == 2
    assert "changed since it was read" in res.stderr
    assert target.read_text(encoding="utf-8") == edited
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vm.yaml"]


def test_second_run_is_a_no_op(tmp_path: Path) -> None:
    target = tmp_path / "vm.yaml"
    target.write_text(FOUR_SPACES, encoding="utf-8")
    run_fix("--unsafe-fixes", str(target))
    once = target.read_bytes()
    stamp = target.stat().st_mtime_ns
    res = run_fix("--unsafe-fixes", str(target))
    assert target.read_bytes() == once
    assert target.stat().st_mtime_ns == stamp
    assert "0 fixes applied in 0 files" in res.output


def test_files_without_fixes_are_not_touched(tmp_path: Path) -> None:
    fixable = tmp_path / "a.yaml"
    fixable.write_text(VM_LABEL, encoding="utf-8")
    other = write(
        tmp_path / "b.yaml",
        """\
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: disk, namespace: apps}
        spec:
          runStrategy: Always
          template:
            spec:
              domain: {devices: {}}
              volumes:
              - name: data
                hostDisk: {path: /data/disk.img, type: DiskOrCreate}
        """,
    )
    os.utime(other, ns=(1_000_000_000, 1_000_000_000))
    res = run_fix(str(tmp_path))
    assert res.exit_code == 1, res.output  # KV103 remains
    assert other.stat().st_mtime_ns == 1_000_000_000
    assert fixable.read_text(encoding="utf-8") == VM_LABEL_FIXED
    assert "finding" in res.output and "remain" in res.output


def test_stdin_cannot_be_fixed() -> None:
    res = CliRunner().invoke(cli, ["fix", "-"], input=VM_LABEL)
    assert res.exit_code == 2
    assert "standard input cannot be fixed" in res.stderr


def test_exit_code_zero_when_everything_was_fixed(tmp_path: Path) -> None:
    target = tmp_path / "vm.yaml"
    target.write_text(VM_LABEL, encoding="utf-8")
    assert run_fix(str(target)).exit_code == 0


# --------------------------------------------------------------------------- safety net


def _finding(rule: str, doc: int, path: tuple[Any, ...], kind: str = "VirtualMachine", **data: Any) -> Finding:
    f = Finding(
        rule=rule,
        severity="error",
        message="test",
        fix="",
        location=Location("t.yaml", 1, 1, 1, 1),
        object=ObjectRef("kubevirt.io/v1", kind, "apps", "web"),
        data=dict(data),
    )
    f.data["node"] = (doc, path)
    return f


def test_an_edit_that_changes_more_than_it_declares_is_refused() -> None:
    ff = fix.FileFixer("t.yaml", VM_LABEL)

    def sneaky(d: Any, orig: fix.Original) -> list[fix.Expectation]:
        d["metadata"]["labels"]["backup"] = "yes"
        d["metadata"]["name"] = "other"
        return []

    edit = fix.Edit(("t",), "quote", (("metadata", "labels", "backup"),), sneaky)
    with pytest.raises(fix.Refused, match="outside the fix"):
        ff.render(0, [edit])


def test_the_label_quoting_fix_reads_the_expected_type_not_the_message() -> None:
    ff = fix.FileFixer("t.yaml", VM_LABEL)
    path = ("metadata", "labels", "backup")
    wants_string = _finding("KV802", 0, path, keyword="type", expected=("string",))
    wants_string.message = "worded in any way"
    assert ff.edits_for(wants_string, fix.FIXERS["KV802"])
    wants_number = _finding("KV802", 0, path, keyword="type", expected=("integer",))
    wants_number.message = "metadata.labels.backup: expected a string"
    assert ff.edits_for(wants_number, fix.FIXERS["KV802"]) is None
    # What the schema check records on a type error.
    from kvlint.runner import lint_text

    found = [f for f in lint_text(VM_LABEL).findings if f.rule == "KV802"]
    assert found and found[0].data.get("expected") == ("string",)


def test_a_round_trip_that_alters_an_alias_is_refused() -> None:
    text = textwrap.dedent(
        """\
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata:
          name: web
          labels: &labels
            backup: yes
        spec:
          template:
            metadata:
              labels: *labels
            spec:
              domain: {devices: {}}
        """
    )
    ff = fix.FileFixer("t.yaml", text)
    f = _finding("KV802", 0, ("metadata", "labels", "backup"), keyword="type", expected=("string",))
    f.message = "metadata.labels.backup: expected a string, got boolean"
    edits = ff.edits_for(f, fix.FIXERS["KV802"])
    assert edits
    outcome = ff.apply([fix.Item(f, fix.FIXERS["KV802"], edits)])
    # The alias shares the node: quoting one label would quietly change the template's too.
    assert not outcome.applied and outcome.new_text == text
    assert "outside the fix" in outcome.refused[0][1]


def test_selector_expressions_without_a_plain_form_are_not_fixed() -> None:
    base = """\
    apiVersion: migrations.kubevirt.io/v1alpha1
    kind: MigrationPolicy
    metadata: {name: p}
    spec:
      selectors:
        namespaceSelector:
          {sel}
    """
    for sel in (
        "matchExpressions: [{key: env, operator: NotIn, values: [dev]}]",
        "matchExpressions: [{key: env, operator: In, values: [a, b]}]",
        "matchExpressions: [{key: env, operator: Exists}]",
        "{matchLabels: {env: a}, matchExpressions: [{key: env, operator: In, values: [b]}]}",
    ):
        text = textwrap.dedent(base).replace("{sel}", sel)
        ff = fix.FileFixer("t.yaml", text)
        path = ("spec", "selectors", "namespaceSelector", "matchExpressions")
        f = _finding("KV503", 0, path, kind="MigrationPolicy")
        assert ff.edits_for(f, fix.FIXERS["KV503"]) is None, sel


def test_plain_selector_fix_on_a_hand_built_finding() -> None:
    text = textwrap.dedent(
        """\
        apiVersion: migrations.kubevirt.io/v1alpha1
        kind: MigrationPolicy
        metadata: {name: p}
        spec:
          selectors:
            virtualMachineInstanceSelector:
              matchLabels: {tier: 1, app: db}
              matchExpressions:
              - {key: zone, operator: In, values: [east]}
        """
    )
    ff = fix.FileFixer("t.yaml", text)
    path = ("spec", "selectors", "virtualMachineInstanceSelector", "matchLabels")
    f = _finding("KV503", 0, path, kind="MigrationPolicy")
    edits = ff.edits_for(f, fix.FIXERS["KV503"])
    assert edits
    out = ff.apply([fix.Item(f, fix.FIXERS["KV503"], edits)])
    assert out.applied
    data = parse_text("t.yaml", out.new_text).documents[0].data
    want = {"tier": "1", "app": "db", "zone": "east"}
    assert data["spec"]["selectors"]["virtualMachineInstanceSelector"] == want


def test_enum_case_needs_exactly_one_case_insensitive_match() -> None:
    text = textwrap.dedent(
        """\
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: web}
        spec:
          template:
            spec:
              evictionStrategy: {value}
              domain: {devices: {}}
        """
    )
    path = ("spec", "template", "spec", "evictionStrategy")
    for value, want in (("LIVEMIGRATE", "LiveMigrate"), ("migrate", None), ("LiveMigrate", None)):
        ff = fix.FileFixer("t.yaml", text.replace("{value}", value))
        edits = ff.edits_for(_finding("KV803", 0, path, keyword="enum"), fix.FIXERS["KV803"])
        if want is None:
            assert edits is None, value
        else:
            assert edits and want in edits[0].description


def test_bridge_with_a_misplaced_annotation_is_left_to_the_safe_move(tmp_path: Path) -> None:
    example = RULES["KV201"].examples["fail"][1]["yaml"]
    target = tmp_path / "vm.yaml"
    target.write_text(example, encoding="utf-8")
    run_fix("--unsafe-fixes", str(target))
    got = target.read_text(encoding="utf-8")
    assert "bridge: {}" in got and "masquerade" not in got
    result = lint_text(got)
    assert not [f for f in result.findings if f.rule in ("KV201", "KV202")]


def test_no_rwx_fix_when_the_class_offers_none(tmp_path: Path) -> None:
    target = write(
        tmp_path / "vm.yaml",
        """\
        apiVersion: cdi.kubevirt.io/v1beta1
        kind: StorageProfile
        metadata: {name: local}
        spec:
          claimPropertySets:
          - {accessModes: [ReadWriteOnce], volumeMode: Filesystem}
        ---
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: db, namespace: apps}
        spec:
          runStrategy: Always
          dataVolumeTemplates:
          - metadata: {name: root}
            spec:
              storage: {storageClassName: local, resources: {requests: {storage: 1Gi}}}
              source: {blank: {}}
          template:
            spec:
              domain: {devices: {disks: [{name: root, disk: {}}]}}
              volumes:
              - {name: root, dataVolume: {name: root}}
        """,
    )
    before = target.read_text(encoding="utf-8")
    res = run_fix("--unsafe-fixes", str(target))
    assert target.read_text(encoding="utf-8") == before
    assert "0 fixes applied" in res.output and res.exit_code == 1


# --------------------------------------------------------------------------- SARIF


def test_attach_fixes_gives_the_replacement_of_the_changed_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("vm.yaml").write_text(FOUR_SPACES, encoding="utf-8")
    result = lint_paths(["vm.yaml"], Config(), options=Options(cache=False, fixes=True))
    assert fix.attach_fixes(result) >= 2
    lines = FOUR_SPACES.splitlines(keepends=True)
    seen = set()
    for f in result.findings:
        entries = f.data.get("fixes")
        if not entries:
            continue
        seen.add(f.rule)
        (e,) = entries
        assert e["file"] == "vm.yaml" and e["description"]
        # Apply the replacement (1-based, end exclusive) to the original text.
        start = sum(len(x) for x in lines[: e["start_line"] - 1]) + e["start_column"] - 1
        end = sum(len(x) for x in lines[: e["end_line"] - 1]) + e["end_column"] - 1
        patched = FOUR_SPACES[:start] + e["text"] + FOUR_SPACES[end:]
        still = [g for g in lint_text(patched).findings if g.rule == f.rule]
        assert not [g for g in still if g.location.line == f.location.line]
        if f.rule == "KV802":
            assert e["text"] == '"yes"'
            assert e["description"].startswith("quote")
        if f.rule == "KV201":
            assert e["description"].startswith("unsafe fix")
    assert {"KV202", "KV802"} <= seen
    from kvlint.report import sarif

    doc = sarif.document(result, root=str(tmp_path))
    fixes = [r["fixes"] for r in doc["runs"][0]["results"] if "fixes" in r]
    assert fixes and fixes[0][0]["artifactChanges"][0]["replacements"]
    assert Path("vm.yaml").read_text(encoding="utf-8") == FOUR_SPACES


# --------------------------------------------------------------------------- the corpus


def test_corpus_fix_changes_only_the_fixed_paths_and_converges(tmp_path: Path) -> None:
    corpus = shared_or_skip("corpus")
    copy = tmp_path / "corpus"
    shutil.copytree(corpus, copy)
    for p in [copy, *copy.rglob("*")]:  # the shared corpus is read-only; its copy must not be
        p.chmod(p.stat().st_mode | 0o200)
    originals = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    from kvlint import source

    result = lint_paths([str(copy)], Config(), options=Options(cache=False, fixes=True))
    files, _ = source.discover([str(copy)])
    plan = fix.plan(result, unsafe=True, sources={f.display: f.real for f in files})
    touched: dict[Path, dict[int, list[Any]]] = {}
    for fp in plan.files:
        fix.write_atomic(fp)
        touched[Path(fp.real)] = fp.touched
    assert plan.files, "no fix applied anywhere in the corpus"
    changed = 0
    for p, data in originals.items():
        now = p.read_bytes()
        if now == data:
            continue
        changed += 1
        assert p in touched, f"{p} changed without a fix"
        old = parse_text(str(p), data.decode("utf-8"))
        new = parse_text(str(p), now.decode("utf-8"))
        assert [d.index for d in new.documents] == [d.index for d in old.documents]
        assert not [x for x in new.problems if x.rule not in {y.rule for y in old.problems}]
        for a, b in zip(old.documents, new.documents, strict=True):
            paths = touched[p].get(a.index, [])
            assert fix.equal_except(a.data, b.data, paths), f"{p} doc {a.index}"
    assert changed == len(plan.files)
    # A second run (through the command line) changes nothing.
    once = {p: p.read_bytes() for p in originals}
    res = run_fix("--unsafe-fixes", str(copy))
    assert "0 fixes applied in 0 files" in res.output, res.output
    assert once == {p: p.read_bytes() for p in originals}


def test_a_document_the_merge_cannot_place_is_re_emitted_whole(tmp_path: Path) -> None:
    target = write(
        tmp_path / "vm.yaml",
        """\
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata:
          name: web
          labels: {
            backup: yes
          }
        spec:
          template:
            spec:
              domain: {devices: {}}
        """,
    )
    res = run_fix(str(target))
    assert "re-emitted whole" in res.output
    got = parse_text("vm.yaml", target.read_text(encoding="utf-8")).documents[0].data
    assert got["metadata"]["labels"] == {"backup": "yes"}
    assert res.exit_code == 0


def test_a_synthetic_edit_on_every_corpus_document_is_merged_line_by_line() -> None:
    """The splice machinery on real files: add one label to every object's metadata; the
    result must verify, and the three-way merge (not a whole re-emission) must place it."""
    corpus = shared_or_skip("corpus")
    merged = whole = refused = 0
    for p in sorted(corpus.rglob("*.yaml")):
        ff = fix.FileFixer(str(p), p.read_text(encoding="utf-8"))
        if ff.error is not None:
            continue
        for idx, doc in ff.docs.items():
            meta = doc.data.get("metadata") if isinstance(doc.data, dict) else None
            if not isinstance(meta, dict):
                continue
            has_labels = isinstance(meta.get("labels"), dict)
            if "labels" in meta and not has_labels:
                continue
            path = ("metadata", "labels", "kvlint-test")

            def apply(d: Any, orig: fix.Original, path: Any = path) -> list[fix.Expectation]:
                md = fix.node_at(d, ("metadata",))
                if "labels" not in md:
                    md.insert(len(md), "labels", fix._new_map(fix._flow(md)))
                md["labels"]["kvlint-test"] = "x"
                return [(path, "x")]

            touched = path if has_labels else ("metadata", "labels")
            try:
                new, re_emitted = ff.render(idx, [fix.Edit(("t",), "t", (touched,), apply)])
            except fix.Refused:
                refused += 1
                continue
            whole += re_emitted
            merged += not re_emitted
            c = ff.chunks[idx] if ff.chunks else None
            assert c is not None
            old = "".join(ff.lines[c.start : c.end])
            added = len(new.splitlines()) - len(old.splitlines())
            assert re_emitted or added in (0, 1, 2), f"{p} doc {idx}"
    assert merged > 300 and whole + refused < merged / 20, (merged, whole, refused)


def test_suppressed_findings_are_not_fixed(tmp_path: Path) -> None:
    text = VM_LABEL.replace("backup: yes", "backup: yes  # kvlint: ignore=KV802 -- kept as is")
    target = tmp_path / "vm.yaml"
    target.write_text(text, encoding="utf-8")
    res = run_fix(str(target))
    assert target.read_text(encoding="utf-8") == text
    assert res.exit_code == 0, res.output
    assert "0 fixes applied" in res.output


def test_fixing_every_rule_example_converges_in_one_run(tmp_path: Path) -> None:
    """All rule examples (passing and failing), fixed with --unsafe-fixes: nothing crashes,
    every rewrite verifies, and a second run finds nothing more to fix."""
    import base64

    from kvlint import source
    from tests.helpers import config_from

    for rid, meta in RULES.items():
        for kind in ("fail", "pass"):
            for i, ex in enumerate(meta.examples.get(kind) or []):
                p = tmp_path / f"{rid}-{kind}-{i}.yaml"
                if "base64" in ex:
                    p.write_bytes(base64.b64decode(ex["base64"]))
                else:
                    p.write_text(ex["yaml"], encoding="utf-8")
                cfg = config_from(ex.get("config"))
                for rnd in range(2):
                    res = lint_paths([str(p)], cfg, options=Options(cache=False, fixes=True))
                    files, _ = source.discover([str(p)])
                    plan = fix.plan(res, unsafe=True, sources={f.display: f.real for f in files})
                    assert not (rnd and plan.files), f"{p.name}: {[f.rule for f in plan.fixed]}"
                    for fp in plan.files:
                        fix.write_atomic(fp)


# --------------------------------------------------------------------------- SARIF fixes of a List


def _vm_list(n: int) -> str:
    items = []
    for i in range(n):
        items.append(
            f"- apiVersion: kubevirt.io/v1\n  kind: VirtualMachine\n  metadata:\n    name: vm-{i}\n    namespace: apps\n"
            "  spec:\n    runStrategy: Always\n    template:\n      spec:\n        domain:\n          devices:\n"
            "            interfaces:\n            - name: default\n              bridge: {}\n"
            "        networks:\n        - name: default\n          pod: {}\n"
        )
    return "apiVersion: v1\nkind: List\nitems:\n" + "".join(items)


def test_sarif_fixes_of_a_list_cost_one_rendering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A List of n VMs with a fix each: one rendering of the document, not n (each costs the
    size of the List), and the same replacements as rendering them one by one."""
    from kvlint.fix import sarif as sarif_fixes

    target = tmp_path / "list.yaml"
    target.write_text(_vm_list(30), encoding="utf-8")
    renders = 0
    real = fix.FileFixer.render

    def counted(self: Any, index: int, edits: Any) -> Any:
        nonlocal renders
        renders += 1
        return real(self, index, edits)

    monkeypatch.setattr(fix.FileFixer, "render", counted)

    def fixes() -> list[Any]:
        res = lint_paths([str(target)], Config(), options=Options(cache=False, sarif_fixes=True))
        return [f.data.get("fixes") for f in res.findings if f.rule == "KV201"]

    together = fixes()
    assert renders == 1
    assert len(together) == 30 and all(together)
    renders = 0
    monkeypatch.setattr(sarif_fixes, "together", lambda ff, index, items: items)
    one_by_one = fixes()
    assert renders == 30
    assert together == one_by_one
