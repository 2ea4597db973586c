"""Learning-rate schedules, exact: the value at a step.

``noam`` is "Attention Is All You Need" §5.3, lrate = d_model^(-1/2) · min(step^(-1/2),
step · warmup^(-3/2)). ``cosine`` and ``linear`` decay from lr_max to lr_min after an optional
linear warmup from 0, as Hugging Face's get_cosine_schedule_with_warmup and
get_linear_schedule_with_warmup do (with lr_min = 0); without warmup they are
torch.optim.lr_scheduler's CosineAnnealingLR and LinearLR.
"""

from __future__ import annotations

import sympy as sp


def noam(step: int, d_model: int, warmup: int) -> sp.Expr:
    """d_model^(-1/2) · min(step^(-1/2), step · warmup^(-3/2)): linear warmup, then 1/√step decay."""
    return sp.Integer(d_model) ** sp.Rational(-1, 2) * sp.Min(
        sp.Integer(step) ** sp.Rational(-1, 2), step * sp.Integer(warmup) ** sp.Rational(-3, 2)
    )


def warmup_ramp(step: int, warmup: int, lr_max) -> sp.Expr:
    """lr_max · step / warmup: the straight line from 0 to lr_max over the warmup steps."""
    return lr_max * sp.Rational(step, warmup)


def progress(step: int, warmup: int, total: int) -> sp.Rational:
    """How far the decay has gone, from 0 at the end of warmup to 1 at the last step."""
    return sp.Rational(step - warmup, total - warmup)


def cosine(step: int, total: int, lr_max, lr_min=0, warmup: int = 0) -> sp.Expr:
    """lr_min + (lr_max − lr_min) · (1 + cos(π p)) / 2 after the warmup, p the decay's progress."""
    if step < warmup:
        return warmup_ramp(step, warmup, lr_max)
    return lr_min + (lr_max - lr_min) * (1 + sp.cos(sp.pi * progress(step, warmup, total))) / 2


def linear(step: int, total: int, lr_max, lr_min=0, warmup: int = 0) -> sp.Expr:
    """lr_min + (lr_max − lr_min) · (1 − p) after the warmup: a straight line down to lr_min."""
    if step < warmup:
        return warmup_ramp(step, warmup, lr_max)
    return lr_min + (lr_max - lr_min) * (1 - progress(step, warmup, total))
