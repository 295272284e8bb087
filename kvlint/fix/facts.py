"""Fix facts, recorded while the checks run.

A fix needs a few facts only the lint run knows (which storage class a dataVolumeTemplate
gets, what it offers: ``Fixer.prepare``); the shard records them in ``finding.data`` right
after it checked a batch of workloads, while they are in view in full, so neither
``kvlint fix`` nor SARIF needs the objects afterwards. For SARIF the shard also works out
each finding's replacement then, from the text it linted (``sarif.attach``): SARIF runs
use every shard like any other run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from kvlint.fix.edits import FIXERS, Fixer
from kvlint.models import Finding

if TYPE_CHECKING:
    from kvlint.engine import Context, Result, Run
    from kvlint.inventory import K8sObject, Workload

#: ``finding.data`` key: the facts of this finding's fix were recorded.
RECORDED = "fix_facts"

WorkloadKey = tuple[object, int, str]


def _key(obj: K8sObject) -> WorkloadKey:
    return (obj.ref(), obj.doc.index, obj.file)


def _fixers(findings: Iterable[Finding]) -> list[tuple[Finding, Fixer]]:
    out = []
    for f in findings:
        fx = FIXERS.get(f.rule)
        if fx is not None and f.object is not None and not f.location.file.startswith("<"):
            out.append((f, fx))
    return out


def prepare(pairs: Sequence[tuple[Finding, Fixer]], ctx: Context, workloads: dict[WorkloadKey, Workload]) -> None:
    """Record the facts of each finding's fix (``workloads``: those in full, by key)."""
    for f, fx in pairs:
        if f.data.get(RECORDED):
            continue
        f.data[RECORDED] = True
        if fx.prepare is None:
            continue
        w = workloads.get((f.object, _node_index(f), f.location.file))
        if w is not None:
            with contextlib.suppress(Exception):  # no facts, no fix
                fx.prepare(f, ctx, w)


def _node_index(f: Finding) -> int:
    node = f.data.get("node")
    return node[0] if isinstance(node, tuple) and node and isinstance(node[0], int) else -1


def prepare_held(findings: Iterable[Finding], ctx: Context | None) -> None:
    """``prepare`` for the findings not recorded yet, with the workloads the context holds
    in full (objects of a List, or a run that keeps its workloads)."""
    pairs = [(f, fx) for f, fx in _fixers(findings) if not f.data.get(RECORDED)]
    if not pairs or ctx is None:
        return
    full = {_key(w.obj): w for w in ctx.inv.loaded_workloads if not w.obj.context_only}
    prepare(pairs, ctx, full)


class Recorder:
    """A shard's recorder: ``on_batch`` is ``Run.on_batch``, ``text`` the shard's text hook."""

    def __init__(self, sarif: bool) -> None:
        self.sarif = sarif
        self.texts: dict[str, str] = {}

    def text(self, path: str, text: str) -> None:
        self.texts[path] = text

    def on_batch(self, run: Run, objects: Sequence[K8sObject], findings: list[Finding]) -> None:
        pairs = _fixers(findings)
        if pairs:
            ids = {id(o) for o in objects}
            batch = {_key(w.obj): w for w in run.inv.loaded_workloads if id(w.obj) in ids}
            prepare(pairs, run.ctx, batch)
            if self.sarif:
                from kvlint.fix.sarif import attach

                by_file: dict[str, list[tuple[Finding, Fixer]]] = {}
                for f, fx in pairs:
                    by_file.setdefault(f.location.file, []).append((f, fx))
                for path, file_pairs in by_file.items():
                    text = self.texts.get(path)
                    if text is not None:
                        attach(path, text, file_pairs)
        # The last file of the batch may go on in the next one.
        last = objects[-1].file if objects else None
        self.texts = {last: self.texts[last]} if last in self.texts else {}

    def finish(self, run: Run, stamps: dict[str, str]) -> None:
        """After ``Run.late``: the findings made outside the workload batches (objects
        other than workloads, items of a List), with their files read again."""
        prepare_held(run.ctx.findings, run.ctx)
        if self.sarif:
            from kvlint.fix.sarif import attach_from_files

            attach_from_files(run.ctx.findings, stamps)


def attach_fixes(result: Result, unsafe: bool = True) -> int:
    """Fill ``finding.data["fixes"]`` (for SARIF) for every finding that has a fix and none
    yet: the single replacement its fix makes in the file. Unsafe fixes are included
    (described as unsafe) unless ``unsafe`` is False. Returns how many findings got one.
    Nothing is written. (A run with ``Options.sarif_fixes`` has done this already.)"""
    from kvlint.fix.sarif import attach_from_files

    prepare_held(result.findings, result.context)
    return attach_from_files(result.findings, result.stamps, unsafe)
