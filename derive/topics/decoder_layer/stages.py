"""The decoder layer's sublayers: causal self-attention, cross-attention to the memory, then the FFN.

The stages come from ``derive.transformer_layer.stream.layer_stages``; what is the decoder's own is
the causal mask, the memory as the source of the cross-attention's keys and values, and the
misconceptions of dropping either.
"""

from __future__ import annotations

from derive.model import Mistake
from derive.notation import matrix_name as mat
from derive.topics.decoder_layer.explain import CAUSAL_TEXT, MASKED
from derive.transformer_layer.attention import MULTIHEAD, attend, attention_sublayer
from derive.transformer_layer.feed_forward import ffn_sublayer
from derive.transformer_layer.stream import layer_stages

NO_CAUSAL = "Self-attention in a decoder is causal: add -∞ above the diagonal, so no token sees later ones."
FROM_DECODER = (
    "In cross-attention only the queries come from the decoder; the keys and values come from the "
    "encoder's output (the memory), with C_K and C_V."
)


def _causal(v):
    return [[j <= i for j in range(v.x.rows)] for i in range(v.x.rows)]


def _unmasked(v):
    return attend(v.self_input, v.self_input, v.attn_weights, v.heads, None).output


def _from_decoder(v):
    return attend(v.cross_input, v.cross_input, v.cross_weights, v.heads, None).output


SUBLAYERS = (
    attention_sublayer(
        1,
        "self_attention",
        "self_input",
        "masked self-attention",
        "s",
        "attn_weights",
        ("W_Q", "W_K", "W_V", "W_O"),
        MASKED,
        allowed=_causal,
        mask_text=CAUSAL_TEXT,
        mistakes=(Mistake("no-causal-mask", NO_CAUSAL, _unmasked),),
    ),
    attention_sublayer(
        2,
        "cross_attention",
        "cross_input",
        "cross-attention",
        "c",
        "cross_weights",
        ("C_Q", "C_K", "C_V", "C_O"),
        lambda u: MULTIHEAD(u, mat("m")),
        kv=lambda v: v.memory,
        keys="memory_tokens",
        mistakes=(Mistake("cross-from-decoder", FROM_DECODER, _from_decoder),),
    ),
    ffn_sublayer(3),
)
STAGES = layer_stages(SUBLAYERS)
