"""Dot product, norms, cosine similarity and the angle between two vectors.

The headline answer (``result``) is the cosine: it is the number attention-style similarity
is about, and it depends on direction only, whereas the dot product also grows with length.
"""

from __future__ import annotations

from derive import inputs, limits
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.dot_product import explain, stages


def _prepare(options) -> Givens:
    va, vb = options["a"], options["b"]
    limits.check_shape("--a", va, rows=1, cols=limits.MAX_DIM)
    limits.check_shape("--b", vb, rows=1, cols=limits.MAX_DIM)
    if va.cols != vb.cols:
        raise InputError(
            "--b",
            f"has {vb.cols} entries but --a has {va.cols}; a dot product needs vectors of the same length",
        )
    for flag, vector in (("--a", va), ("--b", vb)):
        if all(stages.is_zero(e) for e in vector):
            raise InputError(
                flag, "is the zero vector: its length is 0, so the cosine and the angle are undefined"
            )
    params = {"a": [str(e) for e in va], "b": [str(e) for e in vb]}
    return Givens("Dot product and cosine similarity", {"a": va, "b": vb}, explain.intro(va, vb), params)


def _sample(rng):
    size = int(rng.integers(1, 6))
    while True:
        va, vb = (rng.integers(-6, 7, size) for _ in range(2))
        if va.any() and vb.any():
            break
    fractions = ["1/2", "-1/3", "sqrt(2)", "0.5"]
    if size > 1 and rng.random() < 0.3:
        va[0] = 0
        text_a = " ".join([str(rng.choice(fractions))] + [str(int(x)) for x in va[1:]])
    else:
        text_a = " ".join(str(int(x)) for x in va)
    return {"a": text_a, "b": " ".join(str(int(x)) for x in vb)}


def _reference(options):
    import numpy as np

    from derive import forward

    va = np.array([float(e) for e in options["a"]])
    vb = np.array([float(e) for e in options["b"]])
    cosine = forward.cosine_similarity(va, vb)
    return {
        "dot": float(va @ vb),
        "norm_a": float(np.linalg.norm(va)),
        "norm_b": float(np.linalg.norm(vb)),
        "cosine": cosine,
        "angle": float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))),
    }


TOPIC = Topic(
    name="dot-product",
    summary="Dot product, norms, cosine similarity and the angle between two vectors",
    options=(
        Option("a", "the first vector, such as '1 2 3'", inputs.symbolic(inputs.vector), required=True),
        Option(
            "b",
            "the second vector, with as many entries as --a",
            inputs.symbolic(inputs.vector),
            required=True,
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage("dot", "Multiply and add", stages.dot, explain.explain_dot),
        Stage(
            "norm_a",
            "The length of a",
            stages.norm_a,
            explain.explain_norm_a,
            mistakes=(stages.NORM_A_WITHOUT_SQRT,),
        ),
        Stage(
            "norm_b",
            "The length of b",
            stages.norm_b,
            explain.explain_norm_b,
            mistakes=(stages.NORM_B_WITHOUT_SQRT,),
        ),
        Stage(
            "cosine",
            "Cosine similarity",
            stages.cosine,
            explain.explain_cosine,
            mistakes=(stages.UNNORMALISED_COSINE,),
        ),
        Stage("angle", "The angle", stages.angle, explain.explain_angle, mistakes=(stages.RADIANS,)),
    ),
    result="cosine",
    examples={
        "basic": {"a": "1 2 3", "b": "4 5 6"},
        "obtuse": {"a": "1 3", "b": "2 -4"},
        "orthogonal": {"a": "1 2 3", "b": "3 0 -1"},
        "opposite": {"a": "1 -2", "b": "-3 6"},
    },
    example_notes={
        "basic": "(1, 2, 3)·(4, 5, 6): nearly parallel, about 12.9°",
        "obtuse": "(1, 3)·(2, -4) = -10: an exact 135°",
        "orthogonal": "dot product 0: a right angle",
        "opposite": "(1, -2) and (-3, 6) point in opposite directions: 180°",
    },
    sample=_sample,
    reference=_reference,
)
