"""The transformer itself, in one readable file: config, attention, layers, embeddings, heads, decoding.

Classes come in dependency order, with the shape of every tensor in a comment (nanoGPT's model.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from derive.forward.allocator import keep_freed_memory
from derive.forward.functional import (
    ACTIVATIONS,
    Array,
    as_float,
    as_trace,
    causal_mask,
    layer_norm,
    linear,
    rms_norm,
    sinusoidal_positional_encoding,
    softmax,
    swiglu,
)


@dataclass(frozen=True)
class Config:
    d_model: int = 16
    n_heads: int = 2
    d_ff: int = 64
    n_layers: int = 2
    activation: str = "gelu"  # relu | gelu | gelu_tanh | swiglu
    norm_first: bool = False  # False: post-LN (Vaswani, BERT); True: pre-LN with a final norm (GPT-2)
    norm: str = "layer"  # layer | rms
    eps: float = 1e-5
    vocab_size: int = 32
    max_positions: int = 64
    type_vocab_size: int = 0  # 0: no token-type embeddings; BERT has 2
    positions: str = "learned"  # learned | sinusoidal
    embed_norm: bool = False  # BERT normalises the summed embeddings
    causal: bool = True  # True: a decoder-only LM (GPT); False: a bidirectional encoder (BERT)
    bias: bool = True
    mlm_head: bool = False  # BERT's MLM head instead of the tied LM head

    def __post_init__(self):
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}")
        if self.activation not in (*ACTIVATIONS, "swiglu"):
            raise ValueError(f"unknown activation {self.activation!r}")
        if self.norm not in ("layer", "rms") or self.positions not in ("learned", "sinusoidal"):
            raise ValueError(f"unknown norm {self.norm!r} or positions {self.positions!r}")

    @property
    def d_k(self) -> int:
        return self.d_model // self.n_heads

    @classmethod
    def from_bert(cls, config: Mapping) -> Config:
        """From a Hugging Face BERT config.json (already parsed into a dict)."""
        act = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "relu": "relu"}
        return cls(
            d_model=config["hidden_size"],
            n_heads=config["num_attention_heads"],
            d_ff=config["intermediate_size"],
            n_layers=config["num_hidden_layers"],
            activation=act[config.get("hidden_act", "gelu")],
            eps=config.get("layer_norm_eps", 1e-12),
            vocab_size=config["vocab_size"],
            max_positions=config["max_position_embeddings"],
            type_vocab_size=config.get("type_vocab_size", 2),
            embed_norm=True,
            causal=False,
        )


# ------------------------------------------------------------------------------------------ modules


class Norm:
    """LayerNorm (weight γ, bias β) or RMSNorm (weight γ only)."""

    def __init__(self, weight: Array, bias: Array | None = None, eps: float = 1e-5, kind: str = "layer"):
        self.weight, self.bias, self.eps, self.kind = weight, bias, eps, kind

    @classmethod
    def from_state_dict(cls, sd: Mapping, prefix: str, eps: float, kind: str = "layer") -> Norm:
        return cls(_get(sd, prefix + "weight"), _get(sd, prefix + "bias", None), eps, kind)

    def __call__(self, x: Array, trace=None) -> Array:
        if self.kind == "rms":
            return rms_norm(x, self.weight, self.eps, trace)  # (B, T, C)
        return layer_norm(x, self.weight, self.bias, self.eps, trace)  # (B, T, C)


class KVCache:
    """Keys and values of the tokens seen so far, one row per token, per head."""

    def __init__(self):
        self.k: Array | None = None  # (B, h, S, d_k)
        self.v: Array | None = None  # (B, h, S, d_k)

    def __len__(self) -> int:
        return 0 if self.k is None else self.k.shape[-2]

    @property
    def nbytes(self) -> int:
        return 0 if self.k is None else self.k.nbytes + self.v.nbytes

    def append(self, k: Array, v: Array) -> tuple[Array, Array]:
        self.k = k if self.k is None else np.concatenate([self.k, k], axis=-2)  # (B, h, S + T, d_k)
        self.v = v if self.v is None else np.concatenate([self.v, v], axis=-2)  # (B, h, S + T, d_k)
        return self.k, self.v


def _get(sd: Mapping, key: str, *default) -> Array | None:
    """Read an array without copying; accepts numpy arrays and torch tensors (via __array__)."""
    if key not in sd:
        if default:
            return default[0]
        raise KeyError(f"missing parameter {key!r}")
    return np.asarray(sd[key])


def _rows(w: Array) -> Array:
    """torch's (out, in) weight as a C-contiguous (in, out) array, for x @ W.

    This is the one copy a load makes: OpenBLAS multiplies by a contiguous (in, out) matrix about
    three times faster than by the transposed view. Read a checkpoint memory-mapped, and this stays
    the only copy of each weight.
    """
    return np.ascontiguousarray(w.T)  # (in, out)


def _side_by_side(matrices: list[Array]) -> Array:
    """(in, out_i) matrices as one C-contiguous (in, Σ out_i) array, copied once, whatever their layout."""
    out = np.empty((matrices[0].shape[0], sum(m.shape[1] for m in matrices)), np.result_type(*matrices))
    return np.concatenate(matrices, axis=1, out=out)  # (in, Σ out)


def _get_linear(
    sd: Mapping, prefix: str, weight: str = "weight", bias: str = "bias"
) -> tuple[Array, Array | None]:
    return _rows(_get(sd, prefix + weight)), _get(sd, prefix + bias, None)  # (in, out), (out,)


def allowed_keys(n_q: int, n_k: int, attention_mask=None, mask=None, causal: bool = False) -> Array | None:
    """Combine the masks into one boolean array, True where query row may attend to key column.

    attention_mask: (B, S) or (S,), 1 for real tokens and 0 for padding (Hugging Face's convention);
    mask: (T, S) boolean, True where allowed; causal: each query sees itself and earlier keys.
    """
    allowed = causal_mask(n_q, n_k) if causal else None  # (T, S)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)  # (T, S)
        allowed = mask if allowed is None else allowed & mask
    if attention_mask is not None:
        keys = np.asarray(attention_mask, dtype=bool)[..., None, None, :]  # (B, 1, 1, S)
        allowed = keys if allowed is None else allowed & keys  # (B, 1, T, S)
    return allowed


class MultiHeadAttention:
    """Heads are column slices: head h uses columns h·d_k:(h+1)·d_k of W_Q, W_K and W_V, and the
    concatenated head outputs are projected by W_O.

    W_Q, W_K and W_V are stored side by side as one (C, 3C) matrix, so self-attention projects x
    once (one matrix product instead of three); W_Q, W_K and W_V are views of its columns.
    """

    def __init__(self, W_Q, W_K, W_V, W_O, n_heads: int, b_Q=None, b_K=None, b_V=None, b_O=None):
        W_QKV = _side_by_side([as_float(W_Q), as_float(W_K), as_float(W_V)])  # (C, 3C)
        b_QKV = None if b_Q is None else np.concatenate([b_Q, b_K, b_V])  # (3C,)
        self._set(W_QKV, b_QKV, W_O, b_O, n_heads)

    @classmethod
    def fused(cls, W_QKV, b_QKV, W_O, b_O, n_heads: int) -> MultiHeadAttention:
        """From the (C, 3C) matrix [W_Q W_K W_V] and its (3C,) bias, without copying them."""
        attn = cls.__new__(cls)
        attn._set(W_QKV, b_QKV, W_O, b_O, n_heads)
        return attn

    def _set(self, W_QKV, b_QKV, W_O, b_O, n_heads: int) -> None:
        C = W_QKV.shape[1] // 3
        self.W_QKV, self.b_QKV = W_QKV, b_QKV  # (C, 3C), (3C,) or None
        self.W_Q, self.W_K, self.W_V = (W_QKV[:, i * C : (i + 1) * C] for i in range(3))  # (C, C) views
        parts = (None,) * 3 if b_QKV is None else (b_QKV[i * C : (i + 1) * C] for i in range(3))
        self.b_Q, self.b_K, self.b_V = parts  # (C,) views each, or None
        self.W_O, self.b_O = W_O, b_O  # (C, C), (C,)
        self.n_heads = n_heads
        self.d_k = C // n_heads

    @classmethod
    def from_state_dict(cls, sd: Mapping, n_heads: int, prefix: str = "") -> MultiHeadAttention:
        """torch nn.MultiheadAttention names: in_proj_weight (3C, C), in_proj_bias, out_proj.*."""
        W_QKV, b_QKV = _get_linear(sd, prefix + "in_proj_", "weight", "bias")  # (C, 3C), (3C,)
        W_O, b_O = _get_linear(sd, prefix + "out_proj.")  # (C, C), (C,)
        return cls.fused(W_QKV, b_QKV, W_O, b_O, n_heads)

    @property
    def n_params(self) -> int:
        return sum(w.size for w in (self.W_QKV, self.b_QKV, self.W_O, self.b_O) if w is not None)

    def head_weights(self, h: int) -> tuple[Array, Array, Array]:
        """The columns of W_Q, W_K, W_V that belong to head h."""
        cols = slice(h * self.d_k, (h + 1) * self.d_k)
        return self.W_Q[:, cols], self.W_K[:, cols], self.W_V[:, cols]  # (C, d_k) each

    def split_heads(self, x: Array, n: int) -> tuple[Array, ...]:
        """n projections side by side (B, T, n·C) as n views (B, h, T, d_k), without copying."""
        split = x.reshape(*x.shape[:-1], n, self.n_heads, self.d_k)  # (B, T, n, h, d_k)
        return tuple(np.moveaxis(split[..., i, :, :], -2, -3) for i in range(n))  # (B, h, T, d_k) each

    def __call__(
        self, x, context=None, *, attention_mask=None, mask=None, causal=False, cache=None, trace=None
    ) -> Array:
        """Self-attention over x, or cross-attention from x to context (the encoder's output).

        With a KVCache, x holds only the new tokens: their keys and values are appended to the
        cache and the queries attend to every cached key (causally when causal=True).
        """
        rec, x = as_trace(trace), as_float(x)  # (B, T, C)
        C = self.W_Q.shape[1]
        if context is None:
            q, k, v = self.split_heads(linear(x, self.W_QKV, self.b_QKV), 3)  # (B, h, T, d_k) each
        else:
            b_KV = None if self.b_QKV is None else self.b_QKV[C:]  # (2C,)
            (q,) = self.split_heads(linear(x, self.W_Q, self.b_Q), 1)  # (B, h, T, d_k)
            k, v = self.split_heads(linear(as_float(context), self.W_QKV[:, C:], b_KV), 2)  # (B, h, S, d_k)
        rec("q", q)
        if cache is not None:
            k, v = cache.append(k, v)  # (B, h, S_past + S, d_k)
        rec("k", k)
        rec("v", v)
        # Q Kᵀ computed as (K Qᵀ)ᵀ, a view: each query's row of scores then lies down a column in
        # memory, where NumPy's max and sum over the keys (softmax) run about twice as fast.
        scores = rec("scores", (k @ q.swapaxes(-1, -2)).swapaxes(-1, -2))  # (B, h, T, S)
        scaled = scores * scores.dtype.type(1 / math.sqrt(self.d_k))  # (B, h, T, S)
        allowed = allowed_keys(q.shape[-2], k.shape[-2], attention_mask, mask, causal)  # (B, 1, T, S)
        if allowed is not None and not allowed.all():
            scaled += np.where(allowed, 0, -np.inf).astype(scaled.dtype)  # (B, h, T, S) -inf where masked
        rec("scaled", scaled)
        weights = rec("weights", softmax(scaled))  # (B, h, T, S)
        heads = rec("heads", weights @ v)  # (B, h, T, d_k)
        concat = rec("concat", heads.swapaxes(-3, -2).reshape(x.shape))  # (B, T, C)
        return rec("out", linear(concat, self.W_O, self.b_O))  # (B, T, C)


class FeedForward:
    """Two linear maps around an activation: C -> d_ff -> C; SwiGLU adds a gate projection."""

    def __init__(self, W_1, b_1, W_2, b_2, activation: str = "gelu", W_gate=None, b_gate=None):
        self.W_1, self.b_1, self.W_2, self.b_2 = W_1, b_1, W_2, b_2  # (C, F), (F,), (F, C), (C,)
        self.W_gate, self.b_gate = W_gate, b_gate  # (C, F), (F,): SwiGLU only
        self.activation = activation

    @classmethod
    def from_state_dict(cls, sd: Mapping, activation: str, prefix: str = "") -> FeedForward:
        """torch names: linear1 (C -> F), linear2 (F -> C), and linear_gate for SwiGLU."""
        gate = _get_linear(sd, prefix + "linear_gate.") if activation == "swiglu" else (None, None)
        return cls(
            *_get_linear(sd, prefix + "linear1."), *_get_linear(sd, prefix + "linear2."), activation, *gate
        )

    def __call__(self, x: Array, trace=None) -> Array:
        rec = as_trace(trace)
        hidden = rec("hidden", linear(x, self.W_1, self.b_1))  # (B, T, F)
        if self.activation == "swiglu":
            gate = rec("gate", linear(x, self.W_gate, self.b_gate))  # (B, T, F)
            act = rec("act", swiglu(gate, hidden))  # (B, T, F)
        else:
            act = rec("act", ACTIVATIONS[self.activation](hidden))  # (B, T, F)
        return rec("out", linear(act, self.W_2, self.b_2))  # (B, T, C)


def _norm(sd: Mapping, prefix: str, cfg: Config) -> Norm:
    return Norm.from_state_dict(sd, prefix, cfg.eps, cfg.norm)


class EncoderLayer:
    """Self-attention then the FFN, each inside a residual connection.

    Post-LN (Vaswani, BERT): x = norm(x + sublayer(x)). Pre-LN (GPT-2): x = x + sublayer(norm(x)).
    With causal=True this is also the GPT block.
    """

    def __init__(
        self, attn: MultiHeadAttention, ffn: FeedForward, norm1: Norm, norm2: Norm, norm_first: bool
    ):
        self.attn, self.ffn, self.norm1, self.norm2, self.norm_first = attn, ffn, norm1, norm2, norm_first

    @classmethod
    def from_state_dict(cls, sd: Mapping, cfg: Config, prefix: str = "") -> EncoderLayer:
        """nn.TransformerEncoderLayer names: self_attn.*, linear1, linear2, norm1, norm2."""
        attn = MultiHeadAttention.from_state_dict(sd, cfg.n_heads, prefix + "self_attn.")
        ffn = FeedForward.from_state_dict(sd, cfg.activation, prefix)
        return cls(
            attn, ffn, _norm(sd, prefix + "norm1.", cfg), _norm(sd, prefix + "norm2.", cfg), cfg.norm_first
        )

    def __call__(self, x, *, attention_mask=None, mask=None, causal=False, cache=None, trace=None) -> Array:
        rec, x = as_trace(trace), as_float(x)  # (B, T, C)
        t_attn, t_ffn, t_norm1, t_norm2 = (rec.sub(name) for name in ("attn", "ffn", "norm1", "norm2"))
        masks = dict(attention_mask=attention_mask, mask=mask, causal=causal, cache=cache)
        if self.norm_first:
            x = rec("resid1", x + self.attn(self.norm1(x, t_norm1), **masks, trace=t_attn))  # (B, T, C)
            x = rec("resid2", x + self.ffn(self.norm2(x, t_norm2), t_ffn))  # (B, T, C)
        else:
            x = self.norm1(rec("resid1", x + self.attn(x, **masks, trace=t_attn)), t_norm1)  # (B, T, C)
            x = self.norm2(rec("resid2", x + self.ffn(x, t_ffn)), t_norm2)  # (B, T, C)
        return rec("out", x)  # (B, T, C)


class DecoderLayer:
    """Causal self-attention, cross-attention to the encoder output (memory), then the FFN."""

    def __init__(self, self_attn, cross_attn, ffn, norm1: Norm, norm2: Norm, norm3: Norm, norm_first: bool):
        self.self_attn, self.cross_attn, self.ffn = self_attn, cross_attn, ffn
        self.norm1, self.norm2, self.norm3, self.norm_first = norm1, norm2, norm3, norm_first

    @classmethod
    def from_state_dict(cls, sd: Mapping, cfg: Config, prefix: str = "") -> DecoderLayer:
        """nn.TransformerDecoderLayer names: self_attn, multihead_attn, linear1/2, norm1/2/3."""
        self_attn = MultiHeadAttention.from_state_dict(sd, cfg.n_heads, prefix + "self_attn.")
        cross_attn = MultiHeadAttention.from_state_dict(sd, cfg.n_heads, prefix + "multihead_attn.")
        ffn = FeedForward.from_state_dict(sd, cfg.activation, prefix)
        norms = (_norm(sd, f"{prefix}norm{i}.", cfg) for i in (1, 2, 3))
        return cls(self_attn, cross_attn, ffn, *norms, cfg.norm_first)

    def __call__(
        self, x, memory, *, attention_mask=None, memory_mask=None, mask=None, causal=True, trace=None
    ) -> Array:
        """attention_mask / memory_mask: 1 for real and 0 for padded target / memory tokens."""
        rec, x, memory = as_trace(trace), as_float(x), as_float(memory)  # (B, T, C), (B, S, C)
        t_self, t_cross, t_ffn = rec.sub("self_attn"), rec.sub("cross_attn"), rec.sub("ffn")
        t_norm1, t_norm2, t_norm3 = rec.sub("norm1"), rec.sub("norm2"), rec.sub("norm3")

        def self_attn(y: Array) -> Array:
            return self.self_attn(y, attention_mask=attention_mask, mask=mask, causal=causal, trace=t_self)

        def cross_attn(y: Array) -> Array:
            return self.cross_attn(y, memory, attention_mask=memory_mask, trace=t_cross)

        if self.norm_first:
            x = rec("resid1", x + self_attn(self.norm1(x, t_norm1)))  # (B, T, C)
            x = rec("resid2", x + cross_attn(self.norm2(x, t_norm2)))  # (B, T, C)
            x = rec("resid3", x + self.ffn(self.norm3(x, t_norm3), t_ffn))  # (B, T, C)
        else:
            x = self.norm1(rec("resid1", x + self_attn(x)), t_norm1)  # (B, T, C)
            x = self.norm2(rec("resid2", x + cross_attn(x)), t_norm2)  # (B, T, C)
            x = self.norm3(rec("resid3", x + self.ffn(x, t_ffn)), t_norm3)  # (B, T, C)
        return rec("out", x)  # (B, T, C)


class Embeddings:
    """Token + position (+ token type) embeddings, normalised in BERT."""

    def __init__(self, tok: Array, pos: Array, types: Array | None = None, norm: Norm | None = None):
        self.tok, self.pos, self.types, self.norm = tok, pos, types, norm  # (V, C), (P, C), (Ty, C)

    def __call__(self, ids, token_type_ids=None, offset: int = 0, trace=None) -> Array:
        rec, ids = as_trace(trace), np.asarray(ids)  # (B, T)
        T = ids.shape[-1]
        if offset + T > len(self.pos):
            raise ValueError(f"{offset + T} positions exceed max_positions {len(self.pos)}")
        x = rec("tok", self.tok[ids]) + rec("pos", self.pos[offset : offset + T])  # (B, T, C)
        if self.types is not None:
            types = np.zeros_like(ids) if token_type_ids is None else np.asarray(token_type_ids)  # (B, T)
            x = x + rec("type", self.types[types])  # (B, T, C)
        if self.norm is not None:
            x = self.norm(rec("sum", x), rec.sub("norm"))  # (B, T, C)
        return rec("out", x)  # (B, T, C)


class MLMHead:
    """BERT's masked-LM head: dense + GELU + LayerNorm, then the tied decoder with its own bias."""

    def __init__(self, W: Array, b: Array, norm: Norm, decoder: Array, bias: Array, activation: str = "gelu"):
        self.W, self.b, self.norm = W, b, norm  # (C, C), (C,)
        self.decoder, self.bias, self.activation = decoder, bias, activation  # (V, C), (V,)

    def __call__(self, h: Array, trace=None) -> Array:
        rec = as_trace(trace)
        x = rec("dense", linear(h, self.W, self.b))  # (B, T, C)
        x = self.norm(rec("act", ACTIVATIONS[self.activation](x)), rec.sub("norm"))  # (B, T, C)
        return rec("logits", x @ self.decoder.T + self.bias)  # (B, T, V)


class Transformer:
    """Embeddings, a stack of EncoderLayers (causal for an LM), a final norm when pre-LN, and a head:
    logits = h Eᵀ through the tied token embedding E, or BERT's MLM head."""

    def __init__(self, cfg: Config, embed: Embeddings, layers: list, norm=None, mlm=None):
        self.cfg, self.embed, self.layers, self.norm, self.mlm = cfg, embed, layers, norm, mlm
        keep_freed_memory()  # a forward pass allocates tens of MB of activations: reuse them

    @classmethod
    def from_state_dict(cls, cfg: Config, sd: Mapping) -> Transformer:
        """Names as init_state_dict writes them; each layer uses nn.TransformerEncoderLayer's names."""
        if cfg.positions == "learned":
            pos = _get(sd, "pos_emb.weight")  # (P, C)
        else:
            pos = sinusoidal_positional_encoding(cfg.max_positions, cfg.d_model)  # (P, C)
        tok = _get(sd, "tok_emb.weight")  # (V, C)
        pos = pos.astype(tok.dtype, copy=False)
        types = _get(sd, "type_emb.weight") if cfg.type_vocab_size else None  # (Ty, C)
        embed = Embeddings(tok, pos, types, _norm(sd, "emb_norm.", cfg) if cfg.embed_norm else None)
        layers = [EncoderLayer.from_state_dict(sd, cfg, f"layers.{i}.") for i in range(cfg.n_layers)]
        norm = _norm(sd, "norm.", cfg) if cfg.norm_first else None
        mlm = None
        if cfg.mlm_head:
            W, b = _get_linear(sd, "mlm.dense.")  # (C, C), (C,)
            mlm = MLMHead(W, b, _norm(sd, "mlm.norm.", cfg), tok, _get(sd, "mlm.bias"), _mlm_act(cfg))
        return cls(cfg, embed, layers, norm, mlm)

    @classmethod
    def random(cls, cfg: Config, seed: int = 0, dtype=np.float64) -> Transformer:
        return cls.from_state_dict(cfg, init_state_dict(cfg, seed, dtype))

    @classmethod
    def from_bert(cls, sd: Mapping, cfg: Config) -> Transformer:
        """A Hugging Face BertModel / BertForMaskedLM state dict (names with or without "bert.")."""
        p = "bert." if "bert.embeddings.word_embeddings.weight" in sd else ""

        def ln(name: str) -> Norm:
            return Norm(_get(sd, name + ".weight"), _get(sd, name + ".bias"), cfg.eps)

        e = p + "embeddings."
        tok = _get(sd, e + "word_embeddings.weight")  # (V, C)
        embed = Embeddings(
            tok,
            _get(sd, e + "position_embeddings.weight"),
            _get(sd, e + "token_type_embeddings.weight"),
            ln(e + "LayerNorm"),
        )
        layers = []
        for i in range(cfg.n_layers):
            L = f"{p}encoder.layer.{i}."
            names = ("query", "key", "value")
            W_QKV = _side_by_side([_get(sd, f"{L}attention.self.{n}.weight").T for n in names])  # (C, 3C)
            b_QKV = np.concatenate([_get(sd, f"{L}attention.self.{n}.bias") for n in names])  # (3C,)
            W_O, b_O = _get_linear(sd, L + "attention.output.dense.")  # (C, C), (C,)
            attn = MultiHeadAttention.fused(W_QKV, b_QKV, W_O, b_O, cfg.n_heads)
            ffn = FeedForward(
                *_get_linear(sd, L + "intermediate.dense."),
                *_get_linear(sd, L + "output.dense."),
                cfg.activation,
            )
            layers.append(
                EncoderLayer(
                    attn, ffn, ln(L + "attention.output.LayerNorm"), ln(L + "output.LayerNorm"), False
                )
            )
        mlm = None
        if "cls.predictions.bias" in sd:
            t = "cls.predictions.transform."
            W, b = _get_linear(sd, t + "dense.")  # (C, C), (C,)
            mlm = MLMHead(W, b, ln(t + "LayerNorm"), tok, _get(sd, "cls.predictions.bias"), _mlm_act(cfg))
        return cls(cfg, embed, layers, None, mlm)

    def new_cache(self) -> list[KVCache]:
        if not self.cfg.causal:
            raise ValueError("a KV cache needs a causal model")
        return [KVCache() for _ in self.layers]

    def __call__(self, ids, token_type_ids=None, attention_mask=None, cache=None, trace=None) -> Array:
        """The final hidden states (B, T, C).

        With a cache (from new_cache), ids are only the new tokens and an attention_mask must cover
        every cached token as well.
        """
        rec = as_trace(trace)
        offset = 0 if cache is None else len(cache[0])
        x = self.embed(ids, token_type_ids, offset, rec.sub("embed"))  # (B, T, C)
        for i, layer in enumerate(self.layers):
            layer_cache = None if cache is None else cache[i]
            x = layer(
                x,
                attention_mask=attention_mask,
                causal=self.cfg.causal,
                cache=layer_cache,
                trace=rec.sub(f"layer{i}"),
            )  # (B, T, C)
        if self.norm is not None:
            x = self.norm(x, rec.sub("norm"))  # (B, T, C)
        return rec("hidden", x)  # (B, T, C)

    def logits(self, ids, token_type_ids=None, attention_mask=None, cache=None, trace=None) -> Array:
        rec = as_trace(trace)
        h = self(ids, token_type_ids, attention_mask, cache, rec)  # (B, T, C)
        if self.mlm is not None:
            return self.mlm(h, rec.sub("mlm"))  # (B, T, V)
        return rec("logits", h @ self.embed.tok.T)  # (B, T, V)


def _mlm_act(cfg: Config) -> str:
    return "gelu" if cfg.activation == "swiglu" else cfg.activation


def init_state_dict(cfg: Config, seed: int = 0, dtype=np.float64) -> dict[str, Array]:
    """Random parameters in torch layout ((out, in) weights), named as Transformer.from_state_dict reads.

    Weights ~ N(0, 1/fan_in) keep activations near unit scale; norm weights and biases are perturbed
    from 1 and 0 so that a test can tell γ from β.
    """
    rng = np.random.default_rng(seed)
    C, F, V = cfg.d_model, cfg.d_ff, cfg.vocab_size
    sd: dict[str, Array] = {}

    def linear_(name: str, n_out: int, n_in: int, weight: str = ".weight", bias: str = ".bias") -> None:
        sd[name + weight] = rng.normal(0, 1 / math.sqrt(n_in), (n_out, n_in))
        if cfg.bias:
            sd[name + bias] = rng.normal(0, 0.1, n_out)

    def norm_(name: str) -> None:
        sd[name + ".weight"] = 1 + rng.normal(0, 0.1, C)
        if cfg.norm == "layer":
            sd[name + ".bias"] = rng.normal(0, 0.1, C)

    sd["tok_emb.weight"] = rng.normal(0, 1, (V, C))
    if cfg.positions == "learned":
        sd["pos_emb.weight"] = rng.normal(0, 0.5, (cfg.max_positions, C))
    if cfg.type_vocab_size:
        sd["type_emb.weight"] = rng.normal(0, 0.5, (cfg.type_vocab_size, C))
    if cfg.embed_norm:
        norm_("emb_norm")
    for i in range(cfg.n_layers):
        L = f"layers.{i}."
        linear_(L + "self_attn.in_proj", 3 * C, C, "_weight", "_bias")  # W_Q, W_K, W_V stacked
        linear_(L + "self_attn.out_proj", C, C)
        linear_(L + "linear1", F, C)
        if cfg.activation == "swiglu":
            linear_(L + "linear_gate", F, C)
        linear_(L + "linear2", C, F)
        norm_(L + "norm1")
        norm_(L + "norm2")
    if cfg.norm_first:
        norm_("norm")
    if cfg.mlm_head:
        linear_("mlm.dense", C, C)
        norm_("mlm.norm")
        sd["mlm.bias"] = rng.normal(0, 0.1, V)
    return {name: value.astype(dtype) for name, value in sd.items()}


def greedy_decode(
    model: Transformer, ids, n_new: int, use_cache: bool = True, trace=None
) -> tuple[Array, Array]:
    """Append n_new argmax tokens. With the cache each step feeds only the newest token; without it
    each step recomputes the whole prefix. Returns the ids (B, T + n_new) and each step's logits."""
    rec, ids = as_trace(trace), np.asarray(ids)  # (B, T)
    cache = model.new_cache() if use_cache else None
    step_input, steps = ids, []
    for step in range(n_new):
        logits = model.logits(
            step_input if use_cache else ids, cache=cache, trace=rec.sub(f"step{step}")
        )  # (B, T', V)
        last = logits[..., -1, :]  # (B, V)
        steps.append(last)
        step_input = np.argmax(last, axis=-1)[..., None]  # (B, 1)
        ids = np.concatenate([ids, step_input], axis=-1)  # (B, T + step + 1)
    return ids, np.stack(steps, axis=-2)  # (B, T + n_new), (B, n_new, V)
