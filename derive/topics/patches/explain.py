"""What each patches stage shows: the patch grid, the projection, the class token, the position
embeddings and the sum the first layer reads."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, needs_approx, prose, same, table
from derive.topics.patches.stages import BASE

pos, i, d_model = sp.symbols("pos i D")
PE = sp.Function("PE")


def intro(image, P) -> tuple:
    H, W = image.shape
    return (
        prose(
            "A Vision Transformer reads an image as a sequence of tokens: it cuts the image into square "
            "patches, turns each patch into a vector, and from then on treats the patches like the words "
            "of a sentence. The image here is {H}×{W} pixels (one channel), cut into {P}×{P} patches:",
            H=H,
            W=W,
            P=P,
        ),
        eq(sp.Symbol("I"), image),
    )


def explain_patches(v):
    P, per_row = v.P, v.image.cols // v.P
    first = v.image[0:P, 0:P]
    rows = []
    for k in range(v.n):
        top, left = (k // per_row) * P, (k % per_row) * P
        rows.append([k + 1, f"{top + 1}-{top + P}", f"{left + 1}-{left + P}", v.patches.row(k)])
    X_p = sp.Symbol("X_p")
    return (
        prose(
            "Take the patches in reading order: left to right along the top, then the next band down. "
            "That gives {bands} bands of {across} patches, {count} in all. Each {P}×{P} patch is flattened "
            "row by row into a vector of {pp} pixels. The first patch:",
            bands=v.image.rows // P,
            across=per_row,
            count=same(sp.Symbol("n"), v.n),
            P=P,
            pp=P * P,
        ),
        eq(sp.Symbol("P_1"), first),
        eq(sp.Symbol("x_1"), v.patches.row(0)),
        prose("All of them (rows and columns of the image, counted from 1):"),
        table(("patch", "image rows", "image columns", "flattened, row by row"), rows),
        prose("Stacked, one row per patch:"),
        eq(X_p, v.patches),
    )


def _matrix_equations(lhs, formula, value):
    """``lhs = formula = value ≈ decimals``; wide matrices get their decimals on a line of their own."""
    parts = [lhs] + ([formula] if formula is not None else []) + [value]
    if not needs_approx(value):
        return [eq(*parts)]
    if value.cols <= 2:
        return [eq(*parts, approx=value)]
    return [eq(*parts), eq(lhs, approx=value)]


def _matrix_symbol(name, rows, cols):
    return sp.MatrixSymbol(name, rows, cols)


def explain_projected(v):
    W_E, Z = sp.Symbol("W_E"), sp.Symbol("Z")
    if v.projection_given:
        source = prose("The projection {W} ({rows}×{cols}) is the one given:", W=W_E, rows=v.P**2, cols=v.D)
    else:
        source = prose(
            "A real ViT learns the projection {W}. Here it is a small {rows}×{cols} matrix of -1, 0 and 1 "
            "drawn with seed {seed} (give your own with --projection):",
            W=W_E,
            rows=v.P**2,
            cols=v.D,
            seed=v.seed,
        )
    first = v.patches.row(0)
    entry = sp.Add(
        *[sp.Mul(first[j], v.W_E[j, 0], evaluate=False) for j in range(v.W_E.rows)], evaluate=False
    )
    return (
        prose(
            "Every flattened patch is multiplied by the same matrix {W}, which turns {pp} pixels into a "
            "{D}-dimensional token (in code this is one linear layer, or equally a convolution with "
            "kernel size and stride {P}).",
            W=W_E,
            pp=v.P**2,
            D=v.D,
            P=v.P,
        ),
        source,
        eq(W_E, v.W_E),
        prose(
            "For example, the first entry of the first patch's token is its pixels times column 1 of {W}:",
            W=W_E,
        ),
        eq(sp.Symbol("Z_11"), entry, v.projected[0, 0]),
        prose("All patches at once:"),
        *_matrix_equations(
            Z, sp.MatMul(_matrix_symbol("X_p", v.n, v.P**2), _matrix_symbol("W_E", v.P**2, v.D)), v.projected
        ),
    )


def explain_with_cls(v):
    given = any(e != 0 for e in v.cls)
    return (
        prose(
            "Put a class token in front of the patches: one more learned vector {x}, at position 0. After "
            "the transformer layers, the classifier reads only this token's output, which has attended to "
            "every patch. "
            + (
                "Here it is the vector given."
                if given
                else "Here it is all zeros, as the original ViT initialises it."
            ),
            x=same(sp.Symbol("x_class"), v.cls),
        ),
        *_matrix_equations(sp.Symbol("Z_0"), None, v.with_cls),
        prose("That makes {count} tokens.", count=v.n + 1),
    )


def explain_positions(v):
    E = sp.Symbol("E_pos")
    if v.E_pos is not None:
        return (
            prose(
                "Attention by itself ignores order, so every token gets a position embedding: one row per "
                "position, class token first. They are given:"
            ),
            eq(E, v.positions),
        )
    exponent = sp.Mul(sp.Mul(2, i, evaluate=False), sp.Pow(d_model, -1, evaluate=False), evaluate=False)
    angle = sp.Mul(pos, sp.Pow(sp.Pow(BASE, exponent, evaluate=False), -1, evaluate=False), evaluate=False)
    return (
        prose(
            "Attention by itself ignores order, so every token gets a position embedding: one row per "
            "position, class token at 0. ViT learns them; here they are the sinusoidal ones of "
            "Attention Is All You Need, which need no training:"
        ),
        eq(PE(pos, sp.Mul(2, i, evaluate=False)), sp.sin(angle)),
        eq(PE(pos, sp.Add(sp.Mul(2, i), 1, evaluate=False)), sp.cos(angle)),
        prose("with {D} and positions 0 to {last}:", D=same(d_model, v.D), last=v.n),
        *_matrix_equations(E, None, v.positions),
    )


def _twins(matrix):
    """The first two equal rows (0-based), or None."""
    for a in range(matrix.rows):
        for b in range(a + 1, matrix.rows):
            if matrix.row(a) == matrix.row(b):
                return a, b
    return None


def explain_output(v):
    Z0, E = sp.Symbol("Z_0"), sp.Symbol("E_pos")
    blocks = (
        prose(
            "Add the position embeddings to the tokens, entry by entry. This is the sequence the first "
            "transformer layer reads: {count} tokens of dimension {D}.",
            count=v.n + 1,
            D=v.D,
        ),
        *_matrix_equations(sp.Symbol("X_0"), sp.Add(Z0, E, evaluate=False), v.output),
    )
    twins = _twins(v.projected)
    if twins and _twins(v.output) != (twins[0] + 1, twins[1] + 1):
        blocks += (
            prose(
                "Patches {a} and {b} gave the same token: without position embeddings the transformer "
                "could not tell them apart. With their positions added they become {ra} and {rb}.",
                a=twins[0] + 1,
                b=twins[1] + 1,
                ra=v.output.row(twins[0] + 1),
                rb=v.output.row(twins[1] + 1),
            ),
        )
    return blocks
