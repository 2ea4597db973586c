"""The softmax-jacobian topic's values, from derive.exact, and the misconceptions.

``jacobian`` reads the ``softmax`` answer, so a student's wrong probabilities follow through.
"""

from __future__ import annotations

import sympy as sp

from derive.exact import gradients
from derive.exact.softmax import softmax as softmax_of
from derive.model import Mistake


def softmax(v):
    return softmax_of(v.z)


def jacobian(v):
    return gradients.softmax_jacobian(v.softmax)


def chain(v):
    """Row K: ∂L/∂z for the one-hot target K, which the chain rule through J reduces to p − e_K."""
    n = v.softmax.cols
    return sp.ones(n, 1) * sp.Matrix([list(v.softmax)]) - sp.eye(n)


# --- misconceptions -------------------------------------------------------------------------------


def _outer(v):
    row = sp.Matrix([list(v.softmax)])
    return row.T * row


JACOBIAN_MISTAKES = (
    Mistake(
        "no-diagonal-term",
        "Keep the delta term: on the diagonal dp_i/dz_i = p_i(1 - p_i), so the matrix is diag(p) - p^T p, not -p^T p.",
        lambda v: -_outer(v),
    ),
    Mistake(
        "diagonal-only",
        "Every p_i depends on every logit through the shared sum, so the off-diagonal entries are -p_i p_j, not 0.",
        lambda v: sp.diag(*[p * (1 - p) for p in v.softmax]),
    ),
    Mistake(
        "sign-flipped",
        "dp_i/dz_j = p_i(delta_ij - p_j): the diagonal is positive (raising z_i raises p_i), the rest negative.",
        lambda v: -gradients.softmax_jacobian(v.softmax),
    ),
)
