"""Suppressions of every kind, their reporting when unused, and baselines."""

from __future__ import annotations

from pathlib import Path

from kvlint.config import Config
from kvlint.runner import Options, lint_paths
from kvlint.suppress import write_baseline

VMI = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata:
  name: gpu
  namespace: lab{annotations}
spec:
  domain:
    devices:
      hostDevices:
      - {{name: acc, deviceName: example.com/ACC}}{trailing}
      interfaces: [{{name: default, masquerade: {{}}}}]
  networks: [{{name: default, pod: {{}}}}]
"""


def lint(tmp: Path, text: str, config: Config | None = None, baseline: str | None = None):  # type: ignore[no-untyped-def]
    f = tmp / "vmi.yaml"
    f.write_text(text)
    return lint_paths([str(f)], config or Config(), options=Options(baseline=baseline))


def states(res) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {f.rule: f.suppressed for f in res.findings}


def test_annotation(tmp_path: Path) -> None:
    ann = '\n  annotations:\n    kvlint.io/ignore: "KV301"\n    kvlint.io/ignore-reason: lab only'
    res = lint(tmp_path, VMI.format(annotations=ann, trailing=""))
    assert states(res)["KV301"] == ("annotation", "lab only")
    assert "KV908" not in states(res)


def test_trailing_comment(tmp_path: Path) -> None:
    res = lint(tmp_path, VMI.format(annotations="", trailing="  # kvlint: ignore=KV301 -- accepted"))
    assert states(res)["KV301"] == ("comment", "accepted")


def test_comment_on_the_line_above(tmp_path: Path) -> None:
    text = VMI.format(annotations="", trailing="").replace(
        "      - {name: acc", "      # kvlint: ignore=KV301 -- above\n      - {name: acc"
    )
    assert states(lint(tmp_path, text))["KV301"] == ("comment", "above")


def test_document_comment(tmp_path: Path) -> None:
    text = "# kvlint: ignore=KV301 -- whole document\n" + VMI.format(annotations="", trailing="")
    assert states(lint(tmp_path, text))["KV301"] == ("comment", "whole document")


def test_document_comment_covers_only_its_document(tmp_path: Path) -> None:
    one = VMI.format(annotations="", trailing="")
    text = "# kvlint: ignore=KV301\n" + one + "---\n" + one.replace("name: gpu", "name: gpu2")
    res = lint(tmp_path, text)
    kv301 = [f for f in res.findings if f.rule == "KV301"]
    assert [f.suppressed is not None for f in kv301] == [True, False]


def test_no_inline_suppressions(tmp_path: Path) -> None:
    ann = '\n  annotations:\n    kvlint.io/ignore: "KV301"'
    res = lint(
        tmp_path, VMI.format(annotations=ann, trailing="  # kvlint: ignore=KV301"), Config(inline_suppressions=False)
    )
    assert states(res)["KV301"] is None


def test_unused_comment_is_reported(tmp_path: Path) -> None:
    text = VMI.format(annotations="", trailing="").replace(
        "  networks:", "  networks:  # kvlint: ignore=KV201 -- stale"
    )
    res = lint(tmp_path, text)
    unused = [f for f in res.findings if f.rule == "KV908"]
    assert len(unused) == 1 and "KV201" in unused[0].message


def test_baseline_roundtrip_and_fixed_entries(tmp_path: Path) -> None:
    text = VMI.format(annotations="", trailing="")
    first = lint(tmp_path, text)
    bl = tmp_path / "baseline.json"
    n = write_baseline(str(bl), first.findings)
    assert n >= 1
    # Lines move: the baseline still matches.
    moved = "# a comment\n\n" + text
    again = lint(tmp_path, moved, baseline=str(bl))
    assert all(f.suppressed == ("baseline", "in the baseline") for f in again.findings if f.rule != "KV908")
    assert not [f for f in again.findings if f.rule == "KV908"]
    # The problem is fixed: the entry is reported as fixed.
    fixed = lint(
        tmp_path,
        text.replace("      hostDevices:\n      - {name: acc, deviceName: example.com/ACC}\n", ""),
        baseline=str(bl),
    )
    stale = [f for f in fixed.findings if f.rule == "KV908"]
    assert stale and all(f.location.file == str(bl) for f in stale)
