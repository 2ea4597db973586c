"""BERT's tokenizer, step by step: clean-up, accents and case, words, WordPiece, special tokens, ids.

The values are strings and lists (no SymPy): the computing is done by derive.wordpiece, and
each stage reads the previous stage's value from ``v`` so the checker can follow through.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from derive import wordpiece as wp
from derive.blocks import prose, table, user
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic

MAX_TEXT = 1000
MAX_VOCAB_BYTES = 20_000_000
MAX_TABLE_ROWS = 30
MAX_ATTEMPTS_WIDTH = 60  # characters of tried candidates shown in full


@dataclass(frozen=True)
class Vocabulary:
    name: str
    ids: MappingProxyType


# Inputs.


def _text(value, option: str) -> str:
    if not isinstance(value, str):
        raise InputError(option, f"expected text, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise InputError(
            option, f"expected at most {MAX_TEXT} characters for a worked solution, got {len(value)}"
        )
    if any(unicodedata.category(ch) == "Cs" for ch in value):
        raise InputError(option, "is not valid UTF-8 text")
    return value


def _vocab(value, option: str) -> Vocabulary:
    path = Path(str(value))
    if not path.exists():
        raise InputError(option, f"no such file: {str(value)[:80]!r}")
    if not path.is_file():
        raise InputError(option, f"{str(value)[:80]!r} is not a file")
    try:
        if path.stat().st_size > MAX_VOCAB_BYTES:
            raise InputError(option, "is larger than 20 MB: not a BERT vocab.txt")
        ids = wp.load_vocab(path)
    except UnicodeDecodeError:
        raise InputError(option, "is not UTF-8 text: expected a BERT vocab.txt, one token per line") from None
    except OSError as error:
        raise InputError(option, f"cannot be read ({error.strerror or error})") from None
    missing = wp.missing_tokens(ids)
    if missing:
        raise InputError(option, f"lacks {', '.join(missing)}: expected a BERT vocab.txt, one token per line")
    return Vocabulary(str(value), MappingProxyType(ids))


def _flag(value, option: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise InputError(option, f"expected true or false, got {str(value)[:40]!r}")


def _visible(text: str) -> str:
    """Control characters and unusual spaces spelled as <U+XXXX>, so every format can show them."""
    return "".join(
        ch if ch == " " or not (wp.is_whitespace(ch) or wp.is_control(ch)) else _code(ch) for ch in text
    )


def _code(ch: str) -> str:
    return f"<U+{ord(ch):04X}>"


def _quoted(text: str):
    return user(_visible(text)) if text else "(empty)"


def _prepare(options) -> Givens:
    text = options["text"]
    vocab = options["vocab"] or Vocabulary(f"{wp.TINY_VOCAB} (built in)", MappingProxyType(wp.tiny_vocab()))
    lowercase = not options["no_lowercase"]
    specials = wp.specials_in(vocab.ids)
    found = list(dict.fromkeys(s for s, special in wp.segments(text, specials) if special))
    if wp.encode(text, vocab.ids, lowercase)[0] != _by_strings(text, vocab.ids, lowercase, specials):
        raise InputError(
            "--text", "a special token such as [MASK] is split by a control character; remove it"
        )
    intro = [
        prose(
            "BERT reads text as a sequence of token ids from a fixed vocabulary. Its tokenizer gets there "
            "in five steps: clean up the text, strip accents and lowercase, split it into words, split each "
            "word into WordPiece tokens, and add the special tokens [CLS] and [SEP]."
        ),
        prose("The text ({n} characters): {text}", n=len(text), text=_quoted(text)),
        prose(
            "The vocabulary is {name}, with {size} entries, one per line: a token's id is its line number, "
            "counting from 0. Pieces that continue a word start with ##.",
            name=user(_visible(vocab.name)),
            size=len(vocab.ids),
        ),
    ]
    if found:
        intro.append(
            prose(
                "Special tokens in the raw text ({s}) are recognised first and kept whole: they skip the "
                "steps below and become one token each.",
                s=user(" ".join(found)),
            )
        )
    if not lowercase:
        intro.append(prose("With --no-lowercase, case and accents are kept, as a cased vocabulary needs."))
    params = {"text": text, "vocab": vocab.name, "lowercase": lowercase}
    values = {"text": text, "vocab": vocab.ids, "specials": specials, "lowercase": lowercase}
    return Givens("WordPiece tokenization (BERT)", values, tuple(intro), params)


# The pipeline on strings and lists, read from v so that a student's own earlier answer carries on.


def _pieces_of(words, vocab, specials, longest=True):
    return [p for w in words for p in ([w] if w in specials else wp.wordpiece(w, vocab, longest))]


def _by_strings(text, vocab, lowercase, specials):
    """The stages below chained on plain strings; special tokens are found again at each one."""
    words = wp.split(wp.normalize(wp.clean(text, specials), lowercase, specials), specials)
    return wp.add_special(_pieces_of(words, vocab, specials))


def _cleaned(v):
    return wp.clean(v.text, v.specials)


def _normalized(v):
    return wp.normalize(v.cleaned, v.lowercase, v.specials)


def _words(v):
    return wp.split(v.normalized, v.specials)


def _pieces(v):
    return _pieces_of(v.words, v.vocab, v.specials)


def _tokens(v):
    return wp.add_special(v.pieces)


def _ids(v):
    return wp.ids_of(v.tokens, v.vocab)


# Misconceptions: what a student holding each would write at each stage.


def _kept_accents_normalized(v):
    return wp.normalize(v.cleaned, v.lowercase, v.specials, strip_accents=False)


def _kept_accents_words(v):
    return wp.split(_kept_accents_normalized(v), v.specials)


def _kept_accents_tokens(v):
    return wp.add_special(_pieces_of(_kept_accents_words(v), v.vocab, v.specials))


def _shortest_tokens(v):
    return wp.add_special(_pieces_of(v.words, v.vocab, v.specials, longest=False))


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
    return tokens[1:-1]


def _ids_from(tokens_of):
    return lambda v: wp.ids_of(tokens_of(v), v.vocab)


# Explanations.


def _explain_cleaned(v):
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
        rows = [(_code(ch), unicodedata.name(ch, "(unnamed)").lower(), _fate(ch)) for ch in changed]
        blocks += _first_rows(("character", "name", "becomes"), rows)
    blocks.append(prose("Cleaned text: {t}", t=_quoted(v.cleaned)))
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


def _explain_normalized(v):
    if not v.lowercase:
        return (
            prose("Skipped (--no-lowercase): case and accents stay as they are."),
            prose("Text: {t}", t=_quoted(v.normalized)),
        )
    blocks = [
        prose(
            "Decompose every character into a base character and combining marks (Unicode NFD), drop the "
            "nonspacing marks (the accents), then lowercase. For example é is e followed by a combining "
            "acute accent U+0301, so it becomes e."
        )
    ]
    plain = "".join(p for p, special in wp.segments(v.cleaned, v.specials) if not special)
    changed = sorted({ch for ch in plain if wp.normalize(ch) != ch}, key=plain.index)
    if not changed:
        blocks.append(prose("Here no character changes."))
    else:
        rows = [
            (user(ch), user(_decomposed(ch)) if wp.decompose(ch) != ch else "", _quoted(wp.normalize(ch)))
            for ch in changed
        ]
        blocks += _first_rows(("character", "decomposed", "becomes"), rows)
    blocks.append(prose("Normalised text: {t}", t=_quoted(v.normalized)))
    return tuple(blocks)


def _explain_words(v):
    return (
        prose(
            "Split at the spaces, then make every punctuation mark a word of its own: BERT counts all ASCII "
            "symbols (such as $, +, ^ and the apostrophe) as punctuation, besides Unicode's punctuation. Each "
            "CJK ideograph (Chinese characters, Japanese kanji) is a word of its own as well."
        ),
        prose("{n} words: {w}", n=len(v.words), w=_quoted(" ".join(v.words))),
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


def _explain_pieces(v):
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
    blocks.append(prose("{n} pieces: {p}", n=len(v.pieces), p=_quoted(" ".join(v.pieces))))
    return tuple(blocks)


def _explain_tokens(v):
    return (
        prose(
            "Put [CLS] first (its final hidden state summarises the whole input, for classification) and [SEP] "
            "last (it also separates the two sentences of a pair)."
        ),
        prose("{n} tokens: {t}", n=len(v.tokens), t=user(" ".join(v.tokens))),
    )


def _explain_ids(v):
    rows = [(position, user(token), v.vocab[token]) for position, token in enumerate(v.tokens)]
    return (
        prose(
            "Look each token up in the vocabulary: its id is its line number in the file, counting from 0."
        ),
        *_tables(("position", "token", "id"), rows),
        prose("input_ids = {ids}", ids=" ".join(str(i) for i in v.input_ids)),
    )


# The test suite's random inputs.

_SAMPLE_WORDS = (
    "He remained unaffable the house John Johanson's Café naïve Ångström au lait king queen "
    "bought a gallon of milk hello world tokenizer WordPiece learning playing"
).split()


def _sample(rng):
    count = int(rng.integers(1, 9))
    words = [str(rng.choice(_SAMPLE_WORDS)) for _ in range(count)]
    if rng.random() < 0.3:
        words.insert(int(rng.integers(0, count + 1)), "[MASK]")
    return {"text": " ".join(words) + str(rng.choice([".", "!", "?", ",", ""]))}


TOPIC = Topic(
    name="tokenize",
    summary="BERT's WordPiece tokenizer: clean-up, accents and case, words, greedy longest-match pieces, ids",
    options=(
        Option("text", "the text to tokenize (at most 1000 characters)", _text, required=True),
        Option(
            "vocab", "a BERT vocab.txt, one token per line [default: a small built-in vocabulary]", _vocab
        ),
        Option(
            "no_lowercase",
            "keep case and accents, for a cased vocabulary",
            _flag,
            default=False,
            flag_value=True,
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage("cleaned", "Clean up the text", _cleaned, _explain_cleaned, answer=False),
        Stage(
            "normalized",
            "Strip accents and lowercase",
            _normalized,
            _explain_normalized,
            mistakes=_mistakes(_kept_accents_normalized),
        ),
        Stage("words", "Split into words", _words, _explain_words, mistakes=_mistakes(_kept_accents_words)),
        Stage(
            "pieces",
            "WordPiece: longest match first",
            _pieces,
            _explain_pieces,
            mistakes=_mistakes(
                lambda v: _drop_special(_kept_accents_tokens(v)), lambda v: _drop_special(_shortest_tokens(v))
            ),
        ),
        Stage(
            "tokens",
            "Add [CLS] and [SEP]",
            _tokens,
            _explain_tokens,
            mistakes=_mistakes(_kept_accents_tokens, _shortest_tokens),
        ),
        Stage(
            "input_ids",
            "Look up the ids",
            _ids,
            _explain_ids,
            mistakes=_mistakes(_ids_from(_kept_accents_tokens), _ids_from(_shortest_tokens)),
        ),
    ),
    result="input_ids",
    examples={
        "unaffable": {"text": "He remained unaffable."},
        "accents": {"text": "Café au lait, naïve Ångström!"},
        "readme": {"text": "John Johanson's house"},
    },
    example_notes={
        "unaffable": "una + ##ffa + ##ble: the longest match at every step",
        "accents": "accents stripped (é to e) and punctuation split off",
        "readme": "the example in Google's BERT README",
    },
    sample=_sample,
    reference=None,
)
