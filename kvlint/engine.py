"""Run the checks over an inventory: rule selection, levels, sorting."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kvlint import catalog
from kvlint.config import Config
from kvlint.inventory import Cluster, Inventory, K8sObject, build, cluster_facts
from kvlint.models import SEVERITY_RANK, Finding, Location
from kvlint.parse import Document, ParsedFile, Path
from kvlint.storage import Resolver

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
        if obj.doc.path == "<stdin>":
            origin = obj.origin()
            if origin:
                message += f" (rendered from {origin})"
        f = Finding(
            rule=rule,
            severity=severity or meta.severity,
            message=message,
            fix=fix or meta.fix,
            location=obj.loc(path, key=key),
            reason=meta.reason,
            object=obj.ref(),
            related=tuple(related),
            data=data,
        )
        # Where the node sits in its document (for fixes): document index and full path.
        f.data["node"] = (obj.doc.index, obj.base + path)
        return f

    def for_object(self, obj: K8sObject) -> list[Finding]:
        """Findings of earlier phases on this object (indexed once per phase)."""
        if self._index_size != len(self.findings):
            index: dict[tuple[str, str, str | None, str], list[Finding]] = {}
            for f in self.findings:
                if f.object is not None:
                    o = f.object
                    index.setdefault((f.location.file, o.kind, o.namespace, o.name), []).append(f)
            self._index = index
            self._index_size = len(self.findings)
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


INPUT_RULE_SEVERITY_ERRORS = frozenset(("KV901", "KV903", "KV904", "KV905", "KV906"))


def _input_findings(files: Iterable[ParsedFile], rules: dict[str, catalog.RuleMeta]) -> list[Finding]:
    out = []
    for pf in files:
        for p in pf.problems:
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


def run(
    files: Sequence[ParsedFile],
    config: Config,
    context_docs: Iterable[Document] = (),
    read_errors: Sequence[Finding] = (),
    baseline: dict[str, int] | None = None,
    baseline_path: str | None = None,
    namespaces: dict[str, str] | None = None,
) -> Result:
    from kvlint import checks

    rules = catalog.load()
    docs = [d for pf in files for d in pf.documents]
    inv = build(docs, context_docs, namespaces)
    cluster = cluster_facts(inv, config.platform, config.kubevirt_version)
    ctx = Context(inv, cluster, config, rules, Resolver(inv, config))
    registry = checks.load_all()
    disabled = {rid for rid, level in config.rules.items() if level == "off"}

    findings: list[Finding] = list(read_errors) + _input_findings(files, rules)
    input_errors = any(f.severity == "error" for f in findings)
    for phase in (1, 2):
        produced: list[Finding] = []
        for chk in registry:
            if chk.phase != phase or all(r in disabled for r in chk.rules):
                continue
            if chk.scope == "workload":
                for w in inv.workloads:
                    if w.obj.context_only:
                        continue
                    produced.extend(_safe(ctx, chk.fn, w.obj, w))
            elif chk.scope == "object":
                for kind in chk.kinds:
                    for obj in inv.kind(kind):
                        if not obj.context_only:
                            produced.extend(_safe(ctx, chk.fn, obj, obj))
            else:
                produced.extend(_safe(ctx, chk.fn, None))
        produced = apply_levels(produced, config)
        ctx.findings.extend(produced)
    findings.extend(ctx.findings)
    from kvlint import suppress

    extra = suppress.apply(
        findings, files, inv, config, baseline, baseline_path,
        unused_meta_fix=rules[suppress.UNUSED_RULE].fix,
    )
    findings.extend(apply_levels(extra, config))
    if any(f.rule == INTERNAL_ERROR_RULE for f in findings):
        input_errors = True
    findings.sort(key=Finding.sort_key)
    return Result(
        findings=findings,
        files=len(files),
        objects=sum(1 for o in inv.objects if not o.context_only),
        input_errors=input_errors,
        cluster=cluster,
        inventory=inv,
        context=ctx,
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
