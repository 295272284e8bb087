"""Command line: parse options, call the library, set the exit code. Nothing else."""

from __future__ import annotations

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


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "-f", "--format", "formats", multiple=True, default=("text",), show_default=True,
    help="Output format: text or json. Repeat for several; FORMAT:FILE writes that format to FILE.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the (first) format to this file.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Lowest severity that makes the exit code 1 (default: error).")
@click.option("--platform", type=click.Choice(["hco", "kubevirt"]), default=None,
              help="Platform defaults to apply (default: detected from the objects in view, else hco).")
@click.option("--kubevirt-version", "kv_version", metavar="VERSION", default=None,
              help="Target KubeVirt version for version-dependent rules (default 1.9).")
@click.option("--cluster-state", multiple=True, type=click.Path(),
              help="Objects used for resolution only (e.g. 'oc get ... -o yaml' output). Repeatable.")
@click.option("--exclude", multiple=True, help="Path glob to skip. Repeatable.")
@click.option("--max-file-size", type=int, default=None, help="Skip files larger than this many bytes (default 10 MiB).")
@click.option("--color/--no-color", default=None, help="Colour text output (default: only on a terminal).")
@click.option("--no-fix-hints", is_flag=True, help="Text output without fix hints.")
def lint(
    paths: tuple[str, ...],
    formats: tuple[str, ...],
    output: str | None,
    fail_on: str | None,
    platform: str | None,
    kv_version: str | None,
    cluster_state: tuple[str, ...],
    exclude: tuple[str, ...],
    max_file_size: int | None,
    color: bool | None,
    no_fix_hints: bool,
) -> None:
    """Lint manifests in PATHS (files, folders, globs; '-' reads stdin)."""
    from kvlint import report, source
    from kvlint.config import Config
    from kvlint.engine import fails
    from kvlint.runner import lint_paths

    outputs: list[tuple[str, str | None]] = []
    for spec in formats:
        fmt, dest = _split_format(spec)
        if fmt not in report.FORMATS:
            raise click.BadParameter(f"unknown format {fmt!r} (one of {', '.join(report.FORMATS)})", param_hint="--format")
        outputs.append((fmt, dest))
    if output and outputs and outputs[0][1] is None:
        outputs[0] = (outputs[0][0], output)

    config = Config(
        platform=platform,
        kubevirt_version=_version_option(kv_version),
        exclude=list(exclude),
    )
    if fail_on:
        config.fail_on = fail_on
    result = lint_paths(
        paths, config, cluster_state, max_file_size or source.DEFAULT_MAX_FILE_SIZE
    )
    for fmt, dest in outputs:
        options: dict[str, Any] = {}
        if fmt == "text":
            use_color = color if color is not None else (dest is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
            options = {"color": use_color, "show_fix": not no_fix_hints}
        text = report.render(fmt, result, **options)
        if dest is None:
            click.echo(text, nl=False)
        else:
            _write(dest, text)
    if result.input_errors:
        sys.exit(EXIT_USAGE)
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
