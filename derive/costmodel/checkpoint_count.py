"""Count the values in a real checkpoint's tensors from the safetensors header alone.

A ``.safetensors`` file starts with an 8-byte little-endian header length and a JSON header that
maps each tensor name to its dtype, shape and byte offsets; the weights themselves are never read.
Buffers that are saved with the weights but are not trained (``position_ids``, GPT-2's causal
mask ``attn.bias``) are set apart, because a parameter count leaves them out.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from math import prod
from pathlib import Path

from derive import files, model_files
from derive.errors import InputError

# Tensor-name endings of saved buffers that are not parameters.
BUFFERS = ("position_ids", ".attn.bias", ".attn.masked_bias", "rotary_emb.inv_freq")
# The numbered blocks of BERT (encoder.layer.N), DistilBERT (transformer.layer.N) and GPT-2 (h.N).
LAYER = re.compile(r"(?:^|\.)(?:layer|layers|h)\.(\d{1,7})\.")
# The config.json field that gives the number of layers, by model_type.
LAYER_FIELDS = {"bert": "num_hidden_layers", "distilbert": "n_layers", "gpt2": "n_layer"}
# Prefixes that task heads' wrappers add in front of the base model's names.
PREFIXES = ("bert.", "distilbert.", "transformer.", "model.")


@dataclass(frozen=True)
class Checkpoint:
    path: str
    files: tuple[str, ...]
    tensors: dict[str, tuple[int, ...]]  # parameters only
    buffers: dict[str, tuple[int, ...]]
    config: dict | None

    @property
    def parameters(self) -> int:
        return sum(prod(s) for s in self.tensors.values())

    @property
    def buffer_values(self) -> int:
        return sum(prod(s) for s in self.buffers.values())

    @property
    def layers(self) -> int:
        """How many numbered layers the tensors' names hold."""
        return len({int(m.group(1)) for name in self.tensors if (m := LAYER.search(name))})

    def check_layer_count(self, n_layer: int, option: str = "--model") -> None:
        """A config.json's layer count against the tensors, before anything is built per layer."""
        if self.config is not None and n_layer > self.layers:
            field = LAYER_FIELDS.get(self.config.get("model_type"), "the layer count")
            raise InputError(
                option, f"config.json: {field} is {n_layer} but the checkpoint holds {self.layers} layers"
            )


def is_buffer(name: str) -> bool:
    return name.endswith(BUFFERS)


def read_header(path: Path, option: str = "--model") -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape, from a header held to the format's rules (derive.model_files)."""
    return {name: entry.shape for name, entry in model_files.read_safetensors(path, option).tensors.items()}


def _weights(path: Path, option: str) -> tuple[Path, list[Path]]:
    """The folder holding the checkpoint and its .safetensors files (``path`` may be one of them)."""
    found = files.status(path, option)
    if found is None:
        raise InputError(option, f"{files.shown(path)} does not exist")
    if not stat.S_ISDIR(found.st_mode):
        return path.parent, [path]  # derive.files refuses it unless it is a regular file
    files.folder(path, option)
    found = sorted(path.glob("*.safetensors"))
    if not found:
        hint = (
            " (only .safetensors is read; pytorch_model.bin is pickled code)"
            if any(path.glob("*.bin"))
            else ""
        )
        raise InputError(option, f"no .safetensors file in {files.shown(path)}{hint}")
    return path, found


def load(path: str, option: str = "--model") -> Checkpoint:
    root = Path(path).expanduser()
    folder, weights = _weights(root, option)
    tensors, buffers = {}, {}
    for file in weights:
        for name, shape in read_header(file, option).items():
            (buffers if is_buffer(name) else tensors)[name] = shape
    config_path = folder / "config.json"
    config = model_files.read_json_object(config_path, option) if files.exists(config_path, option) else None
    return Checkpoint(str(root), tuple(f.name for f in weights), tensors, buffers, config)


def strip_prefix(name: str) -> str:
    for prefix in PREFIXES:
        if name.startswith(prefix) and not name.startswith("transformer.layer."):
            return name[len(prefix) :]
    return name


def compare(checkpoint: Checkpoint, expected: list[tuple[str, tuple[int, ...]]]) -> tuple[list, list]:
    """Tensors only in the checkpoint, and tensors only in the expected list (name, shape)."""
    have = {strip_prefix(n): s for n, s in checkpoint.tensors.items()}
    want = dict(expected)
    extra = [(n, s) for n, s in sorted(have.items()) if want.get(n) != s]
    missing = [(n, s) for n, s in expected if have.get(n) != s]
    return extra, missing
