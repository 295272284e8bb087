"""``--format junit``: JUnit XML for GitLab, Jenkins and other CI test reports.

Valid against the common JUnit schema (Jenkins' ``junit-10.xsd``, which pytest also follows):

* one ``<testsuite>`` per file (``name`` = the file's path), in path order;
* one ``<testcase>`` per finding: ``classname`` = "KV101 pvc-not-shared",
  ``name`` = "path:line:col Kind namespace/name" (the schema has no file or line attribute);
* findings at or above the failure threshold (``--fail-on``, default error) are
  ``<failure type="error|warning" message="...">`` with the message, reason, object and fix
  hint as text: exactly what makes kvlint exit 1;
* warnings below the threshold are ``<skipped>`` with "warning (does not fail the run): ..."
  as the message, so CI shows them, as non-fatal; infos pass, with their text in
  ``<system-out>``; suppressed findings are ``<skipped>`` with the justification;
* a file without findings gets one passing testcase, so the suite count shows every
  linted file. The files come from ``files=`` when given, otherwise from the inventory
  (files that hold linted objects) plus the files that have findings.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from kvlint import catalog
from kvlint.engine import Result
from kvlint.models import SEVERITY_RANK, Finding

# Characters XML 1.0 cannot carry at all, even escaped.
_INVALID_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean(text: str) -> str:
    return _INVALID_XML_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _details(f: Finding) -> str:
    lines = [f.message]
    if f.reason:
        lines.append(f"reason: {f.reason}")
    if f.object is not None:
        lines.append(f"object: {f.object.display()}")
    if f.fix:
        lines.append("fix:")
        lines.extend(f"  {x}" for x in f.fix.splitlines())
    return "\n".join(lines)


def _case_name(f: Finding) -> str:
    loc = f.location
    name = f"{loc.file}:{loc.line}:{loc.column}"
    if f.object is not None:
        name += f" {f.object.display()}"
    return name


def _linted_files(result: Result) -> set[str]:
    inv = result.inventory
    if inv is None:
        return set()
    return {o.file for o in inv.objects if not o.context_only or o.stub}


def _set_counts(el: ET.Element, tests: int, failures: int, skipped: int | None) -> None:
    el.set("tests", str(tests))
    el.set("failures", str(failures))
    el.set("errors", "0")
    if skipped is not None:  # <testsuites> has no skipped attribute in the schema
        el.set("skipped", str(skipped))


def document(result: Result, files: Iterable[str] | None = None, fail_on: str = "error") -> ET.Element:
    rules = catalog.load()
    floor = SEVERITY_RANK.get(fail_on, SEVERITY_RANK["error"])
    by_file: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_file.setdefault(f.location.file, []).append(f)
    all_files = set(by_file) | (set(files) if files is not None else _linted_files(result))

    top = ET.Element("testsuites", {"name": "kvlint"})
    totals = [0, 0, 0]
    for path in sorted(all_files):
        suite = ET.SubElement(top, "testsuite", {"name": _clean(path)})
        findings = by_file.get(path, [])
        tests, failures, skipped = len(findings), 0, 0
        for f in findings:
            meta = rules.get(f.rule)
            case = ET.SubElement(
                suite,
                "testcase",
                {
                    "classname": _clean(f"{f.rule} {meta.name}" if meta else f.rule),
                    "name": _clean(_case_name(f)),
                },
            )
            details = _clean(_details(f))
            if f.suppressed is not None:
                kind, justification = f.suppressed
                reason = f"suppressed ({kind})" + (f": {justification}" if justification else "")
                ET.SubElement(case, "skipped", {"message": _clean(reason)})
                skipped += 1
            elif SEVERITY_RANK[f.severity] >= floor:
                failure = ET.SubElement(case, "failure", {"type": f.severity, "message": _clean(f.message)})
                failure.text = details
                failures += 1
            elif f.severity == "warning":
                message = f"warning (does not fail the run): {f.message}"
                ET.SubElement(case, "skipped", {"message": _clean(message)})
                ET.SubElement(case, "system-out").text = details
                skipped += 1
            else:
                ET.SubElement(case, "system-out").text = details
        if not findings:
            ET.SubElement(suite, "testcase", {"classname": "kvlint", "name": _clean(f"{path}: no problems")})
            tests = 1
        _set_counts(suite, tests, failures, skipped)
        totals[0] += tests
        totals[1] += failures
        totals[2] += skipped
    _set_counts(top, totals[0], totals[1], None)
    return top


def render(result: Result, files: Iterable[str] | None = None, fail_on: str = "error") -> str:
    top = document(result, files, fail_on)
    ET.indent(top)
    body = ET.tostring(top, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
