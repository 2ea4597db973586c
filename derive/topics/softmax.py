"""Softmax, row by row: exponentials, their sum, the probabilities, and the stable form."""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.blocks import eq, needs_approx, prose, same, unevaluated_sum
from derive.model import Givens, Mistake, Option, Stage, Topic

x_i, z_i, z_j, T, p_i, m = sp.symbols("x_i z_i z_j T p_i m")
SOFTMAX_Z = sp.Function("softmax")(sp.Symbol("z"))
j, n = sp.symbols("j n", integer=True, positive=True)
FLOAT64_MAX = sp.Float("1.7976931348623157e308")


def _row_max(row):
    return max(row, key=lambda e: sp.N(e, 30))


def softmax_rows(z: sp.Matrix, shown: bool = False) -> sp.Matrix:
    """Exact softmax of each row with the row's maximum subtracted; ``shown`` keeps it as written."""
    rows = []
    for r in range(z.rows):
        row = z.row(r)
        shifted = [e - _row_max(row) for e in row]
        with sp.evaluate(not shown):
            exps = [sp.exp(d) for d in shifted]
            total = sp.Add(*exps)
            rows.append([sp.Mul(e, sp.Pow(total, -1)) for e in exps])
    return sp.Matrix(rows)


def _prepare(options) -> Givens:
    x = options["x"]
    limits.check_shape("--x", x)
    temperature = options["temperature"]
    params = {"x": [[str(e) for e in row] for row in x.tolist()], "temperature": str(temperature)}
    word = "vector" if x.rows == 1 else f"{x.rows}×{x.cols} matrix (taken row by row)"
    intro = (
        prose(
            "Softmax turns a row of real numbers into probabilities: each becomes positive "
            "and the row sums to 1, while larger inputs keep larger shares. The input is the "
            f"{word} below, with temperature {{T}}.",
            T=same(T, temperature),
        ),
        eq(sp.Symbol("x"), x),
        eq(p_i, sp.exp(z_i) / sp.Sum(sp.exp(z_j), (j, 1, n))),
        prose("where {z} are the logits divided by the temperature.", z=same(z_i, x_i / T)),
    )
    return Givens("Softmax", {"x": x, "T": temperature}, intro, params)


def _scale(v):
    return v.x / v.T


def _explain_scale(v):
    if v.T == 1:
        return (
            prose("With {T} the logits are the inputs themselves: {z}.", T=same(T, 1), z=same(z_i, x_i)),
            eq(sp.Symbol("z"), v.z),
        )
    return (
        prose(
            "Divide every input by the temperature {T}. A temperature above 1 flattens "
            "the distribution; below 1 it sharpens it.",
            T=same(T, v.T),
        ),
        eq(sp.Symbol("z"), sp.Symbol("x") / v.T, v.z, approx=v.z if needs_approx(v.z) else None),
    )


def _exp(v):
    return v.z.applyfunc(sp.exp)


def _explain_exp(v):
    blocks = [
        prose(
            "Exponentiate every logit. Each {e} is positive, so no probability can be negative.",
            e=sp.exp(z_i),
        )
    ]
    blocks.append(eq(sp.exp(sp.Symbol("z")), v.exp, approx=v.exp))
    biggest = max(sp.N(e, 30) for e in v.exp)
    if biggest > FLOAT64_MAX:
        blocks.append(
            prose(
                "These exponentials exceed the largest float64 number (about {big}), so a direct "
                "floating-point computation would overflow to infinity. The stable form below avoids this.",
                big=sp.Float("1.8e308", 2),
            )
        )
    return tuple(blocks)


def _sum(v):
    return sp.Matrix([[sum(v.exp.row(r))] for r in range(v.exp.rows)])


def _explain_sum(v):
    blocks = [prose("Add the exponentials of each row; this is the normaliser.")]
    for r in range(v.exp.rows):
        total = v.sum[r, 0]
        blocks.append(
            eq(sp.Sum(sp.exp(z_j), (j, 1, v.exp.cols)), unevaluated_sum(v.exp.row(r)), approx=total)
        )
    return tuple(blocks)


def _softmax(v):
    return sp.Matrix(v.exp.rows, v.exp.cols, lambda r, c: v.exp[r, c] / v.sum[r, 0])


def _explain_softmax(v):
    blocks = [prose("Divide each exponential by its row's sum. The results are the probabilities.")]
    blocks.append(eq(SOFTMAX_Z, v.softmax, approx=v.softmax))
    sums = [sum(sp.N(e, 30) for e in v.softmax.row(r)) for r in range(v.softmax.rows)]
    blocks.append(
        prose(
            "Check: every row sums to {one} (up to rounding of the decimals).", one=sp.Integer(round(sums[0]))
        )
    )
    return tuple(blocks)


def _stable(v):
    return softmax_rows(v.z)


def _explain_stable(v):
    tops = sp.Matrix([[_row_max(v.z.row(r))] for r in range(v.z.rows)])
    shifted = sp.Matrix(v.z.rows, v.z.cols, lambda r, c: v.z[r, c] - tops[r, 0])
    return (
        prose(
            "Subtracting the row maximum {m} first gives the same probabilities, because the "
            "factor {em} cancels between numerator and denominator:",
            m=m,
            em=sp.exp(-m),
        ),
        eq(
            sp.exp(z_i) / sp.Sum(sp.exp(z_j), (j, 1, n)), sp.exp(z_i - m) / sp.Sum(sp.exp(z_j - m), (j, 1, n))
        ),
        prose(
            "Here the shifted logits are {s}: every exponent is at most 0, so every exponential "
            "lies in (0, 1] and nothing can overflow.",
            s=shifted,
        ),
        eq(SOFTMAX_Z, softmax_rows(v.z, shown=True), approx=v.stable),
    )


def _no_exp(v):
    return sp.Matrix(v.z.rows, v.z.cols, lambda r, c: v.z[r, c] / sum(v.z.row(r)))


def _no_temperature(v):
    return softmax_rows(v.x)


def _check_x(value, option):
    return inputs.vector_or_matrix(value, option)


def _sample(rng):
    rows, cols = int(rng.integers(1, 4)), int(rng.integers(2, 6))
    x = "; ".join(" ".join(str(int(v)) for v in rng.integers(-5, 6, cols)) for _ in range(rows))
    return {"x": x, "temperature": str(rng.choice(["1", "2", "1/2", "0.3"]))}


def _reference(options):
    import numpy as np

    from derive import forward

    x = np.array(options["x"].tolist(), dtype=float)
    return {"softmax": forward.softmax(x, temperature=float(options["temperature"]))}


TOPIC = Topic(
    name="softmax",
    summary="Softmax of a vector or of each matrix row, with temperature and the stable form",
    options=(
        Option(
            "x",
            "the logits: a vector '1 2 3' or a matrix '1 2; 3 4'",
            _check_x,
            required=True,
            sets_answer_shape=True,
        ),
        Option("temperature", "divide the logits by T > 0 first", inputs.positive, default="1"),
    ),
    prepare=_prepare,
    stages=(
        Stage("z", "Apply the temperature", _scale, _explain_scale),
        Stage("exp", "Exponentiate", _exp, _explain_exp),
        Stage("sum", "Sum each row", _sum, _explain_sum),
        Stage(
            "softmax",
            "Normalise",
            _softmax,
            _explain_softmax,
            mistakes=(
                Mistake("no-exp", "Exponentiate each value before dividing by the row sum.", _no_exp),
                Mistake(
                    "no-temperature",
                    "Divide the logits by the temperature T before exponentiating.",
                    _no_temperature,
                ),
            ),
        ),
        Stage("stable", "The numerically stable form", _stable, _explain_stable, answer=False),
    ),
    result="softmax",
    examples={
        "basic": {"x": "1 2 3"},
        "overflow": {"x": "1000 1001 1002"},
        "temperature": {"x": "2 1 0.1", "temperature": "1/2"},
    },
    example_notes={
        "basic": "softmax of 1 2 3",
        "overflow": "inputs near 1000: the stable form",
        "temperature": "temperature 1/2 sharpens the distribution",
    },
    sample=_sample,
    reference=_reference,
)
