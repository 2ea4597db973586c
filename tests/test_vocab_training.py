"""wordpiece-train and bpe-train: published worked examples, an independent reference, HF tokenizers, checker, CLI.

The reference below is written the way the Hugging Face course writes its training loops (dicts
in insertion order, float scores, the first maximum kept), independently of derive.vocab_training.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from fractions import Fraction

import pytest
from conftest import require

from derive import check, derive, registry

WORDPIECE = registry.get("wordpiece-train")
BPE = registry.get("bpe-train")
COURSE = "hug 10, pug 5, pun 12, bun 4, hugs 5"
COURSE_COUNTS = {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}


def course_training(word_freqs: dict[str, int], merges: int, prefix: str, normalise: bool):
    """The course's loop: returns (new tokens, first step's scores, whether each step's best was unique)."""
    splits = {w: [c if i == 0 else prefix + c for i, c in enumerate(w)] for w in word_freqs}
    tokens, first_scores, unique = [], None, []
    for _ in range(merges):
        letter_freqs, pair_freqs = defaultdict(int), defaultdict(int)
        for word, freq in word_freqs.items():
            split = splits[word]
            for token in split:
                letter_freqs[token] += freq
            for i in range(len(split) - 1):
                pair_freqs[(split[i], split[i + 1])] += freq
        if not pair_freqs:
            break
        if normalise:
            scores = {p: f / (letter_freqs[p[0]] * letter_freqs[p[1]]) for p, f in pair_freqs.items()}
        else:
            scores = dict(pair_freqs)
        if first_scores is None:
            first_scores = list(scores.values())
        best_pair, max_score = None, None
        for pair, score in scores.items():
            if max_score is None or max_score < score:
                best_pair, max_score = pair, score
        unique.append(list(scores.values()).count(max_score) == 1)
        a, b = best_pair
        new = a + b[len(prefix) :] if prefix and b.startswith(prefix) else a + b
        for word in word_freqs:
            split = splits[word]
            i = 0
            while i < len(split) - 1:
                if split[i] == a and split[i + 1] == b:
                    split = split[:i] + [new] + split[i + 2 :]
                else:
                    i += 1
            splits[word] = split
        tokens.append(new)
    return tokens, first_scores, unique


def _corpus(word_freqs: dict[str, int]) -> str:
    return ", ".join(f"{w} {c}" for w, c in word_freqs.items())


def _random_corpus(rng: random.Random, letters: str = "abcdeg", high: int = 12) -> dict[str, int]:
    words: dict[str, int] = {}
    while len(words) < rng.randint(2, 8):
        word = "".join(rng.choice(letters) for _ in range(rng.randint(1, 6)))
        words.setdefault(word, rng.randint(1, high))
    if all(len(w) == 1 for w in words):
        words["ab"] = 1
    return words


def _answers(topic: str, word_freqs, merges: int):
    return derive(topic, corpus=_corpus(word_freqs), merges=merges).answers


# Published worked examples ---------------------------------------------------------------


def test_course_wordpiece_first_merge_is_gs_at_one_twentieth_not_the_most_frequent_ug():
    # freq(##g) = 10 + 5 + 5 (hug, pug, hugs), freq(##s) = 5 (hugs), the pair occurs 5 times.
    assert Fraction(5, 20 * 5) == Fraction(1, 20)
    # ("##u", "##g") is the most frequent pair, 20 times, but freq(##u) = 10 + 5 + 12 + 4 + 5 = 36.
    assert Fraction(20, 36 * 20) == Fraction(1, 36)
    answers = derive("wordpiece-train", example="course").answers
    assert answers["merges"][0] == "##gs"
    assert answers["scores"][-1] == Fraction(1, 20)
    assert max(answers["scores"]) == Fraction(1, 20)
    text = str(derive("wordpiece-train", example="course"))
    assert "the most frequent pair is (“##u”, “##g”), 20 times" in text
    assert "only 1/36" in text


def test_course_wordpiece_merges_follow_the_course_code():
    # The course's text gives "##gs", then "hu" (a six-way tie at 1/36 won by the first pair), then
    # "hug"; but its third step miscounts: freq(##g) = 15, so score(hu, ##g) = 10/(15·15) = 2/45, below
    # score(hu, ##gs) = 5/(15·5) = 1/15 (huggingface/course issue #500). Its own code merges "hugs".
    assert Fraction(10, 15 * 15) < Fraction(5, 15 * 5)
    assert course_training(COURSE_COUNTS, 3, "##", True)[0] == ["##gs", "hu", "hugs"]
    answers = derive("wordpiece-train", example="course").answers
    assert answers["merges"] == ["##gs", "hu", "hugs"]
    assert answers["alphabet"] == ["b", "h", "p", "##g", "##n", "##s", "##u"]  # the course's listing
    assert answers["vocab"] == ["b", "h", "p", "##g", "##n", "##s", "##u", "##gs", "hu", "hugs"]


def test_course_bpe_merges_ug_at_twenty_then_un_then_hug():
    # The course's BPE chapter: ("u", "g") 20 times (hug 10, pug 5, hugs 5), then "un" 16, then "hug" 15.
    answers = derive("bpe-train", example="course").answers
    assert answers["merges"] == ["ug", "un", "hug"]
    assert answers["scores"] == [15, 20, 17, 16, 4, 5]
    assert answers["alphabet"] == ["b", "g", "h", "n", "p", "s", "u"]
    assert answers["vocab"] == ["b", "g", "h", "n", "p", "s", "u", "ug", "un", "hug"]


def test_sennrich_corpus_starts_with_es_then_est_as_in_the_paper():
    # Sennrich et al. (2016), Figure 1: the first merges are e·s and es·t (9 times each).
    assert derive("bpe-train", example="sennrich").answers["merges"][:2] == ["es", "est"]


# The independent reference ----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize(
    "topic,prefix,normalise", [("wordpiece-train", "##", True), ("bpe-train", "", False)]
)
def test_merges_and_scores_equal_the_course_code_on_random_corpora(seed, topic, prefix, normalise):
    rng = random.Random(seed)
    word_freqs = _random_corpus(rng)
    merges = rng.randint(1, 12)
    tokens, first_scores, _ = course_training(word_freqs, merges, prefix, normalise)
    answers = _answers(topic, word_freqs, merges)
    assert answers["merges"] == tokens, word_freqs
    assert [float(s) for s in answers["scores"]] == pytest.approx(first_scores, rel=1e-12)
    assert answers["vocab"][len(answers["alphabet"]) :] == list(dict.fromkeys(tokens))


def test_training_stops_when_every_word_is_one_token():
    derivation = derive("bpe-train", corpus="ab 3, a 1", merges=5)
    assert derivation.answers["merges"] == ["ab"]
    assert "After one merge every word is a single token" in str(derivation)


def test_sample_gives_valid_options():
    import numpy as np

    for seed in range(10):
        raw = WORDPIECE.sample(np.random.default_rng(seed))
        assert derive("wordpiece-train", **raw).answers["merges"]


# Hugging Face tokenizers -------------------------------------------------------------------


def _hf_train(word_freqs, merges: int, wordpiece: bool = False) -> list[str]:
    tokenizers = require("tokenizers")
    alphabet = {c for w in word_freqs for c in w}
    if wordpiece:
        model = tokenizers.models.WordPiece(unk_token="[UNK]")
        trainer_class = tokenizers.trainers.WordPieceTrainer
        size = 2 * len(alphabet) + merges  # at most "u" and "##u" for every character
    else:
        model, trainer_class, size = (
            tokenizers.models.BPE(),
            tokenizers.trainers.BpeTrainer,
            len(alphabet) + merges,
        )
    tokenizer = tokenizers.Tokenizer(model)
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    trainer = trainer_class(vocab_size=size, min_frequency=0, show_progress=False, special_tokens=[])
    tokenizer.train_from_iterator([w for w, c in word_freqs.items() for _ in range(c)], trainer)
    model = json.loads(tokenizer.to_str())["model"]
    if not wordpiece:
        return [
            "".join(pair) if isinstance(pair, list) else pair.replace(" ", "") for pair in model["merges"]
        ]
    by_id = sorted(model["vocab"], key=model["vocab"].get)
    return [t for t in by_id if len(t.removeprefix("##")) > 1][:merges]


@pytest.mark.parametrize("seed", range(30))
def test_bpe_merges_equal_hf_tokenizers_until_the_first_tie(seed):
    """tokenizers breaks ties differently (see the next test), so compare up to the first tie."""
    rng = random.Random(1000 + seed)
    word_freqs = _random_corpus(rng, letters="abcd", high=1000)
    tokens, _, unique = course_training(word_freqs, 10, "", False)
    untied = unique.index(False) if False in unique else len(unique)
    ours = _answers("bpe-train", word_freqs, 10)["merges"]
    assert ours[:untied] == _hf_train(word_freqs, 10)[:untied], word_freqs


def test_compared_corpora_are_not_all_ties():
    compared = 0
    for seed in range(30):
        word_freqs = _random_corpus(random.Random(1000 + seed), letters="abcd", high=1000)
        compared += sum(1 for u in course_training(word_freqs, 10, "", False)[2] if u)
    assert compared >= 60


def test_hf_tokenizers_breaks_ties_by_token_ids_not_by_first_appearance():
    # Both pairs occur once. The course's rule (ours) keeps the first one met, ("c", "d"); tokenizers
    # keeps the pair with the smallest token ids, and its character ids are alphabetical: ("a", "b").
    assert _answers("bpe-train", {"cd": 1, "ab": 1}, 1)["merges"] == ["cd"]
    assert _hf_train({"cd": 1, "ab": 1}, 1) == ["ab"]


def test_hf_wordpiece_trainer_ranks_pairs_by_frequency_as_bpe_does():
    """tokenizers' WordPieceTrainer is BPE with '##' prefixes: it makes the frequency-for-score choice."""
    hf = _hf_train(COURSE_COUNTS, 3, wordpiece=True)
    assert hf == course_training(COURSE_COUNTS, 3, "##", False)[0] == ["##ug", "##un", "hug"]
    assert derive("wordpiece-train", example="course").answers["merges"] != hf
    report = _check(WORDPIECE, "merges=" + _words(hf))
    assert report.item("merges").mistake == "frequency-for-score"


# Misconceptions ------------------------------------------------------------------------------


def _check(topic, *answers, corpus=COURSE, merges="3"):
    return check.check(topic, {"corpus": corpus, "merges": merges}, list(answers))


def _words(tokens) -> str:
    return " ".join(tokens)


def test_correct_answers_are_all_correct_with_no_mistake():
    tokens, scores, _ = course_training(COURSE_COUNTS, 3, "##", True)
    report = _check(
        WORDPIECE,
        "alphabet=b h p ##g ##n ##s ##u",
        "scores=" + " ".join(f"{s:.6f}" for s in scores),
        "merges=" + _words(tokens),
        "vocab=b h p ##g ##n ##s ##u " + _words(tokens),
    )
    assert report.all_correct
    assert all(item.mistake is None for item in report.items)


def test_wordpiece_frequency_for_score_on_scores_and_merges():
    frequencies = [15, 20, 17, 16, 4, 5]  # the course's pair counts, in first-appearance order
    tokens, _, _ = course_training(COURSE_COUNTS, 3, "##", False)
    report = _check(WORDPIECE, "scores=" + " ".join(map(str, frequencies)), "merges=" + _words(tokens))
    assert report.item("scores").mistake == "frequency-for-score"
    assert report.item("merges").mistake == "frequency-for-score"
    assert "freq(a)" in report.item("merges").hint


def test_wordpiece_kept_inner_prefix():
    report = _check(WORDPIECE, "merges=##g##s h##u h##u##g##s")
    assert report.item("merges").mistake == "kept-inner-prefix"


def test_wordpiece_no_prefix_alphabet():
    report = _check(WORDPIECE, "alphabet=b g h n p s u")
    assert report.item("alphabet").mistake == "no-prefix"


@pytest.mark.parametrize(
    "topic,prefix,normalise,counts",
    [(WORDPIECE, "##", True, {"aab": 5, "bcc": 1, "ca": 8}), (BPE, "", False, COURSE_COUNTS)],
)
def test_ignored_counts_on_both_topics(topic, prefix, normalise, counts):
    tokens, scores, _ = course_training(dict.fromkeys(counts, 1), 3, prefix, normalise)
    assert tokens != course_training(counts, 3, prefix, normalise)[0]
    answers = ["scores=" + " ".join(f"{s:.6f}" for s in scores), "merges=" + _words(tokens)]
    report = _check(topic, *answers, corpus=_corpus(counts))
    assert report.item("scores").mistake == "ignored-counts"
    assert report.item("merges").mistake == "ignored-counts"


def test_bpe_score_for_frequency_on_scores_and_merges():
    tokens, scores, _ = course_training(COURSE_COUNTS, 3, "", True)
    assert tokens[0] == "gs"
    report = _check(BPE, "scores=" + " ".join(f"{s:.6f}" for s in scores), "merges=" + _words(tokens))
    assert report.item("scores").mistake == "score-for-frequency"
    assert report.item("merges").mistake == "score-for-frequency"


def test_bpe_added_prefix_alphabet():
    report = _check(BPE, "alphabet=b h p ##g ##n ##s ##u")
    assert report.item("alphabet").mistake == "added-prefix"


def test_vocab_follows_through_from_wrong_merges():
    report = _check(BPE, "merges=ug hug un", "vocab=b g h n p s u ug hug un")
    assert report.item("merges").verdict == "wrong"
    assert report.item("vocab").verdict == "follows-through"


# Inputs ------------------------------------------------------------------------------------


def test_decomposed_accents_are_letters_after_nfc():
    answers = derive("bpe-train", corpus="nai\u0308ve 2, ve 1", merges=1).answers
    assert "\u00ef" in answers["alphabet"]
    assert answers["merges"] == ["ve"]


def test_python_api_takes_a_mapping():
    answers = derive("bpe-train", corpus=COURSE_COUNTS, merges=1).answers
    assert answers["merges"] == ["ug"]


@pytest.mark.parametrize(
    "args,option",
    [
        (["--corpus", "hug"], "--corpus"),
        (["--corpus", "hug ten"], "--corpus"),
        (["--corpus", "hug -3"], "--corpus"),
        (["--corpus", "hug 0"], "--corpus"),
        (["--corpus", "hug 2.5"], "--corpus"),
        (["--corpus", "h1g 2"], "--corpus"),
        (["--corpus", "__import__('os').system('true') 1"], "--corpus"),
        (["--corpus", "$(rm -rf /) 1"], "--corpus"),
        (["--corpus", "hug 2, hug 3"], "--corpus"),
        (["--corpus", "a 2, b 3"], "--corpus"),
        (["--corpus", ", ".join(f"{a}{b} 1" for a in "abcdefg" for b in "abcdef")], "--corpus"),  # 42 words
        (["--corpus", "x" * 5000 + " 1"], "--corpus"),
        (["--corpus", ""], "--corpus"),
        (["--corpus", "hug 5", "--merges", "41"], "--merges"),
        (["--corpus", "hug 5", "--merges", "0"], "--merges"),
        (["--corpus", "hug 5", "--merges", "many"], "--merges"),
    ],
)
@pytest.mark.parametrize("topic", ["wordpiece-train", "bpe-train"])
def test_bad_input_is_one_line_naming_the_option(cli, topic, args, option):
    code, out, err = cli(topic, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and option in err and "Traceback" not in err


# Conventions: --tie-break, </w>, --encode, --corpus-file -----------------------------------


def cs336_merges(word_freqs: dict[str, int], merges: int) -> list[str]:
    """Ties broken as Stanford's CS336 asks: the lexicographically greater pair, max over (count, pair)."""
    splits = {w: list(w) for w in word_freqs}
    out = []
    for _ in range(merges):
        counts = defaultdict(int)
        for word, freq in word_freqs.items():
            for pair in zip(splits[word], splits[word][1:]):
                counts[pair] += freq
        if not counts:
            break
        a, b = max(counts, key=lambda pair: (counts[pair], pair))
        for word in splits:
            split, i = splits[word], 0
            while i < len(split) - 1:
                if (split[i], split[i + 1]) == (a, b):
                    split[i : i + 2] = [a + b]
                i += 1
        out.append(a + b)
    return out


@pytest.mark.parametrize("seed", range(25))
def test_lexicographic_tie_break_equals_an_independent_max_over_count_and_pair(seed):
    word_freqs = _random_corpus(random.Random(seed), high=3)  # small counts: many ties
    ours = derive("bpe-train", corpus=_corpus(word_freqs), merges=6, tie_break="lexicographic").answers
    assert ours["merges"] == cs336_merges(word_freqs, 6)


def test_tie_break_changes_the_sennrich_merges_and_the_other_rule_is_a_named_mistake():
    first = derive("bpe-train", example="sennrich").answers["merges"]
    greatest = derive("bpe-train", example="lexicographic").answers["merges"]
    assert first[0] == "es" and greatest[0] == "st"  # e s and s t both occur 9 times
    report = check.check(BPE, {}, ["merges=" + " ".join(first)], example="lexicographic")
    assert report.item("merges").mistake == "other-tie-break"


def sennrich_algorithm_1(vocab: dict[str, int], num_merges: int) -> list[str]:
    """Algorithm 1 of Sennrich et al. (2016), as printed: words are space-separated symbols ending in </w>."""
    import re

    def get_stats(vocab):
        pairs = defaultdict(int)
        for word, freq in vocab.items():
            symbols = word.split()
            for i in range(len(symbols) - 1):
                pairs[symbols[i], symbols[i + 1]] += freq
        return pairs

    def merge_vocab(pair, v_in):
        v_out = {}
        bigram = re.escape(" ".join(pair))
        p = re.compile(r"(?<!\S)" + bigram + r"(?!\S)")
        for word in v_in:
            v_out[p.sub("".join(pair), word)] = v_in[word]
        return v_out

    out = []
    for _ in range(num_merges):
        pairs = get_stats(vocab)
        if not pairs:
            break
        best = max(pairs, key=pairs.get)
        vocab = merge_vocab(best, vocab)
        out.append("".join(best))
    return out


def test_end_of_word_marker_is_one_symbol_as_in_the_papers_algorithm():
    paper = {"l o w </w>": 5, "l o w e r </w>": 2, "n e w e s t </w>": 6, "w i d e s t </w>": 3}
    answers = derive(
        "bpe-train", corpus="low</w> 5, lower</w> 2, newest</w> 6, widest</w> 3", merges=10
    ).answers
    assert answers["merges"] == sennrich_algorithm_1(paper, 10)
    assert answers["merges"][:4] == ["es", "est", "est</w>", "lo"]
    assert "</w>" in answers["alphabet"] and "r" in answers["alphabet"]


@pytest.mark.parametrize(
    "corpus,message",
    [("low</w> 5, lower 2", "every word ends"), ("lower 2, low</w> 5", "every word ends")],
)
def test_end_of_word_marker_misuse_is_refused(cli, corpus, message):
    code, out, err = cli("bpe-train", "--corpus", corpus)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_wordpiece_refuses_the_end_of_word_marker(cli):
    code, _, err = cli("wordpiece-train", "--corpus", "low</w> 5, lower</w> 2")
    assert code == 2 and "--corpus" in err and "BPE's" in err


def course_bpe_tokenize(words: list[str], merges: list[tuple[tuple[str, str], str]]) -> list[str]:
    """The Hugging Face course's BPE tokenize: every merge, in learned order, over every split."""
    splits = [list(word) for word in words]
    for pair, merge in merges:
        for idx, split in enumerate(splits):
            i = 0
            while i < len(split) - 1:
                if split[i] == pair[0] and split[i + 1] == pair[1]:
                    split = split[:i] + [merge] + split[i + 2 :]
                else:
                    i += 1
            splits[idx] = split
    return sum(splits, [])


def _learned_merges(corpus: str, n: int):
    from derive import vocab_training as vt

    words, counts = vt.parse_corpus(corpus, "--corpus")
    training = vt.train(words, counts, n, "", vt.FREQUENCY)
    return [(step.best.pair, step.token) for step in training.steps], list(training.alphabet)


@pytest.mark.parametrize("seed", range(15))
def test_bpe_encode_replays_merges_as_the_course_and_hf_tokenizers_do(seed):
    tokenizers = require("tokenizers")
    rng = random.Random(seed)
    word_freqs = _random_corpus(rng)
    new = ["".join(rng.choice("abcdeg") for _ in range(rng.randint(1, 7))) for _ in range(4)]
    answers = derive("bpe-train", corpus=_corpus(word_freqs), merges=5, encode=" ".join(new)).answers
    merges, alphabet = _learned_merges(_corpus(word_freqs), 5)
    expected = course_bpe_tokenize(new, merges)
    expected = [t if len(t) > 1 or t in alphabet else "[UNK]" for t in expected]
    assert answers["encoded"] == expected
    vocab = {t: i for i, t in enumerate(["[UNK]", *alphabet, *[m for _, m in merges]])}
    model = tokenizers.models.BPE(vocab=vocab, merges=[p for p, _ in merges], unk_token="[UNK]")
    tokenizer = tokenizers.Tokenizer(model)
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    assert answers["encoded"] == tokenizer.encode(" ".join(new)).tokens


@pytest.mark.parametrize("seed", range(15))
def test_wordpiece_encode_is_longest_match_as_hf_tokenizers_wordpiece(seed):
    tokenizers = require("tokenizers")
    rng = random.Random(seed)
    word_freqs = _random_corpus(rng)
    new = ["".join(rng.choice("abcdegx") for _ in range(rng.randint(1, 7))) for _ in range(4)]
    answers = derive("wordpiece-train", corpus=_corpus(word_freqs), merges=5, encode=" ".join(new)).answers
    vocab = {t: i for i, t in enumerate(["[UNK]", *answers["vocab"]])}
    model = tokenizers.models.WordPiece(vocab=vocab, unk_token="[UNK]", continuing_subword_prefix="##")
    tokenizer = tokenizers.Tokenizer(model)
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    assert answers["encoded"] == tokenizer.encode(" ".join(new)).tokens


COURSE_WORDPIECE_CORPUS = (
    "This 3\nis 2\nthe 1\nHugging 1\nFace 1\nCourse 1\n. 4\nchapter 1\nabout 1\ntokenization 1\nsection 1\n"
    "shows 1\nseveral 1\ntokenizer 1\nalgorithms 1\nHopefully 1\n, 1\nyou 1\nwill 1\nbe 1\nable 1\nto 1\n"
    "understand 1\nhow 1\nthey 1\nare 1\ntrained 1\nand 1\ngenerate 1\ntokens 1\n"
)


def test_the_courses_wordpiece_chapter_from_a_corpus_file(tmp_path):
    """The course trains its four sentences to 70 tokens (5 special + 40 characters + 25 merges)."""
    path = tmp_path / "corpus.txt"
    path.write_text(COURSE_WORDPIECE_CORPUS, encoding="utf-8")
    text = "Hugging HOgging This is the Hugging Face course!"
    answers = derive("wordpiece-train", corpus_file=str(path), merges=25, encode=text).answers
    assert len(answers["alphabet"]) == 40 and "," in answers["alphabet"]
    assert answers["merges"] == [  # the new tokens of the course's printed vocabulary, in order
        *["ab", "##fu", "Fa", "Fac", "##ct", "##ful", "##full", "##fully", "Th", "ch", "##hm", "cha"],
        *["chap", "chapt", "##thm", "Hu", "Hug", "Hugg", "sh", "th", "is", "##thms", "##za", "##zat", "##ut"],
    ]
    assert answers["encoded"] == [
        *["Hugg", "##i", "##n", "##g"],  # encode_word("Hugging")
        "[UNK]",  # encode_word("HOgging")
        *["Th", "##i", "##s", "is", "th", "##e", "Hugg", "##i", "##n", "##g", "Fac", "##e"],
        *["c", "##o", "##u", "##r", "##s", "##e", "[UNK]"],  # tokenize("This is the Hugging Face course!")
    ]


@pytest.mark.parametrize(
    "content,where",
    [
        ("hug 10\npug five\n", "line 2"),
        ("hug 10\n\npug 5 extra\n", "line 3"),
        ("hug 10\nh1g 2\n", "line 2"),
        ("hug 10\nhug 3\n", "line 2"),
        ("\n\n", "no 'word count' lines"),
    ],
)
def test_a_bad_corpus_file_line_is_one_error_naming_file_and_line(cli, tmp_path, content, where):
    path = tmp_path / "corpus.txt"
    path.write_text(content, encoding="utf-8")
    code, out, err = cli("wordpiece-train", "--corpus-file", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--corpus-file" in err and str(path)[:60] in err and where in err


def test_corpus_and_corpus_file_are_exclusive_and_one_is_needed(cli, tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("hug 10\n", encoding="utf-8")
    code, _, err = cli("bpe-train", "--corpus", COURSE, "--corpus-file", str(path))
    assert code == 2 and "--corpus-file" in err
    code, _, err = cli("bpe-train", "--merges", "2")
    assert code == 2 and "--corpus" in err


def test_forty_words_with_punctuation_are_accepted():
    words = {f"{a}{b}": 1 for a in "abcdefgh" for b in "abcde"}  # 40 words
    words.popitem()
    words["."] = 3
    answers = derive("wordpiece-train", corpus=_corpus(words), merges=2).answers
    assert "." in answers["alphabet"] and len(answers["merges"]) == 2


def test_encode_is_checked_and_left_out_when_not_asked():
    assert "encoded" not in derive("bpe-train", example="course").answers
    report = check.check(BPE, {}, ["encoded=lo w est</w> n e w e r </w>"], example="end-of-word")
    assert report.all_correct


# --byte-level: the Hugging Face course's BPE chapter ------------------------------------------

COURSE_BPE_MERGES = [  # the course's printed merges, after training to a vocabulary of 50
    *["Ġt", "is", "er", "Ġa", "Ġto", "en", "Th", "This", "ou", "se", "Ġtok", "Ġtoken", "nd", "Ġis"],
    *["Ġth", "Ġthe", "in", "Ġab", "Ġtokeni"],
]


def test_the_courses_bpe_chapter_with_gpt2s_byte_level_pre_tokenizer():
    answers = derive("bpe-train", example="byte-level").answers
    assert len(answers["alphabet"]) == 30 and "Ġ" in answers["alphabet"]  # + <|endoftext|> = 31, 50 - 31 = 19
    assert answers["merges"] == COURSE_BPE_MERGES
    assert answers["encoded"] == ["This", "Ġis", "Ġ", "n", "o", "t", "Ġa", "Ġtoken", "."]  # tokenize(...)


def test_byte_level_corpus_counts_equal_the_courses_word_freqs():
    tokenizers = require("tokenizers")
    from derive.vocab_training.stages import COURSE_SENTENCES

    library = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    word_freqs: dict[str, int] = defaultdict(int)
    for sentence in COURSE_SENTENCES.splitlines():  # the course's compute-word-frequencies loop
        for word, _ in library.pre_tokenize_str(sentence):
            word_freqs[word] += 1
    params = derive("bpe-train", example="byte-level").params
    assert params["corpus"] == [[w, c] for w, c in word_freqs.items()] and params["byte_level"] is True


def test_wordpiece_from_running_text_equals_the_corpus_file(tmp_path):
    from derive.vocab_training.stages import COURSE_SENTENCES

    path = tmp_path / "corpus.txt"
    path.write_text(COURSE_WORDPIECE_CORPUS, encoding="utf-8")
    from_text = derive("wordpiece-train", text=COURSE_SENTENCES, merges=25).answers
    assert from_text == derive("wordpiece-train", corpus_file=str(path), merges=25).answers


def test_byte_level_needs_running_text(cli):
    code, out, err = cli("bpe-train", "--corpus", COURSE, "--byte-level")
    assert code == 2 and out == "" and "--byte-level" in err and err.count("\n") == 1
