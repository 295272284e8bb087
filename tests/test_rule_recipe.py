"""Adding a rule is its YAML, its check and its examples (CONTRIBUTING.md): every rule has
all three, and the facts code reads about a rule come from its YAML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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


def test_input_and_ownership_facts_are_rule_facts() -> None:
    ids = catalog.ids_with
    rules = catalog.load()
    assert ids("notification") == {f"KV90{i}" for i in range(1, 8)}
    assert ids("unsuppressible") == {"KV901", "KV902", "KV905", "KV906", "KV907", "KV908", "KV909"}
    assert ids("stops_fix") == {"KV901", "KV902", "KV904", "KV905"}
    assert ids("spoils_fix") == {"KV901", "KV903", "KV904", "KV905"}
    for fact in ("notification", "unsuppressible", "stops_fix", "spoils_fix"):
        assert all(rules[rid].area == "input" for rid in ids(fact)), fact
    owners = ids("owns_schema")
    assert {"KV106", "KV208"} <= owners
    assert {rid for rid in rules if rid[:3] in ("KV4", "KV5", "KV6")} <= owners
    assert not {rid for rid in owners if rid[:3] in ("KV3", "KV8", "KV9")}


def test_a_rule_file_carries_its_facts(tmp_path: Path) -> None:
    p = tmp_path / "KV999.yaml"
    p.write_text(
        "id: KV999\nname: x\narea: input\nseverity: error\nsummary: s\nwhy: w\nfix: f\n"
        "notification: true\nsuppressible: false\nstops_fix: true\nspoils_fix: true\nowns_schema: true\n",
        encoding="utf-8",
    )
    meta = catalog._load_one(p)  # noqa: SLF001 - one file, outside the catalog
    assert meta.notification and not meta.suppressible and meta.stops_fix and meta.spoils_fix
    assert meta.owns_schema
    p.write_text("id: KV999\nname: x\nseverity: info\nsummary: s\nwhy: w\nfix: f\n", encoding="utf-8")
    meta = catalog._load_one(p)  # noqa: SLF001
    assert meta.suppressible and not (meta.notification or meta.stops_fix or meta.spoils_fix or meta.owns_schema)
    with pytest.raises(ValueError, match="unknown rule fact"):
        catalog.ids_with("no-such-fact")


#: Where rule facts used to be written in code: they read them from the catalog now.
FACT_READERS = ("report/sarif.py", "engine.py", "suppress.py", "checks/schema.py", "fix")
#: Two input rule ids in one literal collection, or rule ids matched by prefix.
ID_SET = re.compile(r'"KV9\d\d"\s*,\s*"KV9\d\d"|f"KV9|startswith\(\s*\(\s*"KV|startswith\("KV9"\)')


def test_no_rule_id_sets_in_the_modules_that_read_rule_facts() -> None:
    root = Path(catalog.__file__).resolve().parent
    files: list[Path] = []
    for name in FACT_READERS:
        p = root / name
        files.extend(sorted(p.glob("*.py")) if p.is_dir() else [p])
    assert len(files) > 5
    for p in files:
        text = p.read_text(encoding="utf-8")
        m = ID_SET.search(text)
        assert m is None, f"{p.name}: {m.group(0) if m else ''}"


def test_the_catalog_reads_every_entry_but_the_examples_the_same_as_the_whole_file() -> None:
    """A run loads the rule files without their examples (read on first use): what it
    reads equals the whole file's reading, key for key, and the examples match too."""
    import yaml

    for path in sorted(resource_dir("rules").glob("KV*.yaml")):
        text = path.read_text(encoding="utf-8")
        whole = yaml.safe_load(text)
        part = yaml.safe_load(catalog._without_later_keys(text))
        assert part == {k: v for k, v in whole.items() if k not in catalog._LATER_KEYS}, path.name
        assert catalog.load()[path.stem].examples == (whole.get("examples") or {}), path.name


def test_leaving_out_the_examples_keeps_the_other_keys_in_any_order() -> None:
    text = "id: KV0\nexamples:\n  fail:\n  - yaml: |\n      kind: VM\nfixable: safe\nfix_examples:\n- a\nname: x\n"
    assert catalog._without_later_keys(text) == "id: KV0\nfixable: safe\nname: x\n"
    assert catalog._without_later_keys("# c\nid: KV0\n") == "# c\nid: KV0\n"
