#!/usr/bin/env python3
"""kvlint performance benchmark (not part of the test suite's pass/fail).

    .venv/bin/python bench/run.py                      # every shape at 1k and 10k
    .venv/bin/python bench/run.py --vms 1000 --shape policies-200 --json /tmp/bench.json

It measures kvlint on several tree *shapes*, each at every size (``--vms``, default 1k and
10k; the size is the number of VMs, or of files for the corpus shape):

  bench         bench/generate.py's default tree (about 50 VMs per namespace, 4 policies)
  policies-200  40 namespaces, 200 MigrationPolicies (a policy per team and role)
  policies-4    the same 40 namespaces with the 4 default policies (compare with the above)
  flow-30       the default tree with 30 % of the VM files in flow style ({bus: virtio}, [a, b])
  corpus        small files of varied real-world style: the folder given by --corpus (default
                ../shared/corpus next to the project, when present) replicated into a scratch
                folder of the benchmark (never into the project) up to the size in files;
                skipped when that folder is absent

Generated trees are cached in bench/out/ (git-ignored). For each tree it measures, side by
side and interleaved, with each command repeated ``--repeat`` times (median wall reported):

  kvlint           kvlint lint --format json TREE              (default --jobs)
  kvlint-jobs1     kvlint lint --format json --jobs 1 TREE
  floor            one Python process that reads every .yaml file of TREE and composes it
                   with libyaml (yaml.compose_all(text, Loader=yaml.CSafeLoader))
  yamllint         yamllint -f parsable TREE                           (when installed)
  checkov          checkov -d TREE --framework kubernetes --quiet --compact  (when installed)

then start-up (``kvlint --version``; ``kvlint lint`` of one small file, median of 10) and
pre-commit mode (one changed file with ``--context TREE``, warm cache). It prints the
numbers, the ratios and a PASS/FAIL table against the performance targets.

Every measured command runs in its own small wrapper process (``python -I -S -c WRAPPER``)
that spawns the command, waits for it with ``os.wait4`` and reports the command's wall time,
CPU time (user+sys of the command and every descendant it waited for), its ``ru_maxrss``
(the largest single process of the command), a sampled peak of the summed RSS of the whole
process tree, and the wrapper's own ``ru_maxrss``. Numbers are therefore per command and never
cumulative across commands.

Standard library + PyYAML only. The kvlint measured is the one next to the interpreter that
runs this script (``Path(sys.executable).parent / "kvlint"``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (bench/generate.py)

DEFAULT_SIZES = (1000, 10000)

# Targets (see docs/performance.md).
TARGET_DEFAULT_VS_FLOOR = 1.3
TARGET_JOBS1_VS_FLOOR = 2.0
TARGET_SCALING_PER_10X = 11.0  # time(10N) / time(N)
TARGET_PEAK_MB = 300.0
TARGET_STARTUP_MS = 150.0
TARGET_PRECOMMIT_MS = 300.0
TARGET_POLICIES_200_VS_4 = 1.10  # 200 policies within 10 % of 4 policies (same tree otherwise)

#: Shape name -> bench/generate.py knobs (the corpus shape is built by replicate_corpus).
SHAPES: dict[str, dict[str, Any]] = {
    "bench": {},
    "policies-200": {"namespaces": 40, "policies": 200},
    "policies-4": {"namespaces": 40, "policies": 4},
    "flow-30": {"flow": 0.3},
    "corpus": {},
}

# --------------------------------------------------------------------------- wrapper

#: Runs one command and prints one JSON line about it. argv: OUT ERR CMD...
WRAPPER = r"""
import json, os, resource, sys, threading, time
out_path, err_path, *argv = sys.argv[1:]
PAGE = os.sysconf("SC_PAGE_SIZE")

def tree_rss(root):
    # Sum of RSS over root and its descendants (/proc scan: works without
    # CONFIG_PROC_CHILDREN). Pages shared by forked workers count once per process.
    parent, rss = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/" + name + "/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        pid = int(name)
        parent[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * PAGE
    total, stack, seen = 0, [root], set()
    children = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        total += rss.get(p, 0)
        stack.extend(children.get(p, ()))
    return total

peak = 0
done = threading.Event()

def sample(pid):
    global peak
    while not done.is_set():
        try:
            peak = max(peak, tree_rss(pid))
        except Exception:
            pass
        done.wait(0.05)

flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
actions = [
    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
    (os.POSIX_SPAWN_OPEN, 1, out_path, flags, 0o644),
    (os.POSIX_SPAWN_OPEN, 2, err_path, flags, 0o644),
]
t0 = time.perf_counter()
pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
sampler = threading.Thread(target=sample, args=(pid,), daemon=True)
sampler.start()
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
done.set()
sampler.join()
me = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "wall": wall,
    "user": ru.ru_utime,
    "sys": ru.ru_stime,
    "maxrss_kb": ru.ru_maxrss,
    "tree_rss_peak_kb": peak // 1024,
    "wrapper_maxrss_kb": me.ru_maxrss,
    "rc": os.waitstatus_to_exitcode(status),
}))
"""

#: The floor: read every .yaml file and compose it with libyaml. argv: TREE
FLOOR = r"""
import os, sys, yaml
n = 0
for root, dirs, files in os.walk(sys.argv[1]):
    dirs.sort()
    for name in sorted(files):
        if name.endswith(".yaml"):
            try:
                with open(os.path.join(root, name), encoding="utf-8") as fh:
                    text = fh.read()
                for _node in yaml.compose_all(text, Loader=yaml.CSafeLoader):
                    n += 1
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                pass  # a bad file still costs its reading, as in kvlint
print(n)
"""


@dataclass
class Run:
    wall: float
    cpu: float
    maxrss_mb: float
    tree_rss_mb: float
    wrapper_mb: float
    rc: int


@dataclass
class Measure:
    name: str
    argv: list[str] | None
    note: str = ""
    runs: list[Run] = field(default_factory=list)
    ok_rcs: tuple[int, ...] | None = (0,)  # None: any exit code is fine
    error: str = ""

    @property
    def measured(self) -> bool:
        return bool(self.runs) and not self.error

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def maxrss_mb(self) -> float:
        return max(r.maxrss_mb for r in self.runs)

    @property
    def tree_rss_mb(self) -> float:
        return max(r.tree_rss_mb for r in self.runs)

    @property
    def peak_mb(self) -> float:
        """Memory the command needs: the larger of the biggest process and the tree sum."""
        return max(self.maxrss_mb, self.tree_rss_mb)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "argv": self.argv,
            "note": self.note or None,
            "error": self.error or None,
        }
        if self.measured:
            d.update(
                wall_median_s=round(self.wall, 4),
                wall_min_s=round(min(r.wall for r in self.runs), 4),
                wall_max_s=round(max(r.wall for r in self.runs), 4),
                cpu_median_s=round(self.cpu, 4),
                maxrss_mb=round(self.maxrss_mb, 1),
                tree_rss_peak_mb=round(self.tree_rss_mb, 1),
                runs=[asdict(r) for r in self.runs],
            )
        return d


class Runner:
    def __init__(self, workdir: Path, env: dict[str, str], timeout: float) -> None:
        self.workdir = workdir
        self.env = env
        self.timeout = timeout
        self.count = 0

    def once(self, argv: list[str], cwd: Path | None = None) -> tuple[Run, Path, Path]:
        self.count += 1
        out = self.workdir / f"cmd-{self.count}.out"
        err = self.workdir / f"cmd-{self.count}.err"
        wrapper = [sys.executable, "-I", "-S", "-c", WRAPPER, str(out), str(err), *argv]
        proc = subprocess.Popen(
            wrapper,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd or self.workdir,
            env=self.env,
            start_new_session=True,
            text=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the session this script started
            proc.communicate()
            raise RuntimeError(f"timed out after {self.timeout:.0f} s") from None
        if proc.returncode != 0 or not stdout.strip():
            raise RuntimeError(f"wrapper failed ({proc.returncode}): {stderr.strip()[-500:]}")
        d = json.loads(stdout.strip().splitlines()[-1])
        run = Run(
            wall=d["wall"],
            cpu=d["user"] + d["sys"],
            maxrss_mb=d["maxrss_kb"] / 1024,
            tree_rss_mb=d["tree_rss_peak_kb"] / 1024,
            wrapper_mb=d["wrapper_maxrss_kb"] / 1024,
            rc=d["rc"],
        )
        return run, out, err

    def measure(self, m: Measure, cwd: Path | None = None) -> Path | None:
        """Run ``m`` once more; return its stdout file (None when it failed)."""
        if m.argv is None or m.error:
            return None
        try:
            run, out, err = self.once(m.argv, cwd)
        except RuntimeError as e:
            m.error = str(e)
            return None
        if m.ok_rcs is not None and run.rc not in m.ok_rcs:
            tail = err.read_text(errors="replace").strip()[-800:]
            m.error = f"exit code {run.rc}: {tail}"
            return None
        m.runs.append(run)
        return out


# --------------------------------------------------------------------------- helpers


def tool(name: str) -> str | None:
    """An executable next to the interpreter (the venv), else on PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def capture(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"<{e}>"
    return (p.stdout + p.stderr).strip()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def kvlint_revision(env: dict[str, str], cwd: Path) -> str:
    """Where the measured kvlint's code comes from: a git revision, or an installed package."""
    where = capture(
        [sys.executable, "-c", "import kvlint, os; print(os.path.dirname(kvlint.__file__))"],
        env,
        cwd,
    )
    git = shutil.which("git")
    if not where or not os.path.isdir(where) or git is None:
        return "unknown"
    head = subprocess.run([git, "-C", where, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return f"installed package at {where} (not a git work tree)"
    dirty = subprocess.run(
        [git, "-C", where, "status", "--porcelain", "--untracked-files=no", "--", "."],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"git {head.stdout.strip()}{' + uncommitted changes' if dirty else ''} ({where})"


def mem_total_mb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def ensure_tree(shape: str, vms: int, root: Path, regenerate: bool) -> tuple[Path, dict[str, Any]]:
    knobs = SHAPES[shape]
    out = root / (f"vms-{vms}" if shape == "bench" else f"{shape}-{vms}")
    stamp = out / generate.STAMP
    if not regenerate and stamp.exists():
        try:
            info = json.loads(stamp.read_text())
        except ValueError:
            info = {}
        if (
            info.get("vms") == vms
            and info.get("seed") == 0
            and info.get("generator_version") == generate.GENERATOR_VERSION
            and info.get("generator_sha256") == generate.source_digest()
        ):
            if not (out / ".git").exists():
                git_index(out)
            return out, info
    print(f"generating {out} ...", flush=True)
    files, info = generate.generate(vms, **knobs)
    generate.write_tree(files, out, info)
    git_index(out)
    return out, info


def replicate_corpus(corpus: Path, files: int, dest: Path) -> tuple[Path, dict[str, Any]]:
    """``files`` .yaml files taken from ``corpus`` in order, cycling (copy k of a file goes to
    ``copy-k/``), in a scratch folder of this run."""
    sources = sorted(p for p in corpus.rglob("*.yaml") if p.is_file())
    out = dest / f"corpus-{files}"
    total = 0
    for i in range(files):
        src = sources[i % len(sources)]
        target = out / f"copy-{i // len(sources):02d}" / src.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        total += target.stat().st_size
    git_index(out)
    info = {"files": files, "bytes": total, "namespaces": 0, "vms_with_blocker": 0, "corpus_files": len(sources)}
    return out, info


def git_index(tree: Path) -> None:
    """Make the tree its own git repository with every file staged (nothing is committed).

    A GitOps tree is a git repository, and kvlint's --context lists a folder inside a git
    work tree with 'git ls-files --exclude-standard': inside this project's work tree,
    bench/out/ is git-ignored, so without a repository of its own the context would be empty.
    """
    git = shutil.which("git")
    if git is None:
        print("  (git not found: the tree is not a git repository; --context may see nothing)")
        return
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1")
    subprocess.run([git, "init", "-q", str(tree)], check=True, env=env)
    subprocess.run([git, "-C", str(tree), "add", "-A"], check=True, env=env)


def vm_files(tree: Path) -> list[Path]:
    """The tree's VM files (not the separate -data.yaml files), sorted."""
    return sorted(p for p in (tree / "apps").rglob("vm-*.yaml") if not p.name.endswith("-data.yaml"))


def size_label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def fmt_s(v: float) -> str:
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def fmt_ratio(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def count_vms_with_errors(json_out: Path) -> int | None:
    try:
        d = json.loads(json_out.read_text())
    except (OSError, ValueError):
        return None
    names = set()
    for f in d.get("findings", []):
        obj = f.get("object") or {}
        if f.get("severity") == "error" and obj.get("kind") == "VirtualMachine":
            names.add((obj.get("namespace"), obj.get("name")))
    return len(names)


# --------------------------------------------------------------------------- benchmark


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="kvlint performance benchmark")
    ap.add_argument(
        "--vms",
        type=int,
        action="append",
        help="tree size in VMs (files for the corpus shape); repeat for several (default: 1000 and 10000)",
    )
    ap.add_argument(
        "--shape",
        action="append",
        choices=sorted(SHAPES),
        help="tree shape; repeat for several (default: all)",
    )
    ap.add_argument(
        "--corpus",
        type=Path,
        default=HERE.parent.parent / "shared" / "corpus",
        help="folder of real manifests for the corpus shape (default ../shared/corpus; skipped when absent)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per command on each tree (median wall; default 3)",
    )
    ap.add_argument("--json", dest="json_out", type=Path, help="also write the numbers to this JSON file")
    ap.add_argument(
        "--out-dir",
        type=Path,
        default=HERE / "out",
        help="where trees are cached (default bench/out)",
    )
    ap.add_argument("--regenerate", action="store_true", help="regenerate the trees even when cached")
    ap.add_argument("--no-external", action="store_true", help="skip yamllint and checkov")
    ap.add_argument("--no-precommit", action="store_true", help="skip the start-up and pre-commit measures")
    ap.add_argument(
        "--no-formats",
        action="store_true",
        help="skip the peak-memory run of every output format on the largest default tree",
    )
    ap.add_argument("--label", default="", help="free text recorded with the results")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before one command run is killed")
    args = ap.parse_args(argv)
    sizes = sorted(set(args.vms or DEFAULT_SIZES))
    if any(n < 1 for n in sizes) or args.repeat < 1:
        ap.error("--vms and --repeat must be at least 1")

    kvlint = Path(sys.executable).parent / "kvlint"
    if not kvlint.exists():
        print(
            f"run.py: {kvlint} not found (run with the venv's python: .venv/bin/python bench/run.py)",
            file=sys.stderr,
        )
        return 2

    work = Path(tempfile.mkdtemp(prefix="kvlint-bench-"))
    env = dict(os.environ)
    # A private parse cache: never the user's, and cold at the start of every benchmark.
    env["KVLINT_CACHE_DIR"] = str(work / "kvlint-cache")
    # Compiled bytecode, as an installed kvlint has it, in a private folder (the source tree
    # is not written to). Without it, an environment with PYTHONDONTWRITEBYTECODE=1 and an
    # editable install recompiles every kvlint module on every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    env.pop("NO_COLOR", None)
    try:
        return _bench(args, sizes, kvlint, work, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, sizes: list[int], kvlint: Path, work: Path, env: dict[str, str]) -> int:
    runner = Runner(work, env, args.timeout)
    help_text = capture([str(kvlint), "lint", "--help"], env, work)
    has_jobs = "--jobs" in help_text
    has_context = "--context" in help_text
    base_opts = ["--no-config"] if "--no-config" in help_text else []
    version = capture([str(kvlint), "--version"], env, work)
    load_before = os.getloadavg()
    try:
        import yaml

        libyaml = "yes" if getattr(yaml, "__with_libyaml__", False) else "NO"
        yaml_info = f"PyYAML {yaml.__version__} (libyaml {libyaml})"
    except ImportError:
        yaml_info = "PyYAML not importable"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    machine = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": affinity,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "mem_total_mb": round(mem_total_mb() or 0),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "kvlint": version,
        "kvlint_path": str(kvlint),
        "kvlint_source": kvlint_revision(env, work),
        "label": args.label,
        "yaml": yaml_info,
        "repeat": args.repeat,
        "loadavg_at_start": [round(x, 2) for x in load_before],
    }
    print("kvlint benchmark")
    print(
        f"  machine : {machine['nproc']} CPUs available ({machine['cpu_count']} online), "
        f"{machine['cpu_model']}, {machine['mem_total_mb']} MB RAM, {machine['os']}"
    )
    print(f"  python  : {machine['python']} ({sys.executable}); {yaml_info}")
    print(f"  kvlint  : {version} ({kvlint}); code: {machine['kvlint_source']}")
    if args.label:
        print(f"  label   : {args.label}")
    jobs_state = "yes" if has_jobs else "not implemented"
    context_state = "yes" if has_context else "not implemented"
    print(f"  --jobs  : {jobs_state};  --context: {context_state}")
    print(f"  runs    : {args.repeat} per command, interleaved; median wall reported", flush=True)
    print(
        f"  load    : {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} (1/5/15 min)",
        flush=True,
    )
    if load_before[0] > 0.5 * (affinity or 1):
        print(
            "  WARNING : the machine is busy; wall times will be noisy (compare CPU times, or re-run)",
            flush=True,
        )
    yamllint = None if args.no_external else tool("yamllint")
    checkov = None if args.no_external else tool("checkov")
    results: dict[str, Any] = {
        "machine": machine,
        "trees": {},
        "startup": {},
        "precommit": {},
        "targets": [],
    }
    trees: dict[int, Path] = {}
    infos: dict[int, dict[str, Any]] = {}
    shapes = [sh for sh in SHAPES if sh in (args.shape or SHAPES)]
    if "corpus" in shapes and not args.corpus.is_dir():
        print(f"  corpus  : {args.corpus} not found: the corpus shape is skipped", flush=True)
        shapes.remove("corpus")
    keys: list[tuple[str, int]] = [(sh, n) for sh in shapes for n in sizes]
    trees_by_key: dict[tuple[str, int], Path] = {}
    infos_by_key: dict[tuple[str, int], dict[str, Any]] = {}
    for sh, n in keys:
        if sh == "corpus":
            trees_by_key[sh, n], infos_by_key[sh, n] = replicate_corpus(args.corpus, n, work / "scratch")
        else:
            trees_by_key[sh, n], infos_by_key[sh, n] = ensure_tree(sh, n, args.out_dir, args.regenerate)
    # Start-up and pre-commit use the default tree (generated even when its shape is not measured).
    for n in sizes:
        trees[n], infos[n] = ensure_tree("bench", n, args.out_dir, args.regenerate)

    # The small file of the start-up measure, linted in isolation (no git root, no context).
    small_dir = work / "small"
    small_dir.mkdir()
    small = small_dir / "vm.yaml"
    shutil.copyfile(vm_files(trees[sizes[0]])[0], small)
    one = [str(kvlint), "lint", *base_opts]
    if "--no-context" in help_text:
        one.append("--no-context")
    # Untimed: fill the bytecode cache, so that no measured run compiles kvlint's modules.
    for warm in (
        [str(kvlint), "--version"],
        [*one, "--format", "json", str(small)],
        [*one, str(small)],
    ):
        capture(warm, env, small_dir)

    measures: dict[tuple[str, int], dict[str, Measure]] = {}
    for sh, n in keys:
        tree, info = trees_by_key[sh, n], infos_by_key[sh, n]
        external = sh == "bench"
        lint = [str(kvlint), "lint", *base_opts, "--format", "json"]
        # Exit code 2 is a complete run that met unreadable input (the corpus has templated files).
        rcs = (0, 1, 2) if sh == "corpus" else (0, 1)
        ms: dict[str, Measure] = {
            "kvlint": Measure("kvlint lint (default jobs)", [*lint, str(tree)], ok_rcs=rcs),
            "kvlint-jobs1": Measure(
                "kvlint lint --jobs 1",
                [*lint, "--jobs", "1", str(tree)] if has_jobs else [*lint, str(tree)],
                note="" if has_jobs else "n/a: --jobs not implemented (measured without it)",
                ok_rcs=rcs,
            ),
            "floor": Measure("floor: read + libyaml compose", [sys.executable, "-c", FLOOR, str(tree)]),
        }
        if external:
            ms["yamllint"] = Measure(
                "yamllint -f parsable",
                [yamllint, "-f", "parsable", str(tree)] if yamllint else None,
                note="" if yamllint else ("skipped (--no-external)" if args.no_external else "not installed"),
                ok_rcs=None,
            )
            ms["checkov"] = Measure(
                "checkov --framework kubernetes",
                [checkov, "-d", str(tree), "--framework", "kubernetes", "--quiet", "--compact"] if checkov else None,
                note="" if checkov else ("skipped (--no-external)" if args.no_external else "not installed"),
                ok_rcs=None,
            )
        measures[sh, n] = ms
        desc = f"{info['files']} files, {info['bytes'] / 1e6:.1f} MB"
        if sh != "corpus":
            desc += (
                f", {info['namespaces']} namespaces, {info.get('policies', 4)} policies, "
                f"{info['vms_with_blocker']} VMs with a planted blocker"
            )
        print(f"\n== {sh} {size_label(n)} ({tree.name}): {desc}", flush=True)
        # Untimed warm-up of the page cache, so that run 1 is not an outlier.
        runner.measure(Measure("warm-up", [sys.executable, "-c", FLOOR, str(tree)]))
        found = None
        for rep in range(args.repeat):
            for key, m in ms.items():
                out = runner.measure(m)
                if out is not None and key == "kvlint" and found is None:
                    found = count_vms_with_errors(out)
                if m.runs and out is not None:
                    print(
                        f"  run {rep + 1}/{args.repeat} {m.name:34s} {fmt_s(m.runs[-1].wall):>9s}",
                        flush=True,
                    )
        results["trees"][f"{sh}/{n}"] = {
            "shape": sh,
            "size": n,
            "path": str(tree),
            "knobs": SHAPES[sh],
            "files": info["files"],
            "bytes": info["bytes"],
            "namespaces": info.get("namespaces"),
            "policies": info.get("policies"),
            "vms_with_planted_blocker": info.get("vms_with_blocker"),
            "vms_with_kvlint_errors": found,
            "commands": {k: m.as_dict() for k, m in ms.items()},
        }

    # 200 against 4 MigrationPolicies: the two trees measured in turn (run 1 of each command
    # on both trees, then run 2, ...), so that both see the same state of the machine (the
    # rows above measure one tree after the other, a minute apart on a 10k tree).
    pair: dict[str, Measure] = {}
    big_n = sizes[-1]
    if ("policies-200", big_n) in measures and ("policies-4", big_n) in measures:
        print(f"\n== 200 against 4 policies ({size_label(big_n)}, the two trees in turn)", flush=True)
        for key in ("kvlint-jobs1", "kvlint"):
            for sh in ("policies-200", "policies-4"):
                m = measures[sh, big_n][key]
                pair[f"{sh} {key}"] = Measure(f"{sh}: {m.name}", m.argv, m.note, ok_rcs=m.ok_rcs)
        for rep in range(args.repeat):
            for m in pair.values():
                runner.measure(m)
                if m.runs:
                    print(f"  run {rep + 1}/{args.repeat} {m.name:48s} {fmt_s(m.runs[-1].wall):>9s}", flush=True)
        results["policies_pair"] = {k: m.as_dict() for k, m in pair.items()}

    # Peak memory in every output format: the largest default tree, --jobs 1, one run each.
    formats: dict[str, Measure] = {}
    fmt_names = [f for f in ("text", "json", "sarif", "junit", "github") if f in help_text]
    if not args.no_formats and fmt_names:
        big_tree = trees[sizes[-1]]
        jobs1 = ["--jobs", "1"] if has_jobs else []
        print(f"\n== peak memory by output format ({big_tree.name}, --jobs 1, one run each)", flush=True)
        for fmt in fmt_names:
            m = Measure(
                f"--format {fmt} --jobs 1",
                [str(kvlint), "lint", *base_opts, "--format", fmt, *jobs1, str(big_tree)],
                ok_rcs=(0, 1),
            )
            runner.measure(m)
            formats[fmt] = m
            if m.measured:
                print(f"  {m.name:34s} {fmt_s(m.wall):>9s} {m.peak_mb:7.0f} MB", flush=True)
        results["formats"] = {k: m.as_dict() for k, m in formats.items()}

    # Start-up: version, and one small file linted in isolation.
    startup = {
        "version": Measure("kvlint --version", [str(kvlint), "--version"]),
        "one_file": Measure("kvlint lint one small file", [*one, "--format", "json", str(small)], ok_rcs=(0, 1)),
    }
    print("\n== start-up (median of 10)", flush=True)
    for _ in range(0 if args.no_precommit else 10):
        for m in startup.values():
            runner.measure(m, cwd=small_dir)
    results["startup"] = {k: m.as_dict() for k, m in startup.items()}

    # Pre-commit: one changed file, the whole tree as context, warm cache.
    pre: dict[int, Measure] = {}
    if has_context and not args.no_precommit:
        print(
            "\n== pre-commit: one changed file with --context TREE (cold run, then median of 5 warm runs)",
            flush=True,
        )
        for n in sizes:
            tree = trees[n]
            candidates = vm_files(tree)
            changed = candidates[len(candidates) // 2]
            original = changed.read_bytes()
            m = Measure(
                f"pre-commit vms-{n}",
                [
                    str(kvlint),
                    "lint",
                    *base_opts,
                    "--format",
                    "json",
                    "--context",
                    str(tree),
                    str(changed),
                ],
                ok_rcs=(0, 1),
            )
            cold = Measure(f"pre-commit cold vms-{n}", m.argv, ok_rcs=(0, 1))
            try:
                runner.measure(cold)
                for k in range(5):
                    # The developer edited the file: new content, size and mtime.
                    changed.write_bytes(original + f"# edited for the benchmark ({k})\n".encode())
                    runner.measure(m)
            finally:
                changed.write_bytes(original)
            pre[n] = m
            results["precommit"][str(n)] = {
                "cold": cold.as_dict(),
                "warm": m.as_dict(),
                "changed_file": str(changed),
            }

    # ----------------------------------------------------------------------- report
    print(
        "\n== results (wall = median; CPU = user+sys incl. child processes; peak RSS = largest "
        "process; tree RSS = sampled sum over the process tree)"
    )
    header = (
        f"{'tree':>18}  {'command':34s} {'wall':>9s} {'min..max':>15s} {'CPU':>9s} "
        f"{'peak RSS':>9s} {'tree RSS':>9s}  note"
    )
    print(header)
    print("-" * len(header))
    for (sh, n), ms in measures.items():
        for m in ms.values():
            _row(f"{sh} {size_label(n)}", m)
    for m in startup.values():
        _row("-", m)
    for n, m in pre.items():
        _row(str(n), m)

    targets: list[dict[str, Any]] = []

    def target(
        name: str,
        value: float | None,
        limit: float | None,
        unit: str = "",
        note: str = "",
        cpu: float | None = None,
    ) -> None:
        if value is None:
            verdict = "n/a"
        elif limit is None:
            verdict = "info"
        else:
            verdict = "PASS" if value <= limit else "FAIL"
        targets.append(
            {
                "target": name,
                "value": None if value is None else round(value, 3),
                "limit": limit,
                "unit": unit,
                "verdict": verdict,
                "note": note or None,
                "same_ratio_of_cpu_times": None if cpu is None else round(cpu, 3),
            }
        )

    for (sh, n), ms in measures.items():
        floor = ms["floor"]
        for key, limit in (
            ("kvlint", TARGET_DEFAULT_VS_FLOOR),
            ("kvlint-jobs1", TARGET_JOBS1_VS_FLOOR),
        ):
            m = ms[key]
            ok = m.measured and floor.measured
            label = "default / floor" if key == "kvlint" else "--jobs 1 / floor"
            target(
                f"{sh} {size_label(n)}: {label}",
                m.wall / floor.wall if ok else None,
                limit,
                "x",
                m.note or m.error,
                cpu=m.cpu / floor.cpu if ok else None,
            )
        for key in ("yamllint", "checkov"):
            if key in ms and ms[key].measured and floor.measured:
                target(
                    f"{sh} {size_label(n)}: {key} / floor",
                    ms[key].wall / floor.wall,
                    None,
                    "x",
                    cpu=ms[key].cpu / floor.cpu,
                )
    shapes_run = list(dict.fromkeys(sh for sh, _ in measures))
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        limit = TARGET_SCALING_PER_10X * (hi / lo) / 10
        for sh in shapes_run:
            for key, label in (
                ("kvlint", "default"),
                ("kvlint-jobs1", "--jobs 1"),
                ("floor", "floor"),
            ):
                a, b = measures[sh, lo][key], measures[sh, hi][key]
                ok = a.measured and b.measured
                target(
                    f"{sh}: {size_label(hi)} / {size_label(lo)} time, {label}",
                    b.wall / a.wall if ok else None,
                    limit if key != "floor" else None,
                    "x",
                    b.note,
                    cpu=b.cpu / a.cpu if ok else None,
                )
    big = sizes[-1]
    for sh in shapes_run:
        for key, label in (("kvlint", "default"), ("kvlint-jobs1", "--jobs 1")):
            m = measures[sh, big][key]
            target(
                f"{sh} {size_label(big)}: peak memory, {label}",
                m.peak_mb if m.measured else None,
                TARGET_PEAK_MB,
                "MB",
                m.note,
            )
    if pair:
        for key, label in (("kvlint-jobs1", "--jobs 1"), ("kvlint", "default")):
            a, b = pair[f"policies-4 {key}"], pair[f"policies-200 {key}"]
            ok = a.measured and b.measured
            target(
                f"200 / 4 policies time, {label} ({size_label(big)})",
                b.wall / a.wall if ok else None,
                TARGET_POLICIES_200_VS_4,
                "x",
                cpu=b.cpu / a.cpu if ok else None,
            )
    for fmt, m in formats.items():
        target(
            f"bench {size_label(sizes[-1])}: peak memory, --format {fmt} --jobs 1",
            m.peak_mb if m.measured else None,
            TARGET_PEAK_MB,
            "MB",
            m.error,
        )
    v = startup["version"]
    target("start-up: kvlint --version", v.wall * 1000 if v.measured else None, None, "ms")
    o = startup["one_file"]
    target(
        "start-up: kvlint lint one small file",
        o.wall * 1000 if o.measured else None,
        TARGET_STARTUP_MS,
        "ms",
    )
    if has_context:
        for n, m in pre.items():
            target(
                f"pre-commit: 1 changed file, --context ({n} VMs), warm",
                m.wall * 1000 if m.measured else None,
                TARGET_PRECOMMIT_MS,
                "ms",
                m.error,
            )
    else:
        target(
            "pre-commit: 1 changed file, --context, warm",
            None,
            TARGET_PRECOMMIT_MS,
            "ms",
            "n/a: --context not implemented",
        )
    results["targets"] = targets
    load_after = os.getloadavg()
    machine["loadavg_at_end"] = [round(x, 2) for x in load_after]
    print(f"\n(load average at the end: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f})")

    print(
        "\n== targets (value from median wall times; 'by CPU' = the same ratio of CPU times, "
        "for reference: steadier on a busy machine)"
    )
    print(f"{'target':58s} {'value':>10s} {'limit':>10s} {'by CPU':>7s}  verdict")
    print("-" * 98)
    for t in targets:
        val = "n/a" if t["value"] is None else (f"{t['value']:.2f}" if t["unit"] == "x" else f"{t['value']:.0f}")
        val = f"{val} {t['unit']}".strip() if t["value"] is not None and t["unit"] != "x" else val
        lim = "" if t["limit"] is None else f"<= {t['limit']:g}{' ' + t['unit'] if t['unit'] != 'x' else ''}"
        note = f"  ({t['note']})" if t["note"] else ""
        by_cpu = "" if t["same_ratio_of_cpu_times"] is None else f"{t['same_ratio_of_cpu_times']:.2f}"
        print(f"{t['target']:58s} {val:>10s} {lim:>10s} {by_cpu:>7s}  {t['verdict']}{note}")

    print("\n== summary by shape (Markdown; ratios to the floor of the same run, medians)")
    print(_summary(measures, sizes))
    results["summary_markdown"] = _summary(measures, sizes)

    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json_out}")
    failed = [m for ms in measures.values() for k, m in ms.items() if k.startswith("kvlint") and m.error]
    return 1 if failed else 0


def _summary(measures: dict[tuple[str, int], dict[str, Measure]], sizes: list[int]) -> str:
    def ratio(a: Measure, b: Measure) -> str:
        return f"{a.wall / b.wall:.2f}x" if a.measured and b.measured else "n/a"

    lo, hi = sizes[0], sizes[-1]
    head = "| shape | size | floor | --jobs 1 / floor | default / floor | peak RSS --jobs 1 | peak RSS default |"
    if len(sizes) > 1:
        head += f" growth {size_label(lo)}->{size_label(hi)} (--jobs 1, default) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for (sh, n), ms in measures.items():
        fl, j1, dj = ms["floor"], ms["kvlint-jobs1"], ms["kvlint"]
        row = (
            f"| {sh} | {size_label(n)} | {fmt_s(fl.wall) if fl.measured else 'n/a'} | {ratio(j1, fl)} | "
            f"{ratio(dj, fl)} | {f'{j1.peak_mb:.0f} MB' if j1.measured else 'n/a'} | "
            f"{f'{dj.peak_mb:.0f} MB' if dj.measured else 'n/a'} |"
        )
        if len(sizes) > 1:
            if n == hi and (sh, lo) in measures:
                row += f" {ratio(j1, measures[sh, lo]['kvlint-jobs1'])}, {ratio(dj, measures[sh, lo]['kvlint'])} |"
            else:
                row += " |"
        lines.append(row)
    return "\n".join(lines)


def _row(tree: str, m: Measure) -> None:
    if not m.measured:
        why = m.error or m.note or "not run"
        print(f"{tree:>18}  {m.name:34s} {'-':>9s} {'':>15s} {'-':>9s} {'-':>9s} {'-':>9s}  {why}")
        return
    lo, hi = min(r.wall for r in m.runs), max(r.wall for r in m.runs)
    span = f"{fmt_s(lo)}..{fmt_s(hi)}" if len(m.runs) > 1 else ""
    print(
        f"{tree:>18}  {m.name:34s} {fmt_s(m.wall):>9s} {span:>15s} {fmt_s(m.cpu):>9s} "
        f"{m.maxrss_mb:7.0f}MB {m.tree_rss_mb:7.0f}MB  {m.note}"
    )


if __name__ == "__main__":
    sys.exit(main())
