"""masked-lm: the seeded 15% / 80-10-10 recipe, the head and loss against NumPy and PyTorch, mistakes, errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import check, derive, forward, registry
from derive import wordpiece as wp
from derive.api import prepare
from derive.errors import InputError
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
    count = min(20, max(1, int(round(len(tokens) * 0.15))))  # create_pretraining_data.py's num_to_predict
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


def _bert_num_to_predict(tokens, masked_lm_prob=0.15, max_predictions_per_seq=20):
    """Transcribed from BERT's create_pretraining_data.py (create_masked_lm_predictions)."""
    return min(max_predictions_per_seq, max(1, int(round(len(tokens) * masked_lm_prob))))


@pytest.mark.parametrize("words", range(1, 15))
def test_count_is_berts_num_to_predict_over_all_tokens(words):
    text = " ".join(["the"] * words)
    tokens = wp.tokenize(text, wp.tiny_vocab())
    for cap in (20, 1):
        chosen = derive("masked-lm", text=text, max_predictions=cap).answers["chosen"]
        assert len(chosen) == _bert_num_to_predict(tokens, max_predictions_per_seq=cap)


def test_eight_word_pieces_give_two_predictions_and_the_candidates_only_count_is_named():
    text = "the man went to the store and bought"  # 8 WordPieces, 10 tokens with [CLS] and [SEP]
    derivation = derive("masked-lm", text=text)
    assert len(derivation.answers["chosen"]) == 2
    assert "n = 10 counts every token" in " ".join(str(derivation).split())
    values = prepare(TOPIC, {"text": text}).values
    u = np.array(values["u"], dtype=float)
    one = [int(np.argmin(u)) + 1]  # 15% of the 8 candidates alone, rounded: 1
    report = check.check(TOPIC, {"text": text}, ["chosen=" + " ".join(map(str, one))])
    assert report.item("chosen").mistake == "fifteen-percent-of-candidates"


def test_exact_count_agrees_with_berts_float_arithmetic_at_every_length():
    for n in range(1, 5000):
        cap = 10**6
        assert masked_lm_stages.chosen_count(n, cap) == _bert_num_to_predict(
            [0] * n, max_predictions_per_seq=cap
        )


def test_80_10_10_split_and_uniform_choices_over_many_seeds():
    """A fixed big sample: 20 seeds × 1000 candidates = 20,000 corruption draws."""
    vocab = wp.tiny_vocab()
    outcomes, random_ids, picks = {"mask": 0, "random": 0, "keep": 0}, [], np.zeros(1000)
    for seed in range(20):
        u, decisions = masked_lm_stages.draws(seed, 1000, vocab)
        picks[np.argsort(np.array(u, dtype=float))[: masked_lm_stages.chosen_count(1002, 1000)]] += 1
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


@pytest.mark.parametrize("seed", range(20))
def test_minus_log_of_a_softmax_entry_is_the_expanded_log_and_numpys(seed, monkeypatch):
    """The direct log S − a is the expression the general expand_log writes, and NumPy's −log p."""
    from derive.exact.softmax import stable_softmax

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    z = np.round(rng.normal(0, 2, (2, n)), 2)
    z[0, -1] = z[0, 0]  # equal entries: 2·e^a in the sum, left to expand_log
    z[1] = rng.choice(np.arange(-400, 400), n, replace=False) / 100  # distinct: the quick path
    probs = stable_softmax(sp.Matrix([[sp.Rational(str(x)) for x in row] for row in z]))
    expected = -np.log(
        np.exp(z - z.max(axis=1, keepdims=True)) / np.exp(z - z.max(axis=1, keepdims=True)).sum(1)[:, None]
    )
    for (r, c), q in np.ndenumerate(np.array(probs.tolist(), dtype=object)):
        got = masked_lm_stages.minus_log(q)
        assert sp.srepr(got) == sp.srepr(-sp.expand_log(sp.log(q), force=True))
        assert float(sp.N(got, 30)) == pytest.approx(expected[r, c], rel=1e-12)
    expanded = [-sp.expand_log(sp.log(q), force=True) for q in probs.row(1)]
    with monkeypatch.context() as patched:  # row 1 takes the quick path: no general expansion
        patched.setattr(sp, "expand_log", lambda *args, **kwargs: pytest.fail("expand_log was called"))
        assert [masked_lm_stages.minus_log(q) for q in probs.row(1)] == expanded


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


def _hf_bernoulli_choice(torch, monkeypatch, text, u):
    """The positions Hugging Face's DataCollatorForLanguageModeling chooses when its first Bernoulli
    draw is decided by our uniform numbers u (one per candidate): chosen where u < its probability."""
    transformers = require("transformers")
    tokenizer = transformers.BertTokenizerFast(vocab=wp.tiny_vocab(), do_lower_case=True)
    collator = transformers.DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=0.15)
    real, calls, seen = torch.bernoulli, [], []

    def first_draw_from_u(probabilities, *args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            return real(probabilities, *args, **kwargs)
        seen.append(probabilities.clone())
        draws = torch.tensor([[2.0, *u, 2.0]], dtype=probabilities.dtype)  # specials: never below p
        return (draws < probabilities).to(probabilities.dtype)

    monkeypatch.setattr(torch, "bernoulli", first_draw_from_u)
    encoded = tokenizer(text)
    assert encoded["input_ids"] == wp.encode(text, wp.tiny_vocab())[1]
    batch = collator([encoded])
    labels = batch["labels"][0]
    return [int(i) for i in torch.nonzero(labels != -100).flatten()], seen[0][0]


@pytest.mark.parametrize("seed", range(8))
def test_bernoulli_rule_is_hugging_faces_collator(monkeypatch, seed):
    torch = require("torch")
    candidates = len(wp.tokenize(BASIC, wp.tiny_vocab())) - 2
    u = np.random.default_rng(seed).random(candidates)  # the documented draws, one per candidate
    independent = [p for p, x in enumerate(u, 1) if x < 0.15]
    if not independent:  # nothing to predict: refused, as HF would give a loss over no label
        with pytest.raises(InputError, match="chooses none"):
            derive("masked-lm", text=BASIC, seed=seed, rule="bernoulli")
        return
    answers = derive("masked-lm", text=BASIC, seed=seed, rule="bernoulli").answers
    theirs, probabilities = _hf_bernoulli_choice(torch, monkeypatch, BASIC, [float(x) for x in u])
    assert answers["chosen"] == independent == theirs
    np.testing.assert_allclose(probabilities.numpy(), [0, *[0.15] * candidates, 0], rtol=1e-6)


def test_bernoulli_count_varies_and_a_fixed_count_is_a_named_mistake():
    counts = {
        len(derive("masked-lm", text=BASIC, seed=s, rule="bernoulli").answers["chosen"]) for s in (3, 4, 5, 7)
    }
    assert len(counts) > 1
    options = {"text": BASIC, "seed": 3, "rule": "bernoulli"}
    values = prepare(TOPIC, options).values
    u = np.array(values["u"], dtype=float)
    fixed = sorted(int(i) + 1 for i in np.argsort(u)[:2])  # BERT's count, 2 of 14 tokens
    assert fixed != derive("masked-lm", **options).answers["chosen"]
    report = check.check(TOPIC, options, ["chosen=" + " ".join(map(str, fixed))])
    assert report.item("chosen").mistake == "fixed-count"


def test_bernoulli_seed_that_chooses_nothing_is_refused(cli):
    seeds = [s for s in range(50) if all(x >= 0.15 for x in np.random.default_rng(s).random(1))]
    code, out, err = cli("masked-lm", "--text", "the", "--rule", "bernoulli", "--seed", str(seeds[0]))
    assert code == 2 and out == "" and "--seed" in err and len(err.strip().splitlines()) == 1


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
        (["--text", "the man", "--rule", "random"], "--rule"),
        (["--text", "the man", "--max-predictions", "0"], "--max-predictions"),
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
