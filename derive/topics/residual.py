"""A residual connection, y = x + F(x): the sublayer's output added back onto its input.

The sublayer F is either given as a matrix (``--sublayer-output``, e.g. an attention output
computed elsewhere) or is a small linear map F(x) = x W + b, which also makes the gradient
argument concrete: the Jacobian of the block is I + W, whose identity term never vanishes.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.blocks import eq, needs_approx, prose, same
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic

X, W, B = sp.symbols("x W b", commutative=False)  # keeps the product x W in reading order
Y, IDENTITY, J, J_F = sp.symbols("y I J J_F")
F = sp.Function("F")
F_X = F(X)
d_model = sp.Symbol("d_model")
LAYER_NORM = sp.Function("LN")


def _approx(value):
    return value if needs_approx(value) else None


def _sublayer(v):
    if v.F_given is not None:
        return v.F_given
    bias = v.b if v.b is not None else sp.zeros(1, v.W.cols)
    return v.x * v.W + sp.ones(v.x.rows, 1) * bias


def _output(v):
    return v.x + v.sublayer


def _jacobian(v):
    """∂y/∂x for one token, laid out (input, output) like W: I + W, or I + ∂F/∂x in general."""
    return sp.eye(v.x.cols) + (v.W if v.W is not None else sp.zeros(v.x.cols))


def _no_residual(v):
    return v.sublayer


def _explain_sublayer(v):
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
    with sp.evaluate(False):
        product = sp.MatMul(sp.ImmutableMatrix(v.x), sp.ImmutableMatrix(v.W))
        rows = sp.ImmutableMatrix(sp.ones(v.x.rows, 1) * v.b) if v.b is not None else None
        written = sp.MatAdd(product, rows) if rows is not None else product
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


def _explain_output(v):
    with sp.evaluate(False):
        written = sp.MatAdd(sp.ImmutableMatrix(v.x), sp.ImmutableMatrix(v.sublayer))
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


def _explain_gradient(v):
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
        with sp.evaluate(False):
            written = sp.MatAdd(sp.ImmutableMatrix(sp.eye(v.x.cols)), sp.ImmutableMatrix(v.W))
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
    change = abs(max(v.sublayer, key=lambda e: abs(sp.N(e, 30))))
    if sp.N(change, 30) <= 0.1:
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


def _prepare(options) -> Givens:
    x, given, w, b = options["x"], options["sublayer_output"], options["w"], options["b"]
    limits.check_shape("--x", x)
    if given is not None and w is not None:
        raise InputError("--w", "give either --sublayer-output or --w (a linear sublayer), not both")
    if given is None and w is None:
        raise InputError(
            "--sublayer-output",
            "is required, or give --w for a linear sublayer F(x) = x W (or use --example)",
        )
    if given is not None:
        if b is not None:
            raise InputError("--b", "goes with --w (the linear sublayer's bias), not with --sublayer-output")
        if given.shape != x.shape:
            raise InputError(
                "--sublayer-output",
                f"is {given.rows}×{given.cols} but x is {x.rows}×{x.cols}; "
                "x + F(x) needs F(x) to have the shape of x",
            )
    else:
        limits.check_shape("--w", w, rows=limits.MAX_DIM, cols=limits.MAX_DIM)
        if w.shape != (x.cols, x.cols):
            raise InputError(
                "--w",
                f"is {w.rows}×{w.cols} but must be {x.cols}×{x.cols}: x W needs {x.cols} rows, and "
                f"x + x W needs {x.cols} columns",
            )
        if b is not None and b.cols != x.cols:
            raise InputError("--b", f"has {b.cols} entries but x has {x.cols} columns; give one per feature")
    params = {"x": [[str(e) for e in row] for row in x.tolist()]}
    for name, value in (("sublayer_output", given), ("w", w)):
        if value is not None:
            params[name] = [[str(e) for e in row] for row in value.tolist()]
    if b is not None:
        params["b"] = [str(e) for e in b]
    tokens = "one token" if x.rows == 1 else f"{x.rows} tokens"
    intro = (
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
    values = {"x": x, "F_given": given, "W": w, "b": b}
    return Givens("Residual connection", values, intro, params)


def _sample(rng):
    rows, cols = int(rng.integers(1, 4)), int(rng.integers(1, 5))

    def matrix(n, m, low=-4, high=5):
        return "; ".join(" ".join(str(int(e)) for e in rng.integers(low, high, m)) for _ in range(n))

    raw = {"x": matrix(rows, cols)}
    if rng.random() < 0.5:
        raw["sublayer_output"] = matrix(rows, cols)
    else:
        raw["w"] = matrix(cols, cols, -2, 3)
        if rng.random() < 0.5:
            raw["b"] = " ".join(str(rng.choice(["0", "1", "-1", "1/2"])) for _ in range(cols))
    return raw


def _reference(options):
    import numpy as np

    from derive import forward

    def floats(matrix):
        return np.array(matrix.evalf(30).tolist(), dtype=float)

    x = floats(options["x"])
    if options["sublayer_output"] is not None:
        sub = floats(options["sublayer_output"])
    else:
        bias = None if options["b"] is None else floats(options["b"])[0]
        sub = forward.linear(x, floats(options["w"]), bias)
    return {"sublayer": sub, "output": x + sub}


TOPIC = Topic(
    name="residual",
    summary="A residual connection y = x + F(x), and why the shortcut helps gradients and initialisation",
    options=(
        Option(
            "x", "the sublayer's input, tokens as rows: '1 2; 0 -1'", inputs.vector_or_matrix, required=True
        ),
        Option(
            "sublayer_output", "F(x), the sublayer's output, with the shape of x", inputs.vector_or_matrix
        ),
        Option(
            "w",
            "instead of --sublayer-output: a linear sublayer F(x) = x W (d_model × d_model)",
            inputs.matrix,
        ),
        Option("b", "the linear sublayer's bias, one per feature (with --w)", inputs.vector),
    ),
    prepare=_prepare,
    stages=(
        Stage("sublayer", "The sublayer's output", _sublayer, _explain_sublayer),
        Stage(
            "output",
            "Add the input back",
            _output,
            _explain_output,
            mistakes=(
                Mistake(
                    "no-residual",
                    "A residual block outputs x + F(x): add the input x to the sublayer's output.",
                    _no_residual,
                ),
            ),
        ),
        Stage("gradient", "Why residual connections help", _jacobian, _explain_gradient, answer=False),
    ),
    result="output",
    examples={
        "basic": {"x": "1 2; 0 -1", "sublayer_output": "0.5 -1; 2 1"},
        "linear": {"x": "1 2; 3 -1", "w": "1 0; -1 1/2", "b": "0 1"},
        "small-init": {"x": "1 2; 3 -1", "w": "0.01 0; 0 -0.02"},
    },
    example_notes={
        "basic": "a given sublayer output added to two tokens",
        "linear": "a linear sublayer F(x) = xW + b, and the Jacobian I + W",
        "small-init": "small weights: the block starts close to the identity",
    },
    sample=_sample,
    reference=_reference,
)
