"""The masked-LM stages: which positions, how corrupted, the head's logits, softmax and the loss.

The random draws are made once in ``prepare`` (numpy.random.default_rng(seed)); the stages apply
them to ``v.chosen`` and so on, so a student's own chosen positions carry through to the rest.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from derive import wordpiece as wp
from derive.exact.softmax import stable_softmax
from derive.model import Mistake

RATE, MASK_SHARE, RANDOM_SHARE = sp.Rational(15, 100), sp.Rational(8, 10), sp.Rational(1, 10)
BERT, BERNOULLI = "bert", "bernoulli"
MAX_PREDICTIONS = 20  # max_predictions_per_seq, the default of BERT's create_pretraining_data.py


# The draws.


def chosen_count(n_tokens: int, max_predictions: int = MAX_PREDICTIONS) -> int:
    """BERT's count: 15% of all the tokens, [CLS] and [SEP] included, rounded; at least 1, at most the cap.

    ``round`` of the exact product rounds a half to even, as Python 3's ``round`` does on BERT's float
    ``len(tokens) * masked_lm_prob`` (the two agree at every length below 5000).
    """
    return min(max_predictions, max(1, round(Fraction(15, 100) * n_tokens)))


def candidates_count(candidates: int) -> int:
    """15% of the candidates only (without [CLS] and [SEP]), rounded half up: the misconception."""
    return max(1, int(sp.floor(RATE * candidates + sp.Rational(1, 2))))


def shown_exact(x) -> sp.Rational:
    """A float as the shortest decimal that prints it, kept exact so comparisons match what is shown."""
    return sp.Rational(repr(float(x)))


def draws(seed: int, candidates: int, ids: dict) -> tuple[list, list]:
    """u for every candidate, then per chosen position r (and a vocabulary index when r says random)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    by_id = sorted(ids, key=ids.get)
    u = [shown_exact(x) for x in rng.random(candidates)]
    decisions = []
    for _ in range(candidates):
        r = shown_exact(rng.random())
        if r < MASK_SHARE:
            decisions.append((r, "mask", wp.MASK))
        elif r < MASK_SHARE + RANDOM_SHARE:
            decisions.append((r, "random", by_id[int(rng.integers(len(by_id)))]))
        else:
            decisions.append((r, "keep", None))
    return u, decisions


# Stages.


def smallest(u, candidates, count: int) -> list[int]:
    """The ``count`` candidates with the smallest draws, in position order."""
    ranked = sorted(zip(u, candidates))
    return sorted(int(position) for _, position in ranked[:count])


def below_rate(u, candidates) -> list[int]:
    """Every candidate whose draw is below 0.15: each one chosen independently, with probability 0.15."""
    return [int(position) for x, position in zip(u, candidates) if x < RATE]


def chosen(v):
    if v.rule == BERNOULLI:
        return below_rate(v.u, v.candidates)
    return smallest(v.u, v.candidates, v.count)


def _candidates_only(v):
    if v.rule != BERT:
        return None
    return smallest(v.u, v.candidates, min(v.max_predictions, candidates_count(len(v.candidates))))


def _fixed_count(v):
    if v.rule != BERNOULLI:
        return None
    return smallest(v.u, v.candidates, chosen_count(len(v.tokens), v.max_predictions))


def _apply(v, mask_all: bool = False):
    corrupted = list(v.tokens)
    for (_, outcome, token), position in zip(v.decisions, sorted(v.chosen)):
        if mask_all or outcome == "mask":
            corrupted[position] = wp.MASK
        elif outcome == "random":
            corrupted[position] = token
    return corrupted


def corrupted(v):
    return _apply(v)


def _all_masked(v):
    return _apply(v, mask_all=True)


def head(v, positions):
    """Logits h_i Eᵀ + b for the hidden states at ``positions``."""
    hidden = sp.Matrix.vstack(*(v.H.row(position) for position in positions))
    return hidden * v.E.T + sp.Matrix.vstack(*([v.b] * hidden.rows))


def logits(v):
    return head(v, sorted(v.chosen))


def probabilities(v):
    return stable_softmax(v.logits)


def minus_log(q):
    """−log q, expanded: log S − a for a softmax entry e^a / S, as ``expand_log`` would write it."""
    quick = _minus_log_of_softmax(q)
    return -sp.expand_log(sp.log(q), force=True) if quick is None else quick


def _minus_log_of_softmax(q):
    """log S − a when q is e^a·S⁻¹ (or S⁻¹) with S a sum of 1 and e^r, a and every r rational; else None.

    The same expression ``expand_log`` gives, built directly: the general expansion asks SymPy's
    assumptions about every term and took most of a masked-LM draw.
    """
    factors = sp.Mul.make_args(q)
    sums = [f for f in factors if f.is_Pow and f.exp == -1 and f.base.is_Add]
    exps = [f for f in factors if isinstance(f, sp.exp) and f.args[0].is_Rational]
    if len(sums) != 1 or len(exps) > 1 or len(sums) + len(exps) != len(factors):
        return None
    total = sums[0].base
    if not all(t == 1 or (isinstance(t, sp.exp) and t.args[0].is_Rational) for t in total.args):
        return None
    return sp.log(total) - (exps[0].args[0] if exps else 0)


def losses(probs, positions, labels):
    return [minus_log(probs[row, labels[position]]) for row, position in enumerate(positions)]


def loss(v):
    terms = losses(v.probabilities, sorted(v.chosen), v.labels)
    return sp.Add(*terms) / len(terms)


def _sum_not_mean(v):
    return sp.Add(*losses(v.probabilities, sorted(v.chosen), v.labels))


def _all_positions(v):
    terms = losses(stable_softmax(head(v, v.candidates)), v.candidates, v.labels)
    return sp.Add(*terms) / len(terms)


# Misconceptions.


CANDIDATES_ONLY = Mistake(
    "fifteen-percent-of-candidates",
    "BERT's count is round(0.15 × the number of all tokens), [CLS] and [SEP] included, and at least 1; "
    "not 15% of the candidates only.",
    _candidates_only,
)
FIXED_COUNT = Mistake(
    "fixed-count",
    "With --rule bernoulli every candidate is chosen on its own, when its u is below 0.15: the number "
    "chosen is not fixed in advance.",
    _fixed_count,
)


ALL_MASKED = Mistake(
    "all-masked",
    "Only 80% of the chosen tokens become [MASK]: draw r; 0.8 ≤ r < 0.9 gives a random token and r ≥ 0.9 "
    "keeps the token.",
    _all_masked,
)


ALL_POSITIONS = Mistake(
    "loss-over-all-positions",
    "Average −log p over the chosen positions only: the others carry no label.",
    _all_positions,
)


SUM_NOT_MEAN = Mistake(
    "sum-not-mean", "Divide the sum of −log p by the number of chosen positions.", _sum_not_mean
)
