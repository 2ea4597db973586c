"""Exact gradients of training, by the chain rule: cross-entropy, the softmax Jacobian, the backward
pass of attention and of LayerNorm.

The twins of ``derive.forward.gradients`` in SymPy. Tokens (and examples) are rows, as in the forward
pass; every ``d…`` is the gradient of one scalar loss L with respect to that tensor, with the tensor's
own shape. Targets count from 0 here; the topics print them from 1.
"""

from __future__ import annotations

import sympy as sp


def smoothed_targets(targets, classes: int, smoothing=0) -> sp.Matrix:
    """(N, C): row r is (1 − ε)·onehot(t_r) + ε/C, as PyTorch's ``label_smoothing`` defines it."""
    smoothing = sp.sympify(smoothing)
    return sp.Matrix(
        len(targets), classes, lambda r, c: (1 - smoothing) * int(c == targets[r]) + smoothing / classes
    )


def cross_entropy(p: sp.Matrix, y: sp.Matrix) -> sp.Expr:
    """The mean over rows of −Σ_j y_rj log p_rj; for a one-hot row this is −log p_(target)."""
    total = sum(
        (-y[r, c] * sp.log(p[r, c]) for r in range(p.rows) for c in range(p.cols) if y[r, c] != 0),
        sp.Integer(0),
    )
    return sp.expand_log(total / p.rows, force=True)


def cross_entropy_gradient(p: sp.Matrix, y: sp.Matrix) -> sp.Matrix:
    """∂L/∂z = (p − y)/N for the mean loss over N rows: the softmax's and the log's derivatives combined."""
    return (p - y) / p.rows


def softmax_jacobian(p) -> sp.Matrix:
    """(n, n): ∂p_i/∂z_j = p_i (δ_ij − p_j), the matrix diag(p) − pᵀ p of one softmax row p."""
    row = sp.Matrix([list(p)])  # (1, n)
    return sp.diag(*row) - row.T * row


def softmax_backward(p: sp.Matrix, grad_p: sp.Matrix) -> sp.Matrix:
    """∂L/∂z row by row: dp J = p ⊙ (dp − Σ_j p_j dp_j), the vector-Jacobian product without J itself."""
    out = sp.zeros(p.rows, p.cols)
    for r in range(p.rows):
        weighted = sum((p[r, c] * grad_p[r, c] for c in range(p.cols)), sp.Integer(0))
        for c in range(p.cols):
            out[r, c] = p[r, c] * (grad_p[r, c] - weighted)
    return out


def value_gradient(weights: sp.Matrix, grad_output: sp.Matrix) -> sp.Matrix:
    """dV = Aᵀ dO: value row j collects the output gradients of every query that attended to it."""
    return weights.T * grad_output  # (S, d_v)


def weights_gradient(grad_output: sp.Matrix, values: sp.Matrix) -> sp.Matrix:
    """dA = dO Vᵀ: weight (i, j) moves the output of query i along value row j."""
    return grad_output * values.T  # (T, S)


def query_gradient(grad_scores: sp.Matrix, keys: sp.Matrix, d_k) -> sp.Matrix:
    """dQ = dS K / √d_k for the scaled scores S = Q Kᵀ / √d_k."""
    return grad_scores * keys / sp.sqrt(d_k)  # (T, d_k)


def key_gradient(grad_scores: sp.Matrix, queries: sp.Matrix, d_k) -> sp.Matrix:
    """dK = dSᵀ Q / √d_k for the scaled scores S = Q Kᵀ / √d_k."""
    return grad_scores.T * queries / sp.sqrt(d_k)  # (S, d_k)


def beta_gradient(grad_output: sp.Matrix) -> sp.Matrix:
    """(1, d): dβ_j = Σ_r dy_rj, since β_j is added to feature j of every row."""
    return sp.ones(1, grad_output.rows) * grad_output


def gamma_gradient(grad_output: sp.Matrix, normed: sp.Matrix) -> sp.Matrix:
    """(1, d): dγ_j = Σ_r dy_rj x̂_rj, since γ_j scales feature j of every row."""
    return sp.ones(1, grad_output.rows) * grad_output.multiply_elementwise(normed)


def layer_norm_input_gradient(grad_output, normed, variance, gamma, eps) -> sp.Matrix:
    """dx = (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)) / √(σ² + ε) per row, with ĝ = dy ⊙ γ.

    ``variance`` is the (T, 1) column of population variances; x̂ depends on x through the row's
    mean and its standard deviation as well as directly, which gives the two subtracted means.
    """
    rows, cols = grad_output.shape
    out = sp.zeros(rows, cols)
    for r in range(rows):
        g_hat = [grad_output[r, c] * gamma[c] for c in range(cols)]
        mean_g = sum(g_hat, sp.Integer(0)) / cols
        mean_gx = sum((g * normed[r, c] for c, g in enumerate(g_hat)), sp.Integer(0)) / cols
        spread = sp.sqrt(variance[r, 0] + eps)
        for c in range(cols):
            out[r, c] = (g_hat[c] - mean_g - normed[r, c] * mean_gx) / spread
    return out
