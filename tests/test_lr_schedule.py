"""lr-schedule against the paper's published setting and torch.optim.lr_scheduler, its mistakes, refusals."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from conftest import require

import derive


def _lr(**options) -> float:
    return float(sp.N(derive.derive("lr-schedule", **options).answers["lr"], 30))


def test_noam_peak_at_the_papers_setting():
    """d_model 512, warmup 4000: the peak 1/√(512·4000) = 6.9877e-4 at step 4000 (by hand: √2048000 ≈ 1431.08)."""
    assert _lr(schedule="noam", step=4000) == pytest.approx(6.9877e-4, rel=1e-4)
    assert _lr(schedule="noam", step=4000) == pytest.approx(1 / 1431.0835, rel=1e-7)
    assert _lr(schedule="noam", step=1) == pytest.approx(512**-0.5 * 4000**-1.5, rel=1e-12)
    assert _lr(schedule="noam", step=16000) == pytest.approx(_lr(schedule="noam", step=4000) / 2, rel=1e-12)


def _torch_rates(torch, make, lr, steps):
    """The rate before each optimizer step, as a training loop reads it."""
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = make(optimizer)
    rates = []
    for _ in range(steps + 1):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize("lr_max,lr_min", [(0.001, 0.0), (0.1, 0.001)])
def test_cosine_equals_cosine_annealing_lr(lr_max, lr_min):
    torch = require("torch")
    total = 40
    rates = _torch_rates(
        torch,
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total, eta_min=lr_min),
        lr_max,
        total,
    )
    for step in (0, 1, 7, 10, 20, 33, 40):
        ours = _lr(schedule="cosine", step=step, total=total, lr_max=repr(lr_max), lr_min=repr(lr_min))
        assert ours == pytest.approx(rates[step], rel=1e-9, abs=1e-15), step


def test_linear_equals_linear_lr():
    torch = require("torch")
    total, lr_max, lr_min = 30, 0.01, 0.002
    rates = _torch_rates(
        torch,
        lambda o: torch.optim.lr_scheduler.LinearLR(
            o, start_factor=1.0, end_factor=lr_min / lr_max, total_iters=total
        ),
        lr_max,
        total,
    )
    for step in (0, 3, 15, 29, 30):
        ours = _lr(schedule="linear", step=step, total=total, lr_max="0.01", lr_min="0.002")
        assert ours == pytest.approx(rates[step], rel=1e-9), step


@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_warmup_equals_hugging_faces_lambdas(schedule):
    """get_{cosine,linear}_schedule_with_warmup's lr_lambda, written out here and run through LambdaLR."""
    torch = require("torch")
    total, warmup, lr_max = 50, 10, 3e-4

    def factor(step):
        if step < warmup:
            return step / max(1, warmup)
        done = (step - warmup) / max(1, total - warmup)
        if schedule == "cosine":
            return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * done)))
        return max(0.0, (total - step) / max(1, total - warmup))

    rates = _torch_rates(torch, lambda o: torch.optim.lr_scheduler.LambdaLR(o, factor), lr_max, total)
    for step in (0, 1, 9, 10, 11, 30, 50):
        ours = _lr(schedule=schedule, step=step, total=total, warmup=warmup, lr_max="3e-4")
        assert ours == pytest.approx(rates[step], rel=1e-9, abs=1e-15), (schedule, step)


def _verdict(value: float, **options):
    """The verdict at a relative tolerance: rates are far below the default two decimals."""
    item = derive.check("lr-schedule", {"lr": f"{value:.10e}"}, rtol=1e-6, **options).item("lr")
    return item.verdict, item.mistake


def test_noam_misconceptions_are_named():
    warm = {"schedule": "noam", "step": "1000"}
    right = 512**-0.5 * 1000 * 4000**-1.5
    assert _verdict(right, **warm) == ("correct", None)
    assert _verdict(512**-0.5 * 1000 * 4000**-0.5, **warm) == ("wrong", "warmup-exponent")
    assert _verdict(1000 * 4000**-1.5, **warm) == ("wrong", "no-d-model")
    assert _verdict(512**-0.5 * 1000**-0.5, **warm) == ("wrong", "max-not-min")


def test_decay_misconceptions_are_named():
    cosine = {"schedule": "cosine", "step": "600", "total": "1000", "lr_max": "0.001", "lr_min": "1e-4"}
    p = 0.6
    assert _verdict(1e-4 + 9e-4 * math.cos(math.pi * p), **cosine) == ("wrong", "cosine-without-half")
    assert _verdict(1e-3 * (1 + math.cos(math.pi * p)) / 2, **cosine) == ("wrong", "decays-to-zero")
    linear = {**cosine, "schedule": "linear"}
    assert _verdict(1e-4 + 9e-4 * p, **linear) == ("wrong", "upside-down")
    warm = {**linear, "step": "50", "warmup": "100"}
    assert _verdict(1e-3 * 0.5, **warm) == ("correct", None)
    assert _verdict(1e-4 + 9e-4 * (1 - 0.05), **warm) == ("wrong", "warmup-ignored")


@pytest.mark.parametrize(
    "args,option",
    [
        (["--schedule", "noam", "--step", "0"], "--step"),
        (["--schedule", "cosine", "--step", "3"], "--total"),
        (["--schedule", "cosine", "--step", "30", "--total", "20"], "--step"),
        (["--schedule", "linear", "--step", "3", "--total", "20", "--warmup", "20"], "--warmup"),
        (["--schedule", "linear", "--step", "3", "--total", "20", "--lr-min", "1"], "--lr-min"),
        (["--schedule", "step", "--step", "3"], "--schedule"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option):
    code, out, err = cli("lr-schedule", *args)
    assert code == 2 and not out
    assert option in err and len(err.strip().splitlines()) == 1
