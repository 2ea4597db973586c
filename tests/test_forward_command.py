"""`derive forward` on the real MiniLM checkpoint against transformers' BertModel, the checker on its
numbers, and the one-line errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import minilm_dir, require

from derive import check, registry

TEXTS = (
    "The river bank was flooded after the storm.",
    "I deposited money at the bank; the bank's clerk smiled.",
    "Ünïcode, CAPITALS and punctuation!?",
)
EXPLAINED = (("bank", 0, 3), ("flooded", 2, 7), ("[CLS]", 5, 0))
BANK = "The river bank was flooded after the storm."


@pytest.fixture(scope="module")
def hf():
    transformers = require("transformers")
    torch = require("torch")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        model = transformers.BertModel.from_pretrained(minilm_dir(), attn_implementation="eager").eval()
        tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_dir())
    return torch, model, tokenizer


def _answers(cli, *args) -> dict:
    code, out, err = cli("forward", *args, "-f", "json")
    assert code == 0, err
    return {name: answer["value"] for name, answer in json.loads(out)["answers"].items()}


def _real(cli, text, *extra) -> dict:
    return _answers(cli, "--model", str(minilm_dir()), "--text", text, *extra)


@pytest.mark.parametrize("text", TEXTS)
def test_last_hidden_state_and_ids_match_transformers(cli, hf, text):
    torch, model, tokenizer = hf
    answers = _real(cli, text)
    ids = tokenizer(text)["input_ids"]
    assert answers["input_ids"] == ids
    with torch.no_grad():
        theirs = model(torch.tensor([ids])).last_hidden_state[0].numpy()  # (T, 384)
    np.testing.assert_allclose(np.array(answers["last_hidden_state"]), theirs, rtol=0, atol=1e-4)
    for name in ("query", "scores", "scaled", "weights"):
        assert answers[name] == [[]], "without --explain-token there is nothing to grade"


def _reference_step(hf, text, token, layer, head):
    """Query, scores, scaled scores and weights of one token from transformers' own modules."""
    torch, model, tokenizer = hf
    encoded = tokenizer(text)
    position = tokenizer.convert_ids_to_tokens(encoded["input_ids"]).index(token)
    with torch.no_grad():
        out = model(torch.tensor([encoded["input_ids"]]), output_hidden_states=True, output_attentions=True)
        attention = model.encoder.layer[layer].attention.self
        x = out.hidden_states[layer]  # (1, T, C): the input of this layer
        d_k = attention.attention_head_size
        cols = slice(head * d_k, (head + 1) * d_k)
        q = attention.query(x)[0, position, cols].double().numpy()  # (d_k,)
        keys = attention.key(x)[0, :, cols].double().numpy()  # (T, d_k)
        weights = out.attentions[layer][0, head, position].double().numpy()  # (T,)
    scores = keys @ q
    return {"query": q, "scores": scores, "scaled": scores / math.sqrt(d_k), "weights": weights}


@pytest.mark.parametrize("token,layer,head", EXPLAINED)
def test_explained_token_is_a_slice_of_transformers_attention(cli, hf, token, layer, head):
    args = ("--explain-token", token, "--layer", str(layer), "--head", str(head))
    answers = _real(cli, BANK, *args)
    expected = _reference_step(hf, BANK, token, layer, head)
    for name, values in expected.items():
        got = np.array(answers[name])
        assert got.shape == (1, values.size), name
        np.testing.assert_allclose(got[0], values, rtol=1e-4, atol=1e-5, err_msg=name)
    assert abs(sum(answers["weights"][0]) - 1) < 1e-9


def _written(values) -> str:
    return " ".join(f"{v:.4f}" for v in values)


def _options(token="bank", layer=0, head=3):
    return {
        "model": str(minilm_dir()),
        "text": BANK,
        "explain_token": token,
        "layer": str(layer),
        "head": str(head),
    }


def test_check_grades_hand_numbers_from_the_real_model(cli, hf):
    step = _reference_step(hf, BANK, "bank", 0, 3)
    args = ("--model", str(minilm_dir()), "--text", BANK, "--explain-token", "bank", "--layer", "0")
    answers = [f"{name}={_written(step[name])}" for name in ("query", "scores", "scaled", "weights")]
    code, out, err = cli(
        "check", "forward", *args, "--head", "3", *sum((["--answer", a] for a in answers), [])
    )
    assert code == 0, out + err
    wrong = step["weights"].copy()
    wrong[[0, 1]] = wrong[[1, 0]] + 0.01
    code, out, _ = cli("check", "forward", *args, "--head", "3", "--answer", f"weights={_written(wrong)}")
    assert code == 1 and "wrong" in out


def test_check_names_the_missing_scaling(hf):
    step = _reference_step(hf, BANK, "bank", 0, 3)
    unscaled = np.exp(step["scores"] - step["scores"].max())
    unscaled /= unscaled.sum()
    report = check.check(registry.get("forward"), _options(), [f"weights={_written(unscaled)}"])
    assert report.item("weights").verdict == "wrong"
    assert report.item("weights").mistake == "no-scaling"


def test_check_follows_a_wrong_score_through_on_the_toy_model(cli):
    answers = _answers(cli, "--example", "toy")
    doubled = 2 * np.array(answers["scores"][0])
    scaled = doubled / 2  # d_k = 4 in the toy example
    given = [f"scores={_written(doubled)}", f"scaled={_written(scaled)}"]
    report = check.check(registry.get("forward"), {}, given, example="toy")
    assert report.item("scores").verdict == "wrong"
    assert report.item("scaled").verdict == "follows-through"


def test_toy_weights_are_the_softmax_of_the_scaled_scores(cli):
    answers = _answers(cli, "--example", "toy")
    scores = np.array(answers["scores"][0])
    q = np.array(answers["query"][0])
    scaled = scores / math.sqrt(q.size)
    np.testing.assert_allclose(answers["scaled"][0], scaled, rtol=1e-12)
    np.testing.assert_allclose(answers["weights"][0], np.exp(scaled) / np.exp(scaled).sum(), rtol=1e-12)


def test_without_explain_token_the_steps_say_so(cli):
    code, out, err = cli("forward", "--text", "the king bought milk")
    assert code == 0, err
    assert "No token was chosen" in out and "Skipped: no --explain-token was given." in out


def test_real_model_renders_markdown_and_latex(cli):
    for fmt in ("markdown", "latex"):
        code, out, err = cli("forward", "--model", str(minilm_dir()), "--text", BANK, "-f", fmt)
        assert code == 0, err
        assert "Step 8" in out and "[figure" not in out


@pytest.mark.parametrize(
    "args,option,phrase",
    [
        (("--text", BANK, "--explain-token", "banks"), "--explain-token", "'river', 'bank'"),
        (("--text", BANK, "--layer", "6"), "--layer", "numbered 0 to 5"),
        (("--text", BANK, "--head", "12"), "--head", "numbered 0 to 11"),
        (("--text", BANK, "--layers", "3"), "--layers", "config.json"),
        (
            (
                "--text",
                "word " * 130,
            ),
            "--text",
            "at most 128",
        ),
    ],
)
def test_real_model_errors_are_one_line(cli, args, option, phrase):
    code, out, err = cli("forward", "--model", str(minilm_dir()), *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and option in err and phrase in err, err


@pytest.mark.parametrize(
    "args,option",
    [
        (("--text", "hi", "--model", "/no/such/folder"), "--model"),
        (("--text", "hi", "--heads", "5"), "--heads"),
        (("--text", "hi", "--d-model", "300"), "--d-model"),
        (("--text", "hi", "--layers", "13"), "--layers"),
        (("--text", "hi", "--layer", "2"), "--layer"),
        (("--text", "hi", "--explain-token", "bye"), "--explain-token"),
        (("--explain-token", "hi"), "--text"),
    ],
)
def test_toy_model_errors_are_one_line(cli, args, option):
    code, out, err = cli("forward", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and option in err, err
