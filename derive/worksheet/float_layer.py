"""A float forward pass of an encoder or decoder layer, to turn down hopeless draws before the exact screen.

The exact screen (``derive.worksheet.screen``) decides; this only spares it the draws that are sure to
fail and costly to evaluate: a LayerNorm of a constant row with ε = 0 (0/0), and the misconceptions
that a LayerNorm of two numbers (always ±1 each) makes likely to agree with the answer, the residual
left out before a LayerNorm and the other order of normalisation at the output.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

import sympy as sp

from derive.worksheet import draw

Rows = list[list[float]]
Given = dict[str, str]
Sublayer = Callable[[Given, Rows], "Rows | None"]  # (the options, its input u) -> its output
MARGIN = 0.05  # more than the screen's two units at two decimals
ZERO = 1e-9  # a hidden unit this close to 0 is 0: a 50-digit LayerNorm leaves -1e-50 where 0 is meant


def ffn_weights(rng, d_model: int, d_ff: int, biases: bool) -> Given:
    """Small integer W_1 and W_2, and nonzero b_1 and b_2 with ``biases``: every hidden unit reads
    something (no zero column of W_1) and writes something (no zero row of W_2)."""
    given = {
        "w1": draw.matrix_text(draw.transposed(draw.int_matrix(rng, d_ff, d_model, -1, 1))),
        "w2": draw.matrix_text(draw.int_matrix(rng, d_ff, d_model, -1, 1)),
    }
    if biases:
        given.update(
            b1=draw.vector_text(draw.nonzero_row(rng, d_ff, -1, 1)),
            b2=draw.vector_text(draw.nonzero_row(rng, d_model, -1, 1)),
        )
    return given


def ffn_part(d_ff: Sequence[int], biases: bool) -> tuple[Callable, Sublayer]:
    """The network as a part of ``drawn_layer``: weights as ``ffn_weights`` draws them, d_ff one of ``d_ff``."""

    def weights(rng, given, u):
        return ffn_weights(rng, 2, rng.choice(d_ff), biases)

    return weights, ffn


def decimal_attention(rng, names, d_model: int) -> Given:
    return {name: draw.matrix_text(draw.tenths_matrix(rng, d_model, d_model, -10, 10)) for name in names}


def decimal_ffn_weights(rng, d_model: int, d_ff: int) -> Given:
    return {
        "w1": draw.matrix_text(draw.tenths_matrix(rng, d_model, d_ff, -10, 10)),
        "b1": draw.vector_text(draw.tenths(rng, d_ff, -5, 5)),
        "w2": draw.matrix_text(draw.tenths_matrix(rng, d_ff, d_model, -10, 10)),
        "b2": draw.vector_text(draw.tenths(rng, d_model, -5, 5)),
    }


def matrix(text: str) -> Rows:
    return [[_number(e) for e in row.split()] for row in text.split(";")]


def _number(text: str) -> float:
    """An entry as typed: float() reads integers and decimals as Fraction would, and much faster."""
    try:
        return float(text)
    except ValueError:
        return float(Fraction(text))


def _product(a: Rows, b: Rows) -> Rows:
    return [[math.fsum(x * y for x, y in zip(row, col)) for col in zip(*b)] for row in a]


def _add(a: Rows, b: Rows) -> Rows:
    return [[x + y for x, y in zip(p, q)] for p, q in zip(a, b)]


def _biased(a: Rows, bias: str | None) -> Rows:
    return a if bias is None else _add(a, [matrix(bias)[0]] * len(a))


def layer_norm(m: Rows, eps: float) -> Rows | None:
    """Each row standardised (γ = 1, β = 0), or None when a row's spread is about 0."""
    out = []
    for row in m:
        mean = math.fsum(row) / len(row)
        spread = math.fsum((e - mean) ** 2 for e in row) / len(row) + eps
        if spread < 1e-9:
            return None
        out.append([(e - mean) / math.sqrt(spread) for e in row])
    return out


def attention(
    queries: Rows, source: Rows, weights: Sequence[str], heads: int, allowed=None, uniform: bool = False
) -> Rows | None:
    """MultiHead(queries, source) with W_Q, W_K, W_V, W_O as typed; ``allowed[i][j]``: may i see j.
    None when a head weighs the keys a query sees all alike (the screen's ``suitable`` refuses those),
    unless ``uniform`` allows it (a misconception's attention)."""
    wq, wk, wv, wo = map(matrix, weights)
    q, k, v = _product(queries, wq), _product(source, wk), _product(source, wv)
    width = len(q[0]) // heads
    concat: Rows = [[] for _ in q]
    for h in range(heads):
        part = slice(h * width, (h + 1) * width)
        for i, row in enumerate(q):
            seen = [j for j in range(len(k)) if allowed is None or allowed[i][j]]
            scores = [
                math.fsum(a * b for a, b in zip(row[part], k[j][part])) / math.sqrt(width) for j in seen
            ]
            top = max(scores)
            if len(scores) > 1 and top - min(scores) < 1e-9 and not uniform:
                return None
            exps = [math.exp(s - top) for s in scores]
            total = math.fsum(exps)
            concat[i] += [
                math.fsum(e / total * v[j][c] for e, j in zip(exps, seen))
                for c in range(part.start, part.stop)
            ]
    return _product(concat, wo)


def distinct_attention(right: Rows | None, wrong: Rows | None) -> Rows | None:
    """``right``, or None when a misconception's attention (the mask left out, keys and values from the
    wrong source) would not be visibly different from it."""
    return right if right is not None and _apart(right, wrong) else None


def ffn(given: Given, u: Rows) -> Rows | None:
    """FFN(u) with ReLU; None unless some hidden unit is negative and some positive (ReLU must matter)
    and every token's output has a nonzero entry (a network that adds nothing to a token is no exercise)."""
    hidden = _biased(_product(u, matrix(given["w1"])), given.get("b1"))
    if not _both_signs(e for row in hidden for e in row):
        return None
    out = _biased(
        _product([[max(0.0, e) for e in row] for row in hidden], matrix(given["w2"])), given.get("b2")
    )
    return out if all(any(abs(e) > 1e-9 for e in row) for row in out) else None


def _apart(a: Rows | None, b: Rows | None) -> bool:
    if a is None or b is None:
        return True
    return max(abs(x - y) for p, q in zip(a, b) for x, y in zip(p, q)) > MARGIN


def promising(given: Given, sublayers: Sequence[Sublayer]) -> bool:
    """The layer is finite, its sublayers are not degenerate (see ``attention`` and ``ffn``), no LayerNorm
    makes every token alike, and the LayerNorms tell the answer from the residual left out and, at the
    output, from the other order."""
    eps, post = _norm(given)
    stream, output = matrix(given["x"]), None
    for k, sublayer in enumerate(sublayers):
        u = _sublayer_input(stream, output, k, eps, post)
        if u is None:
            return False
        output = sublayer(given, u)
        if output is None:
            return False
        stream = _added(stream, u, output, k, post)
    return _finished(stream, output, eps, post)


def drawn_layer(
    rng, start: Callable[..., Given], parts: Sequence[tuple[Callable, Sublayer]], tries: int = 20
) -> Given:
    """A layer ``promising`` accepts, drawn sublayer by sublayer: ``start(rng)`` gives x, norm and eps (and
    options every part reads), and each part ``(draw, sublayer)`` draws its options with ``draw(rng, given,
    u)`` for the input u its sublayer sees (None: none suit), redrawn up to ``tries`` times until the
    layer so far passes; a fresh start when they cannot. Redrawing the whole layer instead takes hundreds
    of draws: most fail in the middle. The options come in order: x, each part's, the rest of the start's."""
    while True:
        given = _drawn_parts(rng, start(rng), parts, tries)
        if given is not None:
            return given


def _drawn_parts(rng, start: Given, parts, tries: int) -> Given | None:
    eps, post = _norm(start)
    stream, drawn = matrix(start["x"]), {"x": start["x"]}
    u = _sublayer_input(stream, None, 0, eps, post)
    for k, (draw_part, sublayer) in enumerate(parts):
        last = k == len(parts) - 1
        for _ in range(tries if u is not None else 0):
            part = draw_part(rng, start, u)
            out = None if part is None else sublayer({**start, **drawn, **part}, u)
            if out is None:
                continue
            after = _added(stream, u, out, k, post)
            following = None if last else _sublayer_input(after, out, k + 1, eps, post)
            if _finished(after, out, eps, post) if last else following is not None:
                drawn.update(part)
                stream, u = after, following
                break
        else:
            return None
    return {**drawn, **start}


def _norm(given: Given) -> tuple[float, bool]:
    return float(Fraction(given["eps"])), given["norm"] == "post"


def _sublayer_input(stream: Rows, output: Rows | None, k: int, eps: float, post: bool) -> Rows | None:
    """The input u of sublayer k, or None when the layer fails there: a LayerNorm of a constant row,
    every token alike after a LayerNorm (the rest of the layer cannot tell them apart), or no visible
    difference from the LayerNorm of the last sublayer's output alone (the residual left out)."""
    normalised = not (post and k == 0)
    u = layer_norm(stream, eps) if normalised else stream
    if u is None or (k > 0 and not _apart(u, layer_norm(output, eps))):
        return None
    if normalised and len({tuple(round(e, 9) for e in row) for row in u}) == 1:
        return None
    return u


def _added(stream: Rows, u: Rows, output: Rows, k: int, post: bool) -> Rows:
    """The residual stream after sublayer k: post-LN adds to the normalised stream after the first."""
    return _add(u if post and k > 0 else stream, output)


def _finished(stream: Rows, output: Rows, eps: float, post: bool) -> bool:
    """The output LayerNorm (post-LN) tells the answer from the stream and from the other order."""
    y = layer_norm(stream, eps)
    if not post:
        return _apart(stream, y)
    return y is not None and _apart(stream, y) and _apart(y, layer_norm(output, eps))


def varied(attention, allowed=None) -> bool:
    """No head's row of scaled scores all equal over the keys that query may see (scores of a LayerNorm's
    output are carried in 50 digits, so equal ones may differ in the last)."""
    for scaled in attention.scaled:
        for i in range(scaled.rows):
            seen = [float(scaled[i, j]) for j in range(scaled.cols) if allowed is None or allowed[i][j]]
            if len(seen) > 1 and max(seen) - min(seen) < 1e-9:  # equal up to the carried digits
                return False
    return True


def relu_matters(u, ffn) -> bool:
    """Some hidden unit of the exact network negative and some positive."""
    w1, b1 = ffn[:2]
    hidden = u * w1
    if b1 is not None:
        hidden += sp.Matrix.vstack(*[b1] * hidden.rows)
    return _both_signs(hidden)


def _both_signs(values) -> bool:
    """Some value clearly negative and some clearly positive."""
    values = list(values)
    return any(v < -ZERO for v in values) and any(v > ZERO for v in values)
