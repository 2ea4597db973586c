"""A tiny expression tree, so one formula gives its symbolic form, its substitution and its value.

SymPy evaluates ``2*768`` at once and reorders ``n_vocab*d_model + n_ctx*d_model``; a formula written
once with these nodes keeps the order it was written in, prints with symbols or with numbers put in
(unevaluated, so the substitution stays visible), and evaluates exactly with Python integers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp


class Node:
    def __add__(self, other):
        return _op("add", self, wrap(other))

    def __radd__(self, other):
        return _op("add", wrap(other), self)

    def __mul__(self, other):
        return _op("mul", self, wrap(other))

    def __rmul__(self, other):
        return _op("mul", wrap(other), self)

    def __pow__(self, exponent: int):
        return Op("pow", (self, Num(exponent)))

    def __truediv__(self, other):
        return Op("div", (self, wrap(other)))


@dataclass(frozen=True, eq=False)
class Leaf(Node):
    """A named size (``d_model``) or an earlier stage's symbol (``P_attn``)."""

    name: str


@dataclass(frozen=True, eq=False)
class Num(Node):
    value: int


@dataclass(frozen=True, eq=False)
class Op(Node):
    kind: str
    args: tuple


Expr = Node | int


def wrap(value: Expr) -> Node:
    if isinstance(value, Node):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Num(value)
    raise TypeError(f"cannot use {type(value).__name__} in a formula")


def _op(kind: str, left: Node, right: Node) -> Node:
    """Flatten ``a + b + c`` into one sum (and products likewise) so nothing prints extra brackets."""
    args = []
    for side in (left, right):
        args.extend(side.args if isinstance(side, Op) and side.kind == kind else (side,))
    return Op(kind, tuple(args))


def leaves(*names: str) -> tuple[Leaf, ...]:
    return tuple(Leaf(n) for n in names)


def total(terms) -> Node:
    """The sum of ``terms`` (0 when there are none)."""
    terms = [wrap(t) for t in terms]
    if not terms:
        return Num(0)
    result = terms[0]
    for term in terms[1:]:
        result = result + term
    return result


def to_sympy(node: Expr, numbers: Mapping[str, int] | None = None) -> sp.Expr:
    """Unevaluated SymPy in the written order; with ``numbers`` every leaf becomes its value."""
    node = wrap(node)
    if isinstance(node, Num):
        return sp.Integer(node.value)
    if isinstance(node, Leaf):
        return sp.Integer(numbers[node.name]) if numbers is not None else sp.Symbol(node.name)
    args = [to_sympy(a, numbers) for a in node.args]
    if node.kind == "add":
        return sp.Add(*args, evaluate=False)
    if node.kind == "mul":
        if any(isinstance(a, sp.Add) for a in args):
            # SymPy's pretty printer drops the brackets around a sum in a product that has numbers in
            # it (2*12*(2*768 + 3072) prints as 2*12*2*768 + 3072); wrapped numbers take the normal path.
            args = [sp.UnevaluatedExpr(a) if isinstance(a, sp.Number) else a for a in args]
        return sp.Mul(*args, evaluate=False)
    if node.kind == "pow":
        return sp.Pow(*args, evaluate=False)
    return sp.Mul(args[0], sp.Pow(args[1], -1, evaluate=False), evaluate=False)


def value(node: Expr, numbers: Mapping[str, int]) -> Fraction:
    """The exact value with plain Python arithmetic (no SymPy)."""
    node = wrap(node)
    if isinstance(node, Num):
        return Fraction(node.value)
    if isinstance(node, Leaf):
        return Fraction(numbers[node.name])
    args = [value(a, numbers) for a in node.args]
    if node.kind == "add":
        return sum(args, Fraction(0))
    if node.kind == "mul":
        result = Fraction(1)
        for a in args:
            result *= a
        return result
    if node.kind == "pow":
        return args[0] ** int(args[1])
    return args[0] / args[1]


def inline(node: Expr, definitions: Mapping[str, Expr]) -> Node:
    """Replace stage symbols by their own formulas, to show a closed form in the base sizes."""
    node = wrap(node)
    if isinstance(node, Leaf) and node.name in definitions:
        return inline(definitions[node.name], definitions)
    if isinstance(node, Op):
        return Op(node.kind, tuple(inline(a, definitions) for a in node.args))
    return node


def closed_form(node: Expr, collect: str | None = None) -> sp.Expr:
    """The evaluated, expanded SymPy polynomial; ``collect`` groups it by one symbol."""
    expr = sp.expand(sp.sympify(to_sympy(node)).doit())
    return sp.collect(expr, sp.Symbol(collect)) if collect else expr


def names(node: Expr) -> set[str]:
    node = wrap(node)
    if isinstance(node, Leaf):
        return {node.name}
    if isinstance(node, Op):
        return set().union(*(names(a) for a in node.args))
    return set()
