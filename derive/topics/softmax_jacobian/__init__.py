"""The softmax Jacobian: ∂p_i/∂z_j = p_i(δ_ij − p_j), the matrix diag(p) − pᵀp, why its rows sum to 0,
and how the chain rule through it gives cross-entropy's gradient p − y."""

from __future__ import annotations

from derive import inputs, limits
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.softmax_jacobian import explain, stages

MAX_CLASSES = 8  # an 8 × 8 Jacobian is the largest worth writing out


def _prepare(options) -> Givens:
    z = options["x"]
    limits.check_shape("--x", z, rows=1, cols=MAX_CLASSES)
    if z.cols < 2:
        raise InputError("--x", "expected at least 2 logits: a single probability is always 1")
    params = {"x": [str(e) for e in z]}
    return Givens("The softmax Jacobian", {"z": z}, explain.intro(z), params)


def _sample(rng):
    return {"x": " ".join(str(int(e)) for e in rng.integers(-3, 4, int(rng.integers(2, 6))))}


def _reference(options):
    """Independently of the stages: the outer-product form from NumPy's softmax."""
    import numpy as np

    from derive import forward
    from derive.exact.precision import floats

    p = forward.softmax(floats(options["x"]))[0]  # (n,)
    return {"softmax": p, "jacobian": np.diag(p) - np.outer(p, p)}


TOPIC = Topic(
    name="softmax-jacobian",
    summary="The softmax Jacobian diag(p) - p^T p, why its rows sum to 0, and the chain rule to p - y",
    options=(
        Option(
            "x",
            "the logits z, one softmax row: '1 2 3' (at most 8 entries)",
            inputs.symbolic(inputs.vector),
            required=True,
            sets_answer_shape=True,
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "softmax",
            "Softmax: the probabilities",
            stages.softmax,
            explain.explain_softmax,
            distribution=True,
        ),
        Stage(
            "jacobian",
            "The Jacobian: every probability against every logit",
            stages.jacobian,
            explain.explain_jacobian,
            mistakes=stages.JACOBIAN_MISTAKES,
        ),
        Stage(
            "chain", "The chain rule with cross-entropy", stages.chain, explain.explain_chain, answer=False
        ),
    ),
    result="jacobian",
    examples={"basic": {"x": "1 2 3"}, "two": {"x": "0 1"}},
    example_notes={
        "basic": "logits 1 2 3: a 3 × 3 Jacobian whose rows sum to 0",
        "two": "two logits: the sigmoid's derivative p(1 - p) on the diagonal",
    },
    sample=_sample,
    reference=_reference,
)
