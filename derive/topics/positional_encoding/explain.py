"""What each positional-encoding stage shows: the divisors as written and collapsed, the angles,
and the table, cut into slices that fit a terminal and a LaTeX page when it is large."""

from __future__ import annotations

import sympy as sp

from derive import limits
from derive.blocks import eq, needs_approx, prose, same, table, unevaluated_power
from derive.exact import positional
from derive.topics.positional_encoding.figures import figures

pos, i, d_model = sp.symbols("pos i d_model")
PE = sp.Function("PE")
THETA = sp.Function("theta")
D_I = sp.Symbol("D_i")
TABLE_DIMS = 4  # dimensions per table, so the exact table fits a terminal and a LaTeX page
MATRIX_COLS = 8  # columns per displayed matrix (LaTeX's amsmath allows at most 20)
SIDE_BY_SIDE = 4  # up to this many columns, the decimals follow the exact matrix on one line
MATRIX_ROWS = 16  # rows per displayed matrix: display math does not break across pages


def _dimension_of(cosine: bool, layout: str):
    """The dimension that holds pair i's sine (or cosine), as a formula: 2i + 1, d_model/2 + i, ..."""
    if layout == "interleaved":
        twice = sp.Mul(2, i, evaluate=False)
        return sp.Add(twice, 1, evaluate=False) if cosine else twice
    if not cosine:
        return i
    return sp.Add(sp.Mul(d_model, sp.Pow(2, -1, evaluate=False), evaluate=False), i, evaluate=False)


def _general(base, cosine: bool, layout: str):
    """PE(pos, dim) = sin or cos(pos / base^(2i/d_model)), with the dimension as the layout places it."""
    exponent = sp.Mul(sp.Mul(2, i, evaluate=False), sp.Pow(d_model, -1, evaluate=False), evaluate=False)
    angle = sp.Mul(pos, sp.Pow(sp.Pow(base, exponent, evaluate=False), -1, evaluate=False), evaluate=False)
    return PE(pos, _dimension_of(cosine, layout), evaluate=False), (sp.cos if cosine else sp.sin)(
        angle, evaluate=False
    )


LAYOUT_TEXT = {
    "interleaved": (
        "Dimension 2i takes a sine and dimension 2i + 1 a cosine of the same angle, and the angle shrinks "
        "as i grows:"
    ),
    "concatenated": (
        "The first half of the dimensions takes sines and the second half cosines of the same angles: "
        "dimension i and dimension {partner} share the angle of pair i, which shrinks as i grows:"
    ),
}
CONVENTION_TEXT = {
    "interleaved": (
        "Layout: interleaved, sine and cosine alternating, as in Attention Is All You Need "
        "(--layout concatenated puts all sines first, as TensorFlow's Transformer tutorial does)."
    ),
    "concatenated": (
        "Layout: concatenated, all sines then all cosines, as in TensorFlow's Transformer tutorial "
        "(--layout interleaved alternates them, as Attention Is All You Need does). The two tables hold the "
        "same numbers with the columns in another order."
    ),
}


def intro(positions, d, base, layout) -> tuple:
    return (
        prose(
            "A transformer sees its tokens all at once, so each position gets a fixed vector added to its "
            "embedding. " + LAYOUT_TEXT[layout],
            **(
                {"partner": _general(sp.Symbol("base"), True, layout)[0].args[1]}
                if layout == "concatenated"
                else {}
            ),
        ),
        eq(*_general(base, False, layout)),
        eq(*_general(base, True, layout)),
        prose(
            "Here {dm}, so i runs from 0 to {top}, and the positions are {first} to {last} (counted from 0). "
            "Angles are in radians. " + CONVENTION_TEXT[layout],
            dm=same(d_model, d),
            top=d // 2 - 1,
            first=0,
            last=positions - 1,
        ),
    )


def explain_divisors(v):
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
        written = unevaluated_power(v.base, 2 * k, v.d_model)
        reduced = sp.Pow(v.base, sp.Rational(2 * k, v.d_model), evaluate=False)
        parts = [sp.Symbol(f"D_{k}"), written]
        for part in (reduced, value):
            if str(part) != str(parts[-1]):
                parts.append(part)
        blocks.append(eq(*parts, approx=value if needs_approx(value) else None))
    return tuple(blocks)


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


def explain_angles(v):
    blocks = [
        prose(
            "Divide each position by its pair's divisor. Row pos, column i of the matrix holds the angle "
            "of position pos in pair i; the angles of position 0 are all 0."
        ),
        eq(THETA(pos, i), pos / D_I),
    ]
    if v.positions > 1 and v.d_model > 2:
        last = v.positions - 1
        written = sp.Mul(sp.Integer(last), sp.Pow(sp.Symbol("D_1"), -1, evaluate=False), evaluate=False)
        blocks.append(prose("For example, position {p} in pair 1:", p=last))
        blocks.append(eq(THETA(last, 1), written, v.angles[last, 1]))
    blocks += _matrix_blocks("theta", v.angles)
    return tuple(blocks)


def _dimension(k, pairs, layout):
    for pair in range(pairs):
        for cosine in (False, True):
            if positional.dimension_of(pair, cosine, pairs, layout) == k:
                return f"dim {k} ({'cos' if cosine else 'sin'}, i={pair})"
    raise ValueError(k)


PE_TEXT = {
    "interleaved": (
        "Take the sine of the angle for the even dimension of each pair and the cosine for the odd "
        "one. At position 0 every angle is 0, so its row is 0, 1, 0, 1 and so on (sin 0 = 0 and cos 0 = 1)."
    ),
    "concatenated": (
        "Take the sine of each angle for the first half of the dimensions and the cosine for the second "
        "half. At position 0 every angle is 0, so its row is 0, ..., 0 and then 1, ..., 1 (sin 0 = 0 and "
        "cos 0 = 1)."
    ),
}


def explain_pe(v):
    pairs = v.d_model // 2
    blocks = [prose(PE_TEXT[v.layout])]
    if v.positions > 1:
        k = 1 if v.d_model > 2 else 0
        for cosine, fn in ((False, sp.sin), (True, sp.cos)):
            dim = positional.dimension_of(k, cosine, pairs, v.layout)
            written = fn(
                sp.Pow(unevaluated_power(v.base, 2 * k, v.d_model), -1, evaluate=False), evaluate=False
            )
            parts = [PE(1, dim), written]
            if str(fn(v.angles[1, k])) != str(written):
                parts.append(fn(v.angles[1, k]))
            blocks.append(eq(*parts, approx=v.pe[1, dim]))
    if v.positions <= limits.MAX_TOKENS and v.d_model <= limits.MAX_DIM:
        blocks.append(prose("The full table, one row per position (exact values):"))
        for start in range(0, v.d_model, TABLE_DIMS):
            dims = range(start, min(start + TABLE_DIMS, v.d_model))
            header = ["pos"] + [_dimension(k, pairs, v.layout) for k in dims]
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
    blocks += figures(v)
    return tuple(blocks)
