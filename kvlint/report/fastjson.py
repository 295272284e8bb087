"""``json.dumps(value, indent=2, ensure_ascii=False)``, byte for byte, with orjson.

A large report holds tens of thousands of findings; the standard library encodes with
``indent`` in pure Python. orjson writes the same text for the values reports hold:
dicts with string keys, lists, tuples, strings, integers, booleans and None. Anything
orjson refuses (a non-string key, an integer over 64 bits, a string with a lone
surrogate from an undecodable file name) is written by ``json.dumps``. Floats are not
part of the contract (no report holds one; orjson writes them in its own way).
"""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    """The same text as ``json.dumps(value, indent=2, ensure_ascii=False)``."""
    import orjson

    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, indent=2, ensure_ascii=False)
