"""The residual topic's stages: F(x) (given, or a linear map from ``derive.exact``), x + F(x), and
the block's Jacobian I + W."""

from __future__ import annotations

import sympy as sp

from derive.exact.linear import linear, reversed_linear
from derive.model import Mistake


def sublayer(v):
    if v.F_given is not None:
        return v.F_given
    return linear(v.x, v.W, v.b)


def output(v):
    return v.x + v.sublayer


def jacobian(v):
    """∂y/∂x for one token, laid out (input, output) like W: I + W, or I + ∂F/∂x in general."""
    return sp.eye(v.x.cols) + (v.W if v.W is not None else sp.zeros(v.x.cols))


def _no_residual(v):
    return v.sublayer


NO_RESIDUAL = Mistake(
    "no-residual",
    "A residual block outputs x + F(x): add the input x to the sublayer's output.",
    _no_residual,
)


def _reversed(v):
    return None if v.F_given is not None else reversed_linear(v.x, v.W, v.b)


REVERSED_PRODUCT = Mistake(
    "reversed-product",
    "Tokens are rows: the sublayer is x W + b (each row of x times W), not W x.",
    _reversed,
)
