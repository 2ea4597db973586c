"""What each softmax-jacobian stage shows: the probabilities, the quotient rule that gives
p_i(δ_ij − p_j), the matrix diag(p) − pᵀp with its zero row sums, and the chain rule to p − y."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, heatmap, needs_approx, prose, same
from derive.forms import Ratio, normaliser, shown_exp, shown_sum
from derive.gradient_notation import partial
from derive.notation import matrix_name, transposed

z_i, z_j, z_k, p_i, p_j, p_K, y_i, y_j, Z = sp.symbols("z_i z_j z_k p_i p_j p_K y_i y_j Z")
i, j, k, n = sp.symbols("i j k n", integer=True, positive=True)
L, J, P, Y = sp.Symbol("L"), sp.Symbol("J"), sp.Symbol("p"), sp.Symbol("y")
P_ROW = matrix_name("p")
DELTA = sp.Symbol("delta_ij")
SUM_EXP = sp.Sum(sp.exp(z_k), (k, 1, n))


def _approx(value):
    """Decimals where they add to the exact form; none for a formula in letters."""
    return value if not value.free_symbols and needs_approx(value) else None


def intro(z) -> tuple:
    return (
        prose(
            "Every probability of a softmax depends on every logit, because they share one normaliser {z}:",
            z=Z,
        ),
        eq(p_i, sp.exp(z_i) / Z, sp.exp(z_i) / SUM_EXP),
        prose(
            "The Jacobian J collects all these derivatives, one row per probability and one column per "
            "logit: {jij}. The logits are:",
            jij=same(sp.Symbol("J_ij"), partial(p_i, z_j)),
        ),
        eq(sp.Symbol("z"), z),
    )


def explain_softmax(v):
    named = normaliser(list(v.z))
    return (
        prose("First the normaliser, the sum every probability shares:"),
        eq(named.name, named.written, approx=_approx(named.value)),
        prose("Then each probability is its own exponential over it:"),
        eq(P, sp.Matrix([[named.over(shown_exp(s)) for s in v.z]]), approx=_approx(v.softmax)),
    )


def _written_jacobian(z) -> sp.Matrix:
    """Entry (i, j) over the common denominator Z²: e^{z_i}·(the other terms of Z) on the diagonal,
    −e^{z_i + z_j} off it, which is p_i(δ_ij − p_j) multiplied out."""
    name = normaliser(list(z)).name
    square = sp.Pow(name, 2)

    def entry(r, c):
        if r == c:
            others = shown_sum(shown_exp(s) for k, s in enumerate(z) if k != r)
            return Ratio(sp.Mul(shown_exp(z[r]), others, evaluate=False), square)
        return Ratio(sp.Mul(-1, shown_exp(sp.Add(z[r], z[c], evaluate=False)), evaluate=False), square)

    return sp.Matrix(len(z), len(z), entry)


def explain_jacobian(v):
    quotient = (DELTA * sp.exp(z_i) * Z - sp.exp(z_i) * sp.exp(z_j)) / Z**2
    size = v.softmax.cols
    sums = [sp.cancel(sp.together(sum(v.jacobian.row(r)))) for r in range(size)]
    blocks = [
        prose(
            "Differentiate {p} with the quotient rule. Its numerator depends on {zj} only when {ij}, which "
            "the Kronecker delta {d} records (1 when i = j, 0 otherwise); the denominator {z} always does:",
            p=p_i,
            zj=z_j,
            ij=sp.Eq(i, j, evaluate=False),
            d=DELTA,
            z=Z,
        ),
        eq(partial(Z, z_j), sp.exp(z_j)),
        eq(partial(p_i, z_j), quotient, p_i * (DELTA - p_j)),
        prose(
            "On the diagonal this is {diag}; off it, {off}. As one matrix, with p a row vector:",
            diag=p_i * (1 - p_i),
            off=-p_i * p_j,
        ),
        eq(J, sp.Add(sp.Function("diag")(P), -transposed(P_ROW) * P_ROW, evaluate=False)),
        prose(
            "With the numbers, each entry over one common denominator {z} squared. On the diagonal, {z} "
            "less the entry's own exponential is the sum of the other terms; off it, the two exponentials "
            "multiply:",
            z=Z,
        ),
        eq(p_i * (1 - p_i), sp.exp(z_i) * (Z - sp.exp(z_i)) / Z**2),
        eq(-p_i * p_j, -sp.exp(z_i + z_j) / Z**2),
        eq(J, _written_jacobian(list(v.z)), approx=_approx(v.jacobian)),
        prose(
            "J is symmetric. Each row sums to 0, because the probabilities sum to 1 whatever the logits are: "
            "raising every logit by the same amount leaves p unchanged, so the derivatives along that "
            "direction cancel:"
        ),
        eq(sp.Sum(partial(p_i, z_j), (j, 1, n)), p_i * (1 - sp.Sum(p_j, (j, 1, n))), 0),
        prose("Here the row sums are {s}.", s=sp.Matrix([sums])),
    ]
    if v.jacobian.free_symbols:  # letters as inputs: nothing to draw
        return tuple(blocks)
    blocks.append(
        heatmap(
            "softmax-jacobian",
            "Softmax Jacobian",
            v.jacobian,
            [f"p{r + 1}" for r in range(size)],
            [f"z{c + 1}" for c in range(size)],
            "logit",
            "probability",
        )
    )
    return tuple(blocks)


def _written_chain(z) -> sp.Matrix:
    """Row K is p − e_K with every p_j as e^{z_j}/Z, the normaliser named in the softmax step."""
    named = normaliser(z)

    def entry(r, c):
        p = named.over(shown_exp(z[c]))
        return sp.Add(p, -1, evaluate=False) if r == c else p

    return sp.Matrix(len(z), len(z), entry)


def explain_chain(v):
    return (
        prose("A loss L reaches the logits through the probabilities, so the chain rule multiplies by J:"),
        eq(partial(L, z_j), sp.Sum(partial(L, p_i) * partial(p_i, z_j), (i, 1, n))),
        prose("For cross-entropy the outer gradient is one term per probability:"),
        eq(L, -sp.Sum(y_i * sp.log(p_i), (i, 1, n))),
        eq(partial(L, p_i), -y_i / p_i),
        prose("Substitute it and the Jacobian entry:"),
        eq(partial(p_i, z_j), p_i * (DELTA - p_j)),
        eq(
            partial(L, z_j),
            sp.Sum(-y_i / p_i * p_i * (DELTA - p_j), (i, 1, n)),
            -y_j + p_j * sp.Sum(y_i, (i, 1, n)),
            p_j - y_j,
        ),
        prose(
            "since the {y} sum to 1. The division by {p} cancels against the factor {p} of J, which is why "
            "the gradient of softmax followed by cross-entropy is so simple, and why frameworks fuse the two "
            "(PyTorch's cross_entropy takes the logits). For a one-hot target K the gradient is p minus "
            "the K-th unit vector; row K of G below is that gradient for each possible target:",
            y=y_i,
            p=p_i,
        ),
        eq(sp.Symbol("G"), _written_chain(list(v.z)), approx=_approx(v.chain)),
    )
