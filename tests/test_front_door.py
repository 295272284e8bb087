"""What a new user meets first: colour, quiet and jobs options, help texts, files that are
not manifests, .gitignore, the context line, kustomize overlays, readable messages."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kvlint.config import Config
from kvlint.messages import FIRST_LINE_LIMIT, fit_first_line
from kvlint.report.text import wants_color
from kvlint.runner import Options, lint_paths
from tests.conftest import ROOT
from tests.helpers import found, git

KVLINT = str(Path(sys.executable).parent / "kvlint")

PVC = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data, namespace: apps}}
spec:
  accessModes: [{mode}]
  resources: {{requests: {{storage: 1Gi}}}}
"""

VM = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: app, namespace: apps}
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        devices:
          disks: [{name: d, disk: {}}]
          interfaces: [{name: default, masquerade: {}}]
      networks: [{name: default, pod: {}}]
      volumes:
      - name: d
        persistentVolumeClaim: {claimName: data}
"""


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    full_env.update(env or {})
    return subprocess.run(
        [KVLINT, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


# -- colour -------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("flag", "env", "tty", "want"),
    [
        (None, {}, True, True),
        (None, {}, False, False),
        (None, {"NO_COLOR": "1"}, True, False),
        (None, {"NO_COLOR": ""}, True, True),  # set but empty: ignored (no-color.org)
        (None, {"FORCE_COLOR": "1"}, False, True),
        (None, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, False),
        (None, {"TERM": "dumb"}, True, False),
        (None, {"TERM": "dumb", "FORCE_COLOR": "1"}, True, True),
        (True, {"NO_COLOR": "1", "TERM": "dumb"}, False, True),
        (False, {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_colour_conventions(flag: bool | None, env: dict[str, str], tty: bool, want: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert wants_color(flag, stream, env) is want


def test_file_output_is_never_coloured_by_default() -> None:
    assert wants_color(None, None, {"FORCE_COLOR": ""}) is False
    assert wants_color(True, None, {}) is True


def test_color_works_through_a_pipe() -> None:
    target = str(ROOT / "examples" / "apps" / "db")
    coloured = run("lint", "--no-context", "--color", target)
    assert "\x1b[31m" in coloured.stdout
    forced = run("lint", "--no-context", target, env={"FORCE_COLOR": "1"})
    assert "\x1b[31m" in forced.stdout
    plain = run("lint", "--no-context", target)
    assert "\x1b[" not in plain.stdout
    assert "\x1b[" not in run("lint", "--no-context", target, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert "\x1b[" not in run("lint", "--no-context", "--no-color", target, env={"FORCE_COLOR": "1"}).stdout


# -- options and help ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_jobs_must_be_a_count_or_auto(value: str) -> None:
    p = run("lint", f"--jobs={value}", str(ROOT / "examples"))
    assert p.returncode == 2
    assert "--jobs" in p.stderr and ("auto" in p.stderr)


def test_jobs_auto_and_quiet() -> None:
    p = run("lint", "-j", "auto", "-q", "--no-context", str(ROOT / "examples"))
    assert p.returncode == 1
    lines = [line for line in p.stdout.splitlines() if line.startswith("  ") and ": " in line and " KV" in line]
    assert lines and all(" error KV" in line for line in lines)
    assert "platform:" not in p.stdout and "problems (" in p.stdout


def test_help_summaries_are_whole() -> None:
    p = run("--help")
    commands = p.stdout.split("Commands:")[1]
    assert "..." not in commands
    for name in ("explain", "fix", "init", "lint", "rules"):
        assert f"  {name} " in commands


def test_lint_help_explains_context_and_folders() -> None:
    text = " ".join(run("lint", "--help").stdout.split())
    assert "tracked and staged" in text
    assert "same verdicts" in text and "--no-context" in text and "--kustomize" in text
    assert "--no-gitignore" in text and ".gitignore" in text


def test_missing_path_names_the_path_without_a_position(tmp_path: Path) -> None:
    p = run("lint", "nope", cwd=tmp_path)
    assert p.returncode == 2
    assert "  nope: error KV906 no such file or folder" in p.stdout
    assert "nope:1:1" not in p.stdout
    assert "check the path" in p.stdout


# -- files that are not manifests, .gitignore ----------------------------------------------

NON_MANIFESTS = {
    ".gitlab-ci.yml": "test:\n  script: echo ${CI_COMMIT_SHA}\n",
    "tsconfig.json": '{\n  // comments are not JSON\n  "compilerOptions": {}\n}\n',
    "settings/app.yaml": "server:\n  port: 8080\n",
    "chart/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
}


def test_non_manifest_files_are_skipped_and_counted(tmp_path: Path) -> None:
    for rel, text in NON_MANIFESTS.items():
        write(tmp_path, rel, text)
    write(tmp_path, "pvc.yaml", PVC.format(mode="ReadWriteMany"))
    p = run("lint", "--no-context", ".", cwd=tmp_path)
    assert p.returncode == 0, p.stdout
    assert "skipped 4 non-manifest files" in p.stdout
    assert "KV901" not in p.stdout and "KV902" not in p.stdout
    doc = json.loads(run("lint", "--no-context", "-f", "json", ".", cwd=tmp_path).stdout)
    assert sorted(doc["run"]["skipped"]) == sorted(NON_MANIFESTS)
    assert doc["summary"]["files"] == 1


def test_broken_manifests_are_still_reported(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: [\n")
    write(tmp_path, "templated.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n")
    p = run("lint", "--no-context", ".", cwd=tmp_path)
    assert p.returncode == 2
    assert "KV901" in p.stdout and "KV902" in p.stdout and "skipped" not in p.stdout


def test_skipping_is_the_same_in_worker_processes(tmp_path: Path) -> None:
    from kvlint import runner

    for i in range(runner.PARALLEL_MIN_FILES + 4):
        write(tmp_path, f"vm-{i:03}.yaml", VM.replace("name: app", f"name: app-{i}"))
    for rel, text in NON_MANIFESTS.items():
        write(tmp_path, rel, text)
    outs = []
    for jobs in ("1", "2"):
        p = run("lint", "--no-context", "-f", "json", "--jobs", jobs, ".", cwd=tmp_path)
        outs.append(json.loads(p.stdout))
    assert outs[0] == outs[1]
    assert len(outs[0]["run"]["skipped"]) == len(NON_MANIFESTS)


def test_gitignore_is_honoured_when_walking_a_folder(tmp_path: Path) -> None:
    write(tmp_path, "vms/vm.yaml", VM.replace("claimName: data", "claimName: shared"))
    write(tmp_path, "build/out.yaml", VM)
    write(tmp_path, ".gitignore", "build/\n")
    git(tmp_path, "init", "-q")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        walked = lint_paths(["."], Config())
        everything = lint_paths(["."], Config(), options=Options(gitignore=False))
    finally:
        os.chdir(cwd)
    assert {f.location.file for f in walked.findings} == {"vms/vm.yaml"}
    assert "build/out.yaml" in {f.location.file for f in everything.findings}
    p = run("lint", "--no-gitignore", "--no-context", ".", cwd=tmp_path)
    assert "build/out.yaml" in p.stdout


def test_a_tracked_file_is_linted_even_when_gitignore_matches_it(tmp_path: Path) -> None:
    from kvlint.source import discover

    write(tmp_path, "vms/vm.yaml", VM)
    write(tmp_path, "build/kept.yaml", VM)
    write(tmp_path, "build/out.yaml", VM)
    write(tmp_path, "build/sub/deep.yaml", VM)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "vms/vm.yaml", "build/kept.yaml")
    write(tmp_path, ".gitignore", "build/\n")
    files, _ = discover([str(tmp_path)], gitignore=True)
    assert sorted(os.path.relpath(f.real, tmp_path) for f in files) == ["build/kept.yaml", "vms/vm.yaml"]
    git(tmp_path, "add", "-f", "build/sub/deep.yaml")
    files, _ = discover([str(tmp_path / "build")], gitignore=True)
    assert sorted(os.path.relpath(f.real, tmp_path) for f in files) == ["build/kept.yaml", "build/sub/deep.yaml"]


# -- context you can see -------------------------------------------------------------------


def test_a_file_and_its_folder_get_the_same_verdicts(tmp_path: Path) -> None:
    write(tmp_path, "storage/pvc.yaml", PVC.format(mode="ReadWriteOnce"))
    write(tmp_path, "vms/db/vm.yaml", VM)
    write(tmp_path, "scratch/pvc.yaml", PVC.format(mode="ReadWriteMany").replace("name: data", "name: data2"))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "storage", "vms")
    env = {"KVLINT_CACHE_DIR": str(tmp_path / ".cache")}
    by_file = run("lint", "-f", "json", "vms/db/vm.yaml", cwd=tmp_path, env=env)
    by_folder = run("lint", "-f", "json", "vms/db/", cwd=tmp_path, env=env)
    a, b = json.loads(by_file.stdout), json.loads(by_folder.stdout)
    assert a["findings"] == b["findings"]
    assert {f["rule"] for f in a["findings"]} >= {"KV101"}
    assert a["run"]["context"] == [{"folder": ".", "source": "git", "files": 1}]
    text = run("lint", "vms/db/", cwd=tmp_path, env=env).stdout
    assert "context: 1 file from the git repository at . (tracked and staged files)" in text
    assert "see: storage/pvc.yaml:5:3 access modes decided by PersistentVolumeClaim apps/data" in text
    sarif = json.loads(run("lint", "-f", "sarif", "vms/db/", cwd=tmp_path, env=env).stdout)
    inv = sarif["runs"][0]["invocations"][0]
    assert inv["properties"]["kvlint"]["context"][0]["files"] == 1
    assert any("context: 1 file" in n["message"]["text"] for n in inv["toolExecutionNotifications"])
    alone = run("lint", "--no-context", "vms/db/", cwd=tmp_path, env=env).stdout
    assert "context:" not in alone and "KV102" in alone


# -- messages -----------------------------------------------------------------------------


def test_fit_first_line_breaks_outside_brackets() -> None:
    msg = "verdict (a; b; c) " + "x" * 200 + "; the rest " + "y" * 200
    out = fit_first_line(msg)
    first, rest = out.split("\n", 1)
    assert len(first) <= FIRST_LINE_LIMIT and first.endswith(";") and "(a; b; c)" in first
    assert rest.startswith("the rest")
    assert fit_first_line("short") == "short"


def test_block_migration_is_off_by_default_and_can_be_turned_on(tmp_path: Path) -> None:
    vmi = (
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata: {name: a, namespace: apps}\n"
        "spec:\n  domain:\n    devices:\n      disks: [{name: c, disk: {}}]\n"
        "      interfaces: [{name: default, masquerade: {}}]\n  networks: [{name: default, pod: {}}]\n"
        "  volumes:\n  - name: c\n    containerDisk: {image: quay.io/containerdisks/fedora:41}\n"
    )
    write(tmp_path, "vmi.yaml", vmi)
    assert "KV108" not in run("lint", "--no-context", "vmi.yaml", cwd=tmp_path).stdout
    write(tmp_path, ".kvlint.yaml", "rules:\n  KV108: info\n")
    assert "info KV108" in run("lint", "--no-context", "vmi.yaml", cwd=tmp_path).stdout


def test_kv514_without_a_namespace_names_no_fake_namespace() -> None:
    text = """
        apiVersion: migrations.kubevirt.io/v1alpha1
        kind: MigrationPolicy
        metadata: {name: prod}
        spec:
          selectors:
            namespaceSelector: {env: prod}
        ---
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: pg}
        spec:
          template:
            metadata:
              labels: {app: pg}
            spec:
              domain: {devices: {interfaces: [{name: default, masquerade: {}}]}}
              networks: [{name: default, pod: {}}]
    """
    [f] = found(text, "KV514")
    assert "(namespace not set)" not in f.message + f.fix
    assert "pg (no metadata.namespace)" in f.message
    assert "name: <their namespace>" in f.fix


def test_kv101_fix_names_the_rwx_classes_in_view() -> None:
    text = """
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata: {name: cephfs}
        provisioner: openshift-storage.cephfs.csi.ceph.com
        ---
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata: {name: nfs}
        provisioner: nfs.csi.k8s.io
        ---
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: db, namespace: apps}
        spec:
          dataVolumeTemplates:
          - metadata: {name: db-root}
            spec:
              storage:
                accessModes: [ReadWriteOnce]
                storageClassName: nfs
                resources: {requests: {storage: 1Gi}}
              source: {blank: {}}
          template:
            spec:
              domain: {devices: {disks: [{name: r, disk: {}}], interfaces: [{name: default, masquerade: {}}]}}
              networks: [{name: default, pod: {}}]
              volumes: [{name: r, dataVolume: {name: db-root}}]
    """
    [f] = found(text, "KV101")
    assert "<a class whose StorageProfile offers RWX>" not in f.fix
    assert "one of cephfs, nfs" in f.fix


def test_cdi_table_source_is_never_cut() -> None:
    from kvlint import storage_capabilities as caps

    label = caps.source_label()
    assert label.startswith("CDI ")
    commit = caps.source_commit()
    assert label == f"CDI commit {commit[:12]}" or label == "CDI table; its commit is not recorded"


# -- kustomize overlays --------------------------------------------------------------------

needs_kustomize = pytest.mark.skipif(
    shutil.which("kustomize") is None and shutil.which("kubectl") is None,
    reason="neither kustomize nor kubectl is on PATH",
)


@needs_kustomize
def test_overlay_patching_the_storage_class_is_flagged_at_the_patch_line() -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        res = lint_paths(["examples/kustomize/overlays/prod"], Config(), options=Options(context=["examples/cluster"]))
        raw = lint_paths(["examples/kustomize/base"], Config(), options=Options(context=["examples/cluster"]))
    finally:
        os.chdir(cwd)
    [kv101] = [f for f in res.findings if f.rule == "KV101"]
    loc = kv101.location
    assert (loc.file, loc.line) == ("examples/kustomize/overlays/prod/fast-disk.yaml", 11)
    lines = (ROOT / loc.file).read_text().splitlines()
    assert lines[loc.line - 1].strip() == "storageClassName: local-nvme"
    assert kv101.object is not None and kv101.object.namespace == "shop"
    assert "examples/kustomize/base/vm-shop.yaml" in {r.file for r in kv101.related}
    assert not any(
        f.location.file.endswith("(kubectl kustomize)") or "kustomize build)" in f.location.file for f in res.findings
    )
    assert any("rendered with" in m for m in res.notes.messages)
    assert "KV101" not in {f.rule for f in raw.findings}  # the base alone migrates


def test_without_kustomize_the_overlay_is_linted_as_files(tmp_path: Path) -> None:
    out = run(
        "lint",
        "--no-context",
        str(ROOT / "examples/kustomize/overlays/prod"),
        env={"PATH": str(tmp_path)},  # neither binary
    )
    assert "neither kustomize nor kubectl is on PATH; its files were linted as they are" in out.stdout
    assert out.returncode in (0, 1)


def test_benchmark_tree_text_fits_one_screen_per_blocked_vm(tmp_path: Path) -> None:
    """On the benchmark's generated tree, what the text output says about each blocked VM
    (findings, details, related objects, fix hints) fits on a 24-line screen."""
    import re
    from collections import Counter

    gen = ROOT / "bench" / "generate.py"
    if not gen.exists():
        pytest.skip("bench/generate.py is not in this checkout")
    tree = tmp_path / "tree"
    subprocess.run([sys.executable, str(gen), "--vms", "300", "--out", str(tree)], check=True, capture_output=True)
    p = run("lint", "--no-context", "--jobs", "1", "tree", cwd=tmp_path)
    assert p.returncode == 1
    per_vm: Counter[str] = Counter()
    blocked: set[str] = set()
    current = None
    for line in p.stdout.splitlines():
        m = re.search(r"\((VirtualMachine [^)]*)\)$", line)
        if line.startswith("  ") and not line.startswith("   ") and m:
            current = m.group(1)
            if " error KV" in line:
                blocked.add(current)
        if not line.strip():
            current = None
        elif current and line.startswith("  "):
            per_vm[current] += 1
    assert len(blocked) > 50
    worst = max(blocked, key=lambda vm: per_vm[vm])
    assert per_vm[worst] <= 24, (worst, per_vm[worst])
    assert "KV108" not in p.stdout
