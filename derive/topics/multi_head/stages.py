"""The multi-head topic's values, from derive.exact.attention, and the misconceptions.

Per-head answers (scores, scaled, weights, heads) are the heads' matrices stacked vertically, head 1
on top. Each stage reads the earlier stages' values, so a student's own slip follows through; the
misconceptions recompute the heads from Q, K and V with ``exact.multi_head_attention``.
"""

from __future__ import annotations

import sympy as sp

from derive.exact import attention as exact
from derive.exact import softmax
from derive.model import Mistake


def _mask(v):
    return exact.causal_mask(v.n) if v.causal else None


def projection(key):
    return lambda v: v.X * v[key]


def split(v):
    return sp.Matrix.vstack(*(exact.head_slice(v.Q, i, v.H) for i in range(v.H)))


def scores(v):
    return sp.Matrix.vstack(
        *(exact.scores(exact.head_slice(v.Q, i, v.H), exact.head_slice(v.K, i, v.H)) for i in range(v.H))
    )


def scaled(v):
    return exact.scale(v.scores, v.d_k)


def weights(v):
    return sp.Matrix.vstack(
        *(exact.masked_softmax(block, _mask(v)) for block in exact.unstack_heads(v.scaled, v.H))
    )


def heads(v):
    return sp.Matrix.vstack(
        *(
            exact.weighted_values(a, exact.head_slice(v.V, i, v.H))
            for i, a in enumerate(exact.unstack_heads(v.weights, v.H))
        )
    )


def concat(v):
    return exact.concat_heads(exact.unstack_heads(v.heads, v.H))


def output(v):
    return v.concat * v.W_O


def parameters(v):
    return sp.Integer(4 * v.d_model**2)


# --- misconceptions -------------------------------------------------------------------------------


def _interleaved(name):
    """Head i built from columns i, i+h, i+2h, ...: the whole chain recomputed from Q, K and V."""

    def compute(v):
        if v.H == 1 or v.d_k == 1:  # one column per head: interleaved and consecutive agree
            return None
        wrong = exact.multi_head_attention(v.Q, v.K, v.V, v.H, _mask(v), interleaved=True)
        return wrong["concat"] * v.W_O if name == "output" else wrong[name]

    return compute


def _by_dmodel(name):
    """√d_model instead of √d_k: from the student's own scores where they gave them."""

    def compute(v):
        if v.H == 1:
            return None
        root = sp.sqrt(v.d_model)
        if name == "scaled":
            return v.scores / root
        if name == "weights":
            return sp.Matrix.vstack(
                *(exact.masked_softmax(b / root, _mask(v)) for b in exact.unstack_heads(v.scores, v.H))
            )
        return exact.multi_head_attention(v.Q, v.K, v.V, v.H, _mask(v), root=root)["concat"] * v.W_O

    return compute


def _no_projection(v):
    return v.concat


def _full_size_heads(v):
    return None if v.H == 1 else sp.Integer((3 * v.H + 1) * v.d_model**2)


SPLIT_HINT = (
    "Head i takes d_k consecutive columns of W_Q, W_K and W_V (columns (i-1)·d_k+1 to i·d_k), "
    "not every h-th column."
)
DMODEL_HINT = "Scale each head's scores by the square root of its own width d_k = d_model/h, not of d_model."


def split_wrong(name):
    return Mistake("split-wrong", SPLIT_HINT, _interleaved(name))


def scale_by_dmodel(name):
    return Mistake("scale-by-dmodel", DMODEL_HINT, _by_dmodel(name))


NO_OUTPUT_PROJECTION = Mistake(
    "no-output-projection", "Multiply the concatenated heads by the output projection W_O.", _no_projection
)
FULL_SIZE_HEADS = Mistake(
    "full-size-heads",
    "Each head uses a d_model × d_k slice of W_Q, W_K and W_V, not a d_model × d_model "
    "matrix of its own: the total is 4·d_model² for any h.",
    _full_size_heads,
)


def _unnormalised(v):
    """Each head's exponentials of its scaled scores, never divided by their row's sum."""
    return sp.Matrix.vstack(
        *(softmax.unnormalised(block, _mask(v)) for block in exact.unstack_heads(v.scaled, v.H))
    )


def _reversed_scores(v):
    """K_h Q_hᵀ for every head: the product in the wrong order."""
    return sp.Matrix.vstack(
        *(exact.scores(exact.head_slice(v.K, i, v.H), exact.head_slice(v.Q, i, v.H)) for i in range(v.H))
    )


NOT_NORMALISED = Mistake(
    "not-normalised",
    "Divide each exponential by the sum of the exponentials in its row, so every row of every head sums to 1.",
    _unnormalised,
)
REVERSED_SCORES = Mistake(
    "reversed-product",
    "Each head's scores are Q_h K_hᵀ (not K_h Q_hᵀ): row i belongs to query i.",
    _reversed_scores,
)
