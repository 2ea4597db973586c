"""Learning a subword vocabulary by merges: BPE's pair frequency and WordPiece's pair score.

Both start from single characters and repeatedly merge one pair of adjacent tokens. They
differ only in which pair wins: BPE takes the most frequent pair, WordPiece the pair with
the best score freq(ab) / (freq(a)·freq(b)). Ties go to the pair listed first, pairs being
listed in the order they first appear when reading the words in corpus order, each left to
right: the rule of the Hugging Face course's code, which keeps the first maximum it meets
(``--tie-break lexicographic`` takes the greatest pair instead, as a well-known university
assignment does). A BPE word may end in Sennrich et al.'s end-of-word marker ``</w>``, one symbol.

Standard library only (exact ``Fraction`` scores), so the topics and the tests share it
without SymPy; the topics convert scores to SymPy Rationals for display.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from derive import files, wordpiece
from derive.errors import InputError

CONTINUATION = "##"
END_OF_WORD = "</w>"
UNK = "[UNK]"
FREQUENCY, WORDPIECE = "frequency", "wordpiece"
FIRST, LEXICOGRAPHIC = "first", "lexicographic"
MAX_WORDS = 40
MAX_WORD_LENGTH = 16
MAX_COUNT = 10_000
MAX_MERGES = 40
MAX_CORPUS_CHARS = 2000
MAX_CORPUS_FILE_BYTES = 100_000

Split = tuple[str, ...]
Pair = tuple[str, str]


@dataclass(frozen=True)
class PairStat:
    """One adjacent pair: how often it occurs, how often each part occurs, and its score."""

    pair: Pair
    count: int
    left: int
    right: int
    score: Fraction


@dataclass(frozen=True)
class Merge:
    """One training step: every pair's statistics, the winner, the new token and the new splits."""

    pairs: tuple[PairStat, ...]
    best: PairStat
    token: str
    splits: tuple[Split, ...]


@dataclass(frozen=True)
class Training:
    words: tuple[str, ...]
    counts: tuple[int, ...]
    initial: tuple[Split, ...]
    alphabet: tuple[str, ...]
    steps: tuple[Merge, ...]

    @property
    def merges(self) -> list[str]:
        return [step.token for step in self.steps]

    @property
    def vocab(self) -> list[str]:
        return [*self.alphabet, *self.merges]


def parse_corpus(value, option: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """``"hug 10, pug 5"`` (or a mapping / pairs from Python) into words and their counts."""
    if isinstance(value, str):
        if len(value) > MAX_CORPUS_CHARS:
            raise InputError(option, f"expected at most {MAX_CORPUS_CHARS} characters")
        items = [item.strip() for item in re.split(r"[,;\n]", value) if item.strip()]
        entries = [_item(item, option) for item in items]
    elif isinstance(value, Mapping):
        entries = [(str(w), c) for w, c in value.items()]
    else:
        try:
            entries = [(str(w), c) for w, c in value]
        except (TypeError, ValueError):
            raise InputError(option, "expected words with counts such as 'hug 10, pug 5'") from None
    if not entries:
        raise InputError(option, "expected words with counts such as 'hug 10, pug 5'")
    return checked_corpus(entries, option)


def parse_corpus_file(value, option: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """A file with one ``word count`` per line (so "," can be a word); blank lines are skipped."""
    name = files.shown(str(value))
    text = files.read_text(str(value), option, MAX_CORPUS_FILE_BYTES)
    entries, seen = [], set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        where = f"{name} line {number}"
        if len(parts) != 2:
            raise InputError(option, f"{where}: expected 'word count', got {line.strip()[:40]!r}")
        word = unicodedata.normalize("NFC", parts[0])
        try:
            _check_word(word, option)
            entries.append((word, _count(word, parts[1], option)))
        except InputError as error:
            raise InputError(option, f"{where}: {error.message}") from None
        if word in seen:
            raise InputError(option, f"{where}: the word {word[:40]!r} appears again; give each word once")
        seen.add(word)
    if not entries:
        raise InputError(option, f"{name}: no 'word count' lines")
    try:
        return checked_corpus(entries, option)
    except InputError as error:
        raise InputError(option, f"{name}: {error.message}") from None


def checked_corpus(entries, option: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Distinct words of letters or punctuation (a BPE word may end in </w>), with counts."""
    if len(entries) > MAX_WORDS:
        raise InputError(
            option, f"{len(entries)} words is too many for a worked solution (at most {MAX_WORDS})"
        )
    words, counts = [], []
    for raw, count in entries:
        word = unicodedata.normalize("NFC", raw)
        _check_word(word, option)
        if word in words:
            raise InputError(
                option, f"the word {word!r} appears twice; give each word once with its total count"
            )
        words.append(word)
        counts.append(_count(word, count, option))
    if all(len(symbols(w)) == 1 for w in words):
        raise InputError(option, "every word is a single character, so there is no pair to merge")
    marked = [symbols(w)[-1] == END_OF_WORD for w in words]
    if any(marked) and not all(marked):
        raise InputError(
            option, f"either every word ends in the end-of-word marker {END_OF_WORD} or none does"
        )
    return tuple(words), tuple(counts)


def uses_end_marker(words: Sequence[str]) -> bool:
    return bool(words) and symbols(words[0])[-1] == END_OF_WORD


def _item(item: str, option: str) -> tuple[str, str]:
    parts = item.split()
    if len(parts) != 2:
        raise InputError(option, f"expected 'word count' separated by commas, got {item[:40]!r}")
    return parts[0], parts[1]


def symbols(word: str) -> tuple[str, ...]:
    """A word's characters; a final </w> is one symbol, the end-of-word marker."""
    if word.endswith(END_OF_WORD) and len(word) > len(END_OF_WORD):
        return (*word[: -len(END_OF_WORD)], END_OF_WORD)
    return tuple(word)


def is_punctuation(ch: str) -> bool:
    """Unicode punctuation, or an ASCII symbol such as $ or +: words of their own after pre-tokenizing."""
    if ch.isascii():
        return 33 <= ord(ch) <= 126 and not ch.isalnum()
    return unicodedata.category(ch).startswith("P")


def _check_word(word: str, option: str) -> None:
    chars = symbols(word)
    if chars[-1] == END_OF_WORD:
        chars = chars[:-1]
    if not all(c.isalpha() or is_punctuation(c) for c in chars):
        raise InputError(option, f"words must consist of letters or punctuation, got {word[:40]!r}")
    if len(chars) > MAX_WORD_LENGTH:
        raise InputError(option, f"the word {word[:40]!r} is longer than {MAX_WORD_LENGTH} characters")


def _count(word: str, count, option: str) -> int:
    if isinstance(count, str) and re.fullmatch(r"\s*\d+\s*", count):
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise InputError(
            option,
            f"the count of {word!r} must be a whole number from 1 to {MAX_COUNT}, got {str(count)[:40]!r}",
        )
    return count


def initial_splits(words: Sequence[str], prefix: str) -> tuple[Split, ...]:
    """Each word as its characters; with a prefix, every character after the first carries it."""
    return tuple(tuple(c if i == 0 else prefix + c for i, c in enumerate(symbols(w))) for w in words)


def alphabet(splits: Sequence[Split]) -> tuple[str, ...]:
    """Word-initial characters in alphabetical order, then the continuation characters."""
    tokens = {t for split in splits for t in split}
    return tuple(sorted(tokens, key=lambda t: (t.startswith(CONTINUATION), t)))


def pair_stats(splits: Sequence[Split], counts: Sequence[int], rule: str) -> tuple[PairStat, ...]:
    """Every adjacent pair, in order of first appearance, with counts weighted by word count."""
    token_freq: dict[str, int] = {}
    pair_freq: dict[Pair, int] = {}
    for split, count in zip(splits, counts):
        for token in split:
            token_freq[token] = token_freq.get(token, 0) + count
        for pair in zip(split, split[1:]):
            pair_freq[pair] = pair_freq.get(pair, 0) + count
    stats = []
    for (a, b), count in pair_freq.items():
        left, right = token_freq[a], token_freq[b]
        score = Fraction(count, left * right) if rule == WORDPIECE else Fraction(count)
        stats.append(PairStat((a, b), count, left, right, score))
    return tuple(stats)


def best(stats: Sequence[PairStat], tie_break: str = FIRST) -> PairStat:
    """The highest score; among equals the pair listed first, or (lexicographic) the greatest pair."""
    winner = stats[0]
    for stat in stats[1:]:
        if stat.score > winner.score or (
            tie_break == LEXICOGRAPHIC and stat.score == winner.score and stat.pair > winner.pair
        ):
            winner = stat
    return winner


def merged_token(a: str, b: str, prefix: str) -> str:
    """``a`` + ``b``, dropping the continuation prefix that ``b`` carries (WordPiece)."""
    return a + b[len(prefix) :] if prefix and b.startswith(prefix) else a + b


def apply_merge(splits: Sequence[Split], pair: Pair, token: str) -> tuple[Split, ...]:
    """Replace every occurrence of the pair, scanning each word left to right."""
    out = []
    for split in splits:
        merged, i = [], 0
        while i < len(split):
            if i + 1 < len(split) and (split[i], split[i + 1]) == pair:
                merged.append(token)
                i += 2
            else:
                merged.append(split[i])
                i += 1
        out.append(tuple(merged))
    return tuple(out)


def encode_bpe(word: str, alphabet_: Sequence[str], merges: Sequence[tuple[Pair, str]], end_marker: bool):
    """A new word's BPE tokens: its symbols ([UNK] for one never seen), then every merge in learned order."""
    known = set(alphabet_)
    split = tuple(c if c in known else UNK for c in (*word, *([END_OF_WORD] if end_marker else [])))
    for pair, token in merges:
        split = apply_merge((split,), pair, token)[0]
    return list(split)


def encode_wordpiece(word: str, vocab: Sequence[str]) -> list[str]:
    """Longest vocabulary entry first, then the longest "##" piece; no fit anywhere makes the word [UNK]."""
    return wordpiece.wordpiece(word, frozenset(vocab), unk=UNK)


def train(
    words: Sequence[str], counts: Sequence[int], merges: int, prefix: str, rule: str, tie_break: str = FIRST
) -> Training:
    """Up to ``merges`` merges; fewer when every word has become a single token."""
    splits = initial_splits(words, prefix)
    initial = splits
    steps = []
    for _ in range(merges):
        stats = pair_stats(splits, counts, rule)
        if not stats:
            break
        winner = best(stats, tie_break)
        token = merged_token(*winner.pair, prefix)
        splits = apply_merge(splits, winner.pair, token)
        steps.append(Merge(stats, winner, token, splits))
    return Training(tuple(words), tuple(counts), initial, alphabet(initial), tuple(steps))
