"""Tokens as particles on the unit sphere (Geshkovski, Letrouit, Polyanskiy, Rigollet, 2023).

Self-attention with Q = K = V = I as a flow: ẋ_i = P_{x_i}(Σ_j softmax_j(β⟨x_i, x_j⟩) x_j). Scheme:
explicit Euler steps of size h, each token renormalised to length 1 after the step. The first step
is exact; the rest are simulated in float64 by derive.forward.dynamics. Clusters: tokens chained by
final distances below 0.01.
"""

from __future__ import annotations

from derive import inputs, limits
from derive.errors import InputError
from derive.exact import dynamics
from derive.model import Givens, Option, Stage, Topic, Values
from derive.topics.particles import explain, stages

MAX_TOKENS = 8  # the exact first step of more tokens is a wall of exponentials
MAX_STEPS = 10000


def _prepare(options) -> Givens:
    given = options["x"]
    limits.check_shape("--x", given, MAX_TOKENS, limits.MAX_DIM)
    if given.cols < 2:
        raise InputError(
            "--x", "expected tokens of at least 2 dimensions (the sphere in 1 dimension is two points)"
        )
    for r in range(given.rows):
        if all(e == 0 for e in given.row(r)):
            raise InputError("--x", f"token {r + 1} is the zero vector: it has no direction on the sphere")
    x = dynamics.normalise_rows(given)
    unit = x == given
    if options["dt"] > 1:
        raise InputError("--dt", "expected a step size at most 1, such as 0.1")
    values = {"x": x, "beta": options["beta"], "dt": options["dt"], "steps": options["steps"]}
    params = {
        "x": [[str(e) for e in row] for row in given.tolist()],
        "beta": str(options["beta"]),
        "dt": str(options["dt"]),
        "steps": options["steps"],
    }
    return Givens("Tokens as particles on the sphere", values, explain.intro(Values(values), unit), params)


def _sample(rng):
    unit_rows = ["1 0", "0 1", "-1 0", "0 -1", "3/5 4/5", "-4/5 3/5", "5/13 -12/13", "-12/13 -5/13"]
    picked = rng.choice(len(unit_rows), size=int(rng.integers(2, 5)), replace=False)
    return {
        "x": "; ".join(unit_rows[i] for i in picked),
        "beta": str(rng.choice(["0", "1", "2", "1/2"])),
        "dt": str(rng.choice(["1/10", "1/4"])),
        "steps": str(int(rng.integers(1, 50))),
    }


def _reference(options):
    import numpy as np

    from derive.forward.dynamics import attention_dynamics_step

    x = np.array(options["x"].tolist(), dtype=float)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return {"step1": attention_dynamics_step(x, float(options["beta"]), float(options["dt"]))}


NUMBERS_ONLY = "the dynamics is simulated numerically and its clusters counted"

TOPIC = Topic(
    name="particles",
    summary="Tokens as particles on the sphere: self-attention dynamics, one Euler step exactly, clusters",
    options=(
        Option(
            "x",
            f"the tokens, one per row (at most {MAX_TOKENS}, each of 2 or more dimensions), normalised to length 1",
            inputs.numbers_only(inputs.matrix, NUMBERS_ONLY),
            required=True,
        ),
        Option(
            "beta",
            "the inverse temperature β ≥ 0 of the attention softmax",
            inputs.numbers_only(inputs.non_negative, NUMBERS_ONLY),
            default="1",
        ),
        Option(
            "steps",
            f"how many Euler steps, 1 to {MAX_STEPS}",
            inputs.numbers_only(lambda v, o: inputs.integer(v, o, 1, MAX_STEPS), NUMBERS_ONLY),
            default="500",
        ),
        Option(
            "dt",
            "the Euler step size h (time per layer), at most 1",
            inputs.numbers_only(inputs.positive, NUMBERS_ONLY),
            default="0.1",
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "weights",
            "The attention weights",
            stages.weights,
            explain.explain_weights,
            answer=False,
            distribution=True,
        ),
        Stage("mean", "The attention output", stages.attention_mean, explain.explain_mean, answer=False),
        Stage("velocity", "Project onto the sphere", stages.velocity, explain.explain_velocity, answer=False),
        Stage("step1", "The first Euler step", stages.step1, explain.explain_step1, stages.STEP1_MISTAKES),
        Stage("final", "The simulation", stages.final, explain.explain_final),
        Stage("clusters", "Clusters", stages.clusters, explain.explain_clusters),
    ),
    result="clusters",
    examples={
        "circle": {"x": "1 0; 0 1; -4/5 3/5; 3/5 -4/5; -12/13 -5/13"},
        "metastable": {"x": "1 0; 0 1; -4/5 3/5; 3/5 -4/5; -12/13 -5/13", "beta": "9"},
        "sphere": {"x": "1 0 0; 0 1 0; 0 0 1; 2/3 2/3 1/3", "beta": "1", "steps": "300"},
    },
    example_notes={
        "circle": "five tokens on the circle at β = 1: one cluster by time 50",
        "metastable": "the same tokens at β = 9: three clusters still apart at time 50",
        "sphere": "four tokens on the sphere in 3 dimensions",
    },
    sample=_sample,
    reference=_reference,
)
