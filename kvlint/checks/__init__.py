"""Check registry.

A check is a function that *yields* findings (built with ``ctx.finding``). Checks are
registered with the rule ids they may report, and with what they run over:

* ``workload``: once per VM / VMI / pool / replica set (``fn(ctx, workload)``),
* ``object``: once per object of the given kinds (``fn(ctx, obj)``),
* ``each``: once per linted object of any kind (``fn(ctx, obj)``),
* ``inventory``: once per run (``fn(ctx)``).

Phase 2 checks run after phase 1 and see its findings (``ctx.findings``), after rule
levels from the configuration were applied.

Workloads are checked in batches (``engine.Run.check_workloads``), after the phase-1 checks
of the other objects and before the inventory checks. A phase-1 ``object`` or ``each`` call
that reads the workloads in view (``ctx.inv.workloads``, a lookup or listing of a VM or
VMI kind) runs after every workload was checked, with their summaries in view (see
``inventory.stub_document``): the engine notices the read, nothing to declare. So a
workload check may read the findings of the workload itself and those of the other
objects' phase-1 checks that do not read workloads, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kvlint.models import Finding

CheckFn = Callable[..., Iterable["Finding"]]


@dataclass(frozen=True, slots=True)
class Check:
    fn: CheckFn
    rules: tuple[str, ...]
    scope: str
    kinds: tuple[str, ...] = ()
    phase: int = 1


REGISTRY: list[Check] = []


def workload(*rules: str, phase: int = 1) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        REGISTRY.append(Check(fn, rules, "workload", phase=phase))
        return fn

    return deco


def objects(kinds: Iterable[str], *rules: str, phase: int = 1) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        REGISTRY.append(Check(fn, rules, "object", tuple(kinds), phase=phase))
        return fn

    return deco


def each(*rules: str, phase: int = 1) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        REGISTRY.append(Check(fn, rules, "each", phase=phase))
        return fn

    return deco


def inventory(*rules: str, phase: int = 1) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        REGISTRY.append(Check(fn, rules, "inventory", phase=phase))
        return fn

    return deco


_LOADED = False


def load_all() -> list[Check]:
    """Import every check module of this package (registration happens at import) and
    return the registry. New areas only add a module here; nothing else to edit."""
    global _LOADED
    if not _LOADED:
        import importlib
        import pkgutil

        for mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
            importlib.import_module(f"{__name__}.{mod}")
        _LOADED = True
    return REGISTRY
