"""The feed-forward topic's stages and misconceptions, computed with ``derive.exact``.

SwiGLU is Swish(x W_1 + b_1) ⊙ (x W_3): LLaMA's w1 is our W_1 (Swish's argument), w3 our W_3 (the
gate) and w2 our W_2. An omitted bias means the layer has none, so it is not counted as a parameter.
"""

from __future__ import annotations

import sympy as sp

from derive.exact import activations
from derive.exact.linear import linear
from derive.model import Mistake

# The entrywise function of each --activation (SwiGLU's entrywise part is Swish), in the CLI's order.
ACTIVATIONS = {
    "relu": activations.relu,
    "gelu": activations.gelu,
    "gelu-tanh": activations.gelu_tanh,
    "swiglu": activations.silu,
}


def parameters(v):
    d, f = v.W1.rows, v.W1.cols
    count = 2 * d * f + (f if v.b1 is not None else 0) + (d if v.b2 is not None else 0)
    return sp.Integer(count + (d * f if v.activation == "swiglu" else 0))


def hidden(v):
    return linear(v.x, v.W1, v.b1)


def gate(v):
    return linear(v.x, v.W3)


def activated(v):
    if v.activation == "swiglu":
        return activations.swiglu(v.hidden, gate(v))
    return ACTIVATIONS[v.activation](v.hidden)


def output(v):
    return linear(v.activated, v.W2, v.b2)


# --- misconceptions -------------------------------------------------------------------------------


def _relu_for_gelu(v):
    return activations.relu(v.hidden) if v.activation in ("gelu", "gelu-tanh") else None


def _relu_for_gelu_output(v):
    act = _relu_for_gelu(v)
    return None if act is None else linear(act, v.W2, v.b2)


def _no_gate(v):
    return activations.silu(v.hidden) if v.activation == "swiglu" else None


def _no_bias_hidden(v):
    return v.x * v.W1 if v.b1 is not None and any(v.b1) else None


def _no_bias_output(v):
    return v.activated * v.W2 if v.b2 is not None and any(v.b2) else None


NO_BIAS_HINT = "Add the bias to every row after the matrix product."
RELU_HINT = (
    "This layer uses GELU, not ReLU: GELU(h) = h·Φ(h) is smooth and lets small negative values "
    "through (GELU(-1) ≈ -0.1587, not 0)."
)
HIDDEN_MISTAKES = (Mistake("no-bias", NO_BIAS_HINT, _no_bias_hidden),)
ACTIVATED_MISTAKES = (
    Mistake("relu-for-gelu", RELU_HINT, _relu_for_gelu),
    Mistake("no-gate", "SwiGLU multiplies Swish(x W_1) entry by entry by the gate x W_3.", _no_gate),
)
OUTPUT_MISTAKES = (
    Mistake("relu-for-gelu", RELU_HINT, _relu_for_gelu_output),
    Mistake("no-bias", NO_BIAS_HINT, _no_bias_output),
)
