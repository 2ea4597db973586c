"""Attention backward: level 1 two tokens with d_k = 4 (√d_k = 2, integer scaled scores in [-4, 4]) and
2 × 2 integer V and dO, so that the forward pass needs one e^k per row and the backward pass
fractions of it; level 2 three tokens, sometimes under a causal mask; level 3 three tokens with
wider integers and three value columns (calculator work). Decimal inputs are left out: SymPy took
from 1 to 80 s for one exact backward pass of two or three tokens with tenths, far too long for a
class.

Each weight row sums to 1, so the softmax's backward pass is only visible where the weights are not
nearly one-hot and dA varies along a row: rows with a weight of 0.95 or more, or with dA all equal
(their dS would be 0 whatever the method), are drawn again. The exact backward pass costs a tenth
of a second or more, so each level first redraws until a float64 pass (derive.forward) shows every
named misconception two units apart; the exact screen then confirms.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from derive.worksheet import draw

D_K = 4
MAX_SCALED = 4
MAX_WEIGHT = 0.95
MIN_GRADIENT = 0.05


def _forward(rng, tokens: int, low: int, high: int) -> dict:
    queries = draw.int_matrix(rng, tokens, D_K, low, high)
    keys = [draw.even_score_keys(rng, queries, low, high, 2 * MAX_SCALED) for _ in range(tokens)]
    return {"q": draw.matrix_text(queries), "k": draw.matrix_text(keys)}


def _floats(text: str):
    import numpy as np

    return np.array([[float(Fraction(e)) for e in row.split()] for row in text.split(";")])


def _likely(given) -> bool:
    """A float64 forward and backward pass (derive.forward) that meets ``suitable`` and shows every
    named misconception two units apart at 2 decimals (the default): cheap, so that few draws reach
    the exact screen."""
    import numpy as np

    from derive import forward
    from derive.forward import gradients

    q, k, v, d_o = (_floats(given[name]) for name in ("q", "k", "v", "grad_output"))
    d_k = q.shape[1]
    mask = forward.causal_mask(q.shape[0]) if given.get("mask") == "causal" else None
    _, a = forward.scaled_dot_product_attention(q, k, v, mask)  # (T, T)
    d_a = gradients.weights_gradient(d_o, v)  # (T, T)
    d_s = gradients.softmax_backward(a, d_a)  # (T, T)
    d_q, d_k_grad = gradients.query_gradient(d_s, k, d_k), gradients.key_gradient(d_s, q, d_k)
    pairs = [
        (gradients.value_gradient(a, d_o), a @ d_o),
        (gradients.value_gradient(a, d_o), d_o),
        (d_a, d_o @ v if v.shape[0] == v.shape[1] else None),  # only a square V can be multiplied so
        (d_s, a * d_a),
        (d_s, -a * (a * d_a).sum(axis=1, keepdims=True)),
        (d_s, d_a),
        (d_q, d_s @ k),
        (d_q, d_s.T @ k / np.sqrt(d_k)),
        (d_k_grad, d_s.T @ q),
        (d_k_grad, d_s @ q / np.sqrt(d_k)),
    ]
    visible = forward.causal_mask(q.shape[0]) if mask is not None else np.ones(a.shape, bool)
    for i in range(1, a.shape[0]) if mask is not None else range(a.shape[0]):
        row, grads = a[i][visible[i]], d_a[i][visible[i]]
        if row.max() >= MAX_WEIGHT or np.ptp(grads) < 1e-9:
            return False
    if not np.all(np.any(v != 0, axis=0)) or np.max(np.abs(d_q)) <= MIN_GRADIENT:
        return False
    return all(w is None or t.shape != w.shape or np.max(np.abs(t - w)) > 0.02 for t, w in pairs)


def _level_1(rng):
    return {
        **_forward(rng, 2, -1, 2),
        "v": draw.matrix_text(draw.int_matrix(rng, 2, 2, -2, 2)),
        "grad_output": draw.matrix_text(draw.int_matrix(rng, 2, 2, -2, 2)),
    }


def _level_2(rng):
    return {
        **_forward(rng, 3, -1, 2),
        "v": draw.matrix_text(draw.int_matrix(rng, 3, 2, -2, 2)),
        "grad_output": draw.matrix_text(draw.int_matrix(rng, 3, 2, -2, 2)),
        "mask": rng.choice(["none", "causal"]),
    }


def _level_3(rng):
    return {
        **_forward(rng, 3, -2, 2),
        "v": draw.matrix_text(draw.int_matrix(rng, 3, 3, -3, 3)),
        "grad_output": draw.matrix_text(draw.int_matrix(rng, 3, 3, -3, 3)),
        "mask": rng.choice(["none", "causal"]),
    }


level_1, level_2, level_3 = (draw.until(_likely)(make) for make in (_level_1, _level_2, _level_3))


def suitable(values, level):
    """Every row that attends to more than one token has weights below 0.95 and a gradient dA that
    varies over those tokens, and V has no zero column (an output column that no gradient can reach)."""
    weights, d_weights = values.weights, values.dweights
    if any(not any(values.V.col(c)) for c in range(values.V.cols)):
        return False
    for i in range(weights.rows):
        visible = [j for j in range(weights.cols) if not (values.causal and j > i)]
        if len(visible) == 1:
            continue
        if max(float(weights[i, j]) for j in visible) >= MAX_WEIGHT:
            return False
        if len({d_weights[i, j] for j in visible}) == 1:
            return False
    return max(abs(float(e)) for e in values.dQ) > MIN_GRADIENT


SYMBOLS = {"q": sp.Symbol("Q"), "k": sp.Symbol("K"), "v": sp.Symbol("V"), "grad_output": sp.Symbol("dO")}


def task(given):
    text = (
        "Run scaled dot-product attention O = softmax(Q Kᵀ / √d_k) V forward (tokens as rows), then "
        "backpropagate the output gradient dO: the gradients of V, of the weights, of the scores "
        "(through the softmax), of Q and of K."
    )
    if given.get("mask") == "causal":
        text += " Use a causal mask: each token attends only to itself and earlier tokens."
    return text


LEVELS = {1: level_1, 2: level_2, 3: level_3}
