"""The README's rule table is generated from rules/*.yaml and must stay in sync.

Regenerate with:  KVLINT_UPDATE_GOLDEN=1 python -m pytest tests/test_docs.py
"""

from __future__ import annotations

import os
import re

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
