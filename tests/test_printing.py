"""The shared printers: written forms survive, in LaTeX as in the terminal."""

from __future__ import annotations

import sympy as sp
from formshape import latex_fraction, picture_fraction

from derive import printing
from derive.forms import Ratio


def _written_quotient(exponent, exponents):
    with sp.evaluate(False):
        total = sp.Add(*[sp.exp(e) for e in exponents])
        return sp.Mul(sp.exp(exponent), sp.Pow(total, -1))


def test_latex_keeps_a_negative_exponential_numerator_on_top():
    """SymPy's fraction() would print \\frac{1}{e^{2}(e^{-2}+e^{-1}+e^{0})}."""
    text = printing.latex(_written_quotient(-2, [-2, -1, 0]))
    assert text == "\\frac{e^{-2}}{e^{-2} + e^{-1} + e^{0}}"


def test_terminal_and_latex_agree_on_the_written_quotient():
    expr = _written_quotient(sp.Rational(-19, 5), [0, -2, sp.Rational(-19, 5)])
    top, bottom = latex_fraction(printing.latex(expr))
    assert (top, bottom) == ("e-195", "e0+e-2+e-195")
    picture_top, picture_bottom = picture_fraction(printing.pretty(expr))
    assert picture_top == "e-195" and picture_bottom == "e0+e-2+e-195"


def test_numeric_coefficients_still_fold_as_sympy_prints_them():
    """Only factors that fraction() would move are protected; 3/4 · √2 prints as before."""
    expr = sp.Mul(sp.Rational(3, 4), sp.sqrt(2), evaluate=False)
    assert printing.latex(expr) == sp.latex(expr, order="none", mul_symbol="dot")


def test_evaluated_quotient_unchanged():
    x = sp.Symbol("x")
    assert printing.latex(sp.exp(-x) / (1 + x)) == sp.latex(
        sp.exp(-x) / (1 + x), order="none", mul_symbol="dot"
    )


def test_a_written_sum_may_start_with_a_fraction():
    """A written sum whose first term is several lines high (it crashed the terminal printer)."""
    quotient = Ratio(sp.Integer(3), sp.Add(sp.Rational(1, 2), sp.Integer(7), evaluate=False))
    product = sp.Mul(sp.Rational(-1, 10), sp.Integer(2), evaluate=False)
    lines = printing.pretty(sp.Add(quotient, product, evaluate=False)).split("\n")
    assert len(lines) == 3 and lines[1].endswith("+ (-1/10)⋅2"), lines


def test_cached_printers_print_mutable_matrices_and_equal_forms_alike():
    from derive import printing

    m = sp.Matrix([[1, sp.sqrt(2)]])
    assert printing.pretty(m) == printing.pretty(sp.ImmutableMatrix(m))
    m[0, 0] = 5  # a mutable matrix is printed afresh, never from a stale cache entry
    assert "5" in printing.pretty(m) and "5" in printing.latex(m)
