"""One optimizer step, exact and entry by entry, with torch.optim's update formulas.

SGD's momentum buffer is PyTorch's, not an exponential average: b = g on the first step, then
b = μ b + (1 − τ) g. Adam's moments are m = β₁ m + (1 − β₁) g and v = β₂ v + (1 − β₂) g²; the
bias-corrected m̂ = m / (1 − β₁ᵗ) and v̂ = v / (1 − β₂ᵗ) give the step −lr · m̂ / (√v̂ + ε), with ε
outside the root as torch.optim.Adam adds it. Weight decay is L2 for SGD and Adam (λθ added to the
gradient) and decoupled for AdamW (θ shrunk by lr·λθ beside the Adam step).
"""

from __future__ import annotations

import sympy as sp


def l2_gradient(grad: sp.Matrix, params: sp.Matrix, weight_decay) -> sp.Matrix:
    """g + λθ: L2 regularisation folded into the gradient (SGD, Adam)."""
    return grad + weight_decay * params


def momentum_buffer(buffer: sp.Matrix | None, grad: sp.Matrix, momentum, dampening=0) -> sp.Matrix:
    """PyTorch SGD's buffer: the gradient itself on the first step (no buffer yet), else μ b + (1 − τ) g."""
    if buffer is None:
        return grad
    return momentum * buffer + (1 - dampening) * grad


def first_moment(m: sp.Matrix, grad: sp.Matrix, beta1) -> sp.Matrix:
    """β₁ m + (1 − β₁) g: the running mean of the gradients."""
    return beta1 * m + (1 - beta1) * grad


def second_moment(v: sp.Matrix, grad: sp.Matrix, beta2) -> sp.Matrix:
    """β₂ v + (1 − β₂) g²: the running mean of the squared gradients, entry by entry."""
    return beta2 * v + (1 - beta2) * grad.applyfunc(lambda g: g**2)


def bias_correct(moment: sp.Matrix, beta, step: int) -> sp.Matrix:
    """moment / (1 − βᵗ): undoes the pull towards the zero start of the running mean."""
    return moment / (1 - beta**step)


def adam_update(m_hat: sp.Matrix, v_hat: sp.Matrix, lr, eps) -> sp.Matrix:
    """−lr · m̂ / (√v̂ + ε) entry by entry, ε outside the root as in torch.optim.Adam."""
    return sp.Matrix(m_hat.rows, m_hat.cols, lambda r, c: -lr * m_hat[r, c] / (sp.sqrt(v_hat[r, c]) + eps))


def decoupled_decay(params: sp.Matrix, lr, weight_decay) -> sp.Matrix:
    """−lr · λ · θ: AdamW's shrinkage of the parameters, apart from the gradient."""
    return -lr * weight_decay * params


def sgd_update(direction: sp.Matrix, lr) -> sp.Matrix:
    """−lr · d: a step against the gradient (or the momentum buffer)."""
    return -lr * direction
