"""WordPiece vocabulary training: merge the adjacent pair with the best score freq(ab)/(freq(a)·freq(b)).

The stages are derive.vocab_training's, shared with bpe-train; this topic supplies WordPiece's
scheme ("##" continuations and the score) and its misconceptions.
"""

from __future__ import annotations

from derive.model import Topic
from derive.topics.wordpiece_train.stages import (
    FREQUENCY_FOR_SCORE_MERGES,
    FREQUENCY_FOR_SCORE_SCORES,
    KEPT_INNER_PREFIX,
    NO_PREFIX,
    WORDPIECE,
)
from derive.vocab_training import stages as shared

TOPIC = Topic(
    name="wordpiece-train",
    summary="WordPiece vocabulary training: merge by merge, pair scores freq(ab)/(freq(a)·freq(b))",
    options=shared.options(WORDPIECE),
    prepare=lambda options: shared.prepare(WORDPIECE, options),
    stages=(
        shared.stage_alphabet(WORDPIECE, mistakes=(NO_PREFIX,)),
        shared.stage_scores(
            WORDPIECE,
            mistakes=(
                FREQUENCY_FOR_SCORE_SCORES,
                shared.ignored_counts("scores", WORDPIECE),
            ),
        ),
        shared.stage_merges(
            WORDPIECE,
            mistakes=(
                FREQUENCY_FOR_SCORE_MERGES,
                KEPT_INNER_PREFIX,
                shared.ignored_counts("merges", WORDPIECE),
            ),
        ),
        shared.stage_vocab(WORDPIECE),
        shared.stage_encoded(WORDPIECE),
    ),
    result="vocab",
    examples={
        "course": {"corpus": shared.COURSE, "merges": "3"},
        "sennrich": {"corpus": shared.SENNRICH, "merges": "4"},
        "encode": {"corpus": shared.COURSE, "merges": "3", "encode": "hugs bugs hog"},
    },
    example_notes={
        "course": "the Hugging Face course's toy corpus: '##g ##s' wins, not the frequent '##u ##g'",
        "sennrich": "the corpus of the BPE paper (Sennrich et al., 2016), scored by WordPiece",
        "encode": "new words split with the learned vocabulary; 'hog' has an unseen 'o', so it is [UNK]",
    },
    sample=shared.sample,
)
