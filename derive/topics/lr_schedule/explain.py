"""What the lr-schedule topic shows: the formula, the substitution, the branch in force, the curve."""

from __future__ import annotations

import sympy as sp

from derive.blocks import curves, eq, needs_approx, prose, rounded, same
from derive.exact import schedules
from derive.forms import Ratio, shown_sum
from derive.topics.lr_schedule.stages import in_warmup

step, d_model, warmup, total, p = sp.symbols("step d_model warmup total p")
lr_max, lr_min = sp.symbols("lr_max lr_min")
LR = sp.Function("lr")(step)
MIN = sp.Function("min")  # written, never evaluated: the branch in force is named in the prose
CURVE_POINTS = 200
NAMES = {"noam": "Noam schedule", "cosine": "Cosine schedule", "linear": "Linear schedule"}


def _root(n):
    """√n as written: every printer keeps it (√4000, not 20√10)."""
    return sp.Pow(sp.Integer(n), sp.Rational(1, 2), evaluate=False)


def _pow(base, exponent):
    return sp.Pow(base, exponent, evaluate=False)


def _times(*factors):
    return sp.Mul(*factors, evaluate=False)


def _approx(value):
    return value if needs_approx(value) else None


def general(schedule, hi=lr_max, lo=lr_min, fraction=p):
    """The schedule's formula after warmup, in letters or with values written in (nothing evaluated)."""
    if schedule == "noam":
        return Ratio(
            MIN(Ratio(1, sp.sqrt(step)), Ratio(step, _pow(warmup, sp.Rational(3, 2)))), sp.sqrt(d_model)
        )
    if schedule == "cosine":
        fall = Ratio(shown_sum([1, sp.cos(_times(sp.pi, fraction), evaluate=False)]), 2)
    else:
        fall = shown_sum([1, -fraction])
    return shown_sum([lo, _times(shown_sum([hi, -lo]), fall)])


INTRO = {
    "noam": 'The learning rate of the original Transformer ("Attention Is All You Need", section 5.3) rises '
    "linearly for the first {warmup} steps and then decays as the inverse square root of the step:",
    "cosine": "The rate follows half a cosine wave from {lr_max} down to {lr_min} over the steps after warmup "
    "(PyTorch's CosineAnnealingLR scheduler when there is no warmup; Hugging Face's cosine schedule with "
    "warmup when {lr_min} = 0):",
    "linear": "The rate falls in a straight line from {lr_max} to {lr_min} over the steps after warmup "
    "(PyTorch's LinearLR scheduler when there is no warmup; Hugging Face's linear schedule with warmup when "
    "{lr_min} = 0):",
}


def intro(v) -> tuple:
    blocks = [
        prose(INTRO[v.schedule], warmup=warmup, lr_max=lr_max, lr_min=lr_min),
        eq(LR, general(v.schedule)),
    ]
    if v.schedule == "noam":
        blocks.append(
            prose(
                "Here {d}, {w} and {s}. The two branches meet at {meet}, where the rate peaks.",
                d=same(d_model, v.d_model),
                w=same(warmup, v.warmup),
                s=same(step, v.step),
                meet=same(step, warmup),
            )
        )
        return tuple(blocks)
    blocks.append(
        prose(
            "where {p} is the fraction of the decay already done. Here {s} of {t}, {hi} and {lo}.",
            p=same(p, Ratio(shown_sum([step, -warmup]), shown_sum([total, -warmup]))),
            s=same(step, v.step),
            t=same(total, v.total),
            hi=same(lr_max, v.lr_max),
            lo=same(lr_min, v.lr_min),
        )
    )
    if v.warmup:
        blocks.append(
            prose(
                "The first {w} steps warm up linearly from 0: {ramp}.",
                w=same(warmup, v.warmup),
                ramp=same(LR, Ratio(_times(lr_max, step), warmup)),
            )
        )
    return tuple(blocks)


def _noam(v):
    early = Ratio(1, _root(v.step))
    late = Ratio(v.step, _times(v.warmup, _root(v.warmup)))
    decay, rise = (
        sp.Integer(v.step) ** sp.Rational(-1, 2),
        v.step * sp.Integer(v.warmup) ** sp.Rational(-3, 2),
    )
    if v.step == v.warmup:
        verdict = "The two branches are equal: step = warmup is the peak of the schedule, so"
    elif v.step < v.warmup:
        verdict = (
            "The second branch is smaller: the step is still in warmup, where the rate rises linearly, so"
        )
    else:
        verdict = "The first branch is smaller: warmup is over and the rate decays as 1/√step, so"
    return (
        prose("Substitute, then compare the two branches of the min:"),
        eq(
            LR.subs(step, v.step),
            Ratio(MIN(early, late), _root(v.d_model)),
        ),
        eq(early, decay, approx=_approx(decay)),
        eq(late, rise, approx=_approx(rise)),
        prose(verdict),
        *_value(v),
        *(() if v.step == v.warmup else (_peak(v),)),
    )


def _digits(value) -> int:
    """Decimals that keep five significant digits of a small rate (6.9877e-4 needs 8)."""
    value = abs(sp.N(value, 30))
    return 0 if value == 0 else max(0, 4 - int(sp.floor(sp.log(value, 10))))


def _value(v):
    return (
        eq(LR.subs(step, v.step), v.lr),
        prose("that is, {lhs} ≈ {lr}.", lhs=LR.subs(step, v.step), lr=rounded(v.lr, _digits(v.lr))),
    )


def _peak(v):
    peak = schedules.noam(v.warmup, v.d_model, v.warmup)
    return prose(
        "The peak, at {s}, is {lhs} ≈ {peak}.",
        s=same(step, v.warmup),
        lhs=LR.subs(step, v.warmup),
        peak=rounded(peak, _digits(peak)),
    )


def _decay(v):
    if in_warmup(v):
        return (
            prose("Step {s} is still in warmup:", s=v.step),
            eq(LR.subs(step, v.step), Ratio(_times(v.lr_max, v.step), v.warmup)),
            *_value(v),
        )
    progress = schedules.progress(v.step, v.warmup, v.total)
    return (
        prose("The fraction of the decay done:"),
        eq(p, *_fraction(v), progress),
        prose("Substitute:"),
        eq(LR.subs(step, v.step), general(v.schedule, v.lr_max, v.lr_min, progress)),
        *_value(v),
    )


def _fraction(v):
    if not v.warmup:
        return (Ratio(v.step, v.total),)
    return (Ratio(shown_sum([v.step, -v.warmup]), shown_sum([v.total, -v.warmup])),)


def learning_rate(v):
    blocks = _noam(v) if v.schedule == "noam" else _decay(v)
    return (*blocks, _figure(v))


def _figure(v):
    if v.schedule == "noam":
        first, last = 1, max(3 * v.warmup, v.step + v.step // 5, 10)
    else:
        first, last = 0, v.total
    span = last - first
    xs = sorted({first + round(span * k / (CURVE_POINTS - 1)) for k in range(CURVE_POINTS)})
    values = [float(_at(v, x)) for x in xs]
    return curves(
        "lr-schedule",
        NAMES[v.schedule],
        xs,
        {NAMES[v.schedule]: values},
        "step",
        "learning rate",
        points={f"step {v.step}": (v.step, v.lr)},
    )


def _at(v, x):
    if v.schedule == "noam":
        return schedules.noam(x, v.d_model, v.warmup)
    decay = schedules.cosine if v.schedule == "cosine" else schedules.linear
    return decay(x, v.total, v.lr_max, v.lr_min, v.warmup)
