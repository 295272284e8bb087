"""One shard of the pipeline: a share of the linted files, read, split and checked.

A GitOps tree is mostly workload files (one VM each), and holding every parsed VM until the
end of the run is what made memory grow with the tree. So each shard:

1. reads its files; a file whose top-level ``kind:`` and ``apiVersion:`` lines all name
   workload kinds of KubeVirt's groups is set aside (its text only), every other file is
   parsed now and its workload documents taken out (``read_and_split``);
2. once the objects other than workloads of every shard are in view and their phase-1
   checks ran (``engine.Run.early``), checks its workloads in batches, parsing the
   set-aside files one by one (``check_share``): each batch is checked on its own
   (``engine.Run.check_workloads``) and replaced by the summary of each workload
   (``inventory.stub_document``: identity, labels, kvlint annotations, VFIO devices);

then ``complete`` puts every shard's summaries in view, in file order, and runs the rest
(``engine.Run.late``). See ``kvlint.pipeline`` for how the shards are run.

The line test only decides the order: a set-aside file that turns out to hold anything but
workloads (a document written in flow style or JSON next to a workload) raises
``Restart``, and the pipeline runs again without setting any file aside.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kvlint import source
from kvlint.engine import Run
from kvlint.inventory import KUBEVIRT_GROUPS, WORKLOAD_KINDS, K8sObject, is_workload_doc, objects_of, stub_document
from kvlint.models import Finding
from kvlint.parse import Document, ParsedFile, parse_input, parse_text
from kvlint.progress import Tick
from kvlint.reader import read_error, text_stamp

#: A top-level ``kind:`` line (block style, at column 0) and its value (searched in the
#: text with a newline in front: a literal start is much faster to find than ``^``).
_KIND_LINE = re.compile(r"\nkind[ \t]*:[ \t]*([^\s#]*)")
_API_LINE = re.compile(r"\napiVersion[ \t]*:[ \t]*([^\s#]*)")

#: Workloads checked per call (the inventory takes them in and gives them back each time).
_BATCH = 64


class Restart(Exception):
    """A file set aside as workloads only holds another object: run again without
    setting files aside."""


def workloads_only(text: str) -> bool:
    """Whether every top-level ``kind:`` line of a file names a workload kind and every
    top-level ``apiVersion:`` line a KubeVirt group, as many of each (at least one)."""
    text = "\n" + text
    kinds = _KIND_LINE.findall(text)
    if not kinds or not all(k.strip("\"'") in WORKLOAD_KINDS for k in kinds):
        return False
    apis = _API_LINE.findall(text)
    return len(apis) == len(kinds) and all(a.strip("\"'").rsplit("/", 1)[0] in KUBEVIRT_GROUPS for a in apis)


@dataclass
class Split:
    """One share of the linted files after reading: parsed files (their workload documents
    taken out into ``pending``) and the texts of the files set aside."""

    parsed: list[ParsedFile] = field(default_factory=list)
    pending: list[Document] = field(default_factory=list)
    #: (path, text) of each file set aside; its text is replaced by the parsed file when
    #: it is parsed ahead (``parse_ahead``).
    later: list[tuple[str, str | ParsedFile]] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    #: With fix facts requested: the text of each file (by path) while its workloads wait
    #: for their check, and the stamp of every file read.
    texts: dict[str, str] = field(default_factory=dict)
    stamps: dict[str, str] = field(default_factory=dict)


def parse_ahead(split: Split, stop: Callable[[], bool], limit: int) -> None:
    """Parse set-aside files in order until ``stop()`` is true or ``limit`` files are
    parsed: a worker does this while it waits for the objects it needs to check them (the
    limit bounds the memory the parsed files hold meanwhile)."""
    later = split.later
    for i, (path, text) in enumerate(later[:limit]):
        if stop():
            return
        if isinstance(text, str):
            later[i] = (path, parse_text(path, text))


def read_and_split(
    files: Sequence[source.SourceFile],
    max_size: int,
    set_aside: bool = True,
    texts: bool = False,
    tick: Tick | None = None,
    precheck: Callable[[Document], None] | None = None,
) -> Split:
    """Step 1 of a shard (``texts``: keep what fix facts need, see ``Split``; ``precheck``:
    called with each document other than workloads, see ``checks.schema.Precheck``)."""
    out = Split()
    for n, src in enumerate(files, 1):
        if tick is not None:
            tick("files read", n, len(files))
        read = source.read(src, max_size)
        text = read.text
        if text is None:
            out.errors.append(read_error(src.display, read.error or "cannot read file"))
            continue
        if texts:
            out.stamps[src.display] = text_stamp(text)
        if set_aside and src.real != source.STDIN and workloads_only(text):
            out.later.append((src.display, text))
            if texts:
                out.texts[src.display] = text
        else:
            pf = parse_input(src.display, text)
            pending = [d for d in pf.documents if is_workload_doc(d.data)]
            if pending:
                out.pending += pending
                pf.documents = [d for d in pf.documents if not is_workload_doc(d.data)]
                if texts:
                    out.texts[src.display] = text
            if precheck is not None:
                for d in pf.documents:
                    precheck(d)
            out.parsed.append(pf)
    return out


@dataclass
class Checked:
    """What checking a share's workloads gave: findings of phase 1 and (held back) of
    phase 2, the workloads' summaries (or, kept in full, their objects), and the
    set-aside files without documents."""

    first: list[Finding] = field(default_factory=list)
    second: list[Finding] = field(default_factory=list)
    stubs: list[Document] = field(default_factory=list)
    kept: list[K8sObject] = field(default_factory=list)
    files: list[ParsedFile] = field(default_factory=list)


#: Called with a run, a file's path and its text, for files whose workloads are in the
#: batch being checked (fix facts read the text).
TextHook = Callable[[str, str], None]


def check_share(
    run: Run,
    split: Split,
    namespaces: dict[str, str],
    patches: set[str],
    keep: bool = False,
    texts: TextHook | None = None,
    tick: Tick | None = None,
) -> Checked:
    """Step 2 of a shard: check its workloads in batches (``run`` has the other objects in
    view and their phase-1 findings), parsing the set-aside files one by one; raises
    Restart when one of them holds anything but workloads. ``keep``: keep the workload
    objects in full instead of their summaries (library callers, ``explain``)."""
    out = Checked()
    seen = len(run.ctx.findings)
    batch: list[Document] = []

    def check() -> None:
        objects = [obj for d in batch for obj in objects_of(d, namespaces)]
        run.check_workloads(objects)
        if keep:
            out.kept.extend(objects)
        else:
            out.stubs.extend(stub_document(d) for d in batch)
            for obj in objects:
                # An object and its workload refer to each other: without the cyclic
                # garbage collector (``cli.main``), the pair and the whole parsed document
                # would stay in memory until the end of the run.
                obj.workload = None
        batch.clear()

    pending_files: list[str] = []
    for d in split.pending:
        if d.path not in patches:
            batch.append(d)
            if texts is not None and d.path in split.texts and d.path not in pending_files:
                pending_files.append(d.path)
                texts(d.path, split.texts[d.path])
            if len(batch) >= _BATCH:
                check()
    split.pending = []
    for n, (path, text) in enumerate(split.later, 1):
        if tick is not None:
            tick("workload files checked", n, len(split.later))
        pf = parse_text(path, text) if isinstance(text, str) else text
        if pf.path in patches:
            pf.documents = []
        docs = [d for d in pf.documents if isinstance(d.data, dict)]
        if not all(is_workload_doc(d.data) for d in docs):
            raise Restart(path)
        kept_text = split.texts.pop(path, None)
        if texts is not None and docs and kept_text is not None:
            texts(path, kept_text)
        batch += docs
        if len(batch) >= _BATCH:
            check()
        out.files.append(ParsedFile(pf.path, [], pf.problems, pf.comments, pf.doc_lines, pf.lines))
    split.later = []
    split.texts = {}
    check()
    out.first = run.ctx.findings[seen:]
    out.second, run.held = run.held, []
    return out


def complete(
    run: Run,
    files: Sequence[source.SourceFile],
    parsed: list[ParsedFile],
    shares: Sequence[Checked],
    namespaces: dict[str, str],
) -> None:
    """After every share's workloads were checked: put their summaries (or objects) in
    view in file order (the order of the files given), add the findings of shares checked
    by other processes (the first share was checked by ``run`` itself), run step 3
    (``Run.late``), then add the workloads' phase-2 findings, held back until now."""
    order = {f.display: i for i, f in enumerate(files)}
    stubs = sorted((d for c in shares for d in c.stubs), key=lambda d: (order.get(d.path, -1), d.index))
    for d in stubs:
        for obj in objects_of(d, namespaces, stub=True):
            run.inv.add(obj)
    kept = sorted((o for c in shares for o in c.kept), key=lambda o: (order.get(o.doc.path, -1), o.doc.index))
    for obj in kept:
        run.inv.add(obj)
        run.checked.add(id(obj))
    run.files = parsed + [pf for c in shares for pf in c.files]
    for c in shares[1:]:
        run.ctx.findings.extend(c.first)
    run.late()
    for c in shares:
        run.ctx.findings.extend(c.second)
