"""Print-stable constructors: each one printed in every format shows the same numerator on top
and the same denominator terms, and still evaluates to the right number."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from formshape import latex_fraction, latex_tokens, picture_fraction, terms, typst_fraction

from derive import forms, printing
from derive.model import Derivation, Equation
from derive.render import render

s_11 = sp.Symbol("s_11")
Z_1 = sp.Symbol("Z_1")


def _picture(expr) -> str:
    """The terminal renderer's picture of one display equation, without the title and indent."""
    text = render(Derivation("t", "T", {}, (Equation((expr,)),), (), ""), "terminal", color=False, width=100)
    body = text.split("\n", 3)[3]
    return "\n".join(line[4:] for line in body.rstrip("\n").split("\n"))


def _markdown(expr) -> str:
    text = render(Derivation("t", "T", {}, (Equation((expr,)),), (), ""), "markdown")
    return text.split("$$")[1].strip()


def _latex(expr) -> str:
    text = render(Derivation("t", "T", {}, (Equation((expr,)),), (), ""), "latex", fragment=True)
    return text.split("\\[")[1].split("\\]")[0].strip()


def _typst(expr) -> str:
    from derive import printing_typst

    return printing_typst.typst(expr)


CONSTRUCTED = {
    "stable softmax entry": (
        forms.softmax_entries([-2, -1, 0])[0],
        "e-2",
        ["e-2", "e-1", "e0"],
    ),
    "exp over a named sum": (forms.exp_over(s_11, Z_1), "es11", ["Z1"]),
    "normalised row entry": (forms.normalised_row([sp.Rational(3, 2), -1], 2)[1][1], "e-1", ["Z2"]),
    "ratio of integers kept unreduced": (forms.Ratio(2, 4), "2", ["4"]),
    "surd exponent": (
        forms.softmax_entries([sp.sqrt(2), 0])[0],
        "e√2",
        ["e√2", "e0"],
    ),
}


@pytest.mark.parametrize("name", CONSTRUCTED)
def test_every_format_keeps_the_numerator_on_top(name):
    expr, numerator, denominator = CONSTRUCTED[name]
    shown = {
        "terminal": picture_fraction(_picture(expr)),
        "markdown": latex_fraction(_markdown(expr)),
        "latex": latex_fraction(_latex(expr)),
        "typst": typst_fraction(_typst(expr)),
    }
    for fmt, (top, bottom) in shown.items():
        assert top == numerator, (fmt, top)
        assert terms(bottom) == denominator, (fmt, bottom)


def test_latex_spells_sqrt_as_a_command():
    top, _ = latex_fraction(printing.latex(CONSTRUCTED["surd exponent"][0]))
    assert top == "e√2" and "\\sqrt{2}" in printing.latex(CONSTRUCTED["surd exponent"][0])


@pytest.mark.parametrize(
    "entry, expected",
    [
        (forms.softmax_entries([-2, -1, 0])[0], math.exp(-2) / (math.exp(-2) + math.exp(-1) + 1)),
        (forms.softmax_entries([sp.sqrt(2), 0])[1], 1 / (math.exp(math.sqrt(2)) + 1)),
        (forms.Ratio(2, 4), 0.5),
    ],
)
def test_constructed_forms_evaluate_to_their_value(entry, expected):
    assert float(entry) == pytest.approx(expected, rel=1e-15)
    assert float(sp.N(entry, 30)) == pytest.approx(expected, rel=1e-15)
    assert float(entry.doit()) == pytest.approx(expected, rel=1e-15)


def test_a_row_of_entries_sums_to_one():
    row = forms.softmax_entries([3, sp.Rational(-1, 2), 0, 7])
    assert sp.N(sum(e.doit() for e in row), 40) == pytest.approx(1, abs=1e-30)


def test_normaliser_names_the_sum_and_keeps_its_terms_in_order():
    named, entries = forms.normalised_row([2, -1, 0], 3)
    assert isinstance(named.name, forms.SumName) and named.name.name == "Z_3"
    assert latex_tokens(printing.latex(named.written)) == "e2+e-1+e0"
    assert float(named.value) == pytest.approx(math.exp(2) + math.exp(-1) + 1)
    assert [printing.latex(e) for e in entries] == [
        "\\frac{e^{2}}{Z_{3}}",
        "\\frac{e^{-1}}{Z_{3}}",
        "\\frac{e^{0}}{Z_{3}}",
    ]
    assert printing.plain(entries[1]) == "exp(-1)/Z_3"


def test_normaliser_without_index_is_plain_Z():
    assert forms.normaliser([1, 2]).name.name == "Z"


def test_ratio_inside_a_product_or_power_is_bracketed():
    ratio = forms.exp_over(-1, Z_1)
    assert printing.plain(ratio**2) == "(exp(-1)/Z_1)^2"
    assert printing.latex(2 * ratio) == "2 \\cdot \\frac{e^{-1}}{Z_{1}}"
