"""Masked-LM: level 1 eight words (ten tokens with [CLS] and [SEP], so BERT's rule picks two positions
where 15% of the candidates alone would pick one) and five distinct words with integer hidden states and
embeddings in [-1, 1]; level 2 nine words, a bias and the loss; level 3 decimals in three dimensions,
under BERT's rule or Hugging Face's (each candidate with u < 0.15).

The sheet lists the seeded draws (u per candidate, r per chosen position, the random tokens), rounded to
four places and drawn so that the rounding decides nothing: the student applies the rules, not NumPy.
"""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw

PLACES = 4
CUTS = (0.15, 0.8, 0.9)  # u below 0.15 (Hugging Face's rule); r below 0.8 masks, below 0.9 is random
NOUNS = ("man", "woman", "king", "queen", "house", "car", "store", "milk")
ADJECTIVES = ("new", "old", "big", "small")


def _weights(rng, text: str, d: int, decimals: bool) -> dict:
    words = text.split()
    distinct = list(dict.fromkeys(words))
    if decimals:
        hidden = draw.tenths_matrix(rng, len(words) + 2, d, -15, 15)
        embedding = draw.tenths_matrix(rng, len(distinct), d, -15, 15)
    else:
        hidden = [draw.integers(rng, d, -1, 1) for _ in range(len(words) + 2)]
        embedding = draw.distinct_rows(rng, len(distinct), d, -1, 1)
    return {"hidden": draw.matrix_text(hidden), "embedding": draw.matrix_text(embedding)}


def _seed(rng, text: str, rule: str = "bert") -> str:
    """A seed whose draws choose two positions or more and leave at least one of them unmasked (else
    every chosen token is [MASK] and masking them all would pass), with Hugging Face's rule choosing
    other positions than BERT's count would."""
    from derive import vocabulary
    from derive.topics.masked_lm import stages

    n = len(text.split()) + 2
    candidates = list(range(1, n - 1))
    while True:
        seed = rng.randrange(2**32)
        u, decisions = stages.draws(seed, len(candidates), vocabulary.builtin().ids)
        fixed = stages.smallest(u, candidates, stages.chosen_count(n))
        chosen = fixed if rule == "bert" else stages.below_rate(u, candidates)
        if rule != "bert" and chosen == fixed:
            continue
        if len(chosen) >= 2 and any(outcome != "mask" for _, outcome, _ in decisions[: len(chosen)]):
            return str(seed)


def level_1(rng):
    a, b, c = rng.sample(NOUNS, 3)
    text = f"the {a} and the {b} and the {c}"
    return {"text": text, "seed": _seed(rng, text), **_weights(rng, text, 2, decimals=False)}


def level_2(rng):
    a, b, c = rng.sample(NOUNS, 3)
    text = f"the {a} and the {b} went to the {c}"
    given = {"text": text, "seed": _seed(rng, text), **_weights(rng, text, 2, decimals=False)}
    return {**given, "bias": draw.vector_text(draw.integers(rng, len(set(text.split())), -1, 1))}


def level_3(rng):
    nouns = rng.sample(NOUNS, 3)
    text = f"the {rng.choice(ADJECTIVES)} {nouns[0]} and the {nouns[1]} bought a {nouns[2]}"
    rule = rng.choice(["bert", "bernoulli"])
    given = {"text": text, "seed": _seed(rng, text, rule), **_weights(rng, text, 3, decimals=True)}
    given["bias"] = draw.vector_text(draw.tenths(rng, len(set(text.split())), -10, 10))
    return {**given, "rule": rule}


def refuse(answer, level):
    if level == 1 and answer == "loss":
        return "the loss needs natural logarithms, beyond a basic calculator; ask it at level 2 or 3"
    return None


def _clear(x: float, cuts=CUTS) -> bool:
    """``x`` rounded to PLACES decides as x does: not within a rounding step of a cut."""
    return all(abs(x - cut) > 10.0**-PLACES for cut in cuts)


def suitable(values, level):
    """Two or more positions chosen (a mean over one is its sum), the shown draws decide as the exact
    ones do (no two u alike at four places, no u or r at a cut), and every chosen position's logits vary
    (a uniform distribution whatever the weights)."""
    if len(values.chosen) < 2:
        return False
    shown = [round(float(u), PLACES) for u in values.u]
    if len(set(shown)) < len(shown) or not all(_clear(float(u), CUTS[:1]) for u in values.u):
        return False
    if not all(_clear(float(r), CUTS[1:]) for r, _, _ in values.decisions[: len(values.chosen)]):
        return False
    return all(len(set(values.logits.row(r))) > 1 for r in range(values.logits.rows))


def glossary(values):
    """The seeded draws, as the student needs them: u for each candidate position, r for each chosen
    position in order, and the vocabulary entry a random replacement draws."""
    us = " ".join(f"{float(u):.{PLACES}f}" for u in values.u)
    rs = " ".join(f"{float(r):.{PLACES}f}" for r, _, _ in values.decisions[: len(values.chosen)])
    listed = [
        (f"u for positions 1 to {len(values.candidates)}", us),
        ("r for the 1st, 2nd, ... chosen position", rs),
    ]
    for k, (_, outcome, token) in enumerate(values.decisions[: len(values.chosen)], 1):
        if outcome == "random":
            listed.append((f"the random token for chosen position {k}", token))
    return listed


def worked(values):
    """The key's lines for the two stages that are rules rather than equations."""
    n, chosen = len(values.tokens), list(values.chosen)
    drawn = ", ".join(
        f"{p} (u = {float(u):.{PLACES}f})" for u, p in zip(values.u, values.candidates) if p in chosen
    )
    if values.rule == "bernoulli":
        rule = "every candidate with u < 0.15"
    else:
        rule = f"n = {n} tokens, round(0.15 · {n}) = {values.count} positions with the smallest u"
    outcomes = {"mask": "< 0.8: [MASK]", "random": "< 0.9: a random token", "keep": "≥ 0.9: kept"}
    corrupt = [
        f"position {p}, {values.tokens[p]}: r = {float(r):.{PLACES}f} {outcomes[o]} → {values.corrupted[p]}"
        for (r, o, _), p in zip(values.decisions, chosen)
    ]
    return {"chosen": [f"{rule}: {drawn}"], "corrupted": corrupt}


SYMBOLS = {"text": None, "seed": None, "rule": None, "hidden": sp.Symbol("H"), "embedding": sp.Symbol("E")}
SYMBOLS["bias"] = sp.Symbol("b")


def task(given):
    if given.get("rule") == "bernoulli":
        choose = "choose every candidate whose u is below 0.15 (Hugging Face's rule)"
    else:
        choose = (
            "choose round(0.15 · n) positions, n counting every token with [CLS] and [SEP], those with the "
            "smallest u (BERT's rule)"
        )
    return (
        "Tokenize with [CLS] first and [SEP] last, numbered from 0; [CLS] and [SEP] are never chosen. Using the "
        f"draws listed, {choose}. The k-th chosen token becomes [MASK] if r_k < 0.8, the random token listed if "
        "r_k < 0.9, else stays. The logits of a chosen position i are h_i Eᵀ + b (b = 0 unless given; E has a row per distinct word, "
        "in order of first appearance); softmax them, and average −ln p(original word) over the chosen positions."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
