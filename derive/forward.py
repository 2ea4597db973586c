"""Independent NumPy implementations: the numeric reference for every topic and the forward pass.

Written in the style of nanoGPT's model.py: plain functions and small classes in dependency
order, with the shape of every tensor in a comment. Nothing here imports SymPy.
"""

from __future__ import annotations

import numpy as np


def softmax(x: np.ndarray, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Stable softmax: subtracting the maximum changes nothing but prevents overflow."""
    z = np.asarray(x, dtype=np.float64) / temperature  # (..., n)
    z = z - z.max(axis=axis, keepdims=True)  # (..., n)
    e = np.exp(z)  # (..., n)
    return e / e.sum(axis=axis, keepdims=True)  # (..., n)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)  # (d,), (d,)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def causal_mask(n: int) -> np.ndarray:
    """True where attention is allowed: token i sees tokens 0..i."""
    return np.tril(np.ones((n, n), dtype=bool))  # (T, T)


def scaled_dot_product_attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """softmax(Q Kᵀ / √d_k) V with rows as tokens; ``mask`` is True where attention is allowed."""
    d_k = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)  # (..., T_q, T_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # (..., T_q, T_k)
    weights = softmax(scores, axis=-1)  # (..., T_q, T_k)
    return weights @ v, weights  # (..., T_q, d_v), (..., T_q, T_k)


def sinusoidal_positional_encoding(n_positions: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """PE(pos, 2i) = sin(pos / base^(2i/d)), PE(pos, 2i+1) = cos(pos / base^(2i/d))."""
    pos = np.arange(n_positions, dtype=np.float64)[:, None]  # (P, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]  # (1, d/2)
    angles = pos / base ** (two_i / d_model)  # (P, d/2)
    pe = np.empty((n_positions, d_model))  # (P, d)
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles)
    return pe
