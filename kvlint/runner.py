"""Runs from paths: discovery, the context and cluster state, then the pipeline.

``lint_paths`` prepares what every run needs (the linted files, the context folders'
files through the cache, cluster state, assumed objects, the baseline) and hands it to
``kvlint.pipeline``, the one way from files to findings; ``lint_text`` lints one text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kvlint import source
from kvlint.config import Config
from kvlint.engine import Result
from kvlint.models import Finding, RunNotes
from kvlint.parse import Document, ParsedFile, parse_text
from kvlint.reader import PARALLEL_MIN_FILES, default_jobs, parse_sources, read_error

if TYPE_CHECKING:
    from kvlint.cache import LazyContext

__all__ = ["PARALLEL_MIN_FILES", "Options", "default_jobs", "lint_paths", "lint_text", "parse_sources", "read_error"]


@dataclass
class Options:
    cluster_state: Sequence[str] = ()
    #: Folders whose manifests feed resolution only (pre-commit: the rest of the repo).
    context: Sequence[str] = ()
    max_size: int = source.DEFAULT_MAX_FILE_SIZE
    #: Shards (processes) that parse and check (0: one per available CPU).
    jobs: int = 1
    baseline: str | None = None
    #: Use the cache of parsed context files.
    cache: bool = True
    #: Leave out the files a folder's git work tree ignores (.gitignore) when walking it.
    gitignore: bool = True
    #: Render PATH folders that hold a kustomization: None only overlays, True every one,
    #: False none.
    kustomize: bool | None = None
    #: Keep the linted workloads in full in the Result's inventory (else their summaries).
    keep: bool = False
    #: Record fix facts while the checks run (``kvlint fix``) ...
    fixes: bool = False
    #: ... and work out each finding's SARIF fix too (``--format sarif``).
    sarif_fixes: bool = False
    #: A progress line on stderr for long runs (only when stderr is a terminal).
    progress: bool = False


def missing_path(e: source.SourceError) -> Finding:
    """A PATH that names nothing (or a folder that cannot be read): KV906 on the path itself."""
    f = read_error(e.display, e.message)
    if e.message not in ("no such file or folder", "no file matches this pattern"):
        return f  # a folder that could not be read
    f.fix = (
        "check the path (relative to the current folder) or the pattern; quote a glob so the shell does not expand it"
    )
    return f


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
            for f, real in zip(found, source.real_paths(found), strict=True):
                if real not in skip:
                    files.setdefault(real, f)
            if notes is not None:
                notes.context_sources.append((source.display_path(d), "folder", len(files) - before))
            continue
        # Paths from git are relative to d: build display paths by prefixing, and compare
        # with the linted files by their path relative to d (no per-file realpath).
        real_d = os.path.realpath(d)
        real_head = real_d.rstrip(os.sep) + os.sep
        skip_rel = {s[len(real_head) :] if s.startswith(real_head) else os.path.relpath(s, real_d) for s in skip}
        # The linted files first (often all of them), then never through a link out of the
        # repository (or of the folder, outside one).
        listed = [n for n in listed if n not in skip_rel]
        listed = source.contained(d, listed, os.path.realpath(source.git_root(d) or d))
        prefix = source.display_path(d)
        prefix = "" if prefix == "." else prefix.rstrip("/") + "/"
        # (string concatenation: os.path.join per file costs more than the rest here)
        real_base = real_d.rstrip("/") + "/"
        base = d if d.endswith("/") else d + "/"
        for n in listed:
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
    from kvlint.pipeline import Job, lint_files
    from kvlint.shard import Restart

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
        linted = set(source.real_paths(files)) - {""}
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

    if lazy is not None and extra_context:
        # Cluster state and assumed objects come after the context in lookups: keep the
        # order of a run without the cache.
        lazy.materialize(context_files)
    jobs = opts.jobs or default_jobs()
    several = jobs > 1 and len(files) >= PARALLEL_MIN_FILES and all(f.real != source.STDIN for f in files)
    shards = min(jobs, len(files)) if several else 1

    def job() -> Job:
        return Job(
            config,
            opts.max_size,
            list(context_files),
            extra_context,
            state_problems,
            list(errors),
            baseline,
            opts.baseline,
            lazy,
            opts.keep,
            opts.fixes,
            opts.sarif_fixes,
            opts.progress,
        )

    try:
        return _noted(lint_files(files, job(), shards), notes)
    except Restart:
        # A file set aside as workloads only was not: the same pipeline, nothing set aside.
        return _noted(lint_files(files, job(), shards, set_aside=False), notes)


def lint_text(text: str, config: Config | None = None, path: str = "input.yaml") -> Result:
    """Lint one YAML text (used by tests and the rule examples); the Result's inventory
    holds every object in full."""
    from kvlint.pipeline import Job, lint_parsed

    return lint_parsed([parse_text(path, text)], Job(config or Config(), source.DEFAULT_MAX_FILE_SIZE, keep=True))
