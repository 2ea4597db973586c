"""The layer-norm topic's explanations: the textbook formulas, then each row worked out."""

from __future__ import annotations

from functools import cache

import sympy as sp

from derive.blocks import eq, needs_approx, prose, rounded, same, unevaluated_sum
from derive.exact import norms
from derive.exact.precision import WORK_DPS

x_j, x_hat, x_hat_j, y_j, mu, sigma, eps = sp.symbols("x_j xhat xhat_j y_j mu sigma epsilon")
gamma_j, beta_j, gamma, beta = sp.symbols("gamma_j beta_j gamma beta")
j, d = sp.symbols("j d", integer=True, positive=True)
RMS = sp.Function("RMS")(sp.Symbol("x"))


def _subscript(name: str, r: int, rows: int) -> sp.Symbol:
    return sp.Symbol(name if rows == 1 else f"{name}_{r + 1}")


def _over_d(total, count: int):
    """``(a + b + c)/d`` exactly as written."""
    return sp.Mul(total, sp.Pow(sp.Integer(count), -1, evaluate=False), evaluate=False)


def _root(inner):
    return sp.sqrt(inner, evaluate=False)


@cache
def _general(sample: bool = False):
    """The textbook formulas, with terms kept in the order a reader expects; ``sample``: the Annotated
    Transformer's, the variance over d − 1 and ε added to the standard deviation. Built once: SymPy
    takes a tenth of a second for these sums, and every derivation's introduction shows them."""
    spread = sp.Add(sigma, eps, evaluate=False) if sample else sp.sqrt(sp.Add(sigma**2, eps, evaluate=False))
    mean = sp.Sum(x_j, (j, 1, d)) / d
    var = sp.Sum((x_j - mu) ** 2, (j, 1, d)) / (sp.Add(d, -1, evaluate=False) if sample else d)
    normed = (x_j - mu) / spread
    out = sp.Add(gamma_j * x_hat_j, beta_j, evaluate=False)
    rms = sp.sqrt(sp.Add(sp.Sum(x_j**2, (j, 1, d)) / d, eps, evaluate=False))
    return mean, var, normed, out, rms


def intro(values) -> tuple:
    """What LayerNorm does, and its formulas, before the first stage."""
    x, epsilon = values["x"], values["eps"]
    mean, var, normed, out, _ = _general(values["sample"])
    tokens = "one token" if x.rows == 1 else f"{x.rows} tokens"
    return (
        prose(
            "Layer normalisation rescales each token's vector (each row of {x}) to mean 0 and variance 1, "
            "then applies a learned scale and shift per feature. It uses only the token's own {d} "
            "features, never other tokens or other examples in the batch, so it behaves the same in "
            "training and inference. The input has {tokens}, with {e}:",
            d=same(d, x.cols),
            x=sp.Symbol("x"),
            tokens=tokens,
            e=same(eps, epsilon),
        ),
        eq(sp.Symbol("x"), x),
        eq(mu, mean),
        eq(sigma**2, var),
        eq(x_hat_j, normed),
        eq(y_j, out),
        *_convention(values["sample"], x.cols),
    )


def _convention(sample: bool, n: int) -> tuple:
    """Which LayerNorm is in force, both formulas, and the ratio of the two standard deviations."""
    sigma_pop, s_sample = sp.Symbol("sigma_pop"), sp.Symbol("s")
    pytorch = sp.Eq(x_hat_j, (x_j - mu) / sp.sqrt(sp.Add(sigma_pop**2, eps, evaluate=False)), evaluate=False)
    annotated = sp.Eq(x_hat_j, (x_j - mu) / sp.Add(s_sample, eps, evaluate=False), evaluate=False)
    ratio = sp.sqrt(sp.Rational(n, n - 1)) if n > 1 else None
    if not sample:
        return (
            prose(
                "Convention (--variance population, the default): the variance divides by d and ε sits inside "
                "the root, as in the LayerNorm paper and torch.nn.LayerNorm. --variance sample gives the "
                "Annotated Transformer's (x − μ)/(s + ε) with the sample standard deviation s."
            ),
        )
    blocks = [
        prose(
            "Convention (--variance sample): the Annotated Transformer's LayerNorm, "
            "a_2 * (x - mean) / (std + eps) + b_2, where torch's x.std divides by d − 1 (Bessel's correction) "
            "and ε is added to the standard deviation, outside the root. PyTorch's nn.LayerNorm and the "
            "LayerNorm paper use the population variance (divide by d) with ε inside the root. The two "
            "formulas, with {pop} the population and {s} the sample standard deviation:",
            pop=sigma_pop,
            s=s_sample,
        ),
        eq(pytorch),
        eq(annotated),
    ]
    if ratio is not None:
        blocks += [
            prose(
                "They differ by a fixed ratio: the sample variance multiplies the population one by d/(d − 1), "
                "so with {n} features"
                " (and ε = 0 in both) the sample x̂ is the population x̂ divided by that factor:",
                n=same(d, n),
            ),
            eq(
                s_sample / sigma_pop,
                sp.Pow(d / sp.Add(d, -1, evaluate=False), sp.S.Half, evaluate=False),
                ratio,
                approx=_approx(ratio),
            ),
        ]
    return tuple(blocks)


def _approx(value):
    return value if needs_approx(value) else None


def explain_mean(v):
    blocks = [prose("Average the {d} entries of each token's row:", d=v.x.cols)]
    for r in range(v.x.rows):
        value = v.mean[r, 0]
        written = _over_d(unevaluated_sum(v.x.row(r)), v.x.cols)
        blocks.append(eq(_subscript("mu", r, v.x.rows), written, value, approx=_approx(value)))
    return tuple(blocks)


def explain_variance(v):
    if v.sample:
        blocks = [
            prose(
                "Average the squared deviations from the mean with Bessel's correction: divide by {d1}, "
                "as torch's x.std does by default (unbiased=True), which the Annotated Transformer calls. "
                "The default convention would divide by {d}.",
                d=same(d, v.x.cols),
                d1=same(sp.Add(d, -1, evaluate=False), v.x.cols - 1),
            )
        ]
        return tuple(blocks + _variance_rows(v, v.x.cols - 1))
    blocks = [
        prose(
            "Average the squared deviations from the mean. Divide by {d}, not by {d1}: LayerNorm "
            "standardises exactly these {n} numbers rather than estimating the variance of a larger "
            "population from a sample, so Bessel's correction does not apply. The LayerNorm paper and "
            "torch.nn.LayerNorm both use this population variance (and for a single feature {d1} would be 0).",
            d=same(d, v.x.cols),
            d1=sp.Add(d, -1, evaluate=False),
            n=v.x.cols,
        )
    ]
    return tuple(blocks + _variance_rows(v, v.x.cols))


def _variance_rows(v, divisor: int) -> list:
    blocks = []
    for r in range(v.x.rows):
        deviations = [e - v.mean[r, 0] for e in v.x.row(r)]
        squares = [sp.Pow(dev, 2, evaluate=False) for dev in deviations]
        written = _over_d(unevaluated_sum(squares), divisor)
        evaluated = _over_d(unevaluated_sum([dev**2 for dev in deviations]), divisor)
        value = v.variance[r, 0]
        symbol = _subscript("sigma", r, v.x.rows) ** 2
        blocks.append(eq(symbol, written, evaluated, value, approx=_approx(value)))
    return blocks


def _epsilon_effect(v):
    """How much ε moves x̂ in the rows that vary, as a decimal, so its size is concrete."""
    changes = []
    if v.normalized.free_symbols:
        return None  # with letters its size is not a number
    for r in range(v.x.rows):
        if v.variance[r, 0] == 0:
            continue
        for c in range(v.x.cols):
            bare = (v.x[r, c] - v.mean[r, 0]) / sp.sqrt(v.variance[r, 0])
            changes.append(abs(sp.N(bare - v.normalized[r, c], WORK_DPS)))
    return max(changes) if changes else None


def _rows_text(rows) -> str:
    numbers = [str(r + 1) for r in rows]
    if len(numbers) == 1:
        return "row " + numbers[0]
    return "rows " + ", ".join(numbers[:-1]) + " and " + numbers[-1]


def _divisor_forms(v, r: int) -> tuple:
    """Row r's divisor: its symbol and written-out forms, its value, and the form x̂'s line divides by."""
    if v.sample:
        root = _root(v.variance[r, 0])
        written = sp.Add(root, v.eps, evaluate=False) if v.eps != 0 else root
        symbol = sp.Add(_subscript("sigma", r, v.x.rows), eps, evaluate=False)
        value = sp.sqrt(v.variance[r, 0]) + v.eps
        return [symbol, written, value], value, written
    spread = v.variance[r, 0] + v.eps
    inner = sp.Add(v.variance[r, 0], v.eps, evaluate=False) if v.eps != 0 else v.variance[r, 0]
    symbol = sp.sqrt(sp.Add(_subscript("sigma", r, v.x.rows) ** 2, eps, evaluate=False))
    return [symbol, _root(inner), _root(spread), sp.sqrt(spread)], sp.sqrt(spread), _root(inner)


def explain_normalized(v):
    if v.sample:
        intro = prose(
            "Subtract the mean from every entry and divide by the sample standard deviation plus {e} "
            "(--variance sample: ε outside the root, as the Annotated Transformer does).",
            e=same(eps, v.eps),
        )
    elif v.eps == 0:
        intro = prose(
            "Subtract the mean from every entry and divide by the standard deviation. With {e0} this "
            "standardises each row exactly; a positive {e} (PyTorch's default is 1e-5) would keep the "
            "division defined for a constant row, whose variance is 0.",
            e0=same(eps, 0),
            e=eps,
        )
    else:
        intro = prose(
            "Subtract the mean from every entry and divide by the standard deviation. The small "
            "constant {e} is added to the variance so that the division stays defined when a row is "
            "constant (variance 0).",
            e=same(eps, v.eps),
        )
    blocks = [intro]
    for r in range(v.x.rows):
        forms, root, divisor = _divisor_forms(v, r)
        parts = forms[:1]
        for part in forms[1:]:
            if str(part) != str(parts[-1]):
                parts.append(part)
        blocks.append(eq(*parts, approx=_approx(root)))
        centred = sp.ImmutableMatrix([[e - v.mean[r, 0] for e in v.x.row(r)]])
        written = sp.MatMul(sp.Pow(divisor, -1, evaluate=False), centred, evaluate=False)
        row = v.normalized.row(r)
        blocks.append(eq(_subscript("xhat", r, v.x.rows), written, row, approx=_approx(row)))
    constant = [r for r in range(v.x.rows) if v.variance[r, 0] == 0]
    if constant and v.eps != 0:
        blocks.append(
            prose(
                "In {rows} every entry equals the mean, so the variance is 0. Without {e} this would be "
                "0/0; with it the row normalises to 0.",
                rows=_rows_text(constant),
                e=eps,
            )
        )
    change = _epsilon_effect(v) if v.eps != 0 else None
    if change is not None:
        where = "In the other rows, leaving" if constant else "Leaving"
        blocks.append(
            prose(
                where + " out {e} would change the entries by at most {c}: it matters only when the "
                "variance is tiny.",
                e=eps,
                c=rounded(change),
            )
        )
    if len(constant) == v.x.rows:
        return tuple(blocks)
    start = "Check: apart from {rows}, each row" if constant else "Check: each row"
    if v.sample:
        check = start + " of {xh} now has mean 0 and, with {e0}, sample variance 1 (population variance {f})."
        blocks.append(
            prose(
                check,
                xh=x_hat,
                e0=same(eps, 0),
                f=same(sp.Add(d, -1, evaluate=False) / d, sp.Rational(v.x.cols - 1, v.x.cols)),
                rows=_rows_text(constant) if constant else "",
            )
        )
        return tuple(blocks)
    if v.eps == 0:
        check = start + " of {xh} now has mean 0 and variance 1."
    else:
        check = start + " of {xh} now has mean 0 and a variance just below 1 ({e} enlarges the divisor)."
    blocks.append(prose(check, xh=x_hat, e=eps, rows=_rows_text(constant) if constant else ""))
    return tuple(blocks)


def explain_output(v):
    identity = all(g == 1 for g in v.gamma) and all(b == 0 for b in v.beta)
    scale = prose(
        "Finally scale each feature {j} by {g} and shift it by {b}. Both are learned, one per feature, so "
        "the network can restore any mean and spread that help (even undo the normalisation).",
        g=gamma_j,
        b=beta_j,
        j=j,
    )
    if identity:
        return (
            scale,
            prose(
                "Here {g} and {b} (their values at initialisation), so the output equals {xh}:",
                g=same(gamma, 1),
                b=same(beta, 0),
                xh=x_hat,
            ),
            eq(sp.Symbol("y"), v.output, approx=_approx(v.output)),
        )
    written = sp.Matrix(
        v.output.rows,
        v.output.cols,
        lambda r, c: sp.Add(
            sp.Mul(v.gamma[c], v.normalized[r, c], evaluate=False), v.beta[c], evaluate=False
        ),
    )
    return (
        scale,
        eq(gamma, v.gamma),
        eq(beta, v.beta),
        eq(sp.Symbol("y"), written, v.output, approx=_approx(v.output)),
    )


def explain_rms(v):
    rms = norms.rms(v.x, v.eps)
    blocks = [
        prose(
            "RMSNorm (used in T5 and LLaMA) skips the centring and the shift: it divides "
            "each row by its root mean square and multiplies by {g}. It is cheaper and works as well in "
            "practice. It is not graded here.",
            g=gamma_j,
        ),
        eq(RMS, _general()[4]),
    ]
    for r in range(v.x.rows):
        inner = _over_d(unevaluated_sum([sp.Pow(e, 2, evaluate=False) for e in v.x.row(r)]), v.x.cols)
        if v.eps != 0:
            inner = sp.Add(inner, v.eps, evaluate=False)
        symbol = sp.Function("RMS")(_subscript("x", r, v.x.rows))
        blocks.append(eq(symbol, sp.sqrt(inner, evaluate=False), rms[r, 0], approx=_approx(rms[r, 0])))
    blocks.append(eq(sp.Symbol("y_RMS"), v.rms_norm, approx=_approx(v.rms_norm)))
    offset = [r for r in range(v.x.rows) if v.mean[r, 0] != 0]
    if v.mean.free_symbols:
        blocks.append(
            prose(
                "Unless a row's mean is 0, this differs from LayerNorm: RMSNorm keeps the offset, and a row "
                "with mean 0 agrees with LayerNorm before {b} is added.",
                b=beta,
            )
        )
    elif not offset:
        blocks.append(
            prose("Every row already has mean 0, so RMSNorm agrees with LayerNorm before {b}.", b=beta)
        )
    elif v.x.rows == 1:
        blocks.append(
            prose("The row's mean is not 0, so this differs from LayerNorm: RMSNorm keeps the offset.")
        )
    else:
        blocks.append(
            prose(
                "In {rows} the mean is not 0, so the result differs from LayerNorm: RMSNorm keeps that "
                "offset. A row with mean 0 would agree with LayerNorm before {b} is added.",
                rows=_rows_text(offset),
                b=beta,
            )
        )
    return tuple(blocks)
