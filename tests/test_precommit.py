"""A real pre-commit run in a scratch git repository, with this project as the hook repo.

The bad commit's VM uses a PVC whose manifest is NOT in the commit (it was committed
before): the cross-file fact must come from the rest of the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

PVC = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: apps}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: shared, namespace: apps}
spec:
  accessModes: [ReadWriteMany]
  resources: {requests: {storage: 1Gi}}
"""

VM = """\
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {{name: app, namespace: apps}}
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        devices:
          disks: [{{name: d, disk: {{}}}}]
          interfaces: [{{name: default, masquerade: {{}}}}]
      networks: [{{name: default, pod: {{}}}}]
      volumes:
      - name: d
        persistentVolumeClaim: {{claimName: {claim}}}
"""


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=check, timeout=600
    )


@pytest.fixture(scope="module")
def hook_rev() -> str:
    if shutil.which("pre-commit") is None and not (Path(os.sys.executable).parent / "pre-commit").exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("the project is not a git checkout with a commit")
    return out.stdout.strip()


def test_precommit_blocks_bad_commit_and_passes_good_one(tmp_path: Path, hook_rev: str) -> None:
    repo = tmp_path / "gitops"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "storage").mkdir()
    (repo / "storage" / "pvc.yaml").write_text(PVC)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "storage")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {ROOT}\n  rev: {hook_rev}\n  hooks:\n  - id: kvlint\n"
    )
    pre_commit = shutil.which("pre-commit", path=str(Path(os.sys.executable).parent)) or "pre-commit"
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pc-home"), "KVLINT_CACHE_DIR": str(tmp_path / "cache")}
    inst = subprocess.run([pre_commit, "install"], cwd=repo, capture_output=True, text=True, env=env, timeout=600)
    assert inst.returncode == 0, inst.stderr
    git(repo, "add", ".pre-commit-config.yaml")

    def commit(msg: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-m", msg],
            cwd=repo,
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )

    (repo / "vm.yaml").write_text(VM.format(claim="data"))
    git(repo, "add", "vm.yaml")
    bad = commit("bad vm")
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0, out
    assert "KV101" in out and "PersistentVolumeClaim apps/data" in out, out

    (repo / "vm.yaml").write_text(VM.format(claim="shared"))
    git(repo, "add", "vm.yaml")
    good = commit("good vm")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "kvlint" in good.stdout + good.stderr
