"""next-token: exact values against NumPy, PyTorch and Hugging Face's warpers; seeded draws; mistakes; errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import check, derive, forward, registry
from derive.api import prepare
from derive.model import Values

TOPIC = registry.get("next-token")
BASE = {"hidden": "1 0 2", "embedding": "1 1 1; 2 0 1; 0 1 1; -1 2 0; 1 -1 -1", "vocab": "the cat sat on mat"}


def _floats(matrix) -> np.ndarray:
    return np.array(sp.Matrix(matrix).evalf(30).tolist(), dtype=float).ravel()


def _random_case(rng):
    """Decimal inputs with two places: no ties between probabilities, so every filter is unambiguous."""
    size, d = int(rng.integers(3, 9)), int(rng.integers(1, 5))
    hidden = np.round(rng.normal(0, 1, d), 2)
    embedding = np.round(rng.normal(0, 1, (size, d)), 2)
    return hidden, embedding


def _options(hidden, embedding, **extra):
    return {
        "hidden": " ".join(f"{x:.2f}" for x in hidden),
        "embedding": "; ".join(" ".join(f"{x:.2f}" for x in row) for row in embedding),
        **extra,
    }


def _top_k_independent(p, k):
    """Sort once, keep the first k (and any entry tied with the k-th), renormalise."""
    kth = np.sort(p)[-k]
    kept = np.where(p >= kth, p, 0.0)
    return kept / kept.sum()


def _top_p_independent(p, top_p):
    """Hugging Face's formulation: ascending sort, drop entries whose cumulative sum stays <= 1 - p."""
    order = np.argsort(p)
    remove = np.cumsum(p[order]) <= 1 - top_p
    remove[-1] = False
    kept = p.copy()
    kept[order[remove]] = 0.0
    return kept / kept.sum()


@pytest.mark.parametrize("seed", range(12))
def test_exact_values_match_an_independent_numpy_computation(seed):
    rng = np.random.default_rng(seed)
    hidden, embedding = _random_case(rng)
    temperature = ["1", "0.5", "1.7"][seed % 3]
    top_k = int(rng.integers(1, len(embedding) + 1)) if seed % 2 else None
    top_p = float(rng.choice([0.3, 0.6, 0.9, 1.0])) if seed % 4 < 2 else None
    extra = {"temperature": temperature}
    if top_k is not None:
        extra["top_k"] = top_k
    if top_p is not None:
        extra["top_p"] = str(top_p)
    answers = derive("next-token", **_options(hidden, embedding, **extra)).answers

    logits = hidden @ embedding.T
    probs = forward.softmax(logits, temperature=float(temperature))
    filtered = probs if top_k is None else _top_k_independent(probs, top_k)
    filtered = filtered if top_p is None else _top_p_independent(filtered, top_p)
    np.testing.assert_allclose(_floats(answers["logits"]), logits, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_floats(answers["probabilities"]), probs, rtol=1e-12)
    np.testing.assert_allclose(_floats(answers["filtered"]), filtered, rtol=1e-12, atol=1e-15)
    assert answers["token"] == str(int(np.argmax(filtered)))


@pytest.mark.parametrize("seed", range(8))
def test_filters_agree_with_pytorch_and_hugging_face_warpers(seed):
    torch = require("torch")
    require("transformers")
    from transformers.generation.logits_process import (
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    rng = np.random.default_rng(100 + seed)
    hidden, embedding = _random_case(rng)
    temperature, top_k, top_p = (
        0.8,
        int(rng.integers(2, len(embedding) + 1)),
        float(rng.choice([0.5, 0.75, 0.9])),
    )
    options = _options(hidden, embedding, temperature="0.8", top_k=top_k, top_p=str(top_p))
    answers = derive("next-token", **options).answers

    scores = torch.tensor(hidden @ embedding.T, dtype=torch.float64)[None, :]
    np.testing.assert_allclose(
        _floats(answers["probabilities"]), torch.softmax(scores / temperature, dim=-1)[0].numpy(), rtol=1e-12
    )
    for warper in (TemperatureLogitsWarper(temperature), TopKLogitsWarper(top_k), TopPLogitsWarper(top_p)):
        scores = warper(None, scores)
    expected = torch.softmax(scores, dim=-1)[0].numpy()
    np.testing.assert_allclose(_floats(answers["filtered"]), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 123, 2024, 99999])
def test_seeded_draw_is_numpy_generator_choice(seed):
    for extra in ({}, {"top_k": "3", "temperature": "2"}, {"top_p": "0.9"}):
        answers = derive("next-token", **BASE, **extra, sample="seeded", seed=seed).answers
        probs = _floats(answers["filtered"])
        index = np.random.default_rng(seed).choice(len(probs), p=probs / probs.sum())
        assert answers["token"] == BASE["vocab"].split()[index]


def test_the_walk_stops_at_the_first_cumulative_sum_above_u():
    derivation = derive("next-token", **BASE, top_p="0.9", seed=42)
    u = np.random.default_rng(42).random()
    cumulative = np.cumsum(_floats(derivation.answers["filtered"]))
    assert cumulative[0] < u < cumulative[1]
    assert derivation.answers["token"] == "cat"
    text = str(derivation)
    assert f"u = {u!r}" in text and "yes: stop here" in text


def test_seeded_sampling_follows_the_distribution():
    """Over many seeds, each word comes up about as often as its (filtered) probability says."""
    options, runs, counts = {**BASE, "temperature": "2", "top_k": "3"}, 300, {}
    filtered = derive("next-token", **options).answers["filtered"]
    token = TOPIC.stage("token")
    for seed in range(runs):
        values = prepare(TOPIC, {**options, "seed": seed}).values
        word = token.compute(Values({**values, "filtered": filtered}))
        counts[word] = counts.get(word, 0) + 1
    for index, word in enumerate(BASE["vocab"].split()):
        p = float(filtered[index])
        assert abs(counts.get(word, 0) / runs - p) <= 5 * np.sqrt(p * (1 - p) / runs) + 1e-12, word


def test_greedy_breaks_ties_by_the_lower_index():
    answers = derive(
        "next-token", hidden="1 0 2", embedding="1 1 1; 2 0 1; 0 1 2; -1 2 0", vocab="a b c d"
    ).answers
    assert _floats(answers["logits"]).tolist() == [3, 4, 4, -1]
    assert answers["token"] == "b"


def test_top_k_keeps_every_word_tied_with_the_kth_as_hugging_face_does():
    answers = derive("next-token", hidden="1", embedding="3; 2; 2; 1", top_k="2").answers
    kept = _floats(answers["filtered"]) > 0
    assert kept.tolist() == [True, True, True, False]


def test_top_p_includes_the_word_that_crosses_p_and_stops_exactly_at_p():
    # Two equal logits: probabilities 1/2, 1/2 exactly; p = 1/2 is reached by the first word alone.
    answers = derive("next-token", hidden="1", embedding="1; 1", top_p="1/2").answers
    assert list(answers["filtered"]) == [1, 0]
    answers = derive("next-token", hidden="1", embedding="1; 1", top_p="0.51").answers
    assert list(answers["filtered"]) == [sp.Rational(1, 2), sp.Rational(1, 2)]


def _answer(values) -> str:
    return " ".join(f"{float(x):.12f}" for x in values)


def test_each_misconception_is_recognised():
    options = {**BASE, "temperature": "2", "top_k": "3", "top_p": "0.8", "seed": "3"}
    derivation = derive("next-token", **options)
    logits = _floats(derivation.answers["logits"])
    probs = forward.softmax(logits, temperature=2.0)
    no_temperature = forward.softmax(logits)
    top3 = _top_k_independent(probs, 3)
    kept = _top_p_independent(top3, 0.8) > 0
    not_renormalised = np.where(kept, probs, 0)
    order = np.argsort(-top3, kind="stable")
    exclusive = np.zeros_like(top3)
    exclusive[order[np.cumsum(top3[order]) < 0.8]] = 1
    exclusive = exclusive * top3 / (exclusive * top3).sum()
    cases = {
        "probabilities": (no_temperature, "no-temperature"),
        "filtered": (not_renormalised, "no-renormalise"),
    }
    for name, (values, mistake) in cases.items():
        report = check.check(TOPIC, options, [f"{name}={_answer(values)}"])
        assert report.item(name).mistake == mistake, name
    report = check.check(TOPIC, options, [f"filtered={_answer(exclusive)}"])
    assert report.item("filtered").mistake == "top-p-exclusive"


def test_sorted_walk_is_recognised():
    """Seed 3 draws u ≈ 0.086: vocabulary order stops at 'the', sorted order at 'cat'."""
    options = {**BASE, "top_p": "0.9", "seed": "3"}
    answers = derive("next-token", **options).answers
    assert answers["token"] == "the"
    report = check.check(TOPIC, options, ["token=cat"])
    assert report.item("token").verdict == "wrong" and report.item("token").mistake == "sorted-order"


def test_correct_answers_raise_no_misconception_and_errors_follow_through():
    options = {**BASE, "temperature": "2", "top_k": "3", "seed": "0"}
    answers = derive("next-token", **options).answers
    given = [
        f"logits={_answer(_floats(answers['logits']))}",
        f"probabilities={_answer(_floats(answers['probabilities']))}",
        f"filtered={_answer(_floats(answers['filtered']))}",
        f"token={answers['token']}",
    ]
    report = check.check(TOPIC, options, given)
    assert report.all_correct and all(item.mistake is None for item in report.items)
    wrong = forward.softmax(_floats(answers["logits"]))  # forgot the temperature ...
    carried = _top_k_independent(wrong, 3)  # ... then filtered correctly
    report = check.check(TOPIC, options, [f"probabilities={_answer(wrong)}", f"filtered={_answer(carried)}"])
    assert report.item("probabilities").mistake == "no-temperature"
    assert report.item("filtered").verdict == "follows-through"


@pytest.mark.parametrize(
    "args,option",
    [
        (["--hidden", "1 2", "--embedding", "1 2 3; 4 5 6"], "--embedding"),
        (["--hidden", "1 2", "--embedding", "1 2; 3 4", "--vocab", "a b c"], "--vocab"),
        (["--hidden", "1 2", "--embedding", "1 2; 3 4", "--vocab", "a a"], "--vocab"),
        (["--hidden", "1 2", "--embedding", "1 2; 3 4", "--top-k", "3"], "--top-k"),
        (["--hidden", "1 2", "--embedding", "1 2; 3 4", "--top-k", "0"], "--top-k"),
        (["--hidden", "1 2", "--embedding", "1 2; 3 4", "--top-p", "0"], "--top-p"),
        (["--hidden", "1 2", "--embedding", "1 2; 3 4", "--top-p", "1.5"], "--top-p"),
        (["--hidden", "1 2", "--embedding", "1 2; 3 4", "--temperature", "0"], "--temperature"),
        (["--hidden", "1 2", "--embedding", "1 2; 3 4", "--temperature", "-1"], "--temperature"),
        (["--hidden", "1 2", "--embedding", "1 2; 3 4", "--sample", "beam"], "--sample"),
        (["--hidden", "1 2", "--embedding", "1 2; 3 4", "--sample", "greedy", "--seed", "1"], "--seed"),
        (["--hidden", "1 2", "--embedding", "1 2; 3 4", "--seed", "-1"], "--seed"),
        (["--hidden", "1; 2", "--embedding", "1; 3"], "--hidden"),
        (["--embedding", "1 2; 3 4"], "--hidden"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option):
    code, out, err = cli("next-token", *args)
    assert code == 2 and out == ""
    assert option in err and len(err.strip().splitlines()) == 1, err


def test_cli_prints_every_step_and_json(cli):
    code, out, _ = cli("next-token", "--example", "top-p", "-f", "json")
    assert code == 0 and '"token"' in out and '"value": "cat"' in out
    code, out, _ = cli("next-token", "--example", "top-k")
    assert code == 0
    assert "Top-k with k = 3" in out and "The sampled word is" in out


@pytest.mark.parametrize("precision", [2, 6, 9])
@pytest.mark.parametrize("fmt", ["terminal", "markdown", "latex"])
def test_precision_sets_the_decimals_of_every_probability_shown(precision, fmt):
    """Only the renderer rounds: --precision reaches the probability and cumulative-sum tables."""
    from derive import render

    d = derive("next-token", **BASE, temperature="2", top_k="3", seed="0")
    embedding = np.array([[1, 1, 1], [2, 0, 1], [0, 1, 1], [-1, 2, 0], [1, -1, -1]], dtype=float)
    probs = forward.softmax(embedding @ np.array([1.0, 0.0, 2.0]), temperature=2.0)  # (V,)
    text = render(d, fmt, precision=precision)
    for p in probs:
        assert f"{p:.{precision}f}" in text
