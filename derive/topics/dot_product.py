"""Dot product, norms, cosine similarity and the angle between two vectors.

The headline answer (``result``) is the cosine: it is the number attention-style similarity
is about, and it depends on direction only, whereas the dot product also grows with length.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.blocks import eq, needs_approx, prose, unevaluated_dot, unevaluated_sum, vectors
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic

a, b, theta = sp.symbols("a b theta")
a_i, b_i = sp.symbols("a_i b_i")
i, n = sp.symbols("i n", integer=True, positive=True)
COS = sp.cos(theta)
DEGREES = sp.Integer(180) / sp.pi
WORK_DPS = 30
TINY = sp.Float("1e-25", WORK_DPS)


def _numeric(value) -> sp.Float:
    return sp.N(value, WORK_DPS)


def _is_zero(value) -> bool:
    """Exact when SymPy can decide; otherwise zero to 25 digits (tiny inputs such as 1e-30 are decided)."""
    known = sp.sympify(value).is_zero
    return known if known is not None else abs(_numeric(value)) < TINY


def _tidy(value):
    """A readable exact form: rationalised surds, and ±1 recognised even when SymPy does not see it."""
    rationalised = sp.radsimp(value)
    if sp.count_ops(rationalised) <= sp.count_ops(value):
        value = rationalised
    for one in (sp.Integer(1), sp.Integer(-1)):
        if value != one and _is_zero(value - one) and sp.simplify(value - one) == 0:
            return one
    return value


def _entries(vector) -> list:
    return list(vector)


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
        if all(_is_zero(e) for e in vector):
            raise InputError(
                flag, "is the zero vector: its length is 0, so the cosine and the angle are undefined"
            )
    params = {"a": [str(e) for e in va], "b": [str(e) for e in vb]}
    intro = (
        prose(
            "The dot product multiplies two vectors entry by entry and adds the products. Divided by "
            "both lengths it becomes the cosine of the angle between them, which measures how well "
            "they point the same way regardless of how long they are. The two vectors have "
            "{count} entries each:",
            count=va.cols,
        ),
        eq(a, va),
        eq(b, vb),
        eq(a * b, sp.Sum(a_i * b_i, (i, 1, n))),
        eq(COS, a * b / (sp.Abs(a) * sp.Abs(b))),
    )
    return Givens("Dot product and cosine similarity", {"a": va, "b": vb}, intro, params)


def _distinct(*parts):
    """Drop a part that prints the same as the one before it (e.g. when every entry is 1)."""
    kept = []
    for part in parts:
        if not kept or str(part) != str(kept[-1]):
            kept.append(part)
    return kept


def _dot(v):
    return sum((x * y for x, y in zip(v.a, v.b, strict=True)), sp.Integer(0))


def _explain_dot(v):
    products = [x * y for x, y in zip(v.a, v.b, strict=True)]
    parts = _distinct(a * b, unevaluated_dot(_entries(v.a), _entries(v.b)), unevaluated_sum(products), v.dot)
    return (
        prose("Multiply the matching entries and add the products:"),
        eq(*parts, approx=v.dot if needs_approx(v.dot) else None),
    )


def _norm(vector):
    return sp.sqrt(sum((e**2 for e in vector), sp.Integer(0)))


def _explain_norm(name, vector, value):
    with sp.evaluate(False):
        written = sp.sqrt(unevaluated_sum([sp.Pow(e, 2) for e in vector]))
    squares = sp.sqrt(unevaluated_sum([e**2 for e in vector]))
    parts = _distinct(sp.Abs(name), written, squares, value)
    return (
        prose(
            "The length (Euclidean norm) of {name} is the square root of the sum of its squared entries:",
            name=name,
        ),
        eq(*parts, approx=value if needs_approx(value) else None),
    )


def _sum_of_squares(vector):
    return sum((e**2 for e in vector), sp.Integer(0))


def _cosine(v):
    return _tidy(v.dot / (v.norm_a * v.norm_b))


def _explain_cosine(v):
    with sp.evaluate(False):
        written = sp.Mul(v.dot, sp.Pow(sp.Mul(v.norm_a, v.norm_b), -1))
    return (
        prose(
            "Divide the dot product by both lengths. The result always lies between -1 and 1 "
            "(the Cauchy-Schwarz inequality):"
        ),
        eq(
            *_distinct(COS, a * b / (sp.Abs(a) * sp.Abs(b)), written, v.cosine),
            approx=v.cosine if needs_approx(v.cosine) else None,
        ),
    )


def _angle(v):
    return _tidy(DEGREES * sp.acos(v.cosine))


def _alignment(cosine) -> str:
    value = _numeric(cosine)
    if _is_zero(cosine - 1):
        return (
            "The cosine is exactly 1: the vectors point in the same direction (one is a positive "
            "multiple of the other), the strongest possible alignment."
        )
    if _is_zero(cosine + 1):
        return (
            "The cosine is exactly -1: the vectors point in opposite directions (one is a negative "
            "multiple of the other)."
        )
    if _is_zero(cosine):
        return (
            "The cosine is 0, so the vectors are orthogonal (at right angles): neither has any "
            "component along the other, and an attention score built from them would be 0."
        )
    if value > 0:
        return (
            "The cosine is positive, so the angle is acute (under 90°): the vectors point broadly the "
            "same way. The closer the cosine is to 1, the closer they are to parallel."
        )
    return (
        "The cosine is negative, so the angle is obtuse (over 90°): the vectors point broadly in "
        "opposite directions. The closer the cosine is to -1, the closer they are to opposite."
    )


def _explain_angle(v):
    def in_degrees(arc):
        return sp.Mul(sp.Integer(180), arc, sp.Pow(sp.pi, -1), evaluate=False)

    arc = sp.acos(v.cosine)
    parts = [theta, in_degrees(sp.acos(v.cosine, evaluate=False))]
    if not arc.has(sp.acos):
        parts.append(in_degrees(arc))
    blocks = [
        prose(
            "The angle is the inverse cosine, {acos}. It comes out in radians; multiply by 180 and "
            "divide by {pi} to get degrees:",
            acos=sp.acos(COS),
            pi=sp.pi,
        ),
        eq(*_distinct(*parts, v.angle), approx=v.angle if needs_approx(v.angle) else None),
    ]
    if v.angle.is_Rational:
        blocks.append(prose("So the angle between a and b is exactly {deg} degrees.", deg=v.angle))
    blocks.append(prose(_alignment(v.cosine)))
    blocks.append(_picture(v))
    return tuple(blocks)


def _picture(v):
    """Two-dimensional vectors as they are; longer ones drawn in the plane they span, angle intact."""
    if len(v.a) == 2:
        return vectors("dot-product-angle", "a and b", {"a": tuple(v.a), "b": tuple(v.b)})
    angle = sp.acos(v.cosine)
    b = (v.norm_b * sp.cos(angle), v.norm_b * sp.sin(angle))
    return vectors("dot-product-angle", "a and b in the plane they span", {"a": (v.norm_a, 0), "b": b})


def _unnormalised(v):
    return v.dot


def _radians(v):
    return sp.acos(v.cosine)


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


NORM_HINT = "The length is the square root of the sum of squares: take the square root at the end."

TOPIC = Topic(
    name="dot-product",
    summary="Dot product, norms, cosine similarity and the angle between two vectors",
    options=(
        Option("a", "the first vector, such as '1 2 3'", inputs.vector, required=True),
        Option("b", "the second vector, with as many entries as --a", inputs.vector, required=True),
    ),
    prepare=_prepare,
    stages=(
        Stage("dot", "Multiply and add", _dot, _explain_dot),
        Stage(
            "norm_a",
            "The length of a",
            lambda v: _norm(v.a),
            lambda v: _explain_norm(a, v.a, v.norm_a),
            mistakes=(Mistake("norm-without-sqrt", NORM_HINT, lambda v: _sum_of_squares(v.a)),),
        ),
        Stage(
            "norm_b",
            "The length of b",
            lambda v: _norm(v.b),
            lambda v: _explain_norm(b, v.b, v.norm_b),
            mistakes=(Mistake("norm-without-sqrt", NORM_HINT, lambda v: _sum_of_squares(v.b)),),
        ),
        Stage(
            "cosine",
            "Cosine similarity",
            _cosine,
            _explain_cosine,
            mistakes=(
                Mistake(
                    "unnormalised-cosine",
                    "Divide the dot product by both lengths, |a|·|b|, to get the cosine.",
                    _unnormalised,
                ),
            ),
        ),
        Stage(
            "angle",
            "The angle",
            _angle,
            _explain_angle,
            mistakes=(Mistake("radians", "acos gives radians: multiply by 180/π to get degrees.", _radians),),
        ),
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
