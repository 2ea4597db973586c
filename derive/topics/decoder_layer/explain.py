"""The decoder layer's introduction: its three sublayers in the chosen order, the target tokens, the
memory, the weights and the answer ids; and what the causal mask is for."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, prose, same
from derive.notation import listing
from derive.notation import matrix_name as mat
from derive.transformer_layer.attention import MULTIHEAD, attention_intro
from derive.transformer_layer.feed_forward import FFN, ffn_intro
from derive.transformer_layer.stream import LN, answer_table, plus

MASKED = sp.Function("MaskedMultiHead")
CAUSAL_TEXT = (
    "The causal mask {M} adds {inf} above the diagonal: token i may attend only to itself and the tokens "
    "before it, because at generation time the later target tokens do not exist yet."
)


def intro(x, memory, labels, sources, attn, cross, ffn, options, subs) -> tuple:
    post = options["norm"] == "post"
    X, M, Y = mat("x"), mat("m"), mat("y")
    if post:
        U2, U3 = mat("u_2"), mat("u_3")
        order = "after each residual sum (post-LN), as in “Attention Is All You Need”:"
        formulas = (
            eq(U2, LN(plus(X, MASKED(X)))),
            eq(U3, LN(plus(U2, MULTIHEAD(U2, M)))),
            eq(Y, LN(plus(U3, FFN(U3)))),
        )
    else:
        R1, R2 = mat("r_1"), mat("r_2")
        order = "before each sublayer, and the residual path stays un-normalised (pre-LN):"
        formulas = (
            eq(R1, plus(X, MASKED(LN(X)))),
            eq(R2, plus(R1, MULTIHEAD(LN(R1), M))),
            eq(Y, plus(R2, FFN(LN(R2)))),
        )
    target, target_fields = listing(labels)
    source, source_fields = listing(sources)
    return (
        prose(
            "A decoder layer has three sublayers: masked (causal) self-attention over the target tokens "
            "written so far, cross-attention from them to the encoder's output, and a feed-forward network. "
            "Each sits in a residual connection with a LayerNorm, here " + order
        ),
        *formulas,
        prose(
            f"The {x.rows} target tokens {target} are the rows of {{x}}, with {{dm}}:",
            x=X,
            dm=same(sp.Symbol("d_model"), x.cols),
            **target_fields,
        ),
        eq(X, x),
        prose(
            f"The memory {{m}} is the encoder's output for the {memory.rows} source tokens {source}, one row each:",
            m=M,
            **source_fields,
        ),
        eq(M, memory),
        *attention_intro(options["heads"], attn, ("W_Q", "W_K", "W_V", "W_O"), "masked self-attention"),
        *attention_intro(options["heads"], cross, ("C_Q", "C_K", "C_V", "C_O"), "cross-attention"),
        *ffn_intro(ffn, options["eps"]),
        *answer_table(subs, post),
    )
