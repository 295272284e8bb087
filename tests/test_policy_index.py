"""The policy index (kvlint.policy.match) against the straightforward matcher
(kvlint.policy.match_reference, every policy scored) on generated clusters: the same winner,
ties, scores, conditional (node-dependent) policies and assumptions, for every workload."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvlint import policy as pm
from kvlint.inventory import build
from kvlint.parse import parse_text

KEYS = ["app", "tier", "env", pm.NODE_NAME, pm.TARGET_NODE_NAME]
VALUES = ["a", "b", "", "worker-1"]
NAMESPACES = ["ns1", "ns2", "ns3"]
NS_KEYS = ["env", "team", pm.METADATA_NAME]

labels_st = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)
ns_labels_st = st.dictionaries(st.sampled_from(NS_KEYS), st.sampled_from(VALUES + NAMESPACES), max_size=2)
selector_st = st.one_of(st.none(), labels_st)
ns_selector_st = st.one_of(st.none(), ns_labels_st)
policy_st = st.tuples(
    st.sampled_from(["p", "q", "Zed", "alpha", "p2", "a-b"]),
    st.sampled_from(["full", "empty", "none"]),  # selectors given, `selectors: {}`, no selectors
    selector_st,
    ns_selector_st,
)
workload_st = st.tuples(
    st.sampled_from(NAMESPACES),
    st.one_of(st.none(), st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=4)),
    st.sampled_from(["VirtualMachine", "VirtualMachineInstance"]),
)


def _doc(d: dict[str, Any]) -> str:
    return json.dumps(d) + "\n---\n"


def _text(policies: list[Any], workloads: list[Any], namespaces: dict[str, dict[str, str]]) -> str:
    out = []
    seen: set[str] = set()
    for i, (name, kind, vmi, ns) in enumerate(policies):
        name = name if name not in seen else f"{name}-{i}"
        seen.add(name)
        spec: dict[str, Any] = {"allowPostCopy": True}
        if kind == "empty":
            spec["selectors"] = {}
        elif kind == "full":
            sel: dict[str, Any] = {}
            if vmi is not None:
                sel["virtualMachineInstanceSelector"] = vmi
            if ns is not None:
                sel["namespaceSelector"] = ns
            spec["selectors"] = sel
        out.append(
            _doc(
                {
                    "apiVersion": pm.API_VERSION,
                    "kind": "MigrationPolicy",
                    "metadata": {"name": name},
                    "spec": spec,
                }
            )
        )
    for ns, labels in namespaces.items():
        out.append(_doc({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}))
    for i, (ns, labels, kind) in enumerate(workloads):
        meta: dict[str, Any] = {"name": f"w{i}", "namespace": ns}
        if kind == "VirtualMachine":
            template: dict[str, Any] = {"spec": {"domain": {"devices": {}}}}
            if labels is not None:
                template["metadata"] = {"labels": labels}
            body = {"spec": {"template": template}}
        else:
            if labels is not None:
                meta["labels"] = labels
            body = {"spec": {"domain": {"devices": {}}}}
        out.append(_doc({"apiVersion": "kubevirt.io/v1", "kind": kind, "metadata": meta, **body}))
    return "".join(out)


def _view(m: pm.PolicyMatch) -> dict[str, Any]:
    def sc(s: pm.PolicyScore) -> tuple[str, int, int, bool, tuple[tuple[str, str], ...]]:
        return (s.policy.name, s.vmi_score, s.ns_score, s.matched, tuple(sorted(s.requires_nodes.items())))

    return {
        "winner": sc(m.winner) if m.winner else None,
        "ties": [sc(s) for s in m.ties],
        "matched": [sc(s) for s in m.matched],
        "conditional": [sc(s) for s in m.conditional],
        "conditional_all": [sc(s) for s in m.conditional_all],
        "assumptions": m.assumptions,
        "ranked": [sc(s) for s in m.ranked],
        "notes": [(s.policy.name, s.note) for s in m.ranked if s.matched or s.conditional],
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policies=st.lists(policy_st, max_size=8),
    workloads=st.lists(workload_st, min_size=1, max_size=6),
    namespaces=st.dictionaries(st.sampled_from(NAMESPACES[:2]), ns_labels_st, max_size=2),
)
def test_index_agrees_with_the_straightforward_matcher(
    policies: list[Any], workloads: list[Any], namespaces: dict[str, dict[str, str]]
) -> None:
    pf = parse_text("gen.yaml", _text(policies, workloads, namespaces))
    assert not pf.problems, pf.problems
    inv = build(pf.documents)
    all_policies = pm.policies(inv)
    narrower = all_policies[::2]
    for w in inv.workloads:
        for candidates in (None, narrower):
            fast = pm.match(inv, w, candidates)
            slow = pm.match_reference(inv, w, candidates)
            assert _view(fast) == _view(slow), (w.obj.name, candidates is None)
            # The full ranking holds every policy once.
            want = len(all_policies) if candidates is None else len(narrower)
            assert len(fast.ranked) == want
        # Asked again (shared result), still the same answer.
        assert _view(pm.match(inv, w)) == _view(pm.match_reference(inv, w))


def test_the_index_scores_only_policies_that_can_match() -> None:
    text = _text(
        [("db", "full", {"app": "db"}, None), ("web", "full", {"app": "web"}, None), ("all", "empty", None, None)]
        + [(f"team-{i}", "full", None, {"team": f"t{i}"}) for i in range(50)],
        [("ns1", {"app": "db"}, "VirtualMachine")],
        {"ns1": {"team": "t7"}},
    )
    inv = build(parse_text("gen.yaml", text).documents)
    idx = pm.index(inv)
    assert idx is pm.index(inv)  # built once
    w = inv.workloads[0]
    assert sorted(s.policy.name for s in idx.match(inv, w).matched) == ["all", "db", "team-7"]
    # Indexed by one required pair each: db by app=db, team-7 by team=t7; `all` has none.
    assert [idx.compiled[i].policy.name for i in idx.always] == ["all"]
    assert len(idx.by_ns) == 50 and len(idx.by_vmi) == 2


def test_the_index_follows_the_policies_in_view() -> None:
    text = _text([("db", "full", {"app": "db"}, None)], [("ns1", {"app": "db"}, "VirtualMachine")], {})
    inv = build(parse_text("gen.yaml", text).documents)
    w = inv.workloads[0]
    first = pm.index(inv)
    assert [s.policy.name for s in pm.match(inv, w).matched] == ["db"]
    more = build(parse_text("more.yaml", _text([("all", "empty", None, None)], [], {})).documents)
    for obj in more.kind("MigrationPolicy"):
        inv.add(obj)
    assert pm.index(inv) is not first
    assert [s.policy.name for s in pm.match(inv, w).matched] == ["db", "all"]
    # A narrower candidate list has an index of its own.
    only_all = [p for p in pm.policies(inv) if p.name == "all"]
    assert [s.policy.name for s in pm.match(inv, w, only_all).matched] == ["all"]
    assert [s.policy.name for s in pm.match(inv, w).matched] == ["db", "all"]
