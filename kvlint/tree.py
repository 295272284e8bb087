"""Safe navigation over parsed manifest data (mappings, lists and scalars of any shape)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kvlint.parse import Path


def get(data: Any, *keys: Any) -> Any:
    """Safe navigation: ``None`` as soon as a step is missing or of the wrong type."""
    cur = data
    for k in keys:
        if isinstance(k, int):
            if not isinstance(cur, list) or k >= len(cur) or k < -len(cur):
                return None
        elif not isinstance(cur, dict):
            return None
        else:
            cur = cur.get(k)
            continue
        cur = cur[k]
    return cur


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def enumerate_dicts(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """Index and item of every mapping in a list (non-mappings are skipped)."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def name_of(item: dict[str, Any]) -> str | None:
    """An entry's ``name`` when it is a string (anything else matches nothing)."""
    name = item.get("name")
    return name if isinstance(name, str) else None


def path_str(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out
