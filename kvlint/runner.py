"""The whole pipeline: paths -> source -> parse -> inventory -> rules -> result.

Three ways to the same findings: a single process holding every parsed file (library
callers: the Result's inventory has every object in full), a single process that checks the
workloads file by file and keeps their stubs (``Options.stream``, the CLI: ``kvlint.stream``)
and, with ``jobs > 1`` and enough files, processes that each do that for a contiguous share
of the files (``kvlint.parallel``). The output does not depend on the way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kvlint import source
from kvlint.config import Config
from kvlint.engine import Result, Run, run
from kvlint.models import Finding, Location, RunNotes
from kvlint.parse import Document, ParsedFile, parse_input, parse_text

if TYPE_CHECKING:
    from kvlint.cache import LazyContext
    from kvlint.inventory import Loader
    from kvlint.kustomize import KustomizeInfo

#: Below this many files a process pool costs more than it saves.
PARALLEL_MIN_FILES = 64


@dataclass
class Options:
    cluster_state: Sequence[str] = ()
    #: Folders whose manifests feed resolution only (pre-commit: the rest of the repo).
    context: Sequence[str] = ()
    max_size: int = source.DEFAULT_MAX_FILE_SIZE
    #: Processes for parsing and checking (0: one per available CPU). Library callers get
    #: a single process, so that the Result's inventory holds every object in full.
    jobs: int = 1
    baseline: str | None = None
    #: Use the cache of parsed context files.
    cache: bool = True
    #: In a single process, check workloads file by file and keep only their stubs
    #: (``kvlint.stream``): the Result's inventory then holds stubs of the workloads.
    stream: bool = False
    #: Leave out the files a folder's git work tree ignores (.gitignore) when walking it.
    gitignore: bool = True
    #: Render PATH folders that hold a kustomization: None only overlays, True every one,
    #: False none.
    kustomize: bool | None = None


def read_error(display: str, message: str) -> Finding:
    return Finding(
        rule="KV906",
        severity="error",
        message=message,
        fix="fix or remove the file, or exclude it (--exclude / exclude: in .kvlint.yaml)",
        location=Location(display, 1, 1, 1, 1),
    )


def missing_path(e: source.SourceError) -> Finding:
    """A PATH that names nothing (or a folder that cannot be read): KV906 on the path itself."""
    f = read_error(e.display, e.message)
    if e.message not in ("no such file or folder", "no file matches this pattern"):
        return f  # a folder that could not be read
    f.fix = (
        "check the path (relative to the current folder) or the pattern; quote a glob so the shell "
        "does not expand it"
    )
    return f


def _parse_one(src: source.SourceFile, max_size: int) -> ParsedFile | Finding:
    text = source.read(src, max_size)
    if text.text is None:
        return read_error(src.display, text.error or "cannot read file")
    return parse_input(src.display, text.text)


def _parse_chunk(args: tuple[list[source.SourceFile], int]) -> list[ParsedFile | Finding]:
    files, max_size = args
    return [_parse_one(f, max_size) for f in files]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parse_sources(
    files: Sequence[source.SourceFile], max_size: int, jobs: int = 1
) -> tuple[list[ParsedFile], list[Finding]]:
    """Read and parse files, in order; unreadable ones become KV906 findings."""
    jobs = jobs or default_jobs()
    disk = [f for f in files if f.real != source.STDIN]
    if jobs > 1 and len(disk) >= PARALLEL_MIN_FILES and len(disk) == len(files):
        outcomes = _parallel(list(files), max_size, jobs)
    else:
        outcomes = [_parse_one(f, max_size) for f in files]
    parsed = [o for o in outcomes if isinstance(o, ParsedFile)]
    errors = [o for o in outcomes if isinstance(o, Finding)]
    return parsed, errors


def _parallel(files: list[source.SourceFile], max_size: int, jobs: int) -> list[ParsedFile | Finding]:
    import multiprocessing

    # Contiguous shares keep related files together and the merge order trivial; more
    # shares than workers even out the load.
    shares = jobs * 4
    size = -(-len(files) // shares)
    chunks = [(files[i : i + size], max_size) for i in range(0, len(files), size)]
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(jobs) as pool:
        results = pool.map(_parse_chunk, chunks, chunksize=1)
    return [r for chunk in results for r in chunk]


def git_root(start: str = ".") -> str | None:
    return source.git_root(start)


def discover_context(
    dirs: Sequence[str], exclude: Sequence[str], skip: set[str], notes: RunNotes | None = None
) -> list[source.SourceFile]:
    """Files of the context folders, minus the linted ones (``skip``: real paths).

    In a git work tree, the files git tracks (and what is staged): an untracked scratch file
    is not part of what a commit holds. A folder git knows nothing about (outside a
    repository) is walked. ``notes`` records where the files came from.
    """
    files: dict[str, source.SourceFile] = {}
    for d in dirs:
        before = len(files)
        listed = source.git_files(d, untracked=False)  # None outside a git work tree
        if listed is not None:
            listed = [n for n in listed if n.endswith(source.EXTENSIONS)]
        if listed is None:
            found, _ = source.discover([d], exclude)
            for f in found:
                real = os.path.realpath(f.real)
                if real not in skip:
                    files.setdefault(real, f)
            if notes is not None:
                notes.context_sources.append((source.display_path(d), "folder", len(files) - before))
            continue
        # Paths from git are relative to d: build display paths by prefixing, and compare
        # with the linted files by their path relative to d (no per-file realpath).
        real_d = os.path.realpath(d)
        # Never through a link out of the repository (or of the folder, outside one).
        listed = source.contained(d, listed, os.path.realpath(source.git_root(d) or d))
        skip_rel = {os.path.relpath(s, real_d) for s in skip}
        prefix = source.display_path(d)
        prefix = "" if prefix == "." else prefix.rstrip("/") + "/"
        # (string concatenation: os.path.join per file costs more than the rest here)
        real_base = real_d.rstrip("/") + "/"
        base = d if d.endswith("/") else d + "/"
        for n in listed:
            if n in skip_rel:
                continue
            disp = source.printable(prefix + n)
            if exclude and source.is_excluded(disp, exclude):
                continue
            files.setdefault(real_base + n, source.SourceFile(disp, base + n))
        if notes is not None:
            notes.context_sources.append((source.display_path(d), "git", len(files) - before))
    if notes is not None and any(n for _, _, n in notes.context_sources):
        notes.context = "; ".join(
            f"{n} file{'' if n == 1 else 's'} from "
            + ("the git repository at " if kind == "git" else "the folder ")
            + folder
            + (" (tracked and staged files)" if kind == "git" else "")
            for folder, kind, n in notes.context_sources
        )
    return [files[k] for k in sorted(files)]


def _noted(result: Result, notes: RunNotes) -> Result:
    """The run's notes on its result; findings on rendered overlays mapped to their sources."""
    from kvlint import kustomize

    notes.skipped = result.notes.skipped
    result.notes = notes
    if notes.rendered:
        try:
            kustomize.remap(result, notes.rendered)
        finally:
            kustomize.cleanup(notes.rendered)
    return result


def lint_paths(
    paths: Sequence[str],
    config: Config,
    cluster_state: Sequence[str] = (),
    max_size: int = source.DEFAULT_MAX_FILE_SIZE,
    options: Options | None = None,
) -> Result:
    from kvlint import kustomize

    opts = options or Options(cluster_state=cluster_state, max_size=max_size)
    notes = RunNotes()
    paths, rendered = kustomize.render_overlays(paths, opts.kustomize, notes.messages)
    files, missing = source.discover(paths, config.exclude, gitignore=opts.gitignore)
    if opts.kustomize is not False:
        walked = kustomize.overlays_walked(files)
        if walked:
            notes.messages.append(walked)
    files += [source.SourceFile(r.display, r.temp_path) for r in rendered]
    errors = [missing_path(e) for e in missing]
    notes.rendered = rendered

    context_files: list[ParsedFile] = []
    lazy: LazyContext | None = None
    if opts.context:
        linted = {os.path.realpath(f.real) for f in files if f.real != source.STDIN}
        cfiles = discover_context(opts.context, config.exclude, linted, notes)
        if opts.cache:
            from kvlint import cache

            context_files, lazy = cache.parse_cached(cfiles, opts.max_size, opts.jobs, opts.context)
        else:
            context_files, _ = parse_sources(cfiles, opts.max_size, opts.jobs)

    # Objects for resolution only: cluster state and assumed objects.
    extra_context: list[Document] = []
    state_problems: list[ParsedFile] = []
    if opts.cluster_state:
        sfiles, smissing = source.discover(opts.cluster_state)
        sparsed, serrors = parse_sources(sfiles, opts.max_size, opts.jobs)
        errors += [read_error(e.display, e.message) for e in smissing] + serrors
        for pf in sparsed:
            extra_context.extend(pf.documents)
            if pf.problems:
                # Problems in cluster state are still input problems of this run.
                state_problems.append(ParsedFile(pf.path, [], pf.problems))
    if config.assumed_objects:
        src = config.source or ".kvlint.yaml"
        for i, obj in enumerate(config.assumed_objects):
            extra_context.append(Document(f"{src} (assumptions.objects[{i}])", i, obj, {}))

    baseline = None
    if opts.baseline:
        from kvlint.suppress import load_baseline

        baseline = load_baseline(opts.baseline)

    jobs = opts.jobs or default_jobs()
    if lazy is not None and extra_context:
        # Cluster state and assumed objects come after the context in lookups: keep the
        # order of a run without the cache.
        lazy.materialize(context_files)
    if (
        jobs > 1
        and len(files) >= PARALLEL_MIN_FILES
        and all(f.real != source.STDIN for f in files)
        and not state_problems
    ):
        from kvlint.parallel import lint_parallel
        from kvlint.stream import Restart

        if lazy is not None:
            lazy.materialize(context_files)
        try:
            result = lint_parallel(
                files,
                config,
                min(jobs, len(files)),
                opts.max_size,
                context_files,
                extra_context,
                errors,
                baseline,
                opts.baseline,
            )
            return _noted(result, notes)
        except Restart:
            pass  # a file set aside as workloads only was not: lint with everything held

    elif opts.stream and not state_problems:
        from kvlint.stream import Restart, lint_streaming

        try:
            result = lint_streaming(
                files, config, opts.max_size, context_files, extra_context, errors, baseline, opts.baseline, lazy
            )
            return _noted(result, notes)
        except Restart:
            pass  # a file set aside as workloads only was not: lint with everything held

    parsed, perrors = parse_sources(files, opts.max_size, 1)
    errors += perrors
    kinfo = kustomize.analyse(parsed + context_files, [pf.path for pf in parsed + context_files])
    for pf in parsed + context_files:
        if pf.path in kinfo.patches:
            pf.documents = []
    context_docs, loaders = context_inputs(context_files, lazy, kinfo, extra_context)
    r = Run(parsed + state_problems, config, context_docs, kinfo.namespaces, lazy=loaders)
    r.phase(1)
    r.phase(2)
    return _noted(r.finish(errors, baseline, opts.baseline), notes)


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


def lint_text(text: str, config: Config | None = None, path: str = "input.yaml") -> Result:
    """Lint one YAML text (used by tests and the rule examples)."""
    return run([parse_text(path, text)], config or Config())
