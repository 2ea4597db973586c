"""The cost topic: published parameter counts, the shipped MiniLM checkpoint, PyTorch's own modules,
the papers' KV-cache and activation formulas by hand, misconceptions, follow-through and bad input."""

from __future__ import annotations

import json
import struct
from math import prod

import numpy as np
import pytest
import sympy as sp
from conftest import minilm_dir, require

from derive import check, registry
from derive.api import derive, parse_options
from derive.costmodel import checkpoint_count, configure, formulas, presets, shapes
from derive.costmodel.expr import closed_form, inline, to_sympy
from derive.errors import InputError
from derive.render import render

TOPIC = registry.get("cost")

# Exact totals of the released checkpoints (base models; GPT-2's tied head counted once).
PUBLISHED = {
    "gpt2": 124_439_808,
    "gpt2-medium": 354_823_168,
    "gpt2-large": 774_030_080,
    "gpt2-xl": 1_557_611_200,
    "bert-base": 109_482_240,
    "bert-large": 335_141_888,
    "distilbert": 66_362_880,
}


def _answers(**options):
    return derive("cost", **options).answers


def _grade(answers, **options):
    return check.check(TOPIC, options, answers)


# --- published counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("preset,count", PUBLISHED.items())
def test_formula_gives_the_published_count(preset, count):
    assert _answers(preset=preset)["parameters"] == count
    assert presets.PRESETS[preset].published == count


@pytest.mark.parametrize("preset", presets.PRESETS)
def test_formula_equals_the_independent_shape_list(preset):
    model = presets.PRESETS[preset]
    assert _answers(preset=preset)["parameters"] == shapes.count(model)


def test_gpt2_small_from_a_shape_list_written_here():
    """GPT-2's tensors as Hugging Face names them, typed out independently of derive's code."""
    d, ff, vocab, ctx = 768, 3072, 50257, 1024
    layer = [(d,), (d,), (d, 3 * d), (3 * d,), (d, d), (d,), (d,), (d,), (d, ff), (ff,), (ff, d), (d,)]
    tensors = [(vocab, d), (ctx, d)] + layer * 12 + [(d,), (d,)]
    assert sum(int(np.prod(s)) for s in tensors) == 124_439_808
    assert _answers(preset="gpt2")["parameters"] == sum(int(np.prod(s)) for s in tensors)


def test_vaswani_counts_and_the_papers_rounding():
    base, big = _answers(preset="transformer-base"), _answers(preset="transformer-big")
    assert base["parameters"] == 63_082_496 and big["parameters"] == 214_245_376
    assert round(big["parameters"] / 1e6) in (213, 214)  # Table 3: 213 million
    assert base["lm_head"] == 0 and base["embeddings"] == 37000 * 512  # one shared, tied matrix


def test_the_tied_head_is_counted_once_and_untying_adds_it():
    tied = _answers(preset="gpt2")
    untied = _answers(preset="gpt2", head="untied")
    assert tied["lm_head"] == 0
    assert untied["parameters"] - tied["parameters"] == 50257 * 768


# --- the shipped MiniLM checkpoint ---------------------------------------------------------------------


def test_minilm_formula_equals_the_checkpoints_tensors():
    folder = minilm_dir()
    checkpoint = checkpoint_count.load(str(folder))
    assert set(checkpoint.buffers) == {"embeddings.position_ids"}
    assert _answers(preset="minilm-l6")["parameters"] == checkpoint.parameters == 22_713_216
    expected = dict(shapes.shapes(presets.PRESETS["minilm-l6"]))
    assert checkpoint.tensors == expected  # every name and every shape


def test_minilm_header_read_with_the_standard_library_only():
    path = minilm_dir() / "model.safetensors"
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    values = sum(
        prod(v["shape"]) for k, v in header.items() if k != "__metadata__" and "position_ids" not in k
    )
    assert values == _answers(preset="minilm-l6")["parameters"]


def test_model_option_sets_the_checkpoint_beside_the_formula(cli):
    folder = str(minilm_dir())
    code, out, err = cli("cost", "--preset", "minilm-l6", "--model", folder)
    assert code == 0, err
    assert "P_checkpoint = 22713216" in out and "equals the formula's total" in out
    code, out, err = cli("cost", "--model", folder, "-f", "json")  # sizes from its config.json
    assert code == 0, err
    data = json.loads(out)
    assert data["answers"]["parameters"]["value"] == 22_713_216
    assert data["params"]["checkpoint"]["parameters"] == 22_713_216


def _fake_safetensors(path, tensors):
    """A valid header; the data section is a hole of the right size (a sparse file: no disk used)."""
    header, at = {}, 0
    for name, shape in tensors:
        end = at + 4 * prod(shape)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [at, end]}
        at = end
    blob = json.dumps(header).encode()
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(blob)) + blob)
        file.truncate(8 + len(blob) + at)


def test_checkpoint_buffers_and_extra_tensors_are_explained(tmp_path):
    model = presets.PRESETS["gpt2"]
    tensors = [(f"transformer.{n}", s) for n, s in shapes.shapes(model)]
    tensors += [("transformer.h.0.attn.bias", (1, 1, 1024, 1024)), ("score.weight", (2, 768))]
    _fake_safetensors(tmp_path / "model.safetensors", tensors)
    checkpoint = checkpoint_count.load(str(tmp_path))
    assert list(checkpoint.buffers) == ["transformer.h.0.attn.bias"]
    assert checkpoint.parameters == 124_439_808 + 2 * 768
    text = render(derive("cost", preset="gpt2", model=str(tmp_path)), "terminal", width=100, color=False)
    assert "1536 more than the formula's total 124439808" in text
    assert "not have (1): “score.weight [2, 768]”" in text


def test_malformed_checkpoints_are_input_errors(tmp_path):
    (tmp_path / "a.safetensors").write_bytes(b"\xff" * 4)
    with pytest.raises(InputError, match="--model"):
        checkpoint_count.load(str(tmp_path))
    (tmp_path / "a.safetensors").write_bytes(struct.pack("<Q", 10**12) + b"{}")
    with pytest.raises(InputError, match="not a safetensors file"):
        checkpoint_count.load(str(tmp_path))
    (tmp_path / "a.safetensors").write_bytes(struct.pack("<Q", 5) + b"[1,2]")
    with pytest.raises(InputError, match="not a JSON object"):
        checkpoint_count.load(str(tmp_path))


# --- PyTorch's own modules count the same ----------------------------------------------------------------


def test_pytorch_transformer_matches_the_encoder_decoder_layers():
    torch = require("torch")
    model = torch.nn.Transformer(
        d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048
    )
    counted = sum(p.numel() for p in model.parameters())
    final_norms = 2 * 2 * 512  # nn.Transformer adds a LayerNorm after each stack; post-LN Vaswani has none
    assert counted - final_norms == _answers(preset="transformer-base")["all_layers"]


def test_pytorch_encoder_layer_matches_one_bert_layer():
    torch = require("torch")
    layer = torch.nn.TransformerEncoderLayer(d_model=384, nhead=12, dim_feedforward=1536)
    assert sum(p.numel() for p in layer.parameters()) == _answers(preset="minilm-l6")["per_layer"]


# --- the symbolic formula, substituted, is the count -------------------------------------------------------


@pytest.mark.parametrize("preset", ["gpt2", "bert-base", "distilbert", "transformer-big"])
def test_closed_form_in_the_base_sizes_gives_the_total(preset):
    model = presets.PRESETS[preset]
    definitions = {formulas.SYMBOLS[k]: formulas.FORMULAS[k](model) for k in formulas.SYMBOLS}
    closed = closed_form(inline(formulas.parameters(model), definitions))
    numbers = {sp.Symbol(k): v for k, v in model.numbers().items()}
    assert closed.subs(numbers) == PUBLISHED.get(preset, shapes.count(model))


def test_random_configurations_agree_with_the_shape_list():
    rng = np.random.default_rng(7)
    for _ in range(40):
        raw = TOPIC.sample(rng)
        options = parse_options(TOPIC, raw)
        (model,) = configure.resolve(options)
        assert _answers(**raw)["parameters"] == shapes.count(model), raw


def test_printed_substitution_keeps_its_brackets():
    text = render(derive("cost", preset="gpt2"), "terminal", width=100, color=False)
    assert "2⋅12⋅768⋅(2⋅768 + 3072) = 84934656" in text
    assert "(2 + 2 + 4 + 4 + 4)⋅124439808 = 1991036928" in text
    latex = to_sympy(formulas.matmul_parameters(presets.PRESETS["gpt2"]), presets.PRESETS["gpt2"].numbers())
    assert sp.sympify(latex.doit()) == 84_934_656


# --- compute -----------------------------------------------------------------------------------------------


def test_kaplan_forward_flops_for_gpt2_small():
    answers = _answers(preset="gpt2")
    n = 2 * 12 * 768 * (2 * 768 + 3072)  # Kaplan Table 1: N = 2 d_model n_layer (2 d_attn + d_ff)
    assert answers["matmul_parameters"] == n
    assert answers["flops_per_token"] == 2 * n + 2 * 12 * 1024 * 768
    assert answers["attention_share"] == sp.Rational(1, 10)
    assert answers["training_flops"] == 6 * n * 10**9
    assert _answers(preset="gpt2", training_tokens="3e11")["training_flops"] == 6 * n * 300_000_000_000


# --- memory: the papers' definitions by hand ----------------------------------------------------------------


def test_kv_cache_of_gpt2_small_by_hand():
    # K and V, fp16, 12 layers, 12 heads of 64, 1024 tokens, 1 sequence
    assert _answers(preset="gpt2")["kv_cache_bytes"] == 2 * 2 * 12 * 12 * 64 * 1024


def test_kv_cache_with_grouped_query_attention_per_token():
    """A Llama-2-70B-like stack (80 layers, 64 heads, 8 KV heads of 128): 320 KiB per token in fp16."""
    options = dict(layers=80, d_model=8192, heads=64, kv_heads=8, vocab=32000, context=4096, tokens=4096)
    answers = _answers(**options)
    assert answers["kv_cache_bytes"] == 327_680 * 4096 == 2 * 80 * 8 * 128 * 2 * 4096
    assert _answers(**{**options, "kv_heads": 64})["kv_cache_bytes"] == 8 * answers["kv_cache_bytes"]


def test_korthikanti_activations_for_gpt3_175b():
    """Korthikanti et al. (2022): s b h (34 + 5 a s / h) bytes per layer; 2 s b h with recomputation."""
    s, h, a, layers = 2048, 12288, 96, 96
    options = dict(layers=layers, d_model=h, heads=a, vocab=50257, context=s)
    answers = _answers(**options)
    assert 5 * a * s / h == 80  # the attention-score term outweighs the 34
    assert answers["activations_per_layer"] == s * 1 * h * (34 + 80) == 2_868_903_936
    assert answers["activations"] == layers * 2_868_903_936
    assert answers["activations_recompute"] == 2 * s * 1 * h * layers
    assert _answers(**options, batch=4)["activations_per_layer"] == 4 * 2_868_903_936


def test_weights_and_mixed_precision_adamw_bytes():
    answers = _answers(preset="bert-base", dtype="fp32")
    p = 109_482_240
    assert answers["weights_bytes"] == 4 * p
    assert answers["training_state_bytes"] == (2 + 2 + 4 + 4 + 4) * p
    assert _answers(preset="bert-base", dtype="int8")["weights_bytes"] == p
    assert answers["training_bytes"] == answers["training_state_bytes"] + answers["activations"]


# --- several presets side by side ----------------------------------------------------------------------------


def test_comma_separated_presets_give_one_column_each():
    derivation = derive("cost", preset="gpt2,bert-base")
    assert list(derivation.answers["parameters"]) == [124_439_808, 109_482_240]
    for fmt in ("markdown", "latex", "terminal"):
        text = render(derivation, fmt)
        assert "GPT-2 small" in text and "BERT-base" in text and "124,439,808" in text
    data = json.loads(render(derivation, "json"))
    assert data["answers"]["parameters"]["value"] == [[124_439_808, 109_482_240]]


def test_check_in_compare_mode_grades_each_column():
    report = _grade(["parameters=124439808 109482240"], preset="gpt2,bert-base")
    assert report.all_correct
    report = _grade(["parameters=163037184 109482240"], preset="gpt2,bert-base")
    assert report.item("parameters").wrong_entries == [(1, 1)]


def test_preset_options_are_defaults_that_explicit_options_override():
    answers = _answers(preset="gpt2", context=2048)
    assert answers["parameters"] == 124_439_808 + 1024 * 768
    derivation = derive("cost", preset="gpt2", context=2048)
    assert "with context 2048" in derivation.title and "released checkpoint" not in str(derivation)


# --- misconceptions and follow-through ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer,mistake",
    [
        ("parameters=163037184", "untied-head"),  # + 50257 * 768
        ("lm_head=38597376", "untied-head"),
        ("attention_per_layer=2359296", "forgot-biases"),  # 4 * 768^2
        ("ffn_per_layer=4718592", "forgot-biases"),
        ("parameters=124356864", "forgot-biases"),  # minus 12 * (2304 + 768 + 3072 + 768)
        ("parameters=124401408", "no-layernorm"),  # minus 12 * 4 * 768 + 2 * 768
        ("parameters=123653376", "no-position-embeddings"),
        ("layernorms_per_layer=1536", "gain-only"),
        ("flops_per_token=169869312", "no-attention-term"),
        ("training_flops=169869312000000000", "forward-only"),
        ("training_state_bytes=1493277696", "fp32-optimizer-only"),  # 12 bytes per parameter
        ("kv_cache_bytes=18874368", "keys-only"),
        ("activations_per_layer=26738688", "no-attention-scores"),  # 34 s b h only
    ],
)
def test_misconceptions_are_named(answer, mistake):
    item = _grade([answer], preset="gpt2").items[0]
    assert item.verdict == "wrong" and item.mistake == mistake, item


def test_query_heads_misconception_needs_grouped_query_attention():
    options = dict(preset="gpt2", kv_heads="4")
    right = derive("cost", **options).answers["kv_cache_bytes"]
    item = _grade([f"kv_cache_bytes={right * 3}"], **options).items[0]
    assert item.mistake == "query-heads"


def test_untied_head_is_not_flagged_on_a_truly_untied_model():
    report = _grade([f"parameters={124_439_808 + 50257 * 768}"], preset="gpt2", head="untied")
    assert report.all_correct


def test_wrong_layer_count_follows_through():
    wrong_layer = 7_000_000
    report = _grade([f"per_layer={wrong_layer}", f"all_layers={12 * wrong_layer}"], preset="gpt2")
    assert report.item("per_layer").verdict == "wrong"
    assert report.item("all_layers").verdict == "follows-through"


def test_bert_biases_and_pooler_are_graded():
    assert _grade(["pooler=590592", "parameters=109482240"], preset="bert-base").all_correct
    assert _grade(["embeddings=23835648"], preset="bert-base").items[0].mistake == "no-layernorm"


# --- --d-head: heads wider (or narrower) than d_model / n_heads ----------------------------------------

GPT3_XL = dict(layers="24", d_model="2048", heads="24", d_head="128", vocab="50257", context="2048")


def test_gpt3_xl_table_sizes_counted_from_a_shape_list_written_here():
    """GPT-3 XL as its table lists it, 24 heads of 128 at d_model 2048: Q, K, V are 2048 × 3072."""
    d, a, ff, vocab, ctx = 2048, 24 * 128, 4 * 2048, 50257, 2048
    layer = [(d,), (d,), (d, 3 * a), (3 * a,), (a, d), (d,), (d,), (d,), (d, ff), (ff,), (ff, d), (d,)]
    tensors = [(vocab, d), (ctx, d)] + layer * 24 + [(d,), (d,)]
    answers = _answers(**GPT3_XL)
    assert answers["parameters"] == sum(int(np.prod(t)) for t in tensors) == 1_517_123_584
    assert answers["attention_per_layer"] == 4 * d * a + 3 * a + d
    assert answers["matmul_parameters"] == 24 * (4 * d * a + 2 * d * ff)
    assert answers["kv_cache_bytes"] == 2 * 2 * 24 * 24 * 128 * 2048  # fp16 keys and values of 128
    assert answers["flops_per_token"] == 2 * answers["matmul_parameters"] + 2 * 24 * 2048 * a


@pytest.mark.parametrize("kv_heads", [4, 2])
@pytest.mark.parametrize("d_head", [32, 8])
def test_attention_count_equals_a_transformers_attention_module(kv_heads, d_head):
    """Llama's attention module takes head_dim apart from hidden_size; with attention_bias its four
    projections are those counted here (biases on W_Q, W_K, W_V and W_O)."""
    require("torch")
    llama = require("transformers.models.llama.modeling_llama")
    transformers = require("transformers")
    config = transformers.LlamaConfig(
        hidden_size=64,
        num_attention_heads=4,
        num_key_value_heads=kv_heads,
        head_dim=d_head,
        attention_bias=True,
        intermediate_size=256,
        vocab_size=100,
    )
    module = llama.LlamaAttention(config, layer_idx=0)
    expected = sum(p.numel() for p in module.parameters())
    options = dict(layers="1", d_model="64", heads="4", kv_heads=str(kv_heads), d_head=str(d_head))
    answers = _answers(vocab="100", context="16", **options)
    assert answers["attention_per_layer"] == expected


def test_d_head_equal_to_the_default_changes_nothing():
    assert _answers(preset="gpt2", d_head="64") == _answers(preset="gpt2")
    assert derive("cost", preset="gpt2", d_head="64").title == derive("cost", preset="gpt2").title


def test_d_head_names_the_convention_and_the_mistakes_follow_it():
    text = " ".join(str(derive("cost", **GPT3_XL)).split())
    assert "GPT-3's table (24 heads of 128 at d_model 2048)" in text
    d, a = 2048, 3072
    right = 4 * d * a + 3 * a + d
    for answer, mistake in (
        (right - (3 * a + d), "forgot-biases"),
        (right - (a * d + d), "no-output-projection"),
    ):
        item = _grade([f"attention_per_layer={answer}"], **GPT3_XL).items[0]
        assert item.mistake == mistake, item


# --- bad input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv,option",
    [
        (["--preset", "gpt3"], "--preset"),
        (["--preset", "gpt2", "--heads", "7"], "--heads"),
        (["--preset", "gpt2", "--kv-heads", "5"], "--kv-heads"),
        (["--preset", "gpt2", "--kv-heads", "24"], "--kv-heads"),
        (["--preset", "gpt2", "--layers", "0"], "--layers"),
        (["--preset", "gpt2", "--d-model", "-768"], "--d-model"),
        (["--preset", "gpt2", "--vocab", "2000000"], "--vocab"),
        (["--preset", "gpt2", "--tokens", "4096"], "--tokens"),
        (["--preset", "gpt2", "--token-types", "2"], "--token-types"),
        (["--preset", "gpt2", "--pooler", "yes"], "--pooler"),
        (["--preset", "gpt2", "--dtype", "fp8"], "--dtype"),
        (["--preset", "gpt2", "--training-tokens", "1e99"], "--training-tokens"),
        (["--preset", "gpt2", "--training-tokens", "__import__('os')"], "--training-tokens"),
        (["--preset", "gpt2,gpt2"], "--preset"),
        (["--preset", "gpt2,bert-base", "--model", "."], "--model"),
        (["--preset", "gpt2", "--model", "/no/such/folder"], "--model"),
        ([], "--preset"),
        (["--layers", "2", "--d-model", "64"], "--heads"),
        (["--preset", "gpt2", "--d-head", "0"], "--d-head"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, option, capsys):
    from derive.cli import run

    assert run(["cost", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"Error: {option}") and err.count("\n") == 1 and "Traceback" not in err


def test_training_tokens_accept_scientific_notation():
    assert (
        _answers(preset="gpt2", training_tokens="2.5e9")["training_flops"] == 6 * 84_934_656 * 2_500_000_000
    )
    assert _answers(preset="gpt2", training_tokens="1_000")["training_flops"] == 6 * 84_934_656 * 1000


def test_checkpoint_config_json_supplies_the_sizes_and_is_validated(tmp_path):
    model = presets.PRESETS["gpt2"]
    _fake_safetensors(tmp_path / "model.safetensors", shapes.shapes(model))
    with pytest.raises(InputError, match="config.json is missing"):
        derive("cost", model=str(tmp_path))
    assert derive("cost", model=str(tmp_path), preset="gpt2").answers["parameters"] == 124_439_808
    config = {
        "model_type": "gpt2",
        "n_layer": 12,
        "n_embd": 768,
        "n_head": 12,
        "vocab_size": 50257,
        "n_positions": 1024,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert derive("cost", model=str(tmp_path)).answers["parameters"] == 124_439_808
    for bad in ("12", 10**9, True):
        (tmp_path / "config.json").write_text(json.dumps({**config, "n_layer": bad}))
        with pytest.raises(InputError, match="--model"):
            derive("cost", model=str(tmp_path))
