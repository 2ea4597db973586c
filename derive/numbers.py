"""Turn exact SymPy values into rounded decimals for display and floats for JSON."""

from __future__ import annotations

from decimal import Decimal as PyDecimal
from typing import Any

import sympy as sp

WORK_DPS = 30


class Decimal(sp.AtomicExpr):
    """A rounded number that prints exactly as written, trailing zeros included (0.0100)."""

    is_number = True
    is_commutative = True

    def __new__(cls, text: str):
        obj = super().__new__(cls)
        obj.text = text
        return obj

    def _hashable_content(self):
        return (self.text,)

    def __float__(self) -> float:
        return float(self.text)

    def _mantissa_exponent(self):
        mantissa, _, exponent = self.text.partition("e")
        return mantissa, int(exponent) if exponent else None

    def _latex(self, printer) -> str:
        mantissa, exponent = self._mantissa_exponent()
        return mantissa if exponent is None else f"{mantissa} \\times 10^{{{exponent}}}"

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        mantissa, exponent = self._mantissa_exponent()
        return prettyForm(mantissa if exponent is None else f"{mantissa}e{exponent:+d}")

    def _sympystr(self, printer) -> str:
        return self.text


def _rounded(value, decimals: int) -> Decimal:
    """Fixed decimals, or scientific notation for very large or very small magnitudes."""
    number = PyDecimal(str(sp.N(value, WORK_DPS)))
    if number == 0:
        return Decimal(f"{0:.{decimals}f}")
    magnitude = number.adjusted()
    if magnitude >= 6 or magnitude < -decimals:
        return Decimal(f"{number:.{decimals}e}".replace("e+", "e"))
    text = f"{number:.{decimals}f}"
    return Decimal(text[1:] if text.startswith("-") and not text.strip("-0.") else text)


def approx(value: Any, decimals: int) -> Any:
    """The same shape as ``value`` with every entry rounded for display."""
    if isinstance(value, sp.MatrixBase):
        return sp.Matrix(value.rows, value.cols, [_rounded(entry, decimals) for entry in value])
    return _rounded(sp.sympify(value), decimals)


def is_array(value: Any) -> bool:
    """A NumPy array (a real model's tensors), recognised without importing NumPy."""
    return type(value).__module__ == "numpy" and hasattr(value, "tolist")


def to_float(value: Any) -> Any:
    """Floats (nested lists for matrices), as promised by the JSON contract."""
    if is_array(value):
        return value.tolist()
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
    """SymPy strings; a NumPy array is already numeric, so its exact form is its float repr."""
    if is_array(value):
        return to_exact(value.tolist())
    if isinstance(value, sp.MatrixBase):
        return [[str(e) for e in row] for row in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [to_exact(v) for v in value]
    return str(value)
