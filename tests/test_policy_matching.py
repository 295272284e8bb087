"""kvlint.policy against KubeVirt's matchPolicy / countMatchingLabels.

Each test builds an inventory from YAML and asks which MigrationPolicy KubeVirt would pick
for a VM, so the tie-breaking order and the running VMI's labels are pinned down
independently of the rules that report on them (KV511, KV512, KV514, KV520).
"""

from __future__ import annotations

import textwrap
from typing import Any

from kvlint import policy as pm
from kvlint.inventory import Inventory, Workload, build
from kvlint.parse import parse_text


def inventory(text: str) -> Inventory:
    pf = parse_text("test.yaml", textwrap.dedent(text))
    assert not pf.problems, pf.problems
    return build(pf.documents)


def policy(
    name: str,
    vmi: dict[str, str] | None = None,
    ns: dict[str, str] | None = None,
    selectors: bool = True,
    api_version: str = pm.API_VERSION,
) -> str:
    lines = [
        f"apiVersion: {api_version}",
        "kind: MigrationPolicy",
        f"metadata: {{name: {name}}}" if name else "metadata: {}",
        "spec:",
    ]
    if selectors:
        lines.append("  selectors:")
        if vmi is not None:
            lines.append(f"    virtualMachineInstanceSelector: {_flow(vmi)}")
        if ns is not None:
            lines.append(f"    namespaceSelector: {_flow(ns)}")
        if vmi is None and ns is None:
            lines[-1] = "  selectors: {}"
    else:
        lines.append("  allowPostCopy: true")
    return "\n".join(lines) + "\n---\n"


def _flow(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}: "{v}"' for k, v in labels.items()) + "}"


def vm(
    name: str = "pg", namespace: str = "apps", labels: dict[str, str] | None = None, empty_labels: bool = False
) -> str:
    meta = ""
    if labels is not None:
        meta = f"    metadata:\n      labels: {_flow(labels)}\n"
    elif empty_labels:
        meta = "    metadata:\n      labels: {}\n"
    return (
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\n"
        "spec:\n  template:\n" + meta + "    spec:\n      domain: {devices: {}}\n---\n"
    )


def namespace(name: str, labels: dict[str, str]) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels: {_flow(labels)}\n---\n"


def workload(inv: Inventory, name: str = "pg") -> Workload:
    return next(w for w in inv.workloads if w.obj.name == name)


def pick(text: str, name: str = "pg") -> pm.PolicyMatch:
    inv = inventory(text)
    return pm.match(inv, workload(inv, name))


def winner(m: pm.PolicyMatch) -> str | None:
    return m.winner.policy.name if m.winner else None


# --------------------------------------------------------------------------- choosing


def test_higher_total_wins() -> None:
    m = pick(
        policy("a-one", vmi={"app": "db"})
        + policy("z-two", vmi={"app": "db", "tier": "gold"})
        + vm(labels={"app": "db", "tier": "gold"})
    )
    assert winner(m) == "z-two"
    assert (m.winner.total, m.winner.vmi_score) == (2, 2)  # type: ignore[union-attr]
    assert m.ties == []
    assert [s.policy.name for s in m.ranked] == ["z-two", "a-one"]


def test_namespace_pairs_count_towards_the_total() -> None:
    m = pick(
        namespace("apps", {"env": "prod", "team": "a"})
        + policy("a-vmi", vmi={"app": "db"})
        + policy("b-ns", ns={"env": "prod", "team": "a"})
        + vm(labels={"app": "db"})
    )
    assert winner(m) == "b-ns"
    assert (m.winner.ns_score, m.winner.vmi_score) == (2, 0)  # type: ignore[union-attr]


def test_tie_on_total_higher_vmi_score_wins() -> None:
    # Both total 1: the VMI-label match beats the namespace-label match, whatever the names.
    m = pick(
        policy("a-namespace", ns={"kubernetes.io/metadata.name": "apps"})
        + policy("b-workload", vmi={"app": "db"})
        + vm(labels={"app": "db"})
    )
    assert winner(m) == "b-workload"
    assert m.ties == []


def test_tie_on_total_and_vmi_score_smallest_name_wins() -> None:
    m = pick(
        namespace("apps", {"env": "prod"})
        + policy("prod-db", vmi={"app": "db"}, ns={"env": "prod"})
        + policy("apps-gold", vmi={"tier": "gold"}, ns={"kubernetes.io/metadata.name": "apps"})
        + vm(labels={"app": "db", "tier": "gold"})
    )
    assert winner(m) == "apps-gold"
    assert [s.policy.name for s in m.ties] == ["prod-db"]


def test_full_tie_is_lexicographic_not_case_insensitive() -> None:
    # Go compares strings bytewise: "Zeta" < "alpha" < "beta".
    m = pick(
        policy("beta", vmi={"app": "db"})
        + policy("alpha", vmi={"app": "db"})
        + policy("Zeta", vmi={"app": "db"})
        + vm(labels={"app": "db"})
    )
    assert winner(m) == "Zeta"
    assert [s.policy.name for s in m.ties] == ["alpha", "beta"]


def test_every_pair_must_match() -> None:
    m = pick(
        policy("partial", vmi={"app": "db", "tier": "gold"})
        + policy("wrong-value", vmi={"app": "web"})
        + vm(labels={"app": "db"})
    )
    assert m.winner is None
    notes = {s.policy.name: s.note for s in m.ranked}
    assert "virtualMachineInstanceSelector" in notes["partial"]
    assert "virtualMachineInstanceSelector" in notes["wrong-value"]


def test_no_policies_no_winner() -> None:
    m = pick(vm(labels={"app": "db"}))
    assert m.winner is None and m.ranked == [] and m.ties == []


# --------------------------------------------------------------------------- the running VMI's labels


def test_vm_without_labels_is_matched_only_by_an_empty_vmi_selector() -> None:
    # The running VMI always carries kubevirt.io/nodeName and migrationTargetNodeName, so
    # countMatchingLabels evaluates the selectors: no label-less "score 0 for everyone".
    for labels, empty in ((None, False), (None, True)):
        m = pick(
            namespace("apps", {"env": "prod"})
            + policy("a-db", vmi={"workload-type": "db"})
            + policy("b-both", vmi={"a": "b"}, ns={"env": "prod"})
            + policy("c-prod", ns={"env": "prod"})
            + policy("d-catch-all")
            + vm(labels=labels, empty_labels=empty)
        )
        assert [s.policy.name for s in m.matched] == ["c-prod", "d-catch-all"]
        assert winner(m) == "c-prod" and m.winner.ns_score == 1  # type: ignore[union-attr]
        assert m.ties == [] and m.conditional == [] and m.assumptions == []
        notes = {s.policy.name: s.note for s in m.ranked}
        assert notes["a-db"] == pm.VMI_MISMATCH and notes["b-both"] == pm.VMI_MISMATCH


def test_vm_without_labels_and_only_vmi_selectors_gets_no_policy() -> None:
    m = pick(policy("db", vmi={"workload-type": "db"}) + policy("web", vmi={"app": "web"}) + vm(labels=None))
    assert m.winner is None and m.matched == [] and m.ties == []


def test_labelled_vmi_does_not_match_other_labels() -> None:
    m = pick(policy("db", vmi={"workload-type": "db"}) + vm(labels={"app": "web"}))
    assert m.winner is None


def test_node_name_selector_is_conditional_not_a_match() -> None:
    m = pick(
        policy("a-node", vmi={pm.NODE_NAME: "worker-1", "app": "db"})
        + policy("b-db", vmi={"app": "db"})
        + vm(labels={"app": "db"})
    )
    # Not knowable: the definite winner stays, and the conditional policy that would
    # replace it on worker-1 is named, with the assumption.
    assert winner(m) == "b-db"
    assert [s.policy.name for s in m.conditional] == ["a-node"]
    cond = m.conditional[0]
    assert not cond.matched and cond.requires_nodes == {pm.NODE_NAME: "worker-1"}
    assert (cond.vmi_score, cond.ns_score) == (2, 0)
    assert len(m.assumptions) == 1 and "worker-1" in m.assumptions[0] and "b-db" in m.assumptions[0]
    assert [s.policy.name for s in m.ranked] == ["b-db", "a-node"]


def test_node_selector_is_conditional_even_for_a_label_less_vm() -> None:
    m = pick(policy("to-big", vmi={pm.TARGET_NODE_NAME: "big-1"}) + vm(labels=None))
    assert m.winner is None
    assert [s.policy.name for s in m.conditional] == ["to-big"]
    assert "target node is big-1" in m.conditional[0].note


def test_node_selector_that_loses_anyway_is_not_reported() -> None:
    m = pick(
        policy("a-node", vmi={pm.NODE_NAME: "worker-1"})
        + policy("b-db", vmi={"app": "db", "tier": "gold"})
        + vm(labels={"app": "db", "tier": "gold"})
    )
    assert winner(m) == "b-db" and m.conditional == [] and m.assumptions == []
    assert [s.policy.name for s in m.conditional_all] == ["a-node"]


def test_template_node_labels_are_overwritten() -> None:
    # A value written in the template does not decide: virt-controller overwrites it.
    m = pick(policy("node", vmi={pm.NODE_NAME: "worker-1"}) + vm(labels={pm.NODE_NAME: "worker-1"}))
    assert m.winner is None and [s.policy.name for s in m.conditional] == ["node"]


def test_empty_node_name_never_matches() -> None:
    m = pick(policy("nowhere", vmi={pm.NODE_NAME: ""}) + vm(labels={"app": "db"}))
    assert m.winner is None and m.conditional == [] and m.conditional_all == []


def test_empty_selectors_match_everything_with_score_zero() -> None:
    for labels in ({"app": "web"}, None):
        m = pick(policy("catch-all") + vm(labels=labels))
        assert winner(m) == "catch-all"
        assert m.winner.total == 0 and m.winner.note == ""  # type: ignore[union-attr]
    # Both selectors present but empty: also a catch-all.
    text = (
        "apiVersion: migrations.kubevirt.io/v1alpha1\nkind: MigrationPolicy\n"
        "metadata: {name: empty-maps}\nspec:\n  selectors:\n"
        "    namespaceSelector: {}\n    virtualMachineInstanceSelector: {}\n---\n"
    )
    m = pick(text + vm(labels={"app": "web"}))
    assert winner(m) == "empty-maps" and m.winner.total == 0  # type: ignore[union-attr]


def test_catch_all_loses_to_any_real_match() -> None:
    m = pick(policy("aaa-catch-all") + policy("zzz-db", vmi={"app": "db"}) + vm(labels={"app": "db"}))
    assert winner(m) == "zzz-db"


def test_policy_without_selectors_never_matches() -> None:
    for labels in ({"app": "db"}, None):
        m = pick(policy("no-selectors", selectors=False) + vm(labels=labels))
        assert m.winner is None
        assert m.ranked[0].note == "spec.selectors is missing"


# --------------------------------------------------------------------------- namespaces


def test_namespace_selector_uses_namespace_labels_in_view() -> None:
    text = namespace("apps", {"env": "prod"}) + policy("prod", ns={"env": "prod"})
    m = pick(text + vm(labels={"app": "db"}))
    assert winner(m) == "prod" and m.winner.ns_score == 1  # type: ignore[union-attr]
    assert m.assumptions == []
    m = pick(text + vm(name="other", namespace="dev", labels={"app": "db"}), name="other")
    assert m.winner is None


def test_metadata_name_label_is_always_known() -> None:
    m = pick(policy("apps", ns={"kubernetes.io/metadata.name": "apps"}) + vm(labels={"app": "x"}))
    assert winner(m) == "apps" and m.winner.ns_score == 1  # type: ignore[union-attr]
    assert m.assumptions == []  # nothing had to be assumed
    # In view, the Namespace's own labels and kubernetes.io/metadata.name both count.
    m = pick(
        namespace("apps", {"env": "prod"})
        + policy("both", ns={"kubernetes.io/metadata.name": "apps", "env": "prod"})
        + vm(labels={"app": "x"})
    )
    assert winner(m) == "both" and m.winner.ns_score == 2  # type: ignore[union-attr]


def test_namespace_not_in_view_is_an_explicit_assumption() -> None:
    m = pick(policy("prod", ns={"env": "prod"}) + vm(labels={"app": "db"}))
    assert m.winner is None
    assert m.ranked[0].note.startswith("namespaceSelector")
    assert len(m.assumptions) == 1 and "Namespace apps is not in view" in m.assumptions[0]
    labels, in_view = pm.namespace_labels(inventory(vm()), "apps")
    assert labels == {"kubernetes.io/metadata.name": "apps"} and not in_view


def test_namespace_labels_in_view() -> None:
    labels, in_view = pm.namespace_labels(inventory(namespace("apps", {"env": "prod"})), "apps")
    assert in_view
    assert labels == {"env": "prod", "kubernetes.io/metadata.name": "apps"}


# --------------------------------------------------------------------------- which policies count


def test_only_v1alpha1_named_policies_take_part() -> None:
    m = pick(
        policy("aaa-wrong-version", vmi={"app": "db"}, api_version="migrations.kubevirt.io/v1")
        + policy("", vmi={"app": "db"})
        + policy("zzz-real", vmi={"app": "db"})
        + vm(labels={"app": "db"})
    )
    assert winner(m) == "zzz-real"
    assert [s.policy.name for s in m.ranked] == ["zzz-real"]


def test_candidates_narrow_the_choice() -> None:
    inv = inventory(policy("a", vmi={"app": "db"}) + policy("b", vmi={"app": "db"}) + vm(labels={"app": "db"}))
    b = [p for p in pm.policies(inv) if p.name == "b"]
    m = pm.match(inv, workload(inv), b)
    assert winner(m) == "b" and m.ties == []


# --------------------------------------------------------------------------- what the rules say


def _findings(text: str) -> list[Any]:
    from kvlint.runner import lint_text
    from tests.helpers import config_from

    return lint_text(textwrap.dedent(text), config_from(None), path="t.yaml").findings


SLOW_DB = """\
    apiVersion: kubevirt.io/v1
    kind: KubeVirt
    metadata: {name: kubevirt, namespace: kubevirt}
    spec:
      configuration:
        migrations: {completionTimeoutPerGiB: 150}
    ---
    apiVersion: migrations.kubevirt.io/v1alpha1
    kind: MigrationPolicy
    metadata: {name: slow}
    spec:
      selectors:
        virtualMachineInstanceSelector: SELECTOR
      bandwidthPerMigration: 4Mi
    ---
    apiVersion: kubevirt.io/v1
    kind: VirtualMachine
    metadata: {name: big, namespace: apps}
    spec:
      template:
        METADATA
        spec:
          domain:
            resources:
              requests: {memory: 64Gi}
            devices: {}
    """


def test_label_less_vm_does_not_get_a_policy_written_for_others() -> None:
    # Before: the label-less VM "matched" the slow policy, and KV417 reported an abort.
    text = SLOW_DB.replace("SELECTOR", "{tier: batch}").replace("METADATA", "metadata: {}")
    rules = {f.rule for f in _findings(text)}
    assert "KV417" not in rules and "KV513" not in rules
    assert "KV512" in rules  # the policy matches no VM in view
    # With the label, the policy applies and the budget fails.
    text = SLOW_DB.replace("SELECTOR", "{tier: batch}").replace("METADATA", "metadata: {labels: {tier: batch}}")
    (kv417,) = [f for f in _findings(text) if f.rule == "KV417"]
    assert kv417.severity == "warning"  # one pass is an estimate, not a bound


def test_node_dependent_policy_caps_kv417_and_is_reported_once() -> None:
    cluster = SLOW_DB.replace("SELECTOR", "{tier: batch}").replace("METADATA", "metadata: {labels: {tier: batch}}")
    node_policy = """\
    ---
    apiVersion: migrations.kubevirt.io/v1alpha1
    kind: MigrationPolicy
    metadata: {name: a-fast-node}
    spec:
      selectors:
        virtualMachineInstanceSelector: {tier: batch, kubevirt.io/nodeName: fast-1}
      bandwidthPerMigration: 10Gi
    """
    found = _findings(textwrap.dedent(cluster) + textwrap.dedent(node_policy))
    (kv417,) = [f for f in found if f.rule == "KV417"]
    assert kv417.severity == "warning" and "a-fast-node" in kv417.message
    (kv520,) = [f for f in found if f.rule == "KV520"]
    assert "fast-1" in kv520.message and "VirtualMachine apps/big" in kv520.message
    assert not [f for f in found if f.rule in ("KV511", "KV512") and "a-fast-node" in f.message]


def test_label_less_vms_tie_only_among_empty_vmi_selectors() -> None:
    text = (
        policy("a-db", vmi={"workload-type": "db"})
        + policy("b-all")
        + policy("c-all")
        + policy("d-ns", ns={"kubernetes.io/metadata.name": "apps"})
        + vm(labels=None)
    )
    # d-ns scores 1 (a namespace pair) and wins alone: no tie with the catch-alls.
    assert not [f for f in _findings(text) if f.rule == "KV511"]
    m = pick(text)
    assert winner(m) == "d-ns" and m.ties == []
    # Without it, the two catch-alls tie for the label-less VM (a-db never matches it).
    text = policy("a-db", vmi={"workload-type": "db"}) + policy("b-all") + policy("c-all") + vm(labels=None)
    (kv511,) = [f for f in _findings(text) if f.rule == "KV511"]
    assert "b-all, c-all" in kv511.message and "a-db" not in kv511.message
