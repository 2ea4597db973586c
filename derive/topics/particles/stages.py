"""The particles topic's values: the first Euler step exactly, the rest simulated in NumPy."""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from derive.exact import dynamics, softmax
from derive.model import Mistake

CLUSTER_TOLERANCE = 1e-2  # tokens closer than this (Euclidean, chained) at the end share a cluster
FINAL_DIGITS = 15  # a float64 simulation: its digits, no more


def weights(v):
    return softmax.softmax(v.beta * v.x * v.x.T)


def attention_mean(v):
    return v.weights * v.x


def velocity(v):
    return dynamics.tangent_projection(v.x, v.mean)


def step1(v):
    return dynamics.euler_step(v.x, v.velocity, v.dt)


@lru_cache(maxsize=8)
def _simulated(x: tuple, beta: float, dt: float, steps: int):
    import numpy as np

    from derive.forward.dynamics import simulate_particles

    return simulate_particles(np.array(x), beta, dt, steps)


def trajectory(v):
    """Every position, (steps + 1, n, d), from a float64 simulation (cached: three stages read it)."""
    x = tuple(tuple(float(e) for e in v.x.row(r)) for r in range(v.x.rows))
    return _simulated(x, float(v.beta), float(v.dt), v.steps)


def final(v):
    last = trajectory(v)[-1]
    return sp.Matrix([[sp.Float(float(e), FINAL_DIGITS) for e in row] for row in last])


def groups(v) -> list[list[int]]:
    from derive.forward.dynamics import particle_clusters

    return particle_clusters(trajectory(v)[-1], CLUSTER_TOLERANCE)


def clusters(v):
    return sp.Integer(len(groups(v)))


# --- misconceptions: what a student holding each one would write ------------------------------------


def _without_projection(v):
    return dynamics.normalise_rows(v.x + v.dt * v.mean)


def _not_renormalised(v):
    return v.x + v.dt * v.velocity


def _uniform_attention(v):
    uniform = sp.ones(v.x.rows, v.x.rows) / v.x.rows
    return dynamics.euler_step(v.x, dynamics.tangent_projection(v.x, uniform * v.x), v.dt)


STEP1_MISTAKES = (
    Mistake(
        "no-projection",
        "Project the attention output onto the tangent space first: subtract ⟨x_i, a_i⟩ x_i, the part "
        "that would move the token off the sphere.",
        _without_projection,
    ),
    Mistake(
        "not-renormalised",
        "After the Euler step divide each token by its length: the tokens stay on the unit sphere.",
        _not_renormalised,
    ),
    Mistake(
        "uniform-attention",
        "The weights are a softmax of β⟨x_i, x_j⟩ over j, not 1/n: nearer tokens pull harder.",
        lambda v: _uniform_attention(v) if v.beta != 0 else None,
    ),
)
