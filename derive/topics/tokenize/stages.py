"""The tokenizer's stages on plain strings and lists, and the misconceptions at each stage.

Each stage reads the previous stage's value from ``v``, so a student's own earlier answer
carries on; the computing itself is derive.wordpiece.
"""

from __future__ import annotations

from derive import wordpiece as wp
from derive.model import Mistake


def pieces_of(words, vocab, specials, longest=True):
    """Every word's WordPiece split, special tokens kept whole."""
    return [p for w in words for p in ([w] if w in specials else wp.wordpiece(w, vocab, longest))]


def by_strings(text, vocab, lowercase, specials, strip_accents):
    """The stages below chained on plain strings; special tokens are found again at each one."""
    normalized = wp.normalize(wp.clean(text, specials), lowercase, specials, strip_accents)
    words = wp.split(normalized, specials)
    return wp.add_special(pieces_of(words, vocab, specials))


def cleaned(v):
    return wp.clean(v.text, v.specials)


def normalized(v):
    return wp.normalize(v.cleaned, v.lowercase, v.specials, v.strip_accents)


def words(v):
    return wp.split(v.normalized, v.specials)


def pieces(v):
    return pieces_of(v.words, v.vocab, v.specials)


def tokens(v):
    return wp.add_special(v.pieces)


def ids(v):
    return wp.ids_of(v.tokens, v.vocab)


# Misconceptions: what a student holding each would write at each stage.


def _kept_accents_normalized(v):
    """Only a misconception when the accents are to be stripped (None: not offered)."""
    if not v.strip_accents:
        return None
    return wp.normalize(v.cleaned, v.lowercase, v.specials, strip_accents=False)


def _kept_accents_words(v):
    kept = _kept_accents_normalized(v)
    return None if kept is None else wp.split(kept, v.specials)


def _kept_accents_tokens(v):
    kept = _kept_accents_words(v)
    return None if kept is None else wp.add_special(pieces_of(kept, v.vocab, v.specials))


def _shortest_tokens(v):
    return wp.add_special(pieces_of(v.words, v.vocab, v.specials, longest=False))


KEPT_ACCENTS = (
    "Strip the accents before anything else: decompose each character (NFD) and drop the combining "
    "marks, so é becomes e."
)
SHORTEST = (
    "WordPiece takes the longest match: from each position try the whole rest of the word first, then "
    "one character shorter, and so on, until a piece is in the vocabulary."
)


def _mistakes(kept_accents, shortest=None):
    found = [Mistake("kept-accents", KEPT_ACCENTS, kept_accents)]
    if shortest is not None:
        found.append(Mistake("shortest-match", SHORTEST, shortest))
    return tuple(found)


def _drop_special(tokens):
    return None if tokens is None else tokens[1:-1]


def _ids_from(tokens_of):
    def ids_of(v):
        tokens = tokens_of(v)
        return None if tokens is None else wp.ids_of(tokens, v.vocab)

    return ids_of


NORMALIZED_MISTAKES = _mistakes(_kept_accents_normalized)
WORDS_MISTAKES = _mistakes(_kept_accents_words)
PIECES_MISTAKES = _mistakes(
    lambda v: _drop_special(_kept_accents_tokens(v)), lambda v: _drop_special(_shortest_tokens(v))
)
TOKENS_MISTAKES = _mistakes(_kept_accents_tokens, _shortest_tokens)
IDS_MISTAKES = _mistakes(_ids_from(_kept_accents_tokens), _ids_from(_shortest_tokens))
