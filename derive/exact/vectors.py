"""Exact vector maths: dot products, lengths, cosine similarity, distances and angles.

Vectors are SymPy row matrices or sequences of exact numbers. The cosine's twin is
``derive.forward.cosine_similarity``; the rest have none and are checked against NumPy
expressions in ``tests/test_exact.py``. Values are returned as SymPy evaluates them; a topic
chooses its own readable form (rationalised denominators, ±1 recognised) before narrating.
"""

from __future__ import annotations

import sympy as sp


def dot(a, b) -> sp.Expr:
    """Σ a_i b_i."""
    return sum((x * y for x, y in zip(a, b, strict=True)), sp.Integer(0))


def sum_of_squares(a) -> sp.Expr:
    """Σ a_i², the squared length."""
    return sum((e**2 for e in a), sp.Integer(0))


def norm(a) -> sp.Expr:
    """The Euclidean length √(Σ a_i²)."""
    return sp.sqrt(sum_of_squares(a))


def cosine_similarity(a, b) -> sp.Expr:
    """a·b / (|a| |b|), the cosine of the angle between a and b (undefined for a zero vector)."""
    return dot(a, b) / (norm(a) * norm(b))


def angle_degrees(cosine) -> sp.Expr:
    """The angle with this cosine, in degrees: 180·acos(cos θ)/π."""
    return sp.Integer(180) / sp.pi * sp.acos(cosine)


def squared_distance(a, b) -> sp.Expr:
    """|a − b|² = Σ (a_i − b_i)²."""
    return sum_of_squares([x - y for x, y in zip(a, b, strict=True)])


def distance(a, b) -> sp.Expr:
    """The Euclidean distance |a − b|."""
    return sp.sqrt(squared_distance(a, b))


def gram(rows: sp.Matrix) -> sp.Matrix:
    """(n, d) -> (n, n): W Wᵀ, every row dotted with every row."""
    return rows * rows.T


def combine(terms) -> sp.Matrix:
    """Σ c_j v_j over (coefficient, row vector) pairs, such as king − man + woman."""
    terms = list(terms)
    total = sp.zeros(1, len(terms[0][1]))
    for coefficient, vector in terms:
        total += coefficient * sp.Matrix([list(vector)])
    return total
