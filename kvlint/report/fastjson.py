"""``json.dumps(value, indent=2, ensure_ascii=False)``, byte for byte, faster.

With ``indent``, the standard library encodes in pure Python, one generator per container;
a large report (tens of thousands of findings) spent a noticeable part of the run there.
This encoder builds the same text with one recursive function and the C string encoder.
Values other than dicts with string keys, lists, tuples, strings, ints, floats, booleans
and None make it fall back to ``json.dumps``.
"""

from __future__ import annotations

import json
from typing import Any

try:
    from _json import encode_basestring as _encode_str
except ImportError:  # pragma: no cover - CPython always has the C accelerator
    from json.encoder import py_encode_basestring as _encode_str

#: A string as JSON (with ensure_ascii=False).
encode_str = _encode_str


class _Unsupported(Exception):
    pass


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)


def _encode(value: Any, level: int, out: list[str]) -> None:
    t = type(value)
    if t is str:
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif t is int:
        out.append(int.__repr__(value))
    elif t is float:
        out.append(_float(value))
    elif t is dict:
        if not value:
            out.append("{}")
            return
        inner = "\n" + "  " * (level + 1)
        sep = "," + inner
        out.append("{" + inner)
        first = True
        for k, v in value.items():
            if type(k) is not str:
                raise _Unsupported
            if first:
                first = False
            else:
                out.append(sep)
            out.append(_encode_str(k))
            out.append(": ")
            _encode(v, level + 1, out)
        out.append("\n" + "  " * level + "}")
    elif t is list or t is tuple:
        if not value:
            out.append("[]")
            return
        inner = "\n" + "  " * (level + 1)
        sep = "," + inner
        out.append("[" + inner)
        first = True
        for v in value:
            if first:
                first = False
            else:
                out.append(sep)
            _encode(v, level + 1, out)
        out.append("\n" + "  " * level + "]")
    else:
        raise _Unsupported


def dumps(value: Any) -> str:
    """The same text as ``json.dumps(value, indent=2, ensure_ascii=False)``."""
    out: list[str] = []
    try:
        _encode(value, 0, out)
    except (_Unsupported, RecursionError):
        return json.dumps(value, indent=2, ensure_ascii=False)
    return "".join(out)
