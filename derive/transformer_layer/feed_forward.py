"""The position-wise feed-forward network as a sublayer of the residual stream: act(u W_1 + b_1) W_2 + b_2
with ReLU or exact GELU, computed with ``derive.exact`` and carried as 50 digits when it grows long."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, prose, same
from derive.exact import activations
from derive.exact.linear import add_bias
from derive.exact.precision import matmul, settle
from derive.model import Mistake
from derive.notation import matrix_name as mat
from derive.transformer_layer.stream import Sublayer, eps_symbol, plus, show

FFN = sp.Function("FFN")
ACTIVATIONS = {"relu": activations.relu, "gelu": activations.gelu}
ACT_NAMES = {"relu": "ReLU", "gelu": "GELU"}


def ffn_parts(x, ffn) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    """The hidden layer, its activation, and FFN(x) = act(x W_1 + b_1) W_2 + b_2."""
    w1, b1, w2, b2, activation = ffn
    hidden = settle(add_bias(matmul(x, w1), b1))
    act = ACTIVATIONS[activation](hidden)
    return hidden, act, settle(add_bias(matmul(act, w2), b2))


def _relu_ffn(v, x):
    return None if v.ffn_weights[4] != "gelu" else ffn_parts(x, (*v.ffn_weights[:4], "relu"))[2]


RELU_FOR_GELU = "This layer uses GELU, x·Φ(x), not ReLU: negative entries are not simply set to 0."


def ffn_sublayer(k: int) -> Sublayer:
    u = mat(f"u_{k}")

    def explain(v):
        w1, b1, w2, b2, activation = v.ffn_weights
        hidden, act, _ = ffn_parts(v.ffn_input, v.ffn_weights)
        act_of, h = sp.Function(ACT_NAMES[activation]), sp.Symbol("h")
        first = plus(u * mat("W_1"), mat("b_1")) if b1 is not None else u * mat("W_1")
        second = plus(act_of(h) * mat("W_2"), mat("b_2")) if b2 is not None else act_of(h) * mat("W_2")
        what = (
            "ReLU keeps the positive entries and sets the negative ones to 0."
            if activation == "relu"
            else "GELU weights each entry by the probability that a standard normal variable lies below it."
        )
        return (
            prose(
                "The feed-forward network transforms each token on its own, with the same weights for every "
                "token: it widens the row to {dff} features, applies {act} and narrows it back to {dm}. "
                + what,
                dff=same(sp.Symbol("d_ff"), w1.cols),
                act=ACT_NAMES[activation],
                dm=same(sp.Symbol("d_model"), w2.cols),
            ),
            show(h, first, value=hidden),
            show(act_of(h), value=act),
            show(mat("f"), second, value=v.ffn),
        )

    mistakes = (Mistake("relu-for-gelu", RELU_FOR_GELU, lambda v: _relu_ffn(v, v.ffn_input)),)
    compute = lambda v, x: ffn_parts(x, v.ffn_weights)[2]  # noqa: E731
    return Sublayer("ffn", "ffn_input", "feed-forward network", "f", FFN, compute, explain, (), mistakes)


def ffn_intro(ffn, eps) -> list:
    w1, b1, w2, b2, activation = ffn
    return [
        prose(
            "The feed-forward network widens each token to {dff} features with {act} and narrows it back:",
            dff=same(sp.Symbol("d_ff"), w1.cols),
            act=ACT_NAMES[activation],
        ),
        *(eq(mat(s), w) for s, w in zip(("W_1", "b_1", "W_2", "b_2"), (w1, b1, w2, b2)) if w is not None),
        prose(
            "Every LayerNorm uses {g} and {b} (their values at initialisation) and {e}.",
            g=same(sp.Symbol("gamma"), 1),
            b=same(sp.Symbol("beta"), 0),
            e=same(eps_symbol, eps),
        ),
    ]
