"""The layer-norm topic's stages: each answer from the givens and the answers before it, and the
misconceptions a student may hold, all computed with ``derive.exact.norms``.

Each stage reads only what it names (the variance reads ``mean``, x̂ reads ``mean`` and
``variance``), so a student's wrong mean is carried into a variance computed from it.
"""

from __future__ import annotations

import sympy as sp

from derive.exact import norms
from derive.model import Mistake


def mean(v):
    return norms.mean(v.x)


def _ddof(v) -> int:
    return 1 if v.sample else 0


def _standardise(v, variance):
    """PyTorch's (x − μ)/√(σ² + ε), or under --variance sample the Annotated Transformer's (x − μ)/(s + ε)."""
    by = norms.standardise_by_std if v.sample else norms.standardise
    return by(v.x, v.mean, variance, v.eps)


def variance(v):
    return norms.variance(v.x, v.mean, ddof=_ddof(v))


def normalized(v):
    return _standardise(v, v.variance)


def output(v):
    return norms.scale_shift(v.normalized, v.gamma, v.beta)


def rms_norm(v):
    return norms.rms_norm(v.x, v.gamma, v.eps)


# --- misconceptions -------------------------------------------------------------------------------


def _other_variance(v):
    """The variance of the other convention: d − 1 under the default, d under --variance sample."""
    if v.x.cols == 1:
        return None
    return norms.variance(v.x, v.mean, ddof=1 - _ddof(v))


def _other_normalized(v):
    other = _other_variance(v)
    return None if other is None else _standardise(v, other)


def _other_output(v):
    normed = _other_normalized(v)
    return None if normed is None else norms.scale_shift(normed, v.gamma, v.beta)


def _only(convention: bool, compute):
    """A misconception offered under one convention only."""
    return lambda v: compute(v) if v.sample == convention else None


def _eps_inside(v):
    return norms.standardise(v.x, v.mean, v.variance, v.eps) if v.eps != 0 else None


def _no_sqrt(v):
    x, mu, var = v.x, v.mean, v.variance
    return sp.Matrix(x.rows, x.cols, lambda r, c: (x[r, c] - mu[r, 0]) / (var[r, 0] + v.eps))


def _no_centering(v):
    return norms.standardise(v.x, sp.zeros(v.x.rows, 1), v.variance, v.eps)


def _rms_for_layer_norm(v):
    return norms.rms_norm(v.x, eps=v.eps)


def _no_affine(v):
    identity = all(g == 1 for g in v.gamma) and all(b == 0 for b in v.beta)
    return None if identity else v.normalized


SAMPLE_HINT = (
    "Divide the sum of squared deviations by d, the number of features, not by d - 1: "
    "LayerNorm uses the population variance of the row."
)
POPULATION_HINT = (
    "Under --variance sample divide the sum of squared deviations by d - 1, as the Annotated "
    "Transformer's x.std(-1) does, not by d."
)
EPS_INSIDE_HINT = (
    "Under --variance sample add epsilon to the standard deviation, outside the root: (x - mean)/(std + eps)."
)
VARIANCE_MISTAKES = (
    Mistake("sample-variance", SAMPLE_HINT, _only(False, _other_variance)),
    Mistake("population-variance", POPULATION_HINT, _only(True, _other_variance)),
)
NORMALIZED_MISTAKES = (
    Mistake("sample-variance", SAMPLE_HINT, _only(False, _other_normalized)),
    Mistake("population-variance", POPULATION_HINT, _only(True, _other_normalized)),
    Mistake("eps-inside-root", EPS_INSIDE_HINT, _only(True, _eps_inside)),
    Mistake(
        "no-sqrt",
        "Divide by the square root of the variance plus epsilon, the "
        "standard deviation, not by the variance itself.",
        _no_sqrt,
    ),
    Mistake("no-centering", "Subtract the row mean from every entry before dividing.", _no_centering),
    Mistake(
        "rms-for-layer-norm",
        "That is RMSNorm (x over its root mean square). LayerNorm subtracts the mean first and "
        "divides by the standard deviation.",
        _rms_for_layer_norm,
    ),
)
OUTPUT_MISTAKES = (
    Mistake("sample-variance", SAMPLE_HINT, _only(False, _other_output)),
    Mistake("population-variance", POPULATION_HINT, _only(True, _other_output)),
    Mistake("no-affine", "Multiply each normalised feature by its gamma and add its beta.", _no_affine),
)
