"""What each next-token stage shows a student: the tied logits, the softmax, the filters, the draw."""

from __future__ import annotations

import sympy as sp

from derive.blocks import (
    eq,
    heatmap,
    needs_approx,
    prose,
    rounded,
    same,
    table,
    unevaluated_dot,
    unevaluated_sum,
    user,
)
from derive.exact.softmax import row_max
from derive.numbers import Decimal
from derive.topics.next_token.stages import descending, renormalised, top_k, top_p

z, T, u, k, p, m, S = sp.symbols("z T u k p m S")
z_i, z_j, p_i, s_i, s_j = sp.symbols("z_i z_j p_i s_i s_j")
H, EMB = sp.Symbol("h", commutative=False), sp.Symbol("E", commutative=False)
P_VEC, P_FILTERED = sp.Symbol("p"), sp.Symbol("p'")
j, V = sp.symbols("j V", integer=True, positive=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def intro(embedding, words) -> tuple:
    size, d = embedding.shape
    return (
        prose(
            "A language model predicts the next token from the final hidden state of the last position. "
            "Here it has d = {d} dimensions and the vocabulary has {V} words; row i of the embedding "
            "matrix E is the embedding of word i.",
            d=d,
            V=size,
        ),
        table(("i", "word", "row of E"), [(n, user(w), embedding.row(n)) for n, w in enumerate(words)]),
    )


def hidden(v):
    return (
        prose(
            "The last layer gives one hidden state per position (in GPT-2 after its final layer norm). "
            "Only the last position's state predicts the next token:"
        ),
        eq(H, v.hidden),
    )


def logits(v):
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


def probabilities(v):
    scaled = v.logits / v.T
    top = row_max(scaled)
    exps = [sp.exp(x - top) for x in scaled]
    rows = [
        (n, user(w), scaled[n], scaled[n] - top, exps[n], rounded(v.probabilities[n]))
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


def _sorted_table(probs, kept, words):
    rows, total = [], sp.Integer(0)
    for rank, n in enumerate(descending(probs), 1):
        total += probs[n]
        fate = "kept" if n in kept else "removed"
        rows.append((rank, user(words[n]), rounded(probs[n]), rounded(total), fate))
    return table(("rank", "word", "probability", "cumulative", ""), rows)


def filtered(v):
    probs = list(v.probabilities)
    if v.k is None and v.p is None:
        return (
            prose("No filtering was asked for (--top-k, --top-p): every word stays a candidate."),
            prose("So {same}.", same=same(P_FILTERED, P_VEC)),
        )
    blocks = [prose("Sort the words by probability, largest first, and add up as you go.")]
    if v.k is not None:
        kept = top_k(probs, v.k)
        ties = " (a word tied with the k-th stays too, as in Hugging Face)" if len(kept) > v.k else ""
        blocks += [
            prose(
                "Top-k with {k}: keep the {n}" + ties + "; drop the rest.",
                k=same(k, v.k),
                n=_count(v.k, "most probable word"),
            ),
            _sorted_table(probs, kept, v.words),
        ]
        probs = renormalised(probs, kept)
        if v.p is not None:
            blocks.append(
                prose("Renormalise the kept words, then apply top-p to the result (Hugging Face's order).")
            )
    if v.p is not None:
        kept = top_p(probs, v.p)
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


def _separating_decimals(values, threshold) -> int:
    """The fewest decimals at which no shown cumulative sum looks equal to u (the renderer may show more)."""
    decimals = 0
    while decimals < 16 and any(abs(sp.N(x - threshold, 30)) < sp.Rational(1, 10**decimals) for x in values):
        decimals += 1
    return decimals


def token(v):
    probs = list(v.filtered)
    if v.mode == "greedy":
        best = descending(probs)[0]
        return (
            prose(
                "Greedy decoding takes the most probable word (the argmax; a tie goes to the lower index): "
                "{w}, with probability {q}.",
                w=user(v.words[best]),
                q=rounded(probs[best]),
            ),
        )
    totals = [sum(probs[: n + 1], sp.Integer(0)) for n in range(len(probs))]
    chosen = v.words.index(v.token)
    decimals = _separating_decimals(totals[: chosen + 1], v.u)
    rows = [
        (n, user(v.words[n]), rounded(probs[n]), rounded(totals[n], at_least=decimals), "no")
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
