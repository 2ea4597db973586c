"""The optimizer-step topic's values, from derive.exact.optim, and the misconceptions.

Stages an optimizer does not have return None and are left out: plain SGD keeps no m or v,
SGD with momentum keeps its buffer as m and has no v, m̂ or v̂.
"""

from __future__ import annotations

import sympy as sp

from derive.exact import optim
from derive.model import Mistake

ADAM_FAMILY = ("adam", "adamw")


def coupled_decay(v) -> bool:
    """Whether weight decay enters the gradient as L2 (every optimizer here but AdamW)."""
    return v.weight_decay != 0 and v.optimizer != "adamw"


def gradient(v):
    if not coupled_decay(v):
        return None
    return optim.l2_gradient(v.grad, v.theta, v.weight_decay)


def effective_gradient(v) -> sp.Matrix:
    """The gradient the moments see: with L2 folded in where the optimizer does that."""
    return v.gradient if v.get("gradient") is not None else v.grad


def first_moment(v):
    if v.optimizer == "momentum":
        return optim.momentum_buffer(v.m0, effective_gradient(v), v.momentum, v.dampening)
    if v.optimizer in ADAM_FAMILY:
        return optim.first_moment(v.m0, effective_gradient(v), v.beta1)
    return None


def second_moment(v):
    if v.optimizer not in ADAM_FAMILY:
        return None
    return optim.second_moment(v.v0, effective_gradient(v), v.beta2)


def m_hat(v):
    return optim.bias_correct(v.m, v.beta1, v.step) if v.optimizer in ADAM_FAMILY else None


def v_hat(v):
    return optim.bias_correct(v.v, v.beta2, v.step) if v.optimizer in ADAM_FAMILY else None


def update(v):
    if v.optimizer in ADAM_FAMILY:
        step = optim.adam_update(v.m_hat, v.v_hat, v.lr, v.eps)
        if v.optimizer == "adamw":
            step += optim.decoupled_decay(v.theta, v.lr, v.weight_decay)
        return step
    return optim.sgd_update(v.m if v.optimizer == "momentum" else effective_gradient(v), v.lr)


def new_params(v):
    return v.theta + v.update


# --- misconceptions: what a student holding each one would write ------------------------------------


def _only_for(optimizers, compute):
    return lambda v: compute(v) if v.optimizer in optimizers else None


def _adam_step(v, decoupled: bool) -> sp.Matrix:
    """The whole Adam step from the givens, with weight decay decoupled (AdamW) or as L2 (Adam)."""
    grad = v.grad if decoupled else optim.l2_gradient(v.grad, v.theta, v.weight_decay)
    m = optim.bias_correct(optim.first_moment(v.m0, grad, v.beta1), v.beta1, v.step)
    second = optim.bias_correct(optim.second_moment(v.v0, grad, v.beta2), v.beta2, v.step)
    step = optim.adam_update(m, second, v.lr, v.eps)
    return step + optim.decoupled_decay(v.theta, v.lr, v.weight_decay) if decoupled else step


def _with_decay_swapped(v):
    """AdamW's decay written as Adam's L2, or Adam's L2 written as AdamW's decoupled decay."""
    if v.weight_decay == 0:
        return None
    return _adam_step(v, decoupled=v.optimizer == "adam")


def _swapped_params(v):
    step = _with_decay_swapped(v)
    return None if step is None else v.theta + step


def _ema_buffer(v):
    buffer = v.m0 if v.m0 is not None else sp.zeros(*v.grad.shape)
    return v.momentum * buffer + (1 - v.momentum) * effective_gradient(v)


def _no_one_minus_beta(v):
    return v.beta1 * v.m0 + effective_gradient(v)


def _not_squared(v):
    return v.beta2 * v.v0 + (1 - v.beta2) * effective_gradient(v)


def _uncorrected_update(v):
    step = optim.adam_update(v.m, v.v, v.lr, v.eps)
    return step + optim.decoupled_decay(v.theta, v.lr, v.weight_decay) if v.optimizer == "adamw" else step


def _eps_inside_root(v):
    root = v.v_hat.applyfunc(lambda e: e + v.eps)
    step = optim.adam_update(v.m_hat, root, v.lr, 0)
    return step + optim.decoupled_decay(v.theta, v.lr, v.weight_decay) if v.optimizer == "adamw" else step


def _no_weight_decay(v):
    if v.weight_decay == 0:
        return None
    return optim.sgd_update(optim.momentum_buffer(v.m0, v.grad, v.momentum, v.dampening), v.lr)


def _plain_sgd_no_decay(v):
    return optim.sgd_update(v.grad, v.lr) if v.weight_decay != 0 else None


BIAS_HINT = (
    "Divide by 1 − βᵗ (bias correction): the running means start at 0, so early on they are too small "
    "by exactly that factor."
)
SIGN_HINT = "Step against the gradient: θ_new = θ − lr · (direction), so the update has the opposite sign."
DECAY_SWAP_HINT = (
    "AdamW decays the weights apart from the gradient (θ ← θ − lr·λ·θ beside the Adam step); Adam adds "
    "λθ to the gradient (L2) before the moments. Check which of the two the optimizer uses."
)

M_MISTAKES = (
    Mistake(
        "missing-one-minus-beta",
        "The new gradient enters with weight 1 − β₁: m = β₁ m + (1 − β₁) g.",
        _only_for(ADAM_FAMILY, _no_one_minus_beta),
    ),
    Mistake(
        "ema-momentum",
        "PyTorch's SGD buffer is b = μ b + g (the first step b = g), not the running mean μ b + (1 − μ) g.",
        _only_for(("momentum",), _ema_buffer),
    ),
)
V_MISTAKES = (
    Mistake(
        "not-squared",
        "v averages the squared gradients: v = β₂ v + (1 − β₂) g², entry by entry.",
        _not_squared,
    ),
)
M_HAT_MISTAKES = (Mistake("no-bias-correction", BIAS_HINT, lambda v: v.m),)
V_HAT_MISTAKES = (Mistake("no-bias-correction", BIAS_HINT, lambda v: v.v),)
UPDATE_MISTAKES = (
    Mistake("sign-flipped", SIGN_HINT, lambda v: -v.update),
    Mistake("no-bias-correction", BIAS_HINT, _only_for(ADAM_FAMILY, _uncorrected_update)),
    Mistake(
        "eps-inside-root",
        "torch.optim.Adam adds ε after the square root: √v̂ + ε, not √(v̂ + ε).",
        _only_for(ADAM_FAMILY, _eps_inside_root),
    ),
    Mistake("weight-decay-swapped", DECAY_SWAP_HINT, _only_for(ADAM_FAMILY, _with_decay_swapped)),
    Mistake(
        "no-weight-decay",
        "With weight decay λ, SGD steps along g + λθ, not g alone.",
        _only_for(("momentum",), _no_weight_decay),
    ),
    Mistake(
        "no-weight-decay",
        "With weight decay λ, SGD steps along g + λθ, not g alone.",
        _only_for(("sgd",), _plain_sgd_no_decay),
    ),
)
PARAMS_MISTAKES = (
    Mistake("sign-flipped", SIGN_HINT, lambda v: v.theta - v.update),
    Mistake("weight-decay-swapped", DECAY_SWAP_HINT, _only_for(ADAM_FAMILY, _swapped_params)),
)
