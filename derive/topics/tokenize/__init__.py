"""BERT's tokenizer, step by step: clean-up, accents and case, words, WordPiece, special tokens, ids.

The values are strings and lists (no SymPy): the computing is done by derive.wordpiece, and
each stage reads the previous stage's value from ``v`` so the checker can follow through.
"""

from __future__ import annotations

from derive import vocabulary
from derive import wordpiece as wp
from derive.blocks import prose, user
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.tokenize import explain, stages
from derive.vocabulary import quoted, visible

# Inputs.


def _flag(value, option: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise InputError(option, f"expected true or false, got {str(value)[:40]!r}")


def _optional_flag(value, option: str) -> bool | None:
    return None if value is None else _flag(value, option)


def _accents(options) -> bool | None:
    """--strip-accents / --no-strip-accents; None (neither) lets the accents follow --no-lowercase."""
    strip, keep = options["strip_accents"], options["no_strip_accents"]
    if strip and keep:
        raise InputError("--no-strip-accents", "contradicts --strip-accents; give one of them")
    return False if keep else strip


def _prepare(options) -> Givens:
    text = options["text"]
    vocab = options["vocab"] or vocabulary.builtin()
    lowercase = not options["no_lowercase"]
    asked = _accents(options)
    strip_accents = lowercase if asked is None else asked
    specials = wp.specials_in(vocab.ids)
    found = list(dict.fromkeys(s for s, special in wp.segments(text, specials) if special))
    encoded = wp.encode(text, vocab.ids, lowercase, strip_accents)[0]
    if encoded != stages.by_strings(text, vocab.ids, lowercase, specials, strip_accents):
        raise InputError(
            "--text", "a special token such as [MASK] is split by a control character; remove it"
        )
    intro = [
        prose(
            "BERT reads text as a sequence of token ids from a fixed vocabulary. Its tokenizer gets there "
            "in five steps: clean up the text, strip accents and lowercase, split it into words, split each "
            "word into WordPiece tokens, and add the special tokens [CLS] and [SEP]."
        ),
        prose("The text ({n} characters): {text}", n=len(text), text=quoted(text)),
        prose(
            "The vocabulary is {name}, with {size} entries, one per line: a token's id is its line number, "
            "counting from 0. Pieces that continue a word start with ##.",
            name=user(visible(vocab.name)),
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
    if asked is None and not lowercase:
        intro.append(prose("With --no-lowercase, case and accents are kept, as a cased vocabulary needs."))
    elif asked is not None:
        intro.append(prose(explain.accents_convention(lowercase, strip_accents)))
    params = {"text": text, "vocab": vocab.name, "lowercase": lowercase, "strip_accents": strip_accents}
    values = {"text": text, "vocab": vocab.ids, "specials": specials, "lowercase": lowercase}
    values["strip_accents"] = strip_accents
    return Givens("WordPiece tokenization (BERT)", values, tuple(intro), params)


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
        Option(
            "text", "the text to tokenize (at most 1000 characters)", vocabulary.parse_text, required=True
        ),
        Option(
            "vocab",
            "a BERT vocab.txt, one token per line [default: a small built-in vocabulary]",
            vocabulary.parse_vocab,
            path="file",
        ),
        Option(
            "no_lowercase",
            "keep case and accents, for a cased vocabulary",
            _flag,
            default=False,
            flag_value=True,
        ),
        Option(
            "strip_accents",
            "strip accents (NFD, drop the marks) whatever the case [default: only when lowercasing]",
            _optional_flag,
            flag_value=True,
        ),
        Option(
            "no_strip_accents",
            "keep accents whatever the case (Hugging Face's BertNormalizer strip_accents=False)",
            _flag,
            default=False,
            flag_value=True,
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage("cleaned", "Clean up the text", stages.cleaned, explain.cleaned, answer=False),
        Stage(
            "normalized",
            "Strip accents and lowercase",
            stages.normalized,
            explain.normalized,
            mistakes=stages.NORMALIZED_MISTAKES,
        ),
        Stage("words", "Split into words", stages.words, explain.words, mistakes=stages.WORDS_MISTAKES),
        Stage(
            "pieces",
            "WordPiece: longest match first",
            stages.pieces,
            explain.pieces,
            mistakes=stages.PIECES_MISTAKES,
        ),
        Stage(
            "tokens",
            "Add [CLS] and [SEP]",
            stages.tokens,
            explain.tokens,
            mistakes=stages.TOKENS_MISTAKES,
        ),
        Stage(
            "input_ids",
            "Look up the ids",
            stages.ids,
            explain.ids,
            mistakes=stages.IDS_MISTAKES,
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
