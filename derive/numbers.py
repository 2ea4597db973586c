"""Turn exact SymPy values into rounded decimals for display and floats for JSON."""

from __future__ import annotations

import functools
import math
import sys
from decimal import Decimal as PyDecimal
from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter

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


class Approximate(sp.AtomicExpr):
    """A number written inside a formula but not yet rounded (a model's float in a worked product): the
    renderer replaces it by its decimals at ``--precision``, so topics never fix their own decimals."""

    is_number = True
    is_commutative = True

    def __new__(cls, value: float):
        obj = super().__new__(cls)
        obj.value = float(value)
        return obj

    def _hashable_content(self):
        return (self.value,)

    def __float__(self) -> float:
        return self.value


def with_decimals_inside(expr, decimals: int):
    """``expr`` with every ``Approximate`` in it rounded, nothing else evaluated."""
    pending = expr.atoms(Approximate)
    if not pending:
        return expr
    with sp.evaluate(False):
        return expr.xreplace({a: _rounded(a.value, decimals) for a in pending})


GUARD_DPS = 2 * WORK_DPS  # digits of each exponential, so that sums of them keep WORK_DPS


@functools.lru_cache(maxsize=4096)
def _exponential(power: sp.Expr) -> sp.Float:
    return sp.Float(sp.N(power, GUARD_DPS), GUARD_DPS)


def evaluated(value: Any, dps: int = WORK_DPS) -> sp.Expr:
    """``sp.N(value, dps)``, each distinct exponential evaluated once: a softmax row's exponentials
    recur in every weight and output entry of the row, and evalf would work them out again each time."""
    powers = [p for p in value.atoms(sp.exp) if p.is_number] if isinstance(value, sp.Basic) else ()
    if powers:
        value = value.xreplace({power: _exponential(power) for power in powers})
    return sp.N(value, dps)


@functools.lru_cache(maxsize=4096)
def _rounded(value, decimals: int) -> Decimal:
    """Fixed decimals, or scientific notation for very large or very small magnitudes.

    Cached: every renderer and the size policy round the same entries again, and one
    exponential of a large entry takes mpmath a good part of a second."""
    text = str(evaluated(value, WORK_DPS))
    mantissa, _, exponent = text.partition("e")
    if exponent and abs(int(exponent)) > _DECIMAL_EXPONENT:
        return _scientific(PyDecimal(mantissa), int(exponent), decimals)
    number = PyDecimal(text)
    if number == 0:
        return Decimal(f"{0:.{decimals}f}")
    magnitude = number.adjusted()
    if magnitude >= 6 or magnitude < -decimals:
        return Decimal(f"{number:.{decimals}e}".replace("e+", "e"))
    text = f"{number:.{decimals}f}"
    return Decimal(text[1:] if text.startswith("-") and not text.strip("-0.") else text)


_DECIMAL_EXPONENT = 10**5  # beyond it Python's decimal refuses the number; exp(1e308) is 1.7e(4.3e307)


def _scientific(mantissa: PyDecimal, exponent: int, decimals: int) -> Decimal:
    """``mantissa`` × 10^``exponent`` rounded to ``decimals``, for exponents too large for decimal."""
    shift = mantissa.adjusted()
    digits = f"{mantissa.scaleb(-shift):.{decimals}e}"
    lead, _, carry = digits.partition("e")
    return Decimal(f"{lead}e{exponent + shift + int(carry)}")


def approx(value: Any, decimals: int) -> Any:
    """The same shape as ``value`` with every entry rounded for display; an entry holding a
    symbol has no decimals and stays exact."""
    if isinstance(value, sp.MatrixExpr) and not isinstance(value, sp.MatrixBase):
        value = value.as_explicit()  # a BlockMatrix of heads, say: round its entries, not the whole
    if isinstance(value, sp.MatrixBase):
        return sp.Matrix(value.rows, value.cols, [approx(entry, decimals) for entry in value])
    value = sp.sympify(value)
    return value if value.free_symbols else _rounded(value, decimals)


def is_array(value: Any) -> bool:
    """A NumPy array (a real model's tensors), recognised without importing NumPy."""
    return type(value).__module__ == "numpy" and hasattr(value, "tolist")


def to_float(value: Any) -> Any:
    """Floats (nested lists for matrices) as the JSON contract promises: strict RFC 8259.

    An entry no float64 can hold (beyond about 1.8e308, or not a real number) is None, so
    JSON never carries Infinity or NaN; ``float_gaps`` says why.
    """
    if is_array(value):
        return to_float(value.tolist())
    if isinstance(value, sp.MatrixBase):
        return [[_float(e) for e in row] for row in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [to_float(v) for v in value]
    return _float(value)


def _float(entry: Any) -> Any:
    if entry is None or isinstance(entry, (str, bool)):
        return entry
    if isinstance(entry, int):
        return entry if abs(entry) <= sys.float_info.max else None
    if isinstance(entry, float):
        return entry if math.isfinite(entry) else None
    return _expression_float(sp.sympify(entry))


@functools.lru_cache(maxsize=4096)
def _expression_float(entry: sp.Basic) -> Any:
    """Cached: the JSON answers, their null notes and the API's values ask for the same entries."""
    if entry.is_Integer:
        return _float(int(entry))
    if not entry.is_number:
        return None
    try:
        number = float(evaluated(entry, 20))
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _entries(value: Any):
    if is_array(value):
        value = value.tolist()
    if isinstance(value, (sp.MatrixBase, list, tuple)):
        for entry in value:
            yield from _entries(entry)
    else:
        yield value


def _gap(entry: Any) -> str:
    if isinstance(entry, float) and math.isnan(entry):
        return "not a number (NaN)"
    if isinstance(entry, (int, float)):
        return "beyond the float64 range (about ±1.8e308)"
    entry = sp.sympify(entry)
    if not entry.is_number:
        return "symbolic"
    if entry.is_extended_real is False or entry is sp.nan:
        return "not a real number"
    return "beyond the float64 range (about ±1.8e308)"


def float_gaps(value: Any) -> str | None:
    """Why ``to_float`` left some entry of ``value`` null, or None when every entry is a float."""
    reasons = []
    for entry in _entries(value):
        if entry is None or _float(entry) is not None:
            continue
        reason = _gap(entry)
        if reason not in reasons:
            reasons.append(reason)
    return None if not reasons else "null where the value is " + " or ".join(reasons) + "; see exact"


class _ExactText(StrPrinter):
    """``str()``, printing each sum once: a softmax row's denominator recurs in every entry of the row."""

    def __init__(self):
        super().__init__()
        self._sums: dict = {}

    def _print_Add(self, expr, order=None):
        key = (expr, order)
        if key not in self._sums:
            self._sums[key] = super()._print_Add(expr, order)
        return self._sums[key]


def to_exact(value: Any, printer: _ExactText | None = None) -> Any:
    """SymPy strings; a NumPy array is already numeric, so its exact form is its float repr."""
    printer = printer or _ExactText()
    if is_array(value):
        return to_exact(value.tolist(), printer)
    if isinstance(value, sp.MatrixBase):
        return [[printer.doprint(e) for e in row] for row in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [to_exact(v, printer) for v in value]
    return printer.doprint(value) if isinstance(value, sp.Basic) else str(value)
