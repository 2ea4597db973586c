"""Learning-rate schedules: level 1 Noam with d_model, warmup and step all perfect squares (every
root is whole, warmup^1.5 a cube) or a linear schedule whose step falls on a twentieth of the run;
level 2 the paper's Noam (d_model 512, warmup 4000: a table gives √2 and √10) at a square step, or
cosine decay stopped where cos(π p) is a value known by heart (p a multiple of 1/6 or 1/4); level 3
any step of a realistic Noam, cosine or linear run (calculator work, cosines in radians).

The rates are small (0.0007): the grader asks a whole answer that small to significant figures, and
the screen judges it the same way.
"""

from __future__ import annotations

from decimal import Decimal

import sympy as sp

PEAKS = ("0.001", "0.0006", "0.0003")
NICE_PROGRESS = (
    (1, 6),
    (1, 4),
    (1, 3),
    (1, 2),
    (2, 3),
    (3, 4),
    (5, 6),
)


def _square_step(rng, low: int, high: int, avoid: int) -> str:
    """A perfect-square step j² with low ≤ j ≤ high, not the end of warmup (both branches agree there)."""
    while True:
        root = rng.randint(low, high)
        if root * root != avoid:
            return str(root * root)


def _decay(rng, schedule: str, length: int, warmup: int, step: int) -> dict:
    peak = rng.choice(PEAKS)
    return {
        "schedule": schedule,
        "step": str(step),
        "total": str(warmup + length),
        "warmup": str(warmup),
        "lr_max": peak,
        "lr_min": rng.choice(["0", format(Decimal(peak) / 10, "f")]),  # a tenth of the peak, as LLaMA
    }


def level_1(rng):
    if rng.random() < 0.5:
        root = rng.choice([20, 30, 40, 50])  # with d_model ≥ 256 the peak stays below 0.005
        return {
            "schedule": "noam",
            "step": _square_step(rng, 2, 2 * root, root * root),
            "d_model": str(rng.choice([256, 1024, 4096])),
            "warmup": str(root * root),
        }
    length, warmup = rng.choice([(1900, 100), (2000, 0), (900, 100), (4000, 0)])
    step = rng.choice([s for s in range(0, warmup + length + 1, (warmup + length) // 20) if s])
    return _decay(rng, "linear", length, warmup, step)


def level_2(rng):
    if rng.random() < 0.5:
        return {
            "schedule": "noam",
            "step": _square_step(rng, 10, 150, 4000),
            "d_model": "512",
            "warmup": "4000",
        }
    length = rng.choice([1200, 2400, 6000])
    warmup = rng.choice([0, 100, 200])
    if warmup and rng.random() < 0.25:
        return _decay(rng, "cosine", length, warmup, rng.randrange(10, warmup, 10))
    numerator, denominator = rng.choice(NICE_PROGRESS)
    return _decay(rng, "cosine", length, warmup, warmup + length * numerator // denominator)


def level_3(rng):
    schedule = rng.choice(["noam", "cosine", "linear"])
    if schedule == "noam":
        warmup = rng.choice([2000, 4000, 8000])
        return {
            "schedule": "noam",
            "step": str(rng.choice([s for s in range(100, 5 * warmup, 100) if s != warmup])),
            "d_model": str(rng.choice([512, 768, 1024])),
            "warmup": str(warmup),
        }
    length = rng.choice([9000, 18000, 45000])
    warmup = rng.choice([0, 500, 1000])
    return _decay(rng, schedule, length, warmup, rng.randrange(100, warmup + length, 100))


SYMBOLS = {
    "schedule": None,
    "step": sp.Symbol("step"),
    "d_model": sp.Symbol("d_model"),
    "warmup": sp.Symbol("warmup"),
    "total": sp.Symbol("total"),
    "lr_max": sp.Symbol("lr_max"),
    "lr_min": sp.Symbol("lr_min"),
}


def task(given):
    schedule = given["schedule"]
    if schedule == "noam":
        return (
            "Give the learning rate at this step of the Noam schedule of Attention Is All You Need: "
            "d_model^(-0.5) · min(step^(-0.5), step · warmup^(-1.5)), steps counted from 1."
        )
    shape = "cosine decay (1 + cos(π p))/2" if schedule == "cosine" else "linear decay 1 − p"
    warm = " after a linear warmup from 0" if given["warmup"] != "0" else ""
    return (
        f"Give the learning rate at this step: {shape} from lr_max to lr_min{warm}, p the fraction of "
        "the decay done, steps counted from 0."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
