"""The README's rule table is generated from rules/*.yaml and must stay in sync.

Regenerate with:  KVLINT_UPDATE_GOLDEN=1 python -m pytest tests/test_docs.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from kvlint import catalog
from kvlint.report.rules_doc import table
from tests.conftest import ROOT

START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def test_readme_rule_table_is_current() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    want = table(list(catalog.load().values()), "markdown")
    new = re.sub(f"{START}.*?{END}", lambda _: f"{START}\n{want}{END}", text, flags=re.S)
    if os.environ.get("KVLINT_UPDATE_GOLDEN") and new != text:
        readme.write_text(new, encoding="utf-8")
        text = new
    assert new == text, "README rule table is stale: run with KVLINT_UPDATE_GOLDEN=1"


def test_rule_documents_are_complete() -> None:
    for rid, meta in catalog.load().items():
        assert re.fullmatch(r"KV\d{3}", rid)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", meta.name), rid
        assert meta.summary.endswith("."), f"{rid}: summary should be a sentence"
        assert "TODO" not in meta.why + meta.fix + meta.summary, rid


def test_catalog_reads_the_rule_files_and_writes_no_cache(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(catalog.resource_dir("rules"), rules)
    monkeypatch.setenv("KVLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(catalog, "resource_dir", lambda name: rules)
    catalog.load.cache_clear()
    try:
        first = catalog.load()
        assert not (tmp_path / "cache").exists()
        f = rules / "KV101.yaml"
        f.write_text(f.read_text().replace("summary:", "summary: Changed.", 1))
        catalog.load.cache_clear()
        assert catalog.load()["KV101"].summary.startswith("Changed.")
        assert set(catalog.load()) == set(first)
    finally:
        catalog.load.cache_clear()
