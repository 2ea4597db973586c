"""The residual stream of a Transformer layer, shared by the encoder- and decoder-layer topics.

A layer is a chain of sublayers (self-attention, cross-attention, the FFN). Sublayer k reads u_k and
adds its output to the stream: r_k = stream + out_k. Post-LN (Vaswani, BERT) normalises each sum, so
u_1 = x, u_k = LN(r_(k-1)) is also the stream, and y = LN(r_last). Pre-LN (GPT-2) normalises a copy for
each sublayer, so u_1 = LN(x), u_k = LN(r_(k-1)), the stream is r_(k-1) itself, and y = r_last. The
answer ids (``<sublayer>_input``, ``<sublayer>``, ``residual<k>``, ``output``) are therefore the same,
in the same order, in both orders of normalisation; only their formulas differ.

Values stay exact SymPy while their forms stay small: attention weights are e^(s)/Σ e^(s), and the
LayerNorm of a row of rationals is a rational over a square root. The LayerNorm of a row that already
holds exponentials or roots would nest them again at every later step (tens of thousands of characters
per entry, minutes to evaluate), so such rows, and any exact sum longer than BIG nodes (attention over
many tokens), are carried as 50-significant-digit decimals instead: far beyond any hand calculation, and
exact enough for the checker, which compares to 30 digits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from derive import inputs, limits, printing
from derive.blocks import eq, needs_approx, prose, same, table, user
from derive.errors import InputError
from derive.model import Mistake, Option, Stage

DIGITS = 50
WIDE = 84  # characters: an exact matrix wider than this is shown only as decimals
LN = sp.Function("LN")
eps_symbol, d_k = sp.symbols("epsilon d_k")
MAX_TOKENS, MAX_DIM, MAX_FF = 8, 8, 16
ACT_NAMES = {"relu": "ReLU", "gelu": "GELU"}
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

SWAPPED = (
    "Post-LN (Vaswani, BERT) normalises after each residual sum, so u_1 = x and y = LN(r_last); pre-LN "
    "(GPT-2) normalises only each sublayer's input, so u_1 = LN(x) and y = r_last. Use the order --norm asks for."
)
NO_RESIDUAL = "Add the sublayer's output to the stream it read from (the residual) before any LayerNorm."
NORMALISED_RESIDUAL = (
    "In pre-LN the residual path skips the normalisation: add the sublayer's output to the un-normalised "
    "stream (x or r_(k-1)), not to the LayerNorm of it."
)


def mat(name: str) -> sp.Symbol:
    """Noncommutative, so that products such as u W_Q keep their order when printed."""
    return sp.Symbol(name, commutative=False)


def plus(a, b):
    return sp.Add(a, b, evaluate=False)


TINY = sp.Float(10) ** (10 - DIGITS)
BIG = 200  # nodes: an exact entry beyond this is carried as 50 digits (a long attention sum, say)


def nodes_over(entry, limit: int) -> bool:
    return any(i > limit for i, _ in enumerate(sp.preorder_traversal(entry)))


def chop(value):
    """A 50-digit result that is zero up to rounding noise (an exact cancellation) becomes exactly 0."""
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(chop)
    return sp.Integer(0) if value.is_Float and abs(value) < TINY else value


def numeric(value: sp.Matrix) -> sp.Matrix:
    return value.applyfunc(lambda e: sp.N(e, DIGITS))


def settle(value: sp.Matrix) -> sp.Matrix:
    """Exact while every entry stays small enough to read and evaluate; otherwise 50 digits throughout."""
    return chop(numeric(value) if any(nodes_over(e, BIG) for e in value) else value)


def product(a: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    """a·b, exact while small; otherwise from the 50-digit factors (cheaper than evaluating the sums)."""
    exact = a * b
    return chop(numeric(a) * numeric(b) if any(nodes_over(e, BIG) for e in exact) else exact)


# --- LayerNorm, exact or to 50 digits ---------------------------------------------------------------


def row_stats(m: sp.Matrix) -> tuple[list, list, list]:
    """Per row: its entries (exact if all rational, else 50 digits), mean and population variance."""
    rows, means, variances = [], [], []
    for r in range(m.rows):
        row = list(m.row(r))
        if not all(sp.sympify(e).is_Rational for e in row):
            row = [sp.N(e, DIGITS) for e in row]
        mean = chop(sum(row) / len(row))
        rows.append(row)
        means.append(mean)
        variances.append(chop(sum((e - mean) ** 2 for e in row) / len(row)))
    return rows, means, variances


def layer_norm(m: sp.Matrix, eps) -> sp.Matrix:
    """(x - μ)/√(σ² + ε) per row, γ = 1, β = 0; a zero spread gives nan (0/0) rather than an error."""
    out = []
    for row, mean, variance in zip(*row_stats(m)):
        spread = variance + eps
        if chop(spread) == 0:
            out.append([sp.nan] * len(row))
        else:
            out.append([chop((e - mean) / sp.sqrt(spread)) for e in row])
    return sp.Matrix(out)


# --- showing values ---------------------------------------------------------------------------------


def short(value) -> bool:
    entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
    if any(sp.sympify(e).has(sp.Float) or nodes_over(e, 60) for e in entries):
        return False
    cols = value.cols if isinstance(value, sp.MatrixBase) else 1
    return max(len(printing.plain(e)) for e in entries) * cols <= WIDE


def show(*parts, value):
    """``parts = value ≈ decimals``, or ``parts ≈ decimals`` when the exact form is too long to read."""
    if short(value):
        return eq(*parts, value, approx=value if needs_approx(value) else None)
    return eq(*parts, approx=value)


def row_vector(name: str, n: int) -> sp.Matrix:
    return sp.Matrix([[sp.Symbol(f"{name}_{i + 1}") for i in range(n)]])


def explain_norm(out: str, source: str, m, value, eps, purpose: str, **fields) -> tuple:
    """LN(m) row by row: the means, the variances and the normalised rows."""
    for r in range(value.rows):
        if any(e is sp.nan for e in value.row(r)):
            raise InputError(
                "--eps",
                f"is 0 but row {r + 1} of {source} is constant, so its variance is 0 and LayerNorm divides "
                "0 by 0; use a positive epsilon such as 1e-5",
            )
    _, means, variances = row_stats(m)
    d_model, mu, var = sp.Symbol("d_model"), sp.Symbol("mu_i"), sp.Symbol("sigma_i") ** 2
    return (
        prose(
            purpose + " LayerNorm standardises each token's row on its own: subtract the row's mean {mu} and "
            "divide by the square root of its variance plus {e}. The variance is the population one (divide "
            "by {d}, not {d1}); here {g}, {b} and {eps}.",
            mu=mu,
            e=eps_symbol,
            d=d_model,
            d1=sp.Add(d_model, -1, evaluate=False),
            g=same(sp.Symbol("gamma"), 1),
            b=same(sp.Symbol("beta"), 0),
            eps=same(eps_symbol, eps),
            **fields,
        ),
        eq(sp.Symbol("xhat_ij"), (sp.Symbol("x_ij") - mu) / sp.sqrt(plus(var, eps_symbol))),
        show(row_vector("mu", m.rows), value=sp.Matrix([means])),
        show(row_vector("sigma", m.rows).applyfunc(lambda s: s**2), value=sp.Matrix([variances])),
        show(mat(out), LN(mat(source)), value=value),
    )


# --- the chain of sublayers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sublayer:
    """One sublayer: answer ids of its input and output, and how it computes and explains its output."""

    name: str
    input: str
    what: str  # "self-attention", "feed-forward network", ...
    symbol: str  # of its output: "a", "s", "c", "f"
    formula: Callable  # u -> e.g. MultiHead(u)
    compute: Callable  # (values, u) -> output
    explain: Callable  # values -> blocks
    shown: tuple = ()  # ungraded stages between input and output (Q, K, V; the weights)
    mistakes: tuple = ()


def post(v) -> bool:
    return v.norm == "post"


def _u(k: int):
    return mat(f"u_{k}")


def _r(k: int):
    return mat(f"r_{k}")


def _stream(v, k: int, subs) -> tuple[str, object]:
    """The symbol and the value that sublayer k's output is added to."""
    if k == 1:
        return "x", v.x
    return (f"u_{k}", v[subs[k - 1].input]) if post(v) else (f"r_{k - 1}", v[f"residual{k - 1}"])


def _input_stage(k: int, subs) -> Stage:
    sub = subs[k - 1]

    def compute(v):
        if k == 1:
            return v.x if post(v) else layer_norm(v.x, v.eps)
        return layer_norm(v[f"residual{k - 1}"], v.eps)

    def explain(v):
        if k == 1 and post(v):
            return (
                prose(
                    f"In post-LN the {sub.what} reads the layer's input itself; LayerNorm comes after the sum."
                ),
                eq(_u(1), mat("x"), v[sub.input]),
            )
        if k == 1:
            purpose = "In pre-LN every sublayer reads a normalised copy of the stream, while the residual path keeps {x}."
            return explain_norm("u_1", "x", v.x, v[sub.input], v.eps, purpose, x=mat("x"))
        if post(v):
            purpose = (
                f"Post-LN normalises the sum {{r}}; the result is the {sub.what}'s input and the new stream."
            )
        else:
            purpose = f"Pre-LN normalises a copy of the stream {{r}} for the {sub.what}; {{r}} itself stays as it is."
        source = f"r_{k - 1}"
        return explain_norm(
            f"u_{k}", source, v[f"residual{k - 1}"], v[sub.input], v.eps, purpose, r=mat(source)
        )

    if k == 1:
        mistake = Mistake("pre-post-swapped", SWAPPED, lambda v: layer_norm(v.x, v.eps) if post(v) else v.x)
        title = f"The {sub.what}'s input"
    else:
        mistake = Mistake("no-residual", NO_RESIDUAL, lambda v: layer_norm(v[subs[k - 2].name], v.eps))
        title = f"LayerNorm before the {sub.what}"
    return Stage(sub.input, title, compute, explain, mistakes=(mistake,))


def _output_stage(k: int, sub: Sublayer) -> Stage:
    mistakes = sub.mistakes
    if k == 1:

        def swapped(v):
            return sub.compute(v, v.x if not post(v) else layer_norm(v.x, v.eps))

        mistakes = (Mistake("pre-post-swapped", SWAPPED, swapped), *mistakes)
    return Stage(
        sub.name,
        sub.what[0].upper() + sub.what[1:],
        lambda v: sub.compute(v, v[sub.input]),
        sub.explain,
        mistakes,
    )


def _residual_stage(k: int, subs) -> Stage:
    sub = subs[k - 1]
    name = f"residual{k}"

    def compute(v):
        return settle(_stream(v, k, subs)[1] + v[sub.name])

    def explain(v):
        symbol, stream = _stream(v, k, subs)
        note = f"Add the {sub.what}'s output back onto the stream it read from: the sublayer only adds a correction."
        if k > 1 and post(v):
            note += " After post-LN the stream is {u} itself."
        elif not post(v):
            note += (
                " In pre-LN that is {s}, not its normalised copy {u}: the residual path skips the LayerNorm."
            )
        note = prose(note, u=_u(k), s=mat(symbol))
        with sp.evaluate(False):
            written = sp.MatAdd(sp.ImmutableMatrix(stream), sp.ImmutableMatrix(v[sub.name]))
        parts = [_r(k), plus(mat(symbol), mat(sub.symbol))]
        if short(stream) and short(v[sub.name]) and short(v[name]):
            parts.append(written)
        return (note, show(*parts, value=v[name]))

    def swapped(v):
        return v[f"residual{k - 1}"] + v[sub.name] if post(v) and k > 1 else None

    def normalised(v):
        return None if post(v) else v[sub.input] + v[sub.name]

    mistakes = (
        Mistake("no-residual", NO_RESIDUAL, lambda v: v[sub.name]),
        Mistake("pre-post-swapped", SWAPPED, swapped),
        Mistake("normalised-residual", NORMALISED_RESIDUAL, normalised),
    )
    return Stage(name, f"Residual connection {k}", compute, explain, mistakes)


def _final_stage(subs) -> Stage:
    last = f"residual{len(subs)}"

    def compute(v):
        return layer_norm(v[last], v.eps) if post(v) else v[last]

    def explain(v):
        closing = prose(
            "Like {x}, the output has one row of {d} entries per token, so layers stack: the next layer "
            "reads {y} as its {x}.",
            x=mat("x"),
            y=mat("y"),
            d=same(sp.Symbol("d_model"), v.x.cols),
        )
        source = f"r_{len(subs)}"
        if post(v):
            purpose = (
                "Post-LN normalises once more: every row of the layer's output has mean 0 and variance 1."
            )
            return (*explain_norm("y", source, v[last], v.output, v.eps, purpose), closing)
        return (
            prose(
                "In pre-LN the layer's output is the residual stream itself, not normalised. The next layer "
                "normalises its own input, and GPT-2 applies one final LayerNorm after the last layer."
            ),
            show(mat("y"), mat(source), value=v.output),
            closing,
        )

    mistakes = (
        Mistake("pre-post-swapped", SWAPPED, lambda v: v[last] if post(v) else layer_norm(v[last], v.eps)),
        Mistake(
            "no-residual", NO_RESIDUAL, lambda v: layer_norm(v[subs[-1].name], v.eps) if post(v) else None
        ),
    )
    return Stage("output", "The layer's output", compute, explain, mistakes)


def layer_stages(subs: tuple[Sublayer, ...]) -> tuple[Stage, ...]:
    stages: list[Stage] = []
    for k, sub in enumerate(subs, 1):
        stages += [_input_stage(k, subs), *sub.shown, _output_stage(k, sub), _residual_stage(k, subs)]
    return (*stages, _final_stage(subs))


def answer_table(subs, is_post: bool):
    """Each answer id with its formula in this order of normalisation."""
    rows = []
    for k, sub in enumerate(subs, 1):
        if k == 1:
            source = mat("x") if is_post else LN(mat("x"))
        else:
            source = LN(_r(k - 1))
        stream = mat("x") if k == 1 else (_u(k) if is_post else _r(k - 1))
        rows += [
            (sub.input, same(_u(k), source)),
            (sub.name, same(mat(sub.symbol), sub.formula(_u(k)))),
            (f"residual{k}", same(_r(k), plus(stream, mat(sub.symbol)))),
        ]
    last = _r(len(subs))
    rows.append(("output", same(mat("y"), LN(last) if is_post else last)))
    return (
        prose("The answers in the order they are computed, with the ids that 'derive check' takes:"),
        table(("answer id", "value"), rows),
    )


def token_listing(tokens, key: str = "t") -> tuple[str, dict]:
    """``{t0}, {t1} and {t2}`` for a prose template, with the labels as escaped user text."""
    slots = [f"{{{key}{i}}}" for i in range(len(tokens))]
    text = slots[0] if len(slots) == 1 else ", ".join(slots[:-1]) + " and " + slots[-1]
    return text, {f"{key}{i}": user(t) for i, t in enumerate(tokens)}


# --- inputs shared by the two topics ---------------------------------------------------------


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


def _non_negative(value, option):
    number = inputs.scalar(value, option)
    if not number >= 0:
        raise InputError(option, "expected a number >= 0, such as 1e-5")
    return number


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
        Option("eps", "LayerNorm epsilon; 0 gives clean hand-worked forms", _non_negative, default="1e-5"),
    )


def params(values: dict) -> dict:
    out = {}
    for name, value in values.items():
        if isinstance(value, sp.MatrixBase):
            out[name] = [[str(e) for e in row] for row in value.tolist()]
        elif value is not None:
            out[name] = value if isinstance(value, (str, int, list)) else str(value)
    return out


def attention_intro(heads, attn, names, what: str) -> list:
    return [
        prose(
            f"The {what} has {{H}}, {{dk}}, and these weights:",
            H=f"{heads} head" + ("s" if heads > 1 else ""),
            dk=same(d_k, attn[0].cols // heads),
        ),
        *(eq(mat(s), w) for s, w in zip(names, attn)),
    ]


def ffn_intro(ffn, eps) -> list:
    w1, b1, w2, b2, activation = ffn
    return [
        prose(
            "The feed-forward network widens each token to {dff} features with {act} and narrows it back:",
            dff=same(sp.Symbol("d_ff"), w1.cols),
            act=ACT_NAMES[activation],
        ),
        *(eq(mat(s), w) for s, w in zip(("W_1", "b_1", "W_2", "b_2"), (w1, b1, w2, b2)) if w is not None),
        prose(
            "Every LayerNorm uses {g} and {b} (their values at initialisation) and {e}.",
            g=same(sp.Symbol("gamma"), 1),
            b=same(sp.Symbol("beta"), 0),
            e=same(eps_symbol, eps),
        ),
    ]
