"""The real-world corpus in ../shared/corpus: no crash, no traceback, no internal error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from kvlint.config import Config
from kvlint.runner import lint_paths
from tests.conftest import shared_or_skip


def test_corpus_lints_without_internal_errors() -> None:
    corpus = shared_or_skip("corpus")
    res = lint_paths([str(corpus)], Config())
    internal = [f for f in res.findings if f.rule == "KV907"]
    assert not internal, "\n".join(f"{f.location.file}:{f.location.line} {f.message}" for f in internal)
    assert res.files > 300
    for f in res.findings:
        assert f.location.line >= 1 and f.location.column >= 1
        assert f.fix


def test_templated_corpus_files_are_reported_not_linted() -> None:
    templated = shared_or_skip("corpus", "templated")
    res = lint_paths([str(templated)], Config())
    files = {p for p in os.listdir(templated)}
    assert files
    flagged = {f.location.file for f in res.findings if f.rule in ("KV902", "KV901")}
    total = sum(len(fs) for _, _, fs in os.walk(templated))
    assert len(flagged) == total


def test_console_script_on_corpus_has_no_traceback() -> None:
    corpus = shared_or_skip("corpus")
    exe = shutil.which("kvlint", path=os.path.dirname(sys.executable)) or "kvlint"
    p = subprocess.run([exe, "lint", "--format", "json", str(corpus)], capture_output=True, text=True, timeout=300)
    assert p.returncode in (0, 1, 2)
    assert "Traceback" not in p.stderr
    json.loads(p.stdout)
