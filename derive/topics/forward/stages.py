"""The forward topic's stages, in NumPy: the whole pass, then one attention step for one token.

Answers are SymPy Float matrices when hand-sized (a toy model) and NumPy arrays for a real
checkpoint; each compute reads the earlier answers from ``v`` and works in float64 NumPy, so the
checker can follow a student's own numbers through.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from derive import forward

HAND_SIZED = 4096  # entries up to which a toy model's answer is a SymPy matrix


# --- numbers --------------------------------------------------------------------------------------


def _answer(v, array: np.ndarray):
    array = np.asarray(array, dtype=np.float64)
    if v.exact and array.size <= HAND_SIZED:
        return sp.Matrix(array.shape[0], array.shape[1], [sp.Float(float(x)) for x in array.ravel()])
    return array


def _row(v, vector) -> object:
    return _answer(v, np.asarray(vector, dtype=np.float64).reshape(1, -1))


def as_vector(value) -> np.ndarray:
    """Any answer value (SymPy matrix, array or list) as a flat float64 vector."""
    if isinstance(value, sp.MatrixBase):
        return np.array([float(e) for e in value], dtype=np.float64)
    return np.asarray(value, dtype=np.float64).reshape(-1)


def head_rows(v, name: str) -> np.ndarray:
    return v.layers[f"layer{v.layer}.attn.{name}"][0, v.explained_head].astype(np.float64)  # (T, d_k)


def mean_norm(x: np.ndarray) -> float:
    return float(np.linalg.norm(x.reshape(-1, x.shape[-1]), axis=-1).mean())


def entropy(weights: np.ndarray) -> np.ndarray:
    """Bits of each row of attention weights, 0·log 0 taken as 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(weights > 0, weights * np.log2(weights), 0.0)
    return -terms.sum(axis=-1)


# --- stages ---------------------------------------------------------------------------------------


def run_layers(v):
    """The whole forward pass, every intermediate tensor recorded under its dotted name."""
    trace: dict = {}
    v.model(np.asarray([v.input_ids]), trace=trace)  # (1, T, C)
    return trace


def attention(v):
    return v.layers[f"layer{v.layer}.attn.weights"][0]  # (h, T, T)


def _on_row(v, value, function):
    vector = as_vector(value)
    return _row(v, vector if vector.size == 0 else function(vector))


def query(v):
    return _row(v, [] if v.focus is None else head_rows(v, "q")[v.focus])


def scores(v):
    return _row(v, [] if v.focus is None else head_rows(v, "k") @ as_vector(v.query))


def scaled(v):
    return _on_row(v, v.scores, lambda s: s / math.sqrt(v.cfg.d_k))


def weights(v):
    return _on_row(v, v.scaled, forward.softmax)


def unscaled(v):
    return _on_row(v, v.scores, lambda s: s)


def scaled_by_dk(v):
    return _on_row(v, v.scores, lambda s: s / v.cfg.d_k)


def weights_unscaled(v):
    return _on_row(v, v.scores, forward.softmax)


def weights_by_dk(v):
    return _on_row(v, v.scores, lambda s: forward.softmax(s / v.cfg.d_k))


def last_hidden_state(v):
    return _answer(v, v.layers["hidden"][0])  # (T, C)
