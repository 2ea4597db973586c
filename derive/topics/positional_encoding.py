"""Sinusoidal positional encoding: the divisor of each dimension pair, the angles, and the table.

Convention (DESIGN.md): PE(pos, 2i) = sin(pos / base^(2i/d_model)), PE(pos, 2i+1) = cos(...),
positions counted from 0. A student sees the divisor both as written (10000^(2/4)) and
collapsed (100); the entries keep the collapsed angle, sin(1/100), beside their decimals.
"""

from __future__ import annotations

import math

import sympy as sp

from derive import inputs, limits
from derive.blocks import curves, eq, heatmap, needs_approx, prose, same, table
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic

pos, i, d_model, base_symbol = sp.symbols("pos i d_model base")
PE = sp.Function("PE")
THETA = sp.Function("theta")
D_I = sp.Symbol("D_i")
TABLE_DIMS = 4  # dimensions per table, so the exact table fits a terminal and a LaTeX page
MATRIX_COLS = 8  # columns per displayed matrix (LaTeX's amsmath allows at most 20)
SIDE_BY_SIDE = 4  # up to this many columns, the decimals follow the exact matrix on one line
MATRIX_ROWS = 16  # rows per displayed matrix: display math does not break across pages


def _even_positive(value, option):
    number = inputs.integer(value, option, 2, limits.MAX_D_MODEL)
    if number % 2:
        raise InputError(option, f"must be even, got {number}: sin and cos fill the dimensions in pairs")
    return number


def _positions(value, option):
    return inputs.integer(value, option, 1, limits.MAX_POSITIONS)


def _base(value, option):
    number = inputs.scalar(value, option)
    if not number > 1:
        raise InputError(option, "expected a number greater than 1, such as 10000")
    return number


def _divisor(base, two_i, d):
    """``base^(2i/d)`` with the fraction left as written."""
    with sp.evaluate(False):
        return sp.Pow(base, sp.Mul(sp.Integer(two_i), sp.Pow(sp.Integer(d), -1)))


def _general(base, even: bool):
    with sp.evaluate(False):
        angle = sp.Mul(pos, sp.Pow(sp.Pow(base, sp.Mul(2, i) / d_model), -1))
        dim = sp.Mul(2, i) if even else sp.Add(sp.Mul(2, i), 1)
        return PE(pos, dim), (sp.sin if even else sp.cos)(angle)


def _prepare(options) -> Givens:
    positions, d, base = options["positions"], options["d_model"], options["base"]
    params = {"positions": positions, "d_model": d, "base": str(base)}
    last = positions - 1
    intro = (
        prose(
            "A transformer sees its tokens all at once, so each position gets a fixed vector added to its "
            "embedding. Dimension 2i takes a sine and dimension 2i + 1 a cosine of the same angle, and "
            "the angle shrinks as i grows:"
        ),
        eq(*_general(base, even=True)),
        eq(*_general(base, even=False)),
        prose(
            "Here {dm}, so i runs from 0 to {top}, and the positions are {first} to {last} (counted from 0). "
            "Angles are in radians.",
            dm=same(d_model, d),
            top=d // 2 - 1,
            first=0,
            last=last,
        ),
    )
    values = {"positions": positions, "d_model": d, "base": base}
    return Givens("Sinusoidal positional encoding", values, intro, params)


def _divisors(v):
    return sp.Matrix([[v.base ** sp.Rational(2 * k, v.d_model) for k in range(v.d_model // 2)]])


def _explain_divisors(v):
    blocks = [
        prose(
            "Each pair i divides the position by its own divisor {D}. The first pair has divisor 1 and "
            "turns fastest; every later pair turns more slowly (its wavelength {wave} is longer).",
            D=D_I,
            wave=2 * sp.pi * D_I,
        ),
        eq(D_I, v.base ** (2 * i / d_model)),
    ]
    for k in range(v.d_model // 2):
        value = v.divisors[0, k]
        written = _divisor(v.base, 2 * k, v.d_model)
        reduced = sp.Pow(v.base, sp.Rational(2 * k, v.d_model), evaluate=False)
        parts = [sp.Symbol(f"D_{k}"), written]
        for part in (reduced, value):
            if str(part) != str(parts[-1]):
                parts.append(part)
        blocks.append(eq(*parts, approx=value if needs_approx(value) else None))
    return tuple(blocks)


def _angles(v):
    return sp.Matrix(v.positions, v.d_model // 2, lambda p, k: p / v.divisors[0, k])


def _equations(lhs, exact, show_exact):
    """``lhs = exact ≈ decimals``; a wide matrix gets its decimals on a line of their own."""
    approx = exact if needs_approx(exact) else None
    if not show_exact:
        return [eq(lhs, approx=exact)]
    if approx is None or exact.cols <= SIDE_BY_SIDE:
        return [eq(lhs, exact, approx=approx)]
    return [eq(lhs, exact), eq(lhs, approx=approx)]


def _matrix_blocks(name, exact, show_exact=True):
    """The matrix and its decimals, cut into slices that fit a terminal and a LaTeX page when large."""
    if exact.rows <= MATRIX_ROWS and exact.cols <= MATRIX_COLS:
        return _equations(sp.Symbol(name), exact, show_exact)
    blocks = []
    whole = sp.MatrixSymbol(name, exact.rows, exact.cols)
    for top in range(0, exact.rows, MATRIX_ROWS):
        for left in range(0, exact.cols, MATRIX_COLS):
            part = exact[top : top + MATRIX_ROWS, left : left + MATRIX_COLS]
            lhs = whole[top : top + part.rows, left : left + part.cols]
            blocks.append(
                prose(
                    "Rows {r0} to {r1} (positions), columns {c0} to {c1}:",
                    r0=top,
                    r1=top + part.rows - 1,
                    c0=left,
                    c1=left + part.cols - 1,
                )
            )
            blocks += _equations(lhs, part, show_exact)
    return blocks


def _explain_angles(v):
    blocks = [
        prose(
            "Divide each position by its pair's divisor. Row pos, column i of the matrix holds the angle "
            "of position pos in pair i; the angles of position 0 are all 0."
        ),
        eq(THETA(pos, i), pos / D_I),
    ]
    if v.positions > 1 and v.d_model > 2:
        last = v.positions - 1
        with sp.evaluate(False):
            written = sp.Mul(sp.Integer(last), sp.Pow(sp.Symbol("D_1"), -1))
        blocks.append(prose("For example, position {p} in pair 1:", p=last))
        blocks.append(eq(THETA(last, 1), written, v.angles[last, 1]))
    blocks += _matrix_blocks("theta", v.angles)
    return tuple(blocks)


def _dimension(k):
    return f"dim {k} ({'sin' if k % 2 == 0 else 'cos'}, i={k // 2})"


def _pe_from(angles, even, odd):
    rows, pairs = angles.shape
    return sp.Matrix(rows, 2 * pairs, lambda p, k: (even if k % 2 == 0 else odd)(angles[p, k // 2]))


def _pe(v):
    return _pe_from(v.angles, sp.sin, sp.cos)


def _explain_pe(v):
    blocks = [
        prose(
            "Take the sine of the angle for the even dimension of each pair and the cosine for the odd "
            "one. At position 0 every angle is 0, so its row is 0, 1, 0, 1 and so on (sin 0 = 0 and cos 0 = 1)."
        )
    ]
    if v.positions > 1:
        k = 1 if v.d_model > 2 else 0
        for dim, fn in ((2 * k, sp.sin), (2 * k + 1, sp.cos)):
            with sp.evaluate(False):
                written = fn(sp.Pow(_divisor(v.base, 2 * k, v.d_model), -1))
            parts = [PE(1, dim), written]
            if str(fn(v.angles[1, k])) != str(written):
                parts.append(fn(v.angles[1, k]))
            blocks.append(eq(*parts, approx=v.pe[1, dim]))
    if v.positions <= limits.MAX_TOKENS and v.d_model <= limits.MAX_DIM:
        blocks.append(prose("The full table, one row per position (exact values):"))
        for start in range(0, v.d_model, TABLE_DIMS):
            dims = range(start, min(start + TABLE_DIMS, v.d_model))
            header = ["pos"] + [_dimension(k) for k in dims]
            rows = [[p] + [v.pe[p, k] for k in dims] for p in range(v.positions)]
            blocks.append(table(header, rows))
    else:
        blocks.append(
            prose(
                "Each exact entry is the sine or cosine of an angle above, as in the two examples; at this "
                "size ({rows} × {cols}) only the decimals are listed here (--format json has every exact "
                "entry).",
                rows=v.positions,
                cols=v.d_model,
            )
        )
    blocks.append(prose("and in decimals:"))
    blocks += _matrix_blocks("PE", v.pe, show_exact=False)
    blocks += _figures(v)
    return tuple(blocks)


def _figures(v):
    """The table as a heatmap, and each pair's sine and cosine as smooth curves over position."""
    heat = heatmap(
        "positional-encoding",
        "Positional encoding",
        v.pe,
        range(v.positions),
        range(v.d_model),
        xlabel="dimension",
        ylabel="position",
    )
    steps = 200
    span = max(v.positions - 1, 24)
    xs = [span * t / (steps - 1) for t in range(steps)]
    series = {}
    for i in range(min(v.d_model // 2, 3)):
        divisor = float(sp.N(_divisor(v.base, 2 * i, v.d_model)))
        series[f"dim {2 * i} (sin)"] = [math.sin(x / divisor) for x in xs]
        series[f"dim {2 * i + 1} (cos)"] = [math.cos(x / divisor) for x in xs]
    waves = curves(
        "positional-encoding-waves",
        "Sine and cosine of each dimension pair",
        xs,
        series,
        "position",
        "PE value",
    )
    return [heat, waves]


def _degrees(v):
    return _pe_from(v.angles.applyfunc(lambda a: a * sp.pi / 180), sp.sin, sp.cos)


def _swapped(v):
    return _pe_from(v.angles, sp.cos, sp.sin)


def _doubled_angles(v):
    return sp.Matrix(
        v.positions, v.d_model // 2, lambda p, k: p / v.base ** sp.Rational(2 * (2 * k), v.d_model)
    )


def _index_doubled(v):
    def entry(p, k):
        return (sp.sin if k % 2 == 0 else sp.cos)(p / v.base ** sp.Rational(2 * k, v.d_model))

    return sp.Matrix(v.positions, v.d_model, entry)


DOUBLED_HINT = (
    "Dimensions 2i and 2i+1 share the exponent 2i/d_model, with i = dim // 2 the pair number; "
    "do not use 2·dim/d_model."
)


def _sample(rng):
    return {
        "positions": str(int(rng.integers(1, 7))),
        "d_model": str(2 * int(rng.integers(1, 5))),
        "base": str(rng.choice(["10000", "100", "10", "3/2"])),
    }


def _reference(options):
    import numpy as np

    from derive import forward

    positions, d, base = options["positions"], options["d_model"], float(options["base"])
    two_i = np.arange(0, d, 2, dtype=np.float64)  # (d/2,)
    angles = np.arange(positions, dtype=np.float64)[:, None] / base ** (two_i / d)  # (P, d/2)
    return {"angles": angles, "pe": forward.sinusoidal_positional_encoding(positions, d, base)}


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
            _even_positive,
            required=True,
        ),
        Option("base", "the base of the wavelengths, greater than 1", _base, default="10000"),
    ),
    prepare=_prepare,
    stages=(
        Stage("divisors", "The divisor of each dimension pair", _divisors, _explain_divisors, answer=False),
        Stage(
            "angles",
            "The angles",
            _angles,
            _explain_angles,
            mistakes=(Mistake("index-doubled", DOUBLED_HINT, _doubled_angles),),
        ),
        Stage(
            "pe",
            "Sine and cosine",
            _pe,
            _explain_pe,
            mistakes=(
                Mistake(
                    "degrees",
                    "The angles are in radians: take sin and cos of them directly (calculator in RAD mode).",
                    _degrees,
                ),
                Mistake(
                    "swapped-sin-cos",
                    "Even dimensions (0, 2, 4, ...) take sin and odd dimensions take cos, not the other way round.",
                    _swapped,
                ),
                Mistake("index-doubled", DOUBLED_HINT, _index_doubled),
            ),
        ),
    ),
    result="pe",
    examples={
        "small": {"positions": "4", "d_model": "4"},
        "paper": {"positions": "3", "d_model": "8"},
    },
    example_notes={
        "small": "4 positions at d_model 4: divisors 1 and 100",
        "paper": "3 positions at d_model 8 with base 10000, as in Attention Is All You Need",
    },
    sample=_sample,
    reference=_reference,
)
