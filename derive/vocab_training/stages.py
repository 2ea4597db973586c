"""The four stages both trainers share (alphabet, scores, merges, vocabulary), built for a scheme.

A ``Scheme`` is what distinguishes WordPiece from BPE: the continuation prefix, how pairs rank,
and the wording. The number of merges varies, so the merges live in one stage (answer
``merges``: the new tokens in order), each shown as its own table; ``scores`` grades the
first table, pair by pair.
"""

from __future__ import annotations

from derive import byte_level, inputs, wordpiece
from derive import vocab_training as vt
from derive.blocks import prose, user
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage
from derive.vocab_training import explain
from derive.vocab_training.scheme import Scheme, exact, first_stats, train

COURSE = "hug 10, pug 5, pun 12, bun 4, hugs 5"  # the Hugging Face course's toy corpus
SENNRICH = "low 5, lower 2, newest 6, widest 3"  # Sennrich et al. (2016), without "</w>"
COURSE_SENTENCES = (  # the Hugging Face course's corpus for its BPE and WordPiece chapters
    "This is the Hugging Face Course.\n"
    "This chapter is about tokenization.\n"
    "This section shows several tokenizer algorithms.\n"
    "Hopefully, you will be able to understand how they are trained and generate tokens."
)
SENNRICH_EOW = "low</w> 5, lower</w> 2, newest</w> 6, widest</w> 3"  # with the paper's end-of-word marker
SOURCES = ("corpus", "corpus_file", "text")  # where the corpus comes from: exactly one is given
MAX_ENCODE_WORDS = 12


def parse_flag(value, option: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
        raise InputError(option, f"expected true or false, got {str(value)[:40]!r}")
    return text in ("1", "true", "yes", "on")


def parse_merges(value, option: str) -> int:
    return inputs.integer(value, option, 1, vt.MAX_MERGES)


def parse_encode(value, option: str) -> str:
    text = inputs.text(value, option)
    if not text.strip():
        raise InputError(option, "expected words to encode, such as 'hugs bugs'")
    return text


def parse_text(value, option: str) -> str:
    text = str(value)
    if len(text) > vt.MAX_CORPUS_CHARS:
        raise InputError(option, f"expected at most {vt.MAX_CORPUS_CHARS} characters")
    if not text.strip():
        raise InputError(option, "expected running text, such as 'This is the Hugging Face Course.'")
    return text


def _corpus(options, by_bytes: bool) -> tuple[tuple[str, ...], tuple[int, ...]]:
    given = [name for name in SOURCES if options.get(name) is not None]
    if len(given) > 1:
        flags = " and ".join("--" + name.replace("_", "-") for name in given)
        raise InputError("--" + given[-1].replace("_", "-"), f"give one corpus, not {flags}")
    if not given:
        raise InputError("--corpus", "give the words with counts, or --corpus-file FILE, or --text TEXT")
    if by_bytes and given[0] != "text":
        raise InputError("--byte-level", "needs --text (running text): the Ġ marker records the spaces")
    if given[0] != "text":
        return options[given[0]]
    words = [w for line in options["text"].splitlines() for w in encode_words(line, by_bytes)]
    counts = dict.fromkeys(words, 0)
    for word in words:
        counts[word] += 1
    if len(counts) > vt.MAX_WORDS:
        raise InputError(
            "--text", f"has {len(counts)} distinct words; at most {vt.MAX_WORDS} fit a worked solution"
        )
    if all(len(w) == 1 for w in counts):
        raise InputError("--text", "every word is a single character, so there is no pair to merge")
    return tuple(counts), tuple(counts.values())


def encode_words(text: str, by_bytes: bool = False) -> list[str]:
    """Running text as words: GPT-2's byte-level pre-tokenizer, or BERT's (spaces and punctuation)."""
    return byte_level.pre_tokenize(text) if by_bytes else wordpiece.split(text)


def prepare(scheme: Scheme, options) -> Givens:
    by_bytes = bool(options.get("byte_level"))
    words, counts = _corpus(options, by_bytes)
    marker = vt.uses_end_marker(words)
    if marker and scheme.wordpiece:
        raise InputError(
            "--corpus",
            f"the end-of-word marker {vt.END_OF_WORD} is BPE's (Sennrich et al.); WordPiece marks "
            "continuations with ## instead",
        )
    n_merges = options["merges"]
    tie_break = options.get("tie_break") or vt.FIRST
    encode = None if options.get("encode") is None else encode_words(options["encode"], by_bytes)
    if encode is not None and len(encode) > MAX_ENCODE_WORDS:
        raise InputError(
            "--encode", f"at most {MAX_ENCODE_WORDS} words fit a worked solution, got {len(encode)}"
        )
    corpus = ", ".join(f"{w} {c}" for w, c in zip(words, counts))
    plural = "merge" if n_merges == 1 else "merges"
    intro = [
        prose(scheme.byte_level_intro if by_bytes else scheme.intro),
        prose(
            "The corpus has {n} distinct words with their counts, {corpus}, and we learn {m} " + plural + ".",
            n=len(words),
            corpus=user(corpus),
            m=n_merges,
        ),
    ]
    if marker:
        intro.append(prose(explain.END_MARKER))
    if options.get("text") is not None:
        lines = user(" / ".join(line.strip() for line in options["text"].splitlines() if line.strip()))
        intro.insert(1, prose(explain.BYTE_LEVEL if by_bytes else explain.FROM_TEXT, t=lines))
    params = {"corpus": [[w, c] for w, c in zip(words, counts)], "merges": n_merges}
    if not scheme.wordpiece:
        params["tie_break"] = tie_break
    if options.get("text") is not None:
        params["text"] = options["text"]
    if by_bytes:
        params["byte_level"] = True
    if encode is not None:
        params["encode"] = options["encode"]
    values = {"words": words, "counts": counts, "n_merges": n_merges, "tie_break": tie_break}
    values.update(end_marker=marker, encode=encode)
    return Givens(f"{scheme.label} training: {n_merges} {plural}", values, tuple(intro), params)


def stage_alphabet(scheme: Scheme, mistakes=()) -> Stage:
    def compute(v):
        return list(vt.alphabet(vt.initial_splits(v.words, scheme.prefix)))

    return Stage(
        "alphabet",
        "Split the words into characters",
        compute,
        explain.alphabet(scheme),
        mistakes=tuple(mistakes),
    )


def stage_scores(scheme: Scheme, mistakes=()) -> Stage:
    def compute(v):
        return [exact(s.score) for s in first_stats(v, scheme)]

    title = "Score every pair" if scheme.wordpiece else "Count every pair"
    return Stage("scores", title, compute, explain.scores(scheme), mistakes=tuple(mistakes))


def stage_merges(scheme: Scheme, mistakes=()) -> Stage:
    def compute(v):
        return train(v, scheme).merges

    return Stage("merges", "Merge, pair by pair", compute, explain.merges(scheme), mistakes=tuple(mistakes))


def stage_vocab(scheme: Scheme) -> Stage:
    def compute(v):
        vocab = list(v.alphabet)
        vocab += [t for i, t in enumerate(v.merges) if t not in vocab and t not in v.merges[:i]]
        return vocab

    return Stage("vocab", "The learned vocabulary", compute, explain.vocab(scheme))


def stage_encoded(scheme: Scheme) -> Stage:
    """Only with --encode: the learned merges (BPE) or vocabulary (WordPiece) applied to new words."""

    def compute(v):
        if v.encode is None:
            return None
        if scheme.wordpiece:
            return [t for word in v.encode for t in vt.encode_wordpiece(word, v.vocab)]
        merges = [(step.best.pair, step.token) for step in train(v, scheme).steps]
        return [t for word in v.encode for t in vt.encode_bpe(word, v.alphabet, merges, v.end_marker)]

    return Stage("encoded", "Encode new words", compute, explain.encoded(scheme), optional=True)


def unit_counts(v) -> tuple[int, ...]:
    """What a student who counts each distinct word once (ignoring its count) works with."""
    return (1,) * len(v.words)


IGNORED_COUNTS_HINT = (
    "Weight every pair by its word's count: a pair inside a word with count 10 occurs 10 times."
)


def ignored_counts(stage: str, scheme: Scheme) -> Mistake:
    """The misconception of counting each distinct word once, at the ``scores`` or ``merges`` stage."""
    if stage == "scores":
        return Mistake(
            "ignored-counts",
            IGNORED_COUNTS_HINT,
            lambda v: [exact(s.score) for s in first_stats(v, scheme, counts=unit_counts(v))],
        )
    return Mistake(
        "ignored-counts", IGNORED_COUNTS_HINT, lambda v: train(v, scheme, counts=unit_counts(v)).merges
    )


def sample(rng):
    letters = "abghnsu"
    words = []
    while len(words) < int(rng.integers(2, 7)):
        word = "".join(rng.choice(list(letters), int(rng.integers(1, 6))))
        if word not in words:
            words.append(word)
    counts = rng.integers(1, 13, len(words))
    corpus = ", ".join(f"{w} {c}" for w, c in zip(words, counts))
    if all(len(w) == 1 for w in words):
        corpus += ", ab 1"
    return {"corpus": corpus, "merges": str(int(rng.integers(1, 7)))}


def options(scheme: Scheme) -> tuple[Option, ...]:
    found = [
        Option(
            "corpus",
            f"words with counts, 'hug 10, pug 5' (at most {vt.MAX_WORDS} words of letters or punctuation"
            + (", each may end in </w>)" if not scheme.wordpiece else ")"),
            vt.parse_corpus,
        ),
        Option(
            "corpus_file",
            "a UTF-8 file with one 'word count' per line, so ',' can be a word (instead of --corpus)",
            vt.parse_corpus_file,
            path="file",
        ),
        Option(
            "text",
            "running text instead, one sentence per line: split into words (BERT's pre-tokenizer, or GPT-2's "
            "with --byte-level) and counted",
            parse_text,
        ),
        Option("merges", f"how many merges to learn, 1 to {vt.MAX_MERGES}", parse_merges, default="3"),
        Option("encode", "new words to split with what was learned, such as 'hugs bugs'", parse_encode),
    ]
    if not scheme.wordpiece:
        found.append(
            Option(
                "tie_break",
                "among pairs with the same count: first (the one met first, as the Hugging Face course) or "
                "lexicographic (the greatest pair, as Stanford's CS336)",
                inputs.choice(vt.FIRST, vt.LEXICOGRAPHIC),
                default=vt.FIRST,
            )
        )
        found.append(
            Option(
                "byte_level",
                "GPT-2's byte-level pre-tokenizer for --text and --encode: Ġ marks a space before a word",
                parse_flag,
                default=False,
                flag_value=True,
            )
        )
    return tuple(found)
