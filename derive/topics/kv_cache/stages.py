"""The KV-cache topic's values, from derive.exact.attention, and the misconceptions.

Each step t computes the new token's q_t, k_t, v_t, appends k_t and v_t to the caches, and lets q_t
attend to the t cached keys, so the mask is causal by construction. Per-head weights are stacked
vertically, head 1 on top.
"""

from __future__ import annotations

import sympy as sp

from derive.exact import attention as exact
from derive.exact import softmax
from derive.model import Mistake


def weights(v, normalise=exact.masked_softmax):
    """Head by head and step by step: row t over the t keys cached so far, zeros for the rest."""
    rows = []
    for i in range(v.H):
        queries, keys = exact.head_slice(v.X * v.W_Q, i, v.H), exact.head_slice(v.K_cache, i, v.H)
        for r in range(v.n):
            row = normalise(exact.scale(exact.scores(queries.row(r), keys[: r + 1, :]), v.d_k))
            rows.append(list(row) + [sp.Integer(0)] * (v.n - r - 1))
    return sp.Matrix(rows)


def outputs(v):
    heads = []
    for i, weights in enumerate(exact.unstack_heads(v.weights, v.H)):
        heads.append(exact.weighted_values(weights, exact.head_slice(v.V_cache, i, v.H)))
    return sp.Matrix.hstack(*heads)


def recomputed(v, causal: bool = True, name: str = "concat"):
    """Attention recomputed from scratch over all tokens at once."""
    mask = exact.causal_mask(v.n) if causal else None
    return exact.multi_head_attention(v.X * v.W_Q, v.X * v.W_K, v.X * v.W_V, v.H, mask)[name]


def flops(v, cached: bool, n: int | None = None) -> sp.Integer:
    """Σ_t (c_qkv + t·c_qk) with the cache, Σ_t (t·c_qkv + t²·c_qk) without, in closed form."""
    n, c_qkv, c_qk = n or v.n, 6 * v.d_model * v.D, 4 * v.D
    if cached:
        return sp.Integer(n * c_qkv + c_qk * n * (n + 1) // 2)
    return sp.Integer(c_qkv * n * (n + 1) // 2 + c_qk * n * (n + 1) * (2 * n + 1) // 6)


def cache_bytes(v, tensors: int = 2):
    return sp.Integer(tensors * 1 * v.H * v.d_k * v.n * v.bytes)


# --- misconceptions -------------------------------------------------------------------------------


def _no_causal(name):
    """Every token attends to all T keys, later ones included."""
    return lambda v: recomputed(v, False, "weights" if name == "weights" else "concat")


NO_CAUSAL_HINT = (
    "At step t only tokens 1 to t exist: the new query attends to the t cached keys, never to later "
    "tokens (full recomputation needs the causal mask)."
)
MACS_HINT = "Count 2 FLOPs per multiply-add: a product of an m×k and a k×n matrix costs 2·m·k·n FLOPs."


def macs(name):
    return Mistake("macs-for-flops", MACS_HINT, lambda v: v[name] / 2)


def loop(v):
    """The narrated loop's values, from the givens: the same the graded stages compute later."""
    v = v.updated(K_cache=v.X * v.W_K, V_cache=v.X * v.W_V)
    v = v.updated(weights=weights(v))
    return v.updated(outputs=outputs(v))


def saved(v):
    return v.flops_full - v.flops_cached


NO_CAUSAL = {
    name: (Mistake("no-causal", NO_CAUSAL_HINT, _no_causal(name)),)
    for name in ("weights", "outputs", "recomputed")
}
NOT_NORMALISED = Mistake(
    "not-normalised",
    "Divide each exponential by the sum of the exponentials over the cached keys, so every row sums to 1.",
    lambda v: weights(v, softmax.unnormalised),
)
BYTES_MISTAKES = (
    Mistake(
        "keys-only",
        "The cache stores the values as well as the keys: a factor 2.",
        lambda v: cache_bytes(v, 1),
    ),
    Mistake(
        "cache-queries",
        "Queries are not cached: each is used once, at its own step. Only K and V are kept.",
        lambda v: cache_bytes(v, 3),
    ),
)
