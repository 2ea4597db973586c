"""Exact pieces of one Euler step of the self-attention dynamics on the sphere (tokens as rows).

The twins of ``derive.forward.dynamics``: normalise each token, project a vector onto the tangent
space of the sphere at a token, and take the renormalised Euler step.
"""

from __future__ import annotations

import sympy as sp


def normalise_rows(x: sp.Matrix) -> sp.Matrix:
    """Each row divided by its length, so every token lies on the unit sphere."""
    rows = []
    for r in range(x.rows):
        length = sp.sqrt(sum(e**2 for e in x.row(r)))
        rows.append([e / length for e in x.row(r)])
    return sp.Matrix(rows)


def tangent_projection(x: sp.Matrix, y: sp.Matrix) -> sp.Matrix:
    """P_{x_i}(y_i) = y_i − ⟨x_i, y_i⟩ x_i row by row: the part of y_i along the sphere at x_i."""
    rows = []
    for r in range(x.rows):
        along = sum(a * b for a, b in zip(x.row(r), y.row(r)))
        rows.append([y[r, c] - along * x[r, c] for c in range(x.cols)])
    return sp.Matrix(rows)


def euler_step(x: sp.Matrix, velocity: sp.Matrix, dt) -> sp.Matrix:
    """x + dt · velocity, each row then brought back to length 1."""
    return normalise_rows(x + dt * velocity)
