"""Layer normalisation, token by token: mean, variance, the normalised row, then γ and β.

Each stage reads only the givens and the answers before it (the variance reads ``mean``, x̂ reads
``mean`` and ``variance``), so a student's wrong mean is carried into a variance computed from it.
ε is kept exact (1e-5 is 1/100000), so every answer is an exact surd; ``--eps 0`` gives the clean
forms that a hand calculation produces. RMSNorm follows as an ungraded contrast.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.errors import InputError
from derive.exact.precision import floats
from derive.model import Givens, Option, Stage, Topic
from derive.topics.layer_norm import explain, stages

# --- inputs ---------------------------------------------------------------------------------------


def _prepare(options) -> Givens:
    x, epsilon = options["x"], options["eps"]
    limits.check_shape("--x", x)
    sample = options["variance"] == "sample"
    if sample and x.cols == 1:
        raise InputError(
            "--variance", "sample divides by d - 1, which is 0 for one feature; give x at least 2 columns"
        )
    gamma_v = inputs.per_feature(options, "gamma", sp.Integer(1), x.cols)
    beta_v = inputs.per_feature(options, "beta", sp.Integer(0), x.cols)
    if epsilon == 0:
        for r in range(x.rows):
            if len(set(x.row(r))) == 1:
                raise InputError(
                    "--eps",
                    f"is 0 but row {r + 1} of x is constant, so its variance is 0 and x-hat = 0/0; "
                    "use a positive epsilon such as 1e-5",
                )
    params = {
        "x": [[str(e) for e in row] for row in x.tolist()],
        "gamma": [str(e) for e in gamma_v],
        "beta": [str(e) for e in beta_v],
        "eps": str(epsilon),
        "variance": options["variance"],
    }
    values = {"x": x, "gamma": gamma_v, "beta": beta_v, "eps": epsilon, "sample": sample}
    return Givens("Layer normalisation", values, explain.intro(values), params)


def _sample(rng):
    rows, cols = int(rng.integers(1, 4)), int(rng.integers(2, 6))
    epsilon = str(rng.choice(["1e-5", "0", "1/10"]))
    while True:
        x = rng.integers(-5, 6, (rows, cols))
        if all(len(set(row)) > 1 for row in x.tolist()):
            break
    raw = {
        "x": "; ".join(" ".join(str(int(e)) for e in row) for row in x),
        "eps": epsilon,
        "variance": str(rng.choice(["population", "sample"])),
    }
    if rng.random() < 0.5:
        raw["gamma"] = " ".join(str(rng.choice(["1", "2", "-1", "1/2", "0.5"])) for _ in range(cols))
    if rng.random() < 0.5:
        raw["beta"] = " ".join(str(int(e)) for e in rng.integers(-2, 3, cols))
    return raw


def _reference(options):
    import numpy as np

    from derive import forward

    x = floats(options["x"])
    cols = x.shape[1]
    gamma_v = np.ones(cols) if options["gamma"] is None else floats(options["gamma"])[0]
    beta_v = np.zeros(cols) if options["beta"] is None else floats(options["beta"])[0]
    eps = float(options["eps"])
    if options["variance"] == "sample":  # the Annotated Transformer: (x - mean) / (std + eps), std with d - 1
        mean = x.mean(axis=1, keepdims=True)  # (T, 1)
        std = x.std(axis=1, ddof=1, keepdims=True)  # (T, 1)
        normed = (x - mean) / (std + eps)  # (T, d)
        return {"mean": mean, "variance": std**2, "normalized": normed, "output": normed * gamma_v + beta_v}
    trace: dict = {}
    out = forward.layer_norm(x, gamma_v, beta_v, eps, trace=trace)
    return {"mean": trace["mean"], "variance": trace["var"], "normalized": trace["normed"], "output": out}


TOPIC = Topic(
    name="layer-norm",
    summary="Layer normalisation of each token: mean, population variance, epsilon, gamma and beta; RMSNorm",
    options=(
        Option(
            "x",
            "the tokens as rows: a vector '1 2 3' or a matrix '1 2 3; 4 0 2'",
            inputs.symbolic(inputs.vector_or_matrix),
            required=True,
            sets_answer_shape=True,
        ),
        Option("gamma", "the learned scale, one per feature (default all 1)", inputs.symbolic(inputs.vector)),
        Option("beta", "the learned shift, one per feature (default all 0)", inputs.symbolic(inputs.vector)),
        Option(
            "eps",
            "epsilon added to the variance; 0 gives clean hand-worked forms",
            inputs.non_negative,
            default="1e-5",
        ),
        Option(
            "variance",
            "population: (x - mean)/sqrt(var + eps), var over d (PyTorch, the LayerNorm paper); sample: "
            "(x - mean)/(std + eps), std over d - 1 (the Annotated Transformer)",
            inputs.choice("population", "sample"),
            default="population",
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage("mean", "The mean of each row", stages.mean, explain.explain_mean),
        Stage(
            "variance",
            "The variance of each row",
            stages.variance,
            explain.explain_variance,
            mistakes=stages.VARIANCE_MISTAKES,
        ),
        Stage(
            "normalized",
            "Normalise",
            stages.normalized,
            explain.explain_normalized,
            mistakes=stages.NORMALIZED_MISTAKES,
        ),
        Stage(
            "output",
            "Scale and shift",
            stages.output,
            explain.explain_output,
            mistakes=stages.OUTPUT_MISTAKES,
        ),
        Stage("rms_norm", "RMSNorm, for contrast", stages.rms_norm, explain.explain_rms, answer=False),
    ),
    result="output",
    examples={
        "basic": {"x": "1 2 3", "eps": "0"},
        "tokens": {"x": "2 4 6 8; 1 0 0 -1", "gamma": "1 2 1 3", "beta": "0 0 1 0", "eps": "0"},
        "epsilon": {"x": "1 2 3; 0 0 0"},
        "annotated": {"x": "1 2 3 6", "eps": "0", "variance": "sample"},
    },
    example_notes={
        "basic": "one token (1, 2, 3) with epsilon 0: x-hat = (-sqrt(6)/2, 0, sqrt(6)/2)",
        "tokens": "two tokens of four features, with gamma and beta",
        "epsilon": "the default epsilon 1e-5 keeps a constant row defined",
        "annotated": "--variance sample: the Annotated Transformer's (x - mean)/(std + eps), std over d - 1",
    },
    sample=_sample,
    reference=_reference,
)
