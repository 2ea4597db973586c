"""The cost formulas, one per answer id, written once over the symbols of the sizes.

Each function takes a Model (which only decides the architecture's shape of the formula) and returns
an expression tree over named sizes (``d_model``) and earlier stages' symbols (``P_attn``).
``derive/topics/cost.py`` prints the tree with symbols, with the numbers put in, and evaluates it.
References: Kaplan et al. 2020 (Table 1) for FLOPs, Rajbhandari et al. 2020 (ZeRO) for the
16 bytes per parameter of mixed-precision Adam, Korthikanti et al. 2022 (Section 4) for activations.
"""

from __future__ import annotations

from derive.costmodel.expr import Node, leaves, total
from derive.costmodel.presets import Model

L, d, dff, V, ctx, T, dkv, d_attn, H, kv, dh, s, b, nb, D = leaves(
    "n_layer",
    "d_model",
    "d_ff",
    "n_vocab",
    "n_ctx",
    "n_types",
    "d_kv",
    "d_attn",
    "n_heads",
    "n_kv",
    "d_head",
    "s",
    "b",
    "n_bytes",
    "D",
)

# The symbol each answer id is written with.
SYMBOLS = {
    "embeddings": "P_emb",
    "attention_per_layer": "P_attn",
    "ffn_per_layer": "P_FFN",
    "layernorms_per_layer": "P_LN",
    "per_layer": "P_layer",
    "all_layers": "P_layers",
    "final_norm": "P_final",
    "pooler": "P_pool",
    "lm_head": "P_head",
    "parameters": "P",
    "matmul_parameters": "N",
    "flops_per_token": "C_fwd",
    "attention_share": "f_attn",
    "training_flops": "C_train",
    "weights_bytes": "M_weights",
    "training_state_bytes": "M_state",
    "activations_per_layer": "A_layer",
    "activations": "A",
    "activations_recompute": "A_recompute",
    "training_bytes": "M_train",
    "kv_cache_bytes": "M_KV",
}
# The parts that add up to the parameter total, in the order they are shown.
PARAMETER_PARTS = (
    "embeddings",
    "attention_per_layer",
    "ffn_per_layer",
    "layernorms_per_layer",
    "per_layer",
    "all_layers",
    "final_norm",
    "pooler",
    "lm_head",
)
P_emb, P_attn, P_FFN, P_LN, P_layer, P_layers, P_final, P_pool, P_head, P, N, C_fwd = leaves(
    *(SYMBOLS[k] for k in (*PARAMETER_PARTS, "parameters", "matmul_parameters", "flops_per_token"))
)
M_state, A, A_layer = leaves(
    *(SYMBOLS[k] for k in ("training_state_bytes", "activations", "activations_per_layer"))
)

MIXED_ADAMW = (
    ("fp16/bf16 weights", 2),
    ("fp16/bf16 gradients", 2),
    ("fp32 master weights", 4),
    ("fp32 Adam first moment m", 4),
    ("fp32 Adam second moment v", 4),
)


def gqa(m: Model) -> bool:
    return m.kv_heads != m.n_heads


def learned_positions(m: Model) -> bool:
    return m.arch != "transformer"


# ---- parameters -------------------------------------------------------------------------------


def embeddings(m: Model) -> Node:
    terms = [V * d]
    if learned_positions(m):
        terms.append(ctx * d)
    if m.n_types:
        terms.append(T * d)
    if m.arch == "bert":
        terms.append(2 * d)
    return total(terms)


def attention_per_layer(m: Model) -> Node:
    if m.wide_heads:  # W_Q, W_K, W_V: d_model × width, W_O: d_attn × d_model, each with its bias
        if gqa(m):
            return 2 * d * d_attn + 2 * d * dkv + d_attn + 2 * dkv + d
        return 4 * d * d_attn + 3 * d_attn + d
    if gqa(m):
        return 2 * d**2 + 2 * d * dkv + 2 * d + 2 * dkv
    return 4 * d**2 + 4 * d


def ffn_per_layer(m: Model) -> Node:
    return 2 * d * dff + dff + d


def layernorms_per_layer(m: Model) -> Node:
    return 2 * (2 * d)


def per_layer(m: Model) -> Node:
    return P_attn + P_FFN + P_LN


def all_layers(m: Model) -> Node:
    if m.arch == "transformer":
        return L * P_layer + L * (P_layer + P_attn + 2 * d)
    return L * P_layer


def final_norm(m: Model) -> Node:
    return 2 * d if m.arch == "gpt2" else total([])


def pooler(m: Model) -> Node:
    return d**2 + d if m.pooler else total([])


def lm_head(m: Model) -> Node:
    return V * d if m.head == "untied" else total([])


def parameters(m: Model) -> Node:
    """Only the parts this architecture has, so the printed sum is not padded with zeros."""
    parts = [P_emb, P_layers]
    parts += [P_final] if m.arch == "gpt2" else []
    parts += [P_pool] if m.pooler else []
    parts += [P_head] if m.head == "untied" else []
    return total(parts)


def parameters_compute(m: Model) -> Node:
    """The total the checker recomputes: every component, so a nonzero wrong one still counts."""
    return P_emb + P_layers + P_final + P_pool + P_head


# ---- compute ----------------------------------------------------------------------------------


def _attention_widths(m: Model) -> Node:
    return d_attn + dkv if gqa(m) else 2 * d_attn


def matmul_parameters(m: Model) -> Node:
    """Kaplan's N: the weight matrices of the layers (no embeddings, biases or norms)."""
    one = 2 * L * d * (_attention_widths(m) + dff)
    if m.arch == "transformer":
        cross = 2 * d_attn + 2 * dkv if gqa(m) else 4 * d_attn
        return one + 2 * L * d * (cross + dff)
    return one


def attention_layers(m: Model) -> Node:
    """Attention blocks a token passes: encoder self, decoder self and decoder cross for Vaswani."""
    return 3 * L if m.arch == "transformer" else L


def attention_flops(m: Model, seq: Node = s) -> Node:
    return 2 * attention_layers(m) * seq * d_attn


def flops_per_token(m: Model) -> Node:
    return 2 * N + attention_flops(m)


def attention_share(m: Model) -> Node:
    return attention_flops(m) / C_fwd


def training_flops(m: Model) -> Node:
    return 6 * N * D


# ---- memory -----------------------------------------------------------------------------------


def weights_bytes(m: Model) -> Node:
    return P * nb


def training_state_bytes(m: Model) -> Node:
    return total([n for _, n in MIXED_ADAMW]) * P


def stacked_layers(m: Model) -> Node:
    return 2 * L if m.arch == "transformer" else L


def activations_per_layer(m: Model) -> Node:
    """Korthikanti et al. (2022), eq. 2: 16-bit activations, no parallelism, d_ff = 4 d_model."""
    return s * b * d * (34 + 5 * H * s / d)


def activations_per_layer_expanded(m: Model) -> Node:
    """The same, multiplied out, so the substitution needs no fractions."""
    return 34 * s * b * d + 5 * H * s**2 * b


def activations(m: Model) -> Node:
    return stacked_layers(m) * A_layer


def activations_recompute(m: Model) -> Node:
    return 2 * s * b * d * stacked_layers(m)


def training_bytes(m: Model) -> Node:
    return M_state + A


def kv_cache_bytes(m: Model) -> Node:
    if m.arch == "transformer":
        return 2 * (2 * nb) * L * kv * dh * s * b
    return 2 * nb * L * kv * dh * s * b


FORMULAS = {
    "embeddings": embeddings,
    "attention_per_layer": attention_per_layer,
    "ffn_per_layer": ffn_per_layer,
    "layernorms_per_layer": layernorms_per_layer,
    "per_layer": per_layer,
    "all_layers": all_layers,
    "final_norm": final_norm,
    "pooler": pooler,
    "lm_head": lm_head,
    "parameters": parameters,
    "matmul_parameters": matmul_parameters,
    "flops_per_token": flops_per_token,
    "attention_share": attention_share,
    "training_flops": training_flops,
    "weights_bytes": weights_bytes,
    "training_state_bytes": training_state_bytes,
    "activations_per_layer": activations_per_layer,
    "activations": activations,
    "activations_recompute": activations_recompute,
    "training_bytes": training_bytes,
    "kv_cache_bytes": kv_cache_bytes,
}
# Where the checker's recomputation differs from the printed formula.
COMPUTE = {
    **FORMULAS,
    "parameters": parameters_compute,
    "activations_per_layer": activations_per_layer_expanded,
}
# Where the substitution is easier to read in another, equal form.
SUBSTITUTED = {"activations_per_layer": activations_per_layer_expanded}


def attention_biases(m: Model) -> Node:
    """The biases of W_Q, W_K, W_V and W_O."""
    return d_attn + 2 * dkv + d if m.wide_heads else 2 * d + 2 * dkv


def biases(m: Model) -> Node:
    """All bias vectors in the model: what ``forgot-biases`` leaves out of the total."""
    attention = attention_biases(m)
    layer = attention + dff + d
    if m.arch == "transformer":
        stack = L * layer + L * (layer + attention)
    else:
        stack = L * layer
    return stack + d if m.pooler else stack


def layer_biases(m: Model) -> Node:
    return attention_biases(m) + dff + d


def layernorm_parameters(m: Model) -> Node:
    """Every LayerNorm gain and bias: what ``no-layernorm`` leaves out of the total."""
    per = 2 * (2 * d)
    if m.arch == "transformer":
        return L * per + L * (per + 2 * d)
    extra = 2 * d  # GPT-2's final norm or BERT's embedding norm
    return L * per + extra
