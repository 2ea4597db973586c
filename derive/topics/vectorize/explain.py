"""What the vectorize topic says at each stage: BERT's rules, the tables, the one-hot product."""

from __future__ import annotations

import sympy as sp

from derive import wordpiece as wp
from derive.blocks import eq, prose, table, unevaluated_dot, user
from derive.topics.vectorize import stages

MAX_TERMS = 8  # a row of O times a column of E is written out in full up to this many terms
ONE_HOT, EMBEDDED = sp.Symbol("O"), sp.Symbol("X")


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


def tokens(v):
    keep_a, keep_b = stages.kept(v)
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


def input_ids(v):
    rows = [(p, user(t), i) for p, (t, i) in enumerate(zip(v.tokens, v.input_ids))]
    return (
        prose("Each token's id is its line number in the vocabulary file, counting from 0."),
        table(("position", "token", "id"), rows),
        prose("input_ids = {ids}", ids=_numbers(v.input_ids)),
    )


def _numbers(values) -> str:
    return " ".join(str(x) for x in values)


def attention_mask(v):
    return (
        prose(
            "The attention mask is 1 for every real token ([CLS] and [SEP] included) and 0 for [PAD] (id "
            "{pad}). Attention adds −∞ to the score of every key whose mask is 0, so after the softmax no "
            "token attends to padding, and the padding changes nothing in the real tokens' outputs.",
            pad=v.pad_id,
        ),
        prose("attention_mask = {m}", m=_numbers(v.attention_mask)),
    )


def token_type_ids(v):
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


def _names(vocab, columns) -> list[str]:
    names = {i: t for t, i in vocab.items()}
    return [names[i] for i in columns]


def one_hot(v):
    columns = stages.used_ids(v.input_ids)
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


def embedded(v):
    columns = stages.used_ids(v.input_ids)
    used = stages.used_embeddings(v.input_ids)
    blocks = [
        prose(
            "The embedding matrix E has one row of {d} numbers per vocabulary entry ({size} × {d}). These are "
            "toy numbers from a fixed rule, row t = (t mod 5 − 2, (3t + 1) mod 7 − 3, (5t + 2) mod 11 − 5); a "
            "model learns its rows (BERT-base's E is 30522 × 768). Multiplying the full one-hot matrix by E "
            "adds up rows of E weighted by the one-hot entries; the zero columns of O meet rows of E that "
            "contribute 0, so only the rows of the ids that occur matter:",
            d=stages.DIM,
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
    for j in range(stages.DIM):
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
            d=stages.DIM,
            flops=len(v.input_ids) * len(v.vocab) * stages.DIM,
        ),
        prose(
            "BERT then adds a position embedding (derive pe-properties) and the segment embedding of each "
            "token's token_type_id to these rows."
        ),
    ]
    return tuple(blocks)
