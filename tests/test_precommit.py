"""A real pre-commit run in a scratch git repository, with the README's snippet.

The snippet pins a commit (``rev:`` a full sha): it must exist in this repository's history,
and pre-commit, given a clone of this repository as the hook repository and the snippet's
``rev`` and hook id as written, must block a bad commit and pass a good one.

The bad commit's VM uses a PVC whose manifest is NOT in the commit (it was committed
before): the cross-file fact must come from the rest of the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.helpers import git

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


README_SNIPPET_RE = re.compile(r"^```yaml\n(# \.pre-commit-config\.yaml\n.*?)^```$", re.M | re.S)


def readme_snippet() -> str:
    """The README's .pre-commit-config.yaml snippet."""
    m = README_SNIPPET_RE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert m is not None, "README has no '# .pre-commit-config.yaml' yaml block"
    return m.group(1)


def snippet_rev() -> str:
    m = re.search(r"^\s*rev:\s*(\S+)", readme_snippet(), re.M)
    assert m is not None, "README's pre-commit snippet has no rev:"
    return m.group(1)


def test_readme_snippet_pins_a_full_commit_that_exists() -> None:
    rev = snippet_rev()
    assert re.fullmatch(r"[0-9a-f]{40}", rev), f"rev {rev!r} is not a full commit sha (the repository has no tags)"
    assert re.search(r"^\s*- id: kvlint$", readme_snippet(), re.M)
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    inside = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"], capture_output=True)
    if inside.returncode != 0:
        pytest.skip("not a git checkout")
    shallow = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--is-shallow-repository"], capture_output=True, text=True
    )
    found = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{rev}^{{commit}}"], capture_output=True)
    if found.returncode != 0 and shallow.stdout.strip() == "true":
        pytest.skip("a shallow clone may not hold the pinned commit")
    assert found.returncode == 0, f"README's pre-commit rev {rev} is not a commit of this repository"


@pytest.fixture(scope="module")
def hook_rev() -> str:
    if shutil.which("pre-commit") is None and not (Path(os.sys.executable).parent / "pre-commit").exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    rev = snippet_rev()
    out = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{rev}^{{commit}}"], capture_output=True)
    if out.returncode != 0:
        pytest.skip("the README's pinned commit is not in this checkout (see the test above)")
    return rev


def test_precommit_blocks_bad_commit_and_passes_good_one(tmp_path: Path, hook_rev: str) -> None:
    repo = tmp_path / "gitops"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "storage").mkdir()
    (repo / "storage" / "pvc.yaml").write_text(PVC)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "storage")
    # The README's snippet as written, with a clone of this repository as the hook repository.
    clone = tmp_path / "kvlint-clone"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(ROOT), str(clone)], check=True, timeout=600)
    snippet = re.sub(r"(?m)^(\s*- repo: )\S+.*$", lambda m: m.group(1) + str(clone), readme_snippet())
    assert f"rev: {hook_rev}" in snippet
    (repo / ".pre-commit-config.yaml").write_text(snippet)
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


def test_try_repo_with_a_local_checkout(tmp_path: Path, hook_rev: str) -> None:
    """The README's 'pre-commit try-repo ../kvlint kvlint --files ...' form."""
    repo = tmp_path / "gitops"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "storage").mkdir()
    (repo / "storage" / "pvc.yaml").write_text(PVC)
    (repo / "vm.yaml").write_text(VM.format(claim="data"))
    git(repo, "add", ".")
    pre_commit = shutil.which("pre-commit", path=str(Path(os.sys.executable).parent)) or "pre-commit"
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pc-home"), "KVLINT_CACHE_DIR": str(tmp_path / "cache")}
    # A clone at the pinned commit: try-repo runs a local checkout's current commit.
    clone = tmp_path / "kvlint"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=600)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", hook_rev], check=True, timeout=600)
    tried = subprocess.run(
        [pre_commit, "try-repo", str(clone), "kvlint", "--files", "vm.yaml"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    out = tried.stdout + tried.stderr
    assert tried.returncode != 0, out
    assert "KV101" in out, out
