"""The README's commands work as written.

Every ``sh`` block is run line by line from a copy of the checkout's examples (a git
repository, as a fresh clone is), with this environment's ``kvlint`` first on PATH, unless
the comment line right above the block marks it:

* ``<!-- readme-test: network ... -->`` needs the package index or another host: not run;
* ``<!-- readme-test: needs BINARY -->`` runs only where BINARY is on PATH;
* ``<!-- readme-test: skip (...) -->`` is an illustration that needs the reader's own files.

A command passes when it exits 0 or 1 (1: findings, as the README says) and prints no
usage or input error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK_RE = re.compile(r"(?:^<!-- readme-test: (?P<mark>[^>]*?) -->\n)?^```sh\n(?P<body>.*?)^```$", re.M | re.S)


def sh_blocks() -> list[tuple[str, str]]:
    """(marker or "", body) of every sh block."""
    return [(m.group("mark") or "", m.group("body")) for m in BLOCK_RE.finditer(README)]


def commands() -> list[tuple[str, str]]:
    out = []
    for mark, body in sh_blocks():
        for line in body.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                out.append((mark, line))
    return out


def test_blocks_are_found_and_marked_ones_say_why() -> None:
    blocks = sh_blocks()
    assert len(blocks) >= 6
    for mark, body in blocks:
        assert mark == "" or re.match(r"(network|needs \S+|skip) ?", mark), (mark, body)
    assert any(mark == "" for mark, _ in blocks)
    # Installing from the package index uses the distribution name of pyproject.toml.
    name = re.search(r'^name = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    assert name is not None
    installs = re.findall(r"pip install (?:-\S+ )*([a-z][\w.-]*)", README)
    assert installs and set(installs) == {name.group(1)}, installs


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    work = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", work / "examples")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "examples"]):
        subprocess.run(["git", "-C", str(work), *args], check=True, capture_output=True, env=env)
    return work


CASES = [pytest.param(mark, cmd, id=f"{i}-{cmd[:60]}") for i, (mark, cmd) in enumerate(commands())]


@pytest.mark.parametrize(("mark", "command"), CASES)
def test_readme_command(mark: str, command: str, workdir: Path, tmp_path: Path) -> None:
    if mark.startswith(("network", "skip")):
        pytest.skip(f"README marks it: {mark}")
    if mark.startswith("needs "):
        binary = mark.split()[1]
        alternatives = {"kubectl": ("kubectl", "kustomize")}.get(binary, (binary,))
        if not any(shutil.which(b) for b in alternatives):
            pytest.skip(f"{binary} is not on PATH")
    bindir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        "KVLINT_CACHE_DIR": str(tmp_path / "cache"),
        "NO_COLOR": "1",
    }
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1), f"{command!r} exited {proc.returncode}:\n{out[-3000:]}"
    assert "Traceback" not in out and "internal error" not in out, out[-3000:]
    if not command.startswith("kvlint rules"):
        assert "KV906" not in out, out[-3000:]  # no path in the README is missing
    if command.startswith("kvlint lint") and "--format" not in command:
        assert "problem" in proc.stdout, out[-3000:]
