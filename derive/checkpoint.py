"""Load a Hugging Face BERT-family folder (config.json, model.safetensors, vocab.txt) for NumPy.

The weights are memory-mapped, never read into memory first: every tensor is a read-only view of
the file, and forward.Transformer.from_bert makes the one copy a load needs (each linear weight
transposed to a contiguous (in, out) array; the query, key and value weights side by side in one,
with their biases). The embeddings and LayerNorm parameters stay views of the file. The
safetensors library's NumPy API cannot do this: its tensors are copies in fresh buffers, so a load
through it would copy every linear weight twice. The format is small (an 8-byte little-endian
header length, a JSON header of dtypes, shapes and byte offsets, then the raw data), so this module
reads it directly, after derive.model_files has held the header to the format's rules; the tests
check every tensor against the library.

The config is checked field by field (type, range, and num_hidden_layers against the layers the
file holds) before anything is built, and the weights the model uses must be finite. Every problem
with the folder is an InputError naming the option (``--model``), the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from derive import files, forward, model_files
from derive import wordpiece as wp
from derive.errors import InputError

OPTION = "--model"
DTYPES = {
    name: np.dtype(code)
    for name, code in (
        ("F64", "<f8"), ("F32", "<f4"), ("F16", "<f2"), ("I64", "<i8"), ("I32", "<i4"), ("I16", "<i2"),
        ("I8", "i1"), ("U64", "<u8"), ("U32", "<u4"), ("U16", "<u2"), ("U8", "u1"), ("BOOL", "?"),
    )
}  # fmt: skip
MODEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")
# The whole numbers a BERT config.json must give, and the largest value accepted: far above any
# published BERT, and the tensors' shapes are then checked against them.
CONFIG_INTS = {
    "hidden_size": 65_536,
    "num_attention_heads": 4096,
    "intermediate_size": 1 << 20,
    "num_hidden_layers": 1000,
    "vocab_size": 10_000_000,
    "max_position_embeddings": 1 << 20,
    "type_vocab_size": 1000,
}
LAYER = re.compile(r"(?:bert\.)?encoder\.layer\.(\d{1,6})\.")


@dataclass(frozen=True)
class Checkpoint:
    """A loaded model with everything a forward pass on text needs."""

    folder: Path
    config: forward.Config
    model: forward.Transformer
    vocab: dict[str, int]
    lowercase: bool
    n_params: int
    dtype: np.dtype


def _fail(message: str):
    raise InputError(OPTION, message)


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a .safetensors file as a read-only view of one memory map (no copies).

    The header is validated first (model_files: the format's own rules), so every view lies inside
    the file. A tensor in a dtype NumPy lacks (BF16, F8) is an _Unsupported placeholder.
    """
    header = model_files.read_safetensors(path, OPTION)
    memory = None
    if header.data_size:
        with files.open_regular(path, OPTION, limit=1 << 62) as file:
            memory = np.memmap(
                file, dtype=np.uint8, mode="r", offset=header.data_start, shape=(header.data_size,)
            )
    return {name: _view(entry, memory) for name, entry in header.tensors.items()}


def _view(entry: model_files.TensorEntry, memory):
    if entry.dtype not in DTYPES:
        return _Unsupported(entry.dtype, entry.shape)
    if entry.end == entry.begin:
        return np.zeros(entry.shape, DTYPES[entry.dtype])
    return np.ndarray(entry.shape, DTYPES[entry.dtype], buffer=memory, offset=entry.begin)


@dataclass(frozen=True)
class _Unsupported:
    """A tensor in a dtype NumPy cannot use as is; fine as long as the model does not need it."""

    dtype: str
    shape: tuple[int, ...]


def read_config(folder: Path) -> dict:
    """config.json, every field the encoder uses checked for type and range (one line naming it)."""
    path = folder / "config.json"
    if not files.exists(path, OPTION):
        _fail(
            f"{model_files.shown(str(folder), 80)} has no config.json; expected a Hugging Face model folder"
        )
    config = model_files.read_json_object(path, OPTION)
    kind = config.get("model_type")
    architectures = config.get("architectures")
    architectures = architectures if isinstance(architectures, list) else []
    if kind != "bert" and not (kind is None and any(str(a).startswith("Bert") for a in architectures)):
        _fail(
            f"config.json describes a {model_files.shown(kind or 'non-BERT')} model; derive forward reads BERT encoders"
        )
    config.setdefault("type_vocab_size", 2)
    for key, cap in CONFIG_INTS.items():
        value = config.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= cap:
            _fail(
                f"config.json: {key} must be a whole number from 1 to {cap}, found {model_files.shown(value)}"
            )
    eps = config.setdefault("layer_norm_eps", 1e-12)
    if isinstance(eps, bool) or not isinstance(eps, int | float) or not 0 < eps < 1:
        _fail(f"config.json: layer_norm_eps must be a number between 0 and 1, found {model_files.shown(eps)}")
    if config["hidden_size"] % config["num_attention_heads"]:
        _fail("config.json: hidden_size is not divisible by num_attention_heads")
    act = config.setdefault("hidden_act", "gelu")
    if not isinstance(act, str) or act not in ACTIVATIONS:
        _fail(
            f"config.json: hidden_act, the activation, is {model_files.shown(act)}, not one of {', '.join(ACTIVATIONS)}"
        )
    if config.get("position_embedding_type", "absolute") != "absolute":
        _fail('config.json: position_embedding_type must be "absolute" (the only one supported)')
    if config.get("is_decoder") not in (None, False):
        _fail("config.json: is_decoder is set; derive forward reads BERT encoders")
    return config


def _check_layer_count(tensors: dict, n_layers: int) -> None:
    """num_hidden_layers against the layers the file holds, before anything is built per layer."""
    held = {int(m.group(1)) for name in tensors if (m := LAYER.match(name))}
    if n_layers > len(held):
        _fail(f"config.json: num_hidden_layers is {n_layers} but model.safetensors holds {len(held)} layers")


def expected_shapes(cfg: forward.Config) -> dict[str, tuple[int, ...]]:
    """The tensors BertModel's encoder needs (names without a "bert." prefix) and their shapes."""
    C, F = cfg.d_model, cfg.d_ff
    shapes: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (cfg.vocab_size, C),
        "embeddings.position_embeddings.weight": (cfg.max_positions, C),
        "embeddings.token_type_embeddings.weight": (cfg.type_vocab_size, C),
        "embeddings.LayerNorm.weight": (C,),
        "embeddings.LayerNorm.bias": (C,),
    }
    for i in range(cfg.n_layers):
        L = f"encoder.layer.{i}."
        for name in ("attention.self.query", "attention.self.key", "attention.self.value"):
            shapes[f"{L}{name}.weight"], shapes[f"{L}{name}.bias"] = (C, C), (C,)
        linears = (("attention.output.dense", C, C), ("intermediate.dense", F, C), ("output.dense", C, F))
        for name, n_out, n_in in linears:
            shapes[f"{L}{name}.weight"], shapes[f"{L}{name}.bias"] = (n_out, n_in), (n_out,)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[f"{L}{norm}.weight"] = shapes[f"{L}{norm}.bias"] = (C,)
    return shapes


def _encoder_tensors(tensors: dict, cfg: forward.Config) -> dict[str, np.ndarray]:
    """The encoder's tensors under BertModel's names, checked against the config's shapes."""
    renamed = {}
    for name, tensor in tensors.items():
        bare = name.removeprefix("bert.")
        if bare.endswith(".gamma") or bare.endswith(".beta"):  # the names of old TF-converted checkpoints
            bare = bare.rsplit(".", 1)[0] + (".weight" if bare.endswith(".gamma") else ".bias")
        renamed.setdefault(bare, tensor)
    needed = {}
    for name, shape in expected_shapes(cfg).items():
        if name not in renamed:
            _fail(f"model.safetensors has no tensor {name!r}; is this a BERT checkpoint?")
        tensor = renamed[name]
        if tuple(tensor.shape) != shape:
            _fail(f"{name} has shape {tuple(tensor.shape)} but config.json implies {shape}")
        if isinstance(tensor, _Unsupported) or tensor.dtype not in MODEL_DTYPES:
            _fail(f"{name} is stored as {tensor.dtype}; derive forward reads float32 or float64 checkpoints")
        if not _all_finite(tensor):
            _fail(f"model.safetensors: {name} holds NaN or infinite values")
        needed[name] = tensor
    dtypes = {t.dtype for t in needed.values()}
    if len(dtypes) > 1:
        _fail("model.safetensors mixes float32 and float64 tensors")
    return needed


def _all_finite(tensor: np.ndarray, block: int = 1 << 20) -> bool:
    """No NaN or infinity, checked a block at a time: the memory map is never copied whole."""
    flat = tensor.reshape(-1)  # (n,) a view: the tensors are contiguous
    return all(np.isfinite(flat[i : i + block]).all() for i in range(0, flat.size, block))


def _lowercase(folder: Path) -> bool:
    path = folder / "tokenizer_config.json"
    if not files.exists(path, OPTION):
        return True
    value = model_files.read_json_object(path, OPTION).get("do_lower_case", True)
    if not isinstance(value, bool):
        _fail(f"tokenizer_config.json: do_lower_case must be true or false, found {model_files.shown(value)}")
    return value


def _vocab(folder: Path, cfg: forward.Config) -> dict[str, int]:
    path = folder / "vocab.txt"
    if not files.exists(path, OPTION):
        _fail(f"{model_files.shown(str(folder), 80)} has no vocab.txt (the WordPiece vocabulary)")
    vocab = wp.parse_vocab(model_files.read_vocab_text(path, OPTION, max_lines=cfg.vocab_size))
    missing = wp.missing_tokens(vocab)
    if missing:
        _fail(f"vocab.txt lacks the special tokens {', '.join(missing)}")
    if max(vocab.values()) >= cfg.vocab_size:
        _fail(
            f"vocab.txt has {max(vocab.values()) + 1} entries but config.json says vocab_size {cfg.vocab_size}"
        )
    return vocab


def load(folder) -> Checkpoint:
    """Read and validate the folder; the weights stay memory-mapped except for one transposed copy."""
    folder = files.folder(folder, OPTION)
    config = read_config(folder)
    weights = folder / "model.safetensors"
    if not files.exists(weights, OPTION):
        other = (
            " (pytorch_model.bin needs torch to read; convert it to safetensors)"
            if files.exists(folder / "pytorch_model.bin", OPTION)
            else ""
        )
        _fail(f"{model_files.shown(str(folder), 80)} has no model.safetensors{other}")
    tensors = read_safetensors(weights)
    _check_layer_count(tensors, config["num_hidden_layers"])
    cfg = forward.Config.from_bert(config)
    vocab = _vocab(folder, cfg)
    tensors = _encoder_tensors(tensors, cfg)
    model = forward.Transformer.from_bert(tensors, cfg)
    n_params = sum(t.size for t in tensors.values())
    dtype = next(iter(tensors.values())).dtype
    return Checkpoint(folder, cfg, model, vocab, _lowercase(folder), n_params, np.dtype(dtype.type))
