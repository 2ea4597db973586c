"""Exact activation functions, as SymPy expressions, for the topics that build a feed-forward network.

GELU keeps ``erf`` and the tanh approximation keeps 0.044715 as the rational 44715/1000000, so every
value stays exact; ``ACTIVATIONS`` maps the feed-forward topic's --activation names to them (SwiGLU's
elementwise part is Swish).
"""

from __future__ import annotations

import sympy as sp

TANH_C = sp.Rational(44715, 1000000)


def relu(value):
    return sp.Max(0, value)


def gelu(value):
    return value / 2 * (1 + sp.erf(value / sp.sqrt(2)))


def gelu_tanh(value):
    return value / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (value + TANH_C * value**3)))


def swish(value):
    return value / (1 + sp.exp(-value))


ACTIVATIONS = {"relu": relu, "gelu": gelu, "gelu-tanh": gelu_tanh, "swiglu": swish}
