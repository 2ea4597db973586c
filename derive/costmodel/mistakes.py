"""Named misconceptions of the cost topic, stage by stage.

Each is ``wrong(model, numbers)``: what a student holding it gets for that stage, from the givens and
the (student's own) earlier values. It returns None where the model leaves no room for the mistake
(no learned positions to forget, an untied head that is rightly counted): a mistake that would equal
the correct method must never match, or follow-through would be reported as the mistake.
"""

from __future__ import annotations

from derive.costmodel import formulas
from derive.costmodel.columns import numbers, own, pack
from derive.costmodel.expr import value as evaluate
from derive.model import Mistake

FORGOT_BIASES = "Linear layers have a bias vector as wide as their output; count those too."
NO_LAYERNORM = "Every LayerNorm has a gain and a bias of d_model values each; count them."
UNTIED = (
    "This model's output layer is tied to the token embedding: it reuses that matrix, so it is "
    "counted once, with the embeddings."
)
NO_POSITIONS = "Learned positions are a matrix of n_ctx by d_model parameters; count it."


def mistake(mistake_id: str, hint: str, wrong) -> Mistake:
    def compute(v):
        values = [wrong(m, numbers(v, i)) for i, m in enumerate(v.models)]
        return None if all(x is None for x in values) else pack(values)

    return Mistake(mistake_id, hint, compute)


def _sum_parts(n):
    return n["P_emb"] + n["P_layers"] + n["P_final"] + n["P_pool"] + n["P_head"]


def _without_positions(m, n, total):
    return total - n["n_ctx"] * n["d_model"] if formulas.learned_positions(m) else None


def _untied(m, n, total):
    return total + n["n_vocab"] * n["d_model"] if m.head == "tied" else None


MISTAKES = {
    "embeddings": (
        mistake(
            "no-position-embeddings",
            NO_POSITIONS,
            lambda m, n: _without_positions(m, n, own("embeddings", m, n)),
        ),
        mistake(
            "no-layernorm",
            NO_LAYERNORM,
            lambda m, n: own("embeddings", m, n) - 2 * n["d_model"] if m.arch == "bert" else None,
        ),
    ),
    "attention_per_layer": (
        mistake(
            "forgot-biases",
            FORGOT_BIASES,
            lambda m, n: own("attention_per_layer", m, n) - evaluate(formulas.attention_biases(m), n),
        ),
        mistake(
            "no-output-projection",
            "Attention ends with an output projection W_O and its bias.",
            lambda m, n: own("attention_per_layer", m, n) - n["d_attn"] * n["d_model"] - n["d_model"],
        ),
    ),
    "ffn_per_layer": (
        mistake(
            "forgot-biases", FORGOT_BIASES, lambda m, n: own("ffn_per_layer", m, n) - n["d_ff"] - n["d_model"]
        ),
    ),
    "layernorms_per_layer": (
        mistake("gain-only", "A LayerNorm learns a bias as well as a gain.", lambda m, n: 2 * n["d_model"]),
    ),
    "per_layer": (
        mistake(
            "forgot-biases",
            FORGOT_BIASES,
            lambda m, n: n["P_attn"] + n["P_FFN"] + n["P_LN"] - evaluate(formulas.layer_biases(m), n),
        ),
        mistake("no-layernorm", NO_LAYERNORM, lambda m, n: n["P_attn"] + n["P_FFN"]),
    ),
    "all_layers": (
        mistake(
            "one-layer",
            "Multiply by the number of layers.",
            lambda m, n: own("all_layers", m, {**n, "n_layer": 1}) if n["n_layer"] != 1 else None,
        ),
        mistake(
            "no-cross-attention",
            "Each decoder layer also attends to the encoder: count that block.",
            lambda m, n: 2 * n["n_layer"] * n["P_layer"] if m.arch == "transformer" else None,
        ),
    ),
    "lm_head": (mistake("untied-head", UNTIED, lambda m, n: _untied(m, n, 0)),),
    "parameters": (
        mistake("untied-head", UNTIED, lambda m, n: _untied(m, n, _sum_parts(n))),
        mistake("forgot-biases", FORGOT_BIASES, lambda m, n: _sum_parts(n) - evaluate(formulas.biases(m), n)),
        mistake(
            "no-layernorm",
            NO_LAYERNORM,
            lambda m, n: _sum_parts(n) - evaluate(formulas.layernorm_parameters(m), n),
        ),
        mistake("no-position-embeddings", NO_POSITIONS, lambda m, n: _without_positions(m, n, _sum_parts(n))),
    ),
    "matmul_parameters": (
        mistake(
            "total-parameters",
            "N counts only the layers' weight matrices, not the embeddings, biases and norms.",
            lambda m, n: n["P"],
        ),
    ),
    "flops_per_token": (
        mistake(
            "no-attention-term",
            "Add the attention term 2 n_layer s d_attn: it grows with the context.",
            lambda m, n: 2 * n["N"],
        ),
        mistake(
            "one-flop-per-multiply-add",
            "A multiply-add is two FLOPs.",
            lambda m, n: own("flops_per_token", m, n) / 2,
        ),
    ),
    "attention_share": (
        mistake(
            "ratio-not-share",
            "The share divides by the whole forward cost, 2N plus the attention term.",
            lambda m, n: evaluate(formulas.attention_flops(m), n) / (2 * n["N"]),
        ),
    ),
    "training_flops": (
        mistake(
            "forward-only",
            "Training also runs the backward pass, about twice the forward cost.",
            lambda m, n: 2 * n["N"] * n["D"],
        ),
        mistake(
            "backward-as-forward",
            "The backward pass costs about twice the forward pass, not once.",
            lambda m, n: 4 * n["N"] * n["D"],
        ),
    ),
    "weights_bytes": (
        mistake(
            "bits-not-bytes",
            "Count bytes, not bits: fp32 is 4 bytes, fp16 and bf16 2, int8 1.",
            lambda m, n: n["P"] * n["n_bytes"] * 8,
        ),
    ),
    "training_state_bytes": (
        mistake(
            "fp32-optimizer-only",
            "Besides the fp32 master weights and Adam's m and v (12 bytes), the "
            "16-bit weights and gradients take 4 bytes per parameter.",
            lambda m, n: 12 * n["P"],
        ),
        mistake(
            "no-optimizer-states",
            "AdamW keeps an fp32 master copy and two moments per parameter.",
            lambda m, n: 4 * n["P"],
        ),
    ),
    "activations_per_layer": (
        mistake(
            "no-attention-scores",
            "Add 5 a s^2 b bytes for the attention scores, softmax and mask.",
            lambda m, n: 34 * n["s"] * n["b"] * n["d_model"],
        ),
    ),
    "kv_cache_bytes": (
        mistake(
            "keys-only",
            "Cache the values as well as the keys: the factor 2.",
            lambda m, n: own("kv_cache_bytes", m, n) / 2,
        ),
        mistake(
            "query-heads",
            "With grouped-query attention only the n_kv key/value heads are cached.",
            lambda m, n: (
                own("kv_cache_bytes", m, n) * n["n_heads"] / n["n_kv"] if m.kv_heads != m.n_heads else None
            ),
        ),
        mistake(
            "one-layer",
            "Every layer keeps its own keys and values.",
            lambda m, n: own("kv_cache_bytes", m, n) / n["n_layer"] if m.n_layer != 1 else None,
        ),
    ),
}
