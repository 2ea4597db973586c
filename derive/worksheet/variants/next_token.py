"""Next-token prediction: level 1 four words, d = 2, small integers, top-k = 2 and the greedy word;
level 2 five words, d = 3, a temperature, top-k or top-p and a seeded draw whose u the task states;
level 3 decimals, a temperature and top-p then a seeded draw.

Every level filters, so the filtered distribution is always its own question. The logits are
distinct (ties would make the order, and so the kept words, a matter of convention), and a draw's
u and a top-p's p keep clear of every cumulative sum, so rounding at the sheet's decimals cannot
change which word is picked or kept.
"""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw

WORDS = (
    "the", "cat", "sat", "on", "mat", "dog", "ran", "a", "red", "hat", "sun", "big", "sky", "sea",
    "cup", "tea", "is", "hot", "owl", "fox", "map", "pen", "box", "day",
)  # fmt: skip
MAX_SHARE = 0.9  # a filtered distribution more peaked than this passes for the one-hot hard max
MARGIN = 0.02  # how far u and p stay from every cumulative sum
SPREAD = 4  # level 1 logits lie within this of each other: e^0 … e^-4 in the table
SEED_TRIES = 40


def _vocab(rng, size):
    return " ".join(rng.sample(WORDS, size))


def _seed(rng):
    return str(rng.randint(0, 999))


def _distinct_logits(rng, words, d, low, high, spread=None):
    """h and E of small integers whose logits h·e_i are distinct (and within ``spread``): drawn
    here, in integers, as most draws fail and the exact screen is the costly part."""
    while True:
        hidden = draw.nonzero_row(rng, d, low, high)
        embedding = draw.int_matrix(rng, words, d, low, high)
        logits = [draw.dot(hidden, row) for row in embedding]
        if len(set(logits)) == words and (spread is None or max(logits) - min(logits) <= spread):
            return {"hidden": draw.vector_text(hidden), "embedding": draw.matrix_text(embedding)}


def level_1(rng):
    return {**_distinct_logits(rng, 4, 2, -2, 2, SPREAD), "vocab": _vocab(rng, 4), "top_k": "2"}


def _reference(given) -> dict:
    """The topic's own NumPy reference for these inputs (floats: a cheap first look before the exact
    screen, which has the last word)."""
    import numpy as np

    from derive.worksheet.variants import topic_named

    options = {
        "hidden": [float(e) for e in given["hidden"].split()],
        "embedding": np.array([[float(e) for e in row.split()] for row in given["embedding"].split(";")]),
        "temperature": float(given.get("temperature", "1")),
        "top_k": int(given["top_k"]) if "top_k" in given else None,
        "top_p": float(given["top_p"]) if "top_p" in given else None,
    }
    return topic_named("next-token").reference(options)


def _walk(probs, order, u) -> int:
    total = 0.0
    for n in order:
        total += probs[n]
        if total > u:
            return n
    return order[-1]


def _telling_seed(rng, filtered) -> str | None:
    """A seed whose u, walked in vocabulary order, picks another word than walked by size (the
    sorted-order misconception) and stays clear of every cumulative sum; None if few seeds do."""
    by_size = sorted(range(len(filtered)), key=lambda n: -filtered[n])
    in_order = range(len(filtered))
    for _ in range(SEED_TRIES):
        seed = _seed(rng)
        u = _draw(seed)
        if _clear(u, _running(filtered)) and _walk(filtered, in_order, u) != _walk(filtered, by_size, u):
            return seed
    return None


def _sampled(rng, given):
    """``given`` with a seed, or None when its filtered distribution leaves nothing to tell apart."""
    reference = _reference(given)
    filtered = [float(q) for q in reference["filtered"]]
    probs = sorted((float(q) for q in reference["probabilities"]), reverse=True)
    if sum(q > 0 for q in filtered) < 2 or max(filtered) > MAX_SHARE:
        return None
    if "top_p" in given and not _clear(float(given["top_p"]), _running(probs)):
        return None
    seed = _telling_seed(rng, filtered)
    return None if seed is None else {**given, "seed": seed}


def level_2(rng):
    while True:
        given = {
            **_distinct_logits(rng, 5, 3, -1, 2),
            "vocab": _vocab(rng, 5),
            "temperature": rng.choice(["1", "2"]),
        }
        if rng.random() < 0.5:
            given["top_k"] = rng.choice(["2", "3"])
        else:
            given["top_p"] = rng.choice(["0.7", "0.8", "0.9"])
        sampled = _sampled(rng, given)
        if sampled is not None:
            return sampled


def level_3(rng):
    while True:
        given = {
            "hidden": draw.vector_text(draw.tenths(rng, 3, -15, 15)),
            "embedding": draw.matrix_text(draw.tenths_matrix(rng, 5, 3, -15, 15)),
            "vocab": _vocab(rng, 5),
            "temperature": rng.choice(["0.7", "0.8", "1.5"]),
            "top_p": rng.choice(["0.75", "0.85", "0.9"]),
        }
        sampled = _sampled(rng, given)
        if sampled is not None:
            return sampled


def moot(given):
    return {"no-temperature"} if given.get("temperature", "1") == "1" else set()


def _clear(point, sums) -> bool:
    return all(abs(float(total) - float(point)) > MARGIN for total in sums)


def _running(entries) -> list[float]:
    total, out = 0.0, []
    for entry in entries:
        total += entry
        out.append(total)
    return out


def suitable(values, level):
    """Distinct logits (level 1 within SPREAD), at least two words kept and none near certain, and
    p and u clear of the cumulative sums they are compared with."""
    logits = [float(z) for z in values.logits]
    if len(set(values.logits)) != len(logits):
        return False
    if level == 1 and max(logits) - min(logits) > SPREAD:
        return False
    probs = [float(q) for q in values.probabilities]
    filtered = [float(q) for q in values.filtered]
    if sum(q > 0 for q in filtered) < 2 or max(filtered) > MAX_SHARE:
        return False
    if values.p is not None and not _clear(values.p, _running(sorted(probs, reverse=True))):
        return False
    return values.u is None or _clear(values.u, _running(filtered))


SYMBOLS = {
    "hidden": sp.Symbol("h"),
    "embedding": sp.Symbol("E"),
    "vocab": None,
    "temperature": sp.Symbol("T"),
    "top_k": sp.Symbol("k"),
    "top_p": sp.Symbol("p"),
    "seed": None,
}
UNSHOWN = ("seed",)  # the task states the u it draws


def worked(values):
    """The key's line for the choice, a rule rather than an equation: the argmax, or the walk."""
    probs = [float(q) for q in values.filtered]
    if values.u is None:
        return {"token": [f"the largest p' is {probs[values.words.index(values.token)]:.2f}: {values.token}"]}
    running = _running(probs)
    chosen = values.words.index(values.token)
    sums = ", ".join(f"{word} {total:.2f}" for word, total in zip(values.words[: chosen + 1], running))
    return {
        "token": [
            f"running sums of p' in vocabulary order: {sums}; the first above u = {float(values.u):.4f}: {values.token}"
        ]
    }


def _draw(seed: str) -> float:
    """The uniform number the topic draws for this seed (numpy's default_rng, as the topic does)."""
    import numpy as np

    return float(np.random.default_rng(int(seed)).random())


def task(given):
    steps = [
        "Row i of E is the embedding of word i of the vocabulary, and the output layer is tied to it: "
        "compute the logits z = h Eᵀ"
    ]
    steps.append(
        "the probabilities softmax(z / T)" if "temperature" in given else "the probabilities softmax(z)"
    )
    if "top_k" in given:
        steps.append("keep the k most probable words and renormalise")
    else:
        steps.append("keep the most probable words until their sum reaches p, and renormalise")
    if "seed" in given:
        steps.append(
            f"then pick the next word with u = {_draw(given['seed']):.4f}: walk the cumulative sums in "
            "vocabulary order to the first that exceeds u"
        )
    else:
        steps.append("then pick the most probable word")
    return ", ".join(steps[:-1]) + ", " + steps[-1] + "."


LEVELS = {1: level_1, 2: level_2, 3: level_3}
