"""The whole pipeline: paths -> source -> parse -> inventory -> rules -> result."""

from __future__ import annotations

from collections.abc import Sequence

from kvlint import source
from kvlint.config import Config
from kvlint.engine import Result, run
from kvlint.models import Finding, Location
from kvlint.parse import Document, ParsedFile, parse_text


def read_error(display: str, message: str) -> Finding:
    return Finding(
        rule="KV906",
        severity="error",
        message=message,
        fix="fix or remove the file, or exclude it (--exclude / exclude: in .kvlint.yaml)",
        location=Location(display, 1, 1, 1, 1),
    )


def parse_sources(
    files: Sequence[source.SourceFile], max_size: int
) -> tuple[list[ParsedFile], list[Finding]]:
    parsed: list[ParsedFile] = []
    errors: list[Finding] = []
    for src in files:
        text = source.read(src, max_size)
        if text.text is None:
            errors.append(read_error(src.display, text.error or "cannot read file"))
            continue
        parsed.append(parse_text(src.display, text.text))
    return parsed, errors


def lint_paths(
    paths: Sequence[str],
    config: Config,
    cluster_state: Sequence[str] = (),
    max_size: int = source.DEFAULT_MAX_FILE_SIZE,
) -> Result:
    files, missing = source.discover(paths, config.exclude)
    parsed, errors = parse_sources(files, max_size)
    errors = [read_error(e.display, e.message) for e in missing] + errors
    context_docs: list[Document] = []
    if cluster_state:
        cfiles, cmissing = source.discover(cluster_state)
        cparsed, cerrors = parse_sources(cfiles, max_size)
        errors += [read_error(e.display, e.message) for e in cmissing] + cerrors
        for pf in cparsed:
            context_docs.extend(pf.documents)
            if pf.problems:
                # Problems in cluster state are still input problems of this run.
                parsed.append(ParsedFile(pf.path, [], pf.problems))
    return run(parsed, config, context_docs, errors)


def lint_text(text: str, config: Config | None = None, path: str = "input.yaml") -> Result:
    """Lint one YAML text (used by tests and the rule examples)."""
    return run([parse_text(path, text)], config or Config())
