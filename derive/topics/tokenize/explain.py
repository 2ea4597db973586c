"""What the tokenizer topic says at each stage: the rule, what changed, and the result."""

from __future__ import annotations

import unicodedata

from derive import wordpiece as wp
from derive.blocks import prose, table, user
from derive.vocabulary import code_point, quoted

MAX_TABLE_ROWS = 30
MAX_ATTEMPTS_WIDTH = 60  # characters of tried candidates shown in full


def cleaned(v):
    blocks = [
        prose(
            "Remove control characters (such as NUL, escape or a zero-width space) and U+FFFD, the "
            "replacement character left by broken encodings; turn every whitespace character (tab, "
            "newline, no-break space, ...) into a plain space."
        )
    ]
    changed = sorted(
        {ch for ch in v.text if ch != " " and (wp.is_whitespace(ch) or wp.is_control(ch) or ch == "\ufffd")}
    )
    if not changed:
        blocks.append(
            prose(
                "Nothing to clean: the text has no control characters, and its only whitespace is plain spaces."
            )
        )
    else:
        rows = [(code_point(ch), unicodedata.name(ch, "(unnamed)").lower(), _fate(ch)) for ch in changed]
        blocks += _first_rows(("character", "name", "becomes"), rows)
    blocks.append(prose("Cleaned text: {t}", t=quoted(v.cleaned)))
    return tuple(blocks)


def _fate(ch: str) -> str:
    return "removed" if wp.is_control(ch) or ch == "\ufffd" else "a space"


def _first_rows(header, rows):
    """One table of the first MAX_TABLE_ROWS distinct characters, and how many more there are."""
    blocks = [table(header, rows[:MAX_TABLE_ROWS])]
    if len(rows) > MAX_TABLE_ROWS:
        blocks.append(prose("... and {n} more characters.", n=len(rows) - MAX_TABLE_ROWS))
    return blocks


def _decomposed(ch: str) -> str:
    parts = wp.decompose(ch)
    return " + ".join(f"U+{ord(p):04X}" if unicodedata.combining(p) or wp.is_accent(p) else p for p in parts)


def accents_convention(lowercase: bool, strip_accents: bool) -> str:
    """The intro's sentence when --strip-accents or --no-strip-accents is given."""
    case = "lowercased" if lowercase else "kept as it is (--no-lowercase)"
    accents = "stripped (--strip-accents)" if strip_accents else "kept (--no-strip-accents)"
    return (
        f"Accents are {accents} and case is {case}. Google's BERT ties the two together (an uncased model "
        "strips accents, a cased one keeps them); Hugging Face's BertNormalizer and BertTokenizer take "
        "strip_accents and lowercase as separate switches, as here."
    )


SKIPPED = {
    (
        True,
        False,
    ): "Lowercase only (--no-strip-accents): accents stay, and nothing is decomposed, so é stays é.",
    (False, True): (
        "Decompose every character into a base character and combining marks (Unicode NFD) and drop the "
        "nonspacing marks (the accents); case is kept (--no-lowercase). For example é is e followed by a "
        "combining acute accent U+0301, so it becomes e."
    ),
}


def _normalize_one(v, ch: str) -> str:
    return wp.normalize(ch, v.lowercase, strip_accents=v.strip_accents)


def normalized(v):
    if not v.lowercase and not v.strip_accents:
        return (
            prose("Skipped (--no-lowercase): case and accents stay as they are."),
            prose("Text: {t}", t=quoted(v.normalized)),
        )
    if (v.lowercase, v.strip_accents) in SKIPPED:
        blocks = [prose(SKIPPED[v.lowercase, v.strip_accents])]
    else:
        blocks = [
            prose(
                "Decompose every character into a base character and combining marks (Unicode NFD), drop "
                "the nonspacing marks (the accents), then lowercase. For example é is e followed by a "
                "combining acute accent U+0301, so it becomes e."
            )
        ]
    plain = "".join(p for p, special in wp.segments(v.cleaned, v.specials) if not special)
    changed = sorted({ch for ch in plain if _normalize_one(v, ch) != ch}, key=plain.index)
    if not changed:
        blocks.append(prose("Here no character changes."))
    elif not v.strip_accents:
        rows = [(user(ch), quoted(_normalize_one(v, ch))) for ch in changed]
        blocks += _first_rows(("character", "becomes"), rows)
    else:
        rows = [
            (
                user(ch),
                user(_decomposed(ch)) if wp.decompose(ch) != ch else "",
                quoted(_normalize_one(v, ch)),
            )
            for ch in changed
        ]
        blocks += _first_rows(("character", "decomposed", "becomes"), rows)
    blocks.append(prose("Normalised text: {t}", t=quoted(v.normalized)))
    return tuple(blocks)


def words(v):
    return (
        prose(
            "Split at the spaces, then make every punctuation mark a word of its own: BERT counts all ASCII "
            "symbols (such as $, +, ^ and the apostrophe) as punctuation, besides Unicode's punctuation. Each "
            "CJK ideograph (Chinese characters, Japanese kanji) is a word of its own as well."
        ),
        prose("{n} words: {w}", n=len(v.words), w=quoted(" ".join(v.words))),
    )


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 4] + "..."


def _shown_attempts(attempts) -> str:
    """All candidates when they fit in a line, otherwise the first, an ellipsis and the last."""
    tried = [a.piece for a in attempts]
    if len(", ".join(tried)) <= MAX_ATTEMPTS_WIDTH:
        return ", ".join(tried)
    return f"{_short(tried[0])}, ..., {_short(tried[-1])} ({len(tried)} tries)"


def _word_rows(word: wp.Word):
    if word.special:
        return [(user(word.text), "(special token, kept whole)", user(word.text))]
    if word.reason == "too-long":
        return [(user(_short(word.text)), f"({len(word.text)} characters: not tried)", wp.UNK)]
    rows = []
    for index, search in enumerate(word.searches):
        found = search.piece
        rows.append(
            (
                user(_short(word.text)) if index == 0 else "",
                user(_shown_attempts(search.attempts)),
                user(found) if found else "none, so the word is " + wp.UNK,
            )
        )
    return rows


def _tables(header, rows):
    """Tables of at most MAX_TABLE_ROWS rows, so long ones can break across pages."""
    return [table(header, rows[i : i + MAX_TABLE_ROWS]) for i in range(0, len(rows), MAX_TABLE_ROWS)]


def pieces(v):
    blocks = [
        prose(
            "Split each word into pieces from the vocabulary, greedily: take the longest prefix that is in "
            "the vocabulary, then the longest piece of what is left, marked ## because it continues the "
            "word, and so on. If no piece fits some remainder, the whole word becomes [UNK]; so does any "
            "word longer than 100 characters."
        )
    ]
    rows, whole = [], []
    for word in v.words:
        traced = wp.Word(word, (word,), special=True) if word in v.specials else wp.trace_word(word, v.vocab)
        if not traced.special and traced.pieces == (word,):
            whole.append(word)
        else:
            rows += _word_rows(traced)
    if whole:
        blocks.append(prose("In the vocabulary as they are, at the first try: {w}", w=user(" ".join(whole))))
    if rows:
        blocks += _tables(("word", "tried, longest first", "piece"), rows)
    blocks.append(prose("{n} pieces: {p}", n=len(v.pieces), p=quoted(" ".join(v.pieces))))
    return tuple(blocks)


def tokens(v):
    return (
        prose(
            "Put [CLS] first (its final hidden state summarises the whole input, for classification) and [SEP] "
            "last (it also separates the two sentences of a pair)."
        ),
        prose("{n} tokens: {t}", n=len(v.tokens), t=user(" ".join(v.tokens))),
    )


def ids(v):
    rows = [(position, user(token), v.vocab[token]) for position, token in enumerate(v.tokens)]
    return (
        prose(
            "Look each token up in the vocabulary: its id is its line number in the file, counting from 0."
        ),
        *_tables(("position", "token", "id"), rows),
        prose("input_ids = {ids}", ids=" ".join(str(i) for i in v.input_ids)),
    )
