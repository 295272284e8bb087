"""MigrationPolicy matching, as KubeVirt's virt-controller chooses a policy for a migration
(``matchPolicy`` / ``countMatchingLabels``, pkg/virt-controller/watch/migration/migrationpolicy.go
at v1.4.0-v1.9.0, pkg/virt-controller/watch/migrationpolicy.go ``MatchPolicy`` at v1.0.0-v1.3.0;
the logic is the same at every one of these tags).

For each policy:
1. no ``spec.selectors`` -> no match;
2. every key=value of ``virtualMachineInstanceSelector`` must be among the VMI's labels
   (score = pairs matched), then every pair of ``namespaceSelector`` among the namespace's
   labels; KubeVirt compares strings;
3. empty selectors match everything with score 0.
Winner: highest vmi+ns score, then higher vmi score, then the smallest metadata.name.

**The labels matched are the running VMI's**, not the manifest's. KubeVirt matches when it
hands the migration to the target pod (``handleTargetPodHandoff``), on a copy of the VMI to
which it has just added ``kubevirt.io/migrationTargetNodeName`` (the target node); and
virt-controller added ``kubevirt.io/nodeName`` (the node the VMI runs on) when the VMI's pod
became ready (``updateStatus``, pkg/virt-controller/watch/vmi/lifecycle.go; vmi.go before
v1.6.0). So the VMI's label map is never nil when policies are matched: countMatchingLabels'
branch that skips the selectors for a VMI without labels is never taken, and a VM without
template labels matches only policies whose VMI selector is empty. The running labels are the
VM template's labels plus those two, whose values are node names kvlint cannot know: a
selector that requires a value of either key matches only on that node. Such a policy is
*conditional*: it is reported as such, never counted as a match, and a verdict that would
change if it applied says so (:attr:`PolicyMatch.conditional`).

Speed: policies are compiled once and indexed by one required pair each (a VMI label pair,
else a namespace label pair), so a workload is scored only against the policies that can
match it; results are shared by workloads with the same namespace labels and the same values
of the label keys the selectors use. ``match_reference`` is the straightforward matcher
(every policy scored), kept for the differential tests that hold the index to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kvlint.inventory import Inventory, K8sObject, Workload, as_dict, get

#: Labels virt-controller puts on every running VMI before matching (values: node names).
NODE_NAME = "kubevirt.io/nodeName"
TARGET_NODE_NAME = "kubevirt.io/migrationTargetNodeName"
NODE_LABELS = (NODE_NAME, TARGET_NODE_NAME)
_NODE_WHAT = {
    NODE_NAME: "the VMI runs on node {v}",
    TARGET_NODE_NAME: "the migration's target node is {v}",
}


@dataclass(slots=True)
class PolicyScore:
    policy: K8sObject
    matched: bool
    vmi_score: int = 0
    ns_score: int = 0
    #: Why it did not match, or on which node it matches.
    note: str = ""
    #: Node labels the policy requires (key -> value), when every other pair matches: it
    #: matches only on such a node (``matched`` is False; the scores are those it would get).
    requires_nodes: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.vmi_score + self.ns_score

    @property
    def conditional(self) -> bool:
        return bool(self.requires_nodes)

    def sort_key(self) -> tuple[int, int, str]:
        return (-self.total, -self.vmi_score, self.policy.name)


@dataclass(slots=True)
class PolicyMatch:
    winner: PolicyScore | None
    #: Matching policies that tie with the winner on both scores (decided by name only).
    ties: list[PolicyScore] = field(default_factory=list)
    #: Assumptions made (namespace labels not in view, the node the VMI runs on).
    assumptions: list[str] = field(default_factory=list)
    #: Every matching policy, best first.
    matched: list[PolicyScore] = field(default_factory=list)
    #: Conditional policies (see the module text) that would replace the winner on a node
    #: where they apply, best first.
    conditional: list[PolicyScore] = field(default_factory=list)
    #: Every conditional policy (matching on some node), best first.
    conditional_all: list[PolicyScore] = field(default_factory=list)
    _rank: Callable[[], list[PolicyScore]] | None = None
    _ranked: list[PolicyScore] | None = None

    @property
    def ranked(self) -> list[PolicyScore]:
        """Every policy in view: the winner, the other matches, the conditional ones, then
        the ones that do not match (with the reason). Computed on first use."""
        if self._ranked is None:
            self._ranked = self._rank() if self._rank is not None else list(self.matched + self.conditional_all)
        return self._ranked


METADATA_NAME = "kubernetes.io/metadata.name"


def namespace_labels(inv: Inventory, namespace: str) -> tuple[dict[str, str], bool]:
    """Labels of a namespace (with ``kubernetes.io/metadata.name``), and whether the
    Namespace object is in view."""
    ns_obj = inv.lookup("Namespace", "", namespace) if namespace else None
    labels: dict[str, str] = {}
    if ns_obj is not None:
        labels.update({str(k): str(v) for k, v in ns_obj.labels().items()})
    if namespace:
        labels[METADATA_NAME] = namespace
    return labels, ns_obj is not None


def _selector(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def kube_str(v: Any) -> str:
    # A non-string selector value is rejected by the API server; compare its text.
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _label_str(v: Any) -> str:
    return str(v)


VMI_MISMATCH = "virtualMachineInstanceSelector does not match the VMI labels"
NS_MISMATCH = "namespaceSelector does not match the namespace labels"
NO_SELECTORS = "spec.selectors is missing"


def node_condition(requires: dict[str, str]) -> str:
    """``requires`` (node label -> value) in words."""
    return " and ".join(_NODE_WHAT[k].format(v=v) for k, v in requires.items())


def score(policy: K8sObject, vmi_labels: dict[str, Any], ns_labels: dict[str, str]) -> PolicyScore:
    """The straightforward score of one policy for a running VMI with the template labels
    ``vmi_labels`` (see :func:`running_labels`) in a namespace with ``ns_labels``."""
    selectors = get(policy.data, "spec", "selectors")
    if not isinstance(selectors, dict):
        return PolicyScore(policy, False, note=NO_SELECTORS)
    vmi_n = ns_n = 0
    requires: dict[str, str] = {}
    vmi_sel = _selector(selectors.get("virtualMachineInstanceSelector"))
    for k_, v in (vmi_sel or {}).items():
        k, want = str(k_), kube_str(v)
        if k in NODE_LABELS:
            if want == "":  # a node name is never empty
                return PolicyScore(policy, False, note=f"{VMI_MISMATCH} ({k} is a node name, never empty)")
            requires[k] = want
        elif k not in vmi_labels or _label_str(vmi_labels[k]) != want:
            return PolicyScore(policy, False, note=VMI_MISMATCH)
        vmi_n += 1
    ns_sel = _selector(selectors.get("namespaceSelector"))
    for k, v in (ns_sel or {}).items():
        if ns_labels.get(str(k)) != kube_str(v):
            return PolicyScore(policy, False, note=NS_MISMATCH)
        ns_n += 1
    if requires:
        return PolicyScore(
            policy, False, vmi_n, ns_n, note=f"matches only when {node_condition(requires)}", requires_nodes=requires
        )
    return PolicyScore(policy, True, vmi_n, ns_n)


API_VERSION = "migrations.kubevirt.io/v1alpha1"


def policies(inv: Inventory) -> list[K8sObject]:
    """The MigrationPolicies the API server would serve: only ``migrations.kubevirt.io/v1alpha1``
    exists (an object with another version of the group is rejected and never matches), and an
    object without a name cannot be created."""
    return [p for p in inv.kind("MigrationPolicy") if p.api_version == API_VERSION and p.name]


def running_labels(w: Workload) -> dict[str, Any]:
    """The labels of ``w``'s running VMI that kvlint knows: the template's labels. The node
    labels virt-controller adds (:data:`NODE_LABELS`) are on it too, with values kvlint cannot
    know, so any value written for them in the template is left out (it is overwritten)."""
    labels = w.template_labels
    if not labels:
        return {}
    if NODE_NAME in labels or TARGET_NODE_NAME in labels or not all(type(k) is str for k in labels):
        # Keys as the API server stores them (strings), without the node labels.
        return {str(k): v for k, v in labels.items() if str(k) not in NODE_LABELS}
    return labels


#: Kept for callers of the earlier name.
vmi_labels = running_labels


def _uses_ns_assumption(selectors_ns_keys: Sequence[str]) -> bool:
    return any(k != METADATA_NAME for k in selectors_ns_keys)


def _ns_assumption(w: Workload) -> str:
    ns = w.obj.ns or "(unset)"
    return f"Namespace {ns} is not in view: only its kubernetes.io/metadata.name label is known"


def _node_assumption(s: PolicyScore, winner: PolicyScore | None) -> str:
    instead = f"instead of {winner.policy.name}" if winner is not None else "instead of no policy"
    return (
        f"MigrationPolicy {s.policy.name} matches only when {node_condition(s.requires_nodes)}; "
        f"the node is not knowable offline, so it is assumed not to apply (where it does, "
        f"it wins {instead})"
    )


def _decide(
    scores: list[PolicyScore],
    rank: Callable[[], list[PolicyScore]] | None,
    ns_assumption: str | None,
) -> PolicyMatch:
    matched = sorted((s for s in scores if s.matched), key=PolicyScore.sort_key)
    cond_all = sorted((s for s in scores if s.conditional), key=PolicyScore.sort_key)
    out = PolicyMatch(matched[0] if matched else None, matched=matched, conditional_all=cond_all, _rank=rank)
    if out.winner is not None:
        w0 = out.winner
        out.ties = [s for s in matched[1:] if (s.total, s.vmi_score) == (w0.total, w0.vmi_score)]
        out.conditional = [s for s in cond_all if s.sort_key() < w0.sort_key()]
    else:
        out.conditional = list(cond_all)
    if ns_assumption is not None:
        out.assumptions.append(ns_assumption)
    out.assumptions.extend(_node_assumption(s, out.winner) for s in out.conditional)
    return out


def match_reference(inv: Inventory, w: Workload, candidates: Sequence[K8sObject] | None = None) -> PolicyMatch:
    """The straightforward matcher: every policy scored for ``w``."""
    policies_in_view = list(candidates) if candidates is not None else policies(inv)
    labels = running_labels(w)
    ns_labels, ns_in_view = namespace_labels(inv, w.obj.ns)
    scores = [score(p, labels, ns_labels) for p in policies_in_view]
    uses_ns = any(
        _uses_ns_assumption(list(as_dict(as_dict(get(p.data, "spec", "selectors")).get("namespaceSelector"))))
        for p in policies_in_view
    )
    out = _decide(scores, None, _ns_assumption(w) if uses_ns and not ns_in_view else None)
    out._ranked = _full_rank(scores)
    return out


def _full_rank(scores: list[PolicyScore]) -> list[PolicyScore]:
    matched = sorted((s for s in scores if s.matched), key=PolicyScore.sort_key)
    cond = sorted((s for s in scores if s.conditional), key=PolicyScore.sort_key)
    others = sorted((s for s in scores if not s.matched and not s.conditional), key=lambda s: s.policy.name)
    return matched + cond + others


# --------------------------------------------------------------------------- the index


@dataclass(slots=True)
class _Compiled:
    policy: K8sObject
    #: Decidable pairs (key, value as KubeVirt compares it).
    vmi: tuple[tuple[str, str], ...]
    ns: tuple[tuple[str, str], ...]
    #: Node label pairs; a pair with an empty value can never match.
    nodes: tuple[tuple[str, str], ...]


class PolicyIndex:
    """The policies in view, compiled and indexed by one required pair each."""

    def __init__(self, candidates: Sequence[K8sObject]) -> None:
        self.policies = list(candidates)
        self.compiled: list[_Compiled] = []
        #: Policies without spec.selectors: they never match (kept for the full ranking).
        self.never: list[K8sObject] = []
        #: Policies every workload must be scored against (no decidable pair to index by).
        self.always: list[int] = []
        self.by_vmi: dict[tuple[str, str], list[int]] = {}
        self.by_ns: dict[tuple[str, str], list[int]] = {}
        self.vmi_keys: set[str] = set()
        self.uses_ns = False
        self.cache: dict[Any, PolicyMatch] = {}
        for p in self.policies:
            selectors = get(p.data, "spec", "selectors")
            if not isinstance(selectors, dict):
                self.never.append(p)
                continue
            vmi_sel = as_dict(selectors.get("virtualMachineInstanceSelector"))
            ns_sel = as_dict(selectors.get("namespaceSelector"))
            vmi = tuple((str(k), kube_str(v)) for k, v in vmi_sel.items() if k not in NODE_LABELS)
            nodes = tuple((str(k), kube_str(v)) for k, v in vmi_sel.items() if k in NODE_LABELS)
            ns = tuple((str(k), kube_str(v)) for k, v in ns_sel.items())
            i = len(self.compiled)
            self.compiled.append(_Compiled(p, vmi, ns, nodes))
            self.vmi_keys.update(k for k, _ in vmi)
            self.uses_ns = self.uses_ns or _uses_ns_assumption([k for k, _ in ns])
            if vmi:
                self.by_vmi.setdefault(min(vmi), []).append(i)
            elif ns:
                self.by_ns.setdefault(min(ns), []).append(i)
            else:
                self.always.append(i)

    def _score(self, c: _Compiled, labels: dict[str, Any], ns_labels: dict[str, str]) -> PolicyScore:
        for k, want in c.vmi:
            if k not in labels or _label_str(labels[k]) != want:
                return PolicyScore(c.policy, False, note=VMI_MISMATCH)
        for k, want in c.nodes:
            if want == "":
                return PolicyScore(c.policy, False, note=f"{VMI_MISMATCH} ({k} is a node name, never empty)")
        for k, want in c.ns:
            if ns_labels.get(k) != want:
                return PolicyScore(c.policy, False, note=NS_MISMATCH)
        vmi_n, ns_n = len(c.vmi) + len(c.nodes), len(c.ns)
        if c.nodes:
            requires = dict(c.nodes)
            return PolicyScore(
                c.policy,
                False,
                vmi_n,
                ns_n,
                note=f"matches only when {node_condition(requires)}",
                requires_nodes=requires,
            )
        return PolicyScore(c.policy, True, vmi_n, ns_n)

    def match(self, inv: Inventory, w: Workload) -> PolicyMatch:
        labels = running_labels(w)
        ns_labels, ns_in_view = namespace_labels(inv, w.obj.ns)
        key = (
            w.obj.ns,
            ns_in_view,
            tuple(sorted(ns_labels.items())) if ns_in_view else (),
            tuple(_label_str(labels[k]) if k in labels else None for k in sorted(self.vmi_keys)),
        )
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        seen: set[int] = set(self.always)
        for k, v in labels.items():
            found = self.by_vmi.get((k, _label_str(v)))
            if found:
                seen.update(found)
        if self.by_ns:
            for item in ns_labels.items():
                found = self.by_ns.get(item)
                if found:
                    seen.update(found)
        scores = [self._score(self.compiled[i], labels, ns_labels) for i in sorted(seen)]
        hits = [s for s in scores if s.matched or s.conditional]

        def rank() -> list[PolicyScore]:
            return _full_rank([score(p, labels, ns_labels) for p in self.policies])

        out = _decide(hits, rank, _ns_assumption(w) if self.uses_ns and not ns_in_view else None)
        if len(self.cache) < 100_000:
            self.cache[key] = out
        return out


_INDEX_ATTR = "_kvlint_policy_index"


def index(inv: Inventory, candidates: Sequence[K8sObject] | None = None) -> PolicyIndex:
    """The index of ``candidates`` (default: every policy in view), built once and kept on the
    inventory until the policies in view change."""
    store: dict[Any, tuple[Any, PolicyIndex, Any]] = vars(inv).setdefault(_INDEX_ATTR, {})
    objs: Sequence[K8sObject]
    slot: Any
    if candidates is None:
        objs, slot = inv.kind("MigrationPolicy"), "all"
    else:
        objs, slot = candidates, id(candidates)
    key = (len(objs), id(objs[0]) if objs else 0, id(objs[-1]) if objs else 0)
    found = store.get(slot)
    if found is not None and found[0] == key:
        return found[1]
    built = PolicyIndex(policies(inv) if candidates is None else candidates)
    if len(store) > 16:
        store.clear()
    # The stored entry holds the list the key was taken from (and so its objects), so the
    # ids in the key cannot be reused while it is stored.
    store[slot] = (key, built, objs)
    return built


def match(inv: Inventory, w: Workload, candidates: Sequence[K8sObject] | None = None) -> PolicyMatch:
    """The policy KubeVirt would choose for ``w``'s running VMI, among ``candidates`` (default:
    every policy in view; pass a narrower list to leave out policies the API server would
    reject). The result may be shared with workloads that match alike: do not change it."""
    return index(inv, candidates).match(inv, w)
