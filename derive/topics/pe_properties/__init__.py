"""Positional encodings in depth: why sine and cosine, the wavelengths, and two proofs done by SymPy.

Proof 1: moving k positions on rotates every (sin, cos) pair by the angle ω_i·k, so PE(p + k) is a
block-diagonal matrix M_k, which depends on k alone, times PE(p). Proof 2: PE(p)·PE(q) is
Σ cos((p − q)·ω_i), a function of p − q alone. Both identities are checked symbolically when the
derivation runs (the residual SymPy prints is computed, not typed in), for one generic pair and
for the whole vector at the given d_model (see ``proofs``). PE vectors are columns in the proofs,
rows elsewhere.
"""

from __future__ import annotations

from derive import inputs
from derive.model import Givens, Option, Stage, Topic
from derive.topics.pe_properties import explain, stages

MAX_D = 16


def _d_model(value, option):
    return inputs.even_width(value, option, 2, MAX_D)


def _offset(value, option):
    return inputs.integer(value, option, 0, 10_000)


def _prepare(options) -> Givens:
    d, base, offset = options["d_model"], options["base"], options["offset"]
    params = {"d_model": d, "base": str(base), "offset": offset}
    values = {"d_model": d, "base": base, "k": offset}
    return Givens("Positional encodings in depth", values, explain.intro(d, base, offset), params)


def _sample(rng):
    return {
        "d_model": str(2 * int(rng.integers(1, 9))),
        "base": str(rng.choice(["10000", "100", "10", "3/2"])),
        "offset": str(int(rng.integers(0, 20))),
    }


def _reference(options):
    import numpy as np

    from derive import forward

    d, offset, base = options["d_model"], options["offset"], float(options["base"])
    frequencies = base ** (-np.arange(0, d, 2) / d)  # (d/2,)
    rotation = np.zeros((d, d))  # (d, d)
    for n, angle in enumerate(frequencies * offset):
        c, s = np.cos(angle), np.sin(angle)
        rotation[2 * n : 2 * n + 2, 2 * n : 2 * n + 2] = [[c, s], [-s, c]]
    pe = forward.sinusoidal_positional_encoding(stages.GRID, d, base)  # (4, d)
    return {
        "frequencies": frequencies,
        "wavelengths": 2 * np.pi / frequencies,
        "rotation": rotation,
        "dot_products": pe @ pe.T,  # (4, 4)
    }


TOPIC = Topic(
    name="pe-properties",
    summary="Positional encodings in depth: wavelengths, shift = rotation and dot product = f(p − q), proved",
    options=(
        Option("d_model", f"the model width: an even number from 2 to {MAX_D}", _d_model, required=True),
        Option("base", "the base of the wavelengths, greater than 1", inputs.base, default="10000"),
        Option("offset", "the shift k in positions, 0 to 10000", _offset, default="1"),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "frequencies",
            "Why sine and cosine; the frequencies",
            stages.frequencies,
            explain.explain_frequencies,
            mistakes=(stages.FREQUENCY_INVERTED,),
        ),
        Stage(
            "wavelengths",
            "The wavelength of each pair",
            stages.wavelengths,
            explain.explain_wavelengths,
            mistakes=(stages.WAVELENGTH_WITHOUT_2PI,),
        ),
        Stage(
            "rotation",
            "Proof 1: a shift by k is a rotation",
            stages.rotation,
            explain.explain_rotation,
            mistakes=(stages.ROTATION_TRANSPOSED,),
        ),
        Stage(
            "dot_products",
            "Proof 2: the dot product depends only on p − q",
            stages.dot_products,
            explain.explain_dot_products,
            mistakes=(stages.ANGLE_SUM,),
        ),
        Stage(
            "learned",
            "Contrast: learned position embeddings",
            lambda v: None,
            explain.explain_learned,
            answer=False,
        ),
        Stage(
            "added", "Adding PE to the token embeddings", lambda v: None, explain.explain_added, answer=False
        ),
    ),
    result="dot_products",
    examples={
        "small": {"d_model": "4"},
        "shift3": {"d_model": "6", "offset": "3"},
        "base10": {"d_model": "4", "base": "10", "offset": "2"},
    },
    example_notes={
        "small": "d_model 4, shift by 1: frequencies 1 and 1/100, wavelengths 2π and 200π",
        "shift3": "d_model 6, shift by 3: wavelengths with cube roots, M_3 block by block",
        "base10": "base 10 at d_model 4: frequencies 1 and 1/√10",
    },
    sample=_sample,
    reference=_reference,
)
