"""The cross-entropy topic's values, each from derive.exact, and the misconceptions.

``loss`` and ``gradient`` read the ``softmax`` answer, so a student's wrong probabilities are
carried into a loss and a gradient computed from them.
"""

from __future__ import annotations

from derive.exact import gradients
from derive.exact.softmax import softmax as softmax_of
from derive.model import Mistake


def softmax(v):
    return softmax_of(v.z)


def loss(v):
    return gradients.cross_entropy(v.softmax, v.y)


def gradient(v):
    return gradients.cross_entropy_gradient(v.softmax, v.y)


def one_hot(v):
    """The targets without label smoothing."""
    return gradients.smoothed_targets([t - 1 for t in v.targets], v.z.cols)


# --- misconceptions: what a student holding each one would write -----------------------------------

NO_SMOOTHING_HINT = "With label smoothing the target row is (1 - eps) one-hot + eps/C, not the one-hot row."
LOSS_MISTAKES = (
    Mistake(
        "no-minus",
        "The loss is minus the log of the target's probability, -log p_K, so it is never negative.",
        lambda v: -loss(v),
    ),
    Mistake(
        "sum-not-mean",
        "The loss of a batch is the mean over its N rows (divide the sum by N).",
        lambda v: loss(v) * v.N if v.N > 1 else None,
    ),
    Mistake(
        "no-smoothing",
        NO_SMOOTHING_HINT,
        lambda v: gradients.cross_entropy(v.softmax, one_hot(v)) if v.smoothing else None,
    ),
)
GRADIENT_MISTAKES = (
    Mistake(
        "sign-flipped",
        "The gradient is p - y, not y - p: raising the target's logit lowers the loss, so its entry is negative.",
        lambda v: -gradient(v),
    ),
    Mistake(
        "not-divided-by-n",
        "The loss is the mean over N rows, so every row's p - y is divided by N.",
        lambda v: gradient(v) * v.N if v.N > 1 else None,
    ),
    Mistake(
        "no-smoothing",
        NO_SMOOTHING_HINT,
        lambda v: gradients.cross_entropy_gradient(v.softmax, one_hot(v)) if v.smoothing else None,
    ),
)
