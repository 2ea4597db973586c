"""derive.forward against PyTorch (float64, to 1e-10) and against independent formulas."""

from __future__ import annotations

import importlib
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from derive import forward as fw


def _require(module: str):
    """Import a reference library: outside CI its absence skips the test, in CI it is an error."""
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


TOL = 1e-10


def close(ours, theirs, tol: float = TOL) -> None:
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=tol)


@pytest.fixture(scope="module")
def torch():
    torch = _require("torch")
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(torch.float32)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def randomize(torch, module, seed: int):
    """torch initialises biases to 0 and norms to 1; random values let a test catch a swapped or lost one."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=p.dtype)
            p.copy_(1 + 0.1 * noise if "norm" in name and name.endswith("weight") else 0.4 * noise)
    return module.double().eval()


def padding(rng, batch: int, n: int) -> np.ndarray:
    """1 for real tokens, 0 for padding at the end; every row keeps at least one real token."""
    lengths = rng.integers(1, n + 1, batch)
    lengths[0] = n
    return (np.arange(n)[None, :] < lengths[:, None]).astype(np.int64)  # (B, T)


# ------------------------------------------------------------------------------- functions


def test_softmax_matches_the_formula_and_does_not_overflow(rng):
    x = rng.normal(0, 3, (4, 6))
    expected = [[math.exp(v) / sum(math.exp(u) for u in row) for v in row] for row in x]
    np.testing.assert_allclose(fw.softmax(x), expected, rtol=1e-14)
    np.testing.assert_allclose(fw.softmax(x, temperature=2.0), fw.softmax(x / 2), rtol=1e-14)
    np.testing.assert_allclose(fw.softmax(x, axis=0).sum(axis=0), 1, rtol=1e-14)
    # the published example of the core issue
    np.testing.assert_allclose(fw.softmax([1000, 1001, 1002]), [0.0900, 0.2447, 0.6652], atol=5e-5)


def test_sinusoidal_pe_matches_the_formula():
    pe = fw.sinusoidal_positional_encoding(7, 6, base=100.0)
    for pos in range(7):
        for dim in range(6):
            angle = pos / 100.0 ** (2 * (dim // 2) / 6)
            assert pe[pos, dim] == pytest.approx(
                math.sin(angle) if dim % 2 == 0 else math.cos(angle), abs=1e-15
            )


def test_causal_mask_with_cached_keys():
    for n, n_keys in [(3, 3), (1, 4), (2, 5)]:
        offset = n_keys - n
        expected = [[j <= offset + i for j in range(n_keys)] for i in range(n)]
        assert fw.causal_mask(n, n_keys).tolist() == expected


def test_erf_against_math_erf():
    x = np.concatenate([np.linspace(-8, 8, 40001), np.geomspace(1e-300, 0.3, 500), [0.0, 6.0, 30.0, -1e300]])
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(fw.erf(x), expected, rtol=1e-15, atol=0)  # a few ulps
    x32 = x[np.abs(x) < 1e30].astype(np.float32)
    ours32 = fw.erf(x32)
    assert ours32.dtype == np.float32
    np.testing.assert_allclose(ours32, [math.erf(v) for v in x32.tolist()], rtol=0, atol=5e-7)
    assert fw.erf(0.5) == pytest.approx(math.erf(0.5), rel=1e-15) and fw.erf(np.float32(-4)) == pytest.approx(
        -1
    )
    assert np.isnan(fw.erf([np.nan])).all() and fw.erf([np.inf, -np.inf]).tolist() == [1.0, -1.0]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(torch, rng, approximate):
    x = np.concatenate([rng.normal(0, 3, 1000), np.linspace(-12, 12, 2001)])
    ours = fw.gelu(x) if approximate == "none" else fw.gelu_tanh(x)
    close(ours, torch.nn.functional.gelu(torch.from_numpy(x), approximate=approximate))


def test_float32_gelu_stays_float32_and_matches_torch(torch, rng):
    x = np.concatenate([rng.normal(0, 3, 5000), np.linspace(-12, 12, 2001)]).astype(np.float32)
    ours = fw.gelu(x)
    assert ours.dtype == np.float32
    expected = torch.nn.functional.gelu(torch.from_numpy(x)).numpy()
    assert np.all(np.abs(ours - expected) <= 5e-7 * np.maximum(np.abs(x), 1))  # erf's error, times |x|


def test_relu_silu_swiglu_match_torch(torch, rng):
    F = torch.nn.functional
    x, y = rng.normal(0, 4, (2, 50))
    close(fw.relu(x), F.relu(torch.from_numpy(x)))
    close(fw.silu(x), F.silu(torch.from_numpy(x)))
    close(fw.swiglu(x, y), F.silu(torch.from_numpy(x)) * torch.from_numpy(y))


def test_layer_norm_uses_population_variance_and_matches_torch(torch, rng):
    x = rng.normal(2, 3, (3, 5, 8))
    gamma, beta = rng.normal(1, 0.2, 8), rng.normal(0, 0.2, 8)
    trace = {}
    ours = fw.layer_norm(x, gamma, beta, eps=1e-5, trace=trace)
    tx, tg, tb = (torch.from_numpy(a) for a in (x, gamma, beta))
    close(ours, torch.nn.functional.layer_norm(tx, (8,), tg, tb, eps=1e-5))
    np.testing.assert_allclose(trace["var"][..., 0], np.var(x, axis=-1, ddof=0), rtol=1e-13)


def test_rms_norm_matches_torch(torch, rng):
    F = torch.nn.functional
    if not hasattr(F, "rms_norm"):
        pytest.skip("this torch has no rms_norm")
    x, gamma = rng.normal(1, 2, (4, 6)), rng.normal(1, 0.2, 6)
    close(
        fw.rms_norm(x, gamma, eps=1e-6),
        F.rms_norm(torch.from_numpy(x), (6,), torch.from_numpy(gamma), eps=1e-6),
    )


@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_matches_torch(torch, rng, causal):
    q, k, v = rng.normal(0, 1, (3, 2, 2, 5, 4))
    ours, weights = fw.scaled_dot_product_attention(q, k, v, fw.causal_mask(5) if causal else None)
    tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
    close(ours, torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=causal))
    np.testing.assert_allclose(weights.sum(axis=-1), 1, rtol=1e-14)


def test_sdpa_with_a_boolean_mask_matches_torch(torch, rng):
    q, k, v = rng.normal(0, 1, (3, 2, 4, 6, 3))
    mask = rng.random((6, 6)) < 0.6
    mask[:, 0] = True
    ours, _ = fw.scaled_dot_product_attention(q, k, v, mask)
    tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
    close(
        ours, torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.from_numpy(mask))
    )


# ------------------------------------------------------------------------------- attention


def torch_mha(torch, d_model, n_heads, seed, bias=True):
    mha = torch.nn.MultiheadAttention(d_model, n_heads, dropout=0.0, bias=bias, batch_first=True)
    return randomize(torch, mha, seed)


@pytest.mark.parametrize("bias", [True, False])
def test_multi_head_attention_matches_torch_with_padding_and_mask(torch, rng, bias):
    B, T, C, h = 3, 6, 8, 2
    mha = torch_mha(torch, C, h, seed=1, bias=bias)
    ours = fw.MultiHeadAttention.from_state_dict(mha.state_dict(), h)
    x = rng.normal(0, 1, (B, T, C))
    keep = padding(rng, B, T)
    mask = rng.random((T, T)) < 0.7
    mask[:, 0] = True
    trace = {}
    out = ours(x, attention_mask=keep, mask=mask, trace=trace)
    tx = torch.from_numpy(x)
    expected, weights = mha(
        tx,
        tx,
        tx,
        key_padding_mask=torch.from_numpy(keep == 0),
        attn_mask=torch.from_numpy(~mask),
        average_attn_weights=False,
    )
    close(out, expected)
    close(trace["weights"], weights)
    padded = np.broadcast_to(keep[:, None, None, :] == 0, trace["weights"].shape)
    assert padded.any() and np.all(trace["weights"][padded] == 0)


def test_multi_head_attention_causal_matches_torch(torch, rng):
    B, T, C, h = 2, 5, 12, 3
    mha = torch_mha(torch, C, h, seed=2)
    ours = fw.MultiHeadAttention.from_state_dict(mha.state_dict(), h)
    x = rng.normal(0, 1, (B, T, C))
    tx = torch.from_numpy(x)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64)
    expected, _ = mha(tx, tx, tx, attn_mask=causal, is_causal=True)
    close(ours(x, causal=True), expected)


def test_cross_attention_matches_torch(torch, rng):
    B, T, S, C, h = 2, 3, 5, 8, 4
    mha = torch_mha(torch, C, h, seed=3)
    ours = fw.MultiHeadAttention.from_state_dict(mha.state_dict(), h)
    x, memory = rng.normal(0, 1, (B, T, C)), rng.normal(0, 1, (B, S, C))
    keep = padding(rng, B, S)
    tx, tm = torch.from_numpy(x), torch.from_numpy(memory)
    expected, _ = mha(tx, tm, tm, key_padding_mask=torch.from_numpy(keep == 0))
    close(ours(x, memory, attention_mask=keep), expected)


def test_heads_are_column_slices_and_one_head_is_single_head_attention(rng):
    C, h, T = 6, 3, 4
    W_Q, W_K, W_V, W_O = rng.normal(0, 1, (4, C, C))
    x = rng.normal(0, 1, (T, C))
    mha = fw.MultiHeadAttention(W_Q, W_K, W_V, W_O, h)
    trace = {}
    mha(x, trace=trace)
    for head in range(h):
        cols = slice(2 * head, 2 * head + 2)
        expected, _ = fw.scaled_dot_product_attention(x @ W_Q[:, cols], x @ W_K[:, cols], x @ W_V[:, cols])
        np.testing.assert_allclose(trace["heads"][head], expected, rtol=1e-12)
        np.testing.assert_array_equal(mha.head_weights(head)[1], W_K[:, cols])
    single, _ = fw.scaled_dot_product_attention(x @ W_Q, x @ W_K, x @ W_V)
    one = fw.MultiHeadAttention(W_Q, W_K, W_V, np.eye(C), 1)
    np.testing.assert_allclose(one(x), single, rtol=1e-12)
    assert mha.n_params == 4 * C * C


# ------------------------------------------------------------------------------- layers


def layer_config(norm_first, activation, C=8, h=2, d_ff=16):
    return fw.Config(d_model=C, n_heads=h, d_ff=d_ff, activation=activation, norm_first=norm_first)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("causal", [False, True])
def test_encoder_layer_matches_torch(torch, rng, norm_first, activation, causal):
    B, T, C, h = 3, 5, 8, 2
    layer = torch.nn.TransformerEncoderLayer(
        C, h, 16, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first
    )
    layer = randomize(torch, layer, seed=4)
    ours = fw.EncoderLayer.from_state_dict(layer.state_dict(), layer_config(norm_first, activation))
    x = rng.normal(0, 1, (B, T, C))
    keep = padding(rng, B, T)
    src_mask = torch.from_numpy(~fw.causal_mask(T)) if causal else None
    expected = layer(torch.from_numpy(x), src_mask=src_mask, src_key_padding_mask=torch.from_numpy(keep == 0))
    trace = {}
    close(ours(x, attention_mask=keep, causal=causal, trace=trace), expected)
    assert trace["attn.weights"].shape == (B, h, T, T)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer_matches_torch(torch, rng, norm_first, activation):
    B, T, S, C, h = 2, 4, 6, 8, 2
    layer = torch.nn.TransformerDecoderLayer(
        C, h, 16, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first
    )
    layer = randomize(torch, layer, seed=5)
    ours = fw.DecoderLayer.from_state_dict(layer.state_dict(), layer_config(norm_first, activation))
    x, memory = rng.normal(0, 1, (B, T, C)), rng.normal(0, 1, (B, S, C))
    keep, keep_memory = padding(rng, B, T), padding(rng, B, S)
    expected = layer(
        torch.from_numpy(x),
        torch.from_numpy(memory),
        tgt_mask=torch.from_numpy(~fw.causal_mask(T)),
        tgt_key_padding_mask=torch.from_numpy(keep == 0),
        memory_key_padding_mask=torch.from_numpy(keep_memory == 0),
    )
    trace = {}
    close(ours(x, memory, attention_mask=keep, memory_mask=keep_memory, trace=trace), expected)
    assert trace["cross_attn.weights"].shape == (B, h, T, S)
    assert np.all(np.triu(trace["self_attn.weights"][0, 0], 1) == 0)


def test_swiglu_feed_forward_matches_torch(torch, rng):
    F = torch.nn.functional
    sd = {
        name: rng.normal(0, 0.5, shape)
        for name, shape in {
            "linear1.weight": (12, 4),
            "linear1.bias": (12,),
            "linear_gate.weight": (12, 4),
            "linear_gate.bias": (12,),
            "linear2.weight": (4, 12),
            "linear2.bias": (4,),
        }.items()
    }
    t = {name: torch.from_numpy(value) for name, value in sd.items()}
    x = rng.normal(0, 1, (3, 4))
    gate = F.silu(F.linear(torch.from_numpy(x), t["linear_gate.weight"], t["linear_gate.bias"]))
    up = F.linear(torch.from_numpy(x), t["linear1.weight"], t["linear1.bias"])
    expected = F.linear(gate * up, t["linear2.weight"], t["linear2.bias"])
    close(fw.FeedForward.from_state_dict(sd, "swiglu")(x), expected)


# ------------------------------------------------------------------------------- models


def torch_model(torch, cfg: fw.Config):
    """The same architecture from torch parts, loaded strictly from init_state_dict's names."""
    nn = torch.nn

    class Reference(nn.Module):
        def __init__(self):
            super().__init__()
            C = cfg.d_model
            self.tok_emb = nn.Embedding(cfg.vocab_size, C)
            self.pos_emb = nn.Embedding(cfg.max_positions, C)
            if cfg.type_vocab_size:
                self.type_emb = nn.Embedding(cfg.type_vocab_size, C)
            if cfg.embed_norm:
                self.emb_norm = nn.LayerNorm(C, eps=cfg.eps)
            self.layers = nn.ModuleList(
                nn.TransformerEncoderLayer(
                    C,
                    cfg.n_heads,
                    cfg.d_ff,
                    dropout=0.0,
                    activation=cfg.activation,
                    batch_first=True,
                    norm_first=cfg.norm_first,
                    layer_norm_eps=cfg.eps,
                )
                for _ in range(cfg.n_layers)
            )
            if cfg.norm_first:
                self.norm = nn.LayerNorm(C, eps=cfg.eps)
            if cfg.mlm_head:
                self.mlm = nn.Module()
                self.mlm.dense = nn.Linear(C, C)
                self.mlm.norm = nn.LayerNorm(C, eps=cfg.eps)
                self.mlm.bias = nn.Parameter(torch.zeros(cfg.vocab_size))

        def forward(self, ids, types, keep):
            T = ids.shape[-1]
            x = self.tok_emb(ids) + self.pos_emb(torch.arange(T))
            if cfg.type_vocab_size:
                x = x + self.type_emb(types)
            if cfg.embed_norm:
                x = self.emb_norm(x)
            mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1) if cfg.causal else None
            for layer in self.layers:
                x = layer(x, src_mask=mask, src_key_padding_mask=keep == 0)
            if cfg.norm_first:
                x = self.norm(x)
            if cfg.mlm_head:
                x = self.mlm.norm(torch.nn.functional.gelu(self.mlm.dense(x)))
                return x @ self.tok_emb.weight.T + self.mlm.bias
            return x @ self.tok_emb.weight.T

    model = Reference()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in fw.init_state_dict(cfg, seed=7).items()})
    return model.double().eval()


MODELS = {
    "gpt": fw.Config(
        d_model=8, n_heads=2, d_ff=24, n_layers=2, activation="gelu", norm_first=True, vocab_size=20
    ),
    "bert": fw.Config(
        d_model=12,
        n_heads=3,
        d_ff=20,
        n_layers=2,
        activation="gelu",
        vocab_size=25,
        eps=1e-12,
        type_vocab_size=2,
        embed_norm=True,
        causal=False,
        mlm_head=True,
    ),
    "vaswani": fw.Config(
        d_model=8, n_heads=4, d_ff=16, n_layers=3, activation="relu", vocab_size=15, causal=False
    ),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_transformer_matches_torch(torch, rng, name):
    cfg = MODELS[name]
    model = fw.Transformer.random(cfg, seed=7)
    B, T = 3, 6
    ids, types = rng.integers(0, cfg.vocab_size, (B, T)), rng.integers(0, 2, (B, T))
    keep = padding(rng, B, T)
    expected = torch_model(torch, cfg)(*(torch.from_numpy(a) for a in (ids, types, keep)))
    trace = {}
    close(model.logits(ids, types if cfg.type_vocab_size else None, keep, trace=trace), expected)
    assert trace["layer1.attn.weights"].shape == (B, cfg.n_heads, T, T)
    assert trace["embed.tok"].shape == (B, T, cfg.d_model)


def bert_state_dict(cfg: fw.Config, rng) -> dict[str, np.ndarray]:
    C, F, V = cfg.d_model, cfg.d_ff, cfg.vocab_size
    shapes = {
        "bert.embeddings.word_embeddings.weight": (V, C),
        "bert.embeddings.position_embeddings.weight": (cfg.max_positions, C),
        "bert.embeddings.token_type_embeddings.weight": (2, C),
        "bert.embeddings.LayerNorm.weight": (C,),
        "bert.embeddings.LayerNorm.bias": (C,),
        "cls.predictions.transform.dense.weight": (C, C),
        "cls.predictions.transform.dense.bias": (C,),
        "cls.predictions.transform.LayerNorm.weight": (C,),
        "cls.predictions.transform.LayerNorm.bias": (C,),
        "cls.predictions.bias": (V,),
    }
    for i in range(cfg.n_layers):
        L = f"bert.encoder.layer.{i}."
        for name in (
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
        ):
            shapes[L + name + ".weight"], shapes[L + name + ".bias"] = (C, C), (C,)
        shapes[L + "intermediate.dense.weight"], shapes[L + "intermediate.dense.bias"] = (F, C), (F,)
        shapes[L + "output.dense.weight"], shapes[L + "output.dense.bias"] = (C, F), (C,)
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[L + name + ".weight"], shapes[L + name + ".bias"] = (C,), (C,)
    return {
        name: rng.normal(1 if "LayerNorm.weight" in name else 0, 0.4, shape) for name, shape in shapes.items()
    }


def torch_bert(torch, sd, cfg, ids, types, keep):
    """BERT written out with torch.nn.functional, straight from the Hugging Face parameter names."""
    F = torch.nn.functional
    t = {k: torch.from_numpy(v) for k, v in sd.items()}

    def lin(x, name):
        return F.linear(x, t[name + ".weight"], t[name + ".bias"])

    def ln(x, name):
        return F.layer_norm(x, (cfg.d_model,), t[name + ".weight"], t[name + ".bias"], cfg.eps)

    e = "bert.embeddings."
    T, h, d = ids.shape[1], cfg.n_heads, cfg.d_k
    x = t[e + "word_embeddings.weight"][ids] + t[e + "position_embeddings.weight"][:T]
    x = ln(x + t[e + "token_type_embeddings.weight"][types], e + "LayerNorm")
    additive = (1.0 - keep[:, None, None, :].double()) * torch.finfo(torch.float64).min
    for i in range(cfg.n_layers):
        L = f"bert.encoder.layer.{i}."
        q, k, v = (
            lin(x, L + "attention.self." + n).view(len(ids), T, h, d).transpose(1, 2)
            for n in ("query", "key", "value")
        )
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + additive, dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(len(ids), T, cfg.d_model)
        x = ln(x + lin(context, L + "attention.output.dense"), L + "attention.output.LayerNorm")
        x = ln(x + lin(F.gelu(lin(x, L + "intermediate.dense")), L + "output.dense"), L + "output.LayerNorm")
    hidden = x
    x = ln(F.gelu(lin(x, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm")
    return hidden, x @ t[e + "word_embeddings.weight"].T + t["cls.predictions.bias"]


def test_from_bert_matches_a_functional_torch_bert(torch, rng):
    config = {
        "hidden_size": 12,
        "num_attention_heads": 3,
        "intermediate_size": 24,
        "num_hidden_layers": 2,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-12,
        "vocab_size": 30,
        "max_position_embeddings": 16,
        "type_vocab_size": 2,
    }
    cfg = fw.Config.from_bert(config)
    sd = bert_state_dict(cfg, rng)
    model = fw.Transformer.from_bert(sd, cfg)
    ids, types = rng.integers(0, 30, (2, 7)), rng.integers(0, 2, (2, 7))
    keep = padding(rng, 2, 7)
    hidden, logits = torch_bert(torch, sd, cfg, *(torch.from_numpy(a) for a in (ids, types, keep)))
    trace = {}
    close(model.logits(ids, types, keep, trace=trace), logits)
    close(trace["hidden"], hidden)
    stripped = fw.Transformer.from_bert({k.removeprefix("bert."): v for k, v in sd.items()}, cfg)
    np.testing.assert_array_equal(stripped(ids, types, keep), trace["hidden"])


def test_loading_copies_each_weight_at_most_once(rng):
    cfg = fw.Config.from_bert(
        {
            "hidden_size": 4,
            "num_attention_heads": 2,
            "intermediate_size": 8,
            "num_hidden_layers": 1,
            "vocab_size": 10,
            "max_position_embeddings": 8,
        }
    )
    sd = bert_state_dict(cfg, rng)
    model = fw.Transformer.from_bert(sd, cfg)
    attn = model.layers[0].attn
    assert attn.W_QKV.flags.c_contiguous and attn.W_QKV.shape == (4, 12)
    for W, b, name in (
        (attn.W_Q, attn.b_Q, "query"),
        (attn.W_K, attn.b_K, "key"),
        (attn.W_V, attn.b_V, "value"),
    ):
        assert np.shares_memory(W, attn.W_QKV) and np.shares_memory(b, attn.b_QKV)  # views, not copies
        np.testing.assert_array_equal(W, sd[f"bert.encoder.layer.0.attention.self.{name}.weight"].T)
        np.testing.assert_array_equal(b, sd[f"bert.encoder.layer.0.attention.self.{name}.bias"])
    assert model.embed.tok is sd["bert.embeddings.word_embeddings.weight"]
    assert model.layers[0].norm1.weight is sd["bert.encoder.layer.0.attention.output.LayerNorm.weight"]


# ------------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("norm_first", [False, True])
def test_kv_cached_decoding_equals_full_recomputation(rng, norm_first):
    cfg = fw.Config(d_model=8, n_heads=2, d_ff=16, n_layers=2, vocab_size=12, norm_first=norm_first)
    model = fw.Transformer.random(cfg, seed=3)
    prompt = rng.integers(0, 12, (2, 3))
    cached_trace = {}
    ids, steps = fw.greedy_decode(model, prompt, 5, use_cache=True, trace=cached_trace)
    full_ids, full_steps = fw.greedy_decode(model, prompt, 5, use_cache=False)
    np.testing.assert_array_equal(ids, full_ids)
    np.testing.assert_allclose(steps, full_steps, rtol=0, atol=1e-12)
    # each step's logits equal a from-scratch causal pass over the prefix
    for step in range(5):
        prefix = ids[:, : 3 + step]
        np.testing.assert_allclose(steps[:, step], model.logits(prefix)[:, -1], rtol=0, atol=1e-12)
    # the cache grew one row per token, and its keys are those of a full pass
    assert cached_trace["step4.layer1.attn.k"].shape == (2, 2, 7, 4)
    full = {}
    model(ids[:, :7], trace=full)
    np.testing.assert_allclose(cached_trace["step4.layer1.attn.k"], full["layer1.attn.k"], rtol=0, atol=1e-12)


def test_kv_cache_counts_rows_and_bytes():
    cache = fw.KVCache()
    assert len(cache) == 0 and cache.nbytes == 0
    cache.append(np.zeros((1, 2, 3, 4)), np.zeros((1, 2, 3, 4)))
    cache.append(np.ones((1, 2, 1, 4)), np.ones((1, 2, 1, 4)))
    assert len(cache) == 4 and cache.nbytes == 2 * 2 * 4 * 4 * 8
    with pytest.raises(ValueError):
        fw.Transformer.random(fw.Config(causal=False)).new_cache()


def test_random_parameters_are_seeded():
    cfg = fw.Config(activation="swiglu", norm="rms", positions="sinusoidal", bias=False)
    a, b, c = (fw.init_state_dict(cfg, seed) for seed in (1, 1, 2))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["tok_emb.weight"], c["tok_emb.weight"])
    model = fw.Transformer.random(cfg, seed=1)
    assert model(np.arange(5)).shape == (5, cfg.d_model)


def test_config_rejects_bad_shapes():
    with pytest.raises(ValueError, match="divisible"):
        fw.Config(d_model=10, n_heads=3)
    with pytest.raises(ValueError, match="activation"):
        fw.Config(activation="tanh")


def test_importing_forward_loads_neither_torch_nor_sympy():
    code = "import sys, derive.forward; print('torch' in sys.modules, 'sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
