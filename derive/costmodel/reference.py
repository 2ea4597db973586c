"""Independent answers for the test suite: counted from tensor shapes, never from formulas.py.

Parameters come from summing the shapes of every weight tensor (shapes.py); the KV cache from the
shape of the cached key and value tensors; activations from Korthikanti et al.'s list of the tensors a
layer stores (Section 4.1), each written out with its size in bytes.
"""

from __future__ import annotations

from math import prod

import numpy as np

from derive.costmodel import shapes
from derive.costmodel.presets import Model


def korthikanti_tensors(s: int, b: int, h: int, a: int) -> list[tuple[str, int]]:
    """(what, bytes) stored by one layer: 16-bit activations, 1-byte dropout masks."""
    return [
        ("attention: input of the Q, K, V projections", 2 * s * b * h),
        ("attention: Q and K for the scores", 2 * 2 * s * b * h),
        ("attention: softmax output", 2 * a * s * s * b),
        ("attention: softmax dropout mask", a * s * s * b),
        ("attention: dropout output (for the product with V)", 2 * a * s * s * b),
        ("attention: V", 2 * s * b * h),
        ("attention: input of the output projection", 2 * s * b * h),
        ("attention: dropout mask after the projection", s * b * h),
        ("MLP: input of the first linear", 2 * s * b * h),
        ("MLP: input of the GeLU (4h wide)", 2 * 4 * s * b * h),
        ("MLP: input of the second linear (4h wide)", 2 * 4 * s * b * h),
        ("MLP: dropout mask", s * b * h),
        ("LayerNorms: their two inputs", 2 * 2 * s * b * h),
    ]


def kv_cache_shape(m: Model) -> tuple[int, ...]:
    """(K and V, cached attention blocks, batch, key/value heads, tokens, head width)."""
    blocks = 2 * m.n_layer if m.arch == "transformer" else m.n_layer
    return (2, blocks, m.b, m.kv_heads, m.seq, m.d_head)


def single(m: Model) -> dict[str, float]:
    parts = shapes.count_by_part(m)
    total = sum(parts.values())
    stacked = 2 * m.n_layer if m.arch == "transformer" else m.n_layer
    per_layer = sum(n for _, n in korthikanti_tensors(m.seq, m.b, m.d_model, m.n_heads))
    return {
        "embeddings": float(parts["embeddings"]),
        "all_layers": float(parts["layers"]),
        "final_norm": float(parts["final_norm"]),
        "pooler": float(parts["pooler"]),
        "lm_head": float(parts["lm_head"]),
        "parameters": float(total),
        "weights_bytes": float(total * m.n_bytes),
        "training_state_bytes": float(total * (2 + 2 + 4 + 4 + 4)),
        "activations_per_layer": float(per_layer),
        "activations": float(per_layer * stacked),
        "activations_recompute": float(2 * m.seq * m.b * m.d_model * stacked),
        "kv_cache_bytes": float(prod(kv_cache_shape(m)) * m.n_bytes),
    }


def answers(models) -> dict:
    """One model: floats; several: a row (1 x k array) per answer, as the topic returns them."""
    rows = [single(m) for m in models]
    if len(rows) == 1:
        return rows[0]
    return {key: np.array([[row[key] for row in rows]]) for key in rows[0]}
