"""particles: the exact first step against NumPy written here, the flow's known facts, mistakes, refusals."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import derive
from derive.figures import draw_png


def _floats(value):
    return np.array(sp.Matrix(value).evalf(30).tolist(), dtype=float)


def _numpy_step(x, beta, h):
    """Geshkovski et al.'s flow, one Euler step, renormalised: written out loop by loop."""
    x = x / np.sqrt((x**2).sum(axis=1, keepdims=True))
    out = np.empty_like(x)
    for i in range(len(x)):
        logits = np.array([beta * x[i].dot(x[j]) for j in range(len(x))])
        w = np.exp(logits - logits.max())
        w /= w.sum()
        a = sum(w[j] * x[j] for j in range(len(x)))
        tangent = a - a.dot(x[i]) * x[i]
        moved = x[i] + h * tangent
        out[i] = moved / np.sqrt(moved.dot(moved))
    return out


@pytest.mark.parametrize(
    "x,beta,h",
    [
        ("1 0; 0 1; -4/5 3/5", "1", "1/10"),
        ("1 0; 0 1; -4/5 3/5; 3/5 -4/5; -12/13 -5/13", "9", "0.1"),
        ("1 0 0; 0 1 0; 0 0 1; 2/3 2/3 1/3", "2", "1/4"),
        ("1 2; 3 -1", "1/2", "1"),
        ("1 1 1 1; 1 -1 0 2", "0", "0.3"),
    ],
)
def test_first_step_equals_numpy(x, beta, h):
    d = derive.derive("particles", x=x, beta=beta, dt=h, steps=1)
    given = np.array(
        sp.Matrix([[sp.Rational(e) for e in row.split()] for row in x.split(";")]).tolist(), float
    )
    expected = _numpy_step(given, float(sp.Rational(beta)), float(sp.Rational(h)))
    np.testing.assert_allclose(_floats(d.answers["step1"]), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_floats(d.answers["final"]), expected, rtol=1e-12, atol=1e-14)


CIRCLE = sp.Matrix([[1, 0], [0, 1], [sp.Rational(-4, 5), sp.Rational(3, 5)]])


def _stages(**options):
    return {s.name: s.value for s in derive.derive("particles", **options).steps}


def test_the_velocity_is_tangent_to_the_sphere():
    velocity = _stages(x=CIRCLE)["velocity"]
    for r in range(CIRCLE.rows):
        assert sp.simplify(velocity.row(r).dot(CIRCLE.row(r))) == 0


def test_antipodal_tokens_never_move_and_stay_two_clusters():
    """For x and −x the attention output is parallel to each token: the projection removes all of it."""
    d = derive.derive("particles", x="1 0; -1 0", beta="3", steps=200)
    np.testing.assert_allclose(_floats(d.answers["final"]), [[1, 0], [-1, 0]], atol=1e-15)
    assert d.answers["clusters"] == 2


def test_small_beta_merges_and_large_beta_is_metastable():
    assert derive.derive("particles", example="circle").answers["clusters"] == 1
    assert derive.derive("particles", example="metastable").answers["clusters"] == 3
    longer = derive.derive("particles", example="metastable", steps=3000).answers["clusters"]
    assert longer < 3


def test_the_circle_is_drawn_as_paths_and_the_sphere_as_curves():
    circle = [
        b for s in derive.derive("particles", example="circle").steps for b in s.blocks if hasattr(b, "kind")
    ]
    sphere = [
        b for s in derive.derive("particles", example="sphere").steps for b in s.blocks if hasattr(b, "kind")
    ]
    assert [f.kind for f in circle] == ["paths"] and [f.kind for f in sphere] == ["curves"]
    assert len(circle[0].data["paths"]) == 5
    assert draw_png(circle[0]) == draw_png(circle[0])


def _written(matrix) -> str:
    return "; ".join(" ".join(f"{e:.9f}" for e in row) for row in _floats(matrix))


def _verdict(value):
    item = derive.check("particles", {"step1": value}, x=CIRCLE, decimals=6).item("step1")
    return item.verdict, item.mistake


def test_step_mistakes_are_named():
    stages = _stages(x=CIRCLE)
    assert _verdict(_written(stages["step1"])) == ("correct", None)
    assert _verdict(_written(CIRCLE + stages["velocity"] / 10)) == ("wrong", "not-renormalised")
    off = CIRCLE + stages["mean"] / 10
    unit = sp.Matrix([list(off.row(r) / sp.sqrt(off.row(r).dot(off.row(r)))) for r in range(off.rows)])
    assert _verdict(_written(unit)) == ("wrong", "no-projection")


@pytest.mark.parametrize(
    "args,option",
    [
        (["--x", "1 0; 0 0"], "--x"),
        (["--x", "1; 2"], "--x"),
        (["--x", "; ".join(["1 0"] * 9)], "--x"),
        (["--x", "1 0; 0 1", "--dt", "2"], "--dt"),
        (["--x", "1 0; 0 1", "--beta", "-1"], "--beta"),
        (["--x", "1 0; 0 1", "--steps", "0"], "--steps"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option):
    code, out, err = cli("particles", *args)
    assert code == 2 and not out
    assert option in err and len(err.strip().splitlines()) == 1
