"""The compared words' vectors in a picture: centred and projected onto their two main directions."""

from __future__ import annotations

from derive.blocks import vectors


def word_plot(vocabulary, words):
    """The words' vectors, centred and projected onto their two principal directions (signs fixed)."""
    import numpy as np

    table = np.array([[float(x) for x in vocabulary[w]] for w in words])
    table -= table.mean(axis=0)
    _, _, axes = np.linalg.svd(table, full_matrices=False)
    axes = axes[:2] * np.sign(axes[:2, [int(np.argmax(np.abs(row))) for row in axes[:2]]].diagonal())[:, None]
    points = table @ axes.T
    return vectors(
        "embeddings-plot",
        "Word vectors (centred) on their two main directions",
        {w: (round(float(x), 6), round(float(y), 6)) for w, (x, y) in zip(words, points)},
    )
