"""The functions of the forward pass: softmax, attention, positional encoding, erf, activations, norms.

NumPy only (no SymPy, no torch), float32 kept as float32. See ``derive.forward`` for the conventions.
"""

from __future__ import annotations

import functools
import math

import numpy as np

Array = np.ndarray


def as_float(x) -> Array:
    """Keep float32/float64 as given (a float32 checkpoint stays float32); anything else -> float64."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


class Trace:
    """Records tensors under dotted names: trace("q", q) stores "layer0.attn.q" and returns q."""

    def __init__(self, store: dict | None = None, prefix: str = ""):
        self.store, self.prefix = store, prefix

    def __call__(self, name: str, value: Array) -> Array:
        if self.store is not None:
            self.store[self.prefix + name] = value
        return value

    def sub(self, name: str) -> Trace:
        return Trace(self.store, f"{self.prefix}{name}.")


def as_trace(trace: dict | Trace | None) -> Trace:
    """What a ``trace=`` argument records into: a dict or a Trace, or nothing for None."""
    return trace if isinstance(trace, Trace) else Trace(trace)


# ------------------------------------------------------------------------------------------ functions


def softmax(x, axis: int = -1, temperature: float = 1.0) -> Array:
    """Stable softmax: subtracting the maximum changes nothing but prevents overflow."""
    x = as_float(x)  # (..., n)
    if temperature != 1:
        x = x / temperature  # (..., n)
    e = np.asarray(x - x.max(axis=axis, keepdims=True))  # (..., n)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e  # (..., n)


def cosine_similarity(a, b) -> float:
    a, b = as_float(a), as_float(b)  # (d,), (d,)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def causal_mask(n: int, n_keys: int | None = None) -> Array:
    """True where attention is allowed: with n_keys >= n cached keys, query i sits at position
    n_keys - n + i and sees keys 0..that position (n_keys = n: the usual lower triangle)."""
    n_keys = n if n_keys is None else n_keys
    return np.tri(n, n_keys, k=n_keys - n, dtype=bool)  # (T, S)


def scaled_dot_product_attention(
    q, k, v, mask: Array | None = None, scale: float | None = None
) -> tuple[Array, Array]:
    """softmax(Q Kᵀ / √d_k) V with rows as tokens; ``mask`` is True where attention is allowed.

    ``scale`` multiplies the scores instead of 1/√d_k, as PyTorch's ``scale`` argument (1.0: none)."""
    q, k, v = as_float(q), as_float(k), as_float(v)  # (..., T, d_k), (..., S, d_k), (..., S, d_v)
    scores = q @ np.swapaxes(k, -1, -2)  # (..., T, S)
    scores = scores / math.sqrt(q.shape[-1]) if scale is None else scores * scale  # (..., T, S)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # (..., T, S)
    weights = softmax(scores, axis=-1)  # (..., T, S)
    return weights @ v, weights  # (..., T, d_v), (..., T, S)


def sinusoidal_positional_encoding(n_positions: int, d_model: int, base: float = 10000.0) -> Array:
    """PE(pos, 2i) = sin(pos / base^(2i/d)), PE(pos, 2i+1) = cos(pos / base^(2i/d))."""
    pos = np.arange(n_positions, dtype=np.float64)[:, None]  # (P, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]  # (1, d/2)
    angles = pos / base ** (two_i / d_model)  # (P, d/2)
    pe = np.empty((n_positions, d_model))  # (P, d)
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return pe


@functools.cache
def _erf_pieces() -> Array:
    """Piecewise polynomials on [0, 6] for float64, interpolated at Chebyshev nodes from math.erf(c).

    On each interval of width 1/4, erf(a) = offset + min(a, 1)·p(t) with t in [-1, 1] the position
    inside the interval: p fits erf(a)/a below 1 (offset 0) and -erfc(a) above (offset 1), so the
    small erf near 0 and the small erfc in the tail both keep their relative precision. Degree 11 is
    good to a few units in the last place. Beyond 6, erf is ±1 in double precision (erfc(6) ≈ 2e-17).
    Returns (D + 1, n): rows 0..D-1 multiply t^0..t^(D-1), the last row holds the offsets.
    """
    t = np.cos(np.pi * (np.arange(12) + 0.5) / 12)  # (D,) Chebyshev nodes in (-1, 1)
    centres = np.arange(0.125, 6, 0.25)  # (n,)
    offsets = (centres > 1).astype(np.float64)  # (n,)
    u = centres[None, :] + t[:, None] / 8  # (D, n) the nodes, all > 0
    values = np.where(offsets > 0, -np.vectorize(math.erfc)(u), np.vectorize(math.erf)(u) / u)  # (D, n)
    coefficients = np.linalg.solve(t[:, None] ** np.arange(12), values)  # (D, n)
    return np.vstack([coefficients, offsets])  # (D + 1, n)


def _erf_float64(x: Array) -> Array:
    a = np.minimum(np.abs(x), np.nextafter(6.0, 0))  # (...) NaN stays NaN
    s = a * 4  # (...)
    f = np.floor(s)  # (...)
    with np.errstate(invalid="ignore"):  # NaN has no interval; take(mode="clip") picks any
        i = f.astype(np.int32)  # (...) the interval
    t = 2 * (s - f) - 1  # (...) in [-1, 1]
    *pieces, offsets = _erf_pieces()
    y = np.take(pieces[-1], i, mode="clip")  # (...)
    for row in pieces[-2::-1]:
        y *= t
        y += np.take(row, i, mode="clip")  # (...) Horner
    y *= np.minimum(a, 1)
    y += np.take(offsets, i, mode="clip")  # (...)
    return np.copysign(y, x)  # (...)


_ERF32_LIMIT = 4.5  # erfc(4.5) ≈ 2e-10: beyond it erf is ±1 in float32


@functools.cache
def _erfc_exponent() -> tuple[Array, float, float]:
    """For float32: erfc(a) = u·exp(P(w) - a²) with u = 1/(1 + a/2) (the form of Numerical Recipes'
    erfcc), P a degree-8 polynomial fitted by least squares to math.erfc on a in [0, 4.5], and
    w in [-1, 1] the position of u in its range. One formula, no table look-ups: fast in NumPy."""
    u_min = 1 / (1 + _ERF32_LIMIT / 2)
    mid, half = (1 + u_min) / 2, (1 - u_min) / 2
    w = np.cos(np.pi * (np.arange(72) + 0.5) / 72)  # (N,) Chebyshev points in (-1, 1)
    u = mid + half * w  # (N,)
    a = 2 * (1 / u - 1)  # (N,)
    target = np.log(np.vectorize(math.erfc)(a) / u) + a * a  # (N,)
    coefficients = np.linalg.lstsq(w[:, None] ** np.arange(9), target, rcond=None)[0]  # (9,)
    return coefficients.astype(np.float32), mid, half


def _erf_float32(x: Array) -> Array:
    coefficients, mid, half = _erfc_exponent()
    a = np.minimum(np.abs(x), np.float32(_ERF32_LIMIT))  # (...)
    u = a * np.float32(0.5)  # (...)
    u += 1
    np.reciprocal(u, out=u)  # (...) 1 / (1 + a/2)
    w = u - np.float32(mid)  # (...)
    w *= np.float32(1 / half)  # (...) in [-1, 1]
    y = np.full_like(u, coefficients[-1])  # (...)
    for c in coefficients[-2::-1]:
        y *= w
        y += c  # (...) Horner
    y -= np.square(a, out=a)
    np.exp(y, out=y)
    y *= u  # (...) erfc(|x|)
    np.subtract(1, y, out=y)  # (...) erf(|x|)
    return np.copysign(y, x, out=y)  # (...)


@functools.cache
def _gelu_exponent() -> Array:
    """For float32 GELU: erfc(a) = u·exp(P(u) - a²) with u = 1/(1 + a/2) as in _erfc_exponent, but P
    a degree-7 polynomial in u itself, fitted on a in [0, 10]: beyond 10, exp underflows whatever
    P gives, so no clamp is needed, and GELU stays within 3e-7·max(|x|, 1) of the exact value."""
    u_min = 1 / (1 + 10 / 2)
    w = np.cos(np.pi * (np.arange(200) + 0.5) / 200)  # (N,) Chebyshev points in (-1, 1)
    u = (1 + u_min) / 2 + (1 - u_min) / 2 * w  # (N,)
    a = 2 * (1 / u - 1)  # (N,)
    target = np.log(np.vectorize(math.erfc)(a) / u) + a * a  # (N,)
    return np.polynomial.polynomial.polyfit(u, target, 7).astype(np.float32)  # (8,) from u^0


def _gelu_float32(x: Array) -> Array:
    """x·Φ(x) = max(x, 0) - |x|/2 · erfc(|x|/√2), in as few passes over x as NumPy allows.

    With a = |x|/√2 and u = 1/(1 + a/2), |x| · erfc(a) = |x| · u · exp(P(u) - x²/2): one exponential,
    no clamp, and no cancellation for negative x. max(x, 0) is (x + |x|)/2, and ±inf give NaN, as
    in torch.
    """
    coefficients = _gelu_exponent()
    ax = np.abs(x)  # (...)
    u = ax * np.float32(1 / (2 * math.sqrt(2)))  # (...) a/2
    u += 1
    np.reciprocal(u, out=u)  # (...) 1 / (1 + a/2)
    y = u * coefficients[-1]  # (...)
    for c in coefficients[-2:0:-1]:
        y += c
        y *= u  # (...) Horner
    y += coefficients[0]  # (...) P(u)
    with np.errstate(over="ignore", invalid="ignore"):  # x² = inf: exp gives 0, the product NaN
        square = np.square(x)  # (...)
        square *= np.float32(0.5)
        y -= square  # (...) P(u) - a²
        np.exp(y, out=y)  # (...)
        y *= u
        y *= ax  # (...) |x| · erfc(|x|/√2)
        ax += x  # (...) 2·max(x, 0)
    ax -= y
    ax *= np.float32(0.5)
    return ax  # (...)


def erf(x) -> Array:
    """The error function, vectorised, without scipy.

    float64: piecewise polynomials fitted to math.erf, within a few units in the last place.
    float32: one exponential formula with an absolute error below 5e-7 (a few float32 ulps), which
    keeps GELU in a float32 forward pass as fast as the matrix products around it.
    """
    x = as_float(x)  # (...)
    if x.ndim == 0:
        return erf(x.reshape(1))[0]  # the in-place steps need an array, not a scalar
    if x.dtype == np.float32:
        return _erf_float32(x)  # (...)
    return _erf_float64(x.astype(np.float64, copy=False)).astype(x.dtype, copy=False)  # (...)


def relu(x) -> Array:
    x = as_float(x)
    return np.maximum(x, 0)  # (...)


def gelu(x) -> Array:
    """Exact GELU: x·Φ(x) = x/2 · (1 + erf(x/√2)) (BERT, torch's default)."""
    x = as_float(x)
    if x.dtype == np.float32 and x.ndim:
        return _gelu_float32(x)  # (...)
    y = erf(x * (1 / math.sqrt(2)))  # (...)
    y += 1
    y *= x
    y *= 0.5
    return y  # (...)


def gelu_tanh(x) -> Array:
    """GPT-2's GELU: x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    x = as_float(x)
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))  # (...)


def silu(x) -> Array:
    """x·σ(x), with σ(x) = (1 + tanh(x/2))/2 so that no exponential can overflow."""
    x = as_float(x)
    return x * (0.5 * (1 + np.tanh(0.5 * x)))  # (...)


def swiglu(gate, up) -> Array:
    """SwiGLU (LLaMA): silu(x W_gate) ⊙ (x W_up); the two arguments are those projections."""
    return silu(gate) * as_float(up)  # (..., d_ff)


ACTIVATIONS = {"relu": relu, "gelu": gelu, "gelu_tanh": gelu_tanh}


def layer_norm(x, gamma=None, beta=None, eps: float = 1e-5, trace=None) -> Array:
    """(x - mean) / √(var + ε) · γ + β over the last axis, with the population variance (÷ n)."""
    rec, x = as_trace(trace), as_float(x)  # (..., C)
    mean = rec("mean", x.mean(axis=-1, keepdims=True))  # (..., 1)
    var = rec("var", ((x - mean) ** 2).mean(axis=-1, keepdims=True))  # (..., 1)
    y = rec("normed", (x - mean) / np.sqrt(var + eps))  # (..., C)
    if gamma is not None:
        y = y * gamma  # (..., C)
    if beta is not None:
        y = y + beta  # (..., C)
    return rec("out", y)  # (..., C)


def rms_norm(x, gamma=None, eps: float = 1e-6, trace=None) -> Array:
    """x / √(mean(x²) + ε) · γ: no centring and no β (T5, LLaMA)."""
    rec, x = as_trace(trace), as_float(x)  # (..., C)
    rms = rec("rms", np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps))  # (..., 1)
    y = rec("normed", x / rms)  # (..., C)
    return rec("out", y if gamma is None else y * gamma)  # (..., C)


def linear(x: Array, W: Array, b: Array | None = None) -> Array:
    y = x @ W  # (..., out)
    if b is not None:
        y += b  # (..., out)
    return y


# ------------------------------------------------------------------------------------------ config
