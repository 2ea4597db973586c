"""What each cross-entropy stage shows: the probabilities, the loss of each row, and the gradient
derived from log p_j = z_j − log Σ_k e^(z_k) rather than quoted."""

from __future__ import annotations

import math

import sympy as sp

from derive.blocks import curves, eq, needs_approx, prose, same, unevaluated_sum
from derive.exact import gradients
from derive.forms import normaliser, shown_exp
from derive.gradient_notation import partial

L, N, K, C, eps = sp.symbols("L N K C epsilon")
z_i, z_j, z_k, z_K, p_i, p_j, p_K, y_i, y_j = sp.symbols("z_i z_j z_k z_K p_i p_j p_K y_i y_j")
j, k = sp.symbols("j k", integer=True, positive=True)
Z, P, Y, TOTAL = sp.Symbol("z"), sp.Symbol("p"), sp.Symbol("y"), sp.Symbol("Z")
CURVE_POINTS = 50
LOG_SUM_EXP = sp.log(sp.Sum(sp.exp(z_k), (k, 1, C)))


def _approx(value):
    """Decimals where they add to the exact form; none for a formula in letters."""
    return value if not value.free_symbols and needs_approx(value) else None


def _row_name(name: str, r: int, rows: int) -> sp.Symbol:
    return sp.Symbol(name if rows == 1 else f"{name}_{r + 1}")


def intro(values) -> tuple:
    z, targets, smoothing = values["z"], values["targets"], values["smoothing"]
    if z.rows == 1:
        what = prose(
            "Cross-entropy scores a prediction by the probability it gives the right class: the loss is "
            "minus the log of that probability. The logits are the {c} scores below and the target is "
            "class {k} (classes count from 1).",
            c=z.cols,
            k=same(K, targets[0]),
        )
    else:
        what = prose(
            "Cross-entropy scores a prediction by the probability it gives the right class: the loss is "
            "minus the log of that probability. Each row of the logits is one example with its own "
            "target class (classes count from 1); the loss of the batch is the mean over its {n} rows.",
            n=same(N, z.rows),
        )
    blocks = [what, eq(Z, z)]
    if smoothing:
        blocks.append(
            prose(
                "With label smoothing {e} the target is not one-hot: the true class keeps {keep} of the "
                "probability and the remaining {e2} is spread evenly over all {c} classes (the true class "
                "included), as PyTorch's label_smoothing defines it:",
                e=same(eps, smoothing),
                keep=1 - eps,
                e2=eps,
                c=same(C, z.cols),
            )
        )
    else:
        blocks.append(
            prose("The target distribution {y} is one-hot: 1 for the target class, 0 elsewhere.", y=Y)
        )
    blocks.append(eq(Y, values["y"]))
    general = -sp.Sum(y_j * sp.log(p_j), (j, 1, C))
    if smoothing:
        blocks.append(eq(L, general))
    else:
        blocks.append(eq(L, general, -sp.log(p_K)))
    return tuple(blocks)


def _normalisers(v):
    """Each row's sum named once (Z, or Z_1, Z_2, … for a batch), so entries read e^{z_j}/Z_r."""
    return [normaliser(list(v.z.row(r)), r + 1 if v.z.rows > 1 else None) for r in range(v.z.rows)]


def _written_softmax(v) -> sp.Matrix:
    return sp.Matrix(
        [[named.over(shown_exp(s)) for s in v.z.row(r)] for r, named in enumerate(_normalisers(v))]
    )


def explain_softmax(v):
    blocks = [
        prose(
            "Turn the logits into probabilities with the softmax, row by row, where {z} is the row's sum:",
            z=TOTAL,
        ),
        eq(p_j, sp.exp(z_j) / TOTAL, sp.exp(z_j) / sp.Sum(sp.exp(z_k), (k, 1, C))),
        prose("With the numbers, first the sum" + (" of each row:" if v.z.rows > 1 else ":")),
    ]
    blocks += [eq(named.name, named.written, approx=_approx(named.value)) for named in _normalisers(v)]
    blocks += [
        prose("Then each probability is its own exponential over it:"),
        eq(P, _written_softmax(v), approx=_approx(v.softmax)),
    ]
    return tuple(blocks)


def _row_loss_value(v, r):
    """Row r's loss alone, from the probabilities (the batch loss is their mean)."""
    return gradients.cross_entropy(v.softmax[r, :], v.y[r, :])


def _row_loss(v, r):
    """The loss of row r written with its numbers: −log p_K, or −Σ y_j log p_j when smoothed."""
    p, y = v.softmax.row(r), v.y.row(r)
    if not v.smoothing:
        return -sp.log(p[v.targets[r] - 1], evaluate=False)
    terms = [
        sp.Mul(y[c], sp.log(sp.Symbol(f"p_{c + 1}"), evaluate=False), evaluate=False)
        for c in range(len(y))
        if y[c] != 0
    ]
    return -unevaluated_sum(terms)


def explain_loss(v):
    rows = v.z.rows
    blocks = [
        prose(
            "Take minus the log of the target's probability"
            + (", weighted by the smoothed target row" if v.smoothing else "")
            + ". Since {lp}, the loss of a one-hot row is the log-sum-exp {lz} minus the target's logit:",
            lp=same(sp.log(p_K), z_K - sp.log(TOTAL)),
            lz=sp.log(TOTAL),
        )
    ]
    if rows == 1:
        blocks.append(eq(L, _row_loss(v, 0), v.loss, approx=_approx(v.loss)))
    for r in range(rows if rows > 1 else 0):
        row_loss = _row_loss_value(v, r)
        blocks.append(eq(_row_name("L", r, rows), _row_loss(v, r), row_loss, approx=_approx(row_loss)))
    if rows > 1:
        names = [_row_name("L", r, rows) for r in range(rows)]
        blocks.append(prose("The loss of the batch is the mean of the {n} row losses:", n=rows))
        mean = sp.Mul(unevaluated_sum(names), sp.Pow(sp.Integer(rows), -1, evaluate=False), evaluate=False)
        blocks.append(eq(L, mean, v.loss, approx=_approx(v.loss)))
    blocks.append(
        prose(
            "A confident right answer (target probability near 1) costs almost nothing; "
            "a confident wrong one costs a lot, without bound as the probability falls to 0."
        )
    )
    if not v.smoothing and not v.softmax.free_symbols:  # a curve needs numbers
        blocks.append(_loss_curve(v))
    return tuple(blocks)


def _loss_curve(v):
    """−log p against the target's probability, each row's own point marked on it."""
    marks = {}
    for r, target in enumerate(v.targets):
        p = v.softmax[r, target - 1]
        marks["row " + str(r + 1) if v.N > 1 else "this prediction"] = (p, -sp.log(p))
    low = min([0.02] + [float(p) / 2 for p, _ in marks.values()])
    xs = [low + (1 - low) * k / (CURVE_POINTS - 1) for k in range(CURVE_POINTS)]
    return curves(
        "cross-entropy-loss",
        "The loss -log p of the target's probability p",
        xs,
        {"-log p": [-math.log(x) for x in xs]},
        "probability of the target class",
        "loss",
        points=marks,
    )


def explain_gradient(v):
    blocks = [
        prose(
            "Derive the gradient instead of quoting it. Write the loss through the logits: "
            "{lp}, and the {y} sum to 1, so"
            + (" (for a one-hot y only the target term survives)" if not v.smoothing else ""),
            lp=same(sp.log(p_j), z_j - sp.log(TOTAL)),
            y=y_j,
        ),
        eq(L, -sp.Sum(y_j * sp.log(p_j), (j, 1, C)), -sp.Sum(y_j * z_j, (j, 1, C)) + LOG_SUM_EXP),
        prose(
            "Differentiate with respect to one logit {z}. The first sum gives {my}; the log-sum-exp gives "
            "its own derivative divided by it, which is exactly the softmax {p}:",
            z=z_i,
            my=-y_i,
            p=p_i,
        ),
        eq(partial(L, z_i), -y_i + sp.exp(z_i) / sp.Sum(sp.exp(z_k), (k, 1, C)), p_i - y_i),
    ]
    if v.N > 1:
        blocks.append(
            prose(
                "That is the gradient of one row's loss. The batch loss is the mean over the {n} rows, "
                "so every row's gradient is divided by {nn}:",
                n=v.N,
                nn=same(N, v.N),
            )
        )
        share = sp.Pow(sp.Integer(v.N), -1, evaluate=False)
        symbolic = sp.Mul(sp.Add(P, -Y, evaluate=False), share, evaluate=False)
    else:
        blocks.append(prose("Subtract the target row from the probabilities:"))
        symbolic = P - Y
    probabilities = _written_softmax(v)
    written = sp.Matrix(
        v.y.rows,
        v.y.cols,
        lambda r, c: (
            sp.Add(probabilities[r, c], -v.y[r, c], evaluate=False) if v.y[r, c] else probabilities[r, c]
        ),
    )
    if v.N > 1:  # a power, not a Rational, so that LaTeX writes \frac{1}{N} in front without brackets
        written = sp.MatMul(
            sp.Pow(sp.Integer(v.N), -1, evaluate=False), sp.ImmutableMatrix(written), evaluate=False
        )
    blocks.append(eq(partial(L, Z), symbolic, written, approx=_approx(v.gradient)))
    blocks.append(
        prose(
            "Each row sums to 0, because p and y both sum to 1. The target's entry is negative: "
            "gradient descent, which subtracts the gradient, raises the target's logit and lowers the others."
        )
    )
    return tuple(blocks)
