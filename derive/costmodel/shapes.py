"""Every weight tensor of a model as (name, shape), written like the released checkpoints name them.

This is the independent count: it never looks at formulas.py. Summing the products of the shapes
must give the formula's total, and for a real checkpoint the list must match its tensors one by one.
Shapes follow the checkpoints: GPT-2's Conv1D stores (in, out), PyTorch's Linear stores (out, in).
"""

from __future__ import annotations

from math import prod

from derive.costmodel.presets import Model

Shape = tuple[int, ...]


def _norm(prefix: str, d: int) -> list[tuple[str, Shape]]:
    return [(f"{prefix}.weight", (d,)), (f"{prefix}.bias", (d,))]


def _linear(prefix: str, d_in: int, d_out: int) -> list[tuple[str, Shape]]:
    return [(f"{prefix}.weight", (d_out, d_in)), (f"{prefix}.bias", (d_out,))]


def _gpt2(m: Model, d_kv: int) -> list[tuple[str, Shape]]:
    d = m.d_model
    out = [("wte.weight", (m.n_vocab, d)), ("wpe.weight", (m.n_ctx, d))]
    for i in range(m.n_layer):
        h = f"h.{i}"
        out += _norm(f"{h}.ln_1", d)
        q_kv = m.d_attn + 2 * d_kv
        out += [(f"{h}.attn.c_attn.weight", (d, q_kv)), (f"{h}.attn.c_attn.bias", (q_kv,))]
        out += [(f"{h}.attn.c_proj.weight", (m.d_attn, d)), (f"{h}.attn.c_proj.bias", (d,))]
        out += _norm(f"{h}.ln_2", d)
        out += [(f"{h}.mlp.c_fc.weight", (d, m.d_ff)), (f"{h}.mlp.c_fc.bias", (m.d_ff,))]
        out += [(f"{h}.mlp.c_proj.weight", (m.d_ff, d)), (f"{h}.mlp.c_proj.bias", (d,))]
    return out + _norm("ln_f", d)


def _bert(m: Model, d_kv: int) -> list[tuple[str, Shape]]:
    d = m.d_model
    out = [
        ("embeddings.word_embeddings.weight", (m.n_vocab, d)),
        ("embeddings.position_embeddings.weight", (m.n_ctx, d)),
    ]
    if m.n_types:
        out.append(("embeddings.token_type_embeddings.weight", (m.n_types, d)))
    out += _norm("embeddings.LayerNorm", d)
    for i in range(m.n_layer):
        layer = f"encoder.layer.{i}"
        out += _linear(f"{layer}.attention.self.query", d, m.d_attn)
        out += _linear(f"{layer}.attention.self.key", d, d_kv)
        out += _linear(f"{layer}.attention.self.value", d, d_kv)
        out += _linear(f"{layer}.attention.output.dense", m.d_attn, d)
        out += _norm(f"{layer}.attention.output.LayerNorm", d)
        out += _linear(f"{layer}.intermediate.dense", d, m.d_ff)
        out += _linear(f"{layer}.output.dense", m.d_ff, d)
        out += _norm(f"{layer}.output.LayerNorm", d)
    return out


def _distilbert(m: Model, d_kv: int) -> list[tuple[str, Shape]]:
    d = m.d_model
    out = [
        ("embeddings.word_embeddings.weight", (m.n_vocab, d)),
        ("embeddings.position_embeddings.weight", (m.n_ctx, d)),
    ]
    if m.n_types:
        out.append(("embeddings.token_type_embeddings.weight", (m.n_types, d)))
    out += _norm("embeddings.LayerNorm", d)
    for i in range(m.n_layer):
        layer = f"transformer.layer.{i}"
        for name, width in (("q_lin", m.d_attn), ("k_lin", d_kv), ("v_lin", d_kv)):
            out += _linear(f"{layer}.attention.{name}", d, width)
        out += _linear(f"{layer}.attention.out_lin", m.d_attn, d)
        out += _norm(f"{layer}.sa_layer_norm", d)
        out += _linear(f"{layer}.ffn.lin1", d, m.d_ff)
        out += _linear(f"{layer}.ffn.lin2", m.d_ff, d)
        out += _norm(f"{layer}.output_layer_norm", d)
    return out


def _attention(prefix: str, d: int, d_attn: int, d_kv: int) -> list[tuple[str, Shape]]:
    out = []
    for name, width in (("q_proj", d_attn), ("k_proj", d_kv), ("v_proj", d_kv)):
        out += _linear(f"{prefix}.{name}", d, width)
    return out + _linear(f"{prefix}.out_proj", d_attn, d)


def _vaswani(m: Model, d_kv: int) -> list[tuple[str, Shape]]:
    """Post-LN encoder-decoder; one embedding matrix shared by both sides (and the pre-softmax)."""
    d = m.d_model
    out = [("embed_tokens.weight", (m.n_vocab, d))]
    for side in ("encoder", "decoder"):
        for i in range(m.n_layer):
            layer = f"{side}.layers.{i}"
            out += _attention(f"{layer}.self_attn", d, m.d_attn, d_kv)
            out += _norm(f"{layer}.self_attn_layer_norm", d)
            if side == "decoder":
                out += _attention(f"{layer}.encoder_attn", d, m.d_attn, d_kv)
                out += _norm(f"{layer}.encoder_attn_layer_norm", d)
            out += _linear(f"{layer}.fc1", d, m.d_ff)
            out += _linear(f"{layer}.fc2", m.d_ff, d)
            out += _norm(f"{layer}.final_layer_norm", d)
    return out


_STYLES = {"gpt2": _gpt2, "bert": _bert, "distilbert": _distilbert, "transformer": _vaswani}
_DEFAULT_STYLE = {"gpt2": "gpt2", "bert": "bert", "transformer": "transformer"}


def shapes(m: Model) -> list[tuple[str, Shape]]:
    style = m.style or _DEFAULT_STYLE[m.arch]
    d_kv = m.kv_heads * m.d_head
    out = _STYLES[style](m, d_kv)
    if m.pooler:
        out += _linear("pooler.dense", m.d_model, m.d_model)
    if m.head == "untied":
        out.append(("lm_head.weight", (m.n_vocab, m.d_model)))
    return out


def count(m: Model) -> int:
    return sum(prod(shape) for _, shape in shapes(m))


def count_by_part(m: Model) -> dict[str, int]:
    """Totals of the parts the topic's stages name, from the tensor names alone."""
    parts = {"embeddings": 0, "layers": 0, "final_norm": 0, "pooler": 0, "lm_head": 0}
    for name, shape in shapes(m):
        if name.startswith(("wte.", "wpe.", "embeddings.", "embed_tokens.")):
            key = "embeddings"
        elif name.startswith("ln_f."):
            key = "final_norm"
        elif name.startswith("pooler."):
            key = "pooler"
        elif name.startswith("lm_head."):
            key = "lm_head"
        else:
            key = "layers"
        parts[key] += prod(shape)
    return parts
