"""The positional-encoding table as a heatmap, and each pair's sine and cosine as smooth curves."""

from __future__ import annotations

import math

from derive.blocks import curves, heatmap
from derive.exact import positional

CURVE_PAIRS = 3  # pairs drawn as curves
CURVE_POINTS = 200


def figures(v):
    heat = heatmap(
        "positional-encoding",
        "Positional encoding",
        v.pe,
        range(v.positions),
        range(v.d_model),
        xlabel="dimension",
        ylabel="position",
    )
    span = max(v.positions - 1, 24)
    xs = [span * t / (CURVE_POINTS - 1) for t in range(CURVE_POINTS)]
    series = {}
    for i in range(min(v.d_model // 2, CURVE_PAIRS)):
        divisor = float(v.divisors[0, i])
        sine, cosine = (positional.dimension_of(i, c, v.d_model // 2, v.layout) for c in (False, True))
        series[f"dim {sine} (sin)"] = [math.sin(x / divisor) for x in xs]
        series[f"dim {cosine} (cos)"] = [math.cos(x / divisor) for x in xs]
    waves = curves(
        "positional-encoding-waves",
        "Sine and cosine of each dimension pair",
        xs,
        series,
        "position",
        "PE value",
    )
    return [heat, waves]
