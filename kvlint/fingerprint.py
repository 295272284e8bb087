"""Stable finding fingerprints: the same problem keeps its fingerprint when unrelated lines
move (they hash the rule, the file, the object and the YAML path, never line numbers).
Used by SARIF ``partialFingerprints`` and by baselines."""

from __future__ import annotations

from kvlint.models import Finding


def fingerprint(f: Finding) -> str:
    import hashlib  # (imported when used: most runs write no baseline and no SARIF)

    obj = f.object
    ident = "|".join(
        (
            f.rule,
            f.location.file,
            f"{obj.kind}/{obj.namespace or ''}/{obj.name}" if obj else "",
            f.location.path,
            "" if obj else f.message,
        )
    )
    return hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]
