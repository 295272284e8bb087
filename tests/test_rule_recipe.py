"""Adding a rule is its YAML, its check and its examples (CONTRIBUTING.md): every rule has
all three, and the facts code reads about a rule come from its YAML."""

from __future__ import annotations

from kvlint import catalog, checks
from kvlint.catalog import resource_dir


def test_every_rule_file_is_in_the_catalog() -> None:
    files = {p.stem for p in resource_dir("rules").glob("*.yaml")}
    assert files == set(catalog.load())


def test_every_rule_has_a_check_and_every_check_a_rule() -> None:
    rules = catalog.load()
    registered = {r for c in checks.load_all() for r in c.rules}
    # Input rules are reported by the reader and the engine, not by a check.
    by_reader = {rid for rid, meta in rules.items() if meta.area == "input"}
    # A retired rule keeps its document (its id is never reused) but has no check.
    retired = {rid for rid, meta in rules.items() if meta.retired}
    assert not registered & retired, sorted(registered & retired)
    by_reader |= retired
    assert set(rules) - by_reader <= registered, sorted(set(rules) - by_reader - registered)
    assert registered <= set(rules), sorted(registered - set(rules))


#: Rules no input can trigger on a correct kvlint (an internal error; tests force one).
NO_FAILING_INPUT = {"KV907"}


def test_every_rule_has_failing_and_passing_examples() -> None:
    for rid, meta in catalog.load().items():
        if meta.retired:
            continue  # (its document may keep examples that no longer fail)
        assert meta.examples.get("fail") or rid in NO_FAILING_INPUT, f"{rid}: no failing example"
        assert meta.examples.get("pass"), f"{rid}: no passing example"


def test_blocking_is_a_rule_fact() -> None:
    rules = catalog.load()
    assert rules["KV101"].blocks and rules["KV303"].blocks
    assert not rules["KV108"].blocks  # a local disk is copied: it does not block
    # What eviction reads: the fact lands on every finding of a blocking rule.
    from kvlint.runner import lint_text

    vmi = (
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata: {name: v, namespace: a}\n"
        "spec:\n  domain:\n    devices: {}\n    launchSecurity: {sev: {}}\n"
    )
    found = [f for f in lint_text(vmi).findings if f.rule == "KV303"]
    assert found and all(f.data.get("blocks") is True for f in found)


def test_rejecting_is_a_rule_fact() -> None:
    from kvlint.checks.policy import REJECTING

    rules = catalog.load()
    assert {rid for rid, meta in rules.items() if meta.rejects} == REJECTING
    assert {"KV501", "KV506"} <= REJECTING and "KV507" not in REJECTING
