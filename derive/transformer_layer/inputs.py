"""The options and weights that the encoder- and decoder-layer topics both take, and their checks.

Weights that are left out default to the built-in ones, which are for d_model 4.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.errors import InputError
from derive.model import Option

MAX_TOKENS, MAX_DIM, MAX_FF = 8, 8, 16
ATTENTION = ("wq", "wk", "wv", "wo")
FEED_FORWARD = ("w1", "b1", "w2", "b2")
DEFAULTS = {
    "wq": "1 0 0 1; 0 1 1 0; 1 0 0 0; 0 0 1 1",
    "wk": "1 0 1 0; 0 1 0 0; 0 1 0 1; 1 0 0 0",
    "wv": "1 0 0 0; 0 1 0 1; 0 0 1 0; 1 0 0 1",
    "wo": "1 0 0 0; 0 1 0 0; 0 0 0 1; 0 0 1 0",
    "w1": "1 0 -1 0 1 0 0 1; 0 1 0 -1 0 1 1 0; 1 1 0 0 -1 0 1 0; 0 0 1 1 0 -1 0 1",
    "b1": "0 1 0 -1 0 0 1 0",
    "w2": "1 0 0 0; 0 1 0 0; 0 0 1 0; 0 0 0 1; 1 0 -1 0; 0 1 0 -1; -1 0 1 0; 0 -1 0 1",
    "b2": "0 0 1 0",
}


def weights(options, names, d_model: int, what: str, defaults) -> list:
    """The named weights, or the built-in ones when none of them is given (d_model 4 only)."""
    if all(options[n] is None for n in names):
        if d_model != 4:
            raise InputError(
                "--" + names[0],
                f"is required: x has {d_model} columns and the built-in {what} weights are for d_model 4",
            )
        return [(inputs.vector if n[0] == "b" else inputs.matrix)(defaults[n], "--" + n) for n in names]
    return [options[n] for n in names]


def attention_weights(options, names, d_model: int, heads: int, defaults, what: str) -> tuple:
    w_q, w_k, w_v, w_o = ws = weights(options, names, d_model, what, defaults)
    for name, w in zip(names, ws):
        if w is None:
            given = next(n for n in names if options[n] is not None)
            raise InputError(
                "--" + name, f"is required with --{given} (give all four {what} weights, or none)"
            )
        limits.check_shape("--" + name, w, rows=MAX_DIM, cols=MAX_DIM)
    for name, w in zip(names[:3], ws[:3]):
        if w.rows != d_model:
            raise InputError("--" + name, f"has {w.rows} rows but d_model is {d_model}; they must be equal")
    if w_k.cols != w_q.cols:
        raise InputError(
            "--" + names[1], f"has {w_k.cols} columns but --{names[0]} has {w_q.cols}; they must agree"
        )
    for name, w in ((names[0], w_q), (names[2], w_v)):
        if w.cols % heads:
            raise InputError("--heads", f"{heads} heads do not divide the {w.cols} columns of --{name}")
    if w_o.shape != (w_v.cols, d_model):
        raise InputError("--" + names[3], f"is {w_o.rows}×{w_o.cols} but must be {w_v.cols}×{d_model}")
    return tuple(ws)


def ffn_weights(options, d_model: int) -> tuple:
    w1, b1, w2, b2 = weights(options, FEED_FORWARD, d_model, "feed-forward", DEFAULTS)
    for name, w in (("w1", w1), ("w2", w2)):
        if w is None:
            given = next(n for n in FEED_FORWARD if options[n] is not None)
            raise InputError("--" + name, f"is required with --{given} (or give no feed-forward weights)")
        limits.check_shape("--" + name, w, rows=MAX_FF, cols=MAX_FF)
    if w1.rows != d_model:
        raise InputError("--w1", f"has {w1.rows} rows but d_model is {d_model}; they must be equal")
    if w2.shape != (w1.cols, d_model):
        raise InputError("--w2", f"is {w2.rows}×{w2.cols} but must be {w1.cols}×{d_model} (d_ff × d_model)")
    for name, b, width in (("b1", b1, w1.cols), ("b2", b2, d_model)):
        if b is not None and b.cols != width:
            raise InputError("--" + name, f"has {b.cols} entries but needs {width}")
    return w1, b1, w2, b2, options["activation"]


def tokens(given, n: int, option: str, what: str, prefix: str = "t") -> list[str]:
    if given is None:
        return [f"{prefix}{i}" for i in range(1, n + 1)]
    if len(given) != n:
        raise InputError(option, f"{len(given)} tokens but {what} has {n} rows; give one token per row")
    return given


def options(x_help: str, names, what: str, extra=()) -> tuple:
    return (
        Option("x", x_help, inputs.matrix, required=True),
        *(
            Option(n, f"{what} {s} (default: built-in, for d_model 4)", inputs.matrix)
            for n, s in zip(names, ("W_Q", "W_K", "W_V", "W_O"))
        ),
        *extra,
        Option(
            "heads", "attention heads H (must divide d_model)", lambda v, o: inputs.integer(v, o, 1, 8), "1"
        ),
        Option("w1", "FFN W_1, d_model × d_ff (default: built-in, d_ff 8)", inputs.matrix),
        Option(
            "b1", "FFN b_1, d_ff entries (none unless given, or with the built-in weights)", inputs.vector
        ),
        Option("w2", "FFN W_2, d_ff × d_model (default: built-in)", inputs.matrix),
        Option(
            "b2", "FFN b_2, d_model entries (none unless given, or with the built-in weights)", inputs.vector
        ),
        Option("activation", "relu or gelu (exact, with erf)", inputs.choice("relu", "gelu"), default="relu"),
        Option("norm", "post (Vaswani, BERT) or pre (GPT-2)", inputs.choice("post", "pre"), default="post"),
        Option(
            "eps", "LayerNorm epsilon; 0 gives clean hand-worked forms", inputs.non_negative, default="1e-5"
        ),
    )


def params(values: dict) -> dict:
    out = {}
    for name, value in values.items():
        if isinstance(value, sp.MatrixBase):
            out[name] = [[str(e) for e in row] for row in value.tolist()]
        elif value is not None:
            out[name] = value if isinstance(value, (str, int, list)) else str(value)
    return out
