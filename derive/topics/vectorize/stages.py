"""The model input, stage by stage: truncation and padding, ids, masks, one-hot rows, embeddings."""

from __future__ import annotations

import sympy as sp

from derive import wordpiece as wp
from derive.model import Mistake

DIM = 3  # columns of the toy embedding matrix


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


def kept(v):
    return kept_lengths(len(v.pieces_a), None if v.pieces_b is None else len(v.pieces_b), v.max_length)


def tokens(v):
    keep_a, keep_b = kept(v)
    tokens = [wp.CLS, *v.pieces_a[:keep_a], wp.SEP]
    if keep_b is not None:
        tokens += [*v.pieces_b[:keep_b], wp.SEP]
    return tokens + [wp.PAD] * (v.max_length - len(tokens))


def input_ids(v):
    return wp.ids_of(v.tokens, v.vocab)


def attention_mask(v):
    return [int(i != v.pad_id) for i in v.input_ids]


def token_type_ids(v):
    keep_a, keep_b = kept(v)
    first = keep_a + 2  # [CLS] A [SEP]
    second = 0 if keep_b is None else keep_b + 1  # B [SEP]
    return [0] * first + [1] * second + [0] * (len(v.input_ids) - first - second)


def used_ids(ids) -> list[int]:
    """The vocabulary ids that occur: the only columns of the one-hot matrix that hold a 1."""
    return sorted(set(ids))


def one_hot(v):
    columns = used_ids(v.input_ids)
    return sp.Matrix(len(v.input_ids), len(columns), lambda r, c: int(v.input_ids[r] == columns[c]))


def used_embeddings(ids) -> sp.Matrix:
    return sp.Matrix([toy_embedding_row(i) for i in used_ids(ids)])


def embedded(v):
    return v.one_hot * used_embeddings(v.input_ids)


# Misconceptions.


def _mask_inverted(v):
    return [1 - m for m in attention_mask(v)]


def _special_masked(v):
    specials = {v.vocab[t] for t in (wp.CLS, wp.SEP)} | {v.pad_id}
    return [int(i not in specials) for i in v.input_ids]


def _segment_sep(v):
    types = token_type_ids(v)
    if v.pieces_b is not None:
        types[kept(v)[0] + 1] = 1
    return types


MASK_INVERTED = (
    "The mask is 1 for real tokens (attend to them) and 0 for [PAD] (ignore them), not the other way."
)
SPECIAL_MASKED = (
    "[CLS] and [SEP] are real tokens: their mask is 1. Only [PAD] gets 0 (marking special tokens is a "
    "different list, the special tokens mask)."
)
SEGMENT_SEP = "The [SEP] that closes A belongs to A: its segment id is 0; B starts after it."


ATTENTION_MASK_MISTAKES = (
    Mistake("mask-inverted", MASK_INVERTED, _mask_inverted),
    Mistake("special-masked", SPECIAL_MASKED, _special_masked),
)
TOKEN_TYPE_MISTAKES = (Mistake("segment-sep", SEGMENT_SEP, _segment_sep),)
