"""A residual connection, y = x + F(x): the sublayer's output added back onto its input.

The sublayer F is either given as a matrix (``--sublayer-output``, e.g. an attention output
computed elsewhere) or is a small linear map F(x) = x W + b, which also makes the gradient
argument concrete: the Jacobian of the block is I + W, whose identity term never vanishes.
"""

from __future__ import annotations

from derive import inputs, limits
from derive.errors import InputError
from derive.exact.precision import floats
from derive.model import Givens, Option, Stage, Topic
from derive.topics.residual import explain, stages


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
    intro = explain.intro(x)
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
    from derive import forward

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
            "x",
            "the sublayer's input, tokens as rows: '1 2; 0 -1'",
            inputs.symbolic(inputs.vector_or_matrix),
            required=True,
        ),
        Option(
            "sublayer_output",
            "F(x), the sublayer's output, with the shape of x",
            inputs.symbolic(inputs.vector_or_matrix),
        ),
        Option(
            "w",
            "instead of --sublayer-output: a linear sublayer F(x) = x W (d_model × d_model)",
            inputs.symbolic(inputs.matrix),
        ),
        Option("b", "the linear sublayer's bias, one per feature (with --w)", inputs.symbolic(inputs.vector)),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "sublayer",
            "The sublayer's output",
            stages.sublayer,
            explain.explain_sublayer,
            mistakes=(stages.REVERSED_PRODUCT,),
        ),
        Stage(
            "output",
            "Add the input back",
            stages.output,
            explain.explain_output,
            mistakes=(stages.NO_RESIDUAL,),
        ),
        Stage(
            "gradient",
            "Why residual connections help",
            stages.jacobian,
            explain.explain_gradient,
            answer=False,
        ),
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
