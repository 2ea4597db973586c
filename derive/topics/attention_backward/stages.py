"""The attention-backward topic's values, from derive.exact, and the misconceptions.

Every stage reads the answers before it (dscores reads weights and dweights, dQ reads dscores), so a
student's slip follows through. Gradients whose exact sums grow too long are carried as 50-digit
decimals (``precision.settle``), as the forward attention topics do.
"""

from __future__ import annotations

import sympy as sp

from derive.exact import attention, gradients
from derive.exact.precision import BIG, DIGITS, chop, nodes_over, numeric, settle
from derive.model import Mistake
from derive.topics.attention_backward import named

FACTOR_NODES = 60  # factoring a longer sum of exponentials costs seconds and reads no better


def _settle(matrix, v):
    """``precision.settle``, except with letters in Q or K: a formula in them is never turned into
    decimals (the explanation names its parts instead, see ``named``)."""
    return matrix if named.in_letters(v) else settle(matrix)


def _tidy(matrix, v):
    """Each entry over one common denominator, factored (2e/(1 + e)², not e(1 + …)/(1 + e)), while small;
    an entry that mixes carried decimals with a root (0.0459…·√2) becomes one decimal."""
    factored = _settle(matrix.applyfunc(lambda e: e if nodes_over(e, FACTOR_NODES) else sp.factor(e)), v)
    return factored.applyfunc(lambda e: sp.N(e, DIGITS) if e.has(sp.Float) else e)


def _carried(v, gradient, *factors):
    """The gradient from the exact factors while its entries stay short (or Q, K hold letters); otherwise
    from the factors evaluated to DIGITS digits once each, not from the long exact sums entry by entry."""
    exact = gradient(*factors)
    if named.in_letters(v) or not any(nodes_over(e, BIG) for e in exact):
        return exact
    return chop(gradient(*(numeric(f) if isinstance(f, sp.MatrixBase) else f for f in factors)))


def _mask(v):
    return attention.causal_mask(v.n) if v.causal else None


def scores(v):
    return attention.scale(attention.scores(v.Q, v.K), v.d_k)


def weights(v):
    return attention.masked_softmax(v.scores, _mask(v))


def output(v):
    return attention.weighted_values(v.weights, v.V)


def d_values(v):
    return _tidy(_carried(v, gradients.value_gradient, v.weights, v.dO), v)


def d_weights(v):
    return gradients.weights_gradient(v.dO, v.V)


def d_scores(v):
    return _tidy(_carried(v, gradients.softmax_backward, v.weights, v.dweights), v)


def d_queries(v):
    return _tidy(_carried(v, gradients.query_gradient, v.dscores, v.K, v.d_k), v)


def d_keys(v):
    return _tidy(_carried(v, gradients.key_gradient, v.dscores, v.Q, v.d_k), v)


# --- misconceptions: what a student holding each one would write -----------------------------------

SCALE_HINT = "S = Q K^T / sqrt(d_k), so the chain rule brings the factor 1/sqrt(d_k) into dQ and dK too."


DV_MISTAKES = (
    Mistake(
        "weights-not-transposed",
        "dV = A^T dO: value row j collects the gradients of the queries that attended to it (column j of A).",
        lambda v: _settle(v.weights * v.dO, v),
    ),
    Mistake(
        "no-weights",
        "dV = A^T dO, not dO: each value row reaches the output only through its attention weights.",
        lambda v: v.dO if v.dO.shape == v.V.shape else None,
    ),
)
DWEIGHTS_MISTAKES = (
    Mistake(
        "values-not-transposed",
        "dA = dO V^T: entry (i, j) is the output gradient of query i dotted with value row j.",
        lambda v: v.dO * v.V if v.V.rows == v.V.cols else None,  # defined only for a square V
    ),
)
DSCORES_MISTAKES = (
    Mistake(
        "jacobian-diagonal-only",
        "The softmax couples a row: dS_ij = a_ij (dA_ij - sum_k a_ik dA_ik); subtract the weighted row sum.",
        lambda v: _settle(v.weights.multiply_elementwise(v.dweights), v),
    ),
    Mistake(
        "jacobian-no-diagonal-term",
        "Keep the delta term of the softmax Jacobian: dS_ij = a_ij dA_ij - a_ij sum_k a_ik dA_ik.",
        lambda v: _settle(
            gradients.softmax_backward(v.weights, v.dweights) - v.weights.multiply_elementwise(v.dweights), v
        ),
    ),
    Mistake(
        "skipped-softmax",
        "The weights come from a softmax of the scores: multiply dA by the softmax Jacobian before going on.",
        lambda v: v.dweights,
    ),
)
DQ_MISTAKES = (
    Mistake("no-scale", SCALE_HINT, lambda v: _settle(v.dscores * v.K, v)),
    Mistake(
        "scores-transposed",
        "dQ = dS K / sqrt(d_k): query i collects row i of dS (dS^T belongs to dK).",
        lambda v: _settle(gradients.key_gradient(v.dscores, v.K, v.d_k), v),
    ),
)
DK_MISTAKES = (
    Mistake("no-scale", SCALE_HINT, lambda v: _settle(v.dscores.T * v.Q, v)),
    Mistake(
        "scores-not-transposed",
        "dK = dS^T Q / sqrt(d_k): key j collects column j of dS, the queries that looked at it.",
        lambda v: _settle(gradients.query_gradient(v.dscores, v.Q, v.d_k), v),
    ),
)
