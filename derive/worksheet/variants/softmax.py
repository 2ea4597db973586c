"""Softmax: level 1 three distinct small integers (an e^k table does the rest), level 2 a
temperature or two rows, level 3 decimals."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw

MAX_SHARE = 0.97
MIN_SUM_GAP = 0.25  # how far a row's sum of exponentials must be from 1


def level_1(rng):
    return {"x": draw.vector_text(draw.distinct_row(rng, 3, -2, 3))}


def level_2(rng):
    if rng.random() < 0.5:
        rows = [draw.distinct_row(rng, 3, -2, 3) for _ in range(2)]
        return {
            "x": draw.matrix_text(rows),
        }
    return {"x": draw.vector_text(draw.distinct_row(rng, 4, -3, 4)), "temperature": rng.choice(["2", "1/2"])}


def level_3(rng):
    return {
        "x": draw.vector_text(draw.tenths(rng, rng.choice([3, 4]), -25, 25)),
        "temperature": rng.choice(["0.5", "0.8", "1.5", "2"]),
    }


def moot(given):
    return {"no-temperature"} if given.get("temperature", "1") == "1" else set()


def suitable(values, level):
    """No ties in a row (they hide misconceptions), no row summing to 0 (dividing without
    exponentials would divide by 0), no row so peaked that the hard-max one-hot answer would
    pass for the softmax, and no row whose exponentials already sum to about 1 (forgetting to
    divide by the sum would pass)."""
    rows = [values.softmax.row(r) for r in range(values.softmax.rows)]
    logits = [values.z.row(r) for r in range(values.z.rows)]
    distinct = all(len(set(row)) == len(row) and sum(row) != 0 for row in logits)
    normalised_already = any(abs(float(total) - 1) < MIN_SUM_GAP for total in values.sum)
    return distinct and not normalised_already and all(max(float(p) for p in row) < MAX_SHARE for row in rows)


SYMBOLS = {"x": sp.Symbol("x"), "temperature": sp.Symbol("T")}


def task(given):
    if given.get("temperature", "1") == "1":
        return "Turn each row of logits x into probabilities with the softmax."
    return "Divide the logits x by the temperature T, then take the softmax of each row."


LEVELS = {1: level_1, 2: level_2, 3: level_3}
