"""``kvlint fix``: apply the automatic fixes of the findings in PATHS."""

from __future__ import annotations

import sys
from typing import Any

import click

from kvlint.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, build_run, common_options


def _where(f: Any) -> str:
    loc = f.location
    return f"{loc.file}:{loc.line}:{loc.column}"


def _sort_key(f: Any) -> Any:
    return f.sort_key()


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Also apply fixes that change behaviour (bridge -> masquerade, ReadWriteMany "
    "claims, dropping forwarded ports).",
)
@click.option(
    "--diff", "--dry-run", "diff", is_flag=True, help="Print the changes as a unified diff and write nothing."
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default=None,
    help="Lowest severity of a remaining finding that makes the exit code 1 (default: "
    "error, or failOn in .kvlint.yaml).",
)
@click.option(
    "--no-inline-suppressions",
    is_flag=True,
    help="Ignore kvlint.io/ignore annotations and '# kvlint: ignore=' comments (suppressed findings are never fixed).",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, exists=True),
    help="Accept the findings recorded in this baseline: they are not fixed.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
@common_options
def fix(
    paths: tuple[str, ...],
    unsafe_fixes: bool,
    diff: bool,
    fail_on: str | None,
    no_inline_suppressions: bool,
    baseline: str | None,
    quiet: bool,
    **shared: Any,
) -> None:
    """Fix what can be fixed mechanically in PATHS (files, folders, globs).

    Safe fixes keep the manifests' meaning and are applied by default; unsafe fixes change
    behaviour and need --unsafe-fixes. Files are rewritten in place (atomically); comments,
    key order, quoting and indentation are kept, and only the documents that change are
    rewritten; files without fixes are never touched. Exit code: 0 when nothing at or above
    --fail-on remains, 1 when findings remain (with --diff: also when there is something to
    fix), 2 on input errors or files that could not be written.
    """
    from kvlint import fix as fixmod
    from kvlint import source
    from kvlint.engine import fails
    from kvlint.runner import lint_paths

    if source.STDIN in paths:
        click.echo(
            "kvlint: standard input cannot be fixed: name the files (or use 'kvlint lint -' to only check it)", err=True
        )
        sys.exit(EXIT_USAGE)
    config, opts = build_run(paths, **shared)
    opts.fixes = True  # what the fixes need is recorded while the checks run
    if fail_on:
        config.fail_on = fail_on
    if no_inline_suppressions:
        config.inline_suppressions = False
    opts.baseline = baseline
    result = lint_paths(paths, config, options=opts)
    files, _ = source.discover(paths, config.exclude)
    plan = fixmod.plan(result, unsafe=unsafe_fixes, sources={f.display: f.real for f in files})

    errors = list(plan.errors)
    written = []
    if not diff:
        import os

        # Temporary files of an interrupted run, next to the files linted.
        fixmod.remove_stale(os.path.dirname(os.path.realpath(f.real)) for f in files)
    for fp in plan.files:
        if diff:
            click.echo(fixmod.unified_diff(fp), nl=False)
            continue
        try:
            fixmod.write_atomic(fp)
        except fixmod.Changed as e:
            errors.append(f"{fp.display}: not fixed: {e} (run kvlint fix again)")
            continue
        except fixmod.Refused as e:
            errors.append(f"{fp.display}: not fixed: {e}")
            continue
        except OSError as e:
            errors.append(f"{fp.display}: cannot write: {e.strerror or e}")
            continue
        written.append(fp)

    done = plan.files if diff else written
    done_ids = {id(it.finding) for fp in done for it in fp.applied}
    fixed = [f for f in plan.fixed if id(f) in done_ids]
    # Fixes that could not be written leave their findings in place.
    remaining = [*plan.remaining, *(f for f in plan.fixed if id(f) not in done_ids)]
    open_findings = sorted((f for f in remaining if f.suppressed is None), key=_sort_key)

    out = sys.stderr if diff else sys.stdout
    if not quiet:
        for fp in done:
            for it in fp.applied:
                verb = "would fix" if diff else "fixed"
                desc = "; ".join(e.description for e in it.edits)
                click.echo(f"{_where(it.finding)}: {it.finding.rule} {verb}: {desc}", file=out)
            if fp.reemitted:
                docs = _count(fp.reemitted, "document", "documents")
                click.echo(
                    f"{fp.display}: note: {docs} re-emitted whole (ruamel.yaml could not "
                    "keep the rest of the lines as written)",
                    file=out,
                )
        for f, why in plan.refused:
            click.echo(f"{_where(f)}: {f.rule} not fixed: {why}", file=out)
    for msg in errors:
        click.echo(f"kvlint: {msg}", err=True)

    n_files = len({fp.display for fp in done})
    would = diff
    parts = [
        f"{_count(len(fixed), 'fix', 'fixes')} {'would be applied' if would else 'applied'} "
        f"in {_count(n_files, 'file', 'files')}"
    ]
    if open_findings:
        n = len(open_findings)
        verb = "would remain" if would else "remain" if n != 1 else "remains"
        parts.append(f"{_count(n, 'finding', 'findings')} {verb} (run 'kvlint lint')")
    if plan.unsafe_available and not unsafe_fixes:
        parts.append(f"{_count(len(plan.unsafe_available), 'unsafe fix', 'unsafe fixes')} available (--unsafe-fixes)")
    click.echo("kvlint: " + "; ".join(parts), file=out)

    if result.input_errors or errors:
        sys.exit(EXIT_USAGE)
    if diff and fixed:
        sys.exit(EXIT_FINDINGS)  # there is something to fix
    sys.exit(EXIT_FINDINGS if fails(open_findings, config.fail_on) else EXIT_OK)
