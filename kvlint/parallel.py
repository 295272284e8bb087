"""Parallel lint: processes read, parse and check their share of the workloads.

Sending parsed documents between processes costs about as much as parsing them, so the
workloads (VMs, VMIs, pools, replica sets: nearly all of a GitOps tree) never leave the
worker that parsed them, and each worker checks them file by file as the single-process
run does (``kvlint.stream``), keeping only their stubs. The exchange is small:

1. each worker (and the parent, for the first share) reads its contiguous share of the
   files, parses those that may hold other objects and sends back those objects (claims, storage, cluster configuration,
   policies, kustomizations, …) with the files' input problems and suppression comments;
2. the parent builds the inventory from them and runs the phase-1 checks that do not read
   workloads; it sends every worker the objects, the context and those findings (the
   workers parse the files they set aside meanwhile, until the message arrives);
3. each worker checks its workloads (phases 1 and 2, with the objects in view), parsing the
   files it set aside one by one, and sends back its findings and the workloads' stubs (the
   parent does the same with its share meanwhile);
4. the parent puts the stubs in view, runs the rest (late phase-1 checks, phase 2) and
   finishes: suppressions, sorting.

The findings are those of a single process: every object is checked exactly once, with
the same objects in view. A set-aside file that holds anything but workloads makes the
whole run start over in one process (``stream.Restart``).
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
from kvlint.models import Finding
from kvlint.parse import Document, ParsedFile
from kvlint.stream import Checked, Restart, check_share, complete, parse_ahead, read_and_split

#: The parent's share of the files, relative to an even split (measured on the 10k bench
#: tree: 1.0 and 1.1 alike, 0.9 and 1.2 slower).
PARENT_SHARE = 1.0
#: Most set-aside files a worker parses ahead, holding them until it checks them (on the
#: 10k bench tree the peak memory of a run grows by about 20 MB per 1,000 files).
AHEAD_FILES = 500


@dataclass
class _Share:
    """What a worker sends back after reading (step 1)."""

    files: list[ParsedFile] = field(default_factory=list)  # without documents
    support: list[Document] = field(default_factory=list)
    later: list[str] = field(default_factory=list)  # files set aside (paths)
    errors: list[Finding] = field(default_factory=list)


def _worker(conn: Any, files: list[source.SourceFile], config: Config, max_size: int) -> None:
    try:
        split = read_and_split(files, max_size)
        share = _Share(errors=split.errors, later=[p for p, _ in split.later])
        for pf in split.parsed:
            share.support.extend(pf.documents)
            share.files.append(ParsedFile(pf.path, [], pf.problems, pf.comments, pf.doc_lines, pf.lines))
        split.parsed = []
        conn.send_bytes(pickle.dumps(share, protocol=pickle.HIGHEST_PROTOCOL))
        del share
        # While the parent gathers the objects, parse the workload files ahead.
        parse_ahead(split, conn.poll, AHEAD_FILES)
        support, context, namespaces, patches, seed = pickle.loads(conn.recv_bytes())
        # The other objects are in view as linted objects (a context object can rank lower
        # in lookups); this worker only checks its workloads.
        run = Run([ParsedFile("", support)], config, context, namespaces)
        run.ctx.findings.extend(seed)
        checked = check_share(run, split, namespaces, patches)
        conn.send_bytes(pickle.dumps(checked, protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException as e:  # noqa: BLE001 - report, never hang the parent
        with contextlib.suppress(Exception):
            conn.send_bytes(pickle.dumps(e))
    finally:
        conn.close()


def _recv(conn: Any) -> Any:
    obj = pickle.loads(conn.recv_bytes())
    if isinstance(obj, Restart):
        raise obj
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
    """``jobs`` processes: this one takes the first share itself, ``jobs - 1`` workers the
    others."""
    ctx_mp = multiprocessing.get_context("fork")
    # Even shares: a worker loads the objects it is sent and sends its findings back, but it
    # parses ahead while the parent gathers the objects, and the parent finishes alone.
    first = min(len(files), round(len(files) * PARENT_SHARE / jobs))
    size = -(-(len(files) - first) // (jobs - 1))
    shares = [list(files[:first])] + [list(files[i : i + size]) for i in range(first, len(files), size)]
    workers = []
    for share in shares[1:]:
        parent_end, child_end = ctx_mp.Pipe()
        proc = ctx_mp.Process(target=_worker, args=(child_end, share, config, max_size), daemon=True)
        proc.start()
        child_end.close()
        workers.append((proc, parent_end))
    try:
        own = read_and_split(shares[0], max_size)
        parts: list[_Share] = [_recv(conn) for _, conn in workers]
        meta = own.parsed
        for part in parts:
            grouped: dict[str, list[Document]] = {}
            for d in part.support:
                grouped.setdefault(d.path, []).append(d)
            for pf in part.files:
                pf.documents = grouped.get(pf.path, [])
            meta += part.files
        later = [p for p, _ in own.later] + [p for part in parts for p in part.later]
        errors = read_errors + own.errors + [e for part in parts for e in part.errors]
        del parts

        paths = [pf.path for pf in meta] + later + [pf.path for pf in context_files]
        kinfo = kustomize.analyse(meta + context_files, paths)
        for pf in meta:
            if pf.path in kinfo.patches:
                pf.documents = []
        support = [d for pf in meta for d in pf.documents]
        context_docs = [d for pf in context_files if pf.path not in kinfo.patches for d in pf.documents] + extra_context
        patches = set(kinfo.patches)

        run = Run(meta, config, context_docs, kinfo.namespaces)
        seed = run.phase(1, late=False)
        message = pickle.dumps(
            (support, context_docs, kinfo.namespaces, patches, seed),
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        del support
        for _, conn in workers:
            conn.send_bytes(message)
        del message
        mine = check_share(run, own, kinfo.namespaces, patches)  # its findings are in run already
        checked: list[Checked] = [_recv(conn) for _, conn in workers]
        complete(run, files, meta, [mine, *checked], kinfo.namespaces)
        return run.finish(errors, baseline, baseline_path)
    finally:
        for proc, conn in workers:
            conn.close()
            proc.join(timeout=5)
            if proc.is_alive():  # pragma: no cover - a worker that failed to exit
                proc.kill()
