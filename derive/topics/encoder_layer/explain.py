"""The encoder layer's introduction: its two sublayers in the chosen order, the tokens, the padding
mask, the weights and the answer ids."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, prose, same
from derive.notation import listing
from derive.notation import matrix_name as mat
from derive.transformer_layer.attention import MULTIHEAD, attention_intro
from derive.transformer_layer.feed_forward import FFN, ffn_intro
from derive.transformer_layer.stream import LN, answer_table, plus

PADDING_TEXT = (
    "The padding mask {M} adds {inf} to the columns of the padding tokens, so every query gives them weight "
    "exactly 0. Their own rows are still computed, and ignored by whatever reads the output."
)


def intro(x, labels, padding, attn, ffn, options, subs) -> tuple:
    n, heads, post = x.rows, options["heads"], options["norm"] == "post"
    X, U2, R1, Y = mat("x"), mat("u_2"), mat("r_1"), mat("y")
    if post:
        order = "after each residual sum (post-LN), as in “Attention Is All You Need” and BERT:"
        formulas = (eq(U2, LN(plus(X, MULTIHEAD(X)))), eq(Y, LN(plus(U2, FFN(U2)))))
    else:
        order = "before each sublayer, and the residual path stays un-normalised (pre-LN), as in GPT-2:"
        formulas = (eq(R1, plus(X, MULTIHEAD(LN(X)))), eq(Y, plus(R1, FFN(LN(R1)))))
    tokens, fields = listing(labels)
    blocks = [
        prose(
            "An encoder layer has two sublayers: self-attention, through which every token gathers "
            "information from the others, and a feed-forward network, which transforms each token on its "
            "own. Each sits in a residual connection with a LayerNorm, here " + order
        ),
        *formulas,
        prose(
            f"The {n} tokens {tokens} are the rows of {{x}}, with {{dm}}:",
            x=X,
            dm=same(sp.Symbol("d_model"), x.cols),
            **fields,
        ),
        eq(X, x),
    ]
    if padding is not None and not all(padding):
        padded = [t for t, p in zip(labels, padding) if not p]
        pads, pad_fields = listing(padded)
        verb = "is padding" if len(padded) == 1 else "are padding"
        blocks.append(
            prose(
                f"The padding mask is {{p}} (1 marks a real token): {pads} {verb}, which no token may attend to.",
                p=sp.Matrix([padding]),
                **pad_fields,
            )
        )
    blocks += attention_intro(heads, attn, ("W_Q", "W_K", "W_V", "W_O"), "self-attention")
    blocks += ffn_intro(ffn, options["eps"])
    blocks += answer_table(subs, post)
    return tuple(blocks)
