"""The residual topic's explanations: the sublayer, the sum, and why the shortcut helps gradients."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, needs_approx, prose, same

X, W, B = sp.symbols("x W b", commutative=False)  # keeps the product x W in reading order
Y, IDENTITY, J, J_F = sp.symbols("y I J J_F")
F = sp.Function("F")
F_X = F(X)
d_model = sp.Symbol("d_model")
LAYER_NORM = sp.Function("LN")


def _approx(value):
    return value if needs_approx(value) else None


def explain_sublayer(v):
    shape = f"{v.x.rows}×{v.x.cols}"
    if v.F_given is not None:
        return (
            prose(
                "The sublayer's output is given. In a transformer F is the self-attention or the "
                "feed-forward network of the block; what matters here is only that it returns one "
                "row per token, with the same {shape} shape as {x}:",
                shape=shape,
                x=X,
            ),
            eq(F_X, v.sublayer, approx=_approx(v.sublayer)),
        )
    product = sp.MatMul(sp.ImmutableMatrix(v.x), sp.ImmutableMatrix(v.W), evaluate=False)
    rows = sp.ImmutableMatrix(sp.ones(v.x.rows, 1) * v.b) if v.b is not None else None
    written = sp.MatAdd(product, rows, evaluate=False) if rows is not None else product
    general = sp.Add(X * W, B, evaluate=False) if v.b is not None else X * W
    blocks = [
        prose(
            "Here the sublayer is a linear map (in a transformer it would be self-attention or the "
            "feed-forward network). {w} is {d}×{d}, so {f} keeps the {shape} shape of {x}"
            + (", and the bias {b} is added to every row:" if v.b is not None else ":"),
            w=W,
            d=v.x.cols,
            f=F_X,
            shape=shape,
            x=X,
            b=B,
        ),
        eq(F_X, general, written, v.sublayer, approx=_approx(v.sublayer)),
    ]
    return tuple(blocks)


def explain_output(v):
    written = sp.MatAdd(sp.ImmutableMatrix(v.x), sp.ImmutableMatrix(v.sublayer), evaluate=False)
    return (
        prose(
            "Add the sublayer's output to its input, entry by entry. The sublayer therefore only has to "
            "learn a correction to {x}, not a whole new representation:",
            x=X,
        ),
        eq(Y, X + F_X, written, v.output, approx=_approx(v.output)),
        prose(
            "The sum needs {f} to have exactly the shape of {x}. This is why every sublayer of a "
            "transformer maps {d} features back to {d}: the residual stream keeps one width through "
            "the whole stack.",
            d=d_model,
            f=F_X,
            x=X,
        ),
    )


def explain_gradient(v):
    blocks = [
        prose(
            "Differentiating {y} gives the Jacobian {jac}, where {jf} is the "
            "sublayer's own Jacobian. The identity term passes the "
            "gradient from {yy} straight back to {x}, however small the sublayer's own derivative is. "
            "Through L stacked blocks the gradient is a product of L such factors, which always "
            "contains the plain identity path; without the shortcuts it would be a product of the "
            "sublayers' derivatives alone, which can shrink or grow exponentially with depth.",
            y=same(Y, X + F_X),
            jac=same(J, IDENTITY + J_F),
            jf=J_F,
            yy=Y,
            x=X,
        )
    ]
    if v.W is not None:
        written = sp.MatAdd(sp.ImmutableMatrix(sp.eye(v.x.cols)), sp.ImmutableMatrix(v.W), evaluate=False)
        blocks += [
            prose(
                "For this linear sublayer the derivative of every token's output with respect to its "
                "input (rows: inputs, columns: outputs, laid out like {w}) is {jac}:",
                jac=same(J, IDENTITY + W),
                w=W,
            ),
            eq(J, written, v.gradient),
        ]
    blocks.append(
        prose(
            "At initialisation the sublayer's weights are small, so {f} is close to 0 and each block "
            "starts close to the identity. A deep network therefore starts out behaving like a shallow "
            "one and learns corrections layer by layer.",
            f=F_X,
        )
    )
    change = None if v.sublayer.free_symbols else abs(max(v.sublayer, key=lambda e: abs(sp.N(e, 30))))
    if change is not None and sp.N(change, 30) <= 0.1:
        blocks.append(
            prose(
                "That is the situation here: no entry of {y} differs from {x} by more than {m}.",
                m=change,
                y=Y,
                x=X,
            )
        )
    blocks.append(
        prose(
            "Where LayerNorm (LN) goes: the original transformer and BERT normalise after the addition, "
            "{post} (post-LN); GPT-2 and most later models normalise the sublayer's input and leave "
            "the residual path untouched, {pre} (pre-LN), which trains more stably in deep stacks.",
            post=same(Y, LAYER_NORM(X + F_X)),
            pre=same(Y, X + F(LAYER_NORM(X))),
        )
    )
    return tuple(blocks)


def intro(x) -> tuple:
    """What a residual connection is, the input and the formula, before the first stage."""
    tokens = "one token" if x.rows == 1 else f"{x.rows} tokens"
    return (
        prose(
            "A residual (skip) connection adds a sublayer's output back onto the sublayer's input. Every "
            "attention and feed-forward sublayer of a transformer sits inside one. The input has "
            "{tokens} of {d} features:",
            tokens=tokens,
            d=same(d_model, x.cols),
        ),
        eq(X, x),
        eq(Y, X + F_X),
    )
