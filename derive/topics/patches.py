"""The Vision Transformer's input: cut an image into patches, flatten, project, prepend a
class token and add position embeddings (Dosovitskiy et al., 2021).

Patches are taken in row-major order (left to right, then top to bottom) and each patch is
flattened row by row, as ``x.unfold`` / ``einops.rearrange(x, "(h p1) (w p2) -> (h w) (p1 p2)")``
do for one channel. The class token sits at position 0.
"""

from __future__ import annotations

import random

import sympy as sp

from derive import inputs, limits
from derive.blocks import eq, needs_approx, prose, same, table
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic

pos, i, d_model = sp.symbols("pos i D")
PE = sp.Function("PE")
DEFAULT_D = 4
BASE = 10000
MAX_PATCH_PIXELS = limits.MAX_DIM  # P² entries per flattened patch


def _patch(value, option):
    return inputs.integer(value, option, 1, 4)


def _d_model(value, option):
    return inputs.integer(value, option, 1, limits.MAX_DIM)


def _seed(value, option):
    return inputs.integer(value, option, 0, 2**32 - 1)


def seeded_projection(rows: int, cols: int, seed: int) -> sp.Matrix:
    """Small exact weights in {-1, 0, 1}; random.random() is stable across Python versions."""
    rng = random.Random(seed)
    return sp.Matrix(rows, cols, lambda r, c: sp.Integer(int(rng.random() * 3) - 1))


def sinusoidal(n_positions: int, d: int) -> sp.Matrix:
    """PE(pos, 2i) = sin(pos / 10000^(2i/D)), PE(pos, 2i+1) = cos(...), exactly."""

    def entry(p, k):
        angle = sp.Integer(p) / sp.Integer(BASE) ** sp.Rational(2 * (k // 2), d)
        return sp.sin(angle) if k % 2 == 0 else sp.cos(angle)

    return sp.Matrix(n_positions, d, entry)


def _prepare(options) -> Givens:
    image, P = options["image"], options["patch"]
    limits.check_shape("--image", image)
    H, W = image.shape
    if H % P or W % P:
        raise InputError("--patch", f"{P} does not divide the {H}×{W} image into whole {P}×{P} patches")
    n = (H // P) * (W // P)
    if P * P > MAX_PATCH_PIXELS:
        raise InputError("--patch", f"a {P}×{P} patch has {P * P} pixels; at most {MAX_PATCH_PIXELS} fit")
    if n > limits.MAX_TOKENS:
        raise InputError("--patch", f"gives {n} patches; at most {limits.MAX_TOKENS} fit a worked solution")
    W_E, D = options["projection"], options["d_model"]
    if W_E is not None:
        limits.check_shape("--projection", W_E, rows=MAX_PATCH_PIXELS)
        if W_E.rows != P * P:
            raise InputError(
                "--projection", f"has {W_E.rows} rows; a flattened {P}×{P} patch has {P * P} entries"
            )
        if D is not None and D != W_E.cols:
            raise InputError("--d-model", f"is {D} but --projection has {W_E.cols} columns")
        D = W_E.cols
    D = D or DEFAULT_D
    if W_E is None:
        W_E = seeded_projection(P * P, D, options["seed"])
    cls = options["cls"] if options["cls"] is not None else sp.zeros(1, D)
    if cls.cols != D:
        raise InputError("--cls", f"has {cls.cols} entries; the class token needs D = {D}")
    E_pos = options["pos_embed"]
    if E_pos is not None and E_pos.shape != (n + 1, D):
        raise InputError(
            "--pos-embed",
            f"is {E_pos.rows}×{E_pos.cols}; it needs one row per token ({n} patches + the class token) "
            f"and D = {D} columns",
        )
    if E_pos is None and D % 2:
        raise InputError(
            "--d-model", f"is {D}; sinusoidal position embeddings need an even D (or give --pos-embed)"
        )
    params = {
        "image": [[str(e) for e in row] for row in image.tolist()],
        "patch": P,
        "d_model": D,
        "projection": [[str(e) for e in row] for row in W_E.tolist()],
        "cls": [str(e) for e in cls],
        "pos_embed": None if E_pos is None else [[str(e) for e in row] for row in E_pos.tolist()],
    }
    intro = [
        prose(
            "A Vision Transformer reads an image as a sequence of tokens: it cuts the image into square "
            "patches, turns each patch into a vector, and from then on treats the patches like the words "
            "of a sentence. The image here is {H}×{W} pixels (one channel), cut into {P}×{P} patches:",
            H=H,
            W=W,
            P=P,
        ),
        eq(sp.Symbol("I"), image),
    ]
    values = {
        "image": image,
        "P": P,
        "D": D,
        "W_E": W_E,
        "cls": cls,
        "E_pos": E_pos,
        "projection_given": options["projection"] is not None,
        "seed": options["seed"],
        "n": n,
    }
    return Givens("Vision Transformer patch embedding", values, tuple(intro), params)


def _cut(image, P, column_major=False):
    rows = []
    for top in range(0, image.rows, P):
        for left in range(0, image.cols, P):
            block = image[top : top + P, left : left + P]
            rows.append(list(block.T if column_major else block))
    return sp.Matrix(rows)


def _patches(v):
    return _cut(v.image, v.P)


def _column_major(v):
    return _cut(v.image, v.P, column_major=True)


def _explain_patches(v):
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


def _projected(v):
    return v.patches * v.W_E


def _explain_projected(v):
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
    with sp.evaluate(False):
        entry = sp.Add(*[sp.Mul(first[j], v.W_E[j, 0]) for j in range(v.W_E.rows)])
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


def _with_cls(v):
    return v.cls.col_join(v.projected)


def _cls_appended(v):
    return v.projected.col_join(v.cls)


def _explain_with_cls(v):
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


def _positions(v):
    return v.E_pos if v.E_pos is not None else sinusoidal(v.n + 1, v.D)


def _explain_positions(v):
    E = sp.Symbol("E_pos")
    if v.E_pos is not None:
        return (
            prose(
                "Attention by itself ignores order, so every token gets a position embedding: one row per "
                "position, class token first. They are given:"
            ),
            eq(E, v.positions),
        )
    with sp.evaluate(False):
        angle = sp.Mul(pos, sp.Pow(sp.Pow(BASE, sp.Mul(2, i) / d_model), -1))
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


def _output(v):
    return v.with_cls + v.positions


def _twins(matrix):
    """The first two equal rows (0-based), or None."""
    for a in range(matrix.rows):
        for b in range(a + 1, matrix.rows):
            if matrix.row(a) == matrix.row(b):
                return a, b
    return None


def _explain_output(v):
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


def _sample(rng):
    P = int(rng.integers(1, 3))
    H, W = P * int(rng.integers(1, 4)), P * int(rng.integers(1, 4))
    image = "; ".join(" ".join(str(int(x)) for x in rng.integers(0, 10, W)) for _ in range(H))
    raw = {"image": image, "patch": str(P), "seed": str(int(rng.integers(0, 100)))}
    if rng.random() < 0.5:
        D = int(rng.integers(1, 4))
        raw["projection"] = "; ".join(
            " ".join(str(int(x)) for x in rng.integers(-2, 3, D)) for _ in range(P * P)
        )
        n = (H // P) * (W // P)
        raw["pos_embed"] = "; ".join(
            " ".join(str(int(x)) for x in rng.integers(-3, 4, D)) for _ in range(n + 1)
        )
    else:
        raw["d_model"] = str(2 * int(rng.integers(1, 3)))
    return raw


def _reference(options):
    """The same pipeline in NumPy, with the patch split done by reshape/transpose (as in einops)."""
    import numpy as np

    from derive import forward

    P = options["patch"]
    image = np.array(options["image"].tolist(), dtype=float)  # (H, W)
    H, W = image.shape
    patches = image.reshape(H // P, P, W // P, P).transpose(0, 2, 1, 3).reshape(-1, P * P)  # (n, P²)
    if options["projection"] is not None:
        W_E = np.array(options["projection"].tolist(), dtype=float)  # (P², D)
    else:
        D = options["d_model"] or DEFAULT_D
        rng = random.Random(options["seed"])
        W_E = np.array([[int(rng.random() * 3) - 1 for _ in range(D)] for _ in range(P * P)], dtype=float)
    D = W_E.shape[1]
    projected = patches @ W_E  # (n, D)
    cls = np.zeros((1, D)) if options["cls"] is None else np.array(options["cls"].tolist(), dtype=float)
    with_cls = np.concatenate([cls, projected])  # (n + 1, D)
    if options["pos_embed"] is not None:
        E_pos = np.array(options["pos_embed"].tolist(), dtype=float)  # (n + 1, D)
    else:
        E_pos = forward.sinusoidal_positional_encoding(len(with_cls), D)  # (n + 1, D)
    return {
        "patches": patches,
        "projected": projected,
        "with_cls": with_cls,
        "positions": E_pos,
        "output": with_cls + E_pos,
    }


TOPIC = Topic(
    name="patches",
    summary="Vision Transformer input: image patches, flattened and projected, class token, positions",
    options=(
        Option("image", "the image, one row of pixels per row: '1 2; 3 4'", inputs.matrix, required=True),
        Option(
            "patch",
            "the patch side P (1 to 4); it must divide both sides of the image",
            _patch,
            required=True,
        ),
        Option(
            "projection",
            "the projection W_E, P² rows × D columns (default: seeded -1/0/1 weights)",
            inputs.matrix,
        ),
        Option(
            "d_model", f"the token dimension D when --projection is not given (default {DEFAULT_D})", _d_model
        ),
        Option("seed", "the seed of the default projection", _seed, default="0"),
        Option("cls", "the class token, D entries (default: zeros)", inputs.vector),
        Option(
            "pos_embed",
            "position embeddings, one row per token incl. the class token (default: sinusoidal)",
            inputs.matrix,
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "patches",
            "Cut the image into patches and flatten them",
            _patches,
            _explain_patches,
            mistakes=(
                Mistake(
                    "column-major-patches",
                    "Flatten each patch row by row (left to right, then the next row), not column by column.",
                    _column_major,
                ),
            ),
        ),
        Stage("projected", "Project every patch", _projected, _explain_projected),
        Stage(
            "with_cls",
            "Prepend the class token",
            _with_cls,
            _explain_with_cls,
            mistakes=(
                Mistake(
                    "cls-appended",
                    "The class token goes in front, as row 0, before the patches.",
                    _cls_appended,
                ),
            ),
        ),
        Stage("positions", "Position embeddings", _positions, _explain_positions),
        Stage(
            "output",
            "Add the positions",
            _output,
            _explain_output,
            mistakes=(
                Mistake(
                    "no-positions",
                    "Add the position embedding of each row (the class token's too) to the tokens.",
                    lambda v: v.with_cls,
                ),
            ),
        ),
    ),
    result="output",
    examples={
        "tiny": {"image": "3 1 4 1; 5 9 2 6; 5 3 5 8; 9 7 9 3", "patch": "2"},
        "edges": {
            "image": "0 1 1 0; 0 1 1 0; 0 1 1 0; 0 1 1 0",
            "patch": "2",
            "projection": "1 1; 1 -1; 1 1; 1 -1",
            "cls": "1 1",
            "pos_embed": "0 0; 1 0; 0 1; -1 0; 0 -1",
        },
    },
    example_notes={
        "tiny": "a 4×4 image (digits of pi) in 2×2 patches, seeded projection to D = 4, sinusoidal positions",
        "edges": "a vertical bar; W_E measures brightness and left-minus-right contrast (D = 2)",
    },
    sample=_sample,
    reference=_reference,
)
