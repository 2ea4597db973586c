"""Load a Hugging Face BERT-family folder (config.json, model.safetensors, vocab.txt) for NumPy.

The weights are memory-mapped, never read into memory first: every tensor is a read-only view of
the file, and forward.Transformer.from_bert makes the one copy a load needs (each linear weight
transposed to a contiguous (in, out) array; the query, key and value weights side by side in one,
with their biases). The embeddings and LayerNorm parameters stay views of
the file. The safetensors library's NumPy API cannot do this: its tensors are copies in fresh
buffers, so a load through it would copy every linear weight twice. The format is small (an 8-byte
little-endian header length, a JSON header of dtypes, shapes and byte offsets, then the raw data),
so this module reads it directly; the tests check every tensor against the library.

Every problem with the folder is an InputError naming the option (``--model``).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from derive import forward
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
NO_NUMPY_DTYPE = ("BF16", "F8_E4M3", "F8_E5M2")  # fine in a file, as long as the model does not need them
MODEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
MAX_HEADER = 100_000_000
ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")
CONFIG_INTS = (
    "hidden_size",
    "num_attention_heads",
    "intermediate_size",
    "num_hidden_layers",
    "vocab_size",
    "max_position_embeddings",
)


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
    """Every tensor of a .safetensors file as a read-only view of one memory map (no copies)."""
    size = path.stat().st_size
    with open(path, "rb") as file:
        start = file.read(8)
        if len(start) < 8:
            _fail(f"{path.name} is too short to be a safetensors file")
        (length,) = struct.unpack("<Q", start)
        if length > min(size - 8, MAX_HEADER):
            _fail(f"{path.name} is not a safetensors file (its header length is {length} bytes)")
        try:
            header = json.loads(file.read(length))
        except (UnicodeDecodeError, ValueError):
            _fail(f"{path.name} has no valid JSON header; is it a safetensors file?")
    if not isinstance(header, dict):
        _fail(f"{path.name} has no valid JSON header; is it a safetensors file?")
    header.pop("__metadata__", None)
    data_size = size - 8 - length
    memory = (
        np.memmap(path, dtype=np.uint8, mode="r", offset=8 + length, shape=(data_size,))
        if data_size
        else None
    )
    return {name: _view(path.name, name, spec, memory, data_size) for name, spec in header.items()}


def _view(file: str, name: str, spec, memory, data_size: int):
    try:
        dtype, shape, (begin, end) = spec["dtype"], [int(n) for n in spec["shape"]], spec["data_offsets"]
    except (KeyError, TypeError, ValueError):
        _fail(f"{file}: the header entry of {name!r} is malformed")
    if dtype not in DTYPES:
        if dtype in NO_NUMPY_DTYPE:
            return _Unsupported(dtype, tuple(shape))
        _fail(f"{file}: {name!r} has an unknown dtype {dtype!r}")
    nbytes = math.prod(shape) * DTYPES[dtype].itemsize
    if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= data_size) or (
        end - begin != nbytes
    ):
        _fail(f"{file}: the bytes of {name!r} lie outside the file or do not match its shape")
    if nbytes == 0:
        return np.zeros(shape, DTYPES[dtype])
    return np.ndarray(shape, DTYPES[dtype], buffer=memory, offset=begin)


@dataclass(frozen=True)
class _Unsupported:
    """A tensor in a dtype NumPy cannot use as is; fine as long as the model does not need it."""

    dtype: str
    shape: tuple[int, ...]


def read_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.is_file():
        _fail(f"{folder} has no config.json; expected a Hugging Face model folder")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        _fail(f"config.json is not valid JSON ({str(error)[:60]})")
    if not isinstance(config, dict):
        _fail("config.json is not a JSON object")
    kind = config.get("model_type")
    architectures = config.get("architectures") or []
    if kind != "bert" and not (kind is None and any(str(a).startswith("Bert") for a in architectures)):
        _fail(f"config.json describes a {kind or 'non-BERT'!r} model; derive forward reads BERT encoders")
    for key in CONFIG_INTS:
        value = config.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            _fail(f"config.json needs a positive whole number {key!r}, found {value!r}")
    if config["hidden_size"] % config["num_attention_heads"]:
        _fail("config.json: hidden_size is not divisible by num_attention_heads")
    if config.get("hidden_act", "gelu") not in ACTIVATIONS:
        _fail(f"config.json: activation {config.get('hidden_act')!r} is not one of {', '.join(ACTIVATIONS)}")
    if config.get("position_embedding_type", "absolute") != "absolute":
        _fail("config.json: only absolute position embeddings are supported")
    if config.get("is_decoder"):
        _fail("config.json describes a decoder; derive forward reads BERT encoders")
    return config


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
        needed[name] = tensor
    dtypes = {t.dtype for t in needed.values()}
    if len(dtypes) > 1:
        _fail("model.safetensors mixes float32 and float64 tensors")
    return needed


def _lowercase(folder: Path) -> bool:
    path = folder / "tokenizer_config.json"
    if not path.is_file():
        return True
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        _fail("tokenizer_config.json is not valid JSON")
    value = settings.get("do_lower_case", True) if isinstance(settings, dict) else True
    return bool(value)


def _vocab(folder: Path, cfg: forward.Config) -> dict[str, int]:
    path = folder / "vocab.txt"
    if not path.is_file():
        _fail(f"{folder} has no vocab.txt (the WordPiece vocabulary)")
    try:
        vocab = wp.load_vocab(path)
    except UnicodeDecodeError:
        _fail("vocab.txt is not UTF-8 text")
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
    folder = Path(folder)
    if not folder.is_dir():
        _fail(f"{str(folder)[:80]} is not a folder")
    cfg = forward.Config.from_bert(read_config(folder))
    weights = folder / "model.safetensors"
    if not weights.is_file():
        other = (
            " (pytorch_model.bin needs torch to read; convert it to safetensors)"
            if (folder / "pytorch_model.bin").exists()
            else ""
        )
        _fail(f"{folder} has no model.safetensors{other}")
    vocab = _vocab(folder, cfg)
    tensors = _encoder_tensors(read_safetensors(weights), cfg)
    model = forward.Transformer.from_bert(tensors, cfg)
    n_params = sum(t.size for t in tensors.values())
    dtype = next(iter(tensors.values())).dtype
    return Checkpoint(folder, cfg, model, vocab, _lowercase(folder), n_params, np.dtype(dtype.type))
