"""Every public function of derive.exact against its NumPy twin in derive.forward, on random inputs.

One table, ``CASES``: each row names an exact function, makes seeded random small rational inputs,
and gives the numeric reference, a derive.forward function or, where forward has no twin, an
independent NumPy expression written here (never a copy of the exact function). To add a function,
append a ``Case`` in the section of its module (a module tested in its own tests/test_exact_*.py
file counts when that file calls the function as ``module.name(...)``). ``test_every_exact_function_has_a_case`` fails when a
public name of derive.exact has no row.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import derive.exact
import derive.exact.gradients
from derive import forward
from derive.forward import gradients as np_gradients

SEEDS = range(5)


@dataclass(frozen=True)
class Case:
    """``exact(**inputs)`` must equal ``reference(**numeric(inputs))``, entry by entry."""

    function: str  # "module.name" under derive.exact, e.g. "softmax.softmax"
    inputs: Callable[[np.random.Generator], dict]  # exact inputs: sp.Matrix, sp.Rational, int, bool, ...
    reference: Callable[..., object]  # the same arguments as floats (matrices as float64 arrays)
    exact: Callable[..., object] | None = None  # how to call it, when not function(**inputs)
    name: str = ""  # distinguishes several rows of one function


# --- random exact inputs ------------------------------------------------------------------------------


def rational(rng, low=-4, high=4, denominators=(1, 1, 2, 3, 4)) -> sp.Rational:
    return sp.Rational(int(rng.integers(low, high + 1)), int(rng.choice(denominators)))


def matrix(rng, rows, cols, **kwargs) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: rational(rng, **kwargs))


def positive(rng) -> sp.Rational:
    return sp.Rational(int(rng.integers(1, 5)), int(rng.integers(1, 4)))


def random_mask(rng, rows, cols) -> list[list[bool]]:
    """True where allowed, with at least one allowed entry per row."""
    mask = rng.random((rows, cols)) < 0.7
    mask[np.arange(rows), rng.integers(0, cols, rows)] = True
    return mask.tolist()


def shape(rng, low=1, high=4) -> tuple[int, int]:
    return int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1))


# --- conversion and comparison ------------------------------------------------------------------------


def numeric(value):
    """Exact values as floats: matrices become float64 arrays, SymPy numbers floats."""
    if isinstance(value, sp.MatrixBase):
        return np.array(value.evalf(30).tolist(), dtype=float).reshape(value.shape)
    if isinstance(value, sp.Basic):
        return float(sp.N(value, 30))
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], sp.MatrixBase):
        return [numeric(v) for v in value]
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], sp.Basic):
        return np.array([numeric(v) for v in value])
    return value


def assert_same(exact, reference, where: str) -> None:
    if isinstance(reference, dict):
        for key, ref in reference.items():
            assert_same(exact[key], ref, f"{where}[{key!r}]")
        return
    if isinstance(reference, (tuple, list)) and reference and isinstance(reference[0], np.ndarray):
        assert len(exact) == len(reference), where
        for i, (e, r) in enumerate(zip(exact, reference)):
            assert_same(e, r, f"{where}[{i}]")
        return
    got = numeric(exact)
    expected = np.asarray(reference)
    if expected.dtype == bool:
        assert np.array_equal(np.asarray(got, dtype=bool), expected), where
        return
    got = np.asarray(got, dtype=float)
    assert got.shape == expected.shape, f"{where}: shape {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=where)


# --- derive.exact.softmax ---------------------------------------------------------------------------


def _logits(rng):
    return {"z": matrix(rng, *shape(rng))}


def _logits_mask(rng, columns: bool = False):
    """Every row (every column with ``columns``) keeps at least one entry."""
    rows, cols = shape(rng)
    mask = np.array(random_mask(rng, cols, rows)).T.tolist() if columns else random_mask(rng, rows, cols)
    return {"z": matrix(rng, rows, cols), "mask": mask}


def _np_masked_softmax(z, mask, axis=-1):
    return forward.softmax(np.where(mask, z, -np.inf), axis=axis)


CASES = [
    Case("softmax.row_max", lambda rng: {"row": list(matrix(rng, 1, 5))}, lambda row: np.max(row)),
    Case(
        "softmax.apply_temperature",
        lambda rng: {"z": matrix(rng, *shape(rng)), "temperature": positive(rng)},
        lambda z, temperature: z / temperature,
    ),
    Case("softmax.exponentials", _logits, lambda z: np.exp(z)),
    Case(
        "softmax.row_sums",
        lambda rng: {"e": matrix(rng, *shape(rng), low=0)},
        lambda e: e.sum(axis=1, keepdims=True),
    ),
    Case("softmax.softmax", _logits, lambda z: forward.softmax(z)),
    Case(
        "softmax.softmax",
        lambda rng: {**_logits(rng), "temperature": positive(rng)},
        lambda z, temperature: forward.softmax(z, temperature=temperature),
        name="temperature",
    ),
    Case("softmax.softmax", _logits_mask, _np_masked_softmax, name="mask"),
    Case(
        "softmax.softmax",
        lambda rng: {**_logits_mask(rng, columns=True), "axis": 0},
        lambda z, mask, axis: _np_masked_softmax(z, mask, axis=0),
        name="columns",
    ),
    Case(
        "softmax.unnormalised",
        _logits_mask,
        lambda z, mask: np.where(mask, np.exp(z), 0.0),
    ),
    Case("softmax.stable_softmax", _logits, lambda z: forward.softmax(z)),
    Case(
        "softmax.stable_softmax",
        lambda rng: {**_logits(rng), "temperature": positive(rng)},
        lambda z, temperature: forward.softmax(z, temperature=temperature),
        name="temperature",
    ),
]


# --- derive.exact.attention ---------------------------------------------------------------------------


def _qkv(rng, mask: bool = False):
    n, d_k = shape(rng)
    out = {"q": matrix(rng, n, d_k), "k": matrix(rng, n, d_k), "v": matrix(rng, n, int(rng.integers(1, 4)))}
    if mask:
        out["mask"] = random_mask(rng, n, n)
    return out


def _mask_sizes(rng):
    n = int(rng.integers(1, 6))
    return {"n": n, "n_keys": n + int(rng.integers(0, 3))}


def _allowed_inputs(rng):
    n_q, n_k = shape(rng, 1, 5)
    keep = [int(b) for b in rng.random(n_k) < 0.7]
    return {"n_q": n_q, "n_k": n_k, "attention_mask": keep, "causal": bool(rng.random() < 0.5)}


def _np_allowed(n_q, n_k, attention_mask, causal):
    allowed = forward.allowed_keys(n_q, n_k, np.array(attention_mask), causal=causal)
    return np.broadcast_to(allowed, allowed.shape[:-2] + (n_q, n_k)).reshape(-1, n_q, n_k)[0]


def _heads_inputs(rng, interleaved=False):
    heads, d_head, n = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    width = heads * d_head
    out = {name: matrix(rng, n, width) for name in ("q", "k", "v")}
    out.update(heads=heads, mask=random_mask(rng, n, n) if rng.random() < 0.5 else None)
    if interleaved:
        out["interleaved"] = True
    return out


def _np_multi_head(q, k, v, heads, mask, interleaved=False):
    """Head by head through forward.scaled_dot_product_attention on NumPy column slices."""
    d_k = q.shape[1] // heads
    parts = {"scores": [], "weights": [], "heads": []}
    for i in range(heads):
        cols = slice(i, None, heads) if interleaved else slice(i * d_k, (i + 1) * d_k)
        output, weights = forward.scaled_dot_product_attention(
            q[:, cols], k[:, cols], v[:, cols], None if mask is None else np.array(mask)
        )
        parts["scores"].append(q[:, cols] @ k[:, cols].T)
        parts["weights"].append(weights)
        parts["heads"].append(output)
    out = {name: np.vstack(mats) for name, mats in parts.items()}
    out["concat"] = np.hstack(parts["heads"])
    return out


CASES += [
    Case("attention.causal_mask", _mask_sizes, forward.causal_mask),
    Case(
        "attention.padding_mask",
        lambda rng: {"n": int(rng.integers(1, 4)), "keep": [int(b) for b in rng.random(4) < 0.6]},
        lambda n, keep: np.broadcast_to(np.array(keep, dtype=bool), (n, len(keep))),
    ),
    Case("attention.allowed_keys", _allowed_inputs, _np_allowed),
    Case(
        "attention.allowed_keys",
        lambda rng: {"n_q": 3, "n_k": 3},
        lambda n_q, n_k: forward.allowed_keys(n_q, n_k) is None,
        exact=lambda n_q, n_k: derive.exact.attention.allowed_keys(n_q, n_k) is None,
        name="none",
    ),
    Case(
        "attention.scores",
        lambda rng: {key: value for key, value in _qkv(rng).items() if key != "v"},
        lambda q, k: q @ k.T,
    ),
    Case(
        "attention.scale",
        lambda rng: {"s": matrix(rng, *shape(rng)), "d_k": int(rng.integers(1, 9))},
        lambda s, d_k: s / math.sqrt(d_k),
    ),
    Case("attention.masked_softmax", _logits_mask, _np_masked_softmax),
    Case(
        "attention.weighted_values",
        lambda rng: {
            "weights": derive.exact.softmax.softmax(matrix(rng, 3, 3), mask=random_mask(rng, 3, 3)),
            "values": matrix(rng, 3, 2),
        },
        lambda weights, values: weights @ values,
    ),
    Case(
        "attention.scaled_dot_product_attention", lambda rng: _qkv(rng), forward.scaled_dot_product_attention
    ),
    Case(
        "attention.scaled_dot_product_attention",
        lambda rng: _qkv(rng, mask=True),
        lambda q, k, v, mask: forward.scaled_dot_product_attention(q, k, v, np.array(mask)),
        name="mask",
    ),
    Case(
        "attention.head_slice",
        lambda rng: {"matrix": matrix(rng, 3, 6), "i": int(rng.integers(0, 3)), "heads": 3},
        lambda matrix, i, heads: forward.MultiHeadAttention(matrix, matrix, matrix, None, heads).head_weights(
            i
        )[0],
    ),
    Case(
        "attention.head_columns",
        lambda rng: {
            "i": int(rng.integers(0, 3)),
            "d_head": 2,
            "heads": 3,
            "interleaved": bool(rng.random() < 0.5),
        },
        lambda i, d_head, heads, interleaved: np.arange(d_head * heads).reshape(
            (d_head, heads) if interleaved else (heads, d_head)
        )[(slice(None), i) if interleaved else (i, slice(None))],
    ),
    Case(
        "attention.unstack_heads",
        lambda rng: {"stacked": matrix(rng, 6, 2), "heads": 3},
        lambda stacked, heads: list(np.split(stacked, heads, axis=0)),
    ),
    Case(
        "attention.concat_heads",
        lambda rng: {"outputs": [matrix(rng, 2, 2) for _ in range(3)]},
        lambda outputs: np.hstack(outputs),
    ),
    Case("attention.multi_head_attention", _heads_inputs, _np_multi_head),
    Case(
        "attention.multi_head_attention",
        lambda rng: _heads_inputs(rng, interleaved=True),
        _np_multi_head,
        name="interleaved",
    ),
]


# --- derive.exact.positional (the rest is in tests/test_exact_positional.py) ---------------------


def _angle_table(rng):
    return {
        "angle_table": matrix(rng, *shape(rng)),
        "layout": str(rng.choice(["interleaved", "concatenated"])),
    }


def _np_encode(angle_table, layout):
    sines, cosines = np.sin(angle_table), np.cos(angle_table)  # (P, d/2) each
    if layout == "concatenated":
        return np.concatenate([sines, cosines], axis=1)  # (P, d)
    return np.stack([sines, cosines], axis=2).reshape(len(angle_table), -1)  # (P, d) sin, cos, sin, ...


def _np_dimension(pair, cosine, pairs, layout):
    columns = np.arange(2 * pairs)
    if layout == "concatenated":
        return columns.reshape(2, pairs)[int(cosine), pair]
    return columns.reshape(pairs, 2)[pair, int(cosine)]


CASES += [
    Case("positional.encode_angles", _angle_table, _np_encode),
    Case(
        "positional.dimension_of",
        lambda rng: {
            "pair": int(rng.integers(0, 3)),
            "cosine": bool(rng.random() < 0.5),
            "pairs": 3,
            "layout": str(rng.choice(["interleaved", "concatenated"])),
        },
        _np_dimension,
    ),
    Case(
        "positional.shift_block",
        lambda rng: {"angle": rational(rng), "a": rational(rng)},
        lambda angle, a: np.array([[np.sin(a + angle)], [np.cos(a + angle)]]),
        exact=lambda angle, a: _function("positional.shift_block")(angle) * sp.Matrix([sp.sin(a), sp.cos(a)]),
    ),
]


# --- derive.exact.norms, activations and linear (precision is in tests/test_exact_precision.py) --------


def _rows(rng, low=2):
    """A matrix of tokens as rows whose rows are not constant (so that the variance is not 0)."""
    rows, cols = int(rng.integers(1, 4)), int(rng.integers(low, 6))
    while True:
        x = matrix(rng, rows, cols)
        if all(len(set(x.row(r))) > 1 for r in range(rows)):
            return x


def _with_roots(rng):
    """Rows that already hold roots and exponentials, as deep inside a layer; ε may be 0."""
    x = _rows(rng)
    x[0, 0] = sp.sqrt(2) + sp.exp(rational(rng)) / 3
    return {"m": x, "eps": sp.Rational(int(rng.integers(0, 3)), 1000)}


def _norm_inputs(rng, affine=True):
    x = _rows(rng)
    out = {"x": x, "eps": rng.choice([sp.Integer(0), sp.Rational(1, 100000), sp.Rational(1, 10)])}
    if affine:
        out.update(gamma=matrix(rng, 1, x.cols), beta=matrix(rng, 1, x.cols))
    return out


def _standardise_inputs(rng):
    x = _rows(rng)
    return {
        "x": x,
        "mean": matrix(rng, x.rows, 1),
        "variance": matrix(rng, x.rows, 1, low=1),
        "eps": positive(rng) / 100,
    }


def _np_layer_norm_trace(x, gamma, beta, eps):
    trace: dict = {}
    forward.layer_norm(x, gamma[0], beta[0], eps, trace=trace)
    return trace


def _exact_layer_norm_trace(**inputs):
    trace: dict = {}
    _function("norms.layer_norm")(**inputs, trace=trace)
    return trace


def _carried_statistics(m):
    rows, means, variances = _function("norms.carried_row_statistics")(m)
    return {"rows": sp.Matrix(rows), "means": sp.Matrix([means]), "variances": sp.Matrix([variances])}


def _np_statistics(m):
    mean = m.mean(axis=1)
    return {"rows": m, "means": mean[None, :], "variances": ((m - mean[:, None]) ** 2).mean(axis=1)[None, :]}


def _entries(rng):
    return {"value": matrix(rng, *shape(rng))}


def _linear_inputs(rng, bias=True):
    n, d = shape(rng)
    out = int(rng.integers(1, 5))
    return {"x": matrix(rng, n, d), "W": matrix(rng, d, out), "b": matrix(rng, 1, out) if bias else None}


CASES += [
    Case("norms.mean", lambda rng: {"x": _rows(rng)}, lambda x: x.mean(axis=1, keepdims=True)),
    Case(
        "norms.variance",
        lambda rng: {"x": (x := _rows(rng)), "mean": matrix(rng, x.rows, 1), "ddof": int(rng.integers(0, 2))},
        lambda x, mean, ddof: ((x - mean) ** 2).sum(axis=1, keepdims=True) / (x.shape[1] - ddof),
    ),
    Case(
        "norms.standardise",
        _standardise_inputs,
        lambda x, mean, variance, eps: (x - mean) / np.sqrt(variance + eps),
    ),
    Case(
        "norms.standardise_by_std",
        _standardise_inputs,
        lambda x, mean, variance, eps: (x - mean) / (np.sqrt(variance) + eps),
    ),
    Case(
        "norms.scale_shift",
        lambda rng: {
            "normed": (x := _rows(rng)),
            "gamma": matrix(rng, 1, x.cols),
            "beta": matrix(rng, 1, x.cols),
        },
        lambda normed, gamma, beta: normed * gamma + beta,
    ),
    Case(
        "norms.layer_norm",
        _norm_inputs,
        lambda x, gamma, beta, eps: forward.layer_norm(x, gamma[0], beta[0], eps),
    ),
    Case(
        "norms.layer_norm",
        lambda rng: _norm_inputs(rng, affine=False),
        lambda x, eps: forward.layer_norm(x, eps=eps),
        name="no-affine",
    ),
    Case("norms.layer_norm", _norm_inputs, _np_layer_norm_trace, exact=_exact_layer_norm_trace, name="trace"),
    Case(
        "norms.rms",
        lambda rng: _norm_inputs(rng, affine=False),
        lambda x, eps: np.sqrt((x * x).mean(axis=1, keepdims=True) + eps),
    ),
    Case(
        "norms.rms_norm",
        lambda rng: {key: v for key, v in _norm_inputs(rng).items() if key != "beta"},
        lambda x, gamma, eps: forward.rms_norm(x, gamma[0], eps),
    ),
    Case(
        "norms.rms_norm",
        lambda rng: _norm_inputs(rng, affine=False),
        lambda x, eps: forward.rms_norm(x, eps=eps),
        name="no-gamma",
    ),
    Case(
        "norms.carried_row_statistics",
        lambda rng: {"m": _with_roots(rng)["m"]},
        _np_statistics,
        exact=_carried_statistics,
    ),
    Case(
        "norms.carried_layer_norm",
        _with_roots,
        lambda m, eps: forward.layer_norm(m, eps=eps),
    ),
    Case("activations.relu", _entries, lambda value: forward.relu(value)),
    Case("activations.gelu", _entries, lambda value: forward.gelu(value)),
    Case("activations.gelu_tanh", _entries, lambda value: forward.gelu_tanh(value)),
    Case("activations.silu", _entries, lambda value: forward.silu(value)),
    Case(
        "activations.gelu",
        lambda rng: {"value": rational(rng)},
        lambda value: forward.gelu(np.float64(value)),
        name="scalar",
    ),
    Case(
        "activations.swiglu",
        lambda rng: {"gate": (g := matrix(rng, *shape(rng))), "up": matrix(rng, g.rows, g.cols)},
        forward.swiglu,
    ),
    Case("linear.linear", _linear_inputs, forward.linear),
    Case(
        "linear.linear",
        lambda rng: _linear_inputs(rng, bias=False),
        lambda x, W, b: forward.linear(x, W),
        name="no-bias",
    ),
    Case(
        "linear.reversed_linear",
        lambda rng: {
            "x": matrix(rng, (d := int(rng.integers(1, 5))), d),
            "W": matrix(rng, d, d),
            "b": matrix(rng, 1, d),
        },
        lambda x, W, b: W @ x + b,
    ),
    Case(
        "linear.add_bias",
        lambda rng: {"y": (y := matrix(rng, *shape(rng))), "b": matrix(rng, 1, y.cols)},
        lambda y, b: y + b,
    ),
]


# --- derive.exact.gradients (torch autograd and finite differences: tests/test_training_gradients.py) ---


def _probabilities(rng, rows=None, cols=None):
    rows, cols = rows or int(rng.integers(1, 4)), cols or int(rng.integers(2, 5))
    return derive.exact.softmax.softmax(matrix(rng, rows, cols))


def _targets(rng):
    p = _probabilities(rng)
    targets = [int(t) for t in rng.integers(0, p.cols, p.rows)]
    y = derive.exact.gradients.smoothed_targets(targets, p.cols, rng.choice([0, sp.Rational(1, 10)]))
    return {"p": p, "y": y}


def _backward_scores(rng):
    n, d_k = shape(rng)
    return {"grad_scores": matrix(rng, n, n), "d_k": d_k}


CASES += [
    Case(
        "gradients.smoothed_targets",
        lambda rng: {
            "targets": [int(t) for t in rng.integers(0, 4, 3)],
            "classes": 4,
            "smoothing": rational(rng, 0, 1, (1, 2, 5, 10)),
        },
        np_gradients.smoothed_targets,
    ),
    Case("gradients.cross_entropy", _targets, np_gradients.cross_entropy),
    Case("gradients.cross_entropy_gradient", _targets, np_gradients.cross_entropy_gradient),
    Case(
        "gradients.softmax_jacobian",
        lambda rng: {"p": _probabilities(rng, rows=1)},
        np_gradients.softmax_jacobian,
    ),
    Case(
        "gradients.softmax_backward",
        lambda rng: {"p": (p := _probabilities(rng)), "grad_p": matrix(rng, p.rows, p.cols)},
        np_gradients.softmax_backward,
    ),
    Case(
        "gradients.value_gradient",
        lambda rng: {"weights": _probabilities(rng, 3, 3), "grad_output": matrix(rng, 3, 2)},
        np_gradients.value_gradient,
    ),
    Case(
        "gradients.weights_gradient",
        lambda rng: {"grad_output": matrix(rng, 3, 2), "values": matrix(rng, 3, 2)},
        np_gradients.weights_gradient,
    ),
    Case(
        "gradients.query_gradient",
        lambda rng: {**(s := _backward_scores(rng)), "keys": matrix(rng, s["grad_scores"].rows, s["d_k"])},
        np_gradients.query_gradient,
    ),
    Case(
        "gradients.key_gradient",
        lambda rng: {**(s := _backward_scores(rng)), "queries": matrix(rng, s["grad_scores"].rows, s["d_k"])},
        np_gradients.key_gradient,
    ),
    Case(
        "gradients.beta_gradient",
        lambda rng: {"grad_output": matrix(rng, *shape(rng))},
        np_gradients.beta_gradient,
    ),
    Case(
        "gradients.gamma_gradient",
        lambda rng: {"grad_output": (g := matrix(rng, *shape(rng))), "normed": matrix(rng, g.rows, g.cols)},
        np_gradients.gamma_gradient,
    ),
    Case(
        "gradients.layer_norm_input_gradient",
        lambda rng: {
            "grad_output": (g := matrix(rng, *shape(rng))),
            "normed": matrix(rng, g.rows, g.cols),
            "variance": matrix(rng, g.rows, 1, low=0),
            "gamma": matrix(rng, 1, g.cols),
            "eps": positive(rng) / 100,
        },
        np_gradients.layer_norm_input_gradient,
    ),
]


# --- derive.exact.optim (torch.optim itself is in tests/test_optimizer_step.py) -------------------------


def _pair(rng):
    rows, cols = shape(rng)
    return {"params": matrix(rng, rows, cols), "grad": matrix(rng, rows, cols)}


def _moment_inputs(rng, name):
    rows, cols = shape(rng)
    return {name: matrix(rng, rows, cols, low=0), "grad": matrix(rng, rows, cols)}


CASES += [
    Case(
        "optim.l2_gradient",
        lambda rng: {**_pair(rng), "weight_decay": positive(rng) / 10},
        lambda grad, params, weight_decay: grad + weight_decay * params,
    ),
    Case(
        "optim.momentum_buffer",
        lambda rng: {
            "buffer": matrix(rng, 2, 3),
            "grad": matrix(rng, 2, 3),
            "momentum": positive(rng) / 5,
            "dampening": sp.Rational(int(rng.integers(0, 3)), 4),
        },
        lambda buffer, grad, momentum, dampening: momentum * buffer + (1 - dampening) * grad,
    ),
    Case(
        "optim.momentum_buffer",
        lambda rng: {"buffer": None, "grad": matrix(rng, 2, 3), "momentum": positive(rng) / 5},
        lambda buffer, grad, momentum: grad,
        name="first-step",
    ),
    Case(
        "optim.first_moment",
        lambda rng: {**_moment_inputs(rng, "m"), "beta1": sp.Rational(int(rng.integers(0, 10)), 10)},
        lambda m, grad, beta1: beta1 * m + (1 - beta1) * grad,
    ),
    Case(
        "optim.second_moment",
        lambda rng: {**_moment_inputs(rng, "v"), "beta2": sp.Rational(int(rng.integers(900, 1000)), 1000)},
        lambda v, grad, beta2: beta2 * v + (1 - beta2) * np.square(grad),
    ),
    Case(
        "optim.bias_correct",
        lambda rng: {
            "moment": matrix(rng, *shape(rng)),
            "beta": sp.Rational(int(rng.integers(1, 10)), 10),
            "step": int(rng.integers(1, 6)),
        },
        lambda moment, beta, step: moment / (1 - np.power(beta, step)),
    ),
    Case(
        "optim.adam_update",
        lambda rng: {
            "m_hat": matrix(rng, 2, 2),
            "v_hat": matrix(rng, 2, 2, low=0),
            "lr": positive(rng) / 10,
            "eps": sp.Rational(1, int(rng.choice([10, 1000, 10**8]))),
        },
        lambda m_hat, v_hat, lr, eps: -lr * m_hat / (np.sqrt(v_hat) + eps),
    ),
    Case(
        "optim.decoupled_decay",
        lambda rng: {
            "params": matrix(rng, *shape(rng)),
            "lr": positive(rng) / 10,
            "weight_decay": positive(rng),
        },
        lambda params, lr, weight_decay: -lr * weight_decay * params,
    ),
    Case(
        "optim.sgd_update",
        lambda rng: {"direction": matrix(rng, *shape(rng)), "lr": positive(rng)},
        lambda direction, lr: -lr * direction,
    ),
]


# --- derive.exact.schedules (torch.optim.lr_scheduler itself is in tests/test_lr_schedule.py) ----------


def _decay_inputs(rng):
    total = int(rng.integers(5, 60))
    warmup = int(rng.integers(0, total))
    return {
        "step": int(rng.integers(0, total + 1)),
        "total": total,
        "lr_max": positive(rng) / 100,
        "lr_min": positive(rng) / 1000,
        "warmup": warmup,
    }


def _np_decay(shape_of):
    def reference(step, total, lr_max, lr_min, warmup):
        if step < warmup:
            return lr_max * step / warmup
        done = (step - warmup) / (total - warmup)
        return lr_min + (lr_max - lr_min) * shape_of(done)

    return reference


CASES += [
    Case(
        "schedules.noam",
        lambda rng: {
            "step": int(rng.integers(1, 20000)),
            "d_model": int(rng.choice([64, 512])),
            "warmup": int(rng.choice([10, 4000])),
        },
        lambda step, d_model, warmup: d_model**-0.5 * np.minimum(step**-0.5, step * warmup**-1.5),
    ),
    Case(
        "schedules.warmup_ramp",
        lambda rng: {"step": int(rng.integers(0, 10)), "warmup": 10, "lr_max": positive(rng)},
        lambda step, warmup, lr_max: np.interp(step, [0, warmup], [0, lr_max]),
    ),
    Case(
        "schedules.progress",
        lambda rng: {"step": int(rng.integers(3, 20)), "warmup": 3, "total": 20},
        lambda step, warmup, total: np.interp(step, [warmup, total], [0, 1]),
    ),
    Case("schedules.cosine", _decay_inputs, _np_decay(lambda done: (1 + np.cos(np.pi * done)) / 2)),
    Case("schedules.linear", _decay_inputs, _np_decay(lambda done: 1 - done)),
]


# --- derive.exact.dynamics (the whole step is in tests/test_particles.py) ------------------------------


def _nonzero_rows(rng):
    """Tokens with no zero row, so that each has a direction."""
    while True:
        x = matrix(rng, int(rng.integers(1, 4)), int(rng.integers(2, 4)))
        if all(any(e != 0 for e in x.row(r)) for r in range(x.rows)):
            return x


def _unit_and_push(rng):
    x = _nonzero_rows(rng)
    return {"x": derive.exact.dynamics.normalise_rows(x), "y": matrix(rng, x.rows, x.cols)}


CASES += [
    Case(
        "dynamics.normalise_rows",
        lambda rng: {"x": _nonzero_rows(rng)},
        lambda x: x / np.linalg.norm(x, axis=1, keepdims=True),
    ),
    Case(
        "dynamics.tangent_projection",
        _unit_and_push,
        lambda x, y: y - np.einsum("nd,nd->n", x, y)[:, None] * x,
    ),
    Case(
        "dynamics.euler_step",
        lambda rng: {**_unit_and_push(rng), "dt": positive(rng) / 4},
        lambda x, y, dt: (x + dt * y) / np.linalg.norm(x + dt * y, axis=1, keepdims=True),
        exact=lambda x, y, dt: derive.exact.dynamics.euler_step(x, y, dt),
    ),
]


# --- the harness ------------------------------------------------------------------------------------


def _function(dotted: str):
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(f"derive.exact.{module}"), name)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.function + (f"-{c.name}" if c.name else ""))
def test_exact_matches_its_numpy_twin(case, seed):
    inputs = case.inputs(np.random.default_rng(seed))
    exact = case.exact(**inputs) if case.exact else _function(case.function)(**inputs)
    reference = case.reference(**{key: numeric(value) for key, value in inputs.items()})
    assert_same(exact, reference, f"{case.function} seed {seed}")


def _public_functions():
    names = set()
    for info in pkgutil.iter_modules(derive.exact.__path__):
        module = importlib.import_module(f"derive.exact.{info.name}")
        for name, value in vars(module).items():
            if (
                not name.startswith("_")
                and callable(value)
                and getattr(value, "__module__", "") == module.__name__
            ):
                names.add(f"{info.name}.{name}")
    return names


def _called_in_sibling_tests() -> set[str]:
    """``module.name(`` calls in tests/test_exact_*.py, whose own tests compare with NumPy."""
    called = set()
    for path in Path(__file__).parent.glob("test_exact_*.py"):
        called |= {f"{m}.{n}" for m, n in re.findall(r"\b([a-z_]+)\.([a-z_0-9]+)\(", path.read_text())}
    return called


def test_every_exact_function_has_a_case():
    covered = {case.function for case in CASES} | _called_in_sibling_tests()
    missing = _public_functions() - covered
    assert not missing, f"derive.exact functions without a row in CASES: {sorted(missing)}"


def test_the_twins_disagree_on_a_wrong_answer():
    """The comparison can fail: a softmax along the wrong axis is caught."""
    z = sp.Matrix([[1, 2], [3, 5]])
    with pytest.raises(AssertionError):
        assert_same(derive.exact.softmax.softmax(z, axis=0), forward.softmax(numeric(z)), "wrong axis")
