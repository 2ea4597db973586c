"""The encoder layer's sublayers: self-attention with an optional padding mask, then the FFN.

The stages themselves come from ``derive.transformer_layer.stream.layer_stages``; what is the encoder's
own is the padding mask and the misconception of leaving it out.
"""

from __future__ import annotations

from derive.model import Mistake
from derive.topics.encoder_layer.explain import PADDING_TEXT
from derive.transformer_layer.attention import MULTIHEAD, attend, attention_sublayer
from derive.transformer_layer.feed_forward import ffn_sublayer
from derive.transformer_layer.stream import layer_stages

NO_PADDING = (
    "Padded tokens (0 in --padding) get weight 0: add -∞ to their columns of the scores before the softmax."
)


def _unpadded(v):
    if v.allowed is None:
        return None
    return attend(v.attention_input, v.attention_input, v.attn_weights, v.heads, None).output


SUBLAYERS = (
    attention_sublayer(
        1,
        "attention",
        "attention_input",
        "self-attention",
        "a",
        "attn_weights",
        ("W_Q", "W_K", "W_V", "W_O"),
        MULTIHEAD,
        allowed=lambda v: v.allowed,
        mask_text=PADDING_TEXT,
        mistakes=(Mistake("no-padding-mask", NO_PADDING, _unpadded),),
    ),
    ffn_sublayer(2),
)
STAGES = layer_stages(SUBLAYERS)
