"""Optimizer step: level 1 plain SGD (sometimes with L2 weight decay 0.1) or SGD with momentum from a
given buffer, on small integers with lr 0.1 or 0.5; level 2 Adam with β₂ = 0.95 (GPT-3's and
LLaMA's value) and ε = 0, at its first step or its second from the state one integer gradient
left (√ needs a calculator there); level 3 AdamW with decoupled decay λ = 0.1 on decimals, at step
2 to 5 from a given state (calculator work). ε is 0 throughout: PyTorch's 10⁻⁸ changes no answer at
a sheet's decimals and turns every exact form in the key into nested fractions.

Level 1 mixes SGD and momentum: a sheet that asks m gets momentum problems only.
"""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw

BETA1, BETA2 = "0.9", "0.95"


def _size(rng) -> int:
    return rng.choice([2, 3])


def level_1(rng):
    size = _size(rng)
    given = {
        "optimizer": rng.choice(["sgd", "momentum"]),
        "params": draw.vector_text(draw.nonzero_row(rng, size, -3, 3)),
        "grad": draw.vector_text(draw.nonzero_entries(rng, size, -3, 3)),
        "lr": rng.choice(["0.1", "0.5"]),
    }
    if given["optimizer"] == "sgd":
        given["weight_decay"] = rng.choice(["0", "0.1"])
    else:
        given["m"] = draw.vector_text(draw.nonzero_row(rng, size, -2, 2))
    return given


def level_2(rng):
    size = _size(rng)
    given = {
        "optimizer": "adam",
        "params": draw.vector_text(draw.nonzero_row(rng, size, -3, 3)),
        "grad": draw.vector_text(draw.nonzero_entries(rng, size, -3, 3)),
        "lr": "0.1",
        "beta1": BETA1,
        "beta2": BETA2,
        "eps": "0",
        "step": rng.choice(["1", "2"]),
    }
    if given["step"] == "2":
        previous = draw.nonzero_entries(rng, size, -3, 3)
        given["m"] = draw.vector_text([f"{g / 10:g}" for g in previous])
        given["v"] = draw.vector_text([f"{g * g / 20:g}" for g in previous])
    return given


def level_3(rng):
    size = _size(rng)
    first = draw.tenths(rng, size, -10, 10)
    # v at least m² (a mean of squares is at least the square of a mean, near enough for a state)
    second = [
        f"{round(float(m) ** 2 + float(extra), 2):g}"
        for m, extra in zip(first, draw.hundredths(rng, size, 1, 30))
    ]
    return {
        "optimizer": "adamw",
        "params": draw.vector_text(draw.tenths(rng, size, -60, 60)),
        "grad": draw.vector_text(draw.tenths(rng, size, -20, 20)),
        "lr": "0.1",
        "weight_decay": "0.1",
        "beta1": BETA1,
        "beta2": BETA2,
        "eps": "0",
        "step": str(rng.randint(2, 5)),
        "m": draw.vector_text(first),
        "v": draw.vector_text(second),
    }


def moot(given):
    """ε inside or outside the root cannot change the answer when ε is 0."""
    return ("eps-inside-root",)


SYMBOLS = {
    "optimizer": None,
    "params": sp.Symbol("theta"),
    "grad": sp.Symbol("g"),
    "lr": sp.Symbol("eta"),
    "weight_decay": sp.Symbol("lambda"),
    "beta1": sp.Symbol("beta_1"),
    "beta2": sp.Symbol("beta_2"),
    "eps": sp.Symbol("epsilon"),
    "step": sp.Symbol("t"),
    "m": sp.Symbol("m_t-1"),
    "v": sp.Symbol("v_t-1"),
}

_NAMES = {"sgd": "plain SGD", "momentum": "SGD with momentum μ = 0.9", "adam": "Adam", "adamw": "AdamW"}


def task(given):
    optimizer = given["optimizer"]
    text = f"Take one step of {_NAMES[optimizer]} (as torch.optim computes it) from the parameters θ"
    text += " with the gradient g and learning rate η"
    if optimizer == "momentum":
        text += "; the momentum buffer before the step is m_t-1"
    if optimizer in ("adam", "adamw") and "m" in given:
        text += "; this is step t, the moments before it are m_t-1 and v_t-1"
    elif optimizer in ("adam", "adamw"):
        text += "; this is the first step (t = 1, both moments start at 0)"
    if given.get("weight_decay", "0") != "0":
        kind = "decoupled" if optimizer == "adamw" else "L2"
        text += f"; weight decay λ is {kind}"
    return text + ". Give the new moments where the optimizer keeps them, the update and the new θ."


def refuse(answer, level):
    """Level 1 is SGD or momentum: no second moment, no bias correction."""
    if level == 1 and answer in ("v", "m_hat", "v_hat"):
        return "level 1 is SGD or SGD with momentum, which keep no second moment and correct no bias"
    return None


LEVELS = {1: level_1, 2: level_2, 3: level_3}
