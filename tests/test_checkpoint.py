"""derive.checkpoint: the memory-mapped loader against the safetensors library and transformers' BertModel."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from conftest import minilm_dir, require

from derive import checkpoint, forward
from derive import wordpiece as wp
from derive.errors import InputError

TEXTS = (
    "The river bank was flooded after the storm.",
    "Hello, world!",
    "Transformers use scaled dot-product attention; Naïve café owners don't.",
    "a",
)


@pytest.fixture(scope="module")
def minilm():
    return checkpoint.load(minilm_dir())


@pytest.fixture(scope="module")
def hf():
    """transformers' BertModel and tokenizer on the same local folder (no hub)."""
    transformers = require("transformers")
    torch = require("torch")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        model = transformers.BertModel.from_pretrained(minilm_dir(), attn_implementation="eager").eval()
        tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_dir())
    return torch, model, tokenizer


def _root(array: np.ndarray):
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    return array


def test_every_tensor_equals_the_safetensors_library():
    safetensors = require("safetensors")
    path = minilm_dir() / "model.safetensors"
    ours = checkpoint.read_safetensors(path)
    with safetensors.safe_open(str(path), framework="np") as theirs:
        assert set(ours) == set(theirs.keys())
        for name in theirs.keys():
            expected = theirs.get_tensor(name)
            assert ours[name].dtype == expected.dtype and ours[name].shape == expected.shape, name
            np.testing.assert_array_equal(ours[name], expected, err_msg=name)


def test_tensors_are_read_only_views_of_one_memory_map():
    tensors = checkpoint.read_safetensors(minilm_dir() / "model.safetensors")
    roots = {id(_root(t)) for t in tensors.values()}
    assert len(roots) == 1
    assert all(not t.flags.writeable and not t.flags.owndata for t in tensors.values())


def test_config_and_vocabulary(minilm):
    cfg = minilm.config
    assert (cfg.n_layers, cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.vocab_size) == (6, 384, 12, 1536, 30522)
    assert cfg.eps == 1e-12 and not cfg.causal and cfg.embed_norm
    assert minilm.lowercase and minilm.vocab["[CLS]"] == 101 and len(minilm.vocab) == 30522
    assert minilm.n_params == 22_565_376  # BertModel without its pooler
    assert minilm.dtype == np.float32


@pytest.mark.parametrize("text", TEXTS)
def test_last_hidden_state_matches_transformers(minilm, hf, text):
    torch, model, tokenizer = hf
    tokens, ids = wp.encode(text, minilm.vocab, minilm.lowercase)
    assert ids == tokenizer(text)["input_ids"]
    ours = minilm.model(np.array([ids]))[0]  # (T, C)
    with torch.no_grad():
        theirs = model(torch.tensor([ids])).last_hidden_state[0].numpy()
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)


def _linear_weights(model: forward.Transformer) -> list[np.ndarray]:
    out = []
    for layer in model.layers:
        out += [layer.attn.W_QKV, layer.attn.b_QKV, layer.attn.W_O, layer.ffn.W_1, layer.ffn.W_2]
    return out


def _other_parameters(model: forward.Transformer) -> list[np.ndarray]:
    embed = model.embed
    out = [embed.tok, embed.pos, embed.types, embed.norm.weight, embed.norm.bias]
    for layer in model.layers:
        attn, ffn = layer.attn, layer.ffn
        out += [attn.b_O, ffn.b_1, ffn.b_2]
        out += [layer.norm1.weight, layer.norm1.bias, layer.norm2.weight, layer.norm2.bias]
    return out


def test_each_weight_is_copied_at_most_once(minilm):
    """Linear weights are the one transposed copy (W_Q, W_K, W_V side by side, and their biases);
    everything else is still the file itself."""
    memory_map = _root(next(iter(checkpoint.read_safetensors(minilm_dir() / "model.safetensors").values())))
    for weight in _linear_weights(minilm.model):
        assert weight.flags.owndata and weight.flags.c_contiguous
    for array in _other_parameters(minilm.model):
        assert type(_root(array)) is type(memory_map) and not array.flags.owndata


def _allocated_during(load) -> int:
    """Peak bytes that Python and NumPy allocate while ``load`` runs (both report to tracemalloc)."""
    tracemalloc.start()
    try:
        result = load()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak


def test_loading_allocates_one_copy_of_the_linear_weights_only(minilm):
    copied = sum(w.nbytes for w in _linear_weights(minilm.model))  # 42.5 MB of the 90 MB
    total = copied + sum(a.nbytes for a in _other_parameters(minilm.model))
    slack = 8_000_000  # the vocabulary dict and the parsed header
    assert _allocated_during(lambda: checkpoint.load(minilm_dir())) < copied + slack
    # The measure can fail: reading through safetensors' own NumPy API copies every tensor first.
    safetensors_numpy = require("safetensors.numpy")
    path = minilm_dir() / "model.safetensors"
    cfg = minilm.config
    doubled = _allocated_during(lambda: forward.Transformer.from_bert(safetensors_numpy.load_file(path), cfg))
    assert doubled > total


# --- a small random BERT saved by transformers, in float64 ----------------------------------------


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A random 2-layer BertForMaskedLM ("bert." names plus an MLM head) saved as safetensors."""
    transformers = require("transformers")
    torch = require("torch")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=60, hidden_size=12, num_hidden_layers=2, num_attention_heads=3, intermediate_size=20,
        max_position_embeddings=16, hidden_act="gelu",
    )  # fmt: skip
    model = transformers.BertForMaskedLM(config).double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, dtype=p.dtype))  # biases and norms away from 0 and 1
    folder = tmp_path_factory.mktemp("tiny-bert")
    model.save_pretrained(folder, safe_serialization=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return folder, model, torch


def test_prefixed_float64_checkpoint_matches_transformers(tiny_bert):
    folder, model, torch = tiny_bert
    loaded = checkpoint.load(folder)
    assert loaded.dtype == np.float64 and loaded.model.mlm is None
    ids = np.array([[2, 9, 14, 30, 5, 3]])
    with torch.no_grad():
        theirs = model.bert(torch.tensor(ids)).last_hidden_state.numpy()
    np.testing.assert_allclose(loaded.model(ids), theirs, rtol=0, atol=1e-10)


# --- errors: one InputError naming --model --------------------------------------------------------


def _copy(tiny_bert, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(tiny_bert[0], folder)
    return folder


def _error(folder) -> str:
    with pytest.raises(InputError) as caught:
        checkpoint.load(folder)
    assert caught.value.option == "--model"
    assert "\n" not in caught.value.message
    return caught.value.message


def test_missing_folder_and_files(tiny_bert, tmp_path):
    assert "nowhere does not exist" in _error(tmp_path / "nowhere")
    (tmp_path / "file").write_text("")
    assert "is not a folder" in _error(tmp_path / "file")
    for name, phrase in (("config.json", "no config.json"), ("vocab.txt", "no vocab.txt")):
        folder = _copy(tiny_bert, tmp_path / name)
        (folder / name).unlink()
        assert phrase in _error(folder)
    folder = _copy(tiny_bert, tmp_path / "weights")
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    assert "no model.safetensors" in _error(folder) and "pytorch_model.bin" in _error(folder)


@pytest.mark.parametrize(
    "change,phrase",
    [
        ({"model_type": "gpt2"}, "'gpt2' model"),
        ({"hidden_size": None}, "hidden_size"),
        ({"hidden_act": "swish"}, "activation"),
        ({"position_embedding_type": "relative_key"}, "absolute"),
        ({"num_attention_heads": 5}, "divisible"),
        ({"intermediate_size": 21}, "implies"),
    ],
)
def test_bad_config(tiny_bert, tmp_path, change, phrase):
    folder = _copy(tiny_bert, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config.update(change)
    (folder / "config.json").write_text(json.dumps(config))
    assert phrase in _error(folder)


def test_invalid_json_config(tiny_bert, tmp_path):
    folder = _copy(tiny_bert, tmp_path)
    (folder / "config.json").write_text("{not json")
    assert "not valid JSON" in _error(folder)


def test_wrong_shape_missing_tensor_and_unsupported_dtype(tiny_bert, tmp_path):
    safetensors_numpy = require("safetensors.numpy")
    folder = _copy(tiny_bert, tmp_path)
    tensors = dict(safetensors_numpy.load_file(folder / "model.safetensors"))
    name = "bert.encoder.layer.1.attention.self.key.weight"
    original = tensors[name]

    def save():
        safetensors_numpy.save_file(tensors, folder / "model.safetensors")

    tensors[name] = original[:, :-1].copy()
    save()
    assert "encoder.layer.1.attention.self.key.weight has shape (12, 11)" in _error(folder)
    del tensors[name]
    save()
    assert "no tensor 'encoder.layer.1.attention.self.key.weight'" in _error(folder)
    tensors[name] = original.astype(np.float16)
    save()
    assert "stored as float16" in _error(folder)


def test_truncated_and_garbage_weights(tiny_bert, tmp_path):
    folder = _copy(tiny_bert, tmp_path)
    path = folder / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    assert "truncated" in _error(folder)
    path.write_bytes(b"\xff" * 64)
    assert "not a safetensors file" in _error(folder)
    path.write_bytes(b"abc")
    assert "too short" in _error(folder)


FAULTS = """
import resource, sys
import numpy as np
from derive import checkpoint
model = checkpoint.load(sys.argv[1]).model
ids = np.arange(128)[None] % 1000 + 1000
model(ids)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
model(ids)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the allocator setting is glibc's")
def test_a_forward_pass_reuses_freed_memory_instead_of_faulting_pages_in():
    """glibc handed freed activations back to the kernel: 11,800 page faults per MiniLM pass, a
    third of its time at one thread. In a fresh process (another test's allocations would hide it)."""
    run = subprocess.run(
        [sys.executable, "-c", FAULTS, str(minilm_dir())], capture_output=True, text=True, check=True
    )
    assert int(run.stdout) < 500, run.stdout
