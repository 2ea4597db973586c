"""Encoder layer: level 1 two tokens, d_model = 2 and two heads of width 1 (no square root; a LayerNorm
of two numbers with ε = 0 is ±1 each), post-LN and a ReLU network without biases; level 2 three tokens,
post- or pre-LN, biases and sometimes a padding token; level 3 two tokens of decimals with d_model = 4,
two heads of width 2 and ε = 10⁻⁵ (calculator work)."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw, float_layer

ATTENTION = ("wq", "wk", "wv", "wo")
MAX_SCORE = 3


def _promising(given) -> bool:
    heads, allowed = int(given["heads"]), None
    if "padding" in given:
        real = [e == "1" for e in given["padding"].split()]
        allowed = [real] * len(real)
    weights = [given[name] for name in ATTENTION]
    return float_layer.promising(
        given,
        (lambda u: float_layer.attention(u, u, weights, heads, allowed), lambda u: float_layer.ffn(u, given)),
    )


@draw.until(_promising)
def level_1(rng):
    return {
        **draw.one_column_attention(rng, 2, ATTENTION, MAX_SCORE),
        "heads": "2",
        **float_layer.ffn_weights(rng, 2, rng.choice([2, 3]), biases=False),
        "norm": "post",
        "eps": "0",
    }


@draw.until(_promising)
def level_2(rng):
    given = {
        **draw.one_column_attention(rng, 3, ATTENTION, MAX_SCORE),
        "heads": "2",
        **float_layer.ffn_weights(rng, 2, rng.choice([3, 4]), biases=True),
        "norm": rng.choice(["post", "pre"]),
        "eps": "0",
    }
    if rng.random() < 0.5:
        given["padding"] = "1 1 0"
    return given


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
