"""patches: the ViT input against NumPy (and torch when present), misconceptions, CLI errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import check, derive, registry
from derive.api import parse_options
from derive.model import run
from derive.topics import patches
from derive.topics.patches import stages

TOPIC = registry.get("patches")


def _matrix(value):
    return np.array(value.evalf(30).tolist(), dtype=float)


def _loops(image, P):
    """Patches by explicit loops, the way one cuts them by hand (independent of the reshape in reference)."""
    H, W = image.shape
    rows = []
    for top in range(0, H, P):
        for left in range(0, W, P):
            rows.append([image[top + r, left + c] for r in range(P) for c in range(P)])
    return np.array(rows, dtype=float)


def _sinusoid(n, d):
    return np.array(
        [
            [(math.sin if k % 2 == 0 else math.cos)(p / 10000 ** ((k - k % 2) / d)) for k in range(d)]
            for p in range(n)
        ]
    )


@pytest.mark.parametrize("seed", range(10))
def test_exact_values_equal_numpy_on_random_images(seed):
    raw = TOPIC.sample(np.random.default_rng(seed))
    options = parse_options(TOPIC, raw)
    answers = run(TOPIC, TOPIC.prepare(options)).answers
    image = _matrix(options["image"])
    P = options["patch"]
    X = _loops(image, P)
    np.testing.assert_allclose(_matrix(answers["patches"]), X)
    W_E = _matrix(options["projection"]) if options["projection"] is not None else None
    if W_E is None:
        W_E = _matrix(
            stages.seeded_projection(P * P, options["d_model"] or patches.DEFAULT_D, options["seed"])
        )
    Z = X @ W_E
    np.testing.assert_allclose(_matrix(answers["projected"]), Z)
    with_cls = np.vstack([np.zeros((1, Z.shape[1])), Z])
    np.testing.assert_allclose(_matrix(answers["with_cls"]), with_cls)
    E_pos = (
        _matrix(options["pos_embed"])
        if options["pos_embed"] is not None
        else _sinusoid(len(with_cls), Z.shape[1])
    )
    np.testing.assert_allclose(_matrix(answers["output"]), with_cls + E_pos, rtol=1e-12, atol=1e-12)
    for name, expected in TOPIC.reference(options).items():
        np.testing.assert_allclose(_matrix(answers[name]), expected, rtol=1e-12, atol=1e-12)


def test_patches_match_torch_unfold():
    torch = require("torch")
    image = np.arange(1, 37, dtype=float).reshape(6, 6)
    answers = derive("patches", image=image.tolist(), patch=3, d_model=2).answers
    unfolded = torch.nn.functional.unfold(
        torch.tensor(image)[None, None], kernel_size=3, stride=3
    )  # (1, 9, 4)
    np.testing.assert_allclose(_matrix(answers["patches"]), unfolded[0].T.numpy())


def test_the_edges_example_by_hand():
    answers = derive("patches", example="edges").answers
    # bar patches [0 1; 0 1] and [1 0; 1 0]: brightness 2, left minus right -2 and +2
    assert answers["patches"] == sp.Matrix([[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]])
    assert answers["projected"] == sp.Matrix([[2, -2], [2, 2], [2, -2], [2, 2]])
    assert answers["with_cls"].row(0) == sp.Matrix([[1, 1]])
    assert answers["output"] == sp.Matrix([[1, 1], [3, -2], [2, 3], [1, -2], [2, 1]])


def test_sinusoidal_positions_are_exact():
    answers = derive("patches", example="tiny").answers
    E_pos = answers["positions"]
    assert E_pos.row(0) == sp.Matrix([[0, 1, 0, 1]])
    assert E_pos[1, 0] == sp.sin(1) and E_pos[2, 3] == sp.cos(sp.Rational(1, 50))


def test_seeded_projection_is_deterministic_and_small():
    first = stages.seeded_projection(4, 3, 7)
    assert first == stages.seeded_projection(4, 3, 7)
    assert set(first) <= {-1, 0, 1}
    assert first != stages.seeded_projection(4, 3, 8)


def test_non_square_image():
    answers = derive("patches", image="1 2 3 4 5 6; 7 8 9 10 11 12", patch=2, d_model=2).answers
    assert answers["patches"] == sp.Matrix([[1, 2, 7, 8], [3, 4, 9, 10], [5, 6, 11, 12]])


# --- the checker -------------------------------------------------------------------------------------

EDGES = {
    "image": "0 1 1 0; 0 1 1 0; 0 1 1 0; 0 1 1 0",
    "patch": "2",
    "projection": "1 1; 1 -1; 1 1; 1 -1",
    "cls": "1 1",
    "pos_embed": "0 0; 1 0; 0 1; -1 0; 0 -1",
}


def test_correct_answers_fire_no_misconception():
    answers = [
        "patches=0 1 0 1; 1 0 1 0; 0 1 0 1; 1 0 1 0",
        "projected=2 -2; 2 2; 2 -2; 2 2",
        "with_cls=1 1; 2 -2; 2 2; 2 -2; 2 2",
        "output=1 1; 3 -2; 2 3; 1 -2; 2 1",
    ]
    report = check.check(TOPIC, EDGES, answers)
    assert report.all_correct
    assert all(item.mistake is None for item in report.items)


def test_column_major_patches_is_named_and_projection_follows_through():
    # column by column, [0 1; 0 1] flattens to 0 0 1 1 and [1 0; 1 0] to 1 1 0 0
    report = check.check(
        TOPIC, EDGES, ["patches=0 0 1 1; 1 1 0 0; 0 0 1 1; 1 1 0 0", "projected=2 0; 2 0; 2 0; 2 0"]
    )
    assert report.item("patches").mistake == "column-major-patches"
    assert report.item("projected").verdict == "follows-through"


def test_class_token_at_the_end_and_missing_positions_are_named():
    report = check.check(TOPIC, EDGES, ["with_cls=2 -2; 2 2; 2 -2; 2 2; 1 1"])
    assert report.item("with_cls").mistake == "cls-appended"
    report = check.check(TOPIC, EDGES, ["output=1 1; 2 -2; 2 2; 2 -2; 2 2"])
    assert report.item("output").mistake == "no-positions"


# --- command-line errors -----------------------------------------------------------------------------

IMAGE = "1 2 3 4; 5 6 7 8; 9 10 11 12; 13 14 15 16"


@pytest.mark.parametrize(
    "args,option,words",
    [
        (["--image", IMAGE, "--patch", "3"], "--patch", "does not divide"),
        (["--image", "1 2 3; 4 5 6", "--patch", "2"], "--patch", "does not divide"),
        (["--image", IMAGE, "--patch", "0"], "--patch", "whole number"),
        (["--image", IMAGE, "--patch", "2", "--projection", "1 0; 0 1"], "--projection", "4 entries"),
        (
            ["--image", IMAGE, "--patch", "2", "--projection", "1; 1; 1; 1", "--d-model", "2"],
            "--d-model",
            "columns",
        ),
        (["--image", IMAGE, "--patch", "2", "--d-model", "3"], "--d-model", "even"),
        (["--image", IMAGE, "--patch", "2", "--cls", "1 2"], "--cls", "D = 4"),
        (["--image", IMAGE, "--patch", "2", "--pos-embed", "1 2 3 4"], "--pos-embed", "one row per token"),
        (["--image", "; ".join([" ".join(["1"] * 16)] * 16), "--patch", "2"], "--patch", "64 patches"),
        (["--image", "1 2; 3", "--patch", "1"], "--image", ""),
        (["--patch", "2"], "--image", "required"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option, words):
    code, out, err = cli("patches", *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and words in lines[0], err
