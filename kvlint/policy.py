"""MigrationPolicy matching, exactly as KubeVirt's virt-controller chooses a policy
(v1.9.0 pkg/virt-controller/watch/migration/migrationpolicy.go: ``matchPolicy`` /
``countMatchingLabels``).

For each policy:
1. no ``spec.selectors`` -> no match;
2. ``virtualMachineInstanceSelector`` is tested only when it is non-nil AND the VMI has a
   non-nil label map; every key=value must be on the VMI (score = pairs matched). Quirk: a
   VMI with no labels at all skips the test and matches with score 0;
3. ``namespaceSelector``, likewise only when non-nil and the VMI's label map is non-nil,
   against the namespace's labels;
4. empty selectors match everything with score 0.
Winner: highest vmi+ns score, then higher vmi score, then the smallest metadata.name.

The VMI labels are the VM template's labels; an empty map counts as no labels (the API server
drops ``labels: {}``), so the quirk of step 2 applies to it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kvlint.inventory import Inventory, K8sObject, Workload, as_dict, get


@dataclass(slots=True)
class PolicyScore:
    policy: K8sObject
    matched: bool
    vmi_score: int = 0
    ns_score: int = 0
    #: Why it did not match, or which assumption the match rests on.
    note: str = ""

    @property
    def total(self) -> int:
        return self.vmi_score + self.ns_score

    def sort_key(self) -> tuple[int, int, str]:
        return (-self.total, -self.vmi_score, self.policy.name)


@dataclass(slots=True)
class PolicyMatch:
    winner: PolicyScore | None
    #: Every policy in view, winner first, then the other matches, then non-matches.
    ranked: list[PolicyScore] = field(default_factory=list)
    #: Matching policies that tie with the winner on both scores (decided by name only).
    ties: list[PolicyScore] = field(default_factory=list)
    #: Assumptions made (e.g. namespace labels not in view).
    assumptions: list[str] = field(default_factory=list)


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


NO_LABELS_NOTE = "the VMI has no labels, so KubeVirt skips the selectors (matches with score 0)"


def _selector(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _count(selector: dict[str, Any], labels: dict[str, Any]) -> int | None:
    """Pairs matched, or None when any pair is missing (KubeVirt compares strings)."""
    n = 0
    for k, v in selector.items():
        if k not in labels or str(labels[k]) != _kube_str(v):
            return None
        n += 1
    return n


def _kube_str(v: Any) -> str:
    # A non-string selector value is rejected by the API server; compare its text.
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def score(policy: K8sObject, vmi_labels: dict[str, Any] | None, ns_labels: dict[str, str]) -> PolicyScore:
    selectors = get(policy.data, "spec", "selectors")
    if not isinstance(selectors, dict):
        return PolicyScore(policy, False, note="spec.selectors is missing")
    result = PolicyScore(policy, True)
    vmi_sel = _selector(selectors.get("virtualMachineInstanceSelector"))
    if vmi_sel is not None and vmi_labels is not None:
        n = _count(vmi_sel, vmi_labels)
        if n is None:
            return PolicyScore(policy, False, note="virtualMachineInstanceSelector does not match the VMI labels")
        result.vmi_score = n
    elif vmi_sel and vmi_labels is None:
        result.note = NO_LABELS_NOTE
    ns_sel = _selector(selectors.get("namespaceSelector"))
    if ns_sel is not None and vmi_labels is not None:
        n = _count(ns_sel, ns_labels)
        if n is None:
            return PolicyScore(policy, False, note="namespaceSelector does not match the namespace labels")
        result.ns_score = n
    elif ns_sel and vmi_labels is None and not result.note:
        result.note = NO_LABELS_NOTE
    return result


API_VERSION = "migrations.kubevirt.io/v1alpha1"


def policies(inv: Inventory) -> list[K8sObject]:
    """The MigrationPolicies the API server would serve: only ``migrations.kubevirt.io/v1alpha1``
    exists (an object with another version of the group is rejected and never matches), and an
    object without a name cannot be created."""
    return [p for p in inv.kind("MigrationPolicy") if p.api_version == API_VERSION and p.name]


def vmi_labels(w: Workload) -> dict[str, Any] | None:
    """The VMI's label map as KubeVirt sees it: ``labels: {}`` is dropped on the way through
    the API server (``omitempty``), so an empty map is the same as no labels (nil)."""
    return w.template_labels or None


def match(inv: Inventory, w: Workload, candidates: Sequence[K8sObject] | None = None) -> PolicyMatch:
    """The policy KubeVirt would choose for ``w``'s VMI, among ``candidates`` (default: every
    policy in view; pass a narrower list to leave out policies the API server would reject)."""
    policies_in_view = list(candidates) if candidates is not None else policies(inv)
    labels = vmi_labels(w)
    ns_labels, ns_in_view = namespace_labels(inv, w.obj.ns)
    scores = [score(p, labels, ns_labels) for p in policies_in_view]
    matched = sorted((s for s in scores if s.matched), key=PolicyScore.sort_key)
    others = sorted((s for s in scores if not s.matched), key=lambda s: s.policy.name)
    out = PolicyMatch(matched[0] if matched else None, matched + others)
    if out.winner is not None:
        w0 = out.winner
        out.ties = [s for s in matched[1:] if (s.total, s.vmi_score) == (w0.total, w0.vmi_score)]
    # Only a namespaceSelector key other than kubernetes.io/metadata.name (always known) rests on
    # an assumption, and only for a VMI with labels (otherwise the selector is skipped).
    uses_ns = labels is not None and any(
        k != METADATA_NAME
        for p in policies_in_view
        for k in as_dict(as_dict(get(p.data, "spec", "selectors")).get("namespaceSelector"))
    )
    if uses_ns and not ns_in_view:
        ns = w.obj.ns or "(unset)"
        out.assumptions.append(f"Namespace {ns} is not in view: only its kubernetes.io/metadata.name label is known")
    return out
