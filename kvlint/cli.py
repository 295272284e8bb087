"""Command line: parse options, call the library, set the exit code. Nothing else."""

from __future__ import annotations

import contextlib
import errno
import gc
import importlib
import importlib.util
import io
import os
import stat
import sys
from typing import Any

import click

from kvlint import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
#: Errors writing a standard stream: closed, full, gone, failing.
_OUTPUT_ERRORS = frozenset((errno.EBADF, errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EDQUOT))


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


#: One-line summaries for 'kvlint --help' (the docstrings' first sentences are longer than
#: the help screen's column, which would cut them mid-phrase).
SHORT_HELP = {
    "explain": "Explain why one VM can or cannot live-migrate.",
    "fix": "Apply the mechanical fixes to PATHS (--diff shows them).",
    "init": "Write a commented starter .kvlint.yaml.",
    "lint": "Lint manifests in PATHS (files, folders, globs, '-').",
    "rules": "List the rules, or show one (kvlint rules KV101).",
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
            found = super().get_command(ctx, cmd_name)
            if found is not None and cmd_name in SHORT_HELP:
                found.short_help = SHORT_HELP[cmd_name]
            return found
        module, _, attr = target.partition(":")
        if importlib.util.find_spec(module) is None:
            return None
        cmd = getattr(importlib.import_module(module), attr)
        assert isinstance(cmd, click.Command)
        cmd.short_help = SHORT_HELP.get(cmd_name, cmd.short_help)
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


class JobsType(click.ParamType[int]):
    """``--jobs``: 'auto' (0 internally: one process per available CPU) or an integer from 1."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        elif isinstance(value, str) and value.strip().lower() == "auto":
            return 0
        else:
            try:
                n = int(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is neither a number nor 'auto'", param, ctx)
        if n < 1:
            self.fail(f"{n} is not a process count: give 1 or more, or 'auto' (one per available CPU)", param, ctx)
        return n


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
            "--openshift-virtualization",
            "osv",
            metavar="4.NN",
            default=None,
            help="Target OpenShift Virtualization release: the hco platform, the KubeVirt version it "
            "ships and its HCO defaults (e.g. 4.19: KubeVirt v1.5, HCO v1.15).",
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
            help="Folder whose manifests feed resolution only; findings are reported for PATHS alone. "
            "Default: the git repository that holds PATHS (its tracked and staged files, never "
            "untracked ones), so a file and its folder get the same verdicts. Repeatable.",
        ),
        click.option("--no-context", is_flag=True, help="Read nothing but PATHS (and --cluster-state) for resolution."),
        click.option(
            "--kustomize/--no-kustomize",
            "kustomize",
            default=None,
            help="Render PATH folders that hold a kustomization with kustomize (or kubectl kustomize) "
            "and lint the result, each finding mapped to its source file or patch line (default: "
            "only overlays, i.e. kustomizations that patch or build on a base outside their folder).",
        ),
        click.option(
            "--no-gitignore",
            is_flag=True,
            help="Also lint files that .gitignore ignores when walking a folder in a git repository.",
        ),
        click.option("--exclude", multiple=True, help="Path glob to skip. Repeatable."),
        click.option(
            "--max-file-size", type=int, default=None, help="Skip files larger than this many bytes (default 10 MiB)."
        ),
        click.option(
            "-j",
            "--jobs",
            type=JobsType(),
            default="auto",
            show_default=True,
            help="Processes that parse and check: a number from 1, or 'auto' (one per available CPU).",
        ),
        click.option("--no-cache", is_flag=True, help="Do not use or write the cache of parsed context files."),
    ]
    for opt in reversed(options):
        fn = opt(fn)
    return fn


def default_context(paths: tuple[str, ...], git_root: Any) -> list[str]:
    """The git repository that holds the first PATH (file or folder; not stdin), as a path
    relative to the current folder when below it, or nothing."""
    first = next((p for p in paths if p != "-" and os.path.exists(p)), None)
    if first is None:
        return []
    start = first if os.path.isdir(first) else (os.path.dirname(os.path.abspath(first)) or ".")
    root = git_root(start)
    if not root:
        return []
    rel = os.path.relpath(root)
    return [root if rel.startswith("..") else rel]


def build_run(
    paths: tuple[str, ...],
    config_path: str | None,
    no_config: bool,
    platform: str | None,
    kv_version: str | None,
    osv: str | None,
    cluster_state: tuple[str, ...],
    context: tuple[str, ...],
    no_context: bool,
    kustomize: bool | None,
    no_gitignore: bool,
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
    if osv:
        from kvlint.config import ConfigError, set_openshift_virtualization

        if platform is None and cfg.platform == "kubevirt":
            cfg.platform = None  # the command line's release replaces the file's platform
        if kv_version is None and cfg.openshift_virtualization is not None:
            cfg.kubevirt_version = None  # ... and the file's release
        try:
            set_openshift_virtualization(cfg, osv)
        except ConfigError as e:
            raise click.BadParameter(str(e)) from e
    cfg.exclude = [*cfg.exclude, *exclude]
    ctx_dirs: list[str] = list(context)
    if not ctx_dirs and not no_context:
        ctx_dirs = default_context(paths, git_root)
    if no_context:
        ctx_dirs = []
    opts = Options(
        cluster_state=cluster_state,
        context=ctx_dirs,
        max_size=max_file_size or source.DEFAULT_MAX_FILE_SIZE,
        jobs=jobs,
        cache=not no_cache,
        gitignore=not no_gitignore,
        kustomize=kustomize,
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
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text output, also through a pipe or into a file (default: on a terminal only; "
    "NO_COLOR turns it off, FORCE_COLOR on, TERM=dumb off).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print only the findings at or above the failure threshold (--fail-on) and the summary line.",
)
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
    quiet: bool,
    no_fix_hints: bool,
    **shared: Any,
) -> None:
    """Lint manifests in PATHS (files, folders, globs; '-' reads stdin).

    Findings are reported for PATHS only. To resolve what PATHS refer to (a PVC, a
    StorageProfile, the platform), kvlint also reads the context: by default the git
    repository that holds PATHS, its tracked and staged files only. So 'kvlint lint
    vms/db/vm.yaml' and 'kvlint lint vms/db/' give that VM the same verdicts. A run that
    reads context says so in one line ('context: 412 files from the git repository at .').
    --context DIR names other folders, --no-context reads nothing but PATHS.

    Files that are not Kubernetes manifests (no apiVersion or kind, or a known name such
    as .gitlab-ci.yml) are skipped and counted; folders are walked without the files that
    .gitignore ignores (--no-gitignore to include them).
    """
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
    _refuse_input_destinations(
        [dest for _, dest in outputs if dest] + ([write_baseline] if write_baseline else []), paths, config.exclude
    )
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
        use_color = False
        if fmt == "text":
            from kvlint.report.text import wants_color

            use_color = wants_color(color, sys.stdout if dest is None else None)
            options = {"color": use_color, "show_fix": not no_fix_hints, "quiet": quiet, "fail_on": config.fail_on}
        elif fmt == "junit":
            options = {"fail_on": config.fail_on}
        text = report.render(fmt, result, **options)
        if dest is None:
            # color=True: click would otherwise strip the colour codes when stdout is not a terminal.
            click.echo(text, nl=False, color=True if use_color else None)
        else:
            _write(dest, text)
    if result.input_errors:
        sys.exit(EXIT_USAGE)
    if write_baseline:
        sys.exit(EXIT_OK)
    sys.exit(EXIT_FINDINGS if fails(result.findings, config.fail_on) else EXIT_OK)


def _refuse_input_destinations(dests: list[str], paths: tuple[str, ...], exclude: list[str]) -> None:
    """Exit 2 before linting when a report would overwrite one of the input files (a file
    named like an option, ``--output=vm.yaml``, once turned a manifest into a report)."""
    existing = []
    for dest in dests:
        with contextlib.suppress(OSError):
            st = os.stat(dest)
            if stat.S_ISREG(st.st_mode):  # (not /dev/null, a FIFO or a terminal)
                existing.append((dest, (st.st_dev, st.st_ino)))
    if not existing:
        return
    from kvlint import source

    files, _ = source.discover(paths, exclude)
    inputs = set()
    for f in files:
        if f.real != source.STDIN:
            with contextlib.suppress(OSError):
                st = os.stat(f.real)
                inputs.add((st.st_dev, st.st_ino))
    for dest, ident in existing:
        if ident in inputs:
            click.echo(
                f"kvlint: refusing to write a report to {source.printable(dest)}: it is one of the files to lint "
                "(write it elsewhere or --exclude it; put '--' before file names that start with '-')",
                err=True,
            )
            sys.exit(EXIT_USAGE)


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


class _Closed(io.TextIOBase):
    """Stands in for a standard stream the process was started without: writing to it is
    an error (exit 2), not silence."""

    def __init__(self, name: str) -> None:
        self.name = name

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        raise OSError(errno.EBADF, f"{self.name} is closed")

    def isatty(self) -> bool:
        return False


def main() -> None:
    if sys.stdout is None:
        sys.stdout = _Closed("standard output")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - nowhere to report anything
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
        if isinstance(e, OSError) and e.errno in _OUTPUT_ERRORS:
            # A closed or full standard output (or one on a failing device): one line, exit 2.
            with contextlib.suppress(Exception):
                click.echo(f"kvlint: cannot write the output: {e.strerror or e}", err=True)
            sys.exit(EXIT_USAGE)
        click.echo(f"kvlint: internal error: {type(e).__name__}: {e}", err=True)
        sys.exit(EXIT_USAGE)
