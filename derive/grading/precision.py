"""How close an answer must be: set by the task (decimals), never by the digits a student wrote.

An entry is right when it lies within half a unit of the task's last decimal of the exact value
(``0.5e-2`` for 2 decimals), widened only by the slack that carrying one's own rounded earlier
answers needs. ``--rtol``/``--atol`` replace the half unit when a lecturer wants another rule.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import mpmath

from derive.errors import InputError
from derive.grading.report import DEFAULT_DECIMALS  # noqa: F401  (one definition, re-exported here)

MAX_DECIMALS = 12
# The largest relative tolerance that still says something: beyond 100 % every answer passes.
MAX_RTOL = 1.0
# Two numbers this close are the same number (exact forms are compared at 30 digits).
SAME = mpmath.mpf(10) ** -25

_DECIMAL = re.compile(r"^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")


@dataclass(frozen=True)
class Precision:
    """The task's precision: ``decimals``, or explicit tolerances that override it."""

    decimals: int = DEFAULT_DECIMALS
    rtol: float | None = None
    atol: float | None = None
    scale: float = 0.0  # the answer's largest entry, for answers too small to show (see ``places``)

    def __post_init__(self):
        check_decimals(self.decimals)
        check_tolerance("--rtol", self.rtol, MAX_RTOL)
        check_tolerance("--atol", self.atol)

    @property
    def explicit(self) -> bool:
        return self.rtol is not None or self.atol is not None

    def allowance(self, expected) -> mpmath.mpf:
        """How far an entry may lie from ``expected`` before any carried slack."""
        if self.explicit:
            return mpmath.mpf(self.atol or 0) + mpmath.mpf(self.rtol or 0) * abs(expected)
        return half_unit(self.decimals, self.scale)

    def for_answer(self, entries) -> Precision:
        """This precision for one answer, knowing its size: a whole answer too small to show at
        the decimals (a learning rate of 0.0007) is asked to significant figures instead; one
        small entry among larger ones (a weight of 0.003 beside 0.997) is not."""
        return replace(self, scale=max((abs(float(e)) for e in entries), default=0.0))

    def describe(self) -> str:
        if self.explicit:
            return f"rtol {self.rtol or 0:g}, atol {self.atol or 0:g}"
        return f"{self.decimals} decimals"


def half_unit(decimals: int, scale=0) -> mpmath.mpf:
    """Half a unit of the last required decimal, for an answer whose largest entry is ``scale``.
    A nonzero answer that would round to 0 there (a learning rate of 0.0007 at 2 decimals) is
    asked to as many significant figures instead, so 0 is never right for an answer that is not."""
    return mpmath.mpf(5) * mpmath.mpf(10) ** -(places(decimals, scale) + 1)


def places(decimals: int, scale=0) -> int:
    """The decimal places an answer needs: ``decimals``, or more for an answer too small to show."""
    size = abs(mpmath.mpf(scale))
    if not size or size >= half_unit_at(decimals):
        return decimals
    leading = -int(mpmath.floor(mpmath.log10(size)))  # 0.0007 -> 4: its first digit's place
    return leading + max(decimals, 1) - 1


def half_unit_at(decimals: int) -> mpmath.mpf:
    return mpmath.mpf(5) * mpmath.mpf(10) ** -(decimals + 1)


def check_decimals(decimals) -> None:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= MAX_DECIMALS:
        raise InputError("--decimals", f"expected a whole number of decimals from 0 to {MAX_DECIMALS}")


def check_tolerance(option: str, value, high: float | None = None) -> None:
    """A tolerance is a finite number >= 0 (inf, nan or a negative one would pass any answer)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(option, "expected a number >= 0")
    if not math.isfinite(value) or value < 0:
        raise InputError(option, f"expected a finite number >= 0, got {value!r}")
    if high is not None and value > high:
        raise InputError(option, f"expected at most {high:g} (a larger tolerance accepts any answer)")


def decimals_of(text: str) -> int | None:
    """The decimals a written number needs (``0.1`` and ``0.10`` → 1, ``1`` and ``1.0`` → 0,
    ``2.5e-3`` → 4): read from its value, so trailing zeros never change a verdict. None for an
    exact form such as ``1/3`` or ``sqrt(2)``, which is as precise as a number can be."""
    match = _DECIMAL.match(text.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None
    digits = match.group(2) or ""
    exponent = int(match.group(3) or 0)
    return max(0, len(digits.rstrip("0")) - exponent) if digits else max(0, -exponent)
