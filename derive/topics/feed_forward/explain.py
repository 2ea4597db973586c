"""The feed-forward topic's explanations: the formulas with the numbers substituted, and the counts.

An exact matrix whose entries would not fit ``WIDE`` characters is shown only as
decimals, and only the first ``SHOWN_VALUES`` distinct activation values are worked out one by one.
"""

from __future__ import annotations

import itertools

import sympy as sp

from derive import printing
from derive.blocks import eq, needs_approx, prose, rounded, same, unevaluated_sum
from derive.exact.activations import gelu
from derive.topics.feed_forward.stages import ACTIVATIONS, gate

X, W_1, W_2, W_3, B_1, B_2 = sp.symbols("x W_1 W_2 W_3 b_1 b_2", commutative=False)
h, z, N = sp.symbols("h z N")
d_model, d_ff = sp.symbols("d_model d_ff")
H = sp.Symbol("h")
FFN = sp.Function("FFN")
NAMES = {"relu": "ReLU", "gelu": "GELU", "gelu-tanh": "GELU_tanh", "swiglu": "Swish"}
TITLES = {
    "relu": "ReLU",
    "gelu": "GELU (exact, with erf)",
    "gelu-tanh": "GELU (tanh approximation)",
    "swiglu": "SwiGLU",
}
SHOWN_VALUES = 8  # worked activation lines before "and so on"
WIDE = 90  # characters: beyond this an exact matrix is shown only as decimals


def _over(value, divisor):
    """``value/divisor`` as written, without a leading ``1⋅`` when value is 1."""
    inverse = sp.Pow(divisor, -1, evaluate=False)
    return inverse if value == 1 else sp.Mul(value, inverse, evaluate=False)


def _as_written(kind: str, value):
    """The activation's formula with ``value`` substituted and nothing evaluated."""
    negated = -value if value.is_number else sp.Mul(-1, value, evaluate=False)
    if kind == "relu":
        return sp.Function("max")(0, value, evaluate=False)
    half = _over(value, sp.Integer(2))
    if kind == "gelu":
        erf = sp.erf(_over(value, sp.sqrt(2, evaluate=False)), evaluate=False)
        return sp.Mul(half, sp.Add(1, erf, evaluate=False), evaluate=False)
    if kind == "gelu-tanh":
        cube = sp.Mul(sp.Float("0.044715", 5), sp.Pow(value, 3, evaluate=False), evaluate=False)
        inner = sp.Add(value, cube, evaluate=False)
        scale = sp.sqrt(sp.Mul(2, sp.Pow(sp.pi, -1, evaluate=False), evaluate=False), evaluate=False)
        tanh = sp.tanh(sp.Mul(scale, inner, evaluate=False), evaluate=False)
        return sp.Mul(half, sp.Add(1, tanh, evaluate=False), evaluate=False)
    return _over(value, sp.Add(1, sp.exp(negated, evaluate=False), evaluate=False))


def _act_symbol(kind: str, argument):
    return sp.Function(NAMES[kind])(argument)


def linear_written(m, weight, bias=None):
    """The same product with the matrices shown, e.g. [1 2]·[[1 0], [0 1]] + [0 1]: the bias row
    repeated for every token, as broadcasting adds it (built evaluated, else letters print 1⋅b₁)."""
    broadcast = None if bias is None else sp.ImmutableMatrix.vstack(*[bias] * m.rows)
    product = sp.MatMul(sp.ImmutableMatrix(m), sp.ImmutableMatrix(weight), evaluate=False)
    return product if broadcast is None else sp.MatAdd(product, broadcast, evaluate=False)


def intro(values) -> tuple:
    """The network's formula for the chosen activation, and the input."""
    x, b1, b2, kind = values["x"], values["b1"], values["b2"], values["activation"]
    act = _act_symbol(kind, sp.Add(X * W_1, B_1, evaluate=False) if b1 is not None else X * W_1)
    if kind == "swiglu":
        act = sp.Function("SwiGLU")(X)
    formula = sp.Add(act * W_2, B_2, evaluate=False) if b2 is not None else act * W_2
    blocks = (
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
        blocks += (
            prose(
                "where SwiGLU multiplies {s} entry by entry with the gate {g}.",
                s=swiglu,
                g=X * W_3,
            ),
        )
    return blocks


def _approx(value):
    return value if needs_approx(value) else None


def _too_wide(value) -> bool:
    entries = [printing.plain(e) for e in value]
    return max(len(e) for e in entries) * value.cols > WIDE


def _matrix_eq(symbol, formula, value, *written):
    """``symbol = formula = written = value ≈ decimals``, dropping exact forms too wide to read."""
    if _too_wide(value) and not value.free_symbols:  # letters have no decimals to fall back on
        return eq(symbol, formula, approx=value)
    return eq(symbol, formula, *written, value, approx=_approx(value))


def _original_count():
    products = [
        sp.Mul(512, 2048, evaluate=False),
        sp.Integer(2048),
        sp.Mul(2048, 512, evaluate=False),
        sp.Integer(512),
    ]
    return unevaluated_sum(products)


def explain_parameters(v):
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


def explain_hidden(v):
    bias = v.b1 is not None
    general = sp.Add(X * W_1, B_1, evaluate=False) if bias else X * W_1
    terms = [sp.Mul(a, b, evaluate=False) for a, b in zip(v.x.row(0), v.W1.col(0))]
    first = unevaluated_sum(terms + ([v.b1[0]] if bias else []))
    value = v.hidden[0, 0]
    # With letters throughout nothing is worked out: the value would repeat the sum reordered.
    worked = () if set(sp.Add.make_args(value)) == {t.doit() for t in sp.Add.make_args(first)} else (value,)
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
        eq(sp.Symbol("h_11"), first, *worked),
        _matrix_eq(H, general, v.hidden, linear_written(v.x, v.W1, v.b1)),
    )


def _value_lines(v, values):
    """One worked line per distinct value, e.g. GELU(1) = 1/2·(1 + erf(1/√2)) = ... ≈ 0.8413."""
    letters = any(sp.sympify(e).free_symbols for e in values)
    distinct = sorted(set(values), key=sp.default_sort_key if letters else lambda e: sp.N(e, 30))
    lines = []
    for value in distinct[:SHOWN_VALUES]:
        result = ACTIVATIONS[v.activation](value)
        parts = [_act_symbol(v.activation, value), _as_written(v.activation, value)]
        if str(result) != str(parts[-1]) and not sp.sympify(value).free_symbols:  # letters: only reordered
            parts.append(result)
        lines.append(eq(*parts, approx=_approx(result)))
    if len(distinct) > SHOWN_VALUES:
        lines.append(prose("and likewise for the other {k} values.", k=len(distinct) - SHOWN_VALUES))
    return lines


def _gelu_minimum():
    """Where GELU is lowest, and its value there: the root of its derivative, to 30 digits."""
    at = sp.nsolve(sp.diff(gelu(h), h), h, -0.75, prec=30)
    return at, gelu(h).subs(h, at)


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
            "through (its minimum is about {low}, at {h} ≈ {at}). BERT and GPT use it."
        )
        phi = sp.Function("Phi")(h)
        at, low = _gelu_minimum()
        return (
            prose(text, phi=phi, h=h, at=rounded(at), low=rounded(low)),
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


def _activated(v) -> sp.Symbol:
    """The name of the activated matrix: ``a``, unless the inputs already use that letter."""
    taken = {s.name for m in (v.activated, v.W2, v.b2) if m is not None for s in m.free_symbols}
    names = itertools.chain(["a", "u", "r"], (f"a_{k}" for k in itertools.count(1)))
    return sp.Symbol(next(name for name in names if name not in taken))


def explain_activated(v):
    kind, A = v.activation, _activated(v)
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
            _matrix_eq(sp.Symbol("g"), X * W_3, gate(v), linear_written(v.x, v.W3)),
            prose("Multiply entry by entry, {rule}:", rule=same(sp.Symbol("a_ij"), rule)),
            eq(A, v.activated, approx=_approx(v.activated)),
        ]
    if kind == "gelu-tanh" and not v.hidden.free_symbols:  # letters have no decimals to compare
        blocks += [
            prose("For comparison, the exact GELU of the same entries:"),
            eq(_act_symbol("gelu", H), approx=gelu(v.hidden)),
        ]
    return tuple(blocks)


def explain_output(v):
    bias = v.b2 is not None
    A = _activated(v)
    general = sp.Add(A * W_2, B_2, evaluate=False) if bias else A * W_2
    shown = [] if _too_wide(v.activated) else [linear_written(v.activated, v.W2, v.b2)]
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
