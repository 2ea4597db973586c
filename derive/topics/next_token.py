"""Next-token prediction: logits through the tied embedding, temperature, top-k / top-p, a token.

Every stage reads the earlier stages from ``v`` (the student's own values when checking), and the
filters compare exact values, so ties and the top-p boundary are decided exactly.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.blocks import (
    eq,
    heatmap,
    needs_approx,
    prose,
    same,
    table,
    unevaluated_dot,
    unevaluated_sum,
    user,
)
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic
from derive.numbers import Decimal, approx
from derive.topics.softmax import softmax_rows

z, T, u, k, p, m, S = sp.symbols("z T u k p m S")
z_i, z_j, p_i, s_i, s_j = sp.symbols("z_i z_j p_i s_i s_j")
H, EMB = sp.Symbol("h", commutative=False), sp.Symbol("E", commutative=False)
P_VEC, P_FILTERED = sp.Symbol("p"), sp.Symbol("p'")
j, V = sp.symbols("j V", integer=True, positive=True)
SHOWN = 4  # decimals in the tables


# Exact comparisons (values may be transcendental sums of exponentials, or a student's decimals).


def _sign(value) -> int:
    value = sp.sympify(value)
    if value.is_Rational:
        return int(bool(value > 0)) - int(bool(value < 0))
    numeric = sp.N(value, 60)
    if abs(numeric) > sp.Float(10) ** -50:
        return 1 if numeric > 0 else -1
    return 0 if sp.simplify(value) == 0 else (1 if numeric > 0 else -1)


def _descending(probs) -> list[int]:
    """Indices by falling probability; ties keep vocabulary order (a stable sort)."""
    return sorted(range(len(probs)), key=lambda n: (-sp.N(probs[n], 40), n))


def _top_k(probs, count: int) -> set[int]:
    """Hugging Face's rule: keep every entry at least as large as the k-th largest (ties stay)."""
    threshold = probs[_descending(probs)[count - 1]]
    return {n for n, q in enumerate(probs) if _sign(q - threshold) >= 0}


def _top_p(probs, mass, inclusive: bool = True) -> set[int]:
    """The shortest run of the sorted entries whose sum reaches ``mass``; ``inclusive=False``
    stops before the entry that reaches it (the misconception)."""
    kept, total = set(), sp.Integer(0)
    for n in _descending(probs):
        if _sign(total - mass) >= 0 or (not inclusive and _sign(total + probs[n] - mass) >= 0):
            break
        kept.add(n)
        total += probs[n]
    return kept


def _renormalised(probs, kept) -> list:
    """Divide by the kept sum, written relative to the largest kept entry (the stable softmax form)."""
    top = probs[next(n for n in _descending(probs) if n in kept)]
    total = sum((probs[n] / top for n in kept), sp.Integer(0))
    return [sp.Mul(q / top, sp.Pow(total, -1)) if n in kept else sp.Integer(0) for n, q in enumerate(probs)]


def _filter(v, top_p=_top_p) -> tuple[list, set[int]]:
    """The renormalised distribution and the kept set, top-k first and then top-p (as in HF)."""
    probs, kept = list(v.probabilities), set(range(len(v.probabilities)))
    if v.k is not None:
        kept = _top_k(probs, v.k)
        probs = _renormalised(probs, kept)
    if v.p is not None:
        kept = top_p(probs, v.p)
        if not kept:
            raise ValueError("nothing kept")
        probs = _renormalised(probs, kept)
    return probs, kept


def _walk(probs, order, threshold) -> int:
    """Inverse-CDF sampling: the first entry in ``order`` whose running sum exceeds ``threshold``."""
    total, last = sp.Integer(0), None
    for n in order:
        total += probs[n]
        last = n if _sign(probs[n]) > 0 else last
        if _sign(total - threshold) > 0:
            return n
    return last


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# Inputs.


def _top_p_option(value, option: str):
    number = inputs.scalar(value, option)
    if not (number.is_positive and _sign(number - 1) <= 0):
        raise InputError(option, "expected a probability p with 0 < p ≤ 1")
    return number


def _top_k_option(value, option):
    return inputs.integer(value, option, 1, limits.MAX_TOKENS)


def _seed(value, option):
    return inputs.integer(value, option, 0, 2**32 - 1)


def _prepare(options) -> Givens:
    hidden, embedding = options["hidden"], options["embedding"]
    limits.check_shape("--hidden", hidden, 1)
    limits.check_shape("--embedding", embedding)
    size, d = embedding.shape
    if d != hidden.cols:
        raise InputError("--embedding", f"has {d} columns but --hidden has {hidden.cols}: E must be V × d")
    words = options["vocab"] or [str(n) for n in range(size)]
    if len(words) != size:
        raise InputError("--vocab", f"expected {size} words, one per row of --embedding, got {len(words)}")
    if len(set(words)) != len(words):
        raise InputError("--vocab", "expected distinct words")
    top_k, mode, seed = options["top_k"], options["sample"], options["seed"]
    if top_k is not None and top_k > size:
        raise InputError("--top-k", f"expected a whole number from 1 to {size}, the vocabulary size")
    mode = mode or ("seeded" if seed is not None else "greedy")
    if mode == "greedy" and seed is not None:
        raise InputError("--seed", "is only used with --sample seeded")
    seed, draw = (0 if seed is None else seed), None
    if mode == "seeded":
        import numpy as np

        draw = sp.Rational(repr(float(np.random.default_rng(seed).random())))
    values = dict(h=hidden, E=embedding, words=words, T=options["temperature"], k=top_k, p=options["top_p"])
    values.update(mode=mode, seed=seed, u=draw)
    intro = (
        prose(
            "A language model predicts the next token from the final hidden state of the last position. "
            "Here it has d = {d} dimensions and the vocabulary has {V} words; row i of the embedding "
            "matrix E is the embedding of word i.",
            d=d,
            V=size,
        ),
        table(("i", "word", "row of E"), [(n, user(w), embedding.row(n)) for n, w in enumerate(words)]),
    )
    params = {
        "hidden": [str(e) for e in hidden],
        "embedding": [[str(e) for e in r] for r in embedding.tolist()],
    }
    params.update(vocab=words, temperature=str(values["T"]), top_k=top_k, sample=mode)
    params.update(
        top_p=None if values["p"] is None else str(values["p"]), seed=seed if draw is not None else None
    )
    return Givens("Next-token prediction", values, intro, params)


# Stages.


def _hidden(v):
    return v.h


def _explain_hidden(v):
    return (
        prose(
            "The last layer gives one hidden state per position (in GPT-2 after its final layer norm). "
            "Only the last position's state predicts the next token:"
        ),
        eq(H, v.hidden),
    )


def _logits(v):
    return v.hidden * v.E.T


def _explain_logits(v):
    rows = [(n, user(w), unevaluated_dot(v.hidden, v.E.row(n)), v.logits[n]) for n, w in enumerate(v.words)]
    return (
        prose(
            "The output layer is tied to the input embedding: GPT-2 and BERT reuse the same V × d matrix E "
            "instead of learning a separate one, so the logits are"
        ),
        eq(z, H * EMB ** sp.Symbol("T"), v.logits),
        prose(
            "and the logit of word i is the dot product of h with that word's own embedding e_i, row i of E:"
        ),
        table(("i", "word", "h · e_i", "logit"), rows),
    )


def _probabilities(v):
    return softmax_rows(v.logits / v.T)


def _no_temperature(v):
    return softmax_rows(v.logits)


def _explain_probabilities(v):
    scaled = v.logits / v.T
    top = max(scaled, key=lambda e: sp.N(e, 40))
    exps = [sp.exp(x - top) for x in scaled]
    rows = [
        (n, user(w), scaled[n], scaled[n] - top, exps[n], approx(v.probabilities[n], SHOWN))
        for n, w in enumerate(v.words)
    ]
    return (
        prose(
            "Divide the logits by the temperature {T} and take the softmax: T < 1 sharpens the "
            "distribution, T > 1 flattens it.",
            T=same(T, v.T),
        ),
        eq(p_i, sp.exp(z_i / T) / sp.Sum(sp.exp(z_j / T), (j, 1, V))),
        prose(
            "First subtract the largest scaled logit, {m}, from each: s_i = z_i/T − m. This changes nothing "
            "(the factor it takes out of every exponential cancels) and keeps the exponentials at most 1. "
            "Their sum is the normaliser, and {p}:",
            m=same(m, top),
            p=same(p_i, sp.exp(s_i) / S),
        ),
        eq(S, sp.Sum(sp.exp(s_j), (j, 1, V)), unevaluated_sum(exps), approx=sum(exps)),
        table(("i", "word", "z_i/T", "s_i", "exp(s_i)", "p_i"), rows),
        heatmap(
            "next-token-probabilities", "Next-token probabilities", [list(v.probabilities)], ["p"], v.words
        ),
    )


def _filtered(v):
    return sp.Matrix([_filter(v)[0]])


def _no_renormalise(v):
    kept = _filter(v)[1]
    return sp.Matrix([[q if n in kept else 0 for n, q in enumerate(v.probabilities)]])


def _top_p_exclusive(v):
    if v.p is None:
        return None
    return sp.Matrix([_filter(v, lambda probs, mass: _top_p(probs, mass, inclusive=False))[0]])


def _sorted_table(probs, kept, words):
    rows, total = [], sp.Integer(0)
    for rank, n in enumerate(_descending(probs), 1):
        total += probs[n]
        fate = "kept" if n in kept else "removed"
        rows.append((rank, user(words[n]), approx(probs[n], SHOWN), approx(total, SHOWN), fate))
    return table(("rank", "word", "probability", "cumulative", ""), rows)


def _explain_filtered(v):
    probs = list(v.probabilities)
    if v.k is None and v.p is None:
        return (
            prose("No filtering was asked for (--top-k, --top-p): every word stays a candidate."),
            prose("So {same}.", same=same(P_FILTERED, P_VEC)),
        )
    blocks = [prose("Sort the words by probability, largest first, and add up as you go.")]
    if v.k is not None:
        kept = _top_k(probs, v.k)
        ties = " (a word tied with the k-th stays too, as in Hugging Face)" if len(kept) > v.k else ""
        blocks += [
            prose(
                "Top-k with {k}: keep the {n}" + ties + "; drop the rest.",
                k=same(k, v.k),
                n=_count(v.k, "most probable word"),
            ),
            _sorted_table(probs, kept, v.words),
        ]
        probs = _renormalised(probs, kept)
        if v.p is not None:
            blocks.append(
                prose("Renormalise the kept words, then apply top-p to the result (Hugging Face's order).")
            )
    if v.p is not None:
        kept = _top_p(probs, v.p)
        blocks += [
            prose(
                "Top-p (nucleus) with {p}: keep the smallest set of most probable words whose cumulative "
                "probability reaches p, including the word that crosses it; drop the rest.",
                p=same(p, v.p),
            ),
            _sorted_table(probs, kept, v.words),
        ]
    kept_words = [v.words[n] for n in sorted(kept)]
    blocks += [
        prose(
            "Renormalise: divide the probability of each kept word ({w}) by the sum over the kept words, "
            "so that they add up to 1; the removed words get 0.",
            w=user(", ".join(kept_words)),
        ),
        eq(P_FILTERED, v.filtered, approx=v.filtered if needs_approx(v.filtered) else None),
    ]
    return tuple(blocks)


def _token(v):
    probs = list(v.filtered)
    if v.mode == "greedy":
        return v.words[_descending(probs)[0]]
    return v.words[_walk(probs, range(len(probs)), v.u)]


def _sorted_walk(v):
    if v.mode == "greedy":
        return None
    probs = list(v.filtered)
    return v.words[_walk(probs, _descending(probs), v.u)]


def _separating_decimals(values, threshold) -> int:
    """Enough decimals that no shown cumulative sum looks equal to u."""
    decimals = SHOWN
    while decimals < 16 and any(abs(sp.N(x - threshold, 30)) < sp.Rational(1, 10**decimals) for x in values):
        decimals += 2
    return decimals


def _explain_token(v):
    probs = list(v.filtered)
    if v.mode == "greedy":
        best = _descending(probs)[0]
        return (
            prose(
                "Greedy decoding takes the most probable word (the argmax; a tie goes to the lower index): "
                "{w}, with probability {q}.",
                w=user(v.words[best]),
                q=approx(probs[best], SHOWN),
            ),
        )
    totals = [sum(probs[: n + 1], sp.Integer(0)) for n in range(len(probs))]
    chosen = v.words.index(v.token)
    decimals = _separating_decimals(totals[: chosen + 1], v.u)
    rows = [
        (n, user(v.words[n]), approx(probs[n], SHOWN), approx(totals[n], decimals), "no")
        for n in range(chosen + 1)
    ]
    rows[-1] = (*rows[-1][:-1], "yes: stop here")
    return (
        prose(
            "Seeded sampling draws one uniform number {u} from numpy.random.default_rng({s}).random() "
            "and walks the cumulative distribution in vocabulary order to the first word whose running "
            "sum exceeds u. Each word is hit with exactly its probability; numpy's "
            "default_rng({s}).choice(V, p=p') makes the same draw.",
            u=same(u, Decimal(str(float(v.u)))),
            s=v.seed,
        ),
        table(("i", "word", "p'", "cumulative", "exceeds u?"), rows),
        prose("The sampled word is {w}.", w=user(v.token)),
    )


# The test suite's random inputs and NumPy reference.


def _sample(rng):
    size, d = int(rng.integers(2, 7)), int(rng.integers(1, 4))
    options = {
        "hidden": " ".join(str(int(x)) for x in rng.integers(-2, 3, d)),
        "embedding": "; ".join(" ".join(str(int(x)) for x in rng.integers(-2, 3, d)) for _ in range(size)),
        "temperature": str(rng.choice(["1", "1/2", "0.7", "2"])),
    }
    if rng.random() < 0.5:
        options["top_k"] = str(int(rng.integers(1, size + 1)))
    if rng.random() < 0.5:
        options["top_p"] = str(rng.choice(["0.5", "0.8", "0.9", "1"]))
    if rng.random() < 0.5:
        options["sample"], options["seed"] = "seeded", str(int(rng.integers(0, 1000)))
    return options


def _reference(options):
    import numpy as np

    from derive import forward

    logits = (
        np.array([float(x) for x in options["hidden"]]) @ np.array(options["embedding"].tolist(), float).T
    )
    probs = forward.softmax(logits, temperature=float(options["temperature"]))
    filtered = probs.copy()
    if options["top_k"] is not None:
        filtered = np.where(filtered >= np.sort(filtered)[::-1][options["top_k"] - 1] - 1e-12, filtered, 0)
        filtered /= filtered.sum()
    if options["top_p"] is not None:
        order = np.argsort(-filtered, kind="stable")
        keep = np.zeros_like(filtered, dtype=bool)
        keep[order] = np.cumsum(filtered[order]) - filtered[order] < float(options["top_p"]) - 1e-12
        filtered = np.where(keep, filtered, 0) / filtered[keep].sum()
    return {"logits": logits, "probabilities": probs, "filtered": filtered}


NO_TEMPERATURE = Mistake(
    "no-temperature", "Divide the logits by the temperature T before the softmax.", _no_temperature
)
NO_RENORMALISE = Mistake(
    "no-renormalise",
    "After removing words, divide the kept probabilities by their sum so they add up to 1 again.",
    _no_renormalise,
)
TOP_P_EXCLUSIVE = Mistake(
    "top-p-exclusive",
    "Top-p keeps the word whose cumulative probability reaches p: the kept sum is at least p.",
    _top_p_exclusive,
)
SORTED_ORDER = Mistake(
    "sorted-order",
    "Walk the cumulative sums in vocabulary order (as numpy's choice does), not sorted by size.",
    _sorted_walk,
)
BASE = {"hidden": "1 0 2", "embedding": "1 1 1; 2 0 1; 0 1 1; -1 2 0; 1 -1 -1", "vocab": "the cat sat on mat"}
TOPIC = Topic(
    name="next-token",
    summary="Next-token prediction: tied-embedding logits, temperature, top-k / top-p, greedy or seeded sampling",
    options=(
        Option(
            "hidden",
            "the last position's final hidden state h (d numbers)",
            inputs.vector,
            required=True,
            sets_answer_shape=True,
        ),
        Option("embedding", "the V × d token embedding E, tied to the output", inputs.matrix, required=True),
        Option("vocab", "the V words, one per row of E [default: 0 1 2 ...]", inputs.tokens),
        Option("temperature", "divide the logits by T > 0", inputs.positive, default="1"),
        Option("top_k", "keep only the k most probable words", _top_k_option),
        Option("top_p", "nucleus filtering: keep the smallest set reaching probability p", _top_p_option),
        Option("sample", "greedy or seeded [default: seeded with --seed]", inputs.choice("greedy", "seeded")),
        Option("seed", "numpy.random.default_rng seed for seeded sampling [default: 0]", _seed),
    ),
    prepare=_prepare,
    stages=(
        Stage("hidden", "The final hidden state", _hidden, _explain_hidden, answer=False),
        Stage("logits", "Logits through the tied embedding", _logits, _explain_logits),
        Stage(
            "probabilities",
            "Softmax with temperature",
            _probabilities,
            _explain_probabilities,
            (NO_TEMPERATURE,),
        ),
        Stage(
            "filtered",
            "Top-k / top-p filtering",
            _filtered,
            _explain_filtered,
            (NO_RENORMALISE, TOP_P_EXCLUSIVE),
        ),
        Stage("token", "Choose the next token", _token, _explain_token, (SORTED_ORDER,)),
    ),
    result="token",
    examples={
        "greedy": BASE,
        "top-k": {**BASE, "temperature": "2", "top_k": "3", "seed": "0"},
        "top-p": {**BASE, "top_p": "0.9", "seed": "42"},
    },
    example_notes={
        "greedy": "logits h Eᵀ, softmax, and the argmax",
        "top-k": "temperature 2, top-k 3, a seeded draw",
        "top-p": "nucleus filtering with p = 0.9, a seeded draw",
    },
    sample=_sample,
    reference=_reference,
)
