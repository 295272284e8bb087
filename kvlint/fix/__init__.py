"""Automatic fixes: mechanical edits of the YAML that a finding points at.

One module per concern: ``edits`` (the registry, edits, the original document, comment
surgery), ``fixers`` (one fixer per rule), ``facts`` (what a fix needs from the lint run,
recorded while the checks run), ``splice`` (rewriting and verifying one file), ``planning``
(``kvlint fix``), ``write`` (atomic writes), ``sarif`` (SARIF replacements), ``textedit``
(the common fixes written at the text level, without the round trip below).

Design:

* **Fixers** (``FIXERS``, rule id -> :class:`Fixer`) hold all the knowledge of which rule has
  which fix. A fixer is ``fn(finding, doc) -> list[Edit] | None``: it inspects the ruamel.yaml
  round-trip document (never mutates it) and returns edits, or None when this instance cannot
  be fixed mechanically. An :class:`Edit` names the paths whose subtrees it changes
  (``touched``) and mutates a fresh copy of the document in ``apply``; ``apply`` also gets the
  original document as kubectl reads it (:class:`Original`: YAML 1.1 values and the exact
  scalar text) and returns what the fixed document must hold afterwards (expectations).
* **Splice.** A file is cut into one chunk per YAML document at the document boundaries the
  parser reports (``---`` lines, ``...`` lines); only chunks of documents with a fix are
  rewritten, every other byte stays as it was. Inside a chunk the document body is loaded
  twice with ruamel.yaml (``typ="rt"``, quotes preserved, the file's own indentation, no
  re-wrapping): once emitted as is (A) and once with the edits applied (B). The line hunks
  between A and B are the fix; they are mapped onto the original text through the lines A
  shares with it (a three-way merge), so that lines ruamel would reformat (``null`` written
  as an empty value, odd indentation elsewhere) are not touched. When a hunk cannot be
  mapped, the whole document is re-emitted (B) instead.
* **Verification.** Each rewritten chunk is parsed again with :func:`kvlint.parse.parse_text`
  (the linter's own YAML 1.1 reading): its data must equal the original's everywhere except
  at the touched paths, equal B's at the touched paths, meet the edits' expectations, and
  keep every comment line. The spliced file is parsed once more as a whole. A fix that fails
  any of this is not applied (and reported); the other fixes of the document still are.
"""

from __future__ import annotations

from kvlint.fix import fixers as _fixers  # noqa: F401 - registers the fixers
from kvlint.fix.edits import (
    FIXERS,
    MISSING,
    SAFE,
    UNSAFE,
    Edit,
    Expectation,
    Fixer,
    Original,
    Refused,
    _flow,
    _new_map,
    delete_key,
    fixable,
    fixer,
    node_at,
)
from kvlint.fix.facts import attach_fixes
from kvlint.fix.planning import FilePlan, Plan, plan, unified_diff
from kvlint.fix.sarif import replacement
from kvlint.fix.splice import FileFixer, Item, Outcome, detect_indent, equal_except, split_documents
from kvlint.fix.write import Changed, remove_stale, write_atomic

__all__ = [
    "FIXERS",
    "MISSING",
    "SAFE",
    "UNSAFE",
    "Changed",
    "Edit",
    "Expectation",
    "FileFixer",
    "FilePlan",
    "Fixer",
    "Item",
    "Original",
    "Outcome",
    "Plan",
    "Refused",
    "_flow",
    "_new_map",
    "attach_fixes",
    "delete_key",
    "detect_indent",
    "equal_except",
    "fixable",
    "fixer",
    "node_at",
    "plan",
    "remove_stale",
    "replacement",
    "split_documents",
    "unified_diff",
    "write_atomic",
]
