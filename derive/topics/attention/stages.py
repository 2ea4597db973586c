"""The attention topic's values, each from derive.exact.attention, and the misconceptions.

The causal mask is applied in the ``weights`` stage, not in ``scaled``: the ``scaled`` answer is
always the finite matrix S/√d_k (so it can be graded and written to JSON), and ``weights`` gives
every entry above the diagonal weight exactly 0. The ``no-mask`` misconception is therefore a
``weights`` mistake. Every stage reads the earlier ones, so a checker can substitute a student's.
"""

from __future__ import annotations

from derive.exact import attention as exact
from derive.model import Mistake


def _mask(v):
    return exact.causal_mask(v.n) if v.causal else None


def queries(v):
    return v.X * v.W_Q if v.X is not None else v.Q_given


def keys(v):
    return v.X * v.W_K if v.X is not None else v.K_given


def values(v):
    return v.X * v.W_V if v.X is not None else v.V_given


def scores(v):
    return exact.scores(v.Q, v.K)


def scaled(v):
    return exact.scale(v.scores, v.d_k)


def weights(v):
    return exact.masked_softmax(v.scaled, _mask(v))


def output(v):
    return exact.weighted_values(v.weights, v.V)


def focus_row(v):
    return v.output.row(v.focus_index)


# --- misconceptions: what a student holding each one would write for that stage -------------------

NO_SCALING_HINT = "Divide the raw scores by the square root of d_k before the softmax."
BY_DK_HINT = "Divide by the square root of d_k, not by d_k itself."

SCALED_MISTAKES = (
    Mistake("no-scaling", NO_SCALING_HINT, lambda v: v.scores),
    Mistake("scaled-by-dk", BY_DK_HINT, lambda v: v.scores / v.d_k),
)
WEIGHTS_MISTAKES = (
    Mistake("no-scaling", NO_SCALING_HINT, lambda v: exact.masked_softmax(v.scores, _mask(v))),
    Mistake("scaled-by-dk", BY_DK_HINT, lambda v: exact.masked_softmax(v.scores / v.d_k, _mask(v))),
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
)
