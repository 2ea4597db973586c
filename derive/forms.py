"""Print-stable constructors for the forms a person writes by hand.

SymPy rewrites what it is given: ``fraction()`` moves ``exp(-2)`` from a numerator into the
denominator, and an evaluated sum reorders its terms. The nodes here keep the written form in
every printer (terminal, Markdown, LaTeX, Typst) and still evaluate to the right number.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.printing.precedence import PRECEDENCE


class Ratio(sp.Expr):
    """``numerator / denominator`` exactly as written: nothing cancels, nothing changes sides."""

    is_commutative = True
    precedence = PRECEDENCE["Mul"]

    def __new__(cls, numerator, denominator):
        return super().__new__(cls, sp.sympify(numerator), sp.sympify(denominator))

    @property
    def numerator(self) -> sp.Expr:
        return self.args[0]

    @property
    def denominator(self) -> sp.Expr:
        return self.args[1]

    def doit(self, **hints):
        return self.numerator.doit(**hints) / self.denominator.doit(**hints)

    def _eval_evalf(self, prec):
        return self.doit()._eval_evalf(prec)

    def _eval_is_positive(self):
        top, bottom = self.numerator.is_positive, self.denominator.is_positive
        if top is None or bottom is None:
            return None
        return top == bottom and not self.numerator.is_zero


def shown_exp(exponent) -> sp.Expr:
    """``e^{s}`` kept as written: ``e^{0}`` and ``e^{1}`` stay, a sum in the exponent stays."""
    return sp.exp(exponent, evaluate=False)


def shown_sum(terms) -> sp.Expr:
    """A sum in the order given, never sorted or folded."""
    terms = list(terms)
    if len(terms) == 1:
        return terms[0]
    return sp.Add(*terms, evaluate=False)


def exp_over(exponent, normaliser) -> Ratio:
    """``e^{s} / Z``: the one numerator a softmax step is there to show."""
    return Ratio(shown_exp(exponent), normaliser)


def softmax_entries(exponents) -> list[Ratio]:
    """A row of softmax entries ``e^{s_j} / (e^{s_1} + … + e^{s_n})`` with every term as written."""
    exponents = list(exponents)
    total = shown_sum(shown_exp(s) for s in exponents)
    return [exp_over(s, total) for s in exponents]


class SumName(sp.Symbol):
    """The name of a row sum (``Z_i``): a symbol that stands for a number, not an unknown."""


@dataclass(frozen=True)
class Normaliser:
    """A named row sum ``Z_i = Σ_j e^{s_ij}``, defined once so each entry reads ``e^{s_ij}/Z_i``."""

    name: SumName
    terms: tuple[sp.Expr, ...]

    @property
    def written(self) -> sp.Expr:
        """The sum as written, term by term."""
        return shown_sum(self.terms)

    @property
    def value(self) -> sp.Expr:
        return sp.Add(*(term.doit() for term in self.terms))

    def over(self, numerator) -> Ratio:
        return Ratio(numerator, self.name)


def normaliser_name(index=None) -> SumName:
    """``Z`` or ``Z_i``: the conventional name of a softmax row sum."""
    return SumName("Z" if index in (None, "") else f"Z_{index}")


def normaliser(exponents, index=None) -> Normaliser:
    """The row sum of ``e^{s_j}`` over ``exponents``, named ``Z_index``."""
    return Normaliser(normaliser_name(index), tuple(shown_exp(s) for s in exponents))


def normalised_row(exponents, index=None) -> tuple[Normaliser, list[Ratio]]:
    """A long softmax row written with its sum named: ``Z_i`` and the entries ``e^{s_ij}/Z_i``."""
    exponents = list(exponents)
    named = normaliser(exponents, index)
    return named, [named.over(shown_exp(s)) for s in exponents]


__all__ = [
    "Normaliser",
    "Ratio",
    "SumName",
    "exp_over",
    "normalised_row",
    "normaliser",
    "normaliser_name",
    "shown_exp",
    "shown_sum",
    "softmax_entries",
]
