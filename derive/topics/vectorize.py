"""From text to model input: ids padded to a fixed length, the attention mask, segment ids, and
one-hot rows times the embedding matrix, which is the same as looking rows up.

The ids, mask and segment ids equal Hugging Face ``tokenizers``' ``BertWordPieceTokenizer`` with
``enable_truncation(max_length=N)`` and ``enable_padding(length=N)``: its "longest first" rule
cuts word pieces from the end of the longer sentence, and [CLS] and every [SEP] always stay.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive import wordpiece as wp
from derive.blocks import eq, prose, table, unevaluated_dot, user
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic
from derive.topics.tokenize import Vocabulary, _quoted, _text, _visible
from derive.topics.tokenize import _vocab as _tokenize_vocab

DIM = 3  # columns of the toy embedding matrix
MAX_TERMS = 8  # a row of O times a column of E is written out in full up to this many terms
ONE_HOT, EMBEDDED = sp.Symbol("O"), sp.Symbol("X")


def toy_embedding_row(token_id: int) -> list[int]:
    """Row ``token_id`` of the toy embedding matrix: small whole numbers, different for every id below 385."""
    t = token_id
    return [t % 5 - 2, (3 * t + 1) % 7 - 3, (5 * t + 2) % 11 - 5]


def kept_lengths(len_a: int, len_b: int | None, max_length: int) -> tuple[int, int | None]:
    """How many word pieces of each sentence survive: Hugging Face's "longest first" rule."""
    if len_b is None:
        return min(len_a, max_length - 2), None
    room = max_length - 3
    if len_a + len_b <= room:
        return len_a, len_b
    short, long = min(len_a, len_b), max(len_a, len_b)
    long = short if short > room else max(short, room - short)
    if short + long > room:
        short, long = room // 2, room // 2 + room % 2
    return (long, short) if len_a > len_b else (short, long)


# Inputs.


def _vocab(value, option: str) -> Vocabulary:
    vocab = _tokenize_vocab(value, option)
    if wp.PAD not in vocab.ids:
        raise InputError(option, f"lacks {wp.PAD}: padding needs it")
    return vocab


def _max_length(value, option: str) -> int:
    return inputs.integer(value, option, 2, limits.MAX_TOKENS)


def _prepare(options) -> Givens:
    text, pair, max_length = options["text"], options["pair"], options["max_length"]
    if pair is not None and max_length < 3:
        raise InputError("--max-length", "expected at least 3 for a pair: [CLS] and two [SEP] must fit")
    vocab = options["vocab"] or Vocabulary(f"{wp.TINY_VOCAB} (built in)", wp.tiny_vocab())
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
            name=user(_visible(vocab.name)),
            size=len(vocab.ids),
            n=max_length,
        )
    ]
    for name, text_, pieces in (("A", text, pieces_a), ("B", pair, pieces_b)):
        if text_ is not None:
            intro.append(
                prose(f"Text {name}: {{t}}, word pieces {{p}}", t=_quoted(text_), p=_pieces_text(pieces))
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


# Stages.


SINGLE_RULE = (
    "BERT's rule for cutting (as Hugging Face's BertWordPieceTokenizer truncates): [CLS] and [SEP] always "
    "stay, and word pieces are dropped from the end of the text, even between the pieces of one word."
)
PAIR_RULE = (
    "BERT's rule for cutting a pair (Hugging Face's longest_first): [CLS] and both [SEP] always stay, and "
    "word pieces are dropped from the ends of the sentences. If the shorter sentence fits in half of the "
    "room it is kept whole and the longer one is cut to the rest; otherwise each keeps half of the room, "
    "and the originally longer one (B, when they tie) takes the odd place. A word may be cut between its "
    "pieces."
)


def _kept(v):
    return kept_lengths(len(v.pieces_a), None if v.pieces_b is None else len(v.pieces_b), v.max_length)


def _tokens(v):
    keep_a, keep_b = _kept(v)
    tokens = [wp.CLS, *v.pieces_a[:keep_a], wp.SEP]
    if keep_b is not None:
        tokens += [*v.pieces_b[:keep_b], wp.SEP]
    return tokens + [wp.PAD] * (v.max_length - len(tokens))


def _explain_tokens(v):
    keep_a, keep_b = _kept(v)
    pair = v.pieces_b is not None
    blocks = [
        prose(
            "BERT writes a single text as [CLS] A [SEP] and a pair as [CLS] A [SEP] B [SEP]. A batch is one "
            "rectangular array, so every sequence is brought to the same length: a longer one is cut, a "
            "shorter one is filled with [PAD]."
        ),
        prose(PAIR_RULE if pair else SINGLE_RULE),
    ]
    specials = 3 if pair else 2
    cuts = [("A", v.pieces_a, keep_a)] + ([("B", v.pieces_b, keep_b)] if pair else [])
    total = sum(len(pieces) for _, pieces, _ in cuts)
    room = (
        f"Here {specials} special tokens leave room for {v.max_length - specials} word pieces, and there are"
    )
    blocks.append(prose(room + " {total}.", total=total))
    for name, pieces, keep in cuts:
        if keep < len(pieces):
            cut = user(" ".join(pieces[keep:]))
            blocks.append(prose(f"{name} keeps {keep} of its {len(pieces)} pieces; cut: {{cut}}", cut=cut))
    pads = v.tokens.count(wp.PAD)
    if pads:
        filler = "1 [PAD] token fills" if pads == 1 else f"{pads} [PAD] tokens fill"
        blocks.append(prose(f"Then {filler} the sequence up to {{n}} positions.", n=v.max_length))
    blocks.append(prose("{n} tokens: {t}", n=len(v.tokens), t=user(" ".join(v.tokens))))
    return tuple(blocks)


def _input_ids(v):
    return wp.ids_of(v.tokens, v.vocab)


def _explain_input_ids(v):
    rows = [(p, user(t), i) for p, (t, i) in enumerate(zip(v.tokens, v.input_ids))]
    return (
        prose("Each token's id is its line number in the vocabulary file, counting from 0."),
        table(("position", "token", "id"), rows),
        prose("input_ids = {ids}", ids=_numbers(v.input_ids)),
    )


def _numbers(values) -> str:
    return " ".join(str(x) for x in values)


def _attention_mask(v):
    return [int(i != v.pad_id) for i in v.input_ids]


def _explain_attention_mask(v):
    return (
        prose(
            "The attention mask is 1 for every real token ([CLS] and [SEP] included) and 0 for [PAD] (id "
            "{pad}). Attention adds −∞ to the score of every key whose mask is 0, so after the softmax no "
            "token attends to padding, and the padding changes nothing in the real tokens' outputs.",
            pad=v.pad_id,
        ),
        prose("attention_mask = {m}", m=_numbers(v.attention_mask)),
    )


def _token_type_ids(v):
    keep_a, keep_b = _kept(v)
    first = keep_a + 2  # [CLS] A [SEP]
    second = 0 if keep_b is None else keep_b + 1  # B [SEP]
    return [0] * first + [1] * second + [0] * (len(v.input_ids) - first - second)


def _explain_token_type_ids(v):
    blocks = [
        prose(
            "The segment (token type) ids say which sentence each token belongs to: 0 for [CLS], A and the "
            "[SEP] that closes A; 1 for B and its closing [SEP]. Padding gets 0. The model adds row 0 or row "
            "1 of a two-row segment embedding table to each token's vector."
        )
    ]
    if v.pieces_b is None:
        blocks.append(prose("With a single text every id is 0."))
    rows = [
        (p, user(t), i, m, s)
        for p, (t, i, m, s) in enumerate(zip(v.tokens, v.input_ids, v.attention_mask, v.token_type_ids))
    ]
    blocks += [
        prose("token_type_ids = {s}", s=_numbers(v.token_type_ids)),
        prose("Together, as BERT receives them:"),
        table(("position", "token", "input_ids", "attention_mask", "token_type_ids"), rows),
    ]
    return tuple(blocks)


def _columns(ids) -> list[int]:
    """The vocabulary ids that occur: the only columns of the one-hot matrix that hold a 1."""
    return sorted(set(ids))


def _one_hot(v):
    columns = _columns(v.input_ids)
    return sp.Matrix(len(v.input_ids), len(columns), lambda r, c: int(v.input_ids[r] == columns[c]))


def _names(vocab, columns) -> list[str]:
    names = {i: t for t, i in vocab.items()}
    return [names[i] for i in columns]


def _explain_one_hot(v):
    columns = _columns(v.input_ids)
    return (
        prose(
            "A one-hot row has one column per vocabulary entry, all 0 except a 1 in the column of the "
            "token's id. The full one-hot matrix is {n} × {size} here ({size} entries in the vocabulary), too "
            "wide to print, and all its columns are 0 except those of the {k} ids that occur. O keeps just "
            "those columns, in order of id:",
            n=len(v.input_ids),
            size=len(v.vocab),
            k=len(columns),
        ),
        table(
            ("column of O", "id", "token"),
            [(c, i, user(t)) for c, (i, t) in enumerate(zip(columns, _names(v.vocab, columns)))],
        ),
        eq(ONE_HOT, v.one_hot),
        prose("Each row holds exactly one 1; a column holds as many as its token occurs."),
    )


def _used_embeddings(ids) -> sp.Matrix:
    return sp.Matrix([toy_embedding_row(i) for i in _columns(ids)])


def _embedded(v):
    return v.one_hot * _used_embeddings(v.input_ids)


def _explain_embedded(v):
    columns = _columns(v.input_ids)
    used = _used_embeddings(v.input_ids)
    blocks = [
        prose(
            "The embedding matrix E has one row of {d} numbers per vocabulary entry ({size} × {d}). These are "
            "toy numbers from a fixed rule, row t = (t mod 5 − 2, (3t + 1) mod 7 − 3, (5t + 2) mod 11 − 5); a "
            "model learns its rows (BERT-base's E is 30522 × 768). Multiplying the full one-hot matrix by E "
            "adds up rows of E weighted by the one-hot entries; the zero columns of O meet rows of E that "
            "contribute 0, so only the rows of the ids that occur matter:",
            d=DIM,
            size=len(v.vocab),
        ),
        table(
            ("row of E_used", "id", "token", "row of E"),
            [(r, i, user(t), used.row(r)) for r, (i, t) in enumerate(zip(columns, _names(v.vocab, columns)))],
        ),
    ]
    specials = {wp.CLS, wp.SEP, wp.PAD}
    real = next((r for r, t in enumerate(v.tokens) if t not in specials), 0)
    token_id, column = v.input_ids[real], columns.index(v.input_ids[real])
    blocks.append(
        prose(
            "Row {r} of the product ({t}, id {i}): each entry is row {r} of O times a column of E_used; the "
            "single 1 in the row picks row {c} of E_used, which is row {i} of E, and every 0 drops the "
            "other rows.",
            r=real,
            t=user(v.tokens[real]),
            i=token_id,
            c=column,
        )
    )
    shown = range(len(columns)) if len(columns) <= MAX_TERMS else [column]
    if len(columns) > MAX_TERMS:
        blocks.append(
            prose("Its other {m} terms are 0 times an entry of E_used; the one left:", m=len(columns) - 1)
        )
    for j in range(DIM):
        terms = unevaluated_dot([v.one_hot[real, c] for c in shown], [used[c, j] for c in shown])
        blocks.append(eq(sp.Indexed(sp.IndexedBase(EMBEDDED), real, j), terms, v.embedded[real, j]))
    blocks += [
        prose(
            "which is row {i} of E, {row}. The same holds for every row, so the whole product is",
            i=token_id,
            row=used.row(column),
        ),
        eq(EMBEDDED, sp.MatMul(v.one_hot, used, evaluate=False), v.embedded),
        prose(
            "and equals looking up row input_ids[p] of E for each position p. Frameworks therefore store E and "
            "look rows up (torch.nn.Embedding): {n} row copies instead of {n} × {size} × {d} = {flops} "
            "multiply-adds. Training changes only the rows that were looked up, as the one-hot product says.",
            n=len(v.input_ids),
            size=len(v.vocab),
            d=DIM,
            flops=len(v.input_ids) * len(v.vocab) * DIM,
        ),
        prose(
            "BERT then adds a position embedding (derive pe-properties) and the segment embedding of each "
            "token's token_type_id to these rows."
        ),
    ]
    return tuple(blocks)


# Misconceptions.


def _mask_inverted(v):
    return [1 - m for m in _attention_mask(v)]


def _special_masked(v):
    specials = {v.vocab[t] for t in (wp.CLS, wp.SEP)} | {v.pad_id}
    return [int(i not in specials) for i in v.input_ids]


def _segment_sep(v):
    types = _token_type_ids(v)
    if v.pieces_b is not None:
        types[_kept(v)[0] + 1] = 1
    return types


MASK_INVERTED = (
    "The mask is 1 for real tokens (attend to them) and 0 for [PAD] (ignore them), not the other way."
)
SPECIAL_MASKED = (
    "[CLS] and [SEP] are real tokens: their mask is 1. Only [PAD] gets 0 (marking special tokens is a "
    "different list, the special tokens mask)."
)
SEGMENT_SEP = "The [SEP] that closes A belongs to A: its segment id is 0; B starts after it."


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
    table = np.array([toy_embedding_row(t) for t in range(len(vocab))], dtype=float)  # (V, 3): a given
    embed = forward.Embeddings(table, np.zeros((n, DIM)))
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
        Option("text", "the text (sentence A), at most 1000 characters", _text, required=True),
        Option("pair", "a second text (sentence B) for a sentence pair", _text),
        Option(
            "max_length",
            f"the fixed sequence length, 2 to {limits.MAX_TOKENS} (3 or more for a pair)",
            _max_length,
            default="8",
        ),
        Option(
            "vocab", "a BERT vocab.txt, one token per line [default: a small built-in vocabulary]", _vocab
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage("tokens", "Special tokens, truncation and padding", _tokens, _explain_tokens),
        Stage("input_ids", "Token ids", _input_ids, _explain_input_ids),
        Stage(
            "attention_mask",
            "The attention mask",
            _attention_mask,
            _explain_attention_mask,
            mistakes=(
                Mistake("mask-inverted", MASK_INVERTED, _mask_inverted),
                Mistake("special-masked", SPECIAL_MASKED, _special_masked),
            ),
        ),
        Stage(
            "token_type_ids",
            "Segment ids",
            _token_type_ids,
            _explain_token_type_ids,
            mistakes=(Mistake("segment-sep", SEGMENT_SEP, _segment_sep),),
        ),
        Stage("one_hot", "One-hot rows", _one_hot, _explain_one_hot),
        Stage("embedded", "One-hot times the embedding matrix is a lookup", _embedded, _explain_embedded),
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
