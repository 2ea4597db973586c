"""Independent NumPy implementations: the numeric reference for every topic and the forward pass.

Written in the style of nanoGPT's model.py: plain functions, a config dataclass and small classes
in dependency order, with the shape of every tensor in a comment. Nothing here imports SymPy or
torch. Conventions: tokens are rows and weights are (in, out), so a linear map is ``x @ W + b``
(torch's Linear stores (out, in): the loaders transpose it, copying each weight once). A leading
batch axis B is optional everywhere. Boolean masks are True where attention is allowed; padding
masks follow Hugging Face's attention_mask: 1 for a real token, 0 for padding.

Every module takes ``trace``: a dict (or a Trace) that receives each intermediate tensor under a
dotted name such as ``"layer0.attn.weights"``, so a worked step can be shown as a slice of a real
forward pass.
"""

from derive.forward.functional import (
    ACTIVATIONS,
    Array,
    Trace,
    causal_mask,
    cosine_similarity,
    erf,
    gelu,
    gelu_tanh,
    layer_norm,
    linear,
    relu,
    rms_norm,
    scaled_dot_product_attention,
    silu,
    sinusoidal_positional_encoding,
    softmax,
    swiglu,
)
from derive.forward.model import (
    Config,
    DecoderLayer,
    Embeddings,
    EncoderLayer,
    FeedForward,
    KVCache,
    MLMHead,
    MultiHeadAttention,
    Norm,
    Transformer,
    allowed_keys,
    greedy_decode,
    init_state_dict,
)

__all__ = [
    "ACTIVATIONS",
    "Array",
    "Config",
    "DecoderLayer",
    "Embeddings",
    "EncoderLayer",
    "FeedForward",
    "KVCache",
    "MLMHead",
    "MultiHeadAttention",
    "Norm",
    "Trace",
    "Transformer",
    "allowed_keys",
    "causal_mask",
    "cosine_similarity",
    "erf",
    "gelu",
    "gelu_tanh",
    "greedy_decode",
    "init_state_dict",
    "layer_norm",
    "linear",
    "relu",
    "rms_norm",
    "scaled_dot_product_attention",
    "silu",
    "sinusoidal_positional_encoding",
    "softmax",
    "swiglu",
]
