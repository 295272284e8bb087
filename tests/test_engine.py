"""Engine behaviour: a failing check is contained, levels apply, output is sorted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kvlint import checks
from kvlint.checks import Check
from kvlint.config import Config
from kvlint.runner import lint_text

VMI = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {name: a, namespace: apps}
spec:
  domain:
    devices:
      hostDevices: [{name: h, deviceName: x/y}]
      interfaces: [{name: default, masquerade: {}}]
  networks: [{name: default, pod: {}}]
"""


def test_internal_error_is_reported_and_other_rules_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: object, w: object) -> Iterator[object]:
        raise RuntimeError("boom")
        yield  # pragma: no cover

    registry = checks.load_all()
    monkeypatch.setattr(checks, "REGISTRY", [Check(broken, ("KV101",), "workload"), *registry])
    res = lint_text(VMI)
    rules = {f.rule for f in res.findings}
    assert "KV907" in rules and "KV301" in rules
    assert res.input_errors  # exit code 2
    err = next(f for f in res.findings if f.rule == "KV907")
    assert "boom" in err.message and err.object is not None


def test_internal_error_in_a_streamed_run(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Workloads checked file by file (the CLI's single process) contain a failing check too.
    from kvlint import report
    from kvlint.runner import Options, lint_paths

    def broken(ctx: object, w: object) -> Iterator[object]:
        raise RuntimeError("boom")
        yield  # pragma: no cover

    (tmp_path / "vmi.yaml").write_text(VMI)
    registry = checks.load_all()
    monkeypatch.setattr(checks, "REGISTRY", [Check(broken, ("KV101",), "workload"), *registry])
    streamed = lint_paths([str(tmp_path)], Config(), options=Options())
    assert {"KV907", "KV301"} <= {f.rule for f in streamed.findings}
    held = lint_paths([str(tmp_path)], Config(), options=Options(keep=True))
    assert report.render("json", streamed) == report.render("json", held)


def test_rule_levels_from_config() -> None:
    res = lint_text(VMI, Config(rules={"KV301": "warning"}))
    assert {f.severity for f in res.findings if f.rule == "KV301"} == {"warning"}
    res = lint_text(VMI, Config(rules={"KV301": "off"}))
    assert "KV301" not in {f.rule for f in res.findings}


def test_non_kubernetes_yaml_is_skipped_quietly() -> None:
    res = lint_text("foo: bar\nlist: [1, 2]\n")
    assert res.findings == [] and res.objects == 0


def test_null_everywhere_does_not_crash() -> None:
    text = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: null\nspec:\n  template:\n    spec:\n      domain: null\n      volumes: [null, {name: x, persistentVolumeClaim: null}]\n      networks: null\n"
    res = lint_text(text)
    assert "KV907" not in {f.rule for f in res.findings}
