"""What the cost topic calls each step; the steps' blocks are derive.costmodel.report's."""

from __future__ import annotations

from derive.costmodel import report

TITLES = (
    ("embeddings", "Embeddings"),
    ("attention_per_layer", "Attention parameters in one layer"),
    ("ffn_per_layer", "Feed-forward parameters in one layer"),
    ("layernorms_per_layer", "LayerNorm parameters in one layer"),
    ("per_layer", "One layer"),
    ("all_layers", "All layers"),
    ("final_norm", "The final LayerNorm"),
    ("pooler", "The pooler"),
    ("lm_head", "The output layer"),
    ("parameters", "The total"),
    ("matmul_parameters", "Parameters in matrix multiplications"),
    ("flops_per_token", "Forward FLOPs per token"),
    ("attention_share", "How much of it is attention"),
    ("training_flops", "Training FLOPs"),
    ("weights_bytes", "Memory for the weights"),
    ("training_state_bytes", "Memory for training state"),
    ("activations_per_layer", "Activation memory of one layer"),
    ("activations", "Activation memory of all layers"),
    ("activations_recompute", "Activations with full recomputation"),
    ("training_bytes", "Training memory"),
    ("kv_cache_bytes", "The KV cache"),
)
SUMMARY = "Summary"


def step(name: str):
    """The explainer of one answer: its sentence, formula, numbers and remarks."""
    return report.explainer(name)


def summary(v):
    """The closing table of every answer."""
    return report.summary(v)
