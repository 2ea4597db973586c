"""Presentation MathML for SymPy expressions, with the same written forms as the LaTeX printer.

SymPy's ``MathMLPresentationPrinter`` is the base. It is configured to keep unevaluated sums
and products as written (``1 ⋅ (−3) + (−2) ⋅ 6``, not ``−3 − 12``), numerators on top,
rounded decimals with their trailing zeros, and names as ``derive.printing`` splits them.
SymPy writes its text nodes raw (it relies on entities such as ``&#x2211;``); here every
text node is escaped, so a name or string cannot inject markup, and named entities become
characters so the result is plain XML.

``math(expr, display=False)`` gives one ``<math>`` element with an ``alttext`` for screen readers.
"""

from __future__ import annotations

import html
import re

import sympy as sp
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE, precedence_traditional

from derive import printing
from derive.printing import hidden_product, moved_by_fraction, negative_factor, written_halves

_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z]+);")
_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "lamda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "omicron": "ο", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Lamda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ",
    "Omega": "Ω",
}  # fmt: skip
_ACCENTS = {
    "ddot": "¨",
    "hat": "^",
    "bar": "¯",
    "tilde": "~",
    "vec": "→",
    "dot": "˙",
    "check": "ˇ",
    "breve": "˘",
}
_OPERATORS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "log": "log",
    "ln": "ln", "asin": "arcsin", "acos": "arccos", "atan": "arctan", "Max": "max", "Min": "min",
}  # fmt: skip
_RELATIONS = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
_TIMES = "×"
_DOT = "⋅"


_TALL = ("mfrac", "mtable", "munderover", "munder")


def _minus_signs(node) -> None:
    """A negative number shows a true minus sign (U+2212), as in print."""
    for mn in node.getElementsByTagName("mn") if node.tagName != "mn" else [node]:
        if mn.firstChild is not None and mn.firstChild.data.startswith("-"):
            mn.firstChild.data = "−" + mn.firstChild.data[1:]


def _fix_flat_fences(node) -> None:
    """Brackets around flat content do not stretch: browsers otherwise pad them, ``f ( x )``."""
    fences = [node] if node.tagName == "mo" else []
    for mo in fences + list(node.getElementsByTagName("mo")):
        if mo.firstChild is not None and mo.firstChild.data in ("(", ")"):
            parent = mo.parentNode
            if parent is not None and not any(parent.getElementsByTagName(tag) for tag in _TALL):
                mo.setAttribute("stretchy", "false")


class MathMLPrinter(MathMLPresentationPrinter):
    """Presentation MathML laid out as ``derive.printing.latex`` lays out LaTeX."""

    def __init__(self, settings=None):
        super().__init__({"order": "none", "mat_delim": "[", **(settings or {})})
        raw = self.dom.createTextNode

        def escaped(data):
            data = _ENTITY.sub(lambda m: html.unescape(m.group()), str(data))
            return raw(html.escape(data, quote=False))

        self.dom.createTextNode = escaped

    def doprint(self, expr) -> str:
        node = self._print(expr)
        _fix_flat_fences(node)
        _minus_signs(node)
        return node.toxml().encode("ascii", "xmlcharrefreplace").decode()

    # -- small builders ----------------------------------------------------------------------
    def _element(self, tag: str, *children, **attributes):
        node = self.dom.createElement(tag)
        for name, value in attributes.items():
            node.setAttribute(name, value)
        for child in children:
            node.appendChild(self.dom.createTextNode(child) if isinstance(child, str) else child)
        return node

    def _row(self, *children):
        return self._element("mrow", *children)

    def _mo(self, text: str):
        return self._element("mo", text)

    def _parens(self, node):
        return self._row(self._mo("("), node, self._mo(")"))

    # -- names -------------------------------------------------------------------------------
    def _word(self, text: str):
        if text in _GREEK:
            return self._element("mi", _GREEK[text])
        if text.isdigit():
            return self._element("mn", text)
        if text.startswith("(") and text.endswith(")") and len(text) > 2:
            return self._parens(self._word(text[1:-1]))
        if len(text) == 2 and text.isalpha():  # indices such as ij stay italic letters
            return self._row(*[self._element("mi", ch) for ch in text])
        return self._element("mi", text)

    def _base(self, text: str):
        for accent, mark in _ACCENTS.items():
            if text.endswith(accent) and len(text) > len(accent):
                return self._element("mover", self._base(text[: -len(accent)]), self._mo(mark), accent="true")
        return self._word(text)

    def _named(self, name: str, base_node=None):
        base, supers, subs = split_super_sub(name)
        base = base or name
        primes = len(base) - len(base.rstrip("'"))
        node = base_node if base_node is not None else self._base(base.rstrip("'") or base)
        sub = self._row(*[self._word(s) for s in subs]) if subs else None
        marks = [self._word(s) for s in supers] + ([self._mo("′" * primes)] if primes else [])
        sup = self._row(*marks) if marks else None
        if sub is not None and sup is not None:
            return self._element("msubsup", node, sub, sup)
        if sub is not None:
            return self._element("msub", node, sub)
        if sup is not None:
            return self._element("msup", node, sup)
        return node

    def _print_Symbol(self, sym, style="plain"):
        return self._named(sym.name)

    _print_MatrixSymbol = _print_Dummy = _print_IndexedBase = _print_Symbol

    def _print_Str(self, expr):
        return self._element("mtext", expr.name)

    # -- numbers -----------------------------------------------------------------------------
    def _scientific(self, mantissa: str, exponent: str | None):
        number = self._element("mn", mantissa)
        if mantissa.startswith("(") and mantissa.endswith(")"):
            number = self._parens(self._element("mn", mantissa[1:-1]))
        if exponent is None:
            return number
        power = self._element("msup", self._element("mn", "10"), self._element("mn", exponent))
        return self._row(number, self._mo(_TIMES), power)

    def _print_Decimal(self, expr):
        mantissa, _, exponent = expr.text.partition("e")
        return self._scientific(mantissa, str(int(exponent)) if exponent else None)

    def _print_Float(self, expr):
        text = LatexPrinter({"full_prec": True})._print_Float(expr)
        mantissa, times, exponent = text.partition(" \\cdot 10^{")
        return self._scientific(mantissa, exponent.rstrip("}") if times else None)

    def _print_Exp1(self, e):
        return self._element("mi", "e")

    def _print_exp(self, expr):
        return self._element("msup", self._print_Exp1(None), self._print(expr.args[0]))

    def _print_UnevaluatedExpr(self, expr):
        return self._print(expr.args[0])

    # -- arithmetic --------------------------------------------------------------------------
    def _print_Add(self, expr, order=None):
        row = self._row()
        for index, term in enumerate(expr.args):
            if index and not hidden_product(term) and term.could_extract_minus_sign():
                row.appendChild(self._mo("−"))
                term = -term
            elif index:
                row.appendChild(self._mo("+"))
            node = self._print(term)
            row.appendChild(self._parens(node) if term.is_Add or term.is_Relational else node)
        return row

    def _needs_brackets(self, factor, first: bool, last: bool) -> bool:
        if factor.is_Mul:
            return not first and factor.could_extract_minus_sign()
        if precedence_traditional(factor) < PRECEDENCE["Mul"] or factor.is_Relational:
            return True
        if not first and negative_factor(factor):
            return True
        return not last and factor.has(sp.Sum)

    def _product(self, factors):
        row = self._row()
        for index, factor in enumerate(factors):
            if index:
                row.appendChild(self._mo(_DOT))
            node = self._print(factor)
            row.appendChild(
                self._parens(node)
                if self._needs_brackets(factor, index == 0, index == len(factors) - 1)
                else node
            )
        return row

    def _side(self, expr):
        return self._product(list(expr.args)) if expr.is_Mul else self._print(expr)

    def _written(self, factors):
        if len(factors) > 1:
            return self._print(sp.Mul(*factors, evaluate=False))
        return self._print(factors[0] if factors else sp.S.One)

    def _print_Ratio(self, expr):
        return self._element("mfrac", self._print(expr.numerator), self._print(expr.denominator))

    def _print_Mul(self, expr):
        if isinstance(expr, sp.Mul) and any(moved_by_fraction(a) for a in expr.args):
            top, bottom = written_halves(expr)
            if bottom:
                return self._element("mfrac", self._written(top), self._written(bottom))
        if isinstance(expr, sp.Mul):
            args = expr.args
            if args[0] is sp.S.One or any(isinstance(a, sp.Number) for a in args[1:]):
                return self._product(args)
        sign = None
        if expr.could_extract_minus_sign():
            expr = -expr
            sign = self._mo("−")
            if expr.is_Add:
                return self._row(sign, self._parens(self._print(expr)))
        numerator, denominator = sp.fraction(expr, exact=True)
        if denominator is sp.S.One and sp.Pow(1, -1, evaluate=False) not in expr.args:
            body = self._side(expr)
        else:
            body = self._element("mfrac", self._side(numerator), self._side(denominator))
        return self._row(sign, body) if sign is not None else body

    def _print_Pow(self, e):
        if e.exp.is_Rational and e.exp.is_negative and e.base.is_commutative and e.base != 1:
            if not (abs(e.exp.p) == 1 and e.exp.q != 1):
                return self._print_Mul(e)
        if e.base.is_Function and not e.exp.is_Rational:
            return self._element("msup", self._parens(self._print(e.base)), self._print(e.exp))
        return super()._print_Pow(e)

    def _print_Relational(self, e):
        return self._row(self._print(e.lhs), self._mo(_RELATIONS.get(e.rel_op, e.rel_op)), self._print(e.rhs))

    # -- functions ---------------------------------------------------------------------------
    def _function_name(self, name: str):
        if name in _OPERATORS:
            return self._element("mi", _OPERATORS[name])
        base, _, _ = split_super_sub(name)
        if base in _GREEK or len(base) == 1:
            return self._named(name)
        return self._named(name, self._element("mi", base, mathvariant="normal"))

    def _applied(self, name, args):
        """``name(args)`` with the invisible function-application operator screen readers announce."""
        return self._row(name, self._mo("\u2061"), self._paren_comma_separated(*args))

    def _print_Function(self, e):
        return self._applied(self._function_name(e.func.__name__), e.args)

    def _print_Basic(self, e):
        name = self._function_name(type(e).__name__)
        return self._applied(name, e.args) if e.args else name


def math(expr, display: bool = False) -> str:
    """One ``<math>`` element; ``alttext`` is the plain one-line form a screen reader can speak."""
    body = MathMLPrinter().doprint(expr)
    alttext = html.escape(spoken(expr), quote=True)
    mode = "block" if display else "inline"
    return (
        f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="{mode}" alttext="{alttext}">{body}</math>'
    )


def spoken(expr) -> str:
    """The one-line text form for ``alttext``: the plain form with a middle dot for products."""
    return printing.plain(expr).replace("*", "·")


def body(expr) -> str:
    """The MathML of ``expr`` without the ``<math>`` wrapper, to build larger formulas."""
    return MathMLPrinter().doprint(expr)


__all__ = ["MathMLPrinter", "math", "body", "spoken"]
