"""Hostile model folders and vocab files: each is exit 2 with one line naming the file and the field,
and is refused quickly, without reading or allocating what the folder claims.

A small valid BERT folder is written here with the safetensors library (the reference writer);
each case breaks one thing in a copy of it and runs `derive forward --model` (or `derive cost
--model`, which reads headers only, or `derive tokenize --vocab`).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import threading
import time

import numpy as np
import pytest
from conftest import require

from derive import checkpoint, model_files

C, F, LAYERS, HEADS, V = 8, 16, 2, 2, 40
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz"]
CONFIG = {
    "model_type": "bert",
    "hidden_size": C,
    "num_attention_heads": HEADS,
    "intermediate_size": F,
    "num_hidden_layers": LAYERS,
    "vocab_size": V,
    "max_position_embeddings": 16,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "hidden_act": "gelu",
}
QUICK = 3.0  # seconds: every refusal here takes milliseconds; a 10^9-layer loop took 40 s


def _tensors(rng) -> dict[str, np.ndarray]:
    shapes = {
        "embeddings.word_embeddings.weight": (V, C),
        "embeddings.position_embeddings.weight": (16, C),
        "embeddings.token_type_embeddings.weight": (2, C),
        "embeddings.LayerNorm.weight": (C,),
        "embeddings.LayerNorm.bias": (C,),
    }
    for i in range(LAYERS):
        L = f"encoder.layer.{i}."
        for name, n_out, n_in in (
            ("attention.self.query", C, C),
            ("attention.self.key", C, C),
            ("attention.self.value", C, C),
            ("attention.output.dense", C, C),
            ("intermediate.dense", F, C),
            ("output.dense", C, F),
        ):
            shapes[f"{L}{name}.weight"], shapes[f"{L}{name}.bias"] = (n_out, n_in), (n_out,)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[f"{L}{norm}.weight"] = shapes[f"{L}{norm}.bias"] = (C,)
    return {name: rng.normal(0, 0.3, shape).astype(np.float32) for name, shape in shapes.items()}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    save_file = require("safetensors.numpy").save_file
    folder = tmp_path_factory.mktemp("bert")
    save_file(_tensors(np.random.default_rng(0)), str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(CONFIG))
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def folder(good, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(good, copy)
    return copy


def _refused(cli, *argv: str, names: tuple[str, ...]) -> str:
    start = time.perf_counter()
    code, out, err = cli(*argv)
    elapsed = time.perf_counter() - start
    assert code == 2 and out == "", err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert all(name in err for name in names), err
    assert elapsed < QUICK, f"{elapsed:.1f} s: {err}"
    return err


def _forward(cli, folder, names: tuple[str, ...]) -> str:
    return _refused(cli, "forward", "--model", str(folder), "--text", "abc", "-f", "json", names=names)


def _write_config(folder, **change) -> None:
    (folder / "config.json").write_text(json.dumps({**CONFIG, **change}))


def _safetensors(path, header: dict, data: bytes = b"") -> None:
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + data)


def test_the_good_folder_loads(good, cli):
    code, out, err = cli("forward", "--model", str(good), "--text", "abc", "-f", "json")
    assert code == 0, err
    assert checkpoint.load(good).config.n_layers == LAYERS


# --- config.json: types, ranges, consistency with the tensors ------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("layer_norm_eps", "abc"),
        ("layer_norm_eps", None),
        ("layer_norm_eps", -1),
        ("layer_norm_eps", [1e-12]),
        ("layer_norm_eps", 0),
        ("layer_norm_eps", True),
        ("hidden_size", -8),
        ("hidden_size", 8.0),
        ("hidden_size", "8"),
        ("num_attention_heads", 0),
        ("intermediate_size", {"a": 1}),
        ("vocab_size", 10**15),
        ("max_position_embeddings", False),
        ("type_vocab_size", -2),
        ("hidden_act", ["gelu"]),
        ("hidden_act", "\x1b[2Jswish"),
        ("num_hidden_layers", 10**9),
        ("num_hidden_layers", 3),  # in range, but the file holds two layers
    ],
)
def test_a_bad_config_field_is_named(folder, cli, field, value):
    _write_config(folder, **{field: value})
    err = _forward(cli, folder, ("config.json", field))
    assert "\x1b" not in err


def test_a_huge_layer_count_is_refused_without_building_layers(folder):
    _write_config(folder, num_hidden_layers=1000)
    start = time.perf_counter()
    with pytest.raises(Exception, match="num_hidden_layers is 1000 but model.safetensors holds 2"):
        checkpoint.load(folder)
    assert time.perf_counter() - start < QUICK


@pytest.mark.parametrize(
    "text,phrase",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"hidden_size": ' + "9" * 5000 + "}", "digits"),
        ('{"layer_norm_eps": NaN}', "NaN"),
        ('{"layer_norm_eps": 1e400}', "overflows"),
        ('{"hidden_size": Infinity}', "Infinity"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_hostile_json_is_one_line(folder, cli, text, phrase):
    (folder / "config.json").write_text(text)
    assert phrase in _forward(cli, folder, ("config.json",))


def test_config_json_that_is_not_utf8_or_too_large(folder, cli):
    (folder / "config.json").write_bytes(b'{"model_type": "\xff"}')
    assert "UTF-8" in _forward(cli, folder, ("config.json",))
    with open(folder / "config.json", "wb") as file:
        file.truncate(model_files.MAX_JSON_BYTES + 1)  # sparse: no disk used
    assert "larger than" in _forward(cli, folder, ("config.json",))


def test_tokenizer_config_is_read_strictly(folder, cli):
    (folder / "tokenizer_config.json").write_text('{"do_lower_case": "yes"}')
    _forward(cli, folder, ("tokenizer_config.json", "do_lower_case"))


# --- the weights ----------------------------------------------------------------------------------


def test_nan_weights_are_refused(good, folder, cli):
    save_file = require("safetensors.numpy").save_file
    tensors = _tensors(np.random.default_rng(0))
    tensors["encoder.layer.1.output.dense.weight"][3, 2] = np.nan
    save_file(tensors, str(folder / "model.safetensors"))
    assert "NaN" in _forward(cli, folder, ("model.safetensors", "encoder.layer.1.output.dense.weight"))


def _header(folder) -> tuple[dict, bytes]:
    raw = (folder / "model.safetensors").read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + length]), raw[8 + length :]


def _break(folder, name: str, **change) -> None:
    header, data = _header(folder)
    header[name] = {**header[name], **change}
    _safetensors(folder / "model.safetensors", header, data)


NAME = "encoder.layer.0.attention.self.key.weight"


@pytest.mark.parametrize(
    "change,phrase",
    [
        ({"shape": [-8, 8]}, "shape"),
        ({"shape": [8, "8"]}, "shape"),
        ({"shape": [1] * 40}, "shape"),
        ({"shape": [8, 9]}, "data_offsets"),
        ({"dtype": "F31"}, "dtype"),
        ({"dtype": ["F32"]}, "dtype"),
        ({"data_offsets": [0, 256]}, "data_offsets"),  # overlaps the first tensor
        ({"data_offsets": [-1, 255]}, "data_offsets"),
        ({"data_offsets": [10**18, 10**18 + 256]}, "data_offsets"),
        ({"data_offsets": [10**30, 10**30 + 256]}, "digits"),
        ({"data_offsets": [0]}, "data_offsets"),
    ],
)
def test_a_bad_tensor_entry_is_named(folder, cli, change, phrase):
    _break(folder, NAME, **change)
    _forward(cli, folder, ("model.safetensors", phrase))


def test_offsets_must_tile_the_data_exactly(folder, cli):
    header, data = _header(folder)
    _safetensors(folder / "model.safetensors", header, data + b"\0" * 4)  # trailing bytes
    assert "data_offsets" in _forward(cli, folder, ("model.safetensors",))
    _safetensors(folder / "model.safetensors", header, data[:-4])  # truncated
    assert "truncated" in _forward(cli, folder, ("model.safetensors",))


def test_library_agrees_on_what_is_malformed(folder):
    """Every header refused here is refused by the reference implementation too."""
    safe_open = require("safetensors").safe_open
    for change in ({"data_offsets": [0, 256]}, {"shape": [8, 9]}):
        _break(folder, NAME, **change)
        with pytest.raises(Exception):  # noqa: B017 (the library's own error type)
            with safe_open(str(folder / "model.safetensors"), "np"):
                pass
        with pytest.raises(Exception, match="--model"):
            model_files.read_safetensors(folder / "model.safetensors", "--model")


def test_a_header_of_a_million_empty_tensors_is_refused_early(folder, cli):
    path = folder / "model.safetensors"
    entry = '"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}'
    blob = ("{" + ",".join(entry % i for i in range(1_500_000)) + "}").encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob)
    assert "tensors" in _forward(cli, folder, ("model.safetensors",))
    _refused(cli, "cost", "--model", str(folder), names=("model.safetensors", "tensors"))


@pytest.mark.parametrize(
    "head,phrase",
    [
        (struct.pack("<Q", 200_000_000), "header"),  # above the format's 100 MB cap
        (struct.pack("<Q", 50_000), "past the end"),
        (struct.pack("<Q", 5) + b"[1,2]", "JSON object"),
        (b"abc", "too short"),
    ],
)
def test_a_bad_header_length_or_start(folder, cli, head, phrase):
    (folder / "model.safetensors").write_bytes(head + (b"{}" * 8 if len(head) >= 8 else b""))
    _forward(cli, folder, ("model.safetensors", phrase))
    _refused(cli, "cost", "--model", str(folder), names=("model.safetensors", phrase))


# --- only regular files --------------------------------------------------------------------------


def _fifo(path) -> None:
    path.unlink()
    os.mkfifo(path)


@pytest.mark.parametrize("name", ["model.safetensors", "config.json", "vocab.txt"])
def test_a_fifo_in_place_of_a_file_does_not_hang(folder, cli, name):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    _fifo(folder / name)
    result = {}
    thread = threading.Thread(target=lambda: result.update(err=_forward(cli, folder, (name, "not a file"))))
    thread.start()
    thread.join(QUICK)
    if thread.is_alive():  # unblock the reader so that the test run can end, then fail
        with open(folder / name, "wb"):
            pass
        pytest.fail(f"reading a FIFO {name} blocked")
    assert "not a file" in result["err"]


def test_a_fifo_does_not_hang_cost(folder, cli):
    _fifo(folder / "model.safetensors")
    _refused(cli, "cost", "--model", str(folder), names=("model.safetensors", "not a file"))
    _refused(cli, "cost", "--model", str(folder / "model.safetensors"), names=("not a file",))


def test_a_device_or_folder_is_not_read(folder, cli):
    (folder / "vocab.txt").unlink()
    (folder / "vocab.txt").mkdir()
    _forward(cli, folder, ("vocab.txt", "not a file"))
    if os.path.exists("/dev/zero"):
        _refused(cli, "tokenize", "--text", "hi", "--vocab", "/dev/zero", names=("zero", "not a file"))


# --- vocab files ---------------------------------------------------------------------------------


def test_a_1_gib_vocab_is_refused_without_reading_it(folder, cli, tmp_path):
    with open(folder / "vocab.txt", "r+b") as file:
        file.truncate(1 << 30)  # sparse: no disk used, and nothing may read it
    _forward(cli, folder, ("vocab.txt", "larger than"))
    big = tmp_path / "big.txt"
    with open(big, "wb") as file:
        file.truncate(1 << 30)
    _refused(
        cli, "tokenize", "--text", "hi", "--vocab", str(big), names=("--vocab", "big.txt", "larger than")
    )


def test_a_vocab_of_millions_of_short_lines_is_refused_before_it_is_split(folder, cli, tmp_path):
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n" + "x\n" * (V + 1))  # more than vocab_size
    _forward(cli, folder, ("vocab.txt", "lines"))
    many = tmp_path / "many.txt"
    many.write_text("\n".join(VOCAB) + "\n" + "ab\n" * 5_000_000)  # 15 MB, under the size cap
    err = _refused(
        cli, "tokenize", "--text", "hi", "--vocab", str(many), names=("--vocab", "many.txt", "lines")
    )
    assert "1000000" in err


def test_a_vocab_that_is_not_utf8(folder, cli):
    (folder / "vocab.txt").write_bytes(b"[PAD]\n\xff\xfe\n")
    _forward(cli, folder, ("vocab.txt", "UTF-8"))


def test_file_names_with_control_characters_are_escaped(tmp_path, cli):
    path = tmp_path / "\x1b]0;owned\x07.txt"
    path.write_bytes(b"\xff")
    err = _refused(cli, "tokenize", "--text", "hi", "--vocab", str(path), names=("UTF-8",))
    assert "\x1b" not in err and "\x07" not in err


def test_cost_checks_the_layer_count_against_the_tensors(folder, cli):
    """cost reads only headers; a config claiming 10^6 layers built 10^6 layers of shapes (23 s, 1 GB)."""
    _write_config(folder, num_hidden_layers=10**6)
    err = _refused(cli, "cost", "--model", str(folder), names=("config.json", "num_hidden_layers"))
    assert f"holds {LAYERS} layers" in err
    _write_config(folder)
    code, _, err = cli("cost", "--model", str(folder), "-f", "json")
    assert code == 0, err
