"""KV7xx: eviction strategy and node drain.

Runs in phase 2: it reads the blockers that phase-1 rules found on each workload.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kvlint.checks import workload
from kvlint.inventory import Setting, Workload
from kvlint.models import Finding

if TYPE_CHECKING:
    from kvlint.engine import Context


def effective_eviction(ctx: Context, w: Workload) -> tuple[Setting, bool]:
    """The eviction strategy that applies, and whether the template sets it explicitly."""
    value = w.spec.get("evictionStrategy")
    if isinstance(value, str):
        return Setting(value, w.obj, w.sp("evictionStrategy")), True
    return ctx.cluster.eviction_strategy, False


def blockers(ctx: Context, w: Workload) -> tuple[list[Finding], list[Finding]]:
    """(certain, possible) migration blockers found on this workload."""
    certain, possible = [], []
    for f in ctx.for_object(w.obj):
        if not f.data.get("blocks"):
            continue
        if f.severity == "error":
            certain.append(f)
        elif f.severity == "warning":
            possible.append(f)
    return certain, possible


def _summary(found: list[Finding]) -> str:
    parts = []
    for f in found[:4]:
        parts.append(f"{f.rule} {f.reason or ''}".strip() + f" (line {f.location.line})")
    more = f" and {len(found) - 4} more" if len(found) > 4 else ""
    return "; ".join(parts) + more


@workload("KV701", "KV702", phase=2)
def eviction_vs_migratability(ctx: Context, w: Workload) -> Iterator[Finding]:
    strategy, explicit = effective_eviction(ctx, w)
    certain, possible = blockers(ctx, w)
    if not certain and not possible:
        return
    where = "set on the VM" if explicit else f"cluster default: {strategy.origin()}"
    path = w.sp("evictionStrategy") if explicit else w.spec_path
    related = [f.location for f in (certain or possible)[:4]]
    if not explicit and strategy.source is not None:
        # The deciding fact sits in the cluster CR: give it as a related location.
        label = f"cluster evictionStrategy {strategy.value}"
        if strategy.note:
            label += f" ({strategy.note})"
        related.append(strategy.source.loc(strategy.path, label=label))
    # Blockers that leave the VMI LiveMigratable=True but make every target pod
    # unschedulable (pinning): the drain starts migrations that can never run.
    condition = [f for f in certain if not f.data.get("scheduling")]
    scheduling = [f for f in certain if f.data.get("scheduling")]
    if scheduling and not condition and strategy.value in ("LiveMigrate", "LiveMigrateIfPossible"):
        rule = "KV701" if strategy.value == "LiveMigrate" else "KV702"
        sev = "warning" if strategy.assumed or rule == "KV702" else "error"
        yield ctx.finding(
            rule,
            w.obj,
            path,
            f"evictionStrategy {strategy.value} ({where}) on a VM whose migration target can never "
            f"be scheduled ({_summary(scheduling)}): KubeVirt still counts it as migratable, so a "
            "node drain starts evacuation migrations that stay unschedulable, fail after 5 "
            "minutes and are retried: the drain hangs",
            severity=sev,
            related=related,
        )
        return
    if strategy.value == "LiveMigrate":
        if certain:
            sev = "warning" if strategy.assumed else "error"
            msg = (
                f"evictionStrategy LiveMigrate ({where}) on a VM that cannot live-migrate "
                f"({_summary(certain)}): the eviction webhook denies every eviction of its pod, "
                "so node drains block forever"
            )
            if strategy.assumed:
                msg += " (the strategy is an assumed platform default; set it or --platform to be sure)"
        else:
            sev = "warning"
            msg = (
                f"evictionStrategy LiveMigrate ({where}) on a VM that may not live-migrate "
                f"({_summary(possible)}): if it cannot, node drains block"
            )
        yield ctx.finding("KV701", w.obj, path, msg, severity=sev, related=related)
    elif strategy.value == "LiveMigrateIfPossible" and condition:
        yield ctx.finding(
            "KV702",
            w.obj,
            path,
            f"evictionStrategy LiveMigrateIfPossible ({where}) on a VM that cannot live-migrate "
            f"({_summary(condition)}): on a node drain it is shut down instead of migrated",
            related=related,
        )
