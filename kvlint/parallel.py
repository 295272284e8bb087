"""Parallel lint: worker processes parse and check their share of the workloads.

Sending parsed documents between processes costs about as much as parsing them, so the
workloads (VMs, VMIs, pools, replica sets: nearly all of a GitOps tree) never leave the
worker that parsed them. The exchange is small:

1. each worker parses a contiguous share of the files and sends back everything that is not
   a workload (claims, storage, cluster configuration, policies, kustomizations, …), a slim
   stub of each workload (identity, labels, kvlint annotations), and the files' input
   problems and suppression comments;
2. the parent builds the inventory from those, checks the non-workload objects (phase 1) and
   sends every worker the non-workload documents, the kustomize namespaces and its phase-1
   findings;
3. each worker checks its own workloads (phases 1 and 2, with the other objects as context)
   and sends back its findings;
4. the parent runs phase 2 for its objects (which may read the workers' findings, e.g. a
   migration object whose target cannot migrate) and applies suppressions.

The findings are the same as in a single process: every object is checked exactly once,
with the same inventory in view.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kvlint import kustomize, source
from kvlint.config import Config
from kvlint.engine import Result, Run
from kvlint.inventory import is_workload_doc, stub_document
from kvlint.models import Finding
from kvlint.parse import Document, ParsedFile


@dataclass
class _Share:
    """What a worker sends back after parsing (step 1)."""

    files: list[ParsedFile] = field(default_factory=list)  # without documents
    support: list[Document] = field(default_factory=list)
    stubs: list[Document] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)


def _worker(conn: Any, files: list[source.SourceFile], config: Config, max_size: int) -> None:
    from kvlint.runner import _parse_one

    try:
        parsed: list[ParsedFile] = []
        share = _Share()
        for src in files:
            out = _parse_one(src, max_size)
            if isinstance(out, Finding):
                share.errors.append(out)
                continue
            parsed.append(out)
            own = [d for d in out.documents if is_workload_doc(d.data)]
            share.support.extend(d for d in out.documents if not is_workload_doc(d.data))
            share.stubs.extend(stub_document(d) for d in own)
            share.files.append(ParsedFile(out.path, [], out.problems, out.comments, out.doc_lines, out.lines))
            out.documents = own
            out.problems = []
        conn.send_bytes(pickle.dumps(share, protocol=pickle.HIGHEST_PROTOCOL))
        msg = pickle.loads(conn.recv_bytes())
        support, context, namespaces, patches, seed = msg
        mine = [pf for pf in parsed if pf.path not in patches]
        run = Run(mine, config, support + context, namespaces)
        run.ctx.findings.extend(seed)
        found = run.phase(1) + run.phase(2)
        conn.send_bytes(pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException as e:  # noqa: BLE001 - report, never hang the parent
        with contextlib.suppress(Exception):
            conn.send_bytes(pickle.dumps(e))
    finally:
        conn.close()


def _recv(conn: Any) -> Any:
    obj = pickle.loads(conn.recv_bytes())
    if isinstance(obj, BaseException):
        raise RuntimeError(f"worker failed: {type(obj).__name__}: {obj}") from obj
    return obj


def lint_parallel(
    files: Sequence[source.SourceFile],
    config: Config,
    jobs: int,
    max_size: int,
    context_files: list[ParsedFile],
    extra_context: list[Document],
    read_errors: list[Finding],
    baseline: dict[str, int] | None,
    baseline_path: str | None,
) -> Result:
    ctx_mp = multiprocessing.get_context("fork")
    size = -(-len(files) // jobs)
    shares = [list(files[i : i + size]) for i in range(0, len(files), size)]
    workers = []
    for share in shares:
        parent_end, child_end = ctx_mp.Pipe()
        proc = ctx_mp.Process(target=_worker, args=(child_end, share, config, max_size), daemon=True)
        proc.start()
        child_end.close()
        workers.append((proc, parent_end))
    try:
        parts: list[_Share] = [_recv(conn) for _, conn in workers]
        meta = [pf for part in parts for pf in part.files]
        support = [d for part in parts for d in part.support]
        stubs = [d for part in parts for d in part.stubs]
        errors = read_errors + [e for part in parts for e in part.errors]

        grouped: dict[str, list[Document]] = {}
        for d in support:
            grouped.setdefault(d.path, []).append(d)
        for pf in meta:
            pf.documents = grouped.get(pf.path, [])
        kinfo = kustomize.analyse(meta + context_files, [pf.path for pf in meta + context_files])
        for pf in meta:
            if pf.path in kinfo.patches:
                pf.documents = []
        support = [d for d in support if d.path not in kinfo.patches]
        stubs = [d for d in stubs if d.path not in kinfo.patches]
        context_docs = [d for pf in context_files if pf.path not in kinfo.patches for d in pf.documents] + extra_context

        run = Run(meta, config, context_docs, kinfo.namespaces, stubs)
        first = run.phase(1)
        message = pickle.dumps(
            (support, context_docs, kinfo.namespaces, kinfo.patches, first),
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        for _, conn in workers:
            conn.send_bytes(message)
        for _, conn in workers:
            run.ctx.findings.extend(_recv(conn))
        run.phase(2)
        return run.finish(errors, baseline, baseline_path)
    finally:
        for proc, conn in workers:
            conn.close()
            proc.join(timeout=5)
            if proc.is_alive():  # pragma: no cover - a worker that failed to exit
                proc.kill()
