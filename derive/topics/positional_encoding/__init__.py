"""Sinusoidal positional encoding: the divisor of each dimension pair, the angles, and the table.

Convention (DESIGN.md): PE(pos, 2i) = sin(pos / base^(2i/d_model)), PE(pos, 2i+1) = cos(...),
positions counted from 0. ``--layout concatenated`` puts all the sines first and then all the
cosines (PE(pos, i) and PE(pos, d_model/2 + i)), as TensorFlow's Transformer tutorial does. A student sees the divisor both as written (10000^(2/4)) and
collapsed (100); the entries keep the collapsed angle, sin(1/100), beside their decimals.
"""

from __future__ import annotations

from derive import inputs, limits
from derive.exact import positional
from derive.model import Givens, Option, Stage, Topic
from derive.topics.positional_encoding import explain, stages


def _d_model(value, option):
    return inputs.even_width(value, option, 2, limits.MAX_D_MODEL)


def _positions(value, option):
    return inputs.integer(value, option, 1, limits.MAX_POSITIONS)


def _prepare(options) -> Givens:
    positions, d, base, layout = options["positions"], options["d_model"], options["base"], options["layout"]
    params = {"positions": positions, "d_model": d, "base": str(base), "layout": layout}
    values = {"positions": positions, "d_model": d, "base": base, "layout": layout}
    intro = explain.intro(positions, d, base, layout)
    return Givens("Sinusoidal positional encoding", values, intro, params)


def _sample(rng):
    return {
        "positions": str(int(rng.integers(1, 7))),
        "d_model": str(2 * int(rng.integers(1, 5))),
        "base": str(rng.choice(["10000", "100", "10", "3/2"])),
        "layout": str(rng.choice(positional.LAYOUTS)),
    }


def _reference(options):
    import numpy as np

    from derive import forward

    positions, d, base = options["positions"], options["d_model"], float(options["base"])
    two_i = np.arange(0, d, 2, dtype=np.float64)  # (d/2,)
    angles = np.arange(positions, dtype=np.float64)[:, None] / base ** (two_i / d)  # (P, d/2)
    pe = forward.sinusoidal_positional_encoding(positions, d, base)  # (P, d) interleaved
    if options["layout"] == "concatenated":
        pe = np.concatenate([pe[:, 0::2], pe[:, 1::2]], axis=1)  # (P, d) sines, then cosines
    return {"angles": angles, "pe": pe}


TOPIC = Topic(
    name="positional-encoding",
    summary="Sinusoidal positional encoding: divisors, angles and the full sin/cos table",
    options=(
        Option(
            "positions",
            f"how many positions, 1 to {limits.MAX_POSITIONS} (counted from 0)",
            _positions,
            required=True,
        ),
        Option(
            "d_model",
            f"the model width: an even number from 2 to {limits.MAX_D_MODEL}",
            _d_model,
            required=True,
        ),
        Option("base", "the base of the wavelengths, greater than 1", inputs.base, default="10000"),
        Option(
            "layout",
            "interleaved (sin and cos alternate, as in the paper) or concatenated (all sines, then all "
            "cosines, as in TensorFlow's Transformer tutorial)",
            inputs.choice(*positional.LAYOUTS),
            default="interleaved",
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "divisors",
            "The divisor of each dimension pair",
            stages.divisors,
            explain.explain_divisors,
            answer=False,
        ),
        Stage(
            "angles",
            "The angles",
            stages.angles,
            explain.explain_angles,
            mistakes=(stages.ANGLES_INDEX_DOUBLED,),
        ),
        Stage(
            "pe",
            "Sine and cosine",
            stages.pe,
            explain.explain_pe,
            mistakes=(
                stages.DEGREES,
                stages.SWAPPED,
                stages.SWAPPED_HALVES,
                stages.PE_INDEX_DOUBLED,
                stages.CONCATENATED_FOR_INTERLEAVED,
                stages.INTERLEAVED_FOR_CONCATENATED,
            ),
        ),
    ),
    result="pe",
    examples={
        "small": {"positions": "4", "d_model": "4"},
        "paper": {"positions": "3", "d_model": "8"},
        "tutorial": {"positions": "4", "d_model": "4", "layout": "concatenated"},
    },
    example_notes={
        "small": "4 positions at d_model 4: divisors 1 and 100",
        "paper": "3 positions at d_model 8 with base 10000, as in Attention Is All You Need",
        "tutorial": "the small example with all sines first, as TensorFlow's Transformer tutorial lays it out",
    },
    sample=_sample,
    reference=_reference,
)
