"""``kvlint explain``: everything kvlint knows about one VM's migratability.

Lints PATHS like ``kvlint lint`` (same options for platform, version and cluster state), then
prints, for one VM / VMI / pool / replica set: the verdict, every blocker (rule, KubeVirt
reason, location), the storage resolution chain of each volume, the MigrationPolicy match,
the effective migration settings with their origin, the eviction strategy and the migration
time budget. The JSON shape is documented in docs/explain.md.
"""

from __future__ import annotations

import difflib
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from kvlint.cli import EXIT_OK, EXIT_USAGE, build_run, common_options

if TYPE_CHECKING:
    from kvlint.effective import Effective, TimeBudget
    from kvlint.engine import Context
    from kvlint.inventory import Setting, Workload
    from kvlint.models import Finding

#: JSON document version of ``kvlint explain --format json`` (docs/explain.md).
EXPLAIN_VERSION = 1

KIND_ALIASES = {
    "vm": "VirtualMachine",
    "vms": "VirtualMachine",
    "virtualmachine": "VirtualMachine",
    "vmi": "VirtualMachineInstance",
    "vmis": "VirtualMachineInstance",
    "virtualmachineinstance": "VirtualMachineInstance",
    "vmpool": "VirtualMachinePool",
    "pool": "VirtualMachinePool",
    "virtualmachinepool": "VirtualMachinePool",
    "vmirs": "VirtualMachineInstanceReplicaSet",
    "virtualmachineinstancereplicaset": "VirtualMachineInstanceReplicaSet",
}

KIND_SHORT = {v: k for k, v in reversed(list(KIND_ALIASES.items()))}


# -- finding the workload --------------------------------------------------------------


def _key(w: Workload) -> str:
    ns = w.obj.namespace or ""
    return f"{KIND_SHORT.get(w.obj.kind, w.obj.kind)}/{ns}/{w.obj.name}"


def find(workloads: list[Workload], target: str) -> tuple[list[Workload], str | None]:
    """Workloads matching TARGET (``NAMESPACE/NAME``, ``KIND/NAMESPACE/NAME`` or ``NAME``),
    or an error text for a TARGET that has none of these forms."""
    parts = target.split("/")
    if any(not p for p in parts) or len(parts) > 3:
        return [], f"{target!r} is not NAMESPACE/NAME, KIND/NAMESPACE/NAME or NAME"
    if len(parts) == 3:
        kind = KIND_ALIASES.get(parts[0].lower(), parts[0])
        return [
            w
            for w in workloads
            if w.obj.kind == kind and (w.obj.namespace or "") == parts[1] and w.obj.name == parts[2]
        ], None
    if len(parts) == 2:
        ns, name = parts
        hits = [w for w in workloads if (w.obj.namespace or "") == ns and w.obj.name == name]
        alias = KIND_ALIASES.get(ns.lower())
        if not hits and alias is not None:
            hits = [w for w in workloads if w.obj.kind == alias and w.obj.name == name]
        return hits, None
    return [w for w in workloads if w.obj.name == target], None


def _where(w: Workload) -> str:
    loc = w.obj.loc(())
    return f"{loc.file}:{loc.line}"


# -- gathering -------------------------------------------------------------------------


@dataclass
class Explanation:
    ctx: Context
    w: Workload
    verdict: str
    certain: list[Finding]
    possible: list[Finding]
    others: list[Finding]
    volumes: list[dict[str, Any]]
    eff: Effective
    eviction: Setting
    eviction_explicit: bool


def explain_workload(ctx: Context, w: Workload) -> Explanation:
    from kvlint.checks.eviction import blockers, effective_eviction
    from kvlint.effective import effective

    certain, possible = blockers(ctx, w)
    blocking = {id(f) for f in certain + possible}
    others = [f for f in ctx.for_object(w.obj) if id(f) not in blocking]
    verdict = "not migratable" if certain else ("unknown" if possible else "migratable")
    strategy, explicit = effective_eviction(ctx, w)
    return Explanation(
        ctx,
        w,
        verdict,
        sorted(certain, key=_fkey),
        sorted(possible, key=_fkey),
        sorted(others, key=_fkey),
        _volumes(ctx, w),
        effective(ctx.inv, ctx.cluster, w),
        strategy,
        explicit,
    )


def _fkey(f: Finding) -> tuple[int, int, str]:
    return (f.location.line, f.location.column, f.rule)


def _volumes(ctx: Context, w: Workload) -> list[dict[str, Any]]:
    from kvlint.checks.storage import LOCAL_SOURCES, claim_name
    from kvlint.effective import block_migration_volumes
    from kvlint.inventory import enumerate_dicts

    local = {v.split(" (", 1)[0] for v in block_migration_volumes(w)}
    out: list[dict[str, Any]] = []
    for i, vol in enumerate_dicts(w.spec.get("volumes")):
        name = vol.get("name")
        loc = w.obj.loc(w.sp("volumes", i))
        entry: dict[str, Any] = {
            "name": name,
            "source": None,
            "claim": None,
            "accessModes": None,
            "volumeMode": None,
            "shared": None,
            "chain": [],
            "migration": None,
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
        }
        ref = claim_name(vol)
        if ref is not None:
            source, claim = ref
            acc = ctx.resolver.claim(w, claim)
            entry.update(
                source=source,
                claim=claim,
                accessModes=list(acc.modes) if acc.modes is not None else None,
                volumeMode=acc.volume_mode,
                shared=acc.shared,
                chain=[s.as_dict() for s in acc.steps],
            )
            if acc.shared is True:
                entry["migration"] = "shared (ReadWriteMany): migrated in place"
            elif acc.shared is False:
                entry["migration"] = "not shared: blocks live migration (DisksNotLiveMigratable)"
            else:
                entry["migration"] = f"unknown: {acc.unknown}"
        elif isinstance(vol.get("hostDisk"), dict):
            entry["source"] = "hostDisk"
            shared = vol["hostDisk"].get("shared") is True
            entry["shared"] = shared
            entry["migration"] = (
                "shared hostDisk: migrated in place" if shared else "hostDisk not marked shared: blocks live migration"
            )
        else:
            entry["source"] = next((s for s in LOCAL_SOURCES if s in vol), None) or next(
                (k for k in vol if k != "name"), None
            )
            entry["migration"] = (
                "local: copied to the target (block migration)"
                if name in local
                else "not copied (read-only cdrom or virtiofs filesystem)"
            )
        out.append(entry)
    return out


def _on_drain(strategy: str | None, verdict: str) -> str:
    if strategy == "LiveMigrate":
        return {
            "migratable": "the eviction starts an evacuation migration",
            "not migratable": "the eviction is denied: a node drain blocks on this VM",
            "unknown": "an evacuation migration if the VM can migrate, else the drain blocks",
        }[verdict]
    if strategy == "LiveMigrateIfPossible":
        return {
            "migratable": "the eviction starts an evacuation migration",
            "not migratable": "the VM is shut down (its pod is evicted)",
            "unknown": "migrated if it can be, else shut down",
        }[verdict]
    if strategy == "External":
        return "the eviction is denied; an external controller must move the VM"
    return "the VM is shut down (its pod is evicted); runStrategy decides whether it restarts"


# -- JSON -------------------------------------------------------------------------------


def _finding_dict(f: Finding) -> dict[str, Any]:
    d = f.as_dict()
    d["related"] = [{"file": r.file, "line": r.line, "column": r.column, "label": r.label} for r in f.related]
    d["suppressed"] = None if f.suppressed is None else {"kind": f.suppressed[0], "reason": f.suppressed[1]}
    return d


def _setting_dict(s: Setting) -> dict[str, Any]:
    from kvlint.effective import origin

    value = s.value
    if isinstance(value, (set, frozenset)):
        value = sorted(value)
    out: dict[str, Any] = {"value": value, "source": origin(s), "assumed": s.assumed}
    if s.source is not None:
        loc = s.source.loc(s.path)
        out.update(file=loc.file, line=loc.line, column=loc.column)
    return out


def document(x: Explanation) -> dict[str, Any]:
    from kvlint.effective import origin

    cl = x.ctx.cluster
    pm = x.eff.policy
    tie_names = {s.policy.name for s in pm.ties}

    def score(s: Any) -> dict[str, Any]:
        return {
            "name": s.policy.name,
            "matched": s.matched,
            "conditional": s.conditional,
            "requiresNodes": dict(s.requires_nodes),
            "vmiScore": s.vmi_score,
            "namespaceScore": s.ns_score,
            "total": s.total,
            "tie": s.policy.name in tie_names,
            "note": s.note or None,
        }

    loc = x.w.obj.loc(())
    return {
        "version": EXPLAIN_VERSION,
        "object": {**x.w.obj.ref().as_dict(), "file": loc.file, "line": loc.line},
        "platform": {
            "name": cl.platform,
            "source": cl.platform_source,
            "kubevirtVersion": f"{cl.version[0]}.{cl.version[1]}",
        },
        "verdict": x.verdict,
        "blockers": [_finding_dict(f) for f in x.certain + x.possible],
        "volumes": x.volumes,
        "policy": {
            "winner": score(pm.winner) if pm.winner is not None else None,
            "candidates": [score(s) for s in pm.ranked],
            "ties": [s.policy.name for s in pm.ties],
            "assumptions": list(pm.assumptions),
            "conditional": [s.policy.name for s in pm.conditional],
        },
        "settings": {name: _setting_dict(s) for name, s in x.eff.settings.items()},
        "settingsNotes": list(x.eff.notes),
        "eviction": {
            **_setting_dict(x.eviction),
            "source": ("set on the workload: " if x.eviction_explicit else "cluster: ") + origin(x.eviction),
            "explicit": x.eviction_explicit,
            "onDrain": _on_drain(x.eviction.value if isinstance(x.eviction.value, str) else None, x.verdict),
        },
        "timeBudget": {**x.eff.budget.as_dict(), "summary": budget_summary(x.eff.budget)},
        "otherFindings": [_finding_dict(f) for f in x.others],
        "instancetype": _vmi_dict(x.w),
    }


def _vmi_dict(w: Workload) -> dict[str, Any] | None:
    """The instancetype and preference applied to the VMI, and which object supplied each
    value of the effective VMI (``kvlint.vmi``)."""
    from kvlint.inventory import path_str

    eff = w.vmi()
    if eff.instancetype is None and eff.preference is None and not eff.unknown:
        return None

    def src(s: Any) -> dict[str, Any] | None:
        if s is None:
            return None
        d: dict[str, Any] = {"kind": s.kind, "name": s.name, "from": s.label}
        if s.obj is not None:
            loc = s.obj.loc(())
            d.update(file=loc.file, line=loc.line)
        else:
            d["from"] = f"{s.label} ({s.prov})"
        if s.note:
            d["note"] = s.note
        return d

    values = []
    for path, o in sorted(eff.origins.items(), key=lambda kv: path_str(kv[0])):
        item: dict[str, Any] = {"path": path_str(path), "from": f"{o.label} {path_str(o.path)}"}
        if o.obj is not None:
            loc = o.obj.loc(o.path)
            item.update(file=loc.file, line=loc.line, column=loc.column)
        values.append(item)
    return {
        "instancetype": src(eff.instancetype),
        "preference": src(eff.preference),
        "unknown": [f"{u.role}: {u.why}" for u in eff.unknown],
        "conflicts": [f"{path_str(p)} (also set by {o.label} {path_str(o.path)})" for p, o in eff.conflicts],
        "values": values,
    }


# -- text -------------------------------------------------------------------------------

OUTCOME_TEXT = {
    "unknown": "unknown",
    "disabled": "no completion timeout (completionTimeoutPerGiB 0): never aborted for time",
    "unlimited": (
        "no bandwidth limit (bandwidthPerMigration 0): a pass is limited only by the network, which kvlint cannot know"
    ),
    "fits": "one memory pass fits the acceptable completion time",
    "post-copy": "one pass does not fit: the migration switches to post-copy at the deadline",
    "pause": "one pass does not fit: the guest is paused at the deadline, which then doubles",
    "pause-abort": "one pass does not fit even the doubled deadline after pausing: aborted",
    "abort": "one pass does not fit: every migration is aborted at the deadline",
}


def budget_summary(b: TimeBudget) -> str:
    nums = b.arithmetic()
    text = OUTCOME_TEXT.get(b.outcome, b.outcome)
    return f"{text} ({nums})" if nums else text


def _loc_text(d: dict[str, Any]) -> str:
    if "file" in d and d.get("line"):
        return f"{d['file']}:{d['line']}:{d.get('column', 1)}"
    return ""


def render_text(x: Explanation) -> str:
    d = document(x)
    out: list[str] = []
    obj = d["object"]
    ns = f"{obj['namespace']}/" if obj["namespace"] else ""
    out.append(f"{obj['kind']} {ns}{obj['name']}  ({obj['file']}:{obj['line']})")
    p = d["platform"]
    out.append(f"platform: {p['name']} ({p['source']}); KubeVirt v{p['kubevirtVersion']}")
    out.append("")
    n = len(d["blockers"])
    verdict = x.verdict.upper()
    if x.verdict == "not migratable":
        verdict += f" ({len(x.certain)} blocker{'s' if len(x.certain) != 1 else ''})"
    elif x.verdict == "unknown":
        verdict += f" ({n} possible blocker{'s' if n != 1 else ''}: facts not in view)"
    out.append(f"Verdict: {verdict}")
    if x.verdict == "migratable" and x.eff.budget.outcome in ("abort", "pause-abort"):
        out.append("  but every migration is aborted by the completion timeout (see Time budget)")

    out.append("")
    out.append("Blockers:" if d["blockers"] else "Blockers: none")
    for f in x.certain + x.possible:
        reason = f" [{f.reason}]" if f.reason else ""
        kind = "" if f.severity == "error" else f" ({f.severity}: possible)"
        loc = f.location
        out.append(f"  {f.rule}{reason}{kind} {loc.file}:{loc.line}:{loc.column}")
        out.append(f"      {f.message}")
        for r in f.related:
            out.append(f"      related: {r.file}:{r.line}:{r.column} {r.label}".rstrip())

    it = d["instancetype"]
    if it is not None:
        out.append("")
        for role in ("instancetype", "preference"):
            if it[role] is not None:
                where = _loc_text(it[role])
                out.append(f"{role.capitalize()}: {it[role]['from']}" + (f"  ({where})" if where else ""))
        for u in it["unknown"]:
            out.append(f"  unknown {u}")
        for c in it["conflicts"]:
            out.append(f"  conflict (KubeVirt rejects the VM): {c}")
        if it["values"]:
            out.append("  values in the effective VMI:")
        for v in it["values"]:
            where = _loc_text(v)
            out.append(f"    {v['path']} <- {v['from']}" + (f"  ({where})" if where else ""))

    out.append("")
    out.append("Volumes:" if d["volumes"] else "Volumes: none")
    for v in d["volumes"]:
        head = f"  {v['name']} ({v['source']})"
        if v["claim"] is not None:
            modes = ", ".join(v["accessModes"]) if v["accessModes"] else "unknown access modes"
            vm = f" {v['volumeMode']}" if v["volumeMode"] else ""
            head += f" -> claim {v['claim']}: [{modes}]{vm}"
        out.append(f"{head}: {v['migration']}")
        for i, step in enumerate(v["chain"], 1):
            where = _loc_text(step)
            out.append(f"      {i}. {step['step']}" + (f"  ({where})" if where else ""))

    out.append("")
    pol = d["policy"]
    if pol["winner"] is None:
        out.append("Migration policy: none matches (cluster configuration only)")
    else:
        w0 = pol["winner"]
        out.append(
            f"Migration policy: {w0['name']} (vmi score {w0['vmiScore']}, namespace score "
            f"{w0['namespaceScore']})" + (f"; {w0['note']}" if w0["note"] else "")
        )
    for c in pol["candidates"]:
        if pol["winner"] is not None and c["name"] == pol["winner"]["name"]:
            continue
        if c["matched"]:
            state = f"matches with {c['vmiScore']}+{c['namespaceScore']}"
            state += ", ties with the winner (KubeVirt takes the smallest name)" if c["tie"] else ", loses"
        elif c["conditional"]:
            state = f"conditional: would score {c['vmiScore']}+{c['namespaceScore']}; assumed not to apply"
        else:
            state = "does not match"
        out.append(f"  {c['name']}: {state}" + (f" ({c['note']})" if c["note"] else ""))
    for a in pol["assumptions"]:
        out.append(f"  assumption: {a}")

    out.append("")
    out.append("Effective migration settings:")
    width = max((len(k) for k in d["settings"]), default=0)
    values = {
        k: s["value"] if isinstance(s["value"], str) else json.dumps(s["value"]) for k, s in d["settings"].items()
    }
    vwidth = max((len(v) for v in values.values()), default=0)
    for name, s in d["settings"].items():
        where = _loc_text(s)
        out.append(
            f"  {name.ljust(width)}  {values[name].ljust(vwidth)}  {s['source']}" + (f"  ({where})" if where else "")
        )
    for note in d["settingsNotes"]:
        out.append(f"  note: {note}")

    out.append("")
    ev = d["eviction"]
    where = _loc_text(ev)
    out.append(
        f"Eviction strategy: {ev['value']} ({ev['source']}" + (f", {where}" if where else "") + f"): {ev['onDrain']}"
    )

    out.append("")
    b = x.eff.budget
    out.append(f"Time budget: {budget_summary(b)}")
    if b.memory is not None:
        out.append(f"  memory {b.memory} from {b.memory_source}")
        if b.memory_bytes is not None:
            out.append(f"    = {b.memory_bytes} bytes, counts as {b.gb_count} GB (ceil(bytes / 10^9))")
    if b.acceptable_seconds is not None:
        out.append(
            f"  acceptable completion time: {b.gb_count} x completionTimeoutPerGiB "
            f"{b.completion_timeout_per_gib} = {b.acceptable_seconds} s"
            + (" (0 disables it)" if b.completion_timeout_per_gib == 0 else "")
        )
    if b.bandwidth_mib is not None:
        if b.bandwidth_mib == 0:
            out.append(f"  bandwidthPerMigration {b.bandwidth}: unlimited")
        else:
            from kvlint.effective import seconds

            assert b.pass_seconds is not None
            out.append(
                f"  bandwidthPerMigration {b.bandwidth} = {b.bandwidth_mib} MiB/s: one pass over "
                f"the memory needs {seconds(b.pass_seconds)} s"
            )
    if b.vfio:
        out.append(f"  VFIO devices (no post-copy): {', '.join(b.vfio)}")
    for note in b.notes:
        out.append(f"  note: {note}")

    if x.others:
        out.append("")
        out.append("Other findings on this object:")
        for f in x.others:
            loc = f.location
            out.append(f"  {f.severity} {f.rule} {loc.file}:{loc.line}:{loc.column} {f.message}")
    return "\n".join(out) + "\n"


# -- the command ------------------------------------------------------------------------


@click.command()
@click.argument("target")
@click.argument("paths", nargs=-1)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format (the JSON shape is in docs/explain.md).",
)
@common_options
def explain(target: str, paths: tuple[str, ...], fmt: str, **shared: Any) -> None:
    """Explain one VM's migratability: TARGET is NAMESPACE/NAME, vm/NAMESPACE/NAME,
    vmi/NAMESPACE/NAME or a NAME that is unique; PATHS default to '.'."""
    from kvlint.runner import lint_paths

    paths = paths or (".",)
    config, opts = build_run(paths, **shared)
    opts.jobs = 1  # the explanation reads every object in full in this process
    opts.keep = True
    result = lint_paths(paths, config, options=opts)
    ctx = result.context
    inv = result.inventory
    if ctx is None or inv is None:  # pragma: no cover - run() always sets them
        click.echo("kvlint: nothing was linted", err=True)
        sys.exit(EXIT_USAGE)
    workloads = [w for w in inv.workloads if not w.obj.context_only]
    hits, error = find(workloads, target)
    if error is not None:
        click.echo(f"kvlint: {error}", err=True)
        sys.exit(EXIT_USAGE)
    if len(hits) != 1:
        if hits:
            click.echo(f"kvlint: {target!r} is ambiguous; candidates:", err=True)
            shown = hits
        else:
            click.echo(f"kvlint: no VM, VMI, pool or replica set {target!r} in the input", err=True)
            short = {w.obj.name: w for w in workloads}
            short.update({f"{w.obj.namespace or ''}/{w.obj.name}": w for w in workloads})
            short.update({_key(w): w for w in workloads})
            names = set(difflib.get_close_matches(target, list(short), n=5, cutoff=0.6))
            parts = target.split("/")
            ns = parts[-2] if len(parts) >= 2 else None
            shown = [
                w
                for w in workloads
                if names & {w.obj.name, _key(w), _key(w).split("/", 1)[1]}
                or (ns is not None and (w.obj.namespace or "") == ns)
            ][:10]
            if shown:
                click.echo("candidates:", err=True)
        for w in shown:
            click.echo(f"  {_key(w)}  ({_where(w)})", err=True)
        sys.exit(EXIT_USAGE)
    x = explain_workload(ctx, hits[0])
    if fmt == "json":
        click.echo(json.dumps(document(x), indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(x), nl=False)
    sys.exit(EXIT_OK)
