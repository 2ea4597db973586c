"""The backward pass of scaled dot-product attention: the forward pass, then every gradient by the
chain rule, from the gradient dO = ∂L/∂O that the next layer sends back.

``scores`` are the scaled scores S = Q Kᵀ / √d_k, the softmax's input, so ``dscores`` is ∂L/∂S and the
1/√d_k appears once more in dQ and dK. Tokens are rows, as in the forward topics.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.attention_backward import explain, named, stages

MAX_TOKENS = 6  # an n × n gradient of exact sums stays readable up to about this


def _prepare(options) -> Givens:
    q, k, v, grad = (options[name] for name in ("q", "k", "v", "grad_output"))
    for name in ("q", "k", "v", "grad_output"):
        limits.check_shape("--" + name.replace("_", "-"), options[name], rows=MAX_TOKENS)
    if k.cols != q.cols:
        raise InputError(
            "--k", f"K has {k.cols} columns but Q has {q.cols}; queries and keys need the same width d_k"
        )
    if k.rows != q.rows:
        raise InputError(
            "--k", f"K has {k.rows} rows but Q has {q.rows}; give one row per token (self-attention)"
        )
    if v.rows != k.rows:
        raise InputError("--v", f"V has {v.rows} rows but K has {k.rows}; every key needs one value row")
    if grad.shape != (q.rows, v.cols):
        raise InputError(
            "--grad-output",
            f"is {grad.rows}×{grad.cols} but the output O is {q.rows}×{v.cols}; dO has the shape of O",
        )
    if q.free_symbols or k.free_symbols:
        named.refuse_clashes(options, q.rows)
    values = {
        "Q": q,
        "K": k,
        "V": v,
        "dO": grad,
        "d_k": sp.Integer(q.cols),
        "n": q.rows,
        "causal": options["mask"] == "causal",
    }
    params = {
        name: [[str(e) for e in row] for row in options[name].tolist()]
        for name in ("q", "k", "v", "grad_output")
    }
    params["mask"] = options["mask"]
    return Givens("The backward pass of attention", values, explain.intro(values), params)


def _random_matrix(rng, rows, cols):
    return "; ".join(" ".join(str(int(e)) for e in rng.integers(-2, 3, cols)) for _ in range(rows))


def _sample(rng):
    n, d_k, d_v = int(rng.integers(2, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
    return {
        "q": _random_matrix(rng, n, d_k),
        "k": _random_matrix(rng, n, d_k),
        "v": _random_matrix(rng, n, d_v),
        "grad_output": _random_matrix(rng, n, d_v),
        "mask": str(rng.choice(["none", "causal"])),
    }


def _reference(options):
    from derive import forward
    from derive.exact.precision import floats
    from derive.forward import gradients

    q, k, v, grad = (floats(options[name]) for name in ("q", "k", "v", "grad_output"))
    d_k = q.shape[1]
    mask = forward.causal_mask(q.shape[0]) if options["mask"] == "causal" else None
    output, weights = forward.scaled_dot_product_attention(q, k, v, mask)  # (T, d_v), (T, T)
    d_weights = gradients.weights_gradient(grad, v)  # (T, T)
    d_scores = gradients.softmax_backward(weights, d_weights)  # (T, T)
    return {
        "scores": q @ k.T / d_k**0.5,
        "weights": weights,
        "output": output,
        "dV": gradients.value_gradient(weights, grad),
        "dweights": d_weights,
        "dscores": d_scores,
        "dQ": gradients.query_gradient(d_scores, k, d_k),
        "dK": gradients.key_gradient(d_scores, q, d_k),
    }


BASIC = {"q": "2 0 0 0; 0 2 2 0", "k": "1 1 0 0; 0 0 1 1", "v": "1 0; 0 1", "grad_output": "1 -1; 0 1"}

TOPIC = Topic(
    name="attention-backward",
    summary="Backpropagation through attention: dV, dweights, dscores (softmax backward), dQ and dK",
    options=(
        Option(
            "q", "queries Q, one row per token: '1 0; 0 1'", inputs.symbolic(inputs.matrix), required=True
        ),
        Option("k", "keys K, one row per token", inputs.symbolic(inputs.matrix), required=True),
        Option("v", "values V, one row per token", inputs.symbolic(inputs.matrix), required=True),
        Option(
            "grad_output",
            "dO = dL/dO, the gradient of the loss at the output (the shape of O)",
            inputs.symbolic(inputs.matrix),
            required=True,
        ),
        Option(
            "mask",
            "none, or causal: each token attends only to itself and earlier tokens",
            inputs.choice("none", "causal"),
            default="none",
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage("scores", "Forward: the scaled scores", stages.scores, explain.explain_scores),
        Stage(
            "weights",
            "Forward: the attention weights",
            stages.weights,
            explain.explain_weights,
            distribution=True,
        ),
        Stage("output", "Forward: the output", stages.output, explain.explain_output),
        Stage(
            "dV",
            "Backward: the gradient of the values",
            stages.d_values,
            explain.explain_d_values,
            mistakes=stages.DV_MISTAKES,
        ),
        Stage(
            "dweights",
            "Backward: the gradient of the weights",
            stages.d_weights,
            explain.explain_d_weights,
            mistakes=stages.DWEIGHTS_MISTAKES,
        ),
        Stage(
            "dscores",
            "Backward through the softmax",
            stages.d_scores,
            explain.explain_d_scores,
            mistakes=stages.DSCORES_MISTAKES,
        ),
        Stage(
            "dQ",
            "Backward: the gradient of the queries",
            stages.d_queries,
            explain.explain_d_queries,
            mistakes=stages.DQ_MISTAKES,
        ),
        Stage(
            "dK",
            "Backward: the gradient of the keys",
            stages.d_keys,
            explain.explain_d_keys,
            mistakes=stages.DK_MISTAKES,
        ),
    ),
    result="dQ",
    examples={"basic": BASIC, "causal": {**BASIC, "mask": "causal"}},
    example_notes={
        "basic": "two tokens, d_k = 4 (so sqrt(d_k) = 2), d_v = 2",
        "causal": "the same under a causal mask: masked scores get no gradient",
    },
    names=named.definitions,
    sample=_sample,
    reference=_reference,
)
