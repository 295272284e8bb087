"""Kubernetes quantities (``16Gi``, ``1.5G``, ``500m``, ``1e9``) as exact fractions."""

from __future__ import annotations

import functools
import re
from fractions import Fraction
from typing import Any

_QTY = re.compile(
    r"^(?P<num>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<bin>[KMGTPE]i)|(?P<dec>[numkMGTPE])|[eE](?P<exp>[+-]?[0-9]+))?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
#: Bounds that keep hostile quantities cheap: Kubernetes quantities fit an int64 scaled by
#: at most 10^-9, so nothing valid comes near them.
_QTY_MAX_LEN = 64
_QTY_MAX_EXP = 40


def parse_quantity(value: Any) -> Fraction | None:
    """Exact value of a Kubernetes quantity (``16Gi``, ``1.5G``, ``500m``, ``1e9``, or an
    integer); ``None`` when it is not one (fractional exponents included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if not isinstance(value, str):
        return None
    return _parse_quantity_text(value)


@functools.lru_cache(maxsize=1024)
def _parse_quantity_text(value: str) -> Fraction | None:
    # The same few quantities ("8Gi", "64Mi") recur on every VM of a tree.
    if len(value) > _QTY_MAX_LEN:
        return None  # no real quantity is this long; Python's big numbers would be slow
    m = _QTY.match(value)
    if m is None:
        return None
    number = Fraction(m.group("num"))
    if m.group("bin"):
        return number * _BINARY[m.group("bin")]
    if m.group("dec"):
        return number * _DECIMAL[m.group("dec")]
    if m.group("exp") is not None:
        exp = int(m.group("exp"))
        if abs(exp) > _QTY_MAX_EXP:
            return None  # far outside what Kubernetes can represent (int64 milli-units)
        return number * Fraction(10) ** exp
    return number
