"""Single-process lint that checks workloads file by file and keeps only their stubs.

A GitOps tree is mostly workload files (one VM each), and holding every parsed VM until the
end of the run is what made memory grow with the tree. Here:

1. every file is read; a file whose top-level ``kind:`` lines all name workload kinds is
   set aside (its text only), every other file is parsed now;
2. the inventory is built from the parsed files without their workloads, and the phase-1
   checks that do not read workloads run (MigrationPolicy admission, storage, ...);
3. the workloads, those of the parsed files first and then each set-aside file in turn
   (parsed now), are checked on their own (``Run.check_workloads``) and replaced by a slim
   stub (identity, labels, kvlint annotations, VFIO devices), so their parsed data is freed;
4. the phase-1 checks that read workloads (``late``) and phase 2 run over the rest, with the
   stubs in view, and the result is finished as in a run that held everything.

The ``kind:`` test only decides the order: a set-aside file that turns out to hold anything
but workloads (a document written in flow style or JSON, a workload kind of another API
group) makes the run start over with everything held (``Restart``), so the findings are
always those of ``engine.run``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kvlint import kustomize, source
from kvlint.config import Config
from kvlint.engine import Result, Run
from kvlint.inventory import WORKLOAD_KINDS, is_workload_doc, objects_of, stub_document
from kvlint.models import Finding
from kvlint.parse import Document, ParsedFile, parse_text

if TYPE_CHECKING:
    from kvlint.cache import LazyContext

#: A top-level ``kind:`` line (block style, at column 0) and its value (searched in the
#: text with a newline in front: a literal start is much faster to find than ``^``).
_KIND_LINE = re.compile(r"\nkind[ \t]*:[ \t]*([^\s#]*)")

#: Workloads checked per call (the inventory takes them in and gives them back each time).
_BATCH = 64


class Restart(Exception):
    """A file set aside as workloads only holds another object: lint with everything held."""


def workloads_only(text: str) -> bool:
    """Whether every top-level ``kind:`` line of a file names a workload kind (and there
    is at least one)."""
    kinds = _KIND_LINE.findall("\n" + text)
    return bool(kinds) and all(k.strip("\"'") in WORKLOAD_KINDS for k in kinds)


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
    from kvlint.runner import context_inputs, read_error

    errors = list(read_errors)
    parsed: list[ParsedFile] = []
    later: list[tuple[str, str]] = []
    for src in files:
        read = source.read(src, max_size)
        if read.text is None:
            errors.append(read_error(src.display, read.error or "cannot read file"))
        elif src.real != source.STDIN and workloads_only(read.text):
            later.append((src.display, read.text))
        else:
            parsed.append(parse_text(src.display, read.text))

    paths = [pf.path for pf in parsed] + [p for p, _ in later] + [pf.path for pf in context_files]
    kinfo = kustomize.analyse(parsed + context_files, paths)
    for pf in parsed:
        if pf.path in kinfo.patches:
            pf.documents = []
    context_docs, loaders = context_inputs(context_files, lazy, kinfo, extra_context)

    pending: list[Document] = []
    for pf in parsed:
        pending += [d for d in pf.documents if is_workload_doc(d.data)]
        pf.documents = [d for d in pf.documents if not is_workload_doc(d.data)]

    run = Run(parsed, config, context_docs, kinfo.namespaces, lazy=loaders)
    run.phase(1, late=False)
    namespaces = kinfo.namespaces

    def check(docs: list[Document]) -> None:
        run.check_workloads([obj for d in docs for obj in objects_of(d, namespaces)])
        for d in docs:
            for stub in objects_of(stub_document(d), namespaces, stub=True):
                run.inv.add(stub)

    for i in range(0, len(pending), _BATCH):
        check(pending[i : i + _BATCH])
    del pending

    metas: list[ParsedFile] = []
    batch: list[Document] = []
    for path, text in later:
        pf = parse_text(path, text)
        if pf.path in kinfo.patches:
            pf.documents = []
        docs = [d for d in pf.documents if isinstance(d.data, dict)]
        if not all(is_workload_doc(d.data) for d in docs):
            raise Restart(path)
        batch += docs
        if len(batch) >= _BATCH:
            check(batch)
            batch = []
        metas.append(ParsedFile(pf.path, [], pf.problems, pf.comments, pf.doc_lines, pf.lines))
    check(batch)
    del later, batch

    run.files = parsed + metas
    run.phase(1, late=True)
    run.phase(2)
    run.flush()
    return run.finish(errors, baseline, baseline_path)
