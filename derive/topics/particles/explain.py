"""What the particles topic shows: the flow, the first Euler step by hand, the simulation, the clusters."""

from __future__ import annotations

import sympy as sp

from derive.blocks import curves, eq, needs_approx, paths, prose, rounded, same, table
from derive.forms import shown_sum
from derive.notation import matrix_name, transposed
from derive.topics.particles.stages import CLUSTER_TOLERANCE, groups, trajectory

beta, dt, t = sp.symbols("beta h t")
x_i, x_j, a_i, w_ij = sp.symbols("x_i x_j a_i w_ij")
X, W, A, V, Y = (matrix_name(name) for name in "XWAVY")
PROJECT = sp.Function("P")
NORMALISE = sp.Function("normalise")
X_AT = sp.Function("X")
y = sp.Symbol("y")
CURVE_POINTS = 200


def _inner(a, b):
    """a⋅b, the dot product of two tokens (a number, so it commutes)."""
    return _times(a, b)


EXACT_NODES = 30  # an entry with more nodes than this is a wall of exponentials and roots


def _small(entry) -> bool:
    """Counted node by node and stopped early: printing a huge sum just to measure it is slow."""
    for count, _ in enumerate(sp.preorder_traversal(entry)):
        if count > EXACT_NODES:
            return False
    return True


def _matrix(lhs, value) -> tuple:
    """``lhs = exact ≈ decimals``, or only the decimals when the exact entries are walls of symbols
    (measuring those for the page would take longer than the rest of the derivation)."""
    if all(_small(e) for e in value):
        return (eq(lhs, value, approx=_approx(value)),)
    return (
        eq(lhs, approx=value),
        prose("(The exact entries are long sums of exponentials and roots: --format json has them.)"),
    )


def _approx(value):
    return value if needs_approx(value) else None


def _times(*factors):
    return sp.Mul(*factors, evaluate=False)


def intro(v, given_unit: bool) -> tuple:
    blocks = [
        prose(
            "Read each token as a particle on the unit sphere and a stack of attention layers as time "
            "running. With Q = K = V = I, self-attention moves every token towards the attention-weighted "
            "mean of all tokens; keeping only the part of that pull along the sphere gives the flow studied "
            'by Geshkovski, Letrouit, Polyanskiy and Rigollet ("A mathematical perspective on '
            'Transformers", 2023), with inverse temperature {b} (a dot marks the rate of change in time t):',
            b=beta,
        ),
        eq(sp.Symbol("xdot_i"), PROJECT(a_i)),
        prose(
            "where {a} is the attention output of token i, the weights {w} are the softmax over j of {s} (a dot product), "
            "and the projection {p} removes from a vector its component {c} along the unit token {x}:",
            c=same(sp.Symbol("c"), _inner(y, x_i)),
            a=a_i,
            w=w_ij,
            s=_times(beta, _inner(x_i, x_j)),
            p=PROJECT(y),
            x=x_i,
        ),
        eq(a_i, sp.Sum(_times(w_ij, x_j), (sp.Symbol("j"), 1, sp.Symbol("n")))),
        eq(PROJECT(y), shown_sum([y, _times(-1, sp.Symbol("c"), x_i)])),
        prose(
            "Scheme: explicit Euler steps of size {h}, each token then divided by its length so that it "
            "stays on the sphere: {rule}. Here {b}, {h2} and {n} steps (time {T}).",
            h=dt,
            rule=same(sp.Symbol("x_i'"), NORMALISE(x_i + dt * PROJECT(a_i))),
            b=same(beta, v.beta),
            h2=same(dt, v.dt),
            n=v.steps,
            T=same(t, v.steps * v.dt),
        ),
    ]
    if not given_unit:
        blocks.append(prose("The tokens given are not all of length 1; each is divided by its length first:"))
    else:
        blocks.append(prose("The tokens, one per row, each of length 1:"))
    blocks.append(eq(X, v.x, approx=_approx(v.x)))
    return tuple(blocks)


def explain_weights(v):
    return (
        prose(
            "The attention weights: row i is the softmax of {s} over j. Tokens closer to token i (larger "
            "inner product) get more weight, the more so the larger {b}.",
            s=_times(beta, _inner(x_i, x_j)),
            b=beta,
        ),
        eq(W, sp.Function("softmax")(_times(beta, X, transposed(X)))),
        *_matrix(W, v.weights),
    )


def explain_mean(v):
    return (
        prose(
            "Each token's attention output is the weighted mean of all tokens (V = I): {rule}.",
            rule=same(A, _times(W, X)),
        ),
        *_matrix(A, v.mean),
    )


def explain_velocity(v):
    first_along = sum(a * b for a, b in zip(v.x.row(0), v.mean.row(0)))
    return (
        prose(
            "Keep only the part of the pull along the sphere: subtract from {a} its component along {x}. "
            "For token 1, {dot} ≈ {value}.",
            a=a_i,
            x=x_i,
            dot=_inner(sp.Symbol("a_1"), sp.Symbol("x_1")),
            value=rounded(first_along),
        ),
        *_matrix(V, v.velocity),
        prose("Each row of V is orthogonal to its token: the step starts off along the sphere."),
    )


def explain_step1(v):
    moved = v.x + v.dt * v.velocity
    return (
        prose("Step by {h} along the velocity: {rule}.", h=same(dt, v.dt), rule=same(Y, X + dt * V)),
        *_matrix(Y, moved),
        prose("Then divide each row by its length, to bring every token back onto the sphere:"),
        *_matrix(X_AT(v.dt), v.step1),
    )


def explain_final(v):
    path = trajectory(v)
    return (
        prose(
            "The remaining {rest} steps follow the same scheme in float64 (NumPy); after time {T} the tokens "
            "are at",
            rest=v.steps - 1,
            T=same(t, v.steps * v.dt),
        ),
        eq(X_AT(v.steps * v.dt), approx=v.final),
        _figure(v, path),
    )


def _figure(v, path):
    every = max(1, (len(path) - 1) // CURVE_POINTS)
    rows = path[::every]
    if v.x.cols == 2:
        tracks = {f"token {i + 1}": [tuple(p[i]) for p in rows] for i in range(v.x.rows)}
        return paths("particles", "Tokens moving on the circle", tracks, circle=True)
    times = [k * every * float(v.dt) for k in range(len(rows))]
    series = {f"token {i + 1}": [float(p[i] @ p[0]) for p in rows] for i in range(1, v.x.rows)}
    return curves("particles", "Inner product with token 1 over time", times, series, "time t", "⟨x_i, x_1⟩")


def explain_clusters(v):
    found = groups(v)
    rows = [(k + 1, ", ".join(str(i + 1) for i in members), len(members)) for k, members in enumerate(found)]
    blocks = [
        prose(
            "Tokens whose final positions lie within {tol} of each other (Euclidean distance, chained: "
            "a token near any member joins the cluster) share a cluster:",
            tol=f"{CLUSTER_TOLERANCE:g}",
        ),
        table(("cluster", "tokens", "size"), rows),
    ]
    if len(found) == 1:
        blocks.append(
            prose(
                "All tokens have merged into one point. Geshkovski et al. prove that, for almost every "
                "starting configuration, this is where the tokens end when {b} is small and when it is large: "
                "attention alone, repeated, makes all tokens equal.",
                b=beta,
            )
        )
    else:
        blocks.append(
            prose(
                "Several clusters remain at this time. For large {b} each token first feels only its near "
                "neighbours, so tokens gather quickly into a few clusters, which then persist for a long time "
                "before merging (metastability, described by Geshkovski et al.); running longer "
                "(--steps) or lowering {b} lets them merge.",
                b=beta,
            )
        )
    return tuple(blocks)
