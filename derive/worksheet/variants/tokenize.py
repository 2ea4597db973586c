"""BERT tokenization with the built-in vocabulary: level 1 two words (one capitalised, one split
into pieces) and a full stop, level 2 three or four words with an accented one and a comma, level
3 five or six words with several split words and punctuation. The sheet lists every vocabulary
entry that occurs inside the words, with its id: the pieces longest-match-first can choose from."""

from __future__ import annotations

import string
import unicodedata

from derive import wordpiece as wp

WHOLE = (
    "the king queen house man woman bought milk went said new old good bad big small day time "
    "people language model vector attention word text token hello world play learn home car store"
).split()
SPLIT = (  # words whose WordPiece split has more than one piece: each needs the longest match
    "unaffable playing played playful learned learnable kings houses models vectors tokens "
    "tokenizer tokenization newest newer oldest smallest goodness timeless homeless wordless badly "
    "kingly johanson"
).split()
ACCENTED = ("Café", "naïve", "Ångström")
PUNCTUATION = (".", "!", "?")


def _capital(word: str) -> str:
    return word[0].upper() + word[1:]


def _sentence(rng, whole: int, split: int, accented: int, comma: bool) -> str:
    words = rng.sample(WHOLE, whole) + rng.sample(SPLIT, split) + rng.sample(ACCENTED, accented)
    rng.shuffle(words)
    words[0] = _capital(words[0])
    if comma:
        words[rng.randrange(len(words) - 1)] += ","
    return " ".join(words) + rng.choice(PUNCTUATION)


def level_1(rng):
    return {"text": _sentence(rng, 1, 1, 0, comma=False)}


def level_2(rng):
    return {"text": _sentence(rng, rng.choice([1, 2]), 1, 1, comma=True)}


def level_3(rng):
    return {"text": _sentence(rng, rng.choice([2, 3]), 2, 1, comma=True)}


def moot(given):
    """Keeping the accents is no misconception for a text without any."""
    return set() if unicodedata.normalize("NFD", given["text"]) != given["text"] else {"kept-accents"}


def glossary(values):
    """Each vocabulary entry that matches somewhere inside a word (a piece longest-match-first may
    try), and the special tokens, by id; single letters as the two runs of ids they occupy."""
    found = {wp.CLS, wp.SEP}
    for word in values.words:
        for start in range(len(word)):
            for end in range(start + 1, len(word) + 1):
                piece = ("##" if start else "") + word[start:end]
                if piece in values.vocab:
                    found.add(piece)
    if wp.UNK in values.pieces:
        found.add(wp.UNK)
    listed = []
    for prefix in ("", "##"):
        run = [prefix + letter for letter in string.ascii_lowercase]
        ids = [values.vocab.get(token) for token in run]
        if None not in ids and ids == list(range(ids[0], ids[0] + len(run))):
            listed.append((f"{run[0]} … {run[-1]}", f"{ids[0]} … {ids[-1]}"))
            found -= set(run)
    return listed + [(token, str(values.vocab[token])) for token in sorted(found, key=values.vocab.get)]


SYMBOLS = {"text": None}


def task(given):
    return (
        "Tokenize the text as BERT (uncased) does: strip accents and lowercase, split into words and "
        "punctuation, split each word into WordPiece pieces, longest match first, add [CLS] and [SEP], "
        "and look up the ids. Listed: the letters' ids, and every other vocabulary entry found inside the "
        "words."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
