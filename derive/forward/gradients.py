"""Backward passes in NumPy: cross-entropy, the softmax Jacobian, attention and LayerNorm.

The numeric twins of ``derive.exact.gradients``, written from the forward functions in
``derive.forward.functional`` (NumPy only, float64). Each ``d…`` has the shape of its tensor; targets
count from 0. tests/test_training_gradients.py checks them against torch autograd and finite differences.
"""

from __future__ import annotations

import math

import numpy as np

from derive.forward.functional import as_float

Array = np.ndarray


def smoothed_targets(targets, classes: int, smoothing: float = 0.0) -> Array:
    """(N, C): (1 − ε)·onehot + ε/C, PyTorch's label smoothing."""
    onehot = np.eye(classes)[np.asarray(targets)]  # (N, C)
    return (1 - smoothing) * onehot + smoothing / classes  # (N, C)


def cross_entropy(p, y) -> float:
    """Mean over rows of −Σ_j y_j log p_j."""
    p, y = as_float(p), as_float(y)  # (N, C), (N, C)
    terms = np.where(y != 0, -y * np.log(np.where(y != 0, p, 1.0)), 0.0)  # (N, C)
    return float(terms.sum(axis=1).mean())


def cross_entropy_gradient(p, y) -> Array:
    p, y = as_float(p), as_float(y)  # (N, C), (N, C)
    return (p - y) / p.shape[0]  # (N, C)


def softmax_jacobian(p) -> Array:
    p = as_float(p).reshape(-1)  # (n,)
    return np.diag(p) - np.outer(p, p)  # (n, n)


def softmax_backward(p, grad_p) -> Array:
    p, grad_p = as_float(p), as_float(grad_p)  # (T, S), (T, S)
    return p * (grad_p - (p * grad_p).sum(axis=-1, keepdims=True))  # (T, S)


def value_gradient(weights, grad_output) -> Array:
    return as_float(weights).T @ as_float(grad_output)  # (S, T) @ (T, d_v) -> (S, d_v)


def weights_gradient(grad_output, values) -> Array:
    return as_float(grad_output) @ as_float(values).T  # (T, d_v) @ (d_v, S) -> (T, S)


def query_gradient(grad_scores, keys, d_k: int) -> Array:
    return as_float(grad_scores) @ as_float(keys) / math.sqrt(d_k)  # (T, d_k)


def key_gradient(grad_scores, queries, d_k: int) -> Array:
    return as_float(grad_scores).T @ as_float(queries) / math.sqrt(d_k)  # (S, d_k)


def beta_gradient(grad_output) -> Array:
    return as_float(grad_output).sum(axis=0, keepdims=True)  # (1, d)


def gamma_gradient(grad_output, normed) -> Array:
    return (as_float(grad_output) * as_float(normed)).sum(axis=0, keepdims=True)  # (1, d)


def layer_norm_input_gradient(grad_output, normed, variance, gamma, eps: float) -> Array:
    g_hat = as_float(grad_output) * as_float(gamma).reshape(1, -1)  # (T, d)
    normed = as_float(normed)  # (T, d)
    spread = np.sqrt(as_float(variance).reshape(-1, 1) + eps)  # (T, 1)
    mean_g = g_hat.mean(axis=1, keepdims=True)  # (T, 1)
    mean_gx = (g_hat * normed).mean(axis=1, keepdims=True)  # (T, 1)
    return (g_hat - mean_g - normed * mean_gx) / spread  # (T, d)
