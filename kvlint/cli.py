"""Command line: parse options, call the library, set the exit code. Nothing else."""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import os
import sys
from typing import Any

import click

from kvlint import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _version_option(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    from kvlint.inventory import parse_version

    try:
        return parse_version(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from e


#: Commands that live in their own modules, imported only when used (lean start-up).
LAZY_COMMANDS = {
    "explain": "kvlint.cli_explain:explain",
    "fix": "kvlint.cli_fix:fix",
    "init": "kvlint.cli_init:init",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        available = []
        for name, target in LAZY_COMMANDS.items():
            module = target.partition(":")[0]
            if importlib.util.find_spec(module) is not None:
                available.append(name)
        return sorted([*super().list_commands(ctx), *available])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attr = target.partition(":")
        if importlib.util.find_spec(module) is None:
            return None
        cmd = getattr(importlib.import_module(module), attr)
        assert isinstance(cmd, click.Command)
        return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="kvlint")
def cli() -> None:
    """kvlint: tell, before anything reaches a cluster, whether KubeVirt VMs can be
    live-migrated, and what to change when they cannot."""


def _split_format(spec: str) -> tuple[str, str | None]:
    if ":" in spec:
        fmt, _, path = spec.partition(":")
        return fmt, path or None
    return spec, None


def load_run_config(config_path: str | None, no_config: bool) -> Any:
    """The configuration file (given, or found upward), or defaults; exits 2 on errors."""
    from kvlint.config import Config, ConfigError, find_config, load_config

    path = None if no_config else (config_path or find_config())
    if path is None:
        return Config()
    try:
        cfg = load_config(path)
        from kvlint import catalog
        from kvlint.config import check_rule_ids

        check_rule_ids(cfg, set(catalog.load()))
    except ConfigError as e:
        click.echo(f"kvlint: {e}", err=True)
        sys.exit(EXIT_USAGE)
    return cfg


def common_options(fn: Any) -> Any:
    """Options shared by 'lint' and 'explain'."""
    options = [
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False),
            help="Configuration file (default: .kvlint.yaml found upward from the current folder).",
        ),
        click.option("--no-config", is_flag=True, help="Ignore any .kvlint.yaml."),
        click.option(
            "--platform",
            type=click.Choice(["hco", "kubevirt"]),
            default=None,
            help="Platform defaults (default: detected from the objects in view, else hco).",
        ),
        click.option(
            "--kubevirt-version",
            "kv_version",
            metavar="VERSION",
            default=None,
            help="Target KubeVirt version for version-dependent rules (default 1.9).",
        ),
        click.option(
            "--cluster-state",
            multiple=True,
            type=click.Path(),
            help="Objects for resolution only, e.g. the output of 'oc get storageclasses,"
            "storageprofiles,hyperconverged,kubevirt,migrationpolicies,namespaces,nodes -A -o yaml'. Repeatable.",
        ),
        click.option(
            "--context",
            "context",
            multiple=True,
            type=click.Path(file_okay=False),
            help="Folder whose manifests feed resolution only (default when PATHS are files: the git "
            "repository root). Repeatable.",
        ),
        click.option("--no-context", is_flag=True, help="Do not load any context folder."),
        click.option("--exclude", multiple=True, help="Path glob to skip. Repeatable."),
        click.option(
            "--max-file-size", type=int, default=None, help="Skip files larger than this many bytes (default 10 MiB)."
        ),
        click.option(
            "-j", "--jobs", type=int, default=0, help="Processes that parse and check (default: one per available CPU)."
        ),
        click.option("--no-cache", is_flag=True, help="Do not use or write the cache of parsed context files."),
    ]
    for opt in reversed(options):
        fn = opt(fn)
    return fn


def build_run(
    paths: tuple[str, ...],
    config_path: str | None,
    no_config: bool,
    platform: str | None,
    kv_version: str | None,
    cluster_state: tuple[str, ...],
    context: tuple[str, ...],
    no_context: bool,
    exclude: tuple[str, ...],
    max_file_size: int | None,
    jobs: int,
    no_cache: bool,
) -> tuple[Any, Any]:
    """(Config, runner.Options) from the shared options."""
    from kvlint import source
    from kvlint.runner import Options, git_root

    cfg = load_run_config(config_path, no_config)
    if platform:
        cfg.platform = platform
    if kv_version:
        cfg.kubevirt_version = _version_option(kv_version)
    cfg.exclude = [*cfg.exclude, *exclude]
    ctx_dirs: list[str] = list(context)
    if not ctx_dirs and not no_context and paths and all(os.path.isfile(p) for p in paths):
        root = git_root(os.path.dirname(os.path.abspath(paths[0])) or ".")
        if root:
            ctx_dirs = [root]
    if no_context:
        ctx_dirs = []
    opts = Options(
        cluster_state=cluster_state,
        context=ctx_dirs,
        max_size=max_file_size or source.DEFAULT_MAX_FILE_SIZE,
        jobs=jobs,
        cache=not no_cache,
        progress=True,  # (only ever shown on a terminal: kvlint.progress)
    )
    return cfg, opts


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "-f",
    "--format",
    "formats",
    multiple=True,
    default=("text",),
    show_default=True,
    help="Output format: text, json, sarif, junit or github. Repeat for several; FORMAT:FILE "
    "writes that format to FILE.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the (first) format to this file.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default=None,
    help="Lowest severity that makes the exit code 1 (default: error, or failOn in .kvlint.yaml).",
)
@click.option(
    "--no-inline-suppressions",
    is_flag=True,
    help="Ignore kvlint.io/ignore annotations and '# kvlint: ignore=' comments (audits).",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, exists=True),
    help="Accept the findings recorded in this baseline; fail only on new ones.",
)
@click.option(
    "--write-baseline", type=click.Path(dir_okay=False), help="Record today's findings (fingerprints) in this file."
)
@click.option("--color/--no-color", default=None, help="Colour text output (default: only on a terminal).")
@click.option("--no-fix-hints", is_flag=True, help="Text output without fix hints.")
@common_options
def lint(
    paths: tuple[str, ...],
    formats: tuple[str, ...],
    output: str | None,
    fail_on: str | None,
    no_inline_suppressions: bool,
    baseline: str | None,
    write_baseline: str | None,
    color: bool | None,
    no_fix_hints: bool,
    **shared: Any,
) -> None:
    """Lint manifests in PATHS (files, folders, globs; '-' reads stdin)."""
    from kvlint import report
    from kvlint.engine import fails
    from kvlint.runner import lint_paths

    outputs: list[tuple[str, str | None]] = []
    for spec in formats:
        fmt, dest = _split_format(spec)
        if fmt not in report.FORMATS:
            raise click.BadParameter(
                f"unknown format {fmt!r} (one of {', '.join(report.FORMATS)})", param_hint="--format"
            )
        outputs.append((fmt, dest))
    if output and outputs and outputs[0][1] is None:
        outputs[0] = (outputs[0][0], output)

    config, opts = build_run(paths, **shared)
    # SARIF results carry their fixes: worked out as the checks run, in every shard.
    opts.sarif_fixes = any(fmt == "sarif" for fmt, _ in outputs)
    if fail_on:
        config.fail_on = fail_on
    if no_inline_suppressions:
        config.inline_suppressions = False
    opts.baseline = baseline
    result = lint_paths(paths, config, options=opts)
    if write_baseline:
        from kvlint.suppress import write_baseline as write_bl

        n = write_bl(write_baseline, result.findings)
        click.echo(f"kvlint: wrote {n} finding(s) to {write_baseline}", err=True)
    for fmt, dest in outputs:
        options: dict[str, Any] = {}
        if fmt == "text":
            use_color = (
                color if color is not None else (dest is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
            )
            options = {"color": use_color, "show_fix": not no_fix_hints}
        text = report.render(fmt, result, **options)
        if dest is None:
            click.echo(text, nl=False)
        else:
            _write(dest, text)
    if result.input_errors:
        sys.exit(EXIT_USAGE)
    if write_baseline:
        sys.exit(EXIT_OK)
    sys.exit(EXIT_FINDINGS if fails(result.findings, config.fail_on) else EXIT_OK)


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        click.echo(f"kvlint: cannot write {path}: {e.strerror}", err=True)
        sys.exit(EXIT_USAGE)


@cli.command()
@click.argument("rule_id", required=False)
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
def rules(rule_id: str | None, fmt: str) -> None:
    """List the rule catalog, or show one rule (e.g. 'kvlint rules KV101')."""
    from kvlint import catalog
    from kvlint.report import rules_doc

    all_rules = catalog.load()
    if rule_id is not None:
        meta = all_rules.get(rule_id.upper())
        if meta is None:
            meta = next((r for r in all_rules.values() if r.name == rule_id), None)
        if meta is None:
            click.echo(f"kvlint: no rule {rule_id!r} (see 'kvlint rules')", err=True)
            sys.exit(EXIT_USAGE)
        click.echo(rules_doc.one(meta, fmt), nl=False)
        return
    click.echo(rules_doc.table(list(all_rules.values()), fmt), nl=False)


def main() -> None:
    # A lint run allocates millions of small containers and frees them only at exit; the
    # cyclic garbage collector would traverse them again and again (about a quarter of the
    # run time on a large tree) and finds nothing to free. Reference counting still frees
    # everything that is not in a cycle.
    gc.disable()
    try:
        _main()
        code = EXIT_OK
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or EXIT_OK
        else:
            print(e.code, file=sys.stderr)
            code = EXIT_USAGE
    # Leave without the interpreter's teardown, which would free every object of the run
    # one by one (a tenth of a second and more on a large tree) for nothing. Every output
    # is written and closed by now; only the standard streams need flushing.
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or EXIT_USAGE
    except (OSError, ValueError) as e:  # a full disk, a closed stream
        with contextlib.suppress(Exception):
            print(f"kvlint: cannot write the output: {e}", file=sys.stderr)
        code = EXIT_USAGE
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(code)


def _main() -> None:
    try:
        cli.main(prog_name="kvlint", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("kvlint: aborted", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except BrokenPipeError:
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - never show a traceback to a user
        click.echo(f"kvlint: internal error: {type(e).__name__}: {e}", err=True)
        sys.exit(EXIT_USAGE)
