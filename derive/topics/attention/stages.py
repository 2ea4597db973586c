"""The attention topic's values, each from derive.exact.attention, and the misconceptions.

The causal mask is applied in the ``weights`` stage, not in ``scaled``: the ``scaled`` answer is
always the finite matrix S/√d_k (so it can be graded and written to JSON), and ``weights`` gives
every entry above the diagonal weight exactly 0. The ``no-mask`` misconception is therefore a
``weights`` mistake. Every stage reads the earlier ones, so a checker can substitute a student's.
"""

from __future__ import annotations

from derive.exact import attention as exact
from derive.exact import softmax
from derive.model import Mistake


def _mask(v):
    """Causal with more keys than queries: the queries are the last positions (bottom-right aligned)."""
    return exact.causal_mask(v.n, v.n_keys) if v.causal else None


def _source(v):
    """The rows keys and values come from: X, or the memory in cross-attention."""
    return v.X if v.memory is None else v.memory


def queries(v):
    return v.X * v.W_Q if v.X is not None else v.Q_given


def keys(v):
    return _source(v) * v.W_K if v.X is not None else v.K_given


def values(v):
    return _source(v) * v.W_V if v.X is not None else v.V_given


def scores(v):
    return exact.scores(v.Q, v.K)


def scaled(v):
    """S/√d_k, or S itself under ``--scale none``: the stage keeps its answer id either way."""
    return v.scores if v.unscaled else exact.scale(v.scores, v.d_k)


def weights(v):
    return exact.masked_softmax(v.scaled, _mask(v))


def output(v):
    return exact.weighted_values(v.weights, v.V)


def focus_row(v):
    return v.output.row(v.focus_index)


# --- misconceptions: what a student holding each one would write for that stage -------------------


def _square_product(left, right, shape):
    """left · right when the shapes allow it and give the true answer's ``shape``, else None."""
    if left is None or right is None or left.cols != right.rows:
        return None
    product = left * right
    return product if product.shape == shape else None


def _reversed_projection(weight):
    """W X for X W: possible only when both are square (n = d_model = d_k)."""
    return lambda v: None if v.X is None else _square_product(v[weight], v.X, (v.X.rows, v[weight].cols))


NOT_NORMALISED_HINT = (
    "Divide each exponential by the sum of the exponentials in its row, so the row sums to 1."
)
REVERSED_HINT = (
    "Keep the order of the product: tokens are rows, so Q = X W_Q (not W_Q X) and the scores are "
    "Q Kᵀ (not K Qᵀ): row i belongs to query i."
)
NOT_TRANSPOSED_HINT = "Multiply Q by the transpose of K: entry (i, j) is query row i dotted with key row j."
NO_SCALING_HINT = "Divide the raw scores by the square root of d_k before the softmax."
BY_DK_HINT = "Divide by the square root of d_k, not by d_k itself."
SCALED_ANYWAY_HINT = (
    "Under --scale none the softmax takes the raw scores: do not divide by the square root of d_k."
)


def _scaled_as(divisor):
    """The scores a student dividing by ``divisor(v)`` writes; None (not offered) under --scale none."""
    return lambda v: None if v.unscaled else v.scores / divisor(v)


def _weights_as(scaled):
    return lambda v: None if (z := scaled(v)) is None else exact.masked_softmax(z, _mask(v))


def _scaled_anyway(v):
    return exact.scale(v.scores, v.d_k) if v.unscaled else None


_no_scaling = _scaled_as(lambda v: 1)
_by_dk = _scaled_as(lambda v: v.d_k)


def projection_mistakes(name):
    """Q, K or V: the product taken in the wrong order where the shapes allow it."""
    weight = {"Q": "W_Q", "K": "W_K", "V": "W_V"}[name]
    return (Mistake("reversed-product", REVERSED_HINT, _reversed_projection(weight)),)


SCORES_MISTAKES = (
    Mistake("reversed-product", REVERSED_HINT, lambda v: v.K * v.Q.T),
    Mistake(
        "k-not-transposed", NOT_TRANSPOSED_HINT, lambda v: _square_product(v.Q, v.K, (v.Q.rows, v.K.rows))
    ),
)
SCALED_MISTAKES = (
    Mistake("no-scaling", NO_SCALING_HINT, _no_scaling),
    Mistake("scaled-by-dk", BY_DK_HINT, _by_dk),
    Mistake("scaled-anyway", SCALED_ANYWAY_HINT, _scaled_anyway),
)
WEIGHTS_MISTAKES = (
    Mistake("no-scaling", NO_SCALING_HINT, _weights_as(_no_scaling)),
    Mistake("scaled-by-dk", BY_DK_HINT, _weights_as(_by_dk)),
    Mistake("scaled-anyway", SCALED_ANYWAY_HINT, _weights_as(_scaled_anyway)),
    Mistake(
        "wrong-axis",
        "Take the softmax along each row (over the keys), so every row sums to 1.",
        lambda v: exact.masked_softmax(v.scaled, _mask(v), axis=0),
    ),
    Mistake(
        "no-mask",
        "Under the causal mask, set the scores of later tokens to minus infinity "
        "(weight 0) before the softmax.",
        lambda v: exact.masked_softmax(v.scaled) if v.causal else None,
    ),
    Mistake("not-normalised", NOT_NORMALISED_HINT, lambda v: softmax.unnormalised(v.scaled, _mask(v))),
)
