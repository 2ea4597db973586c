"""The softmax topic's values, each from derive.exact.softmax, and the misconceptions."""

from __future__ import annotations

import sympy as sp

from derive.exact import softmax as exact


def scale(v):
    return exact.apply_temperature(v.x, v.T)


def exponentiate(v):
    return exact.exponentials(v.z)


def total(v):
    return exact.row_sums(v.exp)


def normalise(v):
    """Each exponential over its row's sum: read from the earlier stages, so a slip follows through."""
    return sp.Matrix(v.exp.rows, v.exp.cols, lambda r, c: v.exp[r, c] / v.sum[r, 0])


def stable(v):
    return exact.stable_softmax(v.z)


def shifted_logits(z: sp.Matrix) -> sp.Matrix:
    """z_i − m with m the row's maximum: every exponent at most 0."""
    return sp.Matrix(z.rows, z.cols, lambda r, c: z[r, c] - exact.row_max(z.row(r)))


# --- misconceptions: what a student holding each one would write ------------------------------------

NOT_NORMALISED_HINT = (
    "Divide each exponential by the sum of the exponentials in its row, so the row sums to 1."
)


def no_exp(v):
    """Each logit over its row's sum of logits: the exponential forgotten."""
    return sp.Matrix(v.z.rows, v.z.cols, lambda r, c: v.z[r, c] / sum(v.z.row(r)))


def no_temperature(v):
    return exact.stable_softmax(v.x)


def not_normalised(v):
    """The exponentials themselves: the division by their row's sum forgotten."""
    return v.exp
