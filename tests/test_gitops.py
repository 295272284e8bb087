"""GitOps trees: kustomize namespaces and patches, context folders and their cache."""

from __future__ import annotations

import os
from pathlib import Path

from kvlint.config import Config
from kvlint.runner import Options, lint_paths
from tests.helpers import git

VM = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {{name: app{ns}}}
spec:
  template:
    spec:
      domain:
        devices:
          disks: [{{name: d, disk: {{}}}}]
          interfaces: [{{name: default, masquerade: {{}}}}]
      networks: [{{name: default, pod: {{}}}}]
      volumes:
      - name: d
        persistentVolumeClaim: {{claimName: data}}
"""
PVC = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data{ns}}}\nspec: {{accessModes: [{mode}]}}\n"


def write(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def rules(res) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(f.rule for f in res.findings if f.rule != "KV701")


def test_kustomize_namespace_is_applied(tmp_path: Path) -> None:
    write(tmp_path, "base/kustomization.yaml", "resources: [vm.yaml]\n")
    write(tmp_path, "base/vm.yaml", VM.format(ns=""))
    write(tmp_path, "overlays/prod/kustomization.yaml", "namespace: prod\nresources: [../../base, pvc.yaml]\n")
    write(tmp_path, "overlays/prod/pvc.yaml", PVC.format(ns="", mode="ReadWriteOnce"))
    res = lint_paths([str(tmp_path)], Config())
    kv101 = [f for f in res.findings if f.rule == "KV101"]
    assert len(kv101) == 1 and kv101[0].object is not None and kv101[0].object.namespace == "prod"


def test_patch_files_are_not_linted_as_objects(tmp_path: Path) -> None:
    write(
        tmp_path,
        "kustomization.yaml",
        "resources: [vm.yaml]\npatches:\n- path: patch.yaml\npatchesStrategicMerge: [smp.yaml]\n",
    )
    write(tmp_path, "vm.yaml", VM.format(ns=", namespace: a").replace("claimName: data", "claimName: data"))
    patch = "apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n      domain: {devices: {interfaces: [{name: default, bridge: {}}]}}\n"
    write(tmp_path, "patch.yaml", patch)
    write(tmp_path, "smp.yaml", patch)
    res = lint_paths([str(tmp_path)], Config())
    files = {os.path.basename(f.location.file) for f in res.findings}
    assert "patch.yaml" not in files and "smp.yaml" not in files


def test_context_resolves_and_reports_only_given_files(tmp_path: Path) -> None:
    write(tmp_path, "storage/pvc.yaml", PVC.format(ns=", namespace: apps", mode="ReadWriteOnce"))
    write(tmp_path, "vms/vm.yaml", VM.format(ns=", namespace: apps"))
    write(tmp_path, "vms/other.yaml", VM.format(ns=", namespace: apps").replace("name: app", "name: other"))
    opts = Options(context=[str(tmp_path)], cache=False)
    res = lint_paths([str(tmp_path / "vms/vm.yaml")], Config(), options=opts)
    assert rules(res) == ["KV101"]
    assert {f.location.file for f in res.findings} == {str(tmp_path / "vms/vm.yaml")}


def test_context_cache_is_never_stale(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KVLINT_CACHE_DIR", str(tmp_path / "cache"))
    repo = tmp_path / "repo"
    write(repo, "storage/pvc.yaml", PVC.format(ns=", namespace: apps", mode="ReadWriteOnce"))
    write(repo, "vms/vm.yaml", VM.format(ns=", namespace: apps"))
    git(repo, "init", "-q")
    git(repo, "add", "-A")  # context: tracked and staged files
    opts = Options(context=[str(repo)])
    target = [str(repo / "vms/vm.yaml")]
    assert rules(lint_paths(target, Config(), options=opts)) == ["KV101"]
    assert list((tmp_path / "cache").iterdir())
    assert rules(lint_paths(target, Config(), options=opts)) == ["KV101"]  # warm
    pvc = repo / "storage/pvc.yaml"
    pvc.write_text(PVC.format(ns=", namespace: apps", mode="ReadWriteMany"))
    os.utime(pvc, ns=(pvc.stat().st_atime_ns, pvc.stat().st_mtime_ns + 1_000_000))
    assert rules(lint_paths(target, Config(), options=opts)) == []


def test_git_ignored_files_are_not_context(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, "vms/vm.yaml", VM.format(ns=", namespace: apps"))
    write(repo, "out/pvc.yaml", PVC.format(ns=", namespace: apps", mode="ReadWriteMany"))
    write(repo, ".gitignore", "out/\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")  # context: tracked and staged files
    res = lint_paths([str(repo / "vms/vm.yaml")], Config(), options=Options(context=[str(repo)], cache=False))
    assert rules(res) == ["KV102"]


def test_untracked_scratch_files_are_not_context_but_staged_ones_are(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, "vms/vm.yaml", VM.format(ns=", namespace: apps"))
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    write(repo, "scratch/pvc.yaml", PVC.format(ns=", namespace: apps", mode="ReadWriteOnce"))
    opts = Options(context=[str(repo)], cache=False)
    res = lint_paths([str(repo / "vms/vm.yaml")], Config(), options=opts)
    assert rules(res) == ["KV102"]  # the untracked PVC is not read
    assert res.notes.context is None  # nothing tracked besides the linted file
    git(repo, "add", "scratch/pvc.yaml")
    res = lint_paths([str(repo / "vms/vm.yaml")], Config(), options=opts)
    assert rules(res) == ["KV101"]
    assert res.notes.context is not None and res.notes.context.startswith("1 file from the git repository at ")
    [kv101] = [f for f in res.findings if f.rule == "KV101"]
    assert [r.file for r in kv101.related] == [str(repo / "scratch/pvc.yaml")]


def test_piped_input_names_the_rendered_source(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import io
    import sys

    vmi = (
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata: {name: a}\n"
        "spec:\n  domain: {devices: {hostDevices: [{name: x, deviceName: a/b}], "
        "interfaces: [{name: default, masquerade: {}}]}}\n  networks: [{name: default, pod: {}}]\n"
    )
    helm = "---\n# Source: chart/templates/vm.yaml\n" + vmi
    kust = "---\n" + vmi.replace(
        "metadata: {name: a}",
        "metadata:\n  name: b\n  annotations:\n    config.kubernetes.io/origin: |\n      path: base/vmi.yaml",
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((helm + kust).encode())))
    res = lint_paths(["-"], Config())
    msgs = [f.message for f in res.findings if f.rule == "KV301"]
    assert len(msgs) == 2
    assert "rendered from chart/templates/vm.yaml" in msgs[0]
    assert "rendered from base/vmi.yaml" in msgs[1]
    assert {f.location.file for f in res.findings} == {"<stdin>"}


def test_policy_matches_context_vms_by_their_labels(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A changed MigrationPolicy is matched against the VMs of the rest of the repository,
    # read from the context cache: their labels must survive the cache.
    monkeypatch.setenv("KVLINT_CACHE_DIR", str(tmp_path / "cache"))
    repo = tmp_path / "repo"
    write(
        repo,
        "vms/vm.yaml",
        VM.format(ns=", namespace: apps").replace(
            "spec:\n  template:\n", "spec:\n  template:\n    metadata:\n      labels: {tier: db}\n"
        ),
    )
    policy = "apiVersion: migrations.kubevirt.io/v1alpha1\nkind: MigrationPolicy\nmetadata: {{name: p}}\nspec:\n  selectors:\n    virtualMachineInstanceSelector: {{tier: {tier}}}\n"
    write(repo, "policies/p.yaml", policy.format(tier="db"))
    git(repo, "init", "-q")
    git(repo, "add", "-A")  # context: tracked and staged files
    target = [str(repo / "policies/p.yaml")]
    for _ in range(2):  # cold, then from the cache
        res = lint_paths(target, Config(), options=Options(context=[str(repo)]))
        assert "KV512" not in {f.rule for f in res.findings}
    (repo / "policies/p.yaml").write_text(policy.format(tier="web"))
    res = lint_paths(target, Config(), options=Options(context=[str(repo)]))
    assert "KV512" in {f.rule for f in res.findings}


def _outputs(target: list[str], repo: Path, stream: bool) -> tuple[str, str]:
    """JSON output without the cache, and from a warm cache."""
    from kvlint import report

    def once(cache: bool) -> str:
        opts = Options(context=[str(repo)], cache=cache, keep=not stream)
        return report.render("json", lint_paths(target, Config(), options=opts))

    plain = once(False)
    once(True)  # fills the cache
    return plain, once(True)


def _two_namespaces(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    write(repo, "storage/pvc.yaml", PVC.format(ns=", namespace: apps", mode="ReadWriteOnce"))
    write(repo, "storage/other.yaml", PVC.format(ns=", namespace: other", mode="ReadWriteMany"))
    write(repo, "vms/vm.yaml", VM.format(ns=", namespace: apps"))
    write(repo, "vms/db.yaml", VM.format(ns=", namespace: apps").replace("name: app", "name: db"))
    return repo


def test_lazy_context_gives_the_same_findings(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Claims and workload stubs of the context are read from the cache only when looked up;
    # the findings must be those of a run that reads everything.
    monkeypatch.setenv("KVLINT_CACHE_DIR", str(tmp_path / "cache"))
    repo = _two_namespaces(tmp_path)
    # A kustomization moves this claim to namespace 'shop': the cache groups claims by the
    # namespace written in the file, so this context is read in full.
    write(repo, "shop/kustomization.yaml", "namespace: shop\nresources: [pvc.yaml]\n")
    write(repo, "shop/pvc.yaml", PVC.format(ns=", namespace: apps", mode="ReadWriteMany"))
    write(repo, "shop/vm.yaml", VM.format(ns=", namespace: shop").replace("name: app", "name: shop"))
    write(
        repo,
        "vms/migrate.yaml",
        "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstanceMigration\n"
        "metadata: {name: m, namespace: apps}\nspec: {vmiName: db}\n",
    )
    git(repo, "init", "-q")
    git(repo, "add", "-A")  # context: tracked and staged files
    for stream in (False, True):
        for rel in ("vms/vm.yaml", "vms/migrate.yaml", "shop/vm.yaml"):
            plain, cached = _outputs([str(repo / rel)], repo, stream)
            assert plain == cached, (rel, stream)
    res = lint_paths([str(repo / "vms/vm.yaml")], Config(), options=Options(context=[str(repo)]))
    assert rules(res) == ["KV101"]


def test_lazy_context_reads_only_what_is_looked_up(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kvlint.inventory import LAZY_WORKLOADS

    monkeypatch.setenv("KVLINT_CACHE_DIR", str(tmp_path / "cache"))
    repo = _two_namespaces(tmp_path)
    git(repo, "init", "-q")
    git(repo, "add", "-A")  # context: tracked and staged files
    opts = Options(context=[str(repo)])
    lint_paths([str(repo / "vms/vm.yaml")], Config(), options=opts)
    res = lint_paths([str(repo / "vms/vm.yaml")], Config(), options=opts)
    assert res.inventory is not None
    # The VM's claim was looked up (namespace apps); the other namespace and the context VMs not.
    assert set(res.inventory.lazy) == {LAZY_WORKLOADS, ("PersistentVolumeClaim", "other")}
    assert rules(res) == ["KV101"]
