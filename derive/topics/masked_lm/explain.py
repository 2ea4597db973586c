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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _share(n: int):
    """0.15 · n = its decimal, as a prose field."""
    return same(sp.Mul(sp.Float("0.15", 2), n, evaluate=False), Decimal(str(float(stages.RATE * n))))


def _bert_count(v) -> list:
    n, c = len(v.tokens), len(v.candidates)
    rounded = round(stages.RATE * n)
    predicted = f"{_plural(v.count, 'position')} {'is' if v.count == 1 else 'are'} predicted"
    limit = (
        f"raised to the minimum of 1: {predicted}"
        if rounded < 1
        else f"above the cap: {predicted}"
        if rounded > v.max_predictions
        else f"so {predicted}"
    )
    blocks = [
        prose(
            "How many: BERT's create_pretraining_data.py predicts num_to_predict = min(max_predictions_per_seq, "
            "max(1, round(0.15 · n))) positions, where n = {n} counts every token, [CLS] and [SEP] included, "
            "and max_predictions_per_seq = {cap}. Here {share}, which rounds to {r}, " + limit + ".",
            n=n,
            cap=v.max_predictions,
            share=_share(n),
            r=rounded,
        )
    ]
    alone = stages.candidates_count(c)
    if min(alone, v.max_predictions) != v.count:
        blocks.append(
            prose(
                "Taking 15% of the {c} candidates alone ({share}) would give {k}: the special tokens count.",
                c=c,
                share=_share(c),
                k=alone,
            )
        )
    blocks.append(
        prose(
            "Which ones: draw one uniform number per candidate with numpy.random.default_rng({s}).random({c}) "
            "and choose the {k} smallest, so every candidate has the same chance (BERT's code shuffles the "
            "candidates and takes the first {k}, which is the same rule). Hugging Face's data collator chooses "
            "differently (--rule bernoulli).",
            s=v.seed,
            c=c,
            k=v.count,
        )
    )
    return blocks


def _bernoulli_count(v) -> list:
    c = len(v.candidates)
    return [
        prose(
            "Hugging Face's DataCollatorForLanguageModeling (mlm_probability = 0.15) chooses every candidate "
            "on its own with probability 0.15 (torch.bernoulli, special tokens at probability 0), so the number "
            "chosen varies from sequence to sequence, {share} on average here. One uniform number per candidate "
            "from numpy.random.default_rng({s}).random({c}) stands in for torch's generator: a candidate is "
            "chosen when its u is below 0.15, which gives {k}. (BERT's own code fixes the count instead: "
            "--rule bert.)",
            share=_share(c),
            s=v.seed,
            c=c,
            k=_plural(len(v.chosen), "position"),
        )
    ]


def chosen(v):
    rows = [
        (position, user(v.tokens[position]), Decimal(str(float(x))), "chosen" if position in v.chosen else "")
        for x, position in zip(v.u, v.candidates)
    ]
    rule = _bernoulli_count(v) if v.rule == stages.BERNOULLI else _bert_count(v)
    return (
        prose(
            "[CLS] and [SEP] are never chosen, which leaves {candidates}.",
            candidates=_plural(len(v.candidates), "candidate position"),
        ),
        *rule,
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
