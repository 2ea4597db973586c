"""The tokenize topic: published examples, agreement with the reference tokenizer, misconceptions,
the command line, and user text that must survive every output format."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from conftest import minilm_dir, require, require_program

from derive import check, derive, registry
from derive import wordpiece as wp
from derive.api import parse_options
from derive.model import run
from derive.render import render

TOPIC = registry.get("tokenize")
NASTY = 'x_y #tag C:\\dir <script>alert("hi")</script> ##ffa [CLS] {a} $5 50% ~ ^ & | unaffable'
TEXTS = [
    "He remained unaffable.",
    "Café au lait, naïve Ångström!",
    "the [MASK] sat on the mat [SEP] again",
    "",
    " \t\n ",
    "a\x00b\u200bc\ufffd",
    "日本語 中文 😀 Ελληνικά",
    "x" * 101 + " supercalifragilisticexpialidocious",
    NASTY,
]


def _answers(**options):
    return derive("tokenize", **options).answers


# Published examples.


def test_the_bert_readme_example():
    answers = derive("tokenize", example="readme").answers
    assert answers["tokens"] == "[CLS] john johan ##son ' s house [SEP]".split()
    assert answers["words"] == "john johanson ' s house".split()


def test_unaffable_splits_as_in_the_brief():
    answers = derive("tokenize", example="unaffable").answers
    assert answers["pieces"] == ["he", "remained", "una", "##ffa", "##ble", "."]
    vocab = wp.tiny_vocab()
    assert answers["input_ids"] == [vocab[t] for t in answers["tokens"]]


def test_accents_are_stripped():
    answers = derive("tokenize", example="accents").answers
    assert answers["normalized"] == "cafe au lait, naive angstrom!"
    assert "##strom" in answers["pieces"]


# Agreement with the library and with Hugging Face.


@pytest.mark.parametrize("lowercase", [True, False], ids=["lowercase", "cased"])
@pytest.mark.parametrize("text", TEXTS)
def test_answers_equal_the_library(text, lowercase):
    answers = _answers(text=text, no_lowercase=not lowercase)
    tokens, ids = wp.encode(text, wp.tiny_vocab(), lowercase)
    assert answers["tokens"] == tokens and answers["input_ids"] == ids
    assert answers["tokens"] == ["[CLS]", *answers["pieces"], "[SEP]"]


@pytest.mark.parametrize("text", TEXTS)
def test_real_vocabulary_matches_hugging_face(text):
    implementations = require("tokenizers.implementations")
    path = minilm_dir() / "vocab.txt"
    expected = implementations.BertWordPieceTokenizer(str(path), lowercase=True).encode(text)
    answers = _answers(text=text, vocab=str(path))
    assert (answers["tokens"], answers["input_ids"]) == (expected.tokens, expected.ids)


ACCENT_TEXTS = ["Café au lait, naïve Ångström!", "ÉCOLE Ünïcödé Straße ΆΘΉΝΑ", "He remained unaffable."]
ACCENTS = [(True, None), (True, True), (True, False), (False, None), (False, True), (False, False)]


def _accent_options(lowercase, strip_accents):
    options = {"no_lowercase": not lowercase}
    if strip_accents is not None:
        options["strip_accents" if strip_accents else "no_strip_accents"] = True
    return options


@pytest.mark.parametrize("lowercase,strip_accents", ACCENTS)
@pytest.mark.parametrize("text", ACCENT_TEXTS)
def test_strip_accents_is_independent_of_case_as_in_bert_normalizer(text, lowercase, strip_accents):
    normalizers = require("tokenizers.normalizers")
    implementations = require("tokenizers.implementations")
    answers = _answers(text=text, **_accent_options(lowercase, strip_accents))
    library = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=False, strip_accents=strip_accents, lowercase=lowercase
    )
    assert answers["normalized"] == library.normalize_str(text)
    path = minilm_dir() / "vocab.txt"
    tokenizer = implementations.BertWordPieceTokenizer(
        str(path), lowercase=lowercase, strip_accents=strip_accents
    )
    expected = tokenizer.encode(text)
    ours = _answers(text=text, vocab=str(path), **_accent_options(lowercase, strip_accents))
    assert (ours["tokens"], ours["input_ids"]) == (expected.tokens, expected.ids)


@pytest.mark.parametrize("lowercase,strip_accents", ACCENTS)
def test_strip_accents_against_an_independent_transcription(lowercase, strip_accents):
    import unicodedata

    text = "Café NAÏVE Ångström"
    strip = lowercase if strip_accents is None else strip_accents
    expected = text
    if strip:
        expected = "".join(
            c for c in unicodedata.normalize("NFD", expected) if unicodedata.category(c) != "Mn"
        )
    if lowercase:
        expected = expected.lower()
    derivation = derive("tokenize", text=text, **_accent_options(lowercase, strip_accents))
    assert derivation.answers["normalized"] == expected
    assert derivation.params["strip_accents"] is strip
    if strip_accents is not None:
        assert "Hugging Face's BertNormalizer" in " ".join(str(derivation).split())


def test_kept_accents_is_not_offered_when_accents_are_kept():
    options = {"text": "Café naïve", "no_strip_accents": True}
    kept = derive("tokenize", **options).answers["normalized"]
    assert kept == "café naïve"
    stripped = "cafe naive"
    report = check.check(TOPIC, options, ["normalized=" + stripped])
    assert report.item("normalized").verdict == "wrong" and report.item("normalized").mistake is None


def test_contradicting_accent_flags_are_refused(cli):
    code, out, err = cli("tokenize", "--text", "Café", "--strip-accents", "--no-strip-accents")
    assert code == 2 and out == "" and "--no-strip-accents" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("seed", range(20))
def test_sampled_texts_match_the_library(seed):
    raw = TOPIC.sample(np.random.default_rng(seed))
    answers = run(TOPIC, TOPIC.prepare(parse_options(TOPIC, raw))).answers
    assert answers["tokens"] == wp.encode(raw["text"], wp.tiny_vocab())[0]


def test_a_special_token_split_by_a_control_character_is_refused():
    from derive.errors import InputError

    with pytest.raises(InputError, match="--text"):
        derive("tokenize", text="a[MA\x00SK]b")


# Misconceptions, through the checker and directly.


def _shortest(words):
    return [p for w in words for p in wp.wordpiece(w, wp.tiny_vocab(), longest=False)]


def test_shortest_match_is_diagnosed():
    pieces = _shortest(["he", "remained", "unaffable", "."])
    assert pieces[:4] == ["h", "##e", "r", "##e"]
    vocab = wp.tiny_vocab()
    ids = [vocab[t] for t in ["[CLS]", *pieces, "[SEP]"]]
    report = check.check(
        TOPIC, {}, ["pieces=" + " ".join(pieces), "input_ids=" + " ".join(map(str, ids))], example="unaffable"
    )
    assert report.item("pieces").mistake == "shortest-match"
    assert report.item("input_ids").verdict in ("follows-through", "wrong")
    alone = check.check(TOPIC, {}, ["input_ids=" + " ".join(map(str, ids))], example="unaffable")
    assert alone.item("input_ids").mistake == "shortest-match"


def test_kept_accents_is_diagnosed():
    vocab = wp.tiny_vocab()
    kept = wp.encode("café naïve", vocab, lowercase=False)[1]  # already lower case: only the accents stay
    assert kept != wp.encode("café naïve", vocab)[1]
    report = check.check(TOPIC, {"text": "Café naïve"}, ["input_ids=" + " ".join(map(str, kept))])
    assert report.item("input_ids").mistake == "kept-accents"
    assert "é becomes e" in report.item("input_ids").hint


def test_mistakes_computed_per_stage():
    givens = TOPIC.prepare(parse_options(TOPIC, {"text": "Naïve unaffable"}))
    derivation = run(TOPIC, givens)
    from derive.model import Values

    values = Values({**givens.values, **{s.name: s.value for s in derivation.steps}})
    mistakes = {(s.name, m.id): m for s in TOPIC.stages for m in s.mistakes}
    assert mistakes["normalized", "kept-accents"].compute(values) == "naïve unaffable"
    assert mistakes["words", "kept-accents"].compute(values) == ["naïve", "unaffable"]
    assert mistakes["pieces", "shortest-match"].compute(values) == _shortest(["naive", "unaffable"])
    assert mistakes["tokens", "kept-accents"].compute(values)[1] == "[UNK]"
    assert {m.id for s in TOPIC.stages for m in s.mistakes} == {"shortest-match", "kept-accents"}


# The command line.


def test_cli_json_answers(cli):
    code, out, err = cli("tokenize", "--example", "unaffable", "-f", "json")
    assert code == 0, err
    answers = json.loads(out)["answers"]
    assert answers["tokens"]["value"] == ["[CLS]", "he", "remained", "una", "##ffa", "##ble", ".", "[SEP]"]
    assert all(type(i) is int for i in answers["input_ids"]["value"])
    assert json.loads(out)["result"] == "input_ids"


def test_cli_no_lowercase_flag(cli):
    code, out, _ = cli("tokenize", "--text", "Café", "--no-lowercase", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert data["params"]["lowercase"] is False
    assert data["answers"]["tokens"]["value"] == ["[CLS]", "[UNK]", "[SEP]"]


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "does not exist"),
        ("dir", "is a directory"),  # click's own check of a FILE option
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"hello\nworld\n", "lacks [UNK], [CLS], [SEP]"),
        (b"[UNK]\n[SEP]\n", "lacks [CLS]"),
    ],
)
def test_cli_rejects_bad_vocabularies(cli, tmp_path, content, message):
    path = tmp_path / "vocab.txt"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    code, out, err = cli("tokenize", "--text", "hi", "--vocab", str(path))
    assert code == 2 and out == ""
    assert err.startswith("Error: ") and "--vocab" in err and message in err
    assert len(err.strip().splitlines()) == 1


def test_cli_rejects_long_text(cli):
    code, _, err = cli("tokenize", "--text", "a" * 1001)
    assert code == 2 and err.startswith("Error: --text:") and "1000" in err


def test_cli_vocab_file_is_used(cli, tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhug\n##s\n", encoding="utf-8")
    code, out, _ = cli("tokenize", "--text", "Hugs, hugs", "--vocab", str(path), "-f", "json")
    assert code == 0
    assert json.loads(out)["answers"]["input_ids"]["value"] == [2, 4, 5, 1, 4, 5, 3]


# User text survives every format.


def test_markdown_escapes_user_text():
    text = render(derive("tokenize", text=NASTY), "markdown")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\#\\#ffa" in text and "\\[CLS\\]" in text and "x\\_y" in text


def test_terminal_shows_tokens_as_written():
    text = render(derive("tokenize", text=NASTY), "terminal", color=False, width=100)
    for token in ("##ffa", "[CLS]", "<", "script", ">", "_", "#", "\\", "{", "$", "%", "~", "^", "&", "|"):
        assert f"“{token}”" in text


def test_control_characters_are_shown_as_code_points():
    text = render(derive("tokenize", text="a\x1b[31mb\tc"), "terminal", color=False, width=100)
    assert "\x1b" not in text and "<U+001B>" in text and "<U+0009>" in text


def test_latex_compiles_and_keeps_every_token(tmp_path):
    pdflatex = require_program("pdflatex")
    pdftotext = require_program("pdftotext")
    source = tmp_path / "doc.tex"
    source.write_text(render(derive("tokenize", text=NASTY + " 日本 Ελλάδα"), "latex"), encoding="utf-8")
    result = subprocess.run(
        [pdflatex, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", source.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    words = subprocess.run([pdftotext, "doc.pdf", "-"], cwd=tmp_path, capture_output=True, text=True).stdout
    for token in ("##ffa", "[CLS]", "#tag", "C:\\dir", "<script>", "{a}", "$5", "50%", "&", "|", "U+65E5"):
        assert token in words, token
    assert "x\\_y" in source.read_text(encoding="utf-8")  # an underscore is drawn, not extracted


def test_output_is_deterministic():
    first = render(derive("tokenize", text=NASTY), "json")
    assert first == render(derive("tokenize", text=NASTY), "json")
