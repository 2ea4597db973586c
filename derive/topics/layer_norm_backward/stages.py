"""The layer-norm-backward topic's values, from derive.exact, and the misconceptions."""

from __future__ import annotations

import sympy as sp

from derive.exact import gradients, norms
from derive.model import Mistake


def variance(v):
    return norms.variance(v.x, norms.mean(v.x))


def normalized(v):
    mean = norms.mean(v.x)
    return norms.standardise(v.x, mean, norms.variance(v.x, mean), v.eps)


def d_beta(v):
    return gradients.beta_gradient(v.dy)


def d_gamma(v):
    return gradients.gamma_gradient(v.dy, v.normalized)


def d_x(v):
    return gradients.layer_norm_input_gradient(v.dy, v.normalized, variance(v), v.gamma, v.eps)


# --- misconceptions -------------------------------------------------------------------------------


def _scaled(v):
    """ĝ = dy ⊙ γ, the gradient at x̂."""
    return v.dy.multiply_elementwise(sp.ones(v.dy.rows, 1) * v.gamma)


def _direct_only(v):
    spread = variance(v).applyfunc(lambda s: sp.sqrt(s + v.eps))
    g = _scaled(v)
    return sp.Matrix(g.rows, g.cols, lambda r, c: g[r, c] / spread[r, 0])


def _no_variance_path(v):
    spread = variance(v).applyfunc(lambda s: sp.sqrt(s + v.eps))
    g = _scaled(v)
    return sp.Matrix(g.rows, g.cols, lambda r, c: (g[r, c] - sum(g.row(r)) / g.cols) / spread[r, 0])


def _no_gamma(v):
    if all(g == 1 for g in v.gamma):
        return None
    ones = sp.ones(1, v.x.cols)
    return gradients.layer_norm_input_gradient(v.dy, v.normalized, variance(v), ones, v.eps)


DBETA_MISTAKES = (
    Mistake(
        "mean-not-sum",
        "beta is shared by every token, so its gradient is the sum of dy over the tokens, not the mean.",
        lambda v: gradients.beta_gradient(v.dy) / v.dy.rows if v.dy.rows > 1 else None,
    ),
)
DGAMMA_MISTAKES = (
    Mistake(
        "x-not-normalized",
        "gamma multiplies x-hat, not x: dgamma_j = sum over tokens of dy_j x-hat_j.",
        lambda v: gradients.gamma_gradient(v.dy, v.x),
    ),
    Mistake(
        "no-normalized",
        "dgamma_j = sum of dy_j x-hat_j: multiply by x-hat (the sum of dy alone is dbeta).",
        lambda v: gradients.beta_gradient(v.dy),
    ),
)
DX_MISTAKES = (
    Mistake(
        "direct-path-only",
        "x-hat depends on x also through the mean and the standard deviation: subtract mean(g) and "
        "x-hat times mean(g x-hat) before dividing by the standard deviation.",
        _direct_only,
    ),
    Mistake(
        "no-variance-path",
        "The standard deviation depends on x too: also subtract x-hat times mean(g x-hat).",
        _no_variance_path,
    ),
    Mistake("no-gamma", "The gradient reaches x-hat through gamma: use g = dy times gamma.", _no_gamma),
)
