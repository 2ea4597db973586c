"""derive.byte_level against GPT-2's own regex and byte table, and against Hugging Face tokenizers."""

from __future__ import annotations

import random

import pytest
from conftest import require

from derive import byte_level

TEXTS = [
    "This is the Hugging Face Course.",
    "Hello  world!!  ",
    "don't   you'll 123abc café naïve  \n\n x",
    " a",
    "  ",
    "x\t\ty",
    "I'm 3.14 $%^ ünïcödé 日本語 😀",
    "",
]


def _random_texts(n: int) -> list[str]:
    rng = random.Random(0)
    alphabet = "ab é'sltdmv 1.2!\n\t  Ωー😀"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16))) for _ in range(n)]


def gpt2_bytes_to_unicode() -> dict[int, str]:
    """Transcribed from GPT-2's encoder.py."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


@pytest.mark.parametrize("text", TEXTS + _random_texts(300))
def test_words_equal_gpt2s_regex_and_byte_table(text):
    regex = require("regex")
    pattern = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
    table = gpt2_bytes_to_unicode()
    expected = ["".join(table[b] for b in token.encode("utf-8")) for token in pattern.findall(text)]
    assert byte_level.pre_tokenize(text) == expected


@pytest.mark.parametrize("text", TEXTS + _random_texts(300))
def test_words_equal_hf_tokenizers_byte_level_pre_tokenizer(text):
    pre_tokenizers = require("tokenizers.pre_tokenizers")
    library = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    assert byte_level.pre_tokenize(text) == [word for word, _ in library.pre_tokenize_str(text)]


def test_space_is_g_dot_and_accents_are_two_bytes():
    assert byte_level.pre_tokenize("This is café") == ["This", "Ġis", "ĠcafÃ©"]
    assert byte_level.BYTE_TO_CHAR[ord(" ")] == byte_level.SPACE == "Ġ"
