"""The training topics' gradients against PyTorch autograd (float64) and central finite differences.

Expected values never come from derive.exact: torch differentiates its own forward pass, and the
finite differences perturb an independent NumPy forward pass. The exact answers are the topics' own
(run through derive.api), so a wrong sign, a missing 1/N or 1/√d_k fails here.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import registry
from derive.api import parse_options
from derive.model import run

SEEDS = range(4)
H = 1e-6


def _answers(topic_name: str, raw: dict) -> dict:
    topic = registry.get(topic_name)
    answers = run(topic, topic.prepare(parse_options(topic, raw))).answers
    return {
        name: np.array(
            sp.N(value, 30).tolist() if isinstance(value, sp.MatrixBase) else sp.N(value, 30), dtype=float
        )
        for name, value in answers.items()
    }


def _matrix_text(m: np.ndarray) -> str:
    return "; ".join(" ".join(str(int(e)) for e in row) for row in m)


def central_difference(f, x: np.ndarray) -> np.ndarray:
    """∂f/∂x entry by entry: (f(x + h) − f(x − h)) / 2h for a scalar function f."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += H
        down[index] -= H
        grad[index] = (f(up) - f(down)) / (2 * H)
    return grad


def _np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- cross-entropy --------------------------------------------------------------------------------


def _cross_entropy_case(seed):
    rng = np.random.default_rng(seed)
    n, classes = int(rng.integers(1, 4)), int(rng.integers(2, 6))
    z = rng.integers(-3, 4, (n, classes))
    targets = rng.integers(1, classes + 1, n)
    smoothing = [0.0, 0.1, 0.25][seed % 3]
    raw = {
        "logits": _matrix_text(z),
        "target": " ".join(map(str, targets)),
        "label_smoothing": str(smoothing),
    }
    return z.astype(float), targets - 1, smoothing, raw


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_matches_torch_autograd(seed):
    torch = require("torch")
    z, targets, smoothing, raw = _cross_entropy_case(seed)
    logits = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(targets), label_smoothing=smoothing)
    loss.backward()
    got = _answers("cross-entropy", raw)
    np.testing.assert_allclose(got["loss"], loss.item(), rtol=1e-12)
    np.testing.assert_allclose(got["softmax"], torch.softmax(logits, -1).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["gradient"], logits.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_gradient_matches_finite_differences(seed):
    z, targets, smoothing, raw = _cross_entropy_case(seed)
    classes = z.shape[1]
    y = np.full(z.shape, smoothing / classes)
    y[np.arange(len(targets)), targets] += 1 - smoothing

    def loss(logits):
        return float(np.mean(-(y * np.log(_np_softmax(logits))).sum(axis=1)))

    got = _answers("cross-entropy", raw)
    np.testing.assert_allclose(got["loss"], loss(z), rtol=1e-12)
    np.testing.assert_allclose(got["gradient"], central_difference(loss, z), atol=1e-8)


def test_cross_entropy_sign_flip_is_named():
    from derive import check

    topic = registry.get("cross-entropy")
    report = check.check(topic, {"logits": "2 1 0", "target": "1"}, ["gradient=0.3348 -0.2447 -0.0900"])
    assert report.item("gradient").mistake == "sign-flipped"


# --- softmax-jacobian -----------------------------------------------------------------------------


def _logit_row(seed):
    rng = np.random.default_rng(seed)
    z = rng.integers(-3, 4, int(rng.integers(2, 7))).astype(float)
    return z, {"x": " ".join(str(int(e)) for e in z)}


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_jacobian_matches_torch_autograd(seed):
    torch = require("torch")
    z, raw = _logit_row(seed)
    theirs = torch.autograd.functional.jacobian(
        lambda t: torch.softmax(t, dim=-1), torch.tensor(z, dtype=torch.float64)
    )
    got = _answers("softmax-jacobian", raw)
    np.testing.assert_allclose(got["jacobian"], theirs.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_jacobian_matches_finite_differences(seed):
    z, raw = _logit_row(seed)
    columns = [central_difference(lambda t, i=i: _np_softmax(t)[i], z) for i in range(len(z))]
    got = _answers("softmax-jacobian", raw)
    np.testing.assert_allclose(got["jacobian"], np.array(columns), atol=1e-8)
    np.testing.assert_allclose(got["jacobian"].sum(axis=1), 0, atol=1e-12)


def test_softmax_jacobian_without_the_diagonal_term_is_named():
    from derive import check

    p = _np_softmax(np.array([0.0, 1.0]))
    wrong = -np.outer(p, p)
    text = "; ".join(" ".join(f"{e:.6f}" for e in row) for row in wrong)
    report = check.check(registry.get("softmax-jacobian"), {"x": "0 1"}, [f"jacobian={text}"])
    assert report.item("jacobian").mistake == "no-diagonal-term"


# --- attention-backward ---------------------------------------------------------------------------


def _attention_case(seed):
    rng = np.random.default_rng(seed)
    n, d_k, d_v = int(rng.integers(2, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
    q, k = rng.integers(-2, 3, (n, d_k)), rng.integers(-2, 3, (n, d_k))
    v, grad = rng.integers(-2, 3, (n, d_v)), rng.integers(-2, 3, (n, d_v))
    causal = bool(seed % 2)
    raw = {
        "q": _matrix_text(q),
        "k": _matrix_text(k),
        "v": _matrix_text(v),
        "grad_output": _matrix_text(grad),
        "mask": "causal" if causal else "none",
    }
    return [m.astype(float) for m in (q, k, v, grad)], causal, raw


def _np_attention(q, k, v, causal):
    scores = q @ k.T / np.sqrt(q.shape[1])
    if causal:
        scores = np.where(np.tri(len(q), dtype=bool), scores, -np.inf)
    return _np_softmax(scores) @ v


@pytest.mark.parametrize("seed", SEEDS)
def test_attention_backward_matches_torch_autograd(seed):
    torch = require("torch")
    (q, k, v, grad), causal, raw = _attention_case(seed)
    tq, tk, tv = (torch.tensor(m, dtype=torch.float64, requires_grad=True) for m in (q, k, v))
    scores = tq @ tk.T / np.sqrt(q.shape[1])
    if causal:
        scores = scores.masked_fill(~torch.ones(len(q), len(q), dtype=torch.bool).tril(), float("-inf"))
    scores.retain_grad()
    weights = torch.softmax(scores, dim=-1)
    weights.retain_grad()
    output = weights @ tv
    output.backward(torch.tensor(grad, dtype=torch.float64))
    got = _answers("attention-backward", raw)
    expected = {
        "weights": weights.detach(),
        "output": output.detach(),
        "dV": tv.grad,
        "dweights": weights.grad,
        "dscores": scores.grad,
        "dQ": tq.grad,
        "dK": tk.grad,
    }
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("seed", SEEDS)
def test_attention_backward_matches_finite_differences(seed):
    (q, k, v, grad), causal, raw = _attention_case(seed)
    got = _answers("attention-backward", raw)
    inputs = {"dQ": q, "dK": k, "dV": v}
    for name, x in inputs.items():

        def loss(changed, name=name):
            args = {**{"dQ": q, "dK": k, "dV": v}, name: changed}
            return float((_np_attention(args["dQ"], args["dK"], args["dV"], causal) * grad).sum())

        np.testing.assert_allclose(got[name], central_difference(loss, x), atol=1e-7, err_msg=name)


def _np_attention_mistakes():
    """The basic example's wrong answers, by NumPy: each misconception written out by hand."""
    q = np.array([[2.0, 0, 0, 0], [0, 2, 2, 0]])
    k = np.array([[1.0, 1, 0, 0], [0, 0, 1, 1]])
    v, grad = np.eye(2), np.array([[1.0, -1], [0, 1]])
    weights = _np_softmax(q @ k.T / 2)
    d_weights = grad @ v.T
    d_scores = weights * (d_weights - (weights * d_weights).sum(axis=1, keepdims=True))
    return {
        ("dQ", "no-scale"): d_scores @ k,
        ("dK", "no-scale"): d_scores.T @ q,
        ("dV", "weights-not-transposed"): weights @ grad,
        ("dscores", "jacobian-diagonal-only"): weights * d_weights,
    }


@pytest.mark.parametrize("answer,mistake", list(_np_attention_mistakes()))
def test_attention_backward_misconceptions_are_named(answer, mistake):
    from derive import check

    wrong = _np_attention_mistakes()[answer, mistake]
    text = "; ".join(" ".join(f"{e:.8f}" for e in row) for row in wrong)
    topic = registry.get("attention-backward")
    report = check.check(topic, {}, [f"{answer}={text}"], example="basic")
    assert report.item(answer).mistake == mistake


# --- layer-norm-backward --------------------------------------------------------------------------


def _layer_norm_case(seed):
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(1, 4)), int(rng.integers(2, 5))
    x = rng.integers(-3, 4, (rows, cols))
    x[:, 0] = x[:, 1] + 1  # no constant row
    grad = rng.integers(-2, 3, (rows, cols))
    gamma = rng.choice([1.0, 2.0, -1.0, 0.5], cols)
    eps = [1e-5, 0.1, 0.0, 1e-5][seed % 4]
    raw = {
        "x": _matrix_text(x),
        "grad_output": _matrix_text(grad),
        "gamma": " ".join(str(g) for g in gamma),
        "eps": str(eps),
    }
    return x.astype(float), grad.astype(float), gamma, eps, raw


def _np_layer_norm(x, gamma, eps):
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma


@pytest.mark.parametrize("seed", SEEDS)
def test_layer_norm_backward_matches_torch_autograd(seed):
    torch = require("torch")
    x, grad, gamma, eps, raw = _layer_norm_case(seed)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    weight = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    out = torch.nn.functional.layer_norm(tx, (x.shape[1],), weight, bias, eps)
    out.backward(torch.tensor(grad, dtype=torch.float64))
    got = _answers("layer-norm-backward", raw)
    for name, value in {"dx": tx.grad, "dgamma": weight.grad, "dbeta": bias.grad}.items():
        np.testing.assert_allclose(
            np.reshape(got[name], value.shape), value.numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )


@pytest.mark.parametrize("seed", SEEDS)
def test_layer_norm_backward_matches_finite_differences(seed):
    x, grad, gamma, eps, raw = _layer_norm_case(seed)
    got = _answers("layer-norm-backward", raw)
    dx = central_difference(lambda t: float((_np_layer_norm(t, gamma, eps) * grad).sum()), x)
    dgamma = central_difference(lambda g: float((_np_layer_norm(x, g, eps) * grad).sum()), gamma)
    np.testing.assert_allclose(np.reshape(got["dx"], x.shape), dx, atol=1e-6)
    np.testing.assert_allclose(np.reshape(got["dgamma"], gamma.shape), dgamma, atol=1e-6)
    np.testing.assert_allclose(np.reshape(got["dbeta"], (-1,)), grad.sum(axis=0), atol=1e-12)


def test_layer_norm_backward_direct_path_only_is_named():
    from derive import check

    x, grad = np.array([[1.0, 2, 3]]), np.array([[1.0, 0, 0]])
    wrong = grad / np.sqrt(x.var())  # the direct path alone, without the mean's and the divisor's
    text = " ".join(f"{e:.8f}" for e in wrong[0])
    report = check.check(registry.get("layer-norm-backward"), {}, [f"dx={text}"], example="basic")
    assert report.item("dx").mistake == "direct-path-only"


# --- formulas in letters --------------------------------------------------------------------------

A, B, C = sp.symbols("a b c", real=True)
LETTER_CASES = [
    ("cross-entropy", {"logits": "1 -2 3", "target": "2"}, "z", sp.Matrix([[A, B, C]])),
    ("softmax-jacobian", {"x": "1 -2 3"}, "z", sp.Matrix([[A, B, C]])),
    (
        "layer-norm-backward",
        {"x": "1 2 4", "grad_output": "1 -2 3", "eps": "0"},
        "dy",
        sp.Matrix([[A, B, C]]),
    ),
    (
        "attention-backward",
        {"q": "1; -2", "k": "3; 1", "v": "1; 2", "grad_output": "1; 0"},
        "V",
        sp.Matrix([[A], [B]]),
    ),
]


@pytest.mark.parametrize(("name", "raw", "given", "letters"), LETTER_CASES, ids=[c[0] for c in LETTER_CASES])
def test_letters_give_formulas_that_agree_with_the_numbers(name, raw, given, letters):
    """Letters in place of one given: every format renders, and substituting the numbers back gives
    the numeric derivation's answers."""
    import dataclasses

    from derive.render import render

    topic = registry.get(name)
    numeric_givens = topic.prepare(parse_options(topic, raw))
    numbers = dict(zip(letters, numeric_givens.values[given]))
    symbolic = dataclasses.replace(numeric_givens, values={**numeric_givens.values, given: letters})
    derivation = run(topic, symbolic)
    for fmt in ("terminal", "markdown", "latex", "typst", "html", "json"):
        assert render(derivation, fmt)
    expected = run(topic, numeric_givens).answers
    for answer, value in derivation.answers.items():
        back = value.subs(numbers) if isinstance(value, sp.MatrixBase) else sp.sympify(value).subs(numbers)
        np.testing.assert_allclose(
            np.array(
                sp.N(back, 20).tolist() if isinstance(back, sp.MatrixBase) else sp.N(back, 20), dtype=float
            ),
            np.array(
                sp.N(expected[answer], 20).tolist()
                if isinstance(back, sp.MatrixBase)
                else sp.N(expected[answer], 20),
                dtype=float,
            ),
            rtol=1e-12,
            atol=1e-15,
            err_msg=f"{name}.{answer}",
        )


def _rendered(topic_name: str, raw: dict, fmt: str) -> str:
    from derive.render import render

    topic = registry.get(topic_name)
    derivation = run(topic, topic.prepare(parse_options(topic, raw)))
    return render(derivation, fmt, width=80, color=False) if fmt == "terminal" else render(derivation, fmt)


def test_layer_norm_backward_with_a_small_epsilon_says_it_shows_decimals():
    raw = {"x": "1 2 3 4; 2 0 1 1", "grad_output": "1 0 -1 2; 0 1 1 -1", "eps": "1e-5"}
    text = _rendered("layer-norm-backward", raw, "terminal")
    assert "√" not in text  # √138890/1000 and its kin
    assert "given in decimals" in text
    torch = require("torch")
    x = torch.tensor([[1.0, 2, 3, 4], [2, 0, 1, 1]], dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.layer_norm(x, (4,), eps=1e-5)
    y.backward(torch.tensor([[1.0, 0, -1, 2], [0, 1, 1, -1]], dtype=torch.float64))
    np.testing.assert_allclose(_answers("layer-norm-backward", raw)["dx"], x.grad.numpy(), atol=1e-12)


def test_cross_entropy_batch_gradient_has_its_one_over_n_in_front_as_a_fraction():
    text = _rendered("cross-entropy", {"logits": "1 2 3; 0 1 0", "target": "3 1"}, "latex")
    assert r"\frac{1}{2} \begin{bmatrix}" in text
    assert r"\left(\frac{1}{2}\right)" not in text


def test_softmax_jacobian_names_the_normaliser_once():
    text = _rendered("softmax-jacobian", {"x": "1 2 3"}, "latex")
    assert text.count("e^{1} + e^{2} + e^{3}") == 1  # Z defined once, then every entry is over Z
    assert "e + e^{2} + e^{3}" not in text
