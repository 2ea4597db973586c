"""The table of word vectors: the built-in toy table, vectors typed on the command line
(``--vectors "king: 1 2 3; queen: 1 -2 3"``) or a word2vec text file (``--vectors-file``).

word2vec's text format (also written by gensim's ``save_word2vec_format``): an optional header
line "count dimensions", then one word per line followed by its numbers, separated by spaces.
GloVe's files are the same without the header. Numbers are kept exact (0.25 is 1/4). A bad
entry is a one-line error naming the option, and for a file the file and the line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import sympy as sp

from derive import files, limits, parse, visible
from derive.data.word_vectors import DIMENSIONS, VECTORS
from derive.errors import InputError

MAX_WORDS = 30  # the neighbours table lists every word of the table
MAX_DIMENSIONS = limits.MAX_DIM
MAX_TEXT = 4000  # characters of --vectors
MAX_FILE_BYTES = 200_000


@dataclass(frozen=True)
class Vocabulary:
    """Words in table order, each with its exact vector; ``source`` says where they came from."""

    vectors: dict[str, tuple]
    dimensions: tuple[str, ...]
    source: str  # "built-in", "--vectors" or the file name

    @property
    def builtin(self) -> bool:
        return self.source == "built-in"

    def lookup(self, word: str, option: str) -> str:
        """The table's spelling of ``word``: exact, or else the one word that differs only in case."""
        if word in self.vectors:
            return word
        folded = [w for w in self.vectors if w.lower() == word.lower()]
        if len(folded) == 1:
            return folded[0]
        which = "built-in" if self.builtin else "given"
        raise InputError(option, f"unknown word {word[:40]!r}; the {which} words are: {self.known()}")

    def known(self) -> str:
        return ", ".join(self.vectors)


BUILT_IN = Vocabulary(
    {w: tuple(sp.Integer(e) for e in vec) for w, vec in VECTORS.items()}, DIMENSIONS, "built-in"
)


def _numbers(texts, option: str, where: str) -> tuple:
    entries = []
    for text in texts:
        try:
            entries.append(parse.parse_scalar(text, option))
        except InputError:
            raise InputError(option, f"{where}: {text[:40]!r} is not a number") from None
    return tuple(entries)


def _table(rows, option: str) -> tuple[dict, int]:
    """``rows`` are (where, word, entries); checks the words and the sizes, names the bad row."""
    vectors, size = {}, None
    for where, word, entries in rows:
        if word in vectors:
            raise InputError(option, f"{where}: {word[:40]!r} is given twice")
        if size is None:
            size = len(entries)
            if not 1 <= size <= MAX_DIMENSIONS:
                raise InputError(option, f"{where}: {size} numbers; 1 to {MAX_DIMENSIONS} dimensions fit")
        elif len(entries) != size:
            raise InputError(
                option, f"{where}: {word[:40]!r} has {len(entries)} numbers but the first word has {size}"
            )
        if all(e == 0 for e in entries):
            raise InputError(option, f"{where}: {word[:40]!r} is the zero vector, which has no direction")
        vectors[word] = entries
        if len(vectors) > MAX_WORDS:
            raise InputError(
                option, f"more than {MAX_WORDS} words; at most {MAX_WORDS} fit a worked solution"
            )
    if len(vectors) < 3:
        raise InputError(option, "give at least three words: two to compare and one more to find")
    return vectors, size


def from_text(value, option: str) -> Vocabulary:
    """``"king: 1 2 3; queen: 1 -2 3"``: words with their vectors, separated by semicolons."""
    text = str(value)
    if len(text) > MAX_TEXT:
        raise InputError(option, f"expected at most {MAX_TEXT} characters")
    rows = []
    for n, entry in enumerate((e for e in text.split(";") if e.strip()), start=1):
        word, colon, numbers = entry.partition(":")
        word = word.strip()
        where = f"entry {n} ({entry.strip()[:30]!r})"
        if not colon or not word or len(word.split()) != 1:
            raise InputError(option, f"{where}: expected 'word: numbers', such as 'king: 1 2 3'")
        visible.label(word, f"{option}: {where}", "a word")
        rows.append((where, word, _numbers(numbers.replace(",", " ").split(), option, where)))
    vectors, size = _table(rows, option)
    return Vocabulary(vectors, tuple(f"dim {j + 1}" for j in range(size)), "--vectors")


def from_file(value, option: str) -> Vocabulary:
    """A word2vec (or GloVe) text file; errors name the file and the line."""
    path = os.fspath(value)
    name = os.path.basename(path)
    data = files.read_bytes(path, option, MAX_FILE_BYTES)
    lines = data.split(b"\n")
    rows, declared = [], None
    for number, raw in enumerate(lines, start=1):
        where = f"{files.shown(path)}, line {number}"
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise InputError(option, f"{where}: not UTF-8 text") from None
        if not line:
            continue
        fields = line.split()
        if not rows and declared is None and len(fields) == 2 and all(f.isdigit() for f in fields):
            declared = (int(fields[0]), int(fields[1]))  # the word2vec header: count, dimensions
            continue
        if len(fields) < 2:
            raise InputError(option, f"{where}: expected a word followed by its numbers")
        visible.label(fields[0], f"{option}: {where}", "a word")
        entries = _numbers(fields[1:], option, where)
        if declared and len(entries) != declared[1]:
            raise InputError(
                option, f"{where}: {len(entries)} numbers, but the header line says {declared[1]} dimensions"
            )
        rows.append((where, fields[0], entries))
    if not rows:
        raise InputError(option, f"{files.shown(path)} holds no word vectors")
    vectors, size = _table(rows, option)
    if declared and declared[0] != len(vectors):
        raise InputError(
            option,
            f"{files.shown(path)}, line 1: the header says {declared[0]} words, the file has {len(vectors)}",
        )
    return Vocabulary(vectors, tuple(f"dim {j + 1}" for j in range(size)), name)
