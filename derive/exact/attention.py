"""Exact scaled dot-product and multi-head attention, tokens as rows, masks True where allowed.

The twin of ``derive.forward.scaled_dot_product_attention``, ``causal_mask``, ``allowed_keys`` and
``MultiHeadAttention`` in SymPy. Head i (from 0) owns the d_k consecutive columns i·d_k … (i+1)·d_k − 1
of Q, K and V (``interleaved`` takes every h-th column instead: the split-wrong misconception).
Per-head results are stacked vertically, head 0 on top, so one matrix holds them all.
"""

from __future__ import annotations

import sympy as sp

from derive.exact.softmax import softmax


def causal_mask(n: int, n_keys: int | None = None) -> list[list[bool]]:
    """Query i (at position n_keys - n + i) sees keys 0 … that position; n_keys = n: the lower triangle."""
    n_keys = n if n_keys is None else n_keys
    return [[j <= n_keys - n + i for j in range(n_keys)] for i in range(n)]


def padding_mask(n: int, keep) -> list[list[bool]]:
    """Every one of n queries sees the keys whose ``keep`` entry is 1 (Hugging Face's attention_mask)."""
    return [[bool(k) for k in keep] for _ in range(n)]


def allowed_keys(n_q: int, n_k: int, attention_mask=None, causal: bool = False) -> list[list[bool]] | None:
    """The padding and causal masks combined; None when every query sees every key."""
    masks = ([causal_mask(n_q, n_k)] if causal else []) + (
        [padding_mask(n_q, attention_mask)] if attention_mask is not None else []
    )
    if not masks:
        return None
    return [[all(m[i][j] for m in masks) for j in range(n_k)] for i in range(n_q)]


def scores(q: sp.Matrix, k: sp.Matrix) -> sp.Matrix:
    """Q Kᵀ: entry (i, j) is query i dotted with key j."""
    return q * k.T


def scale(s: sp.Matrix, d_k) -> sp.Matrix:
    """S / √d_k, which keeps the spread of the scores near 1 whatever the width."""
    return s / sp.sqrt(d_k)


def masked_softmax(z: sp.Matrix, mask=None, axis: int = -1) -> sp.Matrix:
    """The attention weights: softmax along each row over the allowed keys (0 where masked)."""
    return softmax(z, mask=mask, axis=axis)


def _split_weight(weight):
    """``e^a / D`` as (e^a, D), so that a row's shared denominator can be factored out."""
    if weight.is_Pow and weight.exp == -1 and weight.base.is_Add:
        return sp.Integer(1), weight.base
    if weight.is_Mul:
        shared = [f for f in weight.args if f.is_Pow and f.exp == -1 and f.base.is_Add]
        if len(shared) == 1:
            return sp.Mul(*[f for f in weight.args if f is not shared[0]]), shared[0].base
    return weight, sp.Integer(1)


def weighted_values(weights: sp.Matrix, values: sp.Matrix) -> sp.Matrix:
    """weights · values, writing each row over its common denominator: (Σ e^(z_j) v_j) / Σ e^(z_j)."""
    rows = []
    for i in range(weights.rows):
        parts = [(_split_weight(weights[i, k]), k) for k in range(weights.cols) if weights[i, k] != 0]
        denominators = {d for (_, d), _ in parts}
        common = denominators.pop() if len(denominators) == 1 else None
        row = []
        for j in range(values.cols):
            if common is None:
                row.append(sp.Add(*[weights[i, k] * values[k, j] for _, k in parts]))
            else:
                row.append(sp.Add(*[n * values[k, j] for (n, _), k in parts]) / common)
        rows.append(row)
    return sp.Matrix(rows)


def scaled_dot_product_attention(q, k, v, mask=None) -> tuple[sp.Matrix, sp.Matrix]:
    """softmax(Q Kᵀ / √d_k) V: (output, weights), as ``derive.forward`` returns them."""
    weights = masked_softmax(scale(scores(q, k), q.cols), mask)
    return weighted_values(weights, v), weights


# --- heads as column slices -------------------------------------------------------------------------


def head_columns(i: int, d_head: int, heads: int, interleaved: bool = False) -> list[int]:
    """0-based columns of head i (from 0)."""
    if interleaved:
        return list(range(i, d_head * heads, heads))
    return list(range(i * d_head, (i + 1) * d_head))


def head_slice(matrix: sp.Matrix, i: int, heads: int, interleaved: bool = False) -> sp.Matrix:
    """Head i's columns of a (T × d_model) matrix."""
    d_head = matrix.cols // heads
    return matrix.extract(list(range(matrix.rows)), head_columns(i, d_head, heads, interleaved))


def unstack_heads(stacked: sp.Matrix, heads: int) -> list[sp.Matrix]:
    """The heads' matrices of a vertically stacked per-head result."""
    n = stacked.rows // heads
    return [stacked[i * n : (i + 1) * n, :] for i in range(heads)]


def concat_heads(outputs) -> sp.Matrix:
    """Concat(head_1, …, head_h): the heads' outputs side by side."""
    return sp.Matrix.hstack(*outputs)


def multi_head_attention(
    q, k, v, heads: int, mask=None, root=None, interleaved: bool = False
) -> dict[str, sp.Matrix]:
    """Every per-head quantity from the full Q, K, V, stacked: scores, scaled, weights, heads, concat.

    ``root`` replaces √d_k (the scale-by-√d_model misconception passes √d_model).
    """
    root = sp.sqrt(q.cols // heads) if root is None else root
    parts: dict[str, list] = {"scores": [], "scaled": [], "weights": [], "heads": []}
    for i in range(heads):
        qi, ki, vi = (head_slice(m, i, heads, interleaved) for m in (q, k, v))
        s = scores(qi, ki)
        weights = masked_softmax(s / root, mask)
        parts["scores"].append(s)
        parts["scaled"].append(s / root)
        parts["weights"].append(weights)
        parts["heads"].append(weighted_values(weights, vi))
    out = {name: sp.Matrix.vstack(*mats) for name, mats in parts.items()}
    out["concat"] = concat_heads(parts["heads"])
    return out
