"""What the masked-LM topic says at each stage: the draws, the corruption, the head, the loss."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, heatmap, prose, same, table, user
from derive.numbers import Decimal, approx
from derive.topics.masked_lm import stages

SHOWN, MAX_EXACT_CHARS = 4, 80
H, EMB = sp.Symbol("H_M", commutative=False), sp.Symbol("E", commutative=False)
Z, P, L, b = sp.symbols("Z P L b")
k, m = sp.symbols("k m", integer=True, positive=True)
p_k_y = sp.Function("p_k")(sp.Symbol("y_k"))


OUTCOMES = {
    "mask": "r < 0.8: [MASK]",
    "random": "0.8 ≤ r < 0.9: a random token",
    "keep": "r ≥ 0.9: unchanged",
}


def chosen(v):
    rows = [
        (position, user(v.tokens[position]), Decimal(str(float(x))), "chosen" if position in v.chosen else "")
        for x, position in zip(v.u, v.candidates)
    ]
    share = sp.Mul(sp.Float("0.15", 2), len(v.candidates), evaluate=False)
    return (
        prose(
            "[CLS] and [SEP] are never chosen, which leaves {candidates}. BERT predicts 15% of "
            "them, rounded, and at least one: {share}, so {n} here. To pick them, draw one uniform number "
            "per candidate with numpy.random.default_rng({s}).random({c}) and choose the {n} smallest: every "
            "candidate has the same chance.",
            c=len(v.candidates),
            candidates=f"{len(v.candidates)} candidate position" + ("" if len(v.candidates) == 1 else "s"),
            share=same(share, Decimal(str(float(stages.RATE * len(v.candidates))))),
            n=v.count,
            s=v.seed,
        ),
        table(("position", "token", "u", ""), rows),
        prose("Chosen positions: {m}", m=", ".join(str(x) for x in v.chosen)),
    )


def corrupted(v):
    rows = [
        (pos, user(v.tokens[pos]), Decimal(str(float(r))), OUTCOMES[outcome], user(v.corrupted[pos]))
        for (r, outcome, _), pos in zip(v.decisions, v.chosen)
    ]
    return (
        prose(
            "Each chosen token becomes [MASK] 80% of the time, a random token 10% of the time and stays "
            "unchanged 10% of the time, so the model cannot tell which tokens it will be asked about. The "
            "same generator continues: one more draw r per chosen position, in order, and for a random token "
            "a draw of integers({n}) picks any entry of the vocabulary, special tokens included, as in BERT's "
            "code.",
            n=v.vocab_size,
        ),
        table(("position", "token", "r", "rule", "becomes"), rows),
        prose("The corrupted input: {t}", t=user(" ".join(v.corrupted))),
    )


def logits(v):
    source = (
        "Built-in weights stand in for the trained encoder (fixed, not drawn with --seed): each hidden "
        "state is its token's row of E plus a little noise, as if the encoder had recovered the word."
        if v.builtin
        else "The hidden states and E are the ones given (--hidden, --embedding)."
    )
    return (
        prose(
            "The encoder would now read the corrupted input; its output, one hidden state per position, is "
            "given here rather than computed. BERT's MLM head transforms each state (dense layer, GELU, "
            "LayerNorm) and multiplies by the tied token embedding E plus a bias b over all 30,522 words. "
            "Simplified by hand: the transform is left out and the vocabulary is cut down to the {V} "
            "distinct words of this text, so E is {V} × {d}. " + source,
            V=len(v.words),
            d=v.E.cols,
        ),
        table(("word", "row of E", "b"), [(user(w), v.E.row(n), v.b[n]) for n, w in enumerate(v.words)]),
        prose("Only the chosen rows of H are needed ({H}):", H=H),
        eq(H, sp.Matrix.vstack(*(v.H.row(position) for position in v.chosen))),
        eq(Z, sp.Add(H * EMB ** sp.Symbol("T"), b, evaluate=False), v.logits),
    )


def probabilities(v):
    rows = [f"{position}: {v.tokens[position]}" for position in v.chosen]
    return (
        prose(
            "Softmax along each row turns the logits into a distribution over the {V} words:", V=len(v.words)
        ),
        eq(P, approx=v.probabilities),
        heatmap(
            "mlm-probabilities", "MLM head probabilities", v.probabilities, rows, v.words, "word", "position"
        ),
    )


def loss(v):
    rows, lines, names = [], [], []
    for row, position in enumerate(v.chosen):
        q, name = v.probabilities[row, v.labels[position]], sp.Symbol(f"l_{position}")
        rows.append((position, user(v.tokens[position]), user(v.corrupted[position]), approx(q, SHOWN)))
        p_label = sp.Function(f"p_{position}")(sp.Symbol(f"y_{position}"))
        lines.append(eq(name, -sp.log(p_label), stages.minus_log(q), approx=stages.minus_log(q)))
        names.append(name)
    mean = [sp.Mul(sp.Rational(1, len(names)), sp.Add(*names, evaluate=False), evaluate=False)]
    exact = [v.loss] if len(str(v.loss)) <= MAX_EXACT_CHARS else []  # JSON always has it
    return (
        prose(
            "The label at each chosen position is its original token, whatever the input showed there "
            "([MASK], a random token or the token itself). Cross-entropy averages −log of the probability "
            "the head gives the label over the m chosen positions only (k runs over them); every other "
            "position is ignored (label −100, ignore_index in PyTorch)."
        ),
        eq(L, -sp.Sum(sp.log(p_k_y), (k, 1, m)) / m),
        table(("position", "label", "input", "p(label)"), rows),
        prose(
            "Exactly, −log p is the log of the softmax denominator minus the label's logit (both shifted by "
            "the row's largest logit):"
        ),
        *lines,
        eq(L, *(mean if len(names) > 1 else names), *exact, approx=v.loss),
    )
