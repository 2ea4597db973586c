"""Cross-entropy: level 1 three distinct small integer logits and a target (an e^k table does the
rest), level 2 a batch of two rows (the mean loss, the gradient over N = 2), level 3 four decimal
logits with label smoothing 0.1."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw

MAX_SHARE = 0.95  # a target probability this close to 1 leaves a gradient too small to grade


def level_1(rng):
    return {"logits": draw.vector_text(draw.distinct_row(rng, 3, -2, 3)), "target": str(rng.randint(1, 3))}


def level_2(rng):
    rows = [draw.distinct_row(rng, 3, -2, 3) for _ in range(2)]
    return {"logits": draw.matrix_text(rows), "target": draw.vector_text(draw.integers(rng, 2, 1, 3))}


def level_3(rng):
    return {
        "logits": draw.vector_text(draw.tenths(rng, 4, -25, 25)),
        "target": str(rng.randint(1, 4)),
        "label_smoothing": "0.1",
    }


def suitable(values, level):
    """No tied logits in a row, and no target already predicted with near certainty."""
    rows = [values.z.row(r) for r in range(values.z.rows)]
    confident = any(float(values.softmax[r, t - 1]) > MAX_SHARE for r, t in enumerate(values.targets))
    return all(len(set(row)) == len(row) for row in rows) and not confident


SYMBOLS = {"logits": sp.Symbol("z"), "target": None, "label_smoothing": sp.Symbol("epsilon")}


def task(given):
    text = "Take the softmax p of the logits z, the cross-entropy loss for the target class (counting from 1)"
    if ";" in given["logits"]:
        text += ", averaged over the rows,"
    if given.get("label_smoothing", "0") != "0":
        text += " with label smoothing ε"
    return text + " and its gradient with respect to z."


LEVELS = {1: level_1, 2: level_2, 3: level_3}
