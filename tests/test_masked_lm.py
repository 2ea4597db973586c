"""masked-lm: the seeded 15% / 80-10-10 recipe, the head and loss against NumPy and PyTorch, mistakes, errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import check, derive, forward, registry
from derive import wordpiece as wp
from derive.api import prepare
from derive.model import Values
from derive.topics import masked_lm
from derive.topics.masked_lm import stages as masked_lm_stages

TOPIC = registry.get("masked-lm")
BASIC = "the man went to the store and bought a gallon of milk"
CUSTOM = {
    "text": "the king and the queen",
    "hidden": "0 0; 1 0; 2 1; 0 -1; 1 1; 1 2; 0 0",
    "embedding": "1 0; 1 1; 0 -1; 0 2",
    "bias": "0 0 0 1/2",
}


def _floats(value) -> np.ndarray:
    return np.array(sp.Matrix(value).evalf(30).tolist(), dtype=float)


def _recipe(seed: int, tokens: list[str], vocab: dict):
    """An independent transcription of the documented draws, straight from the Generator."""
    rng = np.random.default_rng(seed)
    inner = np.arange(1, len(tokens) - 1)
    count = max(1, int(np.floor(0.15 * len(inner) + 0.5 + 1e-12)))
    u = rng.random(len(inner))
    chosen = sorted(int(x) for x in inner[np.argsort(u)[:count]])
    corrupted = list(tokens)
    words = [t for t, _ in sorted(vocab.items(), key=lambda item: item[1])]
    for position in chosen:
        r = rng.random()
        if r < 0.8:
            corrupted[position] = "[MASK]"
        elif r < 0.9:
            corrupted[position] = words[rng.integers(len(words))]
    return chosen, corrupted


@pytest.mark.parametrize("seed", range(40))
def test_chosen_and_corrupted_follow_the_documented_draws(seed):
    answers = derive("masked-lm", text=BASIC, seed=seed).answers
    tokens = wp.tokenize(BASIC, wp.tiny_vocab())
    chosen, corrupted = _recipe(seed, tokens, wp.tiny_vocab())
    assert answers["chosen"] == chosen
    assert answers["corrupted"] == corrupted
    assert 0 not in chosen and len(tokens) - 1 not in chosen


def test_fifteen_percent_rounded_and_at_least_one():
    expected = {1: 1, 3: 1, 4: 1, 6: 1, 7: 1, 10: 2, 12: 2, 14: 2, 30: 5, 100: 15}
    assert {n: masked_lm_stages.chosen_count(n) for n in expected} == expected
    for candidates in range(20, 2000, 37):
        assert abs(masked_lm_stages.chosen_count(candidates) / candidates - 0.15) <= 0.5 / candidates + 1e-12


def test_80_10_10_split_and_uniform_choices_over_many_seeds():
    """A fixed big sample: 20 seeds × 1000 candidates = 20,000 corruption draws."""
    vocab = wp.tiny_vocab()
    outcomes, random_ids, picks = {"mask": 0, "random": 0, "keep": 0}, [], np.zeros(1000)
    for seed in range(20):
        u, decisions = masked_lm_stages.draws(seed, 1000, vocab)
        picks[np.argsort(np.array(u, dtype=float))[: masked_lm_stages.chosen_count(1000)]] += 1
        for _, outcome, token in decisions:
            outcomes[outcome] += 1
            if outcome == "random":
                random_ids.append(vocab[token])
    n = sum(outcomes.values())
    for outcome, share in (("mask", 0.8), ("random", 0.1), ("keep", 0.1)):
        assert abs(outcomes[outcome] / n - share) <= 5 * np.sqrt(share * (1 - share) / n), outcome
    assert picks.sum() == 20 * 150  # exactly 15% of every sequence
    assert abs(picks.mean() / 20 - 0.15) < 1e-12 and picks.max() <= 20
    ids = np.array(random_ids)  # random tokens cover the whole vocabulary, specials included
    assert ids.min() < 10 and ids.max() > len(vocab) - 10
    assert abs(ids.mean() - (len(vocab) - 1) / 2) <= 5 * len(vocab) / np.sqrt(12 * len(ids))


def test_each_position_is_chosen_equally_often():
    counts = np.zeros(14)
    runs = 600
    chosen = TOPIC.stage("chosen")
    for seed in range(runs):
        counts[chosen.compute(Values(prepare(TOPIC, {"text": BASIC, "seed": seed}).values))] += 1
    assert counts[0] == counts[13] == 0
    share = counts[1:13] / runs
    assert np.all(np.abs(share - 2 / 12) <= 5 * np.sqrt((2 / 12) * (10 / 12) / runs))


def _reference(answers, hidden, embedding, bias, labels):
    chosen = answers["chosen"]
    logits = hidden[chosen] @ embedding.T + bias
    probs = forward.softmax(logits)
    loss = -np.mean(np.log(probs[np.arange(len(chosen)), labels]))
    return logits, probs, loss


@pytest.mark.parametrize("seed", range(10))
def test_head_and_loss_match_numpy_on_random_weights(seed):
    rng = np.random.default_rng(seed)
    text = " ".join(rng.choice(masked_lm.SAMPLE_WORDS, size=int(rng.integers(3, 13))))
    tokens = wp.tokenize(text, wp.tiny_vocab())
    words = list(dict.fromkeys(tokens[1:-1]))
    d = int(rng.integers(1, 4))
    hidden = np.round(rng.normal(0, 1, (len(tokens), d)), 2)
    embedding = np.round(rng.normal(0, 1, (len(words), d)), 2)
    bias = np.round(rng.normal(0, 0.5, len(words)), 2)
    answers = derive(
        "masked-lm",
        text=text,
        seed=seed,
        hidden=hidden.tolist(),
        embedding=embedding.tolist(),
        bias=bias.tolist(),
    ).answers
    labels = [words.index(tokens[p]) for p in answers["chosen"]]
    logits, probs, loss = _reference(answers, hidden, embedding, bias, labels)
    np.testing.assert_allclose(_floats(answers["logits"]), logits, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_floats(answers["probabilities"]), probs, rtol=1e-12)
    assert float(sp.N(answers["loss"], 30)) == pytest.approx(loss, rel=1e-12)


def _torch_case(torch, example):
    derivation = derive("masked-lm", example=example)
    values = prepare(TOPIC, {}, example).values
    tokens, words = values["tokens"], values["words"]
    hidden = torch.tensor(np.array(values["H"].tolist(), dtype=float))
    embedding = torch.tensor(np.array(values["E"].tolist(), dtype=float))
    bias = torch.tensor(np.array(values["b"].tolist(), dtype=float)).reshape(-1)
    logits = hidden @ embedding.T + bias  # (T, V): every position
    inner = [words.index(t) if 0 < p < len(tokens) - 1 else -100 for p, t in enumerate(tokens)]
    labels = torch.tensor([y if p in derivation.answers["chosen"] else -100 for p, y in enumerate(inner)])
    return derivation.answers, logits, labels, torch.tensor(inner)


@pytest.mark.parametrize("example", ["basic", "custom"])
def test_loss_equals_pytorch_cross_entropy_with_ignore_index(example):
    torch = require("torch")
    answers, logits, labels, every = _torch_case(torch, example)
    chosen = answers["chosen"]
    np.testing.assert_allclose(_floats(answers["logits"]), logits[chosen].numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        _floats(answers["probabilities"]), torch.softmax(logits[chosen], dim=-1).numpy(), rtol=1e-12
    )
    expected = torch.nn.functional.cross_entropy(logits, labels, ignore_index=-100).item()
    assert float(sp.N(answers["loss"], 30)) == pytest.approx(expected, rel=1e-12)
    # The misconception's value is the same loss taken over every labelled position.
    wrong = masked_lm.TOPIC.stage("loss").mistakes[0]
    assert wrong.id == "loss-over-all-positions"
    over_all = torch.nn.functional.cross_entropy(logits, every, ignore_index=-100).item()
    values = Values({**prepare(TOPIC, {}, example).values, **answers})
    assert float(sp.N(wrong.compute(values), 30)) == pytest.approx(over_all, rel=1e-12)


def _written(value) -> str:
    if isinstance(value, list):
        return " ".join(str(x) for x in value)
    if isinstance(value, sp.MatrixBase):
        return "; ".join(" ".join(f"{float(x):.12f}" for x in value.row(r)) for r in range(value.rows))
    return f"{float(sp.N(value, 30)):.12f}"


def test_each_misconception_is_recognised_and_none_on_correct_answers():
    answers = derive("masked-lm", example="basic").answers
    report = check.check(TOPIC, {}, [f"{k}={_written(v)}" for k, v in answers.items()], example="basic")
    assert report.all_correct and all(item.mistake is None for item in report.items)

    all_masked = [("[MASK]" if p in answers["chosen"] else t) for p, t in enumerate(answers["corrupted"])]
    assert all_masked != answers["corrupted"]  # position 4 became a random token
    report = check.check(TOPIC, {}, ["corrupted=" + " ".join(all_masked)], example="basic")
    assert report.item("corrupted").mistake == "all-masked"

    torch = require("torch")
    _, logits, _, every = _torch_case(torch, "basic")
    over_all = torch.nn.functional.cross_entropy(logits, every, ignore_index=-100).item()
    report = check.check(TOPIC, {}, [f"loss={over_all:.12f}"], example="basic")
    assert report.item("loss").mistake == "loss-over-all-positions"
    summed = 2 * float(sp.N(answers["loss"], 30))
    report = check.check(TOPIC, {}, [f"loss={summed:.12f}"], example="basic")
    assert report.item("loss").mistake == "sum-not-mean"


def test_other_chosen_positions_follow_through():
    """A student who picked positions 3 and 9 and then did everything right is wrong only once."""
    options = {"text": BASIC}
    student = {"chosen": [3, 9]}
    values = prepare(TOPIC, options).values
    hidden, embedding = (np.array(values[k].tolist(), dtype=float) for k in ("H", "E"))
    labels = [values["words"].index(values["tokens"][p]) for p in student["chosen"]]
    logits, probs, loss = _reference(student, hidden, embedding, np.zeros(len(values["words"])), labels)
    given = [
        "chosen=3 9",
        "logits=" + "; ".join(" ".join(f"{x:.12f}" for x in row) for row in logits),
        "probabilities=" + "; ".join(" ".join(f"{x:.12f}" for x in row) for row in probs),
        f"loss={loss:.12f}",
    ]
    report = check.check(TOPIC, options, given)
    assert report.item("chosen").verdict == "wrong"
    assert [report.item(k).verdict for k in ("logits", "probabilities", "loss")] == ["follows-through"] * 3


def test_vocab_file_gives_the_same_tokens(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text(wp.tiny_vocab_text(), encoding="utf-8")
    ours = derive("masked-lm", text=BASIC, vocab=str(path)).answers
    assert ours["corrupted"] == derive("masked-lm", text=BASIC).answers["corrupted"]


@pytest.mark.parametrize(
    "args,option",
    [
        (["--text", "the " * 15], "--text"),
        (["--text", ""], "--text"),
        (["--text", "the [MASK] man"], "--text"),
        (["--text", "the man", "--hidden", "1; 2; 3; 4"], "--hidden"),
        (["--text", "the man", "--embedding", "1; 2"], "--embedding"),
        (["--text", "the man", "--hidden", "1; 2; 3", "--embedding", "1; 2"], "--hidden"),
        (["--text", "the man", "--hidden", "1; 2; 3; 4", "--embedding", "1; 2; 3"], "--embedding"),
        (["--text", "the man", "--hidden", "1; 2; 3; 4", "--embedding", "1 2; 3 4"], "--embedding"),
        (["--text", "the man", "--bias", "1 2 3"], "--bias"),
        (["--text", "the man", "--seed", "-3"], "--seed"),
        (["--text", "the man", "--vocab", "/nonexistent/vocab.txt"], "--vocab"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option):
    code, out, err = cli("masked-lm", *args)
    assert code == 2 and out == ""
    assert option in err and len(err.strip().splitlines()) == 1, err


def test_vocab_without_mask_token_is_refused(cli, tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nman\n", encoding="utf-8")
    code, _, err = cli("masked-lm", "--text", "the man", "--vocab", str(path))
    assert code == 2 and "--vocab" in err and "[MASK]" in err
