"""The pipeline: linted files to findings, in one or more shards.

Every run (``lint``, ``explain``, ``fix``, every output format) takes this way. The files
are cut into contiguous shares; each share is a shard (``kvlint.shard``). With one shard
everything happens in this process; with N (``--jobs N``), this process takes the first
share and N - 1 worker processes the others. Sending parsed documents between processes
costs about as much as parsing them, so the workloads (VMs, VMIs, pools, replica sets:
nearly all of a GitOps tree) never leave the shard that parsed them. The steps:

1. each shard reads its files (``shard.read_and_split``); a worker sends back the objects
   other than workloads (claims, storage, cluster configuration, policies,
   kustomizations, …) with its files' input problems and suppression comments;
2. this process sends every worker the objects of its own share (the first) as soon as
   it has read it, builds the inventory from all of them and runs their phase-1 checks
   (``engine.Run.early``); then it sends every worker the objects of the other shares,
   the context and those findings (workers load the checks and parse the files they set
   aside meanwhile, until the message arrives);
3. each shard checks its workloads (``shard.check_share``) and keeps their summaries;
   workers send back their findings and summaries;
4. this process puts the summaries in view and runs the rest (``shard.complete``), then
   finishes: suppressions, sorting.

Every object is checked exactly once, with the same objects in view, whatever the number
of shards: the output does not depend on it (tests compare it byte for byte).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kvlint import kustomize, source
from kvlint.config import Config
from kvlint.engine import Result, Run
from kvlint.models import Finding
from kvlint.parse import Document, ParsedFile
from kvlint.reader import mp_context
from kvlint.shard import Checked, Restart, Split, check_share, complete, parse_ahead, read_and_split

if TYPE_CHECKING:
    from kvlint.cache import LazyContext
    from kvlint.inventory import Loader
    from kvlint.kustomize import KustomizeInfo

#: Most set-aside files a worker parses ahead, holding them until it checks them (on the
#: 10k bench tree the peak memory of a run grows by about 20 MB per 1,000 files).
AHEAD_FILES = 500

#: Seconds a worker is given to end once this process is done with it (then it is killed).
JOIN_TIMEOUT = 5.0


@dataclass
class Job:
    """One run's inputs besides the linted files."""

    config: Config
    max_size: int
    context_files: list[ParsedFile] = field(default_factory=list)
    #: Cluster state and assumed objects (resolution only, after the context in lookups).
    extra_context: list[Document] = field(default_factory=list)
    #: Files of the cluster state with input problems (documents left out).
    state_problems: list[ParsedFile] = field(default_factory=list)
    read_errors: list[Finding] = field(default_factory=list)
    baseline: dict[str, int] | None = None
    baseline_path: str | None = None
    lazy: LazyContext | None = None
    #: Keep the workload objects in full in the result (library callers, ``explain``).
    keep: bool = False
    #: Record fix facts while the checks run (``kvlint fix``) ...
    fixes: bool = False
    #: ... and work out each finding's SARIF fix too.
    sarif_fixes: bool = False
    #: A progress line on stderr (on a terminal, for long runs: ``kvlint.progress``).
    progress: bool = False


@dataclass
class _Share:
    """What a worker sends back after reading (step 1)."""

    files: list[ParsedFile] = field(default_factory=list)  # without documents
    support: list[Document] = field(default_factory=list)
    later: list[str] = field(default_factory=list)  # files set aside (paths)
    errors: list[Finding] = field(default_factory=list)
    stamps: dict[str, str] = field(default_factory=dict)
    #: Schema answers for ``support`` (``checks.schema.Precheck``).
    schema: dict[Any, Any] = field(default_factory=dict)


def _precheck(job: Job) -> Any:
    """The schema pre-check of a shard's objects other than workloads (it loads the checks)."""
    from kvlint.checks.schema import Precheck

    return Precheck(job.config.kubevirt_version)


def _recorder(run: Run, job: Job) -> Any:
    """The fix-facts recorder of a shard (None without ``job.fixes``)."""
    if not (job.fixes or job.sarif_fixes):
        return None
    from kvlint.fix.facts import Recorder

    rec = Recorder(job.sarif_fixes)
    run.on_batch = rec.on_batch
    return rec


def _worker(
    conn: Any, files: list[source.SourceFile], job: Job, set_aside: bool, parent_ends: Sequence[Any] = ()
) -> None:
    import pickle

    # This process's copies of the parent's ends of the pipes (a forked worker inherits
    # them): were they left open, a parent that stops early would leave this worker
    # writing into a pipe nobody reads until it is killed.
    for end in parent_ends:
        end.close()
    try:
        pre = _precheck(job)
        split = read_and_split(files, job.max_size, set_aside, job.fixes or job.sarif_fixes, precheck=pre)
        share = _Share(errors=split.errors, later=[p for p, _ in split.later], stamps=split.stamps, schema=pre.results)
        for pf in split.parsed:
            share.support.extend(pf.documents)
            share.files.append(ParsedFile(pf.path, [], pf.problems, pf.comments, pf.doc_lines, pf.lines))
        split.parsed = []
        conn.send_bytes(pickle.dumps(share, protocol=pickle.HIGHEST_PROTOCOL))
        mine = share.support
        del share
        # While the parent gathers the objects, load the checks and parse the workload
        # files ahead. The first share's objects come first, as soon as that share is read.
        warm()
        parse_ahead(split, conn.poll, AHEAD_FILES)
        first = pickle.loads(conn.recv_bytes())
        parse_ahead(split, conn.poll, AHEAD_FILES)
        before, after, context, namespaces, patches, seed = pickle.loads(conn.recv_bytes())
        # The objects of every share in file order: this worker's own were not sent back.
        support = [d for d in first if d.path not in patches] + before
        support += [d for d in mine if d.path not in patches] + after
        del first, mine, before, after
        # The other objects are in view as linted objects (a context object can rank lower
        # in lookups); this worker only checks its workloads.
        run = Run([ParsedFile("", support)], job.config, context, namespaces)
        run.ctx.findings.extend(seed)
        rec = _recorder(run, job)
        checked = check_share(run, split, namespaces, patches, job.keep, rec.text if rec else None)
        conn.send_bytes(pickle.dumps(checked, protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException as e:  # noqa: BLE001 - report, never hang the parent
        with contextlib.suppress(Exception):
            conn.send_bytes(pickle.dumps(e))
    finally:
        conn.close()


class _Sender:
    """Sends one message to each worker from a thread (a worker reads it once it has sent
    its own share: sending it from the main thread, which reads those shares, could wait
    forever)."""

    def __init__(self, message: bytes, conns: list[Any]) -> None:
        import threading

        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(message, conns), daemon=True)
        self.thread.start()

    def _run(self, message: bytes, conns: list[Any]) -> None:
        try:
            for conn in conns:
                conn.send_bytes(message)
        except BaseException as e:  # noqa: BLE001 - a worker that failed reports it itself
            self.error = e

    def finish(self) -> None:
        self.thread.join()
        if self.error is not None:
            raise RuntimeError(f"cannot reach a worker: {self.error}") from self.error


def warm() -> None:
    """Load the rules and the check modules (each process does it once; a process does it
    while it waits for another)."""
    from kvlint import catalog, checks

    catalog.load()
    checks.load_all()


def _recv(conn: Any) -> Any:
    import pickle

    obj = pickle.loads(conn.recv_bytes())
    if isinstance(obj, Restart):
        raise obj
    if isinstance(obj, BaseException):
        raise RuntimeError(f"worker failed: {type(obj).__name__}: {obj}") from obj
    return obj


def shares_of(files: Sequence[source.SourceFile], shards: int) -> list[list[source.SourceFile]]:
    """Contiguous, even shares (related files stay together; the merge order is trivial)."""
    shards = max(1, min(shards, len(files)))
    size = -(-len(files) // shards) if files else 1
    out = [list(files[i : i + size]) for i in range(0, len(files), size)]
    return out or [[]]


def lint_files(files: Sequence[source.SourceFile], job: Job, shards: int = 1, set_aside: bool = True) -> Result:
    """Lint ``files`` in ``shards`` shards (this process takes the first)."""
    shares = shares_of(files, shards)
    if len(shares) > 1 and job.lazy is not None:
        # Workers are sent every context object they may need.
        job.lazy.materialize(job.context_files)
        job.lazy = None
    ctx_mp = mp_context() if len(shares) > 1 else None
    workers = []
    parent_ends: list[Any] = []
    for share in shares[1:]:
        assert ctx_mp is not None
        parent_end, child_end = ctx_mp.Pipe()
        parent_ends.append(parent_end)
        proc = ctx_mp.Process(target=_worker, args=(child_end, share, job, set_aside, list(parent_ends)), daemon=True)
        proc.start()
        child_end.close()
        workers.append((proc, parent_end))
    from kvlint.progress import Progress

    # (this process's share: with N shards, the others go at the same pace)
    progress = Progress(prefix=f"shard 1 of {len(shares)}: " if len(shares) > 1 else "")
    progress.enabled = progress.enabled and job.progress
    try:
        pre = _precheck(job)
        own = read_and_split(
            shares[0], job.max_size, set_aside, job.fixes or job.sarif_fixes, progress.tick, precheck=pre
        )
        sender = None
        if workers:
            import pickle  # (needed only when there are workers)

            # Every worker needs the objects of this share: they go now, from a thread
            # (each worker is sending its own share meanwhile), while this process
            # loads the checks and takes in what the workers read.
            first = pickle.dumps([d for pf in own.parsed for d in pf.documents], protocol=pickle.HIGHEST_PROTOCOL)
            sender = _Sender(first, [conn for _, conn in workers])
            del first
            warm()
        parts: list[_Share] = [_recv(conn) for _, conn in workers]
        if sender is not None:
            sender.finish()
        schema = pre.results
        for part in parts:
            schema.update(part.schema)
        meta = own.parsed
        stamps = own.stamps
        #: Where each share's files start and end in ``meta``.
        bounds = [0, len(meta)]
        for part in parts:
            grouped: dict[str, list[Document]] = {}
            for d in part.support:
                grouped.setdefault(d.path, []).append(d)
            for pf in part.files:
                pf.documents = grouped.get(pf.path, [])
            meta += part.files
            bounds.append(len(meta))
            stamps.update(part.stamps)
        later = [p for p, _ in own.later] + [p for part in parts for p in part.later]
        errors = job.read_errors + own.errors + [e for part in parts for e in part.errors]
        del parts

        context_files = job.context_files
        paths = [pf.path for pf in meta] + later + [pf.path for pf in context_files]
        kinfo = kustomize.analyse(meta + context_files, paths)
        for pf in meta:
            if pf.path in kinfo.patches:
                pf.documents = []
        patches = set(kinfo.patches)
        context_docs, loaders = context_inputs(context_files, job.lazy, kinfo, job.extra_context)

        run = Run(meta + job.state_problems, job.config, context_docs, kinfo.namespaces, lazy=loaders)
        run.inv.memo.update(schema)
        del schema
        seed = run.early()
        for i, (_, conn) in enumerate(workers, 1):
            # A worker has its own share's objects and the first share's: it is sent those
            # of the other shares, before and after its own.
            before = [d for pf in meta[bounds[1] : bounds[i]] for d in pf.documents]
            after = [d for pf in meta[bounds[i + 1] :] for d in pf.documents]
            message = pickle.dumps(
                (before, after, context_docs, kinfo.namespaces, patches, seed),
                protocol=pickle.HIGHEST_PROTOCOL,
            )
            del before, after
            conn.send_bytes(message)
            del message
        rec = _recorder(run, job)
        mine = check_share(run, own, kinfo.namespaces, patches, job.keep, rec.text if rec else None, progress.tick)
        checked: list[Checked] = [_recv(conn) for _, conn in workers]
        progress.close()
        complete(run, files, meta + job.state_problems, [mine, *checked], kinfo.namespaces)
        if rec is not None:
            rec.finish(run, stamps)
        result = run.finish(errors, job.baseline, job.baseline_path)
        result.stamps = stamps
        if job.sarif_fixes:
            from kvlint.fix.sarif import drop_suppressed

            drop_suppressed(result.findings)
        return result
    finally:
        progress.close()
        for proc, conn in workers:
            conn.close()
            proc.join(timeout=JOIN_TIMEOUT)
            if proc.is_alive():  # pragma: no cover - a worker that failed to exit
                proc.kill()


def lint_parsed(files: Sequence[ParsedFile], job: Job) -> Result:
    """The pipeline over files parsed already (one shard; ``runner.lint_text``)."""
    split = Split()
    for pf in files:
        workloads = [d for d in pf.documents if _is_workload(d)]
        split.pending += workloads
        pf.documents = [d for d in pf.documents if not _is_workload(d)]
        split.parsed.append(pf)
    meta = split.parsed
    kinfo = kustomize.analyse(meta, [pf.path for pf in meta])
    run = Run(meta, job.config, job.extra_context, kinfo.namespaces)
    run.early()
    rec = _recorder(run, job)
    mine = check_share(run, split, kinfo.namespaces, set(kinfo.patches), job.keep, rec.text if rec else None)
    order = [source.SourceFile(pf.path, pf.path) for pf in meta]
    complete(run, order, meta, [mine], kinfo.namespaces)
    return run.finish(job.read_errors, job.baseline, job.baseline_path)


def _is_workload(d: Document) -> bool:
    from kvlint.inventory import is_workload_doc

    return is_workload_doc(d.data)


def context_inputs(
    context_files: list[ParsedFile],
    lazy: LazyContext | None,
    kinfo: KustomizeInfo,
    extra_context: list[Document],
) -> tuple[list[Document], dict[tuple[str, str], list[Loader]]]:
    """The context documents for the inventory, and the loaders of those read on demand
    (none when a kustomization sets the namespace of a context file: the lazy groups are
    by the namespace written in the file)."""
    loaders: dict[tuple[str, str], list[Loader]] = {}
    if lazy is not None:
        if any(pf.path in kinfo.namespaces for pf in context_files):
            lazy.materialize(context_files)
        else:
            loaders = lazy.loaders(set(kinfo.patches))
    docs = [d for pf in context_files if pf.path not in kinfo.patches for d in pf.documents] + extra_context
    return docs, loaders
