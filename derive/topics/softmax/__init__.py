"""Softmax, row by row: exponentials, their sum, the probabilities, and the stable form."""

from __future__ import annotations

from derive import inputs, limits
from derive.model import Givens, Mistake, Option, Stage, Topic
from derive.topics.softmax import explain, stages


def _prepare(options) -> Givens:
    x = options["x"]
    limits.check_shape("--x", x)
    temperature = options["temperature"]
    params = {"x": [[str(e) for e in row] for row in x.tolist()], "temperature": str(temperature)}
    return Givens("Softmax", {"x": x, "T": temperature}, explain.intro(x, temperature), params)


def _check_x(value, option):
    return inputs.vector_or_matrix(value, option, symbols=True)


def _sample(rng):
    rows, cols = int(rng.integers(1, 4)), int(rng.integers(2, 6))
    x = "; ".join(" ".join(str(int(v)) for v in rng.integers(-5, 6, cols)) for _ in range(rows))
    return {"x": x, "temperature": str(rng.choice(["1", "2", "1/2", "0.3"]))}


def _reference(options):
    import numpy as np

    from derive import forward

    x = np.array(options["x"].tolist(), dtype=float)
    return {"softmax": forward.softmax(x, temperature=float(options["temperature"]))}


TOPIC = Topic(
    name="softmax",
    summary="Softmax of a vector or of each matrix row, with temperature and the stable form",
    options=(
        Option(
            "x",
            "the logits: a vector '1 2 3' or a matrix '1 2; 3 4'",
            _check_x,
            required=True,
            sets_answer_shape=True,
        ),
        Option("temperature", "divide the logits by T > 0 first", inputs.positive, default="1"),
    ),
    prepare=_prepare,
    stages=(
        Stage("z", "Apply the temperature", stages.scale, explain.scale),
        Stage("exp", "Exponentiate", stages.exponentiate, explain.exponentiate),
        Stage("sum", "Sum each row", stages.total, explain.total),
        Stage(
            "softmax",
            "Normalise",
            stages.normalise,
            explain.normalise,
            mistakes=(
                Mistake("no-exp", "Exponentiate each value before dividing by the row sum.", stages.no_exp),
                Mistake(
                    "no-temperature",
                    "Divide the logits by the temperature T before exponentiating.",
                    stages.no_temperature,
                ),
                Mistake("not-normalised", stages.NOT_NORMALISED_HINT, stages.not_normalised),
            ),
            distribution=True,
        ),
        Stage("stable", "The numerically stable form", stages.stable, explain.stable, answer=False),
    ),
    result="softmax",
    examples={
        "basic": {"x": "1 2 3"},
        "overflow": {"x": "1000 1001 1002"},
        "temperature": {"x": "2 1 0.1", "temperature": "1/2"},
    },
    example_notes={
        "basic": "softmax of 1 2 3",
        "overflow": "inputs near 1000: the stable form",
        "temperature": "temperature 1/2 sharpens the distribution",
    },
    sample=_sample,
    reference=_reference,
)
