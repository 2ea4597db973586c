"""Count the values in a real checkpoint's tensors from the safetensors header alone.

A ``.safetensors`` file starts with an 8-byte little-endian header length and a JSON header that
maps each tensor name to its dtype, shape and byte offsets; the weights themselves are never read.
Buffers that are saved with the weights but are not trained (``position_ids``, GPT-2's causal
mask ``attn.bias``) are set apart, because a parameter count leaves them out.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from math import prod
from pathlib import Path

from derive.errors import InputError

MAX_HEADER = 100_000_000
# Tensor-name endings of saved buffers that are not parameters.
BUFFERS = ("position_ids", ".attn.bias", ".attn.masked_bias", "rotary_emb.inv_freq")
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


def is_buffer(name: str) -> bool:
    return name.endswith(BUFFERS)


def read_header(path: Path, option: str = "--model") -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape, read from the header; raises InputError on anything malformed."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
            if len(head) < 8:
                raise InputError(option, f"{path.name} is too short to be a safetensors file")
            (length,) = struct.unpack("<Q", head)
            if length > min(MAX_HEADER, size - 8):
                raise InputError(option, f"{path.name} does not start with a safetensors header")
            header = json.loads(handle.read(length).decode("utf-8"))
    except OSError as error:
        raise InputError(option, f"cannot read {path.name}: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(option, f"{path.name} has a malformed safetensors header") from None
    if not isinstance(header, dict):
        raise InputError(option, f"{path.name} has a malformed safetensors header")
    shapes = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise InputError(option, f"{path.name}: tensor {name[:60]!r} has no valid shape")
        shapes[name] = tuple(shape)
    return shapes


def _files(path: Path, option: str) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(option, f"no such file or directory: {str(path)[:200]}")
    found = sorted(path.glob("*.safetensors"))
    if not found:
        hint = (
            " (only .safetensors is read; pytorch_model.bin is pickled code)"
            if any(path.glob("*.bin"))
            else ""
        )
        raise InputError(option, f"no .safetensors file in {path.name or str(path)}{hint}")
    return found


def load(path: str, option: str = "--model") -> Checkpoint:
    root = Path(path).expanduser()
    files = _files(root, option)
    tensors, buffers = {}, {}
    for file in files:
        for name, shape in read_header(file, option).items():
            (buffers if is_buffer(name) else tensors)[name] = shape
    config_path = (root if root.is_dir() else root.parent) / "config.json"
    config = None
    if config_path.is_file():
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            config = None
    return Checkpoint(
        str(root),
        tuple(f.name for f in files),
        tensors,
        buffers,
        config if isinstance(config, dict) else None,
    )


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
