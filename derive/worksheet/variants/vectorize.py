"""Text to model input with the built-in vocabulary: level 1 one short sentence padded to a fixed
length, level 2 a sentence pair (segment ids) with padding, level 3 a pair too long for its length,
truncated longest first. The sheet lists every word piece of the texts and the special tokens,
each with its id and its row of the toy embedding matrix: the lesson is what follows tokenizing."""

from __future__ import annotations

from derive import wordpiece as wp
from derive.topics.vectorize.stages import toy_embedding_row

WHOLE = (
    "the king queen house man woman bought milk went said new old good bad big small day time "
    "people language model vector word text token hello world play learn home car store"
).split()
SPLIT = "unaffable playing played playful learned tokenizer newest oldest goodness timeless wordless".split()


def _words(rng, count: int, split: bool) -> str:
    words = rng.sample(WHOLE, count - 1) + [rng.choice(SPLIT if split else WHOLE)]
    rng.shuffle(words)
    return " ".join(dict.fromkeys(words))


def level_1(rng):
    return {"text": _words(rng, 2, False), "max_length": str(rng.choice([5, 6]))}


def level_2(rng):
    return {"text": _words(rng, 2, False), "pair": _words(rng, rng.choice([1, 2]), False), "max_length": "8"}


def level_3(rng):
    return {"text": _words(rng, 3, True), "pair": _words(rng, 2, True), "max_length": str(rng.choice([7, 8]))}


def moot(given):
    """One sentence has no second segment for its [SEP] to be put in."""
    return set() if "pair" in given else {"segment-sep"}


def refuse(answer, level):
    if level == 1 and answer == "token_type_ids":
        return "level 1 has one sentence, so every segment id is 0; ask it at level 2 or 3"
    return None


def suitable(values, level):
    """Padding at levels 1 and 2, truncation at level 3 (each level's lesson shows)."""
    padded = wp.PAD in values.tokens
    pieces = len(values.pieces_a) + len(values.pieces_b or ())
    truncated = pieces > values.max_length - (2 if values.pieces_b is None else 3)
    return truncated if level == 3 else padded and not truncated


def glossary(values):
    """Every word piece of the texts and the special tokens: id and embedding row, by id."""
    tokens = {wp.CLS, wp.SEP, wp.PAD, *values.pieces_a, *(values.pieces_b or ())}
    listed = sorted((values.vocab[t], t) for t in tokens)
    return [(token, f"{i}: ({', '.join(map(str, toy_embedding_row(i)))})") for i, token in listed]


SYMBOLS = {"text": None, "pair": None, "max_length": None}


def task(given):
    pair = " and the second text as sentence B" if "pair" in given else ""
    return (
        f"Turn the text{pair} into BERT's model input of max length positions: tokens with [CLS], [SEP] "
        "and [PAD] (a pair too long loses pieces from its longer sentence first), ids, attention mask, "
        "segment ids, one-hot rows (one column per id used, in increasing order) and their product with "
        "the embedding matrix. Listed: each piece's id and embedding row."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
