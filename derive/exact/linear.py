"""The linear map x W + b with tokens as rows, exact: the twin of ``forward.functional.linear``."""

from __future__ import annotations

import sympy as sp


def add_bias(y: sp.Matrix, b: sp.Matrix | None) -> sp.Matrix:
    """y + b with the bias row added to every row of y; no bias adds nothing."""
    return y if b is None else y + sp.ones(y.rows, 1) * b


def linear(x: sp.Matrix, W: sp.Matrix, b: sp.Matrix | None = None) -> sp.Matrix:
    return add_bias(x * W, b)  # (T, out)


def reversed_linear(x: sp.Matrix, W: sp.Matrix, b: sp.Matrix | None = None) -> sp.Matrix | None:
    """W x + b, the product taken in the wrong order (the reversed-product misconception): only
    where the shapes allow it and give x W's shape (square x and W of one size), else None."""
    if W.cols != x.rows or (W.rows, x.cols) != (x.rows, W.cols):
        return None
    return add_bias(W * x, b)
