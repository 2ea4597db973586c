"""The vectorize topic: Hugging Face's ids, attention mask and segment ids, one-hot times E as a
lookup, the misconceptions, and the command line's errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from conftest import minilm_dir, require

from derive import check, derive, registry
from derive import wordpiece as wp
from derive.api import parse_options
from derive.model import run
from derive.topics.vectorize.stages import kept_lengths, toy_embedding_row

TOPIC = registry.get("vectorize")
CASES = [
    ("the king", None, 6),
    ("the king", "the queen", 8),
    ("He remained unaffable.", None, 6),
    ("He remained unaffable.", None, 2),
    ("", None, 4),
    ("", "", 3),
    ("a b c d", "e f g h", 8),
    ("a b c d e", "e f g", 8),
    ("a b c", "e f g h i", 8),
    ("a b c d e f g", "h", 9),
    ("h", "a b c d e f g", 9),
    ("the king bought a gallon of milk", "the queen went home", 3),
    ("the king bought a gallon of milk", "the queen went home", 12),
    ("Café au lait, naïve Ångström!", "the [MASK] sat", 16),
]


def _answers(text, pair, max_length, **extra):
    return derive("vectorize", text=text, pair=pair, max_length=max_length, **extra).answers


def _library(vocab_path, text, pair, max_length):
    implementations = require("tokenizers.implementations")
    tokenizer = implementations.BertWordPieceTokenizer(str(vocab_path), lowercase=True)
    pad_id = wp.load_vocab(vocab_path)[wp.PAD]
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.enable_padding(length=max_length, pad_id=pad_id, pad_token=wp.PAD)
    return tokenizer.encode(text, pair)


def _tiny_path(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text(wp.tiny_vocab_text(), encoding="utf-8")
    return path


# Agreement with Hugging Face.


@pytest.mark.parametrize("text,pair,max_length", CASES)
def test_ids_mask_and_types_equal_hugging_face(text, pair, max_length, tmp_path):
    expected = _library(_tiny_path(tmp_path), text, pair, max_length)
    answers = _answers(text, pair, max_length)
    assert answers["tokens"] == expected.tokens
    assert answers["input_ids"] == expected.ids
    assert answers["attention_mask"] == expected.attention_mask
    assert answers["token_type_ids"] == expected.type_ids


@pytest.mark.parametrize("seed", range(40))
def test_sampled_inputs_equal_hugging_face(seed, tmp_path):
    raw = TOPIC.sample(np.random.default_rng(seed))
    text, pair, max_length = raw["text"], raw.get("pair"), int(raw["max_length"])
    expected = _library(_tiny_path(tmp_path), text, pair, max_length)
    answers = _answers(text, pair, max_length)
    assert (answers["input_ids"], answers["attention_mask"], answers["token_type_ids"]) == (
        expected.ids,
        expected.attention_mask,
        expected.type_ids,
    )


@pytest.mark.parametrize("text,pair,max_length", CASES[:4] + CASES[-2:])
def test_real_bert_vocabulary_equals_hugging_face(text, pair, max_length):
    path = minilm_dir() / "vocab.txt"
    expected = _library(path, text, pair, max_length)
    answers = _answers(text, pair, max_length, vocab=str(path))
    assert answers["tokens"] == expected.tokens
    assert answers["input_ids"] == expected.ids
    assert answers["attention_mask"] == expected.attention_mask
    assert answers["token_type_ids"] == expected.type_ids


def test_truncation_lengths_against_a_one_at_a_time_loop():
    """The closed form keeps what cutting the longer sentence one piece at a time keeps."""
    for room in range(0, 14):
        for a in range(0, 12):
            for b in range(0, 12):
                x, y, first_longer = a, b, a > b
                while x + y > room:
                    if x > y or (x == y and not first_longer):
                        x -= 1
                    else:
                        y -= 1
                assert kept_lengths(a, b, room + 3) == (x, y), (a, b, room)


# The worked example, by hand.


def test_single_example_by_hand():
    answers = derive("vectorize", example="single").answers
    vocab = wp.tiny_vocab()
    assert answers["tokens"] == ["[CLS]", "the", "king", "[SEP]", "[PAD]", "[PAD]"]
    assert answers["input_ids"] == [2, vocab["the"], vocab["king"], 3, 0, 0]
    assert answers["attention_mask"] == [1, 1, 1, 1, 0, 0]
    assert answers["token_type_ids"] == [0] * 6


def test_pair_segments():
    answers = derive("vectorize", example="pair").answers
    assert answers["tokens"] == "[CLS] the king [SEP] the queen [SEP] [PAD]".split()
    assert answers["token_type_ids"] == [0, 0, 0, 0, 1, 1, 1, 0]


def test_truncation_keeps_sep_and_cuts_inside_a_word():
    answers = derive("vectorize", example="truncated").answers
    assert answers["tokens"] == ["[CLS]", "he", "remained", "una", "##ffa", "[SEP]"]


# One-hot times E is a lookup.


@pytest.mark.parametrize("example", TOPIC.examples)
def test_one_hot_times_embedding_is_a_lookup(example):
    answers = derive("vectorize", example=example).answers
    ids = answers["input_ids"]
    vocab_size = len(wp.tiny_vocab())
    full_one_hot = np.eye(vocab_size)[ids]  # (n, V)
    table = np.array([toy_embedding_row(t) for t in range(vocab_size)], dtype=float)  # (V, 3)
    assert len(set(map(tuple, table.tolist()))) == vocab_size, "every toy row differs"
    lookup = table[ids]  # (n, 3)
    np.testing.assert_array_equal(full_one_hot @ table, lookup)
    one_hot = np.array(answers["one_hot"].tolist(), dtype=float)
    np.testing.assert_array_equal(one_hot, full_one_hot[:, sorted(set(ids))])
    assert answers["embedded"] == sp.Matrix(lookup.astype(int).tolist())
    assert all(sum(row) == 1 for row in answers["one_hot"].tolist())


def test_embedded_equals_a_torch_embedding_lookup():
    torch = require("torch")
    answers = derive("vectorize", example="pair").answers
    vocab_size = len(wp.tiny_vocab())
    layer = torch.nn.Embedding(vocab_size, 3)
    rows = [toy_embedding_row(t) for t in range(vocab_size)]
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(rows, dtype=torch.float64))
    got = layer(torch.tensor(answers["input_ids"])).detach().numpy()
    np.testing.assert_array_equal(got, np.array(answers["embedded"].tolist(), dtype=float))


# Misconceptions.


def _check(example, *given):
    return check.check(TOPIC, {}, list(given), example=example)


def test_mask_inverted_is_diagnosed():
    report = _check("single", "attention_mask=0 0 0 0 1 1")
    item = report.item("attention_mask")
    assert item.verdict == "wrong" and item.mistake == "mask-inverted"
    assert item.wrong_entries == [(1, c) for c in range(1, 7)]


def test_special_tokens_masked_is_diagnosed():
    item = _check("single", "attention_mask=0 1 1 0 0 0").item("attention_mask")
    assert item.verdict == "wrong" and item.mistake == "special-masked"


def test_segment_sep_is_diagnosed():
    item = _check("pair", "token_type_ids=0 0 0 1 1 1 1 0").item("token_type_ids")
    assert item.verdict == "wrong" and item.mistake == "segment-sep"


def test_an_unexplained_error_names_no_mistake():
    item = _check("pair", "token_type_ids=0 1 0 0 1 1 1 0").item("token_type_ids")
    assert item.verdict == "wrong" and item.mistake is None


@pytest.mark.parametrize("example", TOPIC.examples)
def test_correct_answers_name_no_mistake(example):
    answers = derive("vectorize", example=example).answers
    given = [f"{k}={' '.join(map(str, answers[k]))}" for k in ("tokens", "input_ids", "attention_mask")]
    given.append("token_type_ids=" + " ".join(map(str, answers["token_type_ids"])))
    report = _check(example, *given)
    assert report.all_correct and all(item.mistake is None for item in report.items)


def test_embedding_follows_through_a_wrong_one_hot():
    """A one-hot with a wrong row, multiplied correctly, is the right method on a wrong input."""
    answers = derive("vectorize", example="single").answers
    wrong = answers["one_hot"].copy()
    wrong[1, :] = wrong[0, :]
    used = sp.Matrix([toy_embedding_row(i) for i in sorted(set(answers["input_ids"]))])
    product = wrong * used

    def text(m):
        return "; ".join(" ".join(str(e) for e in m.row(r)) for r in range(m.rows))

    report = _check("single", f"one_hot={text(wrong)}", f"embedded={text(product)}")
    assert report.item("one_hot").verdict == "wrong"
    assert report.item("embedded").verdict == "follows-through"


def test_mistakes_computed_directly():
    options = parse_options(TOPIC, TOPIC.examples["pair"])
    givens = TOPIC.prepare(options)
    derivation = run(TOPIC, givens)
    from derive.model import Values

    values = Values({**givens.values, **derivation.answers})
    (inverted, special) = TOPIC.stage("attention_mask").mistakes
    assert inverted.compute(values) == [0, 0, 0, 0, 0, 0, 0, 1]
    assert special.compute(values) == [0, 1, 1, 0, 1, 1, 0, 0]
    assert TOPIC.stage("token_type_ids").mistakes[0].compute(values) == [0, 0, 0, 1, 1, 1, 1, 0]


# Command line.


def test_cli_json_answers(cli):
    code, out, err = cli(
        "vectorize", "--text", "the king", "--pair", "a queen", "--max-length", "8", "-f", "json"
    )
    assert code == 0, err
    answers = json.loads(out)["answers"]
    assert answers["attention_mask"]["value"] == [1, 1, 1, 1, 1, 1, 1, 0]
    assert answers["token_type_ids"]["value"] == [0, 0, 0, 0, 1, 1, 1, 0]
    assert np.shape(answers["embedded"]["value"]) == (8, 3)


@pytest.mark.parametrize(
    "args,option",
    [
        (("--text", "hi", "--max-length", "1"), "--max-length"),
        (("--text", "hi", "--max-length", "17"), "--max-length"),
        (("--text", "hi", "--max-length", "two"), "--max-length"),
        (("--text", "hi", "--pair", "yo", "--max-length", "2"), "--max-length"),
        (("--text", "a" * 1001), "--text"),
        (("--text", "hi", "--pair", "b" * 1001), "--pair"),
        (("--text", "hi", "--vocab", "/no/such/vocab.txt"), "--vocab"),
        ((), "--text"),
    ],
)
def test_cli_errors_name_the_option(cli, args, option):
    code, out, err = cli("vectorize", *args)
    assert code == 2 and not out
    assert err.count("\n") == 1 and option in err and "Traceback" not in err


def test_cli_vocab_without_pad_is_refused(cli, tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[UNK]\n[CLS]\n[SEP]\nhi\n", encoding="utf-8")
    code, _, err = cli("vectorize", "--text", "hi", "--vocab", str(path))
    assert code == 2 and "--vocab" in err and "[PAD]" in err and err.count("\n") == 1
