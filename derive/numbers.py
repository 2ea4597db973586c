"""Turn exact SymPy values into rounded decimals for display and floats for JSON."""

from __future__ import annotations

import math
from typing import Any

import mpmath
import sympy as sp

WORK_DPS = 30


def _rounded(value: sp.Expr, decimals: int) -> sp.Float:
    """A Float that prints with exactly ``decimals`` places (or that many significant digits)."""
    number = sp.N(value, WORK_DPS)
    if number == 0:
        return sp.Float(0, max(decimals, 1))
    magnitude = int(mpmath.floor(mpmath.log10(abs(number._to_mpmath(WORK_DPS * 4)))))
    if magnitude >= 6 or magnitude < -decimals:
        return sp.Float(number, decimals + 1)
    rounded = round(sp.Rational(number), decimals)
    magnitude = int(math.floor(math.log10(abs(rounded)))) if rounded else -decimals
    return sp.Float(rounded, max(decimals + magnitude + 1, 1))


def approx(value: Any, decimals: int) -> Any:
    """The same shape as ``value`` with every entry rounded for display."""
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda entry: _rounded(entry, decimals))
    return _rounded(sp.sympify(value), decimals)


def is_exact_decimal(value: Any) -> bool:
    """True when showing ``≈ decimals`` would add nothing (integers)."""
    entries = value if isinstance(value, sp.MatrixBase) else [value]
    return all(getattr(sp.sympify(e), "is_Integer", False) for e in entries)


def to_float(value: Any) -> Any:
    """Floats (nested lists for matrices), as promised by the JSON contract."""
    if isinstance(value, sp.MatrixBase):
        return [[_float(e) for e in row] for row in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [to_float(v) for v in value]
    return _float(value)


def _float(entry: Any) -> Any:
    if isinstance(entry, (int, str)):
        return entry
    entry = sp.sympify(entry)
    if entry.is_Integer:
        return int(entry)
    number = float(sp.N(entry, 20))
    return number


def to_exact(value: Any) -> Any:
    if isinstance(value, sp.MatrixBase):
        return [[str(e) for e in row] for row in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [to_exact(v) for v in value]
    return str(value)
