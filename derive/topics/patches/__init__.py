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
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.patches import explain, stages

DEFAULT_D = 4
MAX_PATCH_PIXELS = limits.MAX_DIM  # P² entries per flattened patch


def _patch(value, option):
    return inputs.integer(value, option, 1, 4)


def _d_model(value, option):
    return inputs.integer(value, option, 1, limits.MAX_DIM)


def _seed(value, option):
    return inputs.integer(value, option, 0, 2**32 - 1)


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
        W_E = stages.seeded_projection(P * P, D, options["seed"])
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
    return Givens("Vision Transformer patch embedding", values, explain.intro(image, P), params)


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
            stages.patches,
            explain.explain_patches,
            mistakes=(stages.COLUMN_MAJOR,),
        ),
        Stage("projected", "Project every patch", stages.projected, explain.explain_projected),
        Stage(
            "with_cls",
            "Prepend the class token",
            stages.with_cls,
            explain.explain_with_cls,
            mistakes=(stages.CLS_APPENDED,),
        ),
        Stage("positions", "Position embeddings", stages.positions, explain.explain_positions),
        Stage(
            "output",
            "Add the positions",
            stages.output,
            explain.explain_output,
            mistakes=(stages.NO_POSITIONS,),
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
