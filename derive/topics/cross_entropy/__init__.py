"""Cross-entropy of a softmax: the probabilities, the loss −log p_K and its gradient p − y, derived.

A matrix of logits holds one example per row with one target each; the loss is then the mean over
the rows (PyTorch's ``reduction="mean"``), so the gradient is divided by their number N. Targets
count from 1, as the printed steps do. Label smoothing is PyTorch's: y = (1 − ε)·onehot + ε/C.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.errors import InputError
from derive.exact import gradients
from derive.model import Givens, Option, Stage, Topic
from derive.topics.cross_entropy import explain, stages


def _targets(value, option) -> list[int]:
    """Whole numbers, one per row of logits: '3' or '3 1 2'."""
    entries = [value] if isinstance(value, int) else list(inputs.vector(value, option))
    if not all(sp.sympify(e).is_integer for e in entries):
        raise InputError(option, "expected whole numbers counting from 1, such as '3' or '3 1 2'")
    return [int(e) for e in entries]


def _smoothing(value, option):
    number = inputs.non_negative(value, option)
    if not number <= 1:
        raise InputError(option, "expected a number from 0 to 1, such as 0.1")
    return number


def _prepare(options) -> Givens:
    z, targets, smoothing = options["logits"], options["target"], options["label_smoothing"]
    limits.check_shape("--logits", z)
    if z.cols < 2:
        raise InputError("--logits", "expected at least 2 classes (columns)")
    if len(targets) != z.rows:
        raise InputError(
            "--target", f"{len(targets)} targets but --logits has {z.rows} rows; give one class per row"
        )
    for target in targets:
        if not 1 <= target <= z.cols:
            raise InputError("--target", f"class {target} is not one of 1 … {z.cols} (classes count from 1)")
    y = gradients.smoothed_targets([t - 1 for t in targets], z.cols, smoothing)
    values = {"z": z, "targets": tuple(targets), "smoothing": smoothing, "y": y, "N": z.rows}
    params = {
        "logits": [[str(e) for e in row] for row in z.tolist()],
        "target": targets,
        "label_smoothing": str(smoothing),
    }
    return Givens("Cross-entropy loss and its gradient", values, explain.intro(values), params)


def _sample(rng):
    rows, cols = int(rng.integers(1, 4)), int(rng.integers(2, 6))
    z = "; ".join(" ".join(str(int(e)) for e in rng.integers(-3, 4, cols)) for _ in range(rows))
    target = " ".join(str(int(t)) for t in rng.integers(1, cols + 1, rows))
    return {"logits": z, "target": target, "label_smoothing": str(rng.choice(["0", "0.1", "1/4"]))}


def _reference(options):
    """Independently of the stages: log-sum-exp minus the y-weighted logits, and softmax − y."""
    import numpy as np

    from derive import forward
    from derive.exact.precision import floats

    z = floats(options["logits"])  # (N, C)
    n, classes = z.shape
    eps = float(options["label_smoothing"])
    y = np.full((n, classes), eps / classes)  # (N, C)
    y[np.arange(n), np.array(options["target"]) - 1] += 1 - eps
    top = z.max(axis=1, keepdims=True)  # (N, 1)
    log_sum_exp = (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))[:, 0]  # (N,)
    return {
        "softmax": forward.softmax(z),
        "loss": np.mean(log_sum_exp - (y * z).sum(axis=1)),
        "gradient": (forward.softmax(z) - y) / n,
    }


TOPIC = Topic(
    name="cross-entropy",
    summary="Cross-entropy loss of a softmax, -log p_K, and its gradient p - y derived; label smoothing",
    options=(
        Option(
            "logits",
            "the logits z: a vector '2 1 0' or one example per row '2 1 0; 0 1 3'",
            inputs.symbolic(inputs.vector_or_matrix),
            required=True,
            sets_answer_shape=True,
        ),
        Option(
            "target", "the target class of each row, counting from 1: '1' or '1 2'", _targets, required=True
        ),
        Option(
            "label_smoothing",
            "epsilon: the target becomes (1 - eps) one-hot + eps/C, as in PyTorch",
            _smoothing,
            default="0",
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "softmax",
            "Softmax: the predicted probabilities",
            stages.softmax,
            explain.explain_softmax,
            distribution=True,
        ),
        Stage("loss", "The loss", stages.loss, explain.explain_loss, mistakes=stages.LOSS_MISTAKES),
        Stage(
            "gradient",
            "The gradient with respect to the logits",
            stages.gradient,
            explain.explain_gradient,
            mistakes=stages.GRADIENT_MISTAKES,
        ),
    ),
    result="loss",
    examples={
        "basic": {"logits": "2 1 0", "target": "1"},
        "batch": {"logits": "2 1 0; 0 1 3", "target": "1 2"},
        "smoothing": {"logits": "2 1 0", "target": "1", "label_smoothing": "0.1"},
    },
    example_notes={
        "basic": "logits 2 1 0 with target class 1: loss log(1 + e + e^2) - 2",
        "batch": "two examples: the mean loss, and the gradient divided by N = 2",
        "smoothing": "label smoothing 0.1: the target row becomes (0.9333, 0.0333, 0.0333)",
    },
    sample=_sample,
    reference=_reference,
)
