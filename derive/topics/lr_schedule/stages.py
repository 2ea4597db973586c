"""The lr-schedule topic's value, from derive.exact.schedules, and the misconceptions."""

from __future__ import annotations

import sympy as sp

from derive.exact import schedules
from derive.model import Mistake


def learning_rate(v):
    if v.schedule == "noam":
        return schedules.noam(v.step, v.d_model, v.warmup)
    decay = schedules.cosine if v.schedule == "cosine" else schedules.linear
    return decay(v.step, v.total, v.lr_max, v.lr_min, v.warmup)


def in_warmup(v) -> bool:
    return v.schedule != "noam" and v.step < v.warmup


# --- misconceptions: what a student holding each one would write ------------------------------------


def _noam(compute):
    return lambda v: compute(v) if v.schedule == "noam" else None


def _decay(schedule, compute):
    return lambda v: compute(v) if v.schedule == schedule and not in_warmup(v) else None


def _warmup_exponent(v):
    """The warmup branch with warmup^(-1/2), the exponent of the other branch (only in warmup)."""
    if v.step >= v.warmup:
        return None
    return sp.Integer(v.d_model) ** sp.Rational(-1, 2) * v.step * sp.Integer(v.warmup) ** sp.Rational(-1, 2)


def _without_d_model(v):
    return schedules.noam(v.step, v.d_model, v.warmup) * sp.sqrt(v.d_model)


def _max_not_min(v):
    return sp.Integer(v.d_model) ** sp.Rational(-1, 2) * sp.Max(
        sp.Integer(v.step) ** sp.Rational(-1, 2), v.step * sp.Integer(v.warmup) ** sp.Rational(-3, 2)
    )


def _cosine_without_half(v):
    p = schedules.progress(v.step, v.warmup, v.total)
    return v.lr_min + (v.lr_max - v.lr_min) * sp.cos(sp.pi * p)


def _to_zero(compute):
    """The schedule decaying to 0 although lr_min is set."""
    return lambda v: compute(v.step, v.total, v.lr_max, 0, v.warmup) if v.lr_min != 0 else None


def _linear_upwards(v):
    return v.lr_min + (v.lr_max - v.lr_min) * schedules.progress(v.step, v.warmup, v.total)


def _warmup_ignored(v):
    if not in_warmup(v):
        return None
    decay = schedules.cosine if v.schedule == "cosine" else schedules.linear
    return decay(v.step, v.total, v.lr_max, v.lr_min, 0)


LR_MISTAKES = (
    Mistake(
        "warmup-exponent",
        "The warmup branch is step · warmup^(-1.5): the exponent is −1.5, so that the two branches meet at "
        "step = warmup.",
        _noam(_warmup_exponent),
    ),
    Mistake("no-d-model", "Multiply by d_model^(-0.5) (1/√d_model) as well.", _noam(_without_d_model)),
    Mistake(
        "max-not-min",
        "Take the smaller of the two branches (min): the rate rises during warmup and then decays.",
        _noam(_max_not_min),
    ),
    Mistake(
        "cosine-without-half",
        "The cosine schedule is (1 + cos(π p)) / 2, which runs from 1 down to 0; cos(π p) alone goes negative.",
        _decay("cosine", _cosine_without_half),
    ),
    Mistake(
        "decays-to-zero",
        "The schedule ends at lr_min, not at 0: lr_min + (lr_max − lr_min) · (...).",
        _decay("cosine", _to_zero(schedules.cosine)),
    ),
    Mistake(
        "decays-to-zero",
        "The schedule ends at lr_min, not at 0: lr_min + (lr_max − lr_min) · (...).",
        _decay("linear", _to_zero(schedules.linear)),
    ),
    Mistake(
        "upside-down",
        "The linear schedule falls: the factor is 1 − p, with p the fraction of the decay already done.",
        _decay("linear", _linear_upwards),
    ),
    Mistake(
        "warmup-ignored",
        "During warmup the rate climbs linearly from 0: lr_max · step / warmup.",
        _warmup_ignored,
    ),
)
