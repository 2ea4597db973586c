"""Tokens as particles on the unit sphere: self-attention with Q = K = V = I as a flow in time.

Geshkovski, Letrouit, Polyanskiy and Rigollet, "A mathematical perspective on Transformers" (2023):
ẋ_i = P_{x_i}(Σ_j softmax_j(β⟨x_i, x_j⟩) x_j), with P_x(y) = y − ⟨x, y⟩ x the projection onto the
sphere's tangent space at x. Discretised by explicit Euler steps of size dt, each followed by
renormalising every token to length 1 (the layer's normalisation). Tokens are rows.
"""

from __future__ import annotations

import numpy as np

from derive.forward.functional import Array, as_float, softmax


def attention_dynamics_velocity(x, beta: float) -> Array:
    """P_{x_i}(Σ_j w_ij x_j): the attention output, minus its component along x_i."""
    x = as_float(x)  # (n, d)
    weights = softmax(beta * x @ x.T)  # (n, n)
    mean = weights @ x  # (n, d)
    return mean - np.sum(mean * x, axis=1, keepdims=True) * x  # (n, d)


def attention_dynamics_step(x, beta: float, dt: float) -> Array:
    """One Euler step along the velocity, then every token back to length 1."""
    x = as_float(x)  # (n, d)
    moved = x + dt * attention_dynamics_velocity(x, beta)  # (n, d)
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)  # (n, d)


def simulate_particles(x, beta: float, dt: float, steps: int) -> Array:
    """Every position from the start: (steps + 1, n, d); the input rows are normalised first."""
    x = as_float(x)  # (n, d)
    path = np.empty((steps + 1,) + x.shape)  # (steps + 1, n, d)
    path[0] = x / np.linalg.norm(x, axis=1, keepdims=True)
    for k in range(steps):
        path[k + 1] = attention_dynamics_step(path[k], beta, dt)
    return path


def particle_clusters(x, tolerance: float) -> list[list[int]]:
    """Groups of tokens chained by distances below ``tolerance`` (single linkage), in token order."""
    x = as_float(x)  # (n, d)
    near = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2) < tolerance  # (n, n)
    label = list(range(len(x)))
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            if near[i, j] and label[j] != label[i]:
                old = label[j]
                label = [label[i] if lab == old else lab for lab in label]
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(label):
        groups.setdefault(lab, []).append(i)
    return sorted(groups.values())
