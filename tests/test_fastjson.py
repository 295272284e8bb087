"""The report encoder writes exactly what json.dumps(indent=2, ensure_ascii=False) writes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kvlint.parse import PMap
from kvlint.report import fastjson

leaves = st.none() | st.booleans() | st.integers() | st.text()
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(values)
def test_same_text_as_json_dumps(value: Any) -> None:
    assert fastjson.dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_special_values_and_fallbacks() -> None:
    odd: Any = {
        "big": [2**64, -(2**70)],
        "surrogate": "file-\udcff.yaml",
        "text": 'quote " backslash \\ newline \n control \x01 unicode é 😀',
        "empty": [{}, [], ()],
        1: "an int key (json.dumps turns it into a string)",
        "subclass": PMap(a=1),
    }
    assert fastjson.dumps(odd) == json.dumps(odd, indent=2, ensure_ascii=False)
