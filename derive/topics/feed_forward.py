"""The position-wise feed-forward network: FFN(x) = act(x W_1 + b_1) W_2 + b_2, one token at a time.

Activations are kept exact: GELU with ``erf``, GELU's tanh approximation with its constant 0.044715
as the rational 44715/1000000, and SwiGLU as Swish(x W_1 + b_1) ⊙ (x W_3) with Swish(z) = z/(1 + e^(-z))
(LLaMA's w1, w3 and w2). An omitted bias means the layer has none, so it is not counted as a parameter.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits, printing
from derive.blocks import eq, needs_approx, prose, same, unevaluated_sum
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic

X, W_1, W_2, W_3, B_1, B_2 = sp.symbols("x W_1 W_2 W_3 b_1 b_2", commutative=False)
h, z, N = sp.symbols("h z N")
d_model, d_ff = sp.symbols("d_model d_ff")
H, A, Y = sp.symbols("h a y")
FFN = sp.Function("FFN")
NAMES = {"relu": "ReLU", "gelu": "GELU", "gelu-tanh": "GELU_tanh", "swiglu": "Swish"}
TITLES = {
    "relu": "ReLU",
    "gelu": "GELU (exact, with erf)",
    "gelu-tanh": "GELU (tanh approximation)",
    "swiglu": "SwiGLU",
}
TANH_C = sp.Rational(44715, 1000000)
SHOWN_VALUES = 8  # worked activation lines before "and so on"
WIDE = 90  # characters: beyond this an exact matrix is shown only as decimals


# --- the exact activations ------------------------------------------------------------------------


def relu(value):
    return sp.Max(0, value)


def gelu(value):
    return value / 2 * (1 + sp.erf(value / sp.sqrt(2)))


def gelu_tanh(value):
    return value / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (value + TANH_C * value**3)))


def swish(value):
    return value / (1 + sp.exp(-value))


ACTIVATIONS = {"relu": relu, "gelu": gelu, "gelu-tanh": gelu_tanh, "swiglu": swish}


def _over(value, divisor):
    """``value/divisor`` as written, without a leading ``1⋅`` when value is 1."""
    with sp.evaluate(False):
        return sp.Pow(divisor, -1) if value == 1 else sp.Mul(value, sp.Pow(divisor, -1))


def _as_written(kind: str, value):
    """The activation's formula with ``value`` substituted and nothing evaluated."""
    negated = -value if value.is_number else sp.Mul(-1, value, evaluate=False)
    with sp.evaluate(False):
        if kind == "relu":
            return sp.Function("max")(0, value)
        half = _over(value, sp.Integer(2))
        if kind == "gelu":
            return sp.Mul(half, sp.Add(1, sp.erf(_over(value, sp.sqrt(2)))))
        if kind == "gelu-tanh":
            inner = sp.Add(value, sp.Mul(sp.Float("0.044715", 5), sp.Pow(value, 3)))
            return sp.Mul(half, sp.Add(1, sp.tanh(sp.Mul(sp.sqrt(sp.Mul(2, sp.Pow(sp.pi, -1))), inner))))
        return _over(value, sp.Add(1, sp.exp(negated)))


def _act_symbol(kind: str, argument):
    return sp.Function(NAMES[kind])(argument)


# --- the stages -----------------------------------------------------------------------------------


def _linear(m, weight, bias=None) -> sp.Matrix:
    """m W + b, with the bias row added to every row (no bias: none added)."""
    return m * weight + (sp.ones(m.rows, 1) * bias if bias is not None else sp.zeros(m.rows, weight.cols))


def _linear_written(m, weight, bias=None):
    """The same product with the matrices shown, e.g. [1 2]·[[1 0], [0 1]] + [0 1]."""
    with sp.evaluate(False):
        product = sp.MatMul(sp.ImmutableMatrix(m), sp.ImmutableMatrix(weight))
        if bias is None:
            return product
        return sp.MatAdd(product, sp.ImmutableMatrix(sp.ones(m.rows, 1) * bias))


def _parameters(v):
    d, f = v.W1.rows, v.W1.cols
    count = 2 * d * f + (f if v.b1 is not None else 0) + (d if v.b2 is not None else 0)
    return sp.Integer(count + (d * f if v.activation == "swiglu" else 0))


def _hidden(v):
    return _linear(v.x, v.W1, v.b1)


def _gate(v):
    return _linear(v.x, v.W3)


def _activated(v):
    act = v.hidden.applyfunc(ACTIVATIONS[v.activation])
    return act.multiply_elementwise(_gate(v)) if v.activation == "swiglu" else act


def _output(v):
    return _linear(v.activated, v.W2, v.b2)


def _relu_for_gelu(v):
    return v.hidden.applyfunc(relu) if v.activation in ("gelu", "gelu-tanh") else None


def _relu_for_gelu_output(v):
    act = _relu_for_gelu(v)
    return None if act is None else _linear(act, v.W2, v.b2)


def _no_gate(v):
    return v.hidden.applyfunc(swish) if v.activation == "swiglu" else None


def _no_bias_hidden(v):
    return v.x * v.W1 if v.b1 is not None and any(v.b1) else None


def _no_bias_output(v):
    return v.activated * v.W2 if v.b2 is not None and any(v.b2) else None


NO_BIAS_HINT = "Add the bias to every row after the matrix product."
RELU_HINT = (
    "This layer uses GELU, not ReLU: GELU(h) = h·Φ(h) is smooth and lets small negative values "
    "through (GELU(-1) ≈ -0.1587, not 0)."
)

# --- explanations ---------------------------------------------------------------------------------


def _approx(value):
    return value if needs_approx(value) else None


def _too_wide(value) -> bool:
    entries = [printing.plain(e) for e in value]
    return max(len(e) for e in entries) * value.cols > WIDE


def _matrix_eq(symbol, formula, value, *written):
    """``symbol = formula = written = value ≈ decimals``, dropping exact forms too wide to read."""
    if _too_wide(value):
        return eq(symbol, formula, approx=value)
    return eq(symbol, formula, *written, value, approx=_approx(value))


def _original_count():
    with sp.evaluate(False):
        products = [sp.Mul(512, 2048), sp.Integer(2048), sp.Mul(2048, 512), sp.Integer(512)]
    return unevaluated_sum(products)


def _explain_parameters(v):
    d, f = v.W1.rows, v.W1.cols
    counts = [(W_1, d * f)]
    if v.activation == "swiglu":
        counts.append((W_3, d * f))
    if v.b1 is not None:
        counts.append((B_1, f))
    counts.append((W_2, f * d))
    if v.b2 is not None:
        counts.append((B_2, d))
    ratio = sp.Rational(f, d)
    blocks = [
        prose(
            "The network widens each token from {dm} to {dff} features and narrows it back. Its "
            "parameters: {w1} is {d}×{f}, {w2} is {f}×{d}"
            + (", {w3} (the gate) is {d}×{f}" if v.activation == "swiglu" else "")
            + (", {b1} has {f} entries" if v.b1 is not None else "")
            + (", {b2} has {d} entries" if v.b2 is not None else "")
            + ":",
            dm=same(d_model, d),
            dff=same(d_ff, f),
            w1=W_1,
            w2=W_2,
            w3=W_3,
            b1=B_1,
            b2=B_2,
            d=d,
            f=f,
        ),
        eq(N, unevaluated_sum([c for _, c in counts]), v.parameters),
        prose(
            "Here {ratio}. The original transformer used {orig} ({big} and {bigf}), as do BERT and GPT-2: "
            "the wide middle layer gives room for many features that the activation switches on and off "
            "per token. Per layer, that FFN has about twice the {attn} parameters of the attention:",
            ratio=same(d_ff / d_model, ratio),
            orig=same(d_ff, 4 * d_model),
            big=same(d_model, 512),
            bigf=same(d_ff, 2048),
            attn=sp.Integer(4 * 512 * 512 + 4 * 512),
        ),
        eq(N, _original_count(), sp.Integer(2 * 512 * 2048 + 2048 + 512)),
    ]
    if v.activation == "swiglu":
        blocks.append(
            prose(
                "SwiGLU needs a third matrix, so LLaMA shrinks the middle to about {third} of {dm} "
                "(11008 for 4096) to keep the parameter count of a two-matrix FFN with {four}.",
                third=sp.Rational(8, 3),
                dm=d_model,
                four=same(d_ff, 4 * d_model),
            )
        )
    return tuple(blocks)


def _explain_hidden(v):
    bias = v.b1 is not None
    general = sp.Add(X * W_1, B_1, evaluate=False) if bias else X * W_1
    with sp.evaluate(False):
        terms = [sp.Mul(a, b) for a, b in zip(v.x.row(0), v.W1.col(0))]
    first = unevaluated_sum(terms + ([v.b1[0]] if bias else []))
    return (
        prose(
            "Multiply each token's row by {w1}"
            + (" and add {b1} to every row" if bias else "")
            + ". Entry ({i}, {j}) is row {i} of {x} dotted with column {j} of {w1}"
            + (", plus entry {j} of {b1}" if bias else "")
            + "; for example",
            w1=W_1,
            b1=B_1,
            i=sp.Symbol("i"),
            j=sp.Symbol("j"),
            x=X,
        ),
        eq(sp.Symbol("h_11"), first, v.hidden[0, 0]),
        _matrix_eq(H, general, v.hidden, _linear_written(v.x, v.W1, v.b1)),
    )


def _value_lines(v, values):
    """One worked line per distinct value, e.g. GELU(1) = 1/2·(1 + erf(1/√2)) = ... ≈ 0.8413."""
    distinct = sorted(set(values), key=lambda e: sp.N(e, 30))
    lines = []
    for value in distinct[:SHOWN_VALUES]:
        result = ACTIVATIONS[v.activation](value)
        parts = [_act_symbol(v.activation, value), _as_written(v.activation, value)]
        if str(result) != str(parts[-1]):
            parts.append(result)
        lines.append(eq(*parts, approx=_approx(result)))
    if len(distinct) > SHOWN_VALUES:
        lines.append(prose("and likewise for the other {k} values.", k=len(distinct) - SHOWN_VALUES))
    return lines


def _activation_intro(kind):
    """What the activation does, and its formula."""
    if kind == "relu":
        text = (
            "ReLU keeps positive entries and sets negative ones to 0: those hidden units are switched off "
            "for this token. This is the original transformer's activation."
        )
        return prose(text), eq(_act_symbol(kind, h), _as_written(kind, h))
    if kind == "gelu":
        text = (
            "GELU weights each entry by the probability {phi} that a standard normal variable lies below it, "
            "written with the error function. Unlike ReLU it is smooth and lets small negative values "
            "through (its minimum is about -0.17, near {min}). BERT and GPT use it."
        )
        phi = sp.Function("Phi")(h)
        return (
            prose(text, phi=phi, min=same(h, sp.Float("-0.75", 2))),
            eq(_act_symbol(kind, h), h * phi, _as_written(kind, h)),
        )
    if kind == "gelu-tanh":
        text = (
            "GPT-2 uses a tanh approximation of GELU, which was cheaper than erf on the hardware of the "
            "time. It never differs from the exact GELU by more than 0.0005:"
        )
        return prose(text), eq(_act_symbol(kind, h), _as_written(kind, h))
    text = (
        "SwiGLU multiplies Swish of the first projection, element by element, by a second projection "
        "{gate}: the gate decides how much of each hidden unit passes. Swish is {swish}, with {sigma} the "
        "logistic sigmoid:"
    )
    sigma = sp.Function("sigma")(z)
    return (
        prose(text, gate=X * W_3, swish=same(_act_symbol(kind, z), z * sigma), sigma=sigma),
        eq(_act_symbol(kind, z), _as_written(kind, z)),
    )


def _explain_activated(v):
    kind = v.activation
    blocks = list(_activation_intro(kind))
    if kind != "relu":
        blocks.append(prose("With the numbers of h:" if kind != "swiglu" else "Swish of each entry of h:"))
        blocks += _value_lines(v, list(v.hidden))
    if kind != "swiglu":
        blocks.append(_matrix_eq(A, _act_symbol(kind, H), v.activated))
    else:
        rule = sp.Mul(sp.Function("Swish")(sp.Symbol("h_ij")), sp.Symbol("g_ij"), evaluate=False)
        blocks += [
            prose("The gate projection, without a bias:"),
            _matrix_eq(sp.Symbol("g"), X * W_3, _gate(v), _linear_written(v.x, v.W3)),
            prose("Multiply entry by entry, {rule}:", rule=same(sp.Symbol("a_ij"), rule)),
            eq(A, v.activated, approx=_approx(v.activated)),
        ]
    if kind == "gelu-tanh":
        blocks += [
            prose("For comparison, the exact GELU of the same entries:"),
            eq(_act_symbol("gelu", H), approx=v.hidden.applyfunc(gelu)),
        ]
    return tuple(blocks)


def _explain_output(v):
    bias = v.b2 is not None
    general = sp.Add(A * W_2, B_2, evaluate=False) if bias else A * W_2
    shown = [] if _too_wide(v.activated) else [_linear_written(v.activated, v.W2, v.b2)]
    return (
        prose(
            "Project back to {dm} features with {w2}"
            + (" and add {b2}" if bias else "")
            + ". The result has the shape of {x}, ready for the residual connection {res}:",
            dm=same(d_model, v.W2.cols),
            x=X,
            res=sp.Add(X, FFN(X), evaluate=False),
            w2=W_2,
            b2=B_2,
        ),
        _matrix_eq(FFN(X), general, v.output, *shown),
        prose(
            "Each token went through the same two maps on its own: the FFN mixes features within a "
            "token, while attention mixes information between tokens."
        ),
    )


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
    act = _act_symbol(kind, sp.Add(X * W_1, B_1, evaluate=False) if b1 is not None else X * W_1)
    if kind == "swiglu":
        act = sp.Function("SwiGLU")(X)
    formula = sp.Add(act * W_2, B_2, evaluate=False) if b2 is not None else act * W_2
    intro = (
        prose(
            "After attention, every token passes on its own through the same small two-layer network: "
            "a linear map up to {dff} features, a nonlinearity, and a linear map back to {dm0}. The "
            "input has {n} of {dm} features, and the activation is {act}:",
            dff=d_ff,
            dm0=d_model,
            n="one token" if x.rows == 1 else f"{x.rows} tokens",
            dm=same(d_model, x.cols),
            act=TITLES[kind],
        ),
        eq(X, x),
        eq(FFN(X), formula),
    )
    if kind == "swiglu":
        swiglu = sp.Function("Swish")(sp.Add(X * W_1, B_1, evaluate=False) if b1 is not None else X * W_1)
        intro += (
            prose(
                "where SwiGLU multiplies {s} entry by entry with the gate {g}.",
                s=swiglu,
                g=X * W_3,
            ),
        )
    values = {"x": x, "W1": w1, "b1": b1, "W2": w2, "b2": b2, "W3": w3, "activation": kind}
    return Givens("Position-wise feed-forward network", values, intro, params)


def _sample(rng):
    n, d, f = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 6))
    kind = str(rng.choice(list(ACTIVATIONS)))

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
    import numpy as np

    from derive import forward

    def floats(matrix):
        return None if matrix is None else np.array(matrix.evalf(30).tolist(), dtype=float)

    def vector(matrix):
        return None if matrix is None else floats(matrix)[0]

    x, w1, w2, w3 = (floats(options[k]) for k in ("x", "w1", "w2", "w3"))
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
            inputs.vector_or_matrix,
            required=True,
        ),
        Option("w1", "W_1, d_model × d_ff (d_ff is 4·d_model in the original)", inputs.matrix, required=True),
        Option("b1", "b_1, d_ff entries (default: no bias)", inputs.vector),
        Option("w2", "W_2, d_ff × d_model", inputs.matrix, required=True),
        Option("b2", "b_2, d_model entries (default: no bias)", inputs.vector),
        Option(
            "activation",
            "relu, gelu (exact, with erf), gelu-tanh or swiglu",
            inputs.choice("relu", "gelu", "gelu-tanh", "swiglu"),
            default="relu",
        ),
        Option("w3", "W_3, SwiGLU's gate projection, shaped like W_1 (swiglu only)", inputs.matrix),
    ),
    prepare=_prepare,
    stages=(
        Stage("parameters", "Shapes and parameter count", _parameters, _explain_parameters),
        Stage(
            "hidden",
            "Expand: the first linear map",
            _hidden,
            _explain_hidden,
            mistakes=(Mistake("no-bias", NO_BIAS_HINT, _no_bias_hidden),),
        ),
        Stage(
            "activated",
            "The activation",
            _activated,
            _explain_activated,
            mistakes=(
                Mistake("relu-for-gelu", RELU_HINT, _relu_for_gelu),
                Mistake(
                    "no-gate", "SwiGLU multiplies Swish(x W_1) entry by entry by the gate x W_3.", _no_gate
                ),
            ),
        ),
        Stage(
            "output",
            "Contract: the second linear map",
            _output,
            _explain_output,
            mistakes=(
                Mistake("relu-for-gelu", RELU_HINT, _relu_for_gelu_output),
                Mistake("no-bias", NO_BIAS_HINT, _no_bias_output),
            ),
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
