"""Encoder layer: level 1 two tokens, d_model = 2 and two heads of width 1 (no square root; a LayerNorm
of two numbers with ε = 0 is ±1 each), post-LN and a ReLU network without biases; level 2 three tokens,
post- or pre-LN, biases and sometimes a padding token; level 3 two tokens of decimals with d_model = 4,
two heads of width 2 and ε = 10⁻⁵ (calculator work)."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw, float_layer

ATTENTION = ("wq", "wk", "wv", "wo")
MAX_SCORE = 3


def _allowed(given):
    """Which keys each query may see: a padding token is seen by none."""
    if "padding" not in given:
        return None
    real = [e == "1" for e in given["padding"].split()]
    return [real] * len(real)


def _attention(given, u):
    """Self-attention; with padding, visibly changed by its mask."""
    weights, heads, allowed = [given[name] for name in ATTENTION], int(given["heads"]), _allowed(given)
    right = float_layer.attention(u, u, weights, heads, allowed)
    if allowed is None:
        return right
    return float_layer.distinct_attention(right, float_layer.attention(u, u, weights, heads, uniform=True))


def _promising(given) -> bool:
    return float_layer.promising(given, (_attention, float_layer.ffn))


def _attention_weights(rng, given, u):
    seen = (
        [(0, 1)] if "padding" in given else ()
    )  # no query may see the last token: the first two keys differ
    return draw.one_column_heads(rng, u, u, ATTENTION, MAX_SCORE, seen)


def _start_1(rng):
    return {
        "x": draw.matrix_text(draw.distinct_rows(rng, 2, 2, -2, 2)),
        "heads": "2",
        "norm": "post",
        "eps": "0",
    }


def _start_2(rng):
    given = {
        "x": draw.matrix_text(draw.distinct_rows(rng, 3, 2, -2, 2)),
        "heads": "2",
        "norm": rng.choice(["post", "pre"]),
        "eps": "0",
    }
    return given | ({"padding": "1 1 0"} if rng.random() < 0.5 else {})


def level_1(rng):
    parts = ((_attention_weights, _attention), float_layer.ffn_part((2, 3), biases=False))
    return float_layer.drawn_layer(rng, _start_1, parts)


def level_2(rng):
    parts = ((_attention_weights, _attention), float_layer.ffn_part((3, 4), biases=True))
    return float_layer.drawn_layer(rng, _start_2, parts)


@draw.until(_promising)
def level_3(rng):
    return {
        "x": draw.matrix_text(draw.tenths_matrix(rng, 2, 4, -20, 20)),
        **float_layer.decimal_attention(rng, ATTENTION, 4),
        "heads": "2",
        **float_layer.decimal_ffn_weights(rng, 4, 4),
        "norm": rng.choice(["post", "pre"]),
        "eps": "0.00001",
    }


def suitable(values, level):
    """No head's row of scaled scores all equal over the keys it may see (uniform weights whatever the
    method), and the activation matters: some hidden unit of the network negative and some positive."""
    return float_layer.varied(values.qkv, values.allowed) and float_layer.relu_matters(
        values.ffn_input, values.ffn_weights
    )


SYMBOLS = {
    name: sp.Symbol(symbol)
    for name, symbol in (
        ("x", "x"),
        ("wq", "W_Q"),
        ("wk", "W_K"),
        ("wv", "W_V"),
        ("wo", "W_O"),
        ("heads", "H"),
    )
}
SYMBOLS.update({name: sp.Symbol(name[0].upper() + "_" + name[1]) for name in ("w1", "w2")})
SYMBOLS.update({"b1": sp.Symbol("b_1"), "b2": sp.Symbol("b_2"), "eps": sp.Symbol("epsilon")})
SYMBOLS.update({"norm": None, "padding": None})


def task(given):
    order = (
        "post-LN: r_1 = x + MultiHead(x), u_2 = LN(r_1), r_2 = u_2 + FFN(u_2), y = LN(r_2)"
        if given["norm"] == "post"
        else "pre-LN: u_1 = LN(x), r_1 = x + MultiHead(u_1), u_2 = LN(r_1), r_2 = r_1 + FFN(u_2), y = r_2"
    )
    text = (
        f"One encoder layer, {order}. MultiHead splits Q, K, V by columns into H heads of width d_k = "
        "d_model / H, scales by 1/√d_k and multiplies the concatenated heads by W_O; FFN(u) = ReLU(u W_1"
        + (" + b_1) W_2 + b_2" if "b1" in given else ") W_2")
        + "; LN has γ = 1, β = 0 and divides by d_model."
    )
    if "padding" in given:
        text += " The last token is padding (" + given["padding"] + "): no token attends to it."
    return text


LEVELS = {1: level_1, 2: level_2, 3: level_3}
