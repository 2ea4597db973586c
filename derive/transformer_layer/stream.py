"""The residual stream of a Transformer layer: its stages, in post-LN or pre-LN order, and how a
LayerNorm and a value too long to read are shown.

``layer_stages`` turns a chain of ``Sublayer`` objects into the topic's stages; see the package's
docstring for the answer ids and the two orders of normalisation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from derive import printing
from derive.blocks import eq, needs_approx, prose, same, table
from derive.errors import InputError
from derive.exact.norms import carried_layer_norm as layer_norm
from derive.exact.norms import carried_row_statistics
from derive.exact.precision import nodes_over, settle
from derive.model import Mistake, Stage
from derive.notation import matrix_name as mat

WIDE = 84  # characters: an exact matrix wider than this is shown only as decimals
LN = sp.Function("LN")
eps_symbol = sp.Symbol("epsilon")

SWAPPED = (
    "Post-LN (Vaswani, BERT) normalises after each residual sum, so u_1 = x and y = LN(r_last); pre-LN "
    "(GPT-2) normalises only each sublayer's input, so u_1 = LN(x) and y = r_last. Use the order --norm asks for."
)
NO_RESIDUAL = "Add the sublayer's output to the stream it read from (the residual) before any LayerNorm."
NORMALISED_RESIDUAL = (
    "In pre-LN the residual path skips the normalisation: add the sublayer's output to the un-normalised "
    "stream (x or r_(k-1)), not to the LayerNorm of it."
)


def plus(a, b):
    return sp.Add(a, b, evaluate=False)


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
    _, means, variances = carried_row_statistics(m)
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
        written = sp.MatAdd(sp.ImmutableMatrix(stream), sp.ImmutableMatrix(v[sub.name]), evaluate=False)
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
