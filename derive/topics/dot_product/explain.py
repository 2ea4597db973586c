"""What each dot-product stage shows a student: the products, the lengths, the cosine, the angle."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, needs_approx, prose, unevaluated_dot, unevaluated_sum, vectors
from derive.topics.dot_product.stages import is_zero, numeric

a, b, theta = sp.symbols("a b theta")
a_i, b_i = sp.symbols("a_i b_i")
i, n = sp.symbols("i n", integer=True, positive=True)
COS = sp.cos(theta)


def intro(va, vb) -> tuple:
    return (
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


def _distinct(*parts):
    """Drop a part that prints the same as the one before it (e.g. when every entry is 1)."""
    kept = []
    for part in parts:
        if not kept or str(part) != str(kept[-1]):
            kept.append(part)
    return kept


def explain_dot(v):
    products = [x * y for x, y in zip(v.a, v.b, strict=True)]
    parts = _distinct(a * b, unevaluated_dot(list(v.a), list(v.b)), unevaluated_sum(products), v.dot)
    return (
        prose("Multiply the matching entries and add the products:"),
        eq(*parts, approx=v.dot if needs_approx(v.dot) else None),
    )


def _explain_norm(name, vector, value):
    written = sp.sqrt(unevaluated_sum([sp.Pow(e, 2, evaluate=False) for e in vector]), evaluate=False)
    squares = sp.sqrt(unevaluated_sum([e**2 for e in vector]))
    parts = _distinct(sp.Abs(name), written, squares, value)
    return (
        prose(
            "The length (Euclidean norm) of {name} is the square root of the sum of its squared entries:",
            name=name,
        ),
        eq(*parts, approx=value if needs_approx(value) else None),
    )


def explain_norm_a(v):
    return _explain_norm(a, v.a, v.norm_a)


def explain_norm_b(v):
    return _explain_norm(b, v.b, v.norm_b)


def explain_cosine(v):
    lengths = sp.Mul(v.norm_a, v.norm_b, evaluate=False)
    written = sp.Mul(v.dot, sp.Pow(lengths, -1, evaluate=False), evaluate=False)
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


def _alignment(cosine) -> str:
    if cosine.free_symbols:
        return (
            "With letters for the entries the sign of the cosine is not known: positive means an acute "
            "angle (the vectors point broadly the same way), 0 orthogonal, negative an obtuse angle."
        )
    value = numeric(cosine)
    if is_zero(cosine - 1):
        return (
            "The cosine is exactly 1: the vectors point in the same direction (one is a positive "
            "multiple of the other), the strongest possible alignment."
        )
    if is_zero(cosine + 1):
        return (
            "The cosine is exactly -1: the vectors point in opposite directions (one is a negative "
            "multiple of the other)."
        )
    if is_zero(cosine):
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


def explain_angle(v):
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
    if not v.cosine.free_symbols:
        blocks.append(_picture(v))
    return tuple(blocks)


def _picture(v):
    """Two-dimensional vectors as they are; longer ones drawn in the plane they span, angle intact."""
    if len(v.a) == 2:
        return vectors("dot-product-angle", "a and b", {"a": tuple(v.a), "b": tuple(v.b)})
    angle = sp.acos(v.cosine)
    b = (v.norm_b * sp.cos(angle), v.norm_b * sp.sin(angle))
    return vectors("dot-product-angle", "a and b in the plane they span", {"a": (v.norm_a, 0), "b": b})
