"""BERT's tokenizer: clean-up, lowercasing and accent stripping, splitting, then WordPiece.

It gives the same ids as Hugging Face ``tokenizers``' ``BertWordPieceTokenizer(vocab,
lowercase=True)``, the tokenizer BERT checkpoints ship with; where that library departs from
Google's original ``tokenization.py`` (its notion of control characters and whitespace,
accents stripped before lowercasing, no final-sigma rule, special tokens such as ``[MASK]``
recognised in the raw text), we follow the library. Standard library only, so that forward
passes on real checkpoints can use it without SymPy.

``trace`` records every step for the worked solution; ``encode`` is the fast path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources

UNK, CLS, SEP, PAD, MASK = "[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"
SPECIAL_TOKENS = (UNK, SEP, CLS, PAD, MASK)
REQUIRED_TOKENS = (UNK, CLS, SEP)
CONTINUATION = "##"
MAX_INPUT_CHARS_PER_WORD = 100
TINY_VOCAB = "tiny_vocab.txt"

# Unicode's White_Space property (what Rust's char::is_whitespace tests).
WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
)
_WHITESPACE_CHARS = "".join(sorted(WHITESPACE))
_WHITESPACE_RUN = re.compile("[" + re.escape(_WHITESPACE_CHARS) + "]+")
# The CJK ideograph blocks that BERT treats as one-character words.
CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


# Where the Hugging Face library's Unicode tables differ from Python's (Unicode 14.0, Python 3.11):
# its categories come from the unicode_categories crate (Unicode 9.0), so characters added
# since then are ordinary letters to it; its lowercasing is Rust's (Unicode 16.0).
_RANGES_NOT_FORMAT = "890-891 8E2 110CD 13430-13438"
_RANGES_NOT_MN = (
    "7FD 898-89F 8CA-8E1 9FE AFA-AFF B55 C04 C3C D00 D3B-D3C D81 EBA 180F 1885-1886 1ABF-1ACE 1DF6-1DFB "
    "A82C A8C5 A8FF A9BD 10D24-10D27 10EAB-10EAC 10F46-10F50 10F82-10F85 11070 11073-11074 110C2 111C9 "
    "111CF 1123E 1133B 11438-1143F 11442-11444 11446 1145E 1182F-11837 11839-1183A 1193B-1193C 1193E "
    "11943 119D4-119D7 119DA-119DB 119E0 11A01-11A0A 11A33-11A38 11A3B-11A3E 11A47 11A51-11A56 "
    "11A59-11A5B 11A8A-11A96 11A98-11A99 11C30-11C36 11C38-11C3D 11C3F 11C92-11CA7 11CAA-11CB0 "
    "11CB2-11CB3 11CB5-11CB6 11D31-11D36 11D3A 11D3C-11D3D 11D3F-11D45 11D47 11D90-11D91 11D95 11D97 "
    "11EF3-11EF4 16F4F 16FE4 1CF00-1CF2D 1CF30-1CF46 1E000-1E006 1E008-1E018 1E01B-1E021 1E023-1E024 "
    "1E026-1E02A 1E130-1E136 1E2AE 1E2EC-1E2EF 1E944-1E94A"
)
_RANGES_NOT_PUNCT = (
    "61D 9FD A76 C77 C84 1B7D-1B7E 2E43-2E4F 2E52-2E5D 10EAD 10F55-10F59 10F86-10F89 1144B-1144F "
    "1145A-1145B 1145D 11660-1166C 116B9 1183B 11944-11946 119E2 11A3F-11A46 11A9A-11A9C 11A9E-11AA2 "
    "11C41-11C45 11C70-11C71 11EF7-11EF8 11FFF 12FF1-12FF2 16E97-16E9A 16FE2 1E95E-1E95F"
)


def _chars(spec: str) -> frozenset[str]:
    out = set()
    for item in spec.split():
        low, _, high = item.partition("-")
        out.update(map(chr, range(int(low, 16), int(high or low, 16) + 1)))
    return frozenset(out)


_NOT_FORMAT = _chars(_RANGES_NOT_FORMAT)
_NOT_MN = _chars(_RANGES_NOT_MN)
_NOT_PUNCT = _chars(_RANGES_NOT_PUNCT)
_OLD_MN = frozenset("\u1734")  # Mc since Unicode 14, Mn before
_OLD_PUNCT = frozenset("\u166d\U000111c9")  # So and Mn today, Po before
_NOT_DECOMPOSED = "\U00011938"  # its canonical decomposition came with Unicode 13
_NEW_LOWER = {
    "\u1c89": "\u1c8a",
    "\ua7cb": "\u0264",
    "\ua7cc": "\ua7cd",
    "\ua7ce": "\ua7cf",
    "\ua7d2": "\ua7d3",
    "\ua7d4": "\ua7d5",
    "\ua7da": "\ua7db",
    "\ua7dc": "\u019b",
    **{chr(c): chr(c + 0x20) for c in range(0x10D50, 0x10D66)},
    **{chr(c): chr(c + 0x1B) for c in range(0x16EA0, 0x16EB9)},
}


def is_control(ch: str) -> bool:
    """Control, format and private-use characters (not tab, newline, CR); unassigned ones stay."""
    return (
        ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") and ch not in _NOT_FORMAT
    )


def is_whitespace(ch: str) -> bool:
    return ch in WHITESPACE


def is_punctuation(ch: str) -> bool:
    """ASCII symbols count as punctuation (so ``$``, ``^``, ``` ` ``` split words), as do ``P*``."""
    if ch.isascii():
        return 33 <= ord(ch) <= 126 and not ch.isalnum()
    return (unicodedata.category(ch)[0] == "P" and ch not in _NOT_PUNCT) or ch in _OLD_PUNCT


def is_accent(ch: str) -> bool:
    """A nonspacing combining mark (``Mn``), such as the acute accent left by decomposing é."""
    return (unicodedata.category(ch) == "Mn" and ch not in _NOT_MN) or ch in _OLD_MN


def is_cjk(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in CJK_RANGES)


def load_vocab(path) -> dict[str, int]:
    """A BERT ``vocab.txt``: one token per line, and a token's id is its line number from 0."""
    with open(path, encoding="utf-8", newline="") as file:
        return parse_vocab(file.read())


def parse_vocab(text: str) -> dict[str, int]:
    """Lines end at "\\n" only; trailing whitespace is dropped; a repeated token keeps its last id."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return {line.rstrip(_WHITESPACE_CHARS): index for index, line in enumerate(lines)}


def tiny_vocab() -> dict[str, int]:
    """The small vocabulary shipped with the package for examples."""
    return parse_vocab(tiny_vocab_text())


def tiny_vocab_text() -> str:
    return resources.files("derive").joinpath("data", TINY_VOCAB).read_text(encoding="utf-8")


def missing_tokens(vocab: Mapping[str, int]) -> list[str]:
    """The required special tokens that ``vocab`` lacks."""
    return [t for t in REQUIRED_TOKENS if t not in vocab]


def specials_in(vocab: Mapping[str, int]) -> tuple[str, ...]:
    """Special tokens that are matched whole in the raw text (those the vocabulary has)."""
    return tuple(t for t in SPECIAL_TOKENS if t in vocab)


def _specials_pattern(specials) -> re.Pattern | None:
    if not specials:
        return None
    ordered = sorted(specials, key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in ordered))


def segments(text: str, specials=()) -> Iterator[tuple[str, bool]]:
    """``(piece, is_special)``: special tokens are found in the raw text before anything else."""
    pattern = _specials_pattern(specials)
    if pattern is None:
        if text:
            yield text, False
        return
    start = 0
    for match in pattern.finditer(text):
        if match.start() > start:
            yield text[start : match.start()], False
        yield match.group(), True
        start = match.end()
    if start < len(text):
        yield text[start:], False


def _clean(text: str) -> str:
    return "".join(" " if ch in WHITESPACE else ch for ch in text if ch != "\ufffd" and not is_control(ch))


def decompose(text: str) -> str:
    """Unicode NFD, as the Hugging Face library does it."""
    if text.isascii():
        return text
    if _NOT_DECOMPOSED in text:
        return _NOT_DECOMPOSED.join(unicodedata.normalize("NFD", p) for p in text.split(_NOT_DECOMPOSED))
    return unicodedata.normalize("NFD", text)


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in decompose(text) if not is_accent(ch))


def _lower(text: str) -> str:
    """Character by character, as the Rust library does: no final-sigma rule."""
    if text.isascii():
        return text.lower()
    return "".join(_NEW_LOWER.get(ch) or ch.lower() for ch in text)


def _normalize(text: str, lowercase: bool = True, strip_accents: bool | None = None) -> str:
    if strip_accents is None:
        strip_accents = lowercase
    if strip_accents:
        text = _strip_accents(text)
    return _lower(text) if lowercase else text


def _split(text: str) -> list[str]:
    """Split on whitespace, then make each punctuation mark and CJK ideograph a word of its own."""
    words = []
    for chunk in _WHITESPACE_RUN.split(text):
        if not chunk:
            continue
        if chunk.isascii() and chunk.isalnum():
            words.append(chunk)
            continue
        current = []
        for ch in chunk:
            if is_punctuation(ch) or is_cjk(ch):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(ch)
            else:
                current.append(ch)
        if current:
            words.append("".join(current))
    return words


def clean(text: str, specials=()) -> str:
    """Drop control characters and U+FFFD; turn every kind of whitespace into a space."""
    return "".join(p if special else _clean(p) for p, special in segments(text, specials))


def normalize(text: str, lowercase: bool = True, specials=(), strip_accents: bool | None = None) -> str:
    """Strip accents (NFD, then drop the nonspacing marks ``Mn``), then lowercase."""
    return "".join(
        p if special else _normalize(p, lowercase, strip_accents) for p, special in segments(text, specials)
    )


def split(text: str, specials=()) -> list[str]:
    words = []
    for piece, special in segments(text, specials):
        words.extend([piece] if special else _split(piece))
    return words


@dataclass(frozen=True)
class Attempt:
    piece: str  # the candidate looked up, with its "##" when it continues a word
    found: bool


@dataclass(frozen=True)
class Search:
    """One greedy step: every candidate tried from ``start`` until one is in the vocabulary."""

    start: int
    attempts: tuple[Attempt, ...]

    @property
    def piece(self) -> str | None:
        last = self.attempts[-1] if self.attempts else None
        return last.piece if last is not None and last.found else None


@dataclass(frozen=True)
class Word:
    """A word's WordPiece split; ``reason`` says why it became [UNK] ("too-long", "no-match")."""

    text: str
    pieces: tuple[str, ...]
    searches: tuple[Search, ...] = ()
    reason: str | None = None
    special: bool = False


def _candidates(word: str, start: int, longest: bool) -> Iterator[tuple[int, str]]:
    ends = range(len(word), start, -1) if longest else range(start + 1, len(word) + 1)
    prefix = CONTINUATION if start else ""
    for end in ends:
        yield end, prefix + word[start:end]


def wordpiece(word: str, vocab: Mapping[str, int], longest: bool = True, unk: str = UNK) -> list[str]:
    """Greedy longest-match-first (``longest=False``: the shortest-match misconception)."""
    if len(word) > MAX_INPUT_CHARS_PER_WORD:
        return [unk]
    if word in vocab and longest:
        return [word]
    pieces, start = [], 0
    while start < len(word):
        for end, candidate in _candidates(word, start, longest):
            if candidate in vocab:
                pieces.append(candidate)
                start = end
                break
        else:
            return [unk]
    return pieces


def trace_word(word: str, vocab: Mapping[str, int], longest: bool = True, unk: str = UNK) -> Word:
    """The same split as ``wordpiece``, recording every candidate looked up."""
    if len(word) > MAX_INPUT_CHARS_PER_WORD:
        return Word(word, (unk,), (), "too-long")
    searches, pieces, start = [], [], 0
    while start < len(word):
        attempts, hit = [], None
        for end, candidate in _candidates(word, start, longest):
            attempts.append(Attempt(candidate, candidate in vocab))
            if attempts[-1].found:
                hit = end
                break
        searches.append(Search(start, tuple(attempts)))
        if hit is None:
            return Word(word, (unk,), tuple(searches), "no-match")
        pieces.append(attempts[-1].piece)
        start = hit
    return Word(word, tuple(pieces), tuple(searches))


def add_special(pieces) -> list[str]:
    return [CLS, *pieces, SEP]


def ids_of(tokens, vocab: Mapping[str, int]) -> list[int]:
    return [vocab[t] for t in tokens]


@dataclass(frozen=True)
class Trace:
    """Every stage of one encoding, for the worked solution."""

    text: str
    cleaned: str
    normalized: str
    words: tuple[str, ...]
    split: tuple[Word, ...]
    tokens: tuple[str, ...]
    ids: tuple[int, ...]


def trace(
    text: str, vocab: Mapping[str, int], lowercase: bool = True, strip_accents: bool | None = None
) -> Trace:
    _require(vocab)
    parts = list(segments(text, specials_in(vocab)))
    cleaned = [(p if special else _clean(p), special) for p, special in parts]
    normalized = [
        (p if special else _normalize(p, lowercase, strip_accents), special) for p, special in cleaned
    ]
    words: list[tuple[str, bool]] = []
    for piece, special in normalized:
        words.extend([(piece, True)] if special else [(w, False) for w in _split(piece)])
    split_words = tuple(
        Word(w, (w,), special=True) if special else trace_word(w, vocab) for w, special in words
    )
    tokens = add_special([p for w in split_words for p in w.pieces])
    return Trace(
        text,
        "".join(p for p, _ in cleaned),
        "".join(p for p, _ in normalized),
        tuple(w for w, _ in words),
        split_words,
        tuple(tokens),
        tuple(ids_of(tokens, vocab)),
    )


def tokenize(
    text: str, vocab: Mapping[str, int], lowercase: bool = True, strip_accents: bool | None = None
) -> list[str]:
    """The tokens, with [CLS] first and [SEP] last; ``strip_accents`` None follows ``lowercase``."""
    _require(vocab)
    tokens = [CLS]
    for part, special in segments(text, specials_in(vocab)):
        if special:
            tokens.append(part)
            continue
        for word in _split(_normalize(_clean(part), lowercase, strip_accents)):
            tokens.extend(wordpiece(word, vocab))
    tokens.append(SEP)
    return tokens


def encode(
    text: str, vocab: Mapping[str, int], lowercase: bool = True, strip_accents: bool | None = None
) -> tuple[list[str], list[int]]:
    """``(tokens, ids)`` exactly as ``BertWordPieceTokenizer(vocab, lowercase=..., strip_accents=...)``."""
    tokens = tokenize(text, vocab, lowercase, strip_accents)
    return tokens, ids_of(tokens, vocab)


def _require(vocab: Mapping[str, int]) -> None:
    missing = missing_tokens(vocab)
    if missing:
        raise ValueError(f"the vocabulary lacks {', '.join(missing)}")
