"""Decoder layer: level 1 two target tokens and two memory rows, d_model = 2 and two heads of width 1 (no
square root; a LayerNorm of two numbers with ε = 0 is ±1 each), post-LN and a ReLU network without
biases; level 2 three target tokens, post- or pre-LN, with biases; level 3 two tokens of decimals with
d_model = 4, two heads of width 2 and ε = 10⁻⁵ (calculator work)."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw, float_layer

SELF, CROSS = ("wq", "wk", "wv", "wo"), ("cq", "ck", "cv", "co")
MAX_SCORE = 3


def _causal(tokens: int):
    """Query i sees keys 0 to i."""
    return [[j <= i for j in range(tokens)] for i in range(tokens)]


def _self_attention(given, u):
    """Masked self-attention, visibly changed by its mask."""
    weights, heads = [given[name] for name in SELF], int(given["heads"])
    right = float_layer.attention(u, u, weights, heads, _causal(len(u)))
    return float_layer.distinct_attention(right, float_layer.attention(u, u, weights, heads, uniform=True))


def _cross_attention(given, u):
    """Cross-attention, visibly changed by taking keys and values from the decoder instead."""
    weights, heads = [given[name] for name in CROSS], int(given["heads"])
    right = float_layer.attention(u, float_layer.matrix(given["memory"]), weights, heads)
    return float_layer.distinct_attention(right, float_layer.attention(u, u, weights, heads, uniform=True))


def _promising(given) -> bool:
    return float_layer.promising(given, (_self_attention, _cross_attention, float_layer.ffn))


def _self_weights(rng, given, u):
    seen = [range(i + 1) for i in range(len(u))]
    return draw.one_column_heads(rng, u, u, SELF, MAX_SCORE, seen)


def _cross_part(memory_rows: tuple[int, ...]):
    def weights(rng, given, u):
        memory = draw.distinct_rows(rng, rng.choice(memory_rows), 2, -1, 1)
        drawn = draw.one_column_heads(rng, u, memory, CROSS, None)
        return drawn and {"memory": draw.matrix_text(memory), **drawn}

    return weights, _cross_attention


def _start(tokens: int, norms: tuple[str, ...]):
    def start(rng):
        x = draw.distinct_rows(rng, tokens, 2, -2, 2)
        return {"x": draw.matrix_text(x), "heads": "2", "norm": rng.choice(norms), "eps": "0"}

    return start


def level_1(rng):
    parts = ((_self_weights, _self_attention), _cross_part((2,)), float_layer.ffn_part((2,), biases=False))
    return float_layer.drawn_layer(rng, _start(2, ("post",)), parts)


def level_2(rng):
    parts = ((_self_weights, _self_attention), _cross_part((2, 3)), float_layer.ffn_part((3, 4), biases=True))
    return float_layer.drawn_layer(rng, _start(3, ("post", "pre")), parts)


@draw.until(_promising)
def level_3(rng):
    return {
        "x": draw.matrix_text(draw.tenths_matrix(rng, 2, 4, -20, 20)),
        **float_layer.decimal_attention(rng, SELF, 4),
        "memory": draw.matrix_text(draw.tenths_matrix(rng, 2, 4, -20, 20)),
        **float_layer.decimal_attention(rng, CROSS, 4),
        "heads": "2",
        **float_layer.decimal_ffn_weights(rng, 4, 4),
        "norm": rng.choice(["post", "pre"]),
        "eps": "0.00001",
    }


def suitable(values, level):
    """No head's row of scaled scores, in either attention, all equal over the keys it may see (uniform
    weights whatever the method), and the activation matters (hidden units of both signs)."""
    return (
        float_layer.varied(values.self_qkv, _causal(values.x.rows))
        and float_layer.varied(values.cross_qkv)
        and float_layer.relu_matters(values.ffn_input, values.ffn_weights)
    )


SYMBOLS = {
    name: sp.Symbol(symbol)
    for name, symbol in (
        ("x", "x"),
        ("memory", "m"),
        ("wq", "W_Q"),
        ("wk", "W_K"),
        ("wv", "W_V"),
        ("wo", "W_O"),
    )
}
SYMBOLS.update(
    {name: sp.Symbol(symbol) for name, symbol in (("cq", "C_Q"), ("ck", "C_K"), ("cv", "C_V"), ("co", "C_O"))}
)
SYMBOLS.update({"heads": sp.Symbol("H"), "w1": sp.Symbol("W_1"), "w2": sp.Symbol("W_2")})
SYMBOLS.update({"b1": sp.Symbol("b_1"), "b2": sp.Symbol("b_2"), "eps": sp.Symbol("epsilon"), "norm": None})


def task(given):
    if given["norm"] == "post":
        order = (
            "post-LN: r_1 = x + MaskedMultiHead(x), u_2 = LN(r_1), r_2 = u_2 + MultiHead(u_2, m), u_3 = LN(r_2), "
            "r_3 = u_3 + FFN(u_3), y = LN(r_3)"
        )
    else:
        order = (
            "pre-LN: r_1 = x + MaskedMultiHead(LN(x)), r_2 = r_1 + MultiHead(LN(r_1), m), "
            "r_3 = r_2 + FFN(LN(r_2)), y = r_3"
        )
    return (
        f"One decoder layer, {order}. Self-attention is causal (token i sees tokens 1 to i); cross-attention "
        "takes its queries from the decoder (C_Q) and its keys and values from the memory m (C_K, C_V). Each "
        "attention splits by columns into H heads of width d_k = d_model / H, scales by 1/√d_k and multiplies "
        "the concatenated heads by its output matrix; FFN(u) = ReLU(u W_1"
        + (" + b_1) W_2 + b_2" if "b1" in given else ") W_2")
        + "; LN has γ = 1, β = 0 and divides by d_model."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
