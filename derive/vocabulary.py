"""A BERT vocabulary file given on the command line, and how tokenizer topics show user text.

Shared by the tokenizer topics (tokenize, vectorize, masked-lm): the option parsers for a text
and a ``vocab.txt``, and the spelling of control characters and unusual spaces as ``<U+XXXX>``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from derive import model_files
from derive import wordpiece as wp
from derive.blocks import user
from derive.errors import InputError

MAX_TEXT = 1000


@dataclass(frozen=True)
class Vocabulary:
    """A vocabulary's display name and its token ids (a token's id is its line number)."""

    name: str
    ids: MappingProxyType


def builtin() -> Vocabulary:
    """The small vocabulary shipped with the package."""
    return Vocabulary(f"{wp.TINY_VOCAB} (built in)", MappingProxyType(wp.tiny_vocab()))


def parse_text(value, option: str) -> str:
    """A text to tokenize: a string of at most MAX_TEXT characters, valid UTF-8."""
    if not isinstance(value, str):
        raise InputError(option, f"expected text, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise InputError(
            option, f"expected at most {MAX_TEXT} characters for a worked solution, got {len(value)}"
        )
    if any(unicodedata.category(ch) == "Cs" for ch in value):
        raise InputError(option, "is not valid UTF-8 text")
    return value


def parse_vocab(value, option: str, required: tuple[str, ...] = wp.REQUIRED_TOKENS) -> Vocabulary:
    """A BERT ``vocab.txt`` path; the file must hold every token of ``required``."""
    path = Path(str(value))
    ids = wp.parse_vocab(model_files.read_vocab_text(path, option))
    missing = [t for t in required if t not in ids]
    if missing:
        raise InputError(option, f"lacks {', '.join(missing)}: expected a BERT vocab.txt, one token per line")
    return Vocabulary(str(value), MappingProxyType(ids))


def code_point(ch: str) -> str:
    """``<U+XXXX>``: how a character that cannot be shown is spelled."""
    return f"<U+{ord(ch):04X}>"


def visible(text: str) -> str:
    """Control characters and unusual spaces spelled as <U+XXXX>, so every format can show them."""
    return "".join(
        ch if ch == " " or not (wp.is_whitespace(ch) or wp.is_control(ch)) else code_point(ch) for ch in text
    )


def quoted(text: str):
    """User text for a prose field: escaped by every renderer, "(empty)" when there is none."""
    return user(visible(text)) if text else "(empty)"
