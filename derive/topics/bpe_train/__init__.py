"""BPE vocabulary training: merge the most frequent adjacent pair, again and again.

The stages are derive.vocab_training's, shared with wordpiece-train, with BPE's scheme: plain
characters, and the raw pair frequency as the score (so the answer ``scores`` holds the first
step's pair counts).
"""

from __future__ import annotations

from derive.model import Topic
from derive.topics.bpe_train.stages import (
    ADDED_PREFIX,
    BPE,
    OTHER_TIE_BREAK,
    SCORE_FOR_FREQUENCY_MERGES,
    SCORE_FOR_FREQUENCY_SCORES,
)
from derive.vocab_training import stages as shared

TOPIC = Topic(
    name="bpe-train",
    summary="BPE vocabulary training: merge by merge, the most frequent pair of adjacent tokens",
    options=shared.options(BPE),
    prepare=lambda options: shared.prepare(BPE, options),
    stages=(
        shared.stage_alphabet(BPE, mistakes=(ADDED_PREFIX,)),
        shared.stage_scores(BPE, mistakes=(SCORE_FOR_FREQUENCY_SCORES, shared.ignored_counts("scores", BPE))),
        shared.stage_merges(
            BPE, mistakes=(SCORE_FOR_FREQUENCY_MERGES, shared.ignored_counts("merges", BPE), OTHER_TIE_BREAK)
        ),
        shared.stage_vocab(BPE),
        shared.stage_encoded(BPE),
    ),
    result="vocab",
    examples={
        "course": {"corpus": shared.COURSE, "merges": "3"},
        "sennrich": {"corpus": shared.SENNRICH, "merges": "4"},
        "end-of-word": {"corpus": shared.SENNRICH_EOW, "merges": "4", "encode": "lowest newer"},
        "lexicographic": {"corpus": shared.SENNRICH, "merges": "4", "tie_break": "lexicographic"},
        "byte-level": {
            "text": shared.COURSE_SENTENCES,
            "byte_level": True,
            "merges": "19",
            "encode": "This is not a token.",
        },
    },
    example_notes={
        "course": "the Hugging Face course's toy corpus: 'u g' first, 20 times",
        "sennrich": "the corpus of the BPE paper (Sennrich et al., 2016), without its end-of-word marker",
        "end-of-word": "the same corpus with the paper's </w> marker, and two new words encoded",
        "lexicographic": "ties broken by the greatest pair, as Stanford's CS336 assignment does",
        "byte-level": "the Hugging Face course's BPE chapter: GPT-2's pre-tokenizer (Ġ), its 19 merges and its "
        "tokenize example",
    },
    sample=shared.sample,
)
