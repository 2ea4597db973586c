"""BPE vocabulary training: merge the most frequent adjacent pair, again and again.

The stages are those of ``wordpiece_train`` with BPE's scheme: plain characters, and the raw
pair frequency as the score (so the answer ``scores`` holds the first step's pair counts).
"""

from __future__ import annotations

import sympy as sp

from derive import vocab_training as vt
from derive.model import Mistake, Topic
from derive.topics import wordpiece_train as wp

BPE = wp.Scheme(
    "BPE",
    "",
    vt.FREQUENCY,
    intro="Byte-pair encoding (BPE), the tokenizer family of GPT-2 and most decoder-only models, learns its "
    "vocabulary from a corpus of words with counts. It starts from single characters and repeatedly merges "
    "the most frequent pair of adjacent tokens. This follows the Hugging Face course's chapter on BPE, on "
    "characters rather than bytes.",
    how_to_split="Split every word into its characters.",
    alphabet_order="in alphabetical order",
    afterwards="To tokenize new text, BPE replays the merges in the order they were learned. A real trainer "
    "such as GPT-2's works on bytes rather than characters, adds special tokens such as <|endoftext|>, and "
    "merges until the vocabulary reaches a target size.",
)

NORMALISED_HINT = (
    "BPE ranks pairs by their raw frequency; dividing by freq(a)·freq(b) is WordPiece's score, not BPE's."
)


def _with_prefix(v):
    return list(vt.alphabet(vt.initial_splits(v.words, vt.CONTINUATION)))


def _normalised_scores(v):
    return [
        sp.Rational(s.score.numerator, s.score.denominator) for s in wp.first_stats(v, BPE, rule=vt.WORDPIECE)
    ]


def _normalised_merges(v):
    return wp.train(v, BPE, rule=vt.WORDPIECE).merges


TOPIC = Topic(
    name="bpe-train",
    summary="BPE vocabulary training: merge by merge, the most frequent pair of adjacent tokens",
    options=wp.options(),
    prepare=lambda options: wp.prepare(BPE, options),
    stages=(
        wp.stage_alphabet(
            BPE,
            mistakes=(
                Mistake(
                    "added-prefix",
                    "BPE splits words into plain characters; the '##' continuation prefix is WordPiece's.",
                    _with_prefix,
                ),
            ),
        ),
        wp.stage_scores(
            BPE,
            mistakes=(
                Mistake("score-for-frequency", NORMALISED_HINT, _normalised_scores),
                Mistake("ignored-counts", wp.IGNORED_COUNTS_HINT, wp.ignored_counts_scores(BPE)),
            ),
        ),
        wp.stage_merges(
            BPE,
            mistakes=(
                Mistake("score-for-frequency", NORMALISED_HINT, _normalised_merges),
                Mistake("ignored-counts", wp.IGNORED_COUNTS_HINT, wp.ignored_counts_merges(BPE)),
            ),
        ),
        wp.stage_vocab(BPE),
    ),
    result="vocab",
    examples={
        "course": {"corpus": wp.COURSE, "merges": "3"},
        "sennrich": {"corpus": wp.SENNRICH, "merges": "4"},
    },
    example_notes={
        "course": "the Hugging Face course's toy corpus: 'u g' first, 20 times",
        "sennrich": "the corpus of the BPE paper (Sennrich et al., 2016), without its end-of-word marker",
    },
    sample=wp.sample,
)
