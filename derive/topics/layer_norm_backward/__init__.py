"""The backward pass of LayerNorm: dβ, dγ and dx from the gradient dy at the output.

The forward pass is PyTorch's: population variance, ε inside the root, y = γ x̂ + β per feature.
dx collects three paths, since x̂ depends on x directly, through the row's mean and through its
standard deviation. ε is exact (1e-5 is 1/100000); ``--eps 0`` gives the clean hand-worked forms.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.layer_norm_backward import explain, named, stages


def _prepare(options) -> Givens:
    x, grad, epsilon = options["x"], options["grad_output"], options["eps"]
    limits.check_shape("--x", x, rows=8, cols=8)
    if grad.shape != x.shape:
        raise InputError(
            "--grad-output", f"is {grad.rows}×{grad.cols} but x is {x.rows}×{x.cols}; dy has the shape of y"
        )
    if epsilon == 0 and any(len(set(x.row(r))) == 1 for r in range(x.rows)):
        raise InputError(
            "--eps", "is 0 but a row of x is constant, so its variance is 0; use a positive epsilon"
        )
    if x.free_symbols:
        named.refuse_clashes(options)
    gamma = inputs.per_feature(options, "gamma", sp.Integer(1), x.cols)
    beta = inputs.per_feature(options, "beta", sp.Integer(0), x.cols)
    values = {"x": x, "dy": grad, "gamma": gamma, "beta": beta, "eps": epsilon}
    params = {
        "x": [[str(e) for e in row] for row in x.tolist()],
        "grad_output": [[str(e) for e in row] for row in grad.tolist()],
        "gamma": [str(e) for e in gamma],
        "beta": [str(e) for e in beta],
        "eps": str(epsilon),
    }
    return Givens("The backward pass of layer normalisation", values, explain.intro(values), params)


def _sample(rng):
    rows, cols = int(rng.integers(1, 4)), int(rng.integers(2, 5))
    while True:
        x = rng.integers(-3, 4, (rows, cols))
        if all(len(set(row)) > 1 for row in x.tolist()):
            break
    raw = {
        "x": "; ".join(" ".join(str(int(e)) for e in row) for row in x),
        "grad_output": "; ".join(
            " ".join(str(int(e)) for e in rng.integers(-2, 3, cols)) for _ in range(rows)
        ),
        "eps": str(rng.choice(["0", "1e-5", "1/10"])),
    }
    if rng.random() < 0.5:
        raw["gamma"] = " ".join(str(rng.choice(["1", "2", "-1", "1/2"])) for _ in range(cols))
    return raw


def _reference(options):
    import numpy as np

    from derive import forward
    from derive.exact.precision import floats
    from derive.forward import gradients

    x, grad = floats(options["x"]), floats(options["grad_output"])  # (T, d), (T, d)
    gamma = np.ones(x.shape[1]) if options["gamma"] is None else floats(options["gamma"])[0]  # (d,)
    eps = float(options["eps"])
    trace: dict = {}
    forward.layer_norm(x, gamma, None, eps, trace=trace)
    return {
        "dbeta": gradients.beta_gradient(grad),
        "dgamma": gradients.gamma_gradient(grad, trace["normed"]),
        "dx": gradients.layer_norm_input_gradient(grad, trace["normed"], trace["var"], gamma, eps),
    }


TOPIC = Topic(
    name="layer-norm-backward",
    summary="Backpropagation through LayerNorm: dbeta, dgamma, and dx with its mean and variance paths",
    options=(
        Option(
            "x",
            "the tokens as rows: a vector '1 2 3' or a matrix '1 2 3; 4 0 2'",
            inputs.symbolic(inputs.vector_or_matrix),
            required=True,
            sets_answer_shape=True,
        ),
        Option(
            "grad_output",
            "dy = dL/dy, the gradient at the output (the shape of x)",
            inputs.symbolic(inputs.vector_or_matrix),
            required=True,
        ),
        Option("gamma", "the learned scale, one per feature (default all 1)", inputs.vector),
        Option(
            "beta",
            "the learned shift, one per feature (default all 0); it does not change any gradient",
            inputs.vector,
        ),
        Option(
            "eps",
            "epsilon added to the variance inside the root; 0 gives clean forms",
            inputs.non_negative,
            default="1e-5",
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "normalized",
            "Forward: the normalised rows",
            stages.normalized,
            explain.explain_forward,
            answer=False,
        ),
        Stage(
            "dbeta",
            "The gradient of beta",
            stages.d_beta,
            explain.explain_d_beta,
            mistakes=stages.DBETA_MISTAKES,
        ),
        Stage(
            "dgamma",
            "The gradient of gamma",
            stages.d_gamma,
            explain.explain_d_gamma,
            mistakes=stages.DGAMMA_MISTAKES,
        ),
        Stage(
            "dx", "The gradient of the input", stages.d_x, explain.explain_d_x, mistakes=stages.DX_MISTAKES
        ),
    ),
    result="dx",
    examples={
        "basic": {"x": "1 2 3", "grad_output": "1 0 0", "eps": "0"},
        "tokens": {"x": "1 2 3; 2 0 4", "grad_output": "1 0 0; 0 1 -1", "gamma": "1 2 1", "eps": "0"},
    },
    example_notes={
        "basic": "one token (1, 2, 3) with dy = (1, 0, 0) and epsilon 0",
        "tokens": "two tokens with gamma: dgamma and dbeta sum over the tokens",
    },
    names=named.definitions,
    sample=_sample,
    reference=_reference,
)
