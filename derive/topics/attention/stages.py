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
    """S/√d_k, or S itself under ``--scale none``: the stage keeps its answer id either way."""
    return v.scores if v.unscaled else exact.scale(v.scores, v.d_k)


def weights(v):
    return exact.masked_softmax(v.scaled, _mask(v))


def output(v):
    return exact.weighted_values(v.weights, v.V)


def focus_row(v):
    return v.output.row(v.focus_index)


# --- misconceptions: what a student holding each one would write for that stage -------------------

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
)
