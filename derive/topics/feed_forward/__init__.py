"""The position-wise feed-forward network: FFN(x) = act(x W_1 + b_1) W_2 + b_2, one token at a time.

Activations are kept exact: GELU with ``erf``, GELU's tanh approximation with its constant 0.044715
as the rational 44715/1000000, and SwiGLU as Swish(x W_1 + b_1) ⊙ (x W_3) with Swish(z) = z/(1 + e^(-z))
(LLaMA's w1, w3 and w2). An omitted bias means the layer has none, so it is not counted as a parameter.
"""

from __future__ import annotations

from derive import inputs, limits
from derive.errors import InputError
from derive.exact.precision import floats
from derive.model import Givens, Option, Stage, Topic
from derive.topics.feed_forward import explain, stages

# --- inputs ---------------------------------------------------------------------------------------


def _check_bias(bias, option, width, what):
    if bias is not None and bias.cols != width:
        raise InputError(option, f"has {bias.cols} entries but {what} has {width}; give one per column")


def _prepare(options) -> Givens:
    x, w1, b1, w2, b2, w3 = (options[k] for k in ("x", "w1", "b1", "w2", "b2", "w3"))
    kind = options["activation"]
    limits.check_shape("--x", x)
    for name in ("w1", "w2", "w3"):
        if options[name] is not None:
            limits.check_shape("--" + name, options[name], rows=limits.MAX_DIM, cols=limits.MAX_DIM)
    if w1.rows != x.cols:
        raise InputError("--w1", f"W_1 has {w1.rows} rows but x has {x.cols} columns; x W_1 needs them equal")
    _check_bias(b1, "--b1", w1.cols, "W_1 (d_ff columns)")
    if w2.rows != w1.cols:
        raise InputError(
            "--w2", f"W_2 has {w2.rows} rows but W_1 has {w1.cols} columns (d_ff); they must be equal"
        )
    if w2.cols != x.cols:
        raise InputError(
            "--w2",
            f"W_2 has {w2.cols} columns but x has {x.cols}; the FFN must map back to d_model for the "
            "residual connection",
        )
    _check_bias(b2, "--b2", w2.cols, "W_2 (d_model columns)")
    if kind == "swiglu":
        if w3 is None:
            raise InputError("--w3", "is required with --activation swiglu (the gate projection)")
        if w3.shape != w1.shape:
            raise InputError(
                "--w3", f"W_3 is {w3.rows}×{w3.cols} but must have the shape of W_1, {w1.rows}×{w1.cols}"
            )
    elif w3 is not None:
        raise InputError("--w3", "is only used with --activation swiglu")
    params = {"activation": kind}
    for name in ("x", "w1", "b1", "w2", "b2", "w3"):
        value = options[name]
        if value is not None:
            params[name] = [[str(e) for e in row] for row in value.tolist()]
    values = {"x": x, "W1": w1, "b1": b1, "W2": w2, "b2": b2, "W3": w3, "activation": kind}
    return Givens("Position-wise feed-forward network", values, explain.intro(values), params)


def _sample(rng):
    n, d, f = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 6))
    kind = str(rng.choice(list(stages.ACTIVATIONS)))

    def matrix(rows, cols):
        return "; ".join(" ".join(str(int(e)) for e in rng.integers(-2, 3, cols)) for _ in range(rows))

    raw = {"x": matrix(n, d), "w1": matrix(d, f), "w2": matrix(f, d), "activation": kind}
    if rng.random() < 0.5:
        raw["b1"] = " ".join(str(rng.choice(["0", "1", "-1", "1/2"])) for _ in range(f))
    if rng.random() < 0.5:
        raw["b2"] = matrix(1, d)
    if kind == "swiglu":
        raw["w3"] = matrix(d, f)
    return raw


def _reference(options):
    from derive import forward

    def matrix(value):
        return None if value is None else floats(value)

    def vector(value):
        return None if value is None else floats(value)[0]

    x, w1, w2, w3 = (matrix(options[k]) for k in ("x", "w1", "w2", "w3"))
    b1, b2 = vector(options["b1"]), vector(options["b2"])
    kind = options["activation"]
    trace: dict = {}
    if kind == "swiglu":
        # forward.FeedForward gates with W_gate (LLaMA's w1, our W_1) and carries W_1 (our W_3) as the "up".
        out = forward.FeedForward(w3, None, w2, b2, "swiglu", W_gate=w1, b_gate=b1)(x, trace)
        hidden = trace["gate"]
    else:
        out = forward.FeedForward(w1, b1, w2, b2, kind.replace("-", "_"))(x, trace)
        hidden = trace["hidden"]
    d, f = w1.shape
    count = (
        2 * d * f
        + (f if b1 is not None else 0)
        + (d if b2 is not None else 0)
        + (d * f if w3 is not None else 0)
    )
    return {"parameters": float(count), "hidden": hidden, "activated": trace["act"], "output": out}


TOPIC = Topic(
    name="feed-forward",
    summary="The position-wise FFN act(x W1 + b1) W2 + b2 with ReLU, GELU (exact or tanh) or SwiGLU",
    options=(
        Option(
            "x",
            "the tokens as rows, d_model columns: '1 -1' or '1 0; 0 2'",
            inputs.symbolic(inputs.vector_or_matrix),
            required=True,
            sets_answer_shape=True,
        ),
        Option(
            "w1",
            "W_1, d_model × d_ff (d_ff is 4·d_model in the original)",
            inputs.symbolic(inputs.matrix),
            required=True,
        ),
        Option("b1", "b_1, d_ff entries (default: no bias)", inputs.symbolic(inputs.vector)),
        Option("w2", "W_2, d_ff × d_model", inputs.symbolic(inputs.matrix), required=True),
        Option("b2", "b_2, d_model entries (default: no bias)", inputs.symbolic(inputs.vector)),
        Option(
            "activation",
            "relu, gelu (exact, with erf), gelu-tanh or swiglu",
            inputs.choice("relu", "gelu", "gelu-tanh", "swiglu"),
            default="relu",
        ),
        Option(
            "w3",
            "W_3, SwiGLU's gate projection, shaped like W_1 (swiglu only)",
            inputs.symbolic(inputs.matrix),
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage("parameters", "Shapes and parameter count", stages.parameters, explain.explain_parameters),
        Stage(
            "hidden",
            "Expand: the first linear map",
            stages.hidden,
            explain.explain_hidden,
            mistakes=stages.HIDDEN_MISTAKES,
        ),
        Stage(
            "activated",
            "The activation",
            stages.activated,
            explain.explain_activated,
            mistakes=stages.ACTIVATED_MISTAKES,
        ),
        Stage(
            "output",
            "Contract: the second linear map",
            stages.output,
            explain.explain_output,
            mistakes=stages.OUTPUT_MISTAKES,
        ),
    ),
    result="output",
    examples={
        "relu": {
            "x": "1 -1; 2 0",
            "w1": "1 0 -1 2 0 1 1 -1; 0 1 1 1 -1 0 2 1",
            "b1": "0 0 1 -1 0 1 0 0",
            "w2": "1 0; 0 1; 1 1; 0 -1; 1 0; 0 0; -1 1; 1 0",
            "b2": "1 0",
        },
        "gelu": {"x": "1 -1", "w1": "1 0 1 2; 0 1 1 1", "w2": "1 0; 0 1; 1 0; 0 1", "activation": "gelu"},
        "gelu-tanh": {
            "x": "1 -1",
            "w1": "1 0 1 2; 0 1 1 1",
            "w2": "1 0; 0 1; 1 0; 0 1",
            "activation": "gelu-tanh",
        },
        "swiglu": {
            "x": "1 2",
            "w1": "1 0 2; 0 1 1",
            "w3": "1 0 1; 0 1 -1",
            "w2": "1 0; 0 1; 1 1",
            "activation": "swiglu",
        },
    },
    example_notes={
        "relu": "the original FFN: d_model 2 expanded 4x to d_ff 8, with ReLU",
        "gelu": "exact GELU with erf on one token",
        "gelu-tanh": "the same token with GPT-2's tanh approximation",
        "swiglu": "LLaMA's gated SwiGLU with three matrices",
    },
    sample=_sample,
    reference=_reference,
)
