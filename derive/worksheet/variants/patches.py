"""Vision Transformer patches: level 1 a 4×4 image of digits in 2×2 patches, a projection of -1/0/1
to D = 2 and given integer position embeddings, so every answer is a whole number; level 2 a 4×4
or 4×6 image with sinusoidal positions (D = 2: a sine/cosine table of the positions); level 3
pixel intensities and weights in tenths, 2×2 or 3×3 patches, D = 4.

The projection and the class token are always given (the topic's seeded default projection is
not on the sheet), and no patch reads the same row by row as column by column, so flattening in
the wrong order shows.
"""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw


def _projection(rng, rows, cols, low, high):
    """Weights with no all-zero column (a dimension that ignores every pixel)."""
    while True:
        weights = draw.integers(rng, rows * cols, low, high)
        matrix = [weights[r * cols : (r + 1) * cols] for r in range(rows)]
        if all(any(row[c] for row in matrix) for c in range(cols)):
            return matrix


def level_1(rng):
    return {
        "image": draw.matrix_text(draw.int_matrix(rng, 4, 4, 0, 9)),
        "patch": "2",
        "projection": draw.matrix_text(_projection(rng, 4, 2, -1, 1)),
        "cls": draw.vector_text(draw.nonzero_row(rng, 2, -2, 2)),
        "pos_embed": draw.matrix_text(draw.int_matrix(rng, 5, 2, -2, 2)),
    }


def level_2(rng):
    return {
        "image": draw.matrix_text(draw.int_matrix(rng, 4, rng.choice([4, 6]), 0, 9)),
        "patch": "2",
        "projection": draw.matrix_text(_projection(rng, 4, 2, -2, 2)),
        "cls": draw.vector_text(draw.nonzero_row(rng, 2, -2, 2)),
    }


def level_3(rng):
    side = rng.choice([2, 3])
    return {
        "image": draw.matrix_text(draw.tenths_matrix(rng, 2 * side, 2 * side, 1, 10)),
        "patch": str(side),
        "projection": draw.matrix_text(draw.tenths_matrix(rng, side * side, 4, -10, 10)),
        "cls": draw.vector_text(draw.tenths(rng, 4, -10, 10)),
    }


def refuse(answer, level):
    if level == 1 and answer == "positions":
        return "level 1 gives the position embeddings; ask them at level 2 or 3 (sinusoidal)"
    return None


def suitable(values, level):
    """No patch of zeros, and none that reads the same flattened row by row as column by column."""
    P = values.P
    for row in range(values.patches.rows):
        block = sp.Matrix(P, P, list(values.patches.row(row)))
        if not any(block) or block == block.T:
            return False
    return True


SYMBOLS = {
    "image": sp.Symbol("I"),
    "patch": sp.Symbol("P"),
    "projection": sp.Symbol("W_E"),
    "cls": sp.Symbol("x_class"),
    "pos_embed": sp.Symbol("E_pos"),
}


def task(given):
    positions = (
        "add the position embeddings E_pos (row 0 for the class token)"
        if "pos_embed" in given
        else "add sinusoidal position embeddings (PE(pos, 2i) = sin(pos/10000^(2i/D)), PE(pos, 2i+1) = cos(…), "
        "pos from 0 for the class token)"
    )
    return (
        "Cut the image I into P×P patches in reading order and flatten each row by row, project them with W_E, "
        f"put the class token x_class in front, then {positions}."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
