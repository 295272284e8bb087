"""Single-process lint that checks workloads file by file and keeps only their stubs.

A GitOps tree is mostly workload files (one VM each), and holding every parsed VM until the
end of the run is what made memory grow with the tree. Here:

1. every file is read; a file whose top-level ``kind:`` and ``apiVersion:`` lines all name
   workload kinds of KubeVirt's groups is set aside (its text only), every other file is
   parsed now;
2. the inventory is built from the parsed files without their workloads, and the phase-1
   checks that do not read workloads run (MigrationPolicy admission, storage, ...);
3. the workloads, those of the parsed files first and then each set-aside file in turn
   (parsed now), are checked on their own (``Run.check_workloads``) and replaced by a slim
   stub (identity, labels, kvlint annotations, VFIO devices), so their parsed data is freed;
4. the phase-1 checks that read workloads (``late``) and phase 2 run over the rest, with the
   stubs in view, and the result is finished as in a run that held everything.

The line test only decides the order: a set-aside file that turns out to hold anything but
workloads (a document written in flow style or JSON next to a workload) makes the run start
over with everything held (``Restart``), so the findings are always those of
``engine.run``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kvlint import kustomize, source
from kvlint.config import Config
from kvlint.engine import Result, Run
from kvlint.inventory import KUBEVIRT_GROUPS, WORKLOAD_KINDS, is_workload_doc, objects_of, stub_document
from kvlint.models import Finding
from kvlint.parse import Document, ParsedFile, parse_input, parse_text

if TYPE_CHECKING:
    from kvlint.cache import LazyContext

#: A top-level ``kind:`` line (block style, at column 0) and its value (searched in the
#: text with a newline in front: a literal start is much faster to find than ``^``).
_KIND_LINE = re.compile(r"\nkind[ \t]*:[ \t]*([^\s#]*)")
_API_LINE = re.compile(r"\napiVersion[ \t]*:[ \t]*([^\s#]*)")

#: Workloads checked per call (the inventory takes them in and gives them back each time).
_BATCH = 64


class Restart(Exception):
    """A file set aside as workloads only holds another object: lint with everything held."""


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


def parse_ahead(split: Split, stop: Callable[[], bool], limit: int) -> None:
    """Parse set-aside files in order until ``stop()`` is true or ``limit`` files are
    parsed: a parallel worker does this while it waits for the objects it needs to check
    them (the limit bounds the memory the parsed files hold meanwhile)."""
    later = split.later
    for i, (path, text) in enumerate(later[:limit]):
        if stop():
            return
        if isinstance(text, str):
            later[i] = (path, parse_text(path, text))


def read_and_split(files: Sequence[source.SourceFile], max_size: int) -> Split:
    from kvlint.runner import read_error

    out = Split()
    for src in files:
        read = source.read(src, max_size)
        if read.text is None:
            out.errors.append(read_error(src.display, read.error or "cannot read file"))
        elif src.real != source.STDIN and workloads_only(read.text):
            out.later.append((src.display, read.text))
        else:
            pf = parse_input(src.display, read.text)
            out.pending += [d for d in pf.documents if is_workload_doc(d.data)]
            pf.documents = [d for d in pf.documents if not is_workload_doc(d.data)]
            out.parsed.append(pf)
    return out


@dataclass
class Checked:
    """What checking a share's workloads gave: findings of phase 1 and (held back) of
    phase 2, the stubs of the workloads, and the set-aside files without documents."""

    first: list[Finding] = field(default_factory=list)
    second: list[Finding] = field(default_factory=list)
    stubs: list[Document] = field(default_factory=list)
    files: list[ParsedFile] = field(default_factory=list)


def check_share(run: Run, split: Split, namespaces: dict[str, str], patches: set[str]) -> Checked:
    """Check the workloads of a share in batches (``run`` has the other objects in view and
    the phase-1 findings of theirs that workloads read), parsing the set-aside files one by
    one; raises Restart when one of them holds anything but workloads."""
    out = Checked()
    seen = len(run.ctx.findings)
    batch: list[Document] = []

    def check() -> None:
        run.check_workloads([obj for d in batch for obj in objects_of(d, namespaces)])
        out.stubs.extend(stub_document(d) for d in batch)
        batch.clear()

    for d in split.pending:
        if d.path not in patches:
            batch.append(d)
            if len(batch) >= _BATCH:
                check()
    split.pending = []
    for path, text in split.later:
        pf = parse_text(path, text) if isinstance(text, str) else text
        if pf.path in patches:
            pf.documents = []
        docs = [d for d in pf.documents if isinstance(d.data, dict)]
        if not all(is_workload_doc(d.data) for d in docs):
            raise Restart(path)
        batch += docs
        if len(batch) >= _BATCH:
            check()
        out.files.append(ParsedFile(pf.path, [], pf.problems, pf.comments, pf.doc_lines, pf.lines))
    split.later = []
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
    """After every share's workloads were checked: put their stubs in view in file order
    (the order a run holding everything has), add the findings of shares checked by other
    processes (the first share was checked by ``run`` itself), run the late phase-1 checks
    and phase 2, then add the workloads' phase-2 findings, held back until now as in
    ``engine.run()``."""
    order = {f.display: i for i, f in enumerate(files)}
    stubs = sorted((d for c in shares for d in c.stubs), key=lambda d: (order.get(d.path, -1), d.index))
    for d in stubs:
        for obj in objects_of(d, namespaces, stub=True):
            run.inv.add(obj)
    run.files = parsed + [pf for c in shares for pf in c.files]
    for c in shares[1:]:
        run.ctx.findings.extend(c.first)
    run.phase(1, late=True)
    run.phase(2)
    for c in shares:
        run.ctx.findings.extend(c.second)


def lint_streaming(
    files: Sequence[source.SourceFile],
    config: Config,
    max_size: int,
    context_files: list[ParsedFile],
    extra_context: list[Document],
    read_errors: Sequence[Finding],
    baseline: dict[str, int] | None,
    baseline_path: str | None,
    lazy: LazyContext | None = None,
) -> Result:
    from kvlint.runner import context_inputs

    split = read_and_split(files, max_size)
    parsed = split.parsed
    paths = [pf.path for pf in parsed] + [p for p, _ in split.later] + [pf.path for pf in context_files]
    kinfo = kustomize.analyse(parsed + context_files, paths)
    for pf in parsed:
        if pf.path in kinfo.patches:
            pf.documents = []
    context_docs, loaders = context_inputs(context_files, lazy, kinfo, extra_context)

    run = Run(parsed, config, context_docs, kinfo.namespaces, lazy=loaders)
    run.phase(1, late=False)
    checked = check_share(run, split, kinfo.namespaces, set(kinfo.patches))
    complete(run, files, parsed, [checked], kinfo.namespaces)
    return run.finish(list(read_errors) + split.errors, baseline, baseline_path)
