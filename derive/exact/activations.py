"""Activation functions as exact SymPy expressions: the twins of those in ``forward.functional``.

Each takes one entry or a matrix (applied entry by entry). GELU keeps ``erf``; the tanh approximation
keeps 0.044715 as the rational ``TANH_C``; SiLU (Swish) is written z/(1 + e^(-z)), the form a hand
calculation uses, so every value stays exact.
"""

from __future__ import annotations

import functools

import sympy as sp

TANH_C = sp.Rational(44715, 1000000)


def _entrywise(function):
    @functools.wraps(function)
    def apply(value):
        return value.applyfunc(function) if isinstance(value, sp.MatrixBase) else function(value)

    return apply


@_entrywise
def relu(value):
    return sp.Max(0, value)


@_entrywise
def gelu(value):
    """x·Φ(x) = x/2 · (1 + erf(x/√2)) (BERT, torch's default)."""
    return value / 2 * (1 + sp.erf(value / sp.sqrt(2)))


@_entrywise
def gelu_tanh(value):
    """GPT-2's GELU: x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    return value / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (value + TANH_C * value**3)))


@_entrywise
def silu(value):
    """Swish: x·σ(x) = x/(1 + e^(-x))."""
    return value / (1 + sp.exp(-value))


def swiglu(gate: sp.Matrix, up: sp.Matrix) -> sp.Matrix:
    """SwiGLU (LLaMA): silu(x W_gate) ⊙ (x W_up); the two arguments are those projections."""
    return silu(gate).multiply_elementwise(up)  # (T, d_ff)


ACTIVATIONS = {"relu": relu, "gelu": gelu, "gelu_tanh": gelu_tanh, "silu": silu}
