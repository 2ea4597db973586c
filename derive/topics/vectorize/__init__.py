"""From text to model input: ids padded to a fixed length, the attention mask, segment ids, and
one-hot rows times the embedding matrix, which is the same as looking rows up.

The ids, mask and segment ids equal Hugging Face ``tokenizers``' ``BertWordPieceTokenizer`` with
``enable_truncation(max_length=N)`` and ``enable_padding(length=N)``: its "longest first" rule
cuts word pieces from the end of the longer sentence, and [CLS] and every [SEP] always stay.
"""

from __future__ import annotations

from derive import inputs, limits, vocabulary
from derive import wordpiece as wp
from derive.blocks import prose, user
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.vectorize import explain, stages
from derive.vocabulary import Vocabulary, quoted, visible

# Inputs.


def _vocab(value, option: str) -> Vocabulary:
    vocab = vocabulary.parse_vocab(value, option)
    if wp.PAD not in vocab.ids:
        raise InputError(option, f"lacks {wp.PAD}: padding needs it")
    return vocab


def _max_length(value, option: str) -> int:
    return inputs.integer(value, option, 2, limits.MAX_TOKENS)


def _prepare(options) -> Givens:
    text, pair, max_length = options["text"], options["pair"], options["max_length"]
    if pair is not None and max_length < 3:
        raise InputError("--max-length", "expected at least 3 for a pair: [CLS] and two [SEP] must fit")
    vocab = options["vocab"] or vocabulary.builtin()
    pieces_a = wp.tokenize(text, vocab.ids)[1:-1]
    pieces_b = None if pair is None else wp.tokenize(pair, vocab.ids)[1:-1]
    intro = [
        prose(
            "A model cannot read text: it reads a table of numbers of a fixed shape. This derivation turns "
            "text into that table: token ids, padded to a fixed length; the attention mask, which tells the "
            "model which positions are padding; segment ids, which tell the sentences of a pair apart; and "
            "the embedding vectors, found by multiplying one-hot rows by the embedding matrix, which is the "
            "same as looking rows up. The vocabulary is {name}, with {size} entries, and the tokenizer BERT's "
            "WordPiece (derive tokenize shows its steps). Every sequence must have exactly {n} positions.",
            name=user(visible(vocab.name)),
            size=len(vocab.ids),
            n=max_length,
        )
    ]
    for name, text_, pieces in (("A", text, pieces_a), ("B", pair, pieces_b)):
        if text_ is not None:
            intro.append(
                prose(f"Text {name}: {{t}}, word pieces {{p}}", t=quoted(text_), p=_pieces_text(pieces))
            )
    values = {
        "pieces_a": pieces_a,
        "pieces_b": pieces_b,
        "max_length": max_length,
        "vocab": vocab.ids,
        "pad_id": vocab.ids[wp.PAD],
    }
    params = {"text": text, "pair": pair, "max_length": max_length, "vocab": vocab.name}
    title = "Vectorizing text: ids, attention mask, segment ids and embeddings"
    return Givens(title, values, tuple(intro), params)


def _pieces_text(pieces):
    return user(" ".join(pieces)) if pieces else "(none)"


# The test suite's inputs and independent NumPy reference.

_SAMPLE_WORDS = "the king queen man woman bought a gallon of milk he remained unaffable house home".split()


def _sample(rng):
    def sentence():
        return " ".join(str(rng.choice(_SAMPLE_WORDS)) for _ in range(int(rng.integers(0, 7))))

    raw = {"text": sentence(), "max_length": str(int(rng.integers(3, 13)))}
    if rng.random() < 0.5:
        raw["pair"] = sentence()
    return raw


def _reference(options):
    import numpy as np

    from derive import forward

    vocab = options["vocab"].ids if options["vocab"] else wp.tiny_vocab()
    n = options["max_length"]
    a = wp.tokenize(options["text"], vocab)[1:-1]
    b = None if options["pair"] is None else wp.tokenize(options["pair"], vocab)[1:-1]
    room = n - (2 if b is None else 3)
    first_longer = b is not None and len(a) > len(b)
    while len(a) + (0 if b is None else len(b)) > room:  # drop one piece at a time
        if b is None or len(a) > len(b) or (len(a) == len(b) and not first_longer):
            a = a[:-1]
        else:
            b = b[:-1]
    tokens = [wp.CLS, *a, wp.SEP] + ([] if b is None else [*b, wp.SEP])
    types = np.array([0] * (len(a) + 2) + [1] * (len(tokens) - len(a) - 2) + [0] * (n - len(tokens)))
    ids = np.array([vocab[t] for t in tokens] + [vocab[wp.PAD]] * (n - len(tokens)))  # (n,)
    table = np.array([stages.toy_embedding_row(t) for t in range(len(vocab))], dtype=float)  # (V, 3): a given
    embed = forward.Embeddings(table, np.zeros((n, stages.DIM)))
    return {
        "input_ids": ids,
        "attention_mask": (ids != vocab[wp.PAD]).astype(int),
        "token_type_ids": types,
        "one_hot": np.eye(len(vocab))[ids][:, np.unique(ids)],  # (n, k)
        "embedded": embed(ids[None, :])[0],  # (n, 3)
    }


TOPIC = Topic(
    name="vectorize",
    summary="Text to model input: padded ids, attention mask, segment ids, one-hot rows times embeddings",
    options=(
        Option(
            "text", "the text (sentence A), at most 1000 characters", vocabulary.parse_text, required=True
        ),
        Option("pair", "a second text (sentence B) for a sentence pair", vocabulary.parse_text),
        Option(
            "max_length",
            f"the fixed sequence length, 2 to {limits.MAX_TOKENS} (3 or more for a pair)",
            _max_length,
            default="8",
        ),
        Option(
            "vocab",
            "a BERT vocab.txt, one token per line [default: a small built-in vocabulary]",
            _vocab,
            path="file",
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage("tokens", "Special tokens, truncation and padding", stages.tokens, explain.tokens),
        Stage("input_ids", "Token ids", stages.input_ids, explain.input_ids),
        Stage(
            "attention_mask",
            "The attention mask",
            stages.attention_mask,
            explain.attention_mask,
            mistakes=stages.ATTENTION_MASK_MISTAKES,
        ),
        Stage(
            "token_type_ids",
            "Segment ids",
            stages.token_type_ids,
            explain.token_type_ids,
            mistakes=stages.TOKEN_TYPE_MISTAKES,
        ),
        Stage("one_hot", "One-hot rows", stages.one_hot, explain.one_hot),
        Stage(
            "embedded", "One-hot times the embedding matrix is a lookup", stages.embedded, explain.embedded
        ),
    ),
    result="embedded",
    examples={
        "single": {"text": "the king", "max_length": "6"},
        "pair": {"text": "the king", "pair": "the queen", "max_length": "8"},
        "truncated": {"text": "He remained unaffable.", "max_length": "6"},
    },
    example_notes={
        "single": "one sentence padded to 6: five ids, so a 5 × 3 slice of the embedding matrix",
        "pair": "a sentence pair: segment ids 0 for [CLS] A [SEP], 1 for B [SEP]",
        "truncated": "too long for 6 positions: cut between una and ##ffa, [SEP] kept",
    },
    sample=_sample,
    reference=_reference,
)
