"""SymPy printers configured once, so every renderer prints math the same way.

The subclasses follow ``sympy/printing``: one ``_print_<Class>`` method per fix.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm, stringPict
from sympy.printing.str import StrPrinter

_LATEX = {"order": "none", "mul_symbol": "dot", "mat_str": "bmatrix", "mat_delim": "", "full_prec": True}


def negative_factor(arg) -> bool:
    """A negative number, exact or a rounded Decimal, which needs brackets inside a product."""
    return (arg.is_Number and arg.is_negative) or str(getattr(arg, "text", "")).startswith("-")


def hidden_product(term) -> bool:
    """An unevaluated product whose first factor is negative, which SymPy would fold into a minus sign."""
    return (
        term.is_Mul
        and len(term.args) > 1
        and negative_factor(term.args[0])
        and all(a.is_Number for a in term.args)
    )


def moved_by_fraction(factor) -> bool:
    """A numerator factor that SymPy's ``fraction()`` would move below the line, like ``e^{-2}``."""
    if factor.is_Number or (factor.is_Pow and factor.exp.is_negative):
        return False
    return sp.fraction(factor, exact=True)[1] != 1


def written_halves(product) -> tuple[list, list]:
    """Numerator and denominator factors of an unevaluated product, each kept on its own side."""
    top, bottom = [], []
    for factor in product.args:
        if factor.is_Pow and factor.exp.is_Rational and factor.exp.is_negative:
            bottom.append(sp.Pow(factor.base, -factor.exp, evaluate=factor.exp == -1))
        else:
            top.append(factor)
    return top, bottom


def _product(factors) -> sp.Expr:
    if not factors:
        return sp.S.One
    return factors[0] if len(factors) == 1 else sp.Mul(*factors, evaluate=False)


class _Latex(LatexPrinter):
    def _print_Ratio(self, expr):
        return self._frac(expr.numerator, expr.denominator)

    def _frac(self, numerator, denominator) -> str:
        return f"\\frac{{{self._print(numerator)}}}{{{self._print(denominator)}}}"

    def _print_Add(self, expr, order=None):
        """Keep unevaluated products visible: ``1 \\cdot (-3) + (-2) \\cdot 6``, not ``- 12``."""
        terms = list(expr.args) if self.order == "none" else None
        if not terms or not any(hidden_product(t) for t in terms):
            return super()._print_Add(expr, order)
        parts = []
        for index, term in enumerate(terms):
            text = self._print(term)
            if hidden_product(term) or not (index and text.startswith("-")):
                parts.append(("+ " if index else "") + text)
            else:
                parts.append("- " + text[1:].lstrip())
        return " ".join(parts)

    def _print_Mul(self, expr):
        """A negative rounded decimal inside a product keeps its brackets: 0.50 \\cdot (-2.25);
        a written quotient keeps its numerator on top: \\frac{e^{-2}}{e^{-2} + e^{-1} + e^{0}}."""
        if self.order == "none" and any(moved_by_fraction(a) for a in expr.args):
            top, bottom = written_halves(expr)
            if bottom:
                return self._frac(_product(top), _product(bottom))
        if not any(negative_factor(a) and not a.is_Number for a in expr.args[1:]):
            return super()._print_Mul(expr)
        parts = [self._print(a) for a in expr.args]
        return " \\cdot ".join(
            f"\\left({p}\\right)" if (negative_factor(a) and i) or a.is_Add else p
            for i, (a, p) in enumerate(zip(expr.args, parts))
        )

    def _print_Float(self, expr):
        text = super()._print_Float(expr)
        return text.replace("\\cdot", "\\times")


class _Pretty(PrettyPrinter):
    def _print_Ratio(self, expr):
        return self._print(expr.numerator) / self._print(expr.denominator)

    def _print_Pow(self, power):
        """√dₖ on one line, as people write it, instead of a two-line radical."""
        base, exponent = power.as_base_exp()
        if exponent == sp.S.Half and (base.is_Symbol or base.is_Integer):
            form = self._print(base)
            if form.height() == 1:
                return prettyForm(*form.left("√"))
        return super()._print_Pow(power)

    def _print_MinMaxBase(self, expr):
        """``max(0, a⋅w₁₁ + b₁)`` with its arguments pretty (SymPy prints Max as plain text)."""
        return self._helper_print_function(expr.func, expr.args, func_name=type(expr).__name__.lower())

    _print_Max = _print_Min = _print_MinMaxBase

    def _print_Add(self, expr, order=None):
        """Unevaluated sums of products keep every product as written: 2⋅(-2) + (-1)⋅(-1)."""
        terms = list(expr.args) if self.order == "none" else None
        if not terms or not any(hidden_product(t) for t in terms):
            return super()._print_Add(expr, order)
        result = self._print(terms[0])
        for term in terms[1:]:
            negative = not hidden_product(term) and term.could_extract_minus_sign()
            form = self._print(-term if negative else term)
            if term.is_Add:
                form = prettyForm(*form.parens())
            result = prettyForm(*result.right(" - " if negative else " + ", form))
        return prettyForm("\n".join(result.picture), result.baseline, binding=prettyForm.ADD)

    def _print_Sum(self, expr):
        """A compact three-line sigma instead of SymPy's eleven-line one."""
        (var, low, high), body = expr.limits[0], expr.function
        sigma = stringPict("∑")
        sigma = stringPict(*sigma.below(self._print(sp.Eq(var, low, evaluate=False))))
        sigma = stringPict(*sigma.above(self._print(high)))
        sigma.baseline = 1 + self._print(high).height() - 1
        form = self._print(body)
        if body.is_Add:
            form = prettyForm(*form.parens())
        return prettyForm(*sigma.right(" ", form))

    def _print_Mul(self, product):
        """SymPy's own method without its units import (0.2 s of start-up), and with
        negative factors of an unevaluated product in parentheses: 3⋅(-4), not 3⋅-4."""
        args = product.args
        if args[0] is sp.S.One or any(isinstance(arg, sp.Number) or negative_factor(arg) for arg in args[1:]):
            forms = []
            for arg in args:
                form = self._print(arg)
                if negative_factor(arg) or arg.is_Add:
                    form = prettyForm(*form.parens())
                forms.append(form)
            result = forms[0]
            for form in forms[1:]:
                result = prettyForm(*result.right("⋅", form))
            return result
        numerator, denominator = [], []
        factors = product.as_ordered_factors() if self.order not in ("old", "none") else list(args)
        for item in factors:
            if item.is_commutative and item.is_Pow and item.exp.is_Rational and item.exp.is_negative:
                denominator.append(sp.Pow(item.base, -item.exp, evaluate=item.exp == -1))
            elif item.is_Rational and item is not sp.S.Infinity:
                if item.p != 1:
                    numerator.append(sp.Rational(item.p))
                if item.q != 1:
                    denominator.append(sp.Rational(item.q))
            else:
                numerator.append(item)
        top = [self._print(a) for a in numerator] or [self._print(sp.S.One)]
        if not denominator:
            return prettyForm.__mul__(*top)
        return prettyForm.__mul__(*top) / prettyForm.__mul__(*[self._print(b) for b in denominator])


class _Plain(StrPrinter):
    def _print_Ratio(self, expr):
        top = self.parenthesize(expr.numerator, PRECEDENCE["Mul"])
        return f"{top}/{self.parenthesize(expr.denominator, PRECEDENCE['Mul'], strict=True)}"

    def _print_MatrixBase(self, expr):
        rows = ["[" + ", ".join(self._print(e) for e in row) + "]" for row in expr.tolist()]
        return rows[0] if expr.rows == 1 else "[" + ", ".join(rows) + "]"

    _print_ImmutableDenseMatrix = _print_MutableDenseMatrix = _print_MatrixBase

    def _print_Equality(self, expr):
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    def _print_Mul(self, product):
        args = product.args
        if len(args) < 2 or not any(isinstance(a, sp.Number) for a in args[1:]):
            return super()._print_Mul(product)
        return "*".join(
            f"({self._print(a)})" if negative_factor(a) or a.is_Add else self._print(a) for a in args
        )

    def _print_Add(self, expr, order=None):
        terms = list(expr.args) if self.order == "none" else None
        if not terms or not any(hidden_product(t) for t in terms):
            return super()._print_Add(expr, order)
        text = self._print(terms[0])
        for term in terms[1:]:
            negative = not hidden_product(term) and term.could_extract_minus_sign()
            text += (" - " if negative else " + ") + self._print(-term if negative else term)
        return text


def _printed_once(printer):
    """Each expression printed once: the size policy measures a form by printing it, and the
    renderer then prints the same form again (a mutable matrix is unhashable: printed each time)."""
    cached = functools.lru_cache(maxsize=4096)(printer)

    @functools.wraps(printer)
    def printed(expr, *args):
        try:
            hash(expr)
        except TypeError:
            return printer(expr, *args)
        return cached(expr, *args)

    return printed


@_printed_once
def latex(expr) -> str:
    return _Latex(_LATEX).doprint(expr)


@_printed_once
def pretty(expr, unicode: bool = True) -> str:
    return _Pretty({"order": "none", "use_unicode": unicode, "wrap_line": False, "full_prec": True}).doprint(
        expr
    )


@_printed_once
def plain(expr) -> str:
    """One line for prose and tables; powers written as ``^`` as people type them."""
    return _Plain({"order": "none", "full_prec": True}).doprint(expr).replace("**", "^")


def is_multiline(expr) -> bool:
    return "\n" in pretty(expr)


__all__ = ["latex", "pretty", "plain", "is_multiline", "sp"]
