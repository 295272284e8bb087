"""Run the checks over an inventory: rule selection, levels, sorting."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kvlint import catalog
from kvlint.config import Config
from kvlint.inventory import WORKLOAD_KINDS, Cluster, Inventory, K8sObject, Loader, Workload, build, cluster_facts
from kvlint.manifest import NOT_A_MANIFEST
from kvlint.messages import fit_first_line
from kvlint.models import SEVERITY_RANK, Finding, Location, RunNotes
from kvlint.parse import Document, ParsedFile, Path
from kvlint.storage import Resolver
from kvlint.vmi import relocate

INTERNAL_ERROR_RULE = "KV907"


@dataclass
class Context:
    """What a check can see, and how it reports."""

    inv: Inventory
    cluster: Cluster
    config: Config
    rules: dict[str, catalog.RuleMeta]
    resolver: Resolver
    findings: list[Finding] = field(default_factory=list)
    _index: dict[tuple[str, str, str | None, str], list[Finding]] = field(default_factory=dict)
    _index_size: int = -1

    def finding(
        self,
        rule: str,
        obj: K8sObject,
        path: Path,
        message: str,
        *,
        fix: str | None = None,
        severity: str | None = None,
        related: Sequence[Location] = (),
        key: bool = True,
        **data: Any,
    ) -> Finding:
        meta = self.rules[rule]
        if meta.blocks:
            data["blocks"] = True
        if obj.doc.path == "<stdin>":
            origin = obj.origin()
            if origin:
                message += f" (rendered from {origin})"
        f = Finding(
            rule=rule,
            severity=severity or meta.severity,
            message=fit_first_line(message),
            fix=fix or meta.fix,
            location=obj.loc(path, key=key),
            reason=meta.reason,
            object=obj.ref(),
            related=tuple(related),
            data=data,
        )
        # Where the node sits in its document (for fixes): document index and full path.
        f.data["node"] = (obj.doc.index, obj.base + path)
        if obj.workload is not None:
            relocate(f, obj, path)  # a value an instancetype or preference supplied
        return f

    def for_object(self, obj: K8sObject) -> list[Finding]:
        """Findings of earlier phases on this object (``findings`` only grows: the index
        takes in what was added since the last call)."""
        n = len(self.findings)
        if self._index_size != n:
            if self._index_size < 0 or self._index_size > n:
                self._index, self._index_size = {}, 0
            index = self._index
            for f in self.findings[self._index_size :]:
                if f.object is not None:
                    o = f.object
                    # (a finding relocated to an instancetype still belongs to its VM's file)
                    file = f.data.get("object_file") or f.location.file
                    index.setdefault((file, o.kind, o.namespace, o.name), []).append(f)
            self._index_size = n
        return self._index.get((obj.file, obj.kind, obj.namespace, obj.name), [])


@dataclass
class Result:
    findings: list[Finding]
    files: int
    objects: int
    #: Input could not be read or parsed (exit code 2).
    input_errors: bool
    cluster: Cluster | None = None
    inventory: Inventory | None = None
    context: Context | None = None
    #: Context read, files skipped (shown by every output format).
    notes: RunNotes = field(default_factory=RunNotes)
    #: What each linted file held when it was read (only with fix facts recorded).
    stamps: dict[str, str] = field(default_factory=dict)


def _input_findings(files: Iterable[ParsedFile], rules: dict[str, catalog.RuleMeta]) -> list[Finding]:
    out = []
    for pf in files:
        for p in pf.problems:
            if p.rule == NOT_A_MANIFEST:
                continue
            meta = rules[p.rule]
            out.append(
                Finding(
                    rule=p.rule,
                    severity=meta.severity,
                    message=p.message,
                    fix=meta.fix,
                    location=Location(pf.path, p.line, p.column, p.line, p.column),
                    reason=None,
                )
            )
    return out


def apply_levels(findings: list[Finding], config: Config) -> list[Finding]:
    if not config.rules:
        return findings
    out = []
    for f in findings:
        level = config.rules.get(f.rule)
        if level == "off":
            continue
        if level in SEVERITY_RANK:
            f.severity = level
        out.append(f)
    return out


class _Watched(Inventory):
    """The inventory as checks see it: counts the reads of workloads, so that the engine
    can tell which object checks depend on the workloads in view (see ``Run.early``)."""

    workload_reads: int = 0

    @property
    def workloads(self) -> list[Workload]:
        self.workload_reads += 1
        return super().workloads

    def lookup(self, kind: str, namespace: str, name: str) -> K8sObject | None:
        if kind in WORKLOAD_KINDS:
            self.workload_reads += 1
        return super().lookup(kind, namespace, name)

    def kind(self, kind: str) -> list[K8sObject]:
        if kind in WORKLOAD_KINDS:
            self.workload_reads += 1
        return super().kind(kind)


class Run:
    """One lint run over an inventory, in steps (``kvlint.shard`` drives them):

    1. ``early()``: the phase-1 checks of the objects other than workloads, with no linted
       workload in view yet; a call that reads the workloads is set aside for step 3;
    2. ``check_workloads()``, batch after batch: the workload checks of both phases;
    3. ``late()``: with every workload's summary in view, the calls set aside in step 1 and
       the inventory checks of phase 1, then phase 2 of the objects other than workloads;
    4. ``finish()``: input findings, suppressions, sorting.

    No check declares when it runs: a call that reads the workloads in view simply runs
    once they are all there.
    """

    def __init__(
        self,
        files: Sequence[ParsedFile],
        config: Config,
        context_docs: Iterable[Document] = (),
        namespaces: dict[str, str] | None = None,
        stub_docs: Iterable[Document] = (),
        lazy: dict[tuple[str, str], list[Loader]] | None = None,
    ) -> None:
        from kvlint import checks

        self.files = files
        self.config = config
        self.rules = catalog.load()
        docs = [d for pf in files for d in pf.documents]
        inv = build(docs, context_docs, namespaces, stub_docs, lazy)
        inv.__class__ = _Watched
        self.inv: _Watched = inv  # type: ignore[assignment]
        self.cluster = cluster_facts(
            self.inv, config.platform, config.kubevirt_version, config.openshift_virtualization
        )
        self.ctx = Context(self.inv, self.cluster, config, self.rules, Resolver(self.inv, config))
        self.registry = checks.load_all()
        self.disabled = {rid for rid, level in config.rules.items() if level == "off"}
        self.held: list[Finding] = []
        #: Workload objects checked by ``check_workloads`` and kept in full (``id``).
        self.checked: set[int] = set()
        #: Phase-1 calls of step 1 that read the workloads, by check: (object, argument).
        self._deferred: dict[int, list[tuple[K8sObject, Any]]] = {}
        self._by_phase: dict[int, list[tuple[Any, bool]]] = {}
        #: Called with the findings of each batch of workloads (``check_workloads``) while
        #: the batch is in view in full: fix facts are recorded then.
        self.on_batch: Callable[[Run, Sequence[K8sObject], list[Finding]], None] | None = None

    def _enabled(self, phase: int) -> list[tuple[int, Any]]:
        return [
            (i, chk)
            for i, chk in enumerate(self.registry)
            if chk.phase == phase and not all(r in self.disabled for r in chk.rules)
        ]

    def _subjects(self, chk: Any) -> list[tuple[K8sObject, Any]]:
        """(object, argument) of each call of a check outside ``check_workloads``: neither
        context objects nor workloads checked on their own (the workloads met here are
        items of a List)."""
        inv = self.inv
        checked = self.checked
        if chk.scope == "workload":
            # (loaded_workloads: lazy context stubs are never checked)
            return [(w.obj, w) for w in inv.loaded_workloads if not w.obj.context_only and id(w.obj) not in checked]
        if chk.scope == "object":
            # (not inv.kind(): that loads lazy context)
            found = [obj for kind in chk.kinds for obj in inv.by_kind.get(kind, ())]
        else:
            found = inv.objects
        return [(obj, obj) for obj in found if not obj.context_only and id(obj) not in checked]

    def early(self) -> list[Finding]:
        """Step 1; returns what it found (also added to the context)."""
        inv, ctx = self.inv, self.ctx
        produced: list[Finding] = []
        for i, chk in self._enabled(1):
            if chk.scope == "inventory":
                continue
            for obj, arg in self._subjects(chk):
                before = inv.workload_reads
                found = _safe(ctx, chk.fn, obj, arg)
                if inv.workload_reads != before:
                    self._deferred.setdefault(i, []).append((obj, arg))
                else:
                    produced.extend(found)
        produced = apply_levels(produced, self.config)
        ctx.findings.extend(produced)
        return produced

    def late(self) -> None:
        """Step 3 (every workload is in view, in full or as its summary)."""
        ctx = self.ctx
        for phase in (1, 2):
            produced: list[Finding] = []
            for i, chk in self._enabled(phase):
                if chk.scope == "inventory":
                    produced.extend(_safe(ctx, chk.fn, None))
                    continue
                calls = self._deferred.get(i, []) if phase == 1 else self._subjects(chk)
                for obj, arg in calls:
                    produced.extend(_safe(ctx, chk.fn, obj, arg))
            ctx.findings.extend(apply_levels(produced, self.config))
        self._deferred = {}

    def check_workloads(self, objects: Sequence[K8sObject]) -> None:
        """Step 2: check some workload objects on their own (phases 1 and 2), then take them
        out of the inventory again: the caller puts their summaries (or, to keep them, the
        objects themselves) in view before ``late()``. Their phase-2 findings go to
        ``held``: the caller adds them after ``late()``."""
        inv, ctx = self.inv, self.ctx
        first = len(inv.loaded_workloads)
        seen = (len(ctx.findings), len(self.held))
        for obj in objects:
            inv.add(obj)
        mine = inv.loaded_workloads[first:]
        for phase in (1, 2):
            # (check, its argument, the object it is about): "each" checks take the object,
            # workload checks the workload.
            calls: list[tuple[Any, Any, K8sObject]] = []
            for fn, each in self._workload_checks(phase):
                if each:
                    calls += [(fn, obj, obj) for obj in objects]
                else:
                    calls += [(fn, w, w.obj) for w in mine]
            produced: list[Finding] = []
            try:
                # The common case, without a guard per call (checks only read the inventory,
                # so running them again below is harmless).
                for fn, arg, _ in calls:
                    produced.extend(fn(ctx, arg))
            except Exception:  # noqa: BLE001 - a faulty check: again, one call at a time
                produced = []
                for fn, arg, about in calls:
                    produced.extend(_safe(ctx, fn, about, arg))
            produced = apply_levels(produced, self.config)
            (ctx.findings if phase == 1 else self.held).extend(produced)
        if self.on_batch is not None:
            self.on_batch(self, objects, ctx.findings[seen[0] :] + self.held[seen[1] :])
        for obj in reversed(objects):
            inv.pop(obj)

    def _workload_checks(self, phase: int) -> list[tuple[Any, bool]]:
        """The enabled checks of one phase that run on workloads: (function, scope is each)."""
        cached = self._by_phase.get(phase)
        if cached is None:
            cached = self._by_phase[phase] = [
                (chk.fn, chk.scope == "each")
                for chk in self.registry
                if chk.phase == phase
                and chk.scope in ("workload", "each")
                and not all(r in self.disabled for r in chk.rules)
            ]
        return cached

    def finish(
        self,
        read_errors: Sequence[Finding] = (),
        baseline: dict[str, int] | None = None,
        baseline_path: str | None = None,
    ) -> Result:
        """Input findings, suppressions, sorting."""
        from kvlint import suppress

        findings: list[Finding] = list(read_errors) + _input_findings(self.files, self.rules)
        input_errors = any(f.severity == "error" for f in findings)
        findings.extend(self.ctx.findings)
        extra = suppress.apply(
            findings,
            self.files,
            self.inv,
            self.config,
            baseline,
            baseline_path,
            unused_meta_fix=self.rules[suppress.UNUSED_RULE].fix,
        )
        findings.extend(apply_levels(extra, self.config))
        if any(f.rule == INTERNAL_ERROR_RULE for f in findings):
            input_errors = True
        findings.sort(key=Finding.sort_key)
        skipped = [pf.path for pf in self.files if any(p.rule == NOT_A_MANIFEST for p in pf.problems)]
        return Result(
            findings=findings,
            files=len(self.files) - len(skipped),
            objects=sum(1 for o in self.inv.objects if not o.context_only or o.stub),
            input_errors=input_errors,
            cluster=self.cluster,
            inventory=self.inv,
            context=self.ctx,
            notes=RunNotes(skipped=skipped),
        )


def _safe(ctx: Context, fn: Any, obj: K8sObject | None, *args: Any) -> list[Finding]:
    """Run one check; an internal error becomes a KV907 finding on that object."""
    try:
        return list(fn(ctx, *args))
    except Exception as e:  # noqa: BLE001 - one faulty check must not stop the run
        name = getattr(fn, "__name__", "check")
        if obj is None:
            loc = Location("<run>", 1, 1, 1, 1)
            ref = None
        else:
            loc = obj.loc(())
            ref = obj.ref()
        return [
            Finding(
                rule=INTERNAL_ERROR_RULE,
                severity="error",
                message=f"internal error in check {name}: {type(e).__name__}: {e}; other rules still ran",
                fix=ctx.rules[INTERNAL_ERROR_RULE].fix,
                location=loc,
                object=ref,
            )
        ]


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    threshold = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK[f.severity] >= threshold and f.suppressed is None for f in findings)
