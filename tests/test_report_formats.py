"""SARIF, JUnit XML and GitHub Actions output: schema-valid, real positions, stable
fingerprints, suppressions, input problems, escaping, and the CLI wiring."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from kvlint import catalog, report
from kvlint.config import Config
from kvlint.engine import Result
from kvlint.fingerprint import fingerprint
from kvlint.models import Finding, Location, ObjectRef
from kvlint.report import github, junit, sarif
from kvlint.runner import lint_paths
from tests.conftest import ROOT

SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


# -- helpers ------------------------------------------------------------------------------


@pytest.fixture
def examples(monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.chdir(ROOT)
    return lint_paths(["examples"], Config())


def sarif_doc(result: Result, root: str | Path | None = None) -> dict[str, Any]:
    text = sarif.render(result, root=None if root is None else str(root))
    doc: dict[str, Any] = json.loads(text)
    return doc


def run_of(doc: dict[str, Any]) -> dict[str, Any]:
    assert len(doc["runs"]) == 1
    run: dict[str, Any] = doc["runs"][0]
    return run


def validate(doc: dict[str, Any]) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA} is not present (../shared is only next to a checkout)")
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])


def hand_finding(**kw: Any) -> Finding:
    base: dict[str, Any] = {
        "rule": "KV101",
        "severity": "error",
        "message": "volume 'data' is RWO",
        "fix": "use ReadWriteMany",
        "location": Location("apps/vm.yaml", 12, 7, 12, 30, "spec.template.spec.volumes[0]"),
        "reason": "DisksNotLiveMigratable",
        "object": ObjectRef("kubevirt.io/v1", "VirtualMachine", "apps", "db"),
    }
    base.update(kw)
    return Finding(**base)


def hand_result(*findings: Finding, input_errors: bool = False) -> Result:
    return Result(findings=list(findings), files=1, objects=1, input_errors=input_errors)


def kvlint_exe() -> list[str]:
    exe = shutil.which("kvlint", path=os.path.dirname(sys.executable)) or shutil.which("kvlint")
    return [exe] if exe else [sys.executable, "-m", "kvlint"]


# -- SARIF --------------------------------------------------------------------------------


def test_sarif_examples_validate_against_schema(examples: Result) -> None:
    doc = sarif_doc(examples)
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-schema-2.1.0.json")
    validate(doc)


def test_sarif_driver_and_rule_descriptors(examples: Result) -> None:
    import kvlint

    run = run_of(sarif_doc(examples))
    driver = run["tool"]["driver"]
    assert driver["name"] == "kvlint"
    assert driver["version"] == driver["semanticVersion"] == kvlint.__version__
    assert driver["informationUri"].startswith("https://")
    rules = catalog.load()
    assert [r["id"] for r in driver["rules"]] == list(rules)
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for desc in driver["rules"]:
        meta = rules[desc["id"]]
        assert desc["name"] == meta.name
        assert desc["shortDescription"]["text"] == meta.summary
        assert desc["fullDescription"]["text"] == meta.why
        assert meta.why in desc["help"]["text"] and meta.fix in desc["help"]["text"]
        assert "**Fix**" in desc["help"]["markdown"]
        assert desc["helpUri"] == meta.help_uri
        assert desc["defaultConfiguration"]["level"] == levels[meta.severity]
        props = desc["properties"]
        assert props["tags"][:2] == ["kubevirt", "live-migration"]
        if meta.area:
            assert meta.area in props["tags"]
        assert props["problem.severity"] in ("error", "warning", "recommendation")
        assert props["precision"] in ("very-high", "high")


def test_sarif_results_point_at_the_real_nodes(examples: Result) -> None:
    run = run_of(sarif_doc(examples))
    descriptors = run["tool"]["driver"]["rules"]
    active = list(examples.findings)
    results = run["results"]
    assert len(results) == len(active) > 0
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.as_uri() + "/"
    for f, res in zip(active, results, strict=True):
        assert res["ruleId"] == f.rule
        assert descriptors[res["ruleIndex"]]["id"] == f.rule
        assert res["level"] == {"error": "error", "warning": "warning", "info": "note"}[f.severity]
        assert res["message"]["text"].startswith(f.message)
        assert " Fix: " in res["message"]["text"]
        phys = res["locations"][0]["physicalLocation"]
        art = phys["artifactLocation"]
        assert art == {"uri": f.location.file, "uriBaseId": "%SRCROOT%"}
        assert not art["uri"].startswith(("./", "/")) and "\\" not in art["uri"]
        region = phys["region"]
        assert (region["startLine"], region["startColumn"]) == (f.location.line, f.location.column)
        assert region["startLine"] > 1
        assert region["endLine"] >= region["startLine"]
        if region["endLine"] == region["startLine"] and "endColumn" in region:
            assert region["endColumn"] > region["startColumn"]
        assert res["partialFingerprints"] == {"kvlint/v1": fingerprint(f)}
        assert res["properties"].get("reason") == f.reason
        logical = res["locations"][0]["logicalLocations"][0]
        assert f.object is not None
        assert logical["name"] == f.object.name
        assert logical["fullyQualifiedName"] == f"{f.object.kind}/{f.object.namespace}/{f.object.name}"
        assert res["properties"]["object"] == f.object.as_dict()
        assert "suppressions" not in res


def test_sarif_region_of_a_block_node_ends_on_its_last_line(examples: Result) -> None:
    # KV101 on vm-db-2.yaml: the persistentVolumeClaim mapping spans lines 36-37; libyaml's
    # end mark is line 38 column 1, which must not drag the region onto line 38.
    run = run_of(sarif_doc(examples))
    [res] = [
        r
        for r in run["results"]
        if r["ruleId"] == "KV101"
        and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "examples/apps/db/vm-db-2.yaml"
    ]
    region = res["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 36, "startColumn": 9, "endLine": 37}


def test_sarif_related_location_in_another_file(examples: Result) -> None:
    run = run_of(sarif_doc(examples))
    [res] = [
        r
        for r in run["results"]
        if r["ruleId"] == "KV101"
        and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "examples/apps/db/vm-db-2.yaml"
    ]
    related = res["relatedLocations"]
    pvc = [r for r in related if r["physicalLocation"]["artifactLocation"]["uri"] == "examples/apps/db/pvc.yaml"]
    assert pvc, related
    assert pvc[0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert pvc[0]["physicalLocation"]["region"]["startLine"] > 1
    assert "PersistentVolumeClaim db/db-2-data" in pvc[0]["message"]["text"]
    assert len({r["id"] for r in related}) == len(related)


def test_sarif_empty_run_still_has_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    doc = sarif_doc(lint_paths(["ns.yaml"], Config()))
    run = run_of(doc)
    assert run["results"] == []
    assert run["invocations"][0]["executionSuccessful"] is True
    validate(doc)


def test_sarif_fingerprints_survive_inserted_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)

    def snapshot() -> tuple[dict[tuple[str, str, str], str], dict[str, list[int]]]:
        run = run_of(sarif_doc(lint_paths(["examples"], Config())))
        prints: dict[tuple[str, str, str], str] = {}
        lines: dict[str, list[int]] = {}
        for r in run["results"]:
            phys = r["locations"][0]["physicalLocation"]
            key = (r["ruleId"], phys["artifactLocation"]["uri"], r["message"]["text"])
            prints[key] = r["partialFingerprints"]["kvlint/v1"]
            lines.setdefault(phys["artifactLocation"]["uri"], []).append(phys["region"]["startLine"])
        return prints, lines

    before, lines_before = snapshot()
    target = tmp_path / "examples" / "apps" / "legacy" / "vm-erp.yaml"
    target.write_text("\n\n\n# moved\n\n" + target.read_text(encoding="utf-8"), encoding="utf-8")
    after, lines_after = snapshot()

    uri = "examples/apps/legacy/vm-erp.yaml"
    assert lines_after[uri] == [n + 5 for n in lines_before[uri]]

    # Messages mention line numbers ("KV101 (line 49)"), so compare by rule and file.
    def by_rule_file(p: dict[tuple[str, str, str], str]) -> list[tuple[str, str, str]]:
        return sorted((k[0], k[1], v) for k, v in p.items())

    assert by_rule_file(before) == by_rule_file(after)
    assert len(set(before.values())) == len(before)


def test_sarif_parse_error_is_a_notification(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: vm, labels: [a\n"
    )
    result = lint_paths(["bad.yaml"], Config())
    assert result.input_errors
    doc = sarif_doc(result)
    validate(doc)
    run = run_of(doc)
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["associatedRule"]["id"] == "KV901"
    rules = run["tool"]["driver"]["rules"]
    assert rules[note["associatedRule"]["index"]]["id"] == "KV901"
    assert "invalid YAML" in note["message"]["text"]
    phys = note["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"] == {"uri": "bad.yaml", "uriBaseId": "%SRCROOT%"}
    assert phys["region"]["startLine"] == 4
    # ... and a result too, so code scanning shows it on the file.
    [res] = run["results"]
    assert res["ruleId"] == "KV901" and res["level"] == "error"
    assert "logicalLocations" not in res["locations"][0]
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert "KV901" in {r["id"] for r in rules}


def test_sarif_internal_error_without_file_is_only_a_notification() -> None:
    f = Finding(
        rule="KV907",
        severity="error",
        message="internal error in check x: boom",
        fix="report it",
        location=Location("<run>", 1, 1, 1, 1),
    )
    doc = sarif_doc(hand_result(f, input_errors=True))
    validate(doc)
    run = run_of(doc)
    assert run["results"] == []  # GitHub rejects results without an artifact location
    [note] = run["invocations"][0]["toolExecutionNotifications"]
    assert note["associatedRule"]["id"] == "KV907" and "locations" not in note
    assert run["invocations"][0]["executionSuccessful"] is False


@pytest.mark.parametrize(
    ("kind", "sarif_kind"),
    [
        ("annotation", "inSource"),
        ("comment", "inSource"),
        ("config", "external"),
        ("baseline", "external"),
    ],
)
def test_sarif_suppressed_findings_stay_as_suppressed_results(examples: Result, kind: str, sarif_kind: str) -> None:
    target = examples.findings[0]
    target.suppressed = (kind, "accepted: migrated by hand")
    doc = sarif_doc(examples)
    validate(doc)
    results = run_of(doc)["results"]
    assert len(results) == len(examples.findings)
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 1
    [sup] = suppressed[0]["suppressions"]
    assert sup["kind"] == sarif_kind
    assert sup["justification"] == "accepted: migrated by hand"
    assert suppressed[0]["partialFingerprints"]["kvlint/v1"] == fingerprint(target)
    # The other formats drop (GitHub) or skip (JUnit) it.
    assert github.render(examples).count("\n") == len(examples.findings) - 1
    xml = ET.fromstring(junit.render(examples))
    assert sum("accepted: migrated by hand" in (sk.get("message") or "") for sk in xml.iter("skipped")) == 1


def test_sarif_fixes_hook() -> None:
    f = hand_finding(
        data={
            "fixes": [
                {
                    "file": "apps/vm.yaml",
                    "start_line": 14,
                    "start_column": 11,
                    "end_line": 14,
                    "end_column": 26,
                    "text": "[ReadWriteMany]",
                    "description": "request ReadWriteMany",
                },
                {  # an insertion: empty region
                    "file": "apps/vm.yaml",
                    "start_line": 3,
                    "start_column": 1,
                    "end_line": 3,
                    "end_column": 1,
                    "text": "  evictionStrategy: None\n",
                    "description": "shut down on drain",
                },
                {"file": "apps/vm.yaml", "start_line": 0, "text": "x"},  # malformed: skipped
                "not a dict",
            ]
        }
    )
    doc = sarif_doc(hand_result(f))
    validate(doc)
    [res] = run_of(doc)["results"]
    fixes = res["fixes"]
    assert len(fixes) == 2
    first = fixes[0]
    assert first["description"]["text"] == "request ReadWriteMany"
    [change] = first["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "apps/vm.yaml", "uriBaseId": "%SRCROOT%"}
    [rep] = change["replacements"]
    assert rep["deletedRegion"] == {
        "startLine": 14,
        "startColumn": 11,
        "endLine": 14,
        "endColumn": 26,
    }
    assert rep["insertedContent"]["text"] == "[ReadWriteMany]"
    insertion = fixes[1]["artifactChanges"][0]["replacements"][0]
    assert insertion["deletedRegion"] == {
        "startLine": 3,
        "startColumn": 1,
        "endLine": 3,
        "endColumn": 1,
    }


def test_sarif_uris_relative_to_root_and_outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "repo" / "sub dir").mkdir(parents=True)
    inside = hand_finding(location=Location("repo/sub dir/vm.yaml", 5, 3, 5, 9))
    outside = hand_finding(location=Location("elsewhere/vm.yaml", 5, 3, 5, 9))
    doc = sarif_doc(hand_result(inside, outside), root=tmp_path / "repo")
    validate(doc)
    run = run_of(doc)
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (tmp_path / "repo").as_uri() + "/"
    a, b = (r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"])
    assert a == {"uri": "sub%20dir/vm.yaml", "uriBaseId": "%SRCROOT%"}
    assert b == {"uri": (tmp_path / "elsewhere" / "vm.yaml").as_uri()}


def test_sarif_point_region_is_never_empty_or_inverted() -> None:
    point = hand_finding(location=Location("a.yaml", 7, 4, 7, 4))
    inverted = hand_finding(location=Location("a.yaml", 7, 4, 6, 1))
    run = run_of(sarif_doc(hand_result(point, inverted)))
    for res in run["results"]:
        region = res["locations"][0]["physicalLocation"]["region"]
        assert region == {"startLine": 7, "startColumn": 4, "endLine": 7, "endColumn": 5}


def test_sarif_output_is_deterministic(examples: Result) -> None:
    assert sarif.render(examples) == sarif.render(examples)


# -- JUnit --------------------------------------------------------------------------------


def test_junit_parses_and_counts_match(examples: Result) -> None:
    xml = ET.fromstring(junit.render(examples))
    assert xml.tag == "testsuites"
    findings = examples.findings
    # At or above the failure threshold (error): failures; warnings below it: skipped.
    failing = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity == "warning" and f.suppressed is None]
    suites = xml.findall("testsuite")
    assert [s.get("name") for s in suites] == sorted(s.get("name") or "" for s in suites)
    files_with_findings = {f.location.file for f in findings}
    assert files_with_findings <= {s.get("name") for s in suites}
    # Clean files linted alongside (e.g. the PVC file) show as one passing testcase each.
    clean = [s for s in suites if s.get("name") not in files_with_findings]
    assert "examples/apps/db/pvc.yaml" in {s.get("name") for s in clean}
    for s in clean:
        [case] = s.findall("testcase")
        assert case.find("failure") is None and s.get("tests") == "1"
    # Every file that holds a linted object or a finding (kustomizations and patches hold none).
    assert examples.inventory is not None
    holding = {o.file for o in examples.inventory.objects if not o.context_only or o.stub} | files_with_findings
    assert {s.get("name") for s in suites} == holding
    assert int(xml.get("tests") or 0) == len(findings) + len(clean)
    assert int(xml.get("failures") or 0) == len(failing)
    assert len(xml.findall(".//failure")) == len(failing)
    assert warnings
    warned = [sk for sk in xml.findall(".//skipped") if (sk.get("message") or "").startswith("warning (does not")]
    assert len(warned) == len(warnings)
    for s in suites:
        cases = s.findall("testcase")
        assert int(s.get("tests") or 0) == len(cases)
        assert int(s.get("failures") or 0) == len(s.findall(".//failure"))
    first = findings[0]
    case = suites[[s.get("name") for s in suites].index(first.location.file)].find("testcase")
    assert case is not None
    meta = catalog.load()[first.rule]
    assert case.get("classname") == f"{first.rule} {meta.name}"
    assert first.object is not None
    loc = first.location
    assert case.get("name") == f"{loc.file}:{loc.line}:{loc.column} {first.object.display()}"


def test_junit_failure_and_info_shapes_and_escaping() -> None:
    err = hand_finding(message='quotes " and <tags> & amps\nsecond line \x07 bell')
    info = hand_finding(rule="KV108", severity="info", message="copies local disks", reason=None)
    text = junit.render(hand_result(err, info), files=["apps/vm.yaml", "apps/clean.yaml"])
    xml = ET.fromstring(text)
    assert xml.get("tests") == "3" and xml.get("failures") == "1"
    suites = {s.get("name"): s for s in xml.findall("testsuite")}
    assert set(suites) == {"apps/vm.yaml", "apps/clean.yaml"}
    failure = suites["apps/vm.yaml"].find(".//failure")
    assert failure is not None
    assert failure.get("type") == "error"
    assert failure.get("message") == 'quotes " and <tags> & amps\nsecond line \\x07 bell'
    assert "use ReadWriteMany" in (failure.text or "")
    out = suites["apps/vm.yaml"].find(".//system-out")
    assert out is not None and "copies local disks" in (out.text or "")


def test_junit_fail_on_warning_makes_warnings_failures() -> None:
    warn = hand_finding(rule="KV202", severity="warning", message="w")
    default = ET.fromstring(junit.render(hand_result(warn)))
    assert default.get("failures") == "0" and default.find(".//skipped") is not None
    strict = ET.fromstring(junit.render(hand_result(warn), fail_on="warning"))
    assert strict.get("failures") == "1" and strict.find(".//failure").get("type") == "warning"  # type: ignore[union-attr]


JUNIT_XSD = ROOT / "tests" / "schemas" / "junit-10.xsd"


def test_junit_validates_against_the_common_schema(examples: Result) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    err = hand_finding(message='quotes " and <tags> & amps\nsecond line \x07 bell')
    warn = hand_finding(rule="KV202", severity="warning", message="w")
    info = hand_finding(rule="KV108", severity="info", message="i")
    for text in (
        junit.render(examples),
        junit.render(hand_result(err, warn, info), files=["apps/vm.yaml", "apps/clean.yaml"]),
        junit.render(hand_result()),
    ):
        schema.validate(text)
    # The schema is strict where it matters: the attributes other tools add are rejected.
    bad = junit.render(examples).replace("<testsuites ", '<testsuites skipped="0" ', 1)
    assert not schema.is_valid(bad)


# -- GitHub Actions -----------------------------------------------------------------------


def test_github_commands_and_escaping() -> None:
    f = hand_finding(
        message="50% of volumes: a, b\r\nand c",
        fix="set accessModes:\n  [ReadWriteMany]",
        location=Location("apps/a,b:c.yaml", 12, 7, 12, 30),
    )
    warn = hand_finding(rule="KV202", severity="warning", message="w")
    info = hand_finding(rule="KV108", severity="info", message="i")
    out = github.render(hand_result(f, warn, info)).splitlines()
    assert out[0] == (
        "::error file=apps/a%2Cb%3Ac.yaml,line=12,col=7,endLine=12,endColumn=30,"
        "title=KV101 pvc-not-shared::50%25 of volumes: a, b%0D%0Aand c. "
        "Fix: set accessModes:%0A  [ReadWriteMany]"
    )
    assert out[1].startswith("::warning file=apps/vm.yaml,line=12,")
    assert "title=KV202 " in out[1]
    assert out[2].startswith("::notice file=apps/vm.yaml,")
    assert len(out) == 3


def test_github_examples(examples: Result) -> None:
    lines = github.render(examples).splitlines()
    assert len(lines) == len(examples.findings)
    for f, line in zip(examples.findings, lines, strict=True):
        kind = {"error": "error", "warning": "warning", "info": "notice"}[f.severity]
        assert line.startswith(f"::{kind} file={f.location.file},line={f.location.line},col={f.location.column},")
        assert "\n" not in line and f",title={f.rule} " in line


# -- registration and CLI -----------------------------------------------------------------


def test_formats_registered(examples: Result) -> None:
    assert report.FORMATS == ("text", "json", "sarif", "junit", "github")
    for fmt in ("sarif", "junit", "github"):
        assert report.render(fmt, examples)


def test_cli_sarif_to_file_and_text_to_stdout(tmp_path: Path) -> None:
    out = tmp_path / "out.sarif"
    p = subprocess.run(
        [*kvlint_exe(), "lint", "--format", f"sarif:{out}", "--format", "text", "examples/"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert p.returncode == 1, p.stderr
    assert "problems" in p.stdout and "examples/apps/db/vm-db-2.yaml:36:9" in p.stdout
    assert not p.stdout.lstrip().startswith("{")
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate(doc)
    results = run_of(doc)["results"]
    assert results and all(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%" for r in results
    )


def test_cli_sarif_of_a_large_tree_carries_its_fixes(tmp_path: Path) -> None:
    # Enough files for a parallel run: SARIF fixes are worked out from every object in full,
    # so they must be there whatever --jobs says.
    from kvlint.runner import PARALLEL_MIN_FILES

    for i in range(-(-PARALLEL_MIN_FILES // 8) + 1):
        shutil.copytree(ROOT / "examples", tmp_path / f"c{i}")

    def fixes(*extra: str) -> int:
        p = subprocess.run(
            [*kvlint_exe(), "lint", "--no-config", "--format", "sarif", *extra, "."],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
        )
        assert p.returncode == 1, p.stderr
        return sum(1 for r in run_of(json.loads(p.stdout))["results"] if r.get("fixes"))

    one = fixes("--jobs", "1")
    assert one > 0
    assert fixes("--jobs", "2") == one


# -- JSON ---------------------------------------------------------------------------------


def _json_dumps_report(result: Result) -> str:
    from kvlint.report import json_report

    return json.dumps(json_report.document(result), indent=2, ensure_ascii=False) + "\n"


def test_json_report_is_json_dumps_of_the_document(examples: Result) -> None:
    """The report writes each finding from a template; the text is exactly the standard
    encoder's, for real findings and for every optional field left out."""
    from kvlint.report import json_report

    assert json_report.render(examples) == _json_dumps_report(examples)
    loc = Location('a/ü "q".yaml', 3, 7, 3, 9)
    odd = [
        Finding("KV101", "error", 'quote " tab \t newline \n é 😀', "", loc),
        Finding("KV102", "warning", "m", "fix\nlines", loc, reason="R", object=ObjectRef("v1", "PVC", None, "n")),
        Finding("KV103", "info", "m", "f", loc, object=ObjectRef("kubevirt.io/v1", "VirtualMachine", "ns", "x")),
        Finding("KV104", "error", "suppressed", "f", loc, suppressed=("annotation", "why")),
    ]
    for findings in ([], odd):
        res = Result(findings=findings, files=2, objects=3, input_errors=False)
        assert json_report.render(res) == _json_dumps_report(res)
    # A field of another type makes the template step aside for the generic encoder.
    res = Result(
        findings=[Finding("KV101", "error", "m", "f", Location("f", 1.5, 1, 1, 1))],  # type: ignore[arg-type]
        files=1,
        objects=1,
        input_errors=False,
    )
    assert json_report.render(res) == _json_dumps_report(res)


def test_sarif_reads_in_sarif_tools(examples: Result, tmp_path: Path) -> None:
    """A real SARIF client (sarif-tools) loads the report and counts what kvlint counts."""
    pytest.importorskip("sarif")
    path = tmp_path / "kvlint.sarif"
    path.write_text(sarif.render(examples), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "sarif", "summary", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    active = [f for f in examples.findings if f.suppressed is None]
    for level, severity in (("error", "error"), ("warning", "warning")):
        n = sum(1 for f in active if f.severity == severity)
        assert f"{level}: {n}" in proc.stdout, proc.stdout
    from sarif import loader

    loaded = loader.load_sarif_file(str(path))
    assert loaded.get_result_count() == len(examples.findings)  # suppressed ones are results too
