"""The files of a model folder, read defensively: config.json, safetensors headers, vocab.txt.

Only regular files are read, each under a size cap (derive.files: a FIFO in their place would block,
a device never end), so memory stays bounded by the real model's size. JSON is strict: no NaN or
Infinity, no number of more than MAX_DIGITS digits, no nesting deeper than the parser allows. A
safetensors header obeys the format's own rules, those of the reference implementation
(huggingface/safetensors, ``tensor.rs``): an 8-byte little-endian length of at most 100 MB, then a
JSON object whose tensors each have a known dtype, a shape of non-negative whole numbers and
``data_offsets`` [begin, end]; sorted by offset the tensors tile the data that follows the header
exactly (no gap, no overlap, the last one ends at the end of the file), and each spans dtype size ×
the product of its shape.
Every problem is an InputError naming the option, the file and, where there is one, the field.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from derive import files
from derive.errors import InputError

MAX_JSON_BYTES = 10_000_000  # a config.json is about 1 kB; a tokenizer_config.json rarely 1 MB
MAX_VOCAB_BYTES = 20_000_000  # BERT's vocab.txt is 230 kB; a multilingual one about 1 MB
MAX_VOCAB_LINES = 1_000_000  # BERT has 30,522 tokens, multilingual vocabularies up to 250,000
MAX_HEADER_BYTES = 100_000_000  # the reference implementation's MAX_HEADER_SIZE
MAX_TENSORS = 100_000  # a large checkpoint shard holds a few thousand
MAX_DIGITS = 20  # any size or count a config gives fits in 20 digits
MAX_RANK = 16
DTYPE_BYTES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "I64": 8, "I32": 4,
    "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
}  # fmt: skip


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of a safetensors header: its dtype, shape and byte range in the data section."""

    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(frozen=True)
class Safetensors:
    """A validated header: the tensors by name, and where the data section starts in the file."""

    tensors: dict[str, TensorEntry]
    data_start: int
    data_size: int


class _Refused(ValueError):
    """Raised from inside json.loads by the hooks below; its message is the reason."""


def shown(value, width: int = 40) -> str:
    """A value as an error message may quote it: repr escapes control characters, then truncated."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def file_name(path: Path) -> str:
    """A path's name for a message, escaped when it holds characters a terminal would act on."""
    return path.name if path.name.isprintable() else shown(path.name)


def read_vocab_text(path: Path, option: str, max_lines: int = MAX_VOCAB_LINES) -> str:
    """A vocab.txt's text, refused before it is split if it has more than ``max_lines`` lines
    (20 MB of one-letter lines would become millions of strings)."""
    text = files.read_text(path, option, MAX_VOCAB_BYTES)
    lines = text.count("\n") + (not text.endswith("\n"))
    if lines > max_lines:
        raise InputError(
            option, f"{file_name(path)} has {lines} lines; at most {max_lines} tokens are expected"
        )
    return text


def _whole_number(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Refused(f"a number of {len(text)} digits (at most {MAX_DIGITS})")
    return int(text)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:30]} overflows")
    return value


def _no_constant(text: str):
    raise _Refused(f"{text} (not JSON)")


def parse_json(data: bytes | str, what: str, option: str, object_hook=None):
    """Strict JSON (RFC 8259) of a file named ``what``; any problem is one InputError."""
    try:
        return json.loads(
            data,
            parse_int=_whole_number,
            parse_float=_finite,
            parse_constant=_no_constant,
            object_pairs_hook=object_hook,
        )
    except _Refused as error:
        raise InputError(option, f"{what} has {error}") from None
    except RecursionError:
        raise InputError(option, f"{what} is nested too deeply to be a model file") from None
    except UnicodeDecodeError:
        raise InputError(option, f"{what} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InputError(option, f"{what} is not valid JSON ({error.msg}, line {error.lineno})") from None
    except ValueError as error:  # e.g. a lone surrogate the decoder refused
        raise InputError(option, f"{what} is not valid JSON ({str(error)[:60]})") from None


def read_json_object(path: Path, option: str, limit: int = MAX_JSON_BYTES) -> dict:
    data = parse_json(files.read_bytes(path, option, limit), file_name(path), option)
    if not isinstance(data, dict):
        raise InputError(option, f"{file_name(path)} is not a JSON object")
    return data


def _counting_hook(limit: int):
    """An object_pairs_hook that stops the parse once more than ``limit`` objects were built."""
    count = 0

    def hook(pairs):
        nonlocal count
        count += 1
        if count > limit:
            raise _Refused(f"more than {limit} tensors")
        return dict(pairs)

    return hook


def read_safetensors(path: Path, option: str) -> Safetensors:
    """The validated header of a .safetensors file (the tensors themselves are not read)."""
    name = file_name(path)
    with files.open_regular(path, option, limit=1 << 62) as file:
        size = os.fstat(file.fileno()).st_size
        start = file.read(8)
        if len(start) < 8:
            raise InputError(option, f"{name} is too short to be a safetensors file")
        (length,) = struct.unpack("<Q", start)
        if length > MAX_HEADER_BYTES:
            raise InputError(
                option, f"{name} is not a safetensors file (a header of {length} bytes; at most 100 MB)"
            )
        if length > size - 8:
            raise InputError(option, f"{name} is not a safetensors file (its header runs past the end)")
        raw = file.read(length)
    if len(raw) < length:
        raise InputError(option, f"{name} is shorter than its header says")
    if not raw.startswith(b"{"):
        raise InputError(option, f"{name} is not a safetensors file (its header is not a JSON object)")
    if raw.count(b'"data_offsets"') > MAX_TENSORS:  # a fast first count; the hook catches escaped keys
        raise InputError(option, f"{name}'s header has more than {MAX_TENSORS} tensors")
    header = parse_json(raw, f"{name}'s header", option, _counting_hook(MAX_TENSORS + 1))
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise InputError(option, f"{name}: __metadata__ must map names to strings")
    data_size = size - 8 - length
    tensors = {key: _entry(name, key, spec, option) for key, spec in header.items()}
    _check_tiling(name, tensors, data_size, option)
    return Safetensors(tensors, 8 + length, data_size)


def _entry(file: str, key: str, spec, option: str) -> TensorEntry:
    where = f"{file}: tensor {shown(key, 60)}"
    if not isinstance(spec, dict) or not {"dtype", "shape", "data_offsets"} <= spec.keys():
        raise InputError(option, f"{where} needs dtype, shape and data_offsets")
    dtype, shape, offsets = spec["dtype"], spec["shape"], spec["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        raise InputError(option, f"{where} has an unknown dtype {shown(dtype)}")
    if not (
        isinstance(shape, list)
        and len(shape) <= MAX_RANK
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
    ):
        raise InputError(
            option,
            f"{where}: shape must be a list of at most {MAX_RANK} whole numbers >= 0, found {shown(shape)}",
        )
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in offsets)
        and offsets[0] <= offsets[1]
    ):
        raise InputError(option, f"{where}: data_offsets must be [begin, end] with 0 <= begin <= end")
    begin, end = offsets
    if end - begin != math.prod(shape) * DTYPE_BYTES[dtype]:
        raise InputError(
            option, f"{where}: data_offsets span {end - begin} bytes but {dtype} × {shape} needs "
            f"{math.prod(shape) * DTYPE_BYTES[dtype]}",
        )  # fmt: skip
    return TensorEntry(dtype, tuple(shape), begin, end)


def _check_tiling(file: str, tensors: dict[str, TensorEntry], data_size: int, option: str) -> None:
    """Sorted by offset, the tensors cover the data section exactly, as the reference requires."""
    at = 0
    for key, entry in sorted(tensors.items(), key=lambda item: (item[1].begin, item[1].end)):
        if entry.begin != at:
            problem = "overlaps the tensor before it" if entry.begin < at else "leaves a gap before it"
            raise InputError(option, f"{file}: tensor {shown(key, 60)} {problem} (data_offsets)")
        at = entry.end
    if at != data_size:
        raise InputError(
            option,
            f"{file}: the tensors end at byte {at} of the data but the file holds {data_size} "
            "(data_offsets; is the file truncated?)",
        )
