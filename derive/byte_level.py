"""GPT-2's byte-level pre-tokenizer: split running text into words, then spell each word's UTF-8
bytes with printable characters, so a space before a word becomes Ġ and é becomes Ã©.

The same words as Hugging Face ``tokenizers``' ``pre_tokenizers.ByteLevel(add_prefix_space=False)``
(GPT-2's regex ``'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+``),
scanned by hand with ``unicodedata`` so that no regex package is needed. Standard library only.
"""

from __future__ import annotations

import unicodedata

CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
SPACE = "Ġ"  # how byte 0x20 is spelled


def _byte_alphabet() -> dict[int, str]:
    """GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest move up past 255."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    table, shifted = {b: chr(b) for b in printable}, 0
    for byte in range(256):
        if byte not in table:
            table[byte] = chr(256 + shifted)
            shifted += 1
    return table


BYTE_TO_CHAR = _byte_alphabet()


def _kind(ch: str) -> str:
    """The regex's classes: whitespace, a letter (\\p{L}), a number (\\p{N}), or anything else."""
    if ch.isspace():
        return "space"
    category = unicodedata.category(ch)[0]
    return {"L": "letter", "N": "number"}.get(category, "other")


def split(text: str) -> list[str]:
    """GPT-2's pre-tokenization: contractions, then an optional space and a run of one class."""
    words, i, n = [], 0, len(text)
    while i < n:
        contraction = next((c for c in CONTRACTIONS if text.startswith(c, i)), None)
        if contraction:
            words.append(contraction)
            i += len(contraction)
            continue
        first = i + 1 if text[i] == " " and i + 1 < n and _kind(text[i + 1]) != "space" else i
        kind = _kind(text[first])
        if kind != "space":
            end = first + 1
            while end < n and _kind(text[end]) == kind:
                end += 1
        else:
            end = i
            while end < n and _kind(text[end]) == "space":
                end += 1
            if end < n and end - i > 1:
                end -= 1  # \s+(?!\S): leave the last space to the word after it
        words.append(text[i:end])
        i = end
    return words


def spelled(word: str) -> str:
    """A word's UTF-8 bytes, each as GPT-2's printable character for it."""
    return "".join(BYTE_TO_CHAR[b] for b in word.encode("utf-8"))


def pre_tokenize(text: str) -> list[str]:
    """The words of ``text`` as GPT-2's byte-level BPE sees them: ``"This is"`` gives ``This``, ``Ġis``."""
    return [spelled(word) for word in split(text)]
