"""Exact (SymPy) maths, one function per operation, mirroring ``derive.forward.functional``.

Topics compute their stages here and narrate them; the NumPy twins in ``derive.forward`` are the
numeric reference that ``tests/test_exact.py`` checks every function against. Nothing heavier than
SymPy is loaded. The names below are re-exported, except where a function shares its module's name:
``derive.exact.softmax`` is the module, and its function is ``derive.exact.softmax.softmax``.
"""

from derive.exact.attention import (
    allowed_keys,
    causal_mask,
    concat_heads,
    head_columns,
    head_slice,
    masked_softmax,
    multi_head_attention,
    padding_mask,
    scale,
    scaled_dot_product_attention,
    scores,
    unstack_heads,
    weighted_values,
)
from derive.exact.softmax import (
    apply_temperature,
    exponentials,
    row_max,
    row_sums,
    stable_softmax,
)

__all__ = [
    "allowed_keys",
    "apply_temperature",
    "causal_mask",
    "concat_heads",
    "exponentials",
    "head_columns",
    "head_slice",
    "masked_softmax",
    "multi_head_attention",
    "padding_mask",
    "row_max",
    "row_sums",
    "scale",
    "scaled_dot_product_attention",
    "scores",
    "stable_softmax",
    "unstack_heads",
    "weighted_values",
]
