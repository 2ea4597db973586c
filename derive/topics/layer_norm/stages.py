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


def variance(v):
    return norms.variance(v.x, v.mean)


def normalized(v):
    return norms.standardise(v.x, v.mean, v.variance, v.eps)


def output(v):
    return norms.scale_shift(v.normalized, v.gamma, v.beta)


def rms_norm(v):
    return norms.rms_norm(v.x, v.gamma, v.eps)


# --- misconceptions -------------------------------------------------------------------------------


def _sample_variance(v):
    return norms.variance(v.x, v.mean, ddof=1) if v.x.cols > 1 else None


def _sample_normalized(v):
    sample = _sample_variance(v)
    return None if sample is None else norms.standardise(v.x, v.mean, sample, v.eps)


def _sample_output(v):
    normed = _sample_normalized(v)
    return None if normed is None else norms.scale_shift(normed, v.gamma, v.beta)


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
SAMPLE_VARIANCE = Mistake("sample-variance", SAMPLE_HINT, _sample_variance)
NORMALIZED_MISTAKES = (
    Mistake("sample-variance", SAMPLE_HINT, _sample_normalized),
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
    Mistake("sample-variance", SAMPLE_HINT, _sample_output),
    Mistake("no-affine", "Multiply each normalised feature by its gamma and add its beta.", _no_affine),
)
