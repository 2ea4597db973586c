"""What each layer-norm-backward stage shows: the forward pass briefly, the two parameter gradients
(sums over the tokens), and dx derived through its three paths, then worked row by row."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, needs_approx, prose, same
from derive.exact import gradients, norms
from derive.forms import Ratio, shown_sum
from derive.gradient_notation import partial
from derive.topics.layer_norm_backward import named

x_i, x_j, xh_i, xh_j, y_j, mu, eps, s = sp.symbols("x_i x_j xhat_i xhat_j y_j mu epsilon s")
g_i, g_j, dy_j, dx_i, gamma_j, beta_j, sigma = sp.symbols("g_i g_j dy_j dx_i gamma_j beta_j sigma")
i, j, r = sp.symbols("i j r", integer=True, positive=True)
d, T, L = sp.symbols("d T L")
DELTA = sp.Symbol("delta_ij")
X_HAT, DY, DX, G = (sp.Symbol(n) for n in ("xhat", "dy", "dx", "g"))
ROOT_DIGITS = 9999  # a root of a number with five or more digits is shown in decimals


def _approx(value):
    """Decimals where they add to the exact form; none for a formula in letters."""
    return value if not value.free_symbols and needs_approx(value) else None


def _unreadable(value) -> bool:
    """A root of a long number (√138890/1000, from ε = 10⁻⁵): exact, but nobody reads it."""
    entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
    return any(
        power.exp == sp.S.Half
        and power.base.is_Rational
        and max(abs(power.base.p), power.base.q) > ROOT_DIGITS
        for entry in entries
        for power in sp.sympify(entry).atoms(sp.Pow)
    )


def _shown(name, value, *written):
    """``name = written = value ≈ decimals``, or only the decimals when the exact value is unreadable."""
    if _unreadable(value):
        return eq(name, approx=value)
    return eq(name, *written, value, approx=_approx(value))


def _row(name: str, r: int, rows: int) -> sp.Symbol:
    return sp.Symbol(name if rows == 1 else f"{name}_{r + 1}")


def _mean_of(values, count: int):
    """``(a + b + c)/count`` exactly as written."""
    total = sp.Add(*values, evaluate=False) if len(values) > 1 else values[0]
    return sp.Mul(total, sp.Pow(sp.Integer(count), -1, evaluate=False), evaluate=False)


def intro(values) -> tuple:
    x = values["x"]
    return (
        prose(
            "LayerNorm normalises each token (row) with its own mean and standard deviation, then scales "
            "and shifts every feature. Backpropagation gets {dy} from the next layer and must return the "
            "gradients of the learned {g} and {b} and of the input x. Here {dz} is short for {full}.",
            dy=same(DY, partial(L, sp.Symbol("y"))),
            g=sp.Symbol("gamma"),
            b=sp.Symbol("beta"),
            dz=sp.Symbol("dz"),
            full=partial(L, sp.Symbol("z")),
        ),
        eq(s, sp.sqrt(sp.Add(sigma**2, eps, evaluate=False))),
        eq(xh_j, (x_j - mu) / s),
        eq(y_j, sp.Add(gamma_j * xh_j, beta_j, evaluate=False)),
        prose(
            "with the population variance (divided by d, as PyTorch does), {e} inside the root, and {dd} "
            "features. The inputs:",
            e=same(eps, values["eps"]),
            dd=same(d, x.cols),
        ),
        eq(sp.Symbol("x"), x),
        eq(DY, values["dy"]),
        eq(sp.Symbol("gamma"), values["gamma"]),
    )


def _root(square, epsilon) -> sp.Expr:
    """√(σ² + ε) as written, ε = 0 included (SymPy would write √(σ²) as |σ|)."""
    return sp.Pow(sp.Add(square, epsilon, evaluate=False), sp.S.Half, evaluate=False)


def _named_forward(v) -> tuple:
    """Each row's μ, σ², s and x̂ defined once in the letters of x, the later steps written in them."""
    blocks = [
        prose(
            "The forward pass, row by row. With letters, every later step would repeat these sums under "
            "roots, so each quantity gets its name once and the later steps are written in the names "
            "(the answers, in JSON and for derive check, are the full expressions in the input letters; "
            "derive check also accepts an answer written with the names):"
        )
    ]
    for r, row in enumerate(named.rows(*v.x.shape)):
        entries = list(v.x.row(r))
        blocks.append(eq(row.mean, _mean_of(entries, len(entries))))
        squares = [sp.Pow(sp.Add(e, -row.mean, evaluate=False), 2, evaluate=False) for e in entries]
        blocks.append(eq(row.sigma**2, _mean_of(squares, len(entries))))
        root = _root(row.sigma**2, v.eps)
        blocks.append(eq(row.spread, root, row.sigma) if v.eps == 0 else eq(row.spread, root))
        written = [Ratio(sp.Add(e, -row.mean, evaluate=False), row.spread) for e in entries]
        blocks.append(eq(_row("xhat", r, v.x.rows), sp.Matrix([written]), sp.Matrix([row.normalized])))
    return tuple(blocks)


def explain_forward(v):
    if named.in_letters(v):
        return _named_forward(v)
    mean = norms.mean(v.x)
    var = norms.variance(v.x, mean)
    blocks = [prose("The forward pass, row by row: mean, variance, the divisor s and the normalised row.")]
    for r in range(v.x.rows):
        spread = sp.sqrt(var[r, 0] + v.eps)
        blocks.append(eq(_row("mu", r, v.x.rows), mean[r, 0]))
        blocks.append(eq(_row("sigma", r, v.x.rows) ** 2, var[r, 0]))
        blocks.append(_shown(_row("s", r, v.x.rows), spread))
    blocks.append(_shown(X_HAT, v.normalized))
    if _unreadable(v.normalized):
        blocks.append(
            prose(
                "With {e} the exact divisors are roots of long numbers that nobody reads, so they and "
                "everything computed from them are given in decimals from here on (JSON keeps them exact).",
                e=same(eps, v.eps),
            )
        )
    return tuple(blocks)


def explain_d_beta(v):
    return (
        prose(
            "{b} is added to feature j of every token, so {dyb}: its gradient is the sum of dy over the "
            "tokens (the columns summed).",
            b=beta_j,
            dyb=same(partial(y_j, beta_j), 1),
        ),
        eq(partial(L, beta_j), sp.Sum(sp.Symbol("dy_rj"), (r, 1, T))),
        eq(partial(L, sp.Symbol("beta")), v.dbeta),
    )


def explain_d_gamma(v):
    return (
        prose(
            "{g} multiplies the normalised feature {x} of every token, so its gradient sums dy times {xh} "
            "over the tokens:",
            xh=X_HAT,
            g=gamma_j,
            x=xh_j,
        ),
        eq(partial(L, gamma_j), sp.Sum(sp.Symbol("dy_rj") * sp.Symbol("xhat_rj"), (r, 1, T))),
        eq(partial(L, sp.Symbol("gamma")), gradients.gamma_gradient(v.dy, named.normalized(v)))
        if named.in_letters(v)
        else _shown(partial(L, sp.Symbol("gamma")), v.dgamma),
    )


def explain_d_x(v):
    blocks = [
        prose(
            "First the gradient at {xh}: y depends on {xh} through {g}, so", xh=X_HAT, g=sp.Symbol("gamma")
        ),
        eq(g_j, same(partial(L, xh_j), dy_j * gamma_j)),
        prose(
            "Every {xj} depends on every {xi} of its row: directly, through the mean {mu} and through the "
            "divisor {s}, whose derivatives are",
            xj=xh_j,
            xi=x_i,
            mu=mu,
            s=s,
        ),
        eq(partial(mu, x_i), 1 / d),
        eq(partial(s, x_i), xh_i / d),
        prose("so the quotient rule gives"),
        eq(partial(xh_j, x_i), (DELTA - 1 / d) / s - xh_j * xh_i / (d * s)),
        prose("and summing over j with the chain rule:"),
        eq(
            dx_i,
            sp.Sum(g_j * partial(xh_j, x_i), (j, 1, d)),
            (g_i - sp.Sum(g_j, (j, 1, d)) / d - xh_i * sp.Sum(g_j * xh_j, (j, 1, d)) / d) / s,
        ),
        prose(
            "The first term is the direct path, the second the mean's, the third the divisor's. Row by row, "
            "with {gb} the mean of g and {c} the mean of g times {xh}:",
            xh=X_HAT,
            gb=sp.Symbol("gbar"),
            c=sp.Symbol("rho" if named.in_letters(v) else "c"),
        ),
    ]
    if named.in_letters(v):
        return (*blocks, *_named_d_x(v))
    mean = norms.mean(v.x)
    var = norms.variance(v.x, mean)
    rows = v.x.rows
    for row in range(rows):
        g = [v.dy[row, c] * v.gamma[c] for c in range(v.x.cols)]
        xh = list(v.normalized.row(row))
        mean_g = sum(g) / len(g)
        mean_gx = sum(a * b for a, b in zip(g, xh)) / len(g)
        blocks.append(eq(_row("g", row, rows), sp.Matrix([g])))
        blocks.append(eq(_row("gbar", row, rows), _mean_of(g, len(g)), mean_g))
        products = [sp.Mul(a, b, evaluate=False) for a, b in zip(g, xh) if a != 0]
        blocks.append(_shown(_row("c", row, rows), mean_gx, _mean_of(products or [sp.Integer(0)], len(g))))
        spread = sp.sqrt(var[row, 0] + v.eps)
        written = sp.Matrix(
            [[Ratio(shown_sum([g[c], -mean_g, -xh[c] * mean_gx]), spread) for c in range(len(g))]]
        )
        blocks.append(_shown(_row("dx", row, rows), v.dx.row(row), written))
    return (*blocks, _orthogonal())


def _named_d_x(v) -> tuple:
    """dx row by row in the names: ḡ, ρ = mean(g x̂), and (g_j − ḡ − x̂_j ρ)/s."""
    blocks = []
    for r, row in enumerate(named.rows(*v.x.shape)):
        g = named.scaled(v, r)
        blocks.append(eq(_row("g", r, v.x.rows), sp.Matrix([g])))
        blocks.append(eq(row.mean_g, _mean_of(g, len(g)), sum(g) / len(g)))
        products = [
            b if a == 1 else sp.Mul(a, b, evaluate=False) for a, b in zip(g, row.normalized) if a != 0
        ]
        blocks.append(eq(row.mean_gx, _mean_of(products or [sp.Integer(0)], len(g))))
        written = [
            Ratio(shown_sum([*([g[c]] if g[c] != 0 else []), -row.mean_g, -xh * row.mean_gx]), row.spread)
            for c, xh in enumerate(row.normalized)
        ]
        blocks.append(eq(_row("dx", r, v.x.rows), sp.Matrix([written])))
    return (*blocks, _orthogonal())


def _orthogonal():
    return prose(
        "Check: each row of dx sums to 0 and is orthogonal to its {xh}, because shifting a row or scaling "
        "it about its mean leaves {xh} unchanged (up to {e}).",
        xh=X_HAT,
        e=eps,
    )
