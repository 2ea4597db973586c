"""What each attention-backward stage shows: the forward pass briefly, then each gradient as the
chain rule gives it, entry formula first, then the matrix product with the numbers."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, heatmap, needs_approx, prose, same
from derive.gradient_notation import partial
from derive.notation import matrix_name, transposed, written_product
from derive.topics.attention_backward import named

Q, K, V, A, S, OUT = (matrix_name(n) for n in ("Q", "K", "V", "A", "S", "O"))
dQ, dK, dV, dA, dS, dO = (matrix_name(n) for n in ("dQ", "dK", "dV", "dA", "dS", "dO"))
L = sp.Symbol("L")
d_k = sp.Symbol("d_k")
i, j, k, m = sp.symbols("i j k m", integer=True, positive=True)
a_ij, a_ik, a_im = sp.symbols("a_ij a_ik a_im")
dA_ij, dA_ik, dS_ij, dO_ik, dO_im = sp.symbols("dA_ij dA_ik dS_ij dO_ik dO_im")
V_jk, V_jm = sp.symbols("V_jk V_jm")
n_sym = sp.Symbol("n")
D_i, Z_i = sp.symbols("D_i Z_i")


def _approx(value):
    """Decimals where they add to the exact form; none for a formula in letters."""
    return value if not value.free_symbols and needs_approx(value) else None


def _value(value) -> tuple:
    """The exact value as an equation part, unless it is carried as 50-digit decimals (then ≈ alone)."""
    return () if value.has(sp.Float) else (value,)


def _labels(n):
    return [f"t{r + 1}" for r in range(n)]


def intro(values) -> tuple:
    blocks = [
        prose(
            "Training needs the gradient of the loss L with respect to every input of attention. The next "
            "layer sends back {do}, the gradient at the output, with the shape of the output; the chain rule carries "
            "it back through each step of the forward pass, in reverse. Here {dx} is short for {full}.",
            do=dO,
            dx=sp.Symbol("dX"),
            full=partial(L, sp.Symbol("X")),
        ),
        eq(S, Q * transposed(K) / sp.sqrt(d_k)),
        eq(A, sp.Function("softmax")(S)),
        eq(OUT, A * V),
        prose(
            "The scores S here are already divided by {r}: S is the softmax's input, so dscores is {ds}. "
            "Tokens are rows. The given matrices:",
            r=sp.sqrt(d_k),
            ds=partial(L, S),
        ),
        eq(Q, values["Q"]),
        eq(K, values["K"]),
        eq(V, values["V"]),
        eq(dO, values["dO"]),
        prose("So {dk}.", dk=same(d_k, values["d_k"])),
    ]
    if values["causal"]:
        blocks.append(
            prose(
                "With the causal mask each token attends only to itself and earlier tokens: the masked "
                "weights are exactly 0, and (as the softmax step shows) their scores get no gradient."
            )
        )
    return tuple(blocks)


def _weights(v):
    """The weights as the later steps write them: a_ij when Q or K hold letters, else their values."""
    return named.names(v).weights if named.in_letters(v) else v.weights


def explain_scores(v):
    blocks = [
        prose("Forward pass first: every query against every key, divided by {r}.", r=sp.sqrt(v.d_k)),
        eq(S, *written_product(v.Q, v.K.T), v.scores, approx=_approx(v.scores)),
    ]
    if named.in_letters(v):
        blocks += [
            prose(
                "With letters every later quantity would repeat these sums inside exponentials, so each "
                "quantity a textbook names gets its name once and the later steps are written in the names. "
                "First the scores, {s}:",
                s=sp.Symbol("s_ij"),
            ),
            eq(S, named.names(v).scores),
            prose(
                "(The answers, in JSON and for derive check, are the full expressions in the input letters; "
                "derive check also accepts an answer written with the names.)"
            ),
        ]
    return tuple(blocks)


def explain_weights(v):
    allowed = ", over the allowed keys only" if v.causal else ""
    if not named.in_letters(v):
        return (prose(f"Softmax along each row{allowed}:"), eq(A, v.weights, approx=_approx(v.weights)))
    names = named.names(v)
    return (
        prose(
            f"Softmax along each row{allowed}. Row i's sum of exponentials is its normaliser {{z}}:", z=Z_i
        ),
        *(eq(total.name, total.written) for total in names.sums),
        prose("and the weights, named {a}, are its exponentials over it:", a=a_ij),
        eq(A, named.written_weights(v, names), names.weights),
    )


def explain_output(v):
    weights = _weights(v)
    output = weights * v.V if named.in_letters(v) else v.output
    return (
        prose("Each output row is the weighted average of the value rows:"),
        eq(OUT, *written_product(weights, v.V), output, approx=_approx(output)),
    )


def explain_d_values(v):
    return (
        prose(
            "Backward pass. Value row j reaches output row i through the weight {a}:",
            a=a_ij,
        ),
        eq(sp.Symbol("O_ik"), sp.Sum(a_ij * V_jk, (j, 1, n_sym))),
        prose(
            "So the gradient of a value entry sums the output gradients of every query, each weighted by "
            "how much that query attended to j. As a matrix this is the transposed weights times dO:"
        ),
        eq(sp.Symbol("dV_jk"), sp.Sum(a_ij * dO_ik, (i, 1, n_sym))),
        _d_values(v),
    )


def _d_values(v):
    if named.in_letters(v):
        weights = _weights(v)
        return eq(dV, transposed(A) * dO, *written_product(weights.T, v.dO), weights.T * v.dO)
    return eq(
        dV, transposed(A) * dO, *written_product(v.weights.T, v.dO), *_value(v.dV), approx=_approx(v.dV)
    )


def explain_d_weights(v):
    return (
        prose(
            "Weight {a} multiplies value row j in output row i, so its gradient is output gradient i "
            "dotted with value row j; as a matrix, dO times the transposed values:",
            a=a_ij,
        ),
        eq(dA_ij, sp.Sum(dO_im * V_jm, (m, 1, sp.Symbol("d_v")))),
        eq(
            dA,
            dO * transposed(V),
            *written_product(v.dO, v.V.T),
            *_value(v.dweights),
            approx=_approx(v.dweights),
        ),
    )


def explain_d_scores(v):
    blocks = [
        prose(
            "Each row of A is a softmax of the same row of S, so the chain rule goes through the softmax "
            "Jacobian, row by row:",
        ),
        eq(partial(a_ik, sp.Symbol("S_ij")), a_ik * (sp.Symbol("delta_kj") - a_ij)),
        eq(
            dS_ij,
            sp.Sum(dA_ik * a_ik * (sp.Symbol("delta_kj") - a_ij), (k, 1, n_sym)),
            a_ij * (dA_ij - sp.Sum(a_ik * dA_ik, (k, 1, n_sym))),
        ),
        prose(
            "In words: subtract from each weight gradient the row's weighted average of weight gradients, "
            "then multiply by the weight. Adding one constant to a whole row of S changes no weight, and "
            "indeed every row of dS sums to 0."
        ),
    ]
    if v.causal:
        blocks.append(
            prose("A masked weight is 0, so its score gets gradient 0: it had no effect on the loss.")
        )
    if named.in_letters(v):
        return (*blocks, *_named_d_scores(v))
    blocks.append(eq(dS, *_value(v.dscores), approx=_approx(v.dscores)))
    if v.dscores.free_symbols:  # letters as inputs: nothing to draw
        return tuple(blocks)
    blocks.append(
        heatmap(
            "attention-dscores",
            "Gradient of the scores dS",
            v.dscores,
            _labels(v.n),
            _labels(v.n),
            "key",
            "query",
        )
    )
    return tuple(blocks)


def _named_d_scores(v) -> tuple:
    """D_i named (FlashAttention's row term), then dS_ij = a_ij (dA_ij − D_i), named dS_ij."""
    names = named.names(v)
    averages = named.written_averages(names, v.dweights)
    return (
        prose(
            "Name the subtracted weighted average of row i {d} (FlashAttention computes it as the dot "
            "product of row i of dO with row i of O):",
            d=D_i,
        ),
        eq(D_i, sp.Sum(a_ik * dA_ik, (k, 1, n_sym))),
        *(eq(names.averages[r, 0], averages[r, 0]) for r in range(v.n)),
        prose("Then, naming the entries {ds} for the last two steps:", ds=dS_ij),
        eq(dS, named.written_dscores(names, v.dweights), names.dscores),
    )


def _named_gradient(v, lhs, formula, product, value):
    """dQ or dK: the product in the names dS_ij when Q or K hold letters, else its value."""
    if named.in_letters(v):
        return eq(lhs, formula, product(named.names(v).dscores))
    return eq(lhs, formula, *_value(value), approx=_approx(value))


def explain_d_queries(v):
    return (
        prose(
            "S is linear in Q, so query i collects the keys, weighted by row i of dS, and the division "
            "by {r} of the forward pass appears again:",
            r=sp.sqrt(d_k),
        ),
        _named_gradient(v, dQ, dS * K / sp.sqrt(d_k), lambda ds: ds * v.K / sp.sqrt(v.d_k), v.dQ),
    )


def explain_d_keys(v):
    return (
        prose(
            "Likewise for the keys, with dS transposed: key j collects the queries, weighted by column j "
            "of dS (the queries that looked at it).",
        ),
        _named_gradient(
            v, dK, transposed(dS) * Q / sp.sqrt(d_k), lambda ds: ds.T * v.Q / sp.sqrt(v.d_k), v.dK
        ),
    )
