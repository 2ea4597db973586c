"""optimizer-step against torch.optim over several steps, its misconceptions, and its refusals."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import require

import derive

GRADS = [[0.5, -1.0, 0.25], [-0.3, 0.8, 0.1], [0.2, -0.4, -0.6], [0.7, 0.05, -0.2]]
START = [1.0, -2.0, 0.5]


def _floats(value):
    return np.array(sp.Matrix(value).evalf(30).tolist(), dtype=float).ravel()


def _torch_run(torch, optimizer_name, **hyper):
    """Each step's (params, state) from torch.optim in float64, the gradients set by hand."""
    param = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    make = {"momentum": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    optimizer = make[optimizer_name]([param], **hyper)
    trail = []
    for grad in GRADS:
        before = param.detach().clone().numpy()
        state = {k: v.clone().numpy() for k, v in optimizer.state[param].items() if k != "step"}
        param.grad = torch.tensor(grad, dtype=torch.float64)
        optimizer.step()
        after = {k: v.clone().numpy() for k, v in optimizer.state[param].items() if k != "step"}
        trail.append((before, state, param.detach().clone().numpy(), after))
    return trail


def _vector(values) -> str:
    return " ".join(repr(float(x)) for x in values)


@pytest.mark.parametrize(
    "optimizer,hyper,ours",
    [
        ("momentum", {"lr": 0.1, "momentum": 0.9}, {"lr": "0.1", "momentum": "0.9"}),
        (
            "momentum",
            {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.01},
            {"lr": "0.05", "momentum": "0.8", "dampening": "0.1", "weight_decay": "0.01"},
        ),
        ("adam", {"lr": 0.1}, {"lr": "0.1"}),
        (
            "adam",
            {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1},
            {"lr": "0.01", "beta1": "0.8", "beta2": "0.99", "weight_decay": "0.1"},
        ),
        ("adamw", {"lr": 0.1, "weight_decay": 0.1}, {"lr": "0.1", "weight_decay": "0.1"}),
        (
            "adamw",
            {"lr": 0.01, "eps": 1e-3, "weight_decay": 0.5},
            {"lr": "0.01", "eps": "1e-3", "weight_decay": "0.5"},
        ),
    ],
)
def test_every_step_equals_torch_optim(optimizer, hyper, ours):
    """Four steps, each derived exactly from torch's state before it, agree with torch's step."""
    torch = require("torch")
    for t, (before, state, after, new_state) in enumerate(_torch_run(torch, optimizer, **hyper), start=1):
        options = {**ours, "optimizer": optimizer, "params": _vector(before), "grad": _vector(GRADS[t - 1])}
        if optimizer == "momentum" and state:
            options["m"] = _vector(state["momentum_buffer"])
        if optimizer != "momentum":
            options.update(step=t, m=_vector(state["exp_avg"]) if state else None)
            options["v"] = _vector(state["exp_avg_sq"]) if state else None
        d = derive.derive("optimizer-step", **{k: v for k, v in options.items() if v is not None})
        np.testing.assert_allclose(_floats(d.answers["params"]), after, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(_floats(d.answers["update"]), after - before, rtol=1e-9, atol=1e-15)
        if optimizer == "momentum":
            np.testing.assert_allclose(_floats(d.answers["m"]), new_state["momentum_buffer"], rtol=1e-12)
        else:
            np.testing.assert_allclose(_floats(d.answers["m"]), new_state["exp_avg"], rtol=1e-12)
            np.testing.assert_allclose(_floats(d.answers["v"]), new_state["exp_avg_sq"], rtol=1e-12)


def test_adam_and_adamw_differ_only_through_the_weight_decay():
    """The decoupled decay is not the L2 one: the same inputs give different parameters."""
    common = {"params": "1 -2", "grad": "1/2 -1", "lr": "0.1", "weight_decay": "0.1"}
    adam = derive.derive("optimizer-step", optimizer="adam", **common).answers["params"]
    adamw = derive.derive("optimizer-step", optimizer="adamw", **common).answers["params"]
    assert not np.allclose(_floats(adam), _floats(adamw), atol=1e-6)
    no_decay = {**common, "weight_decay": "0"}
    assert (
        derive.derive("optimizer-step", optimizer="adam", **no_decay).answers["params"]
        == (derive.derive("optimizer-step", optimizer="adamw", **no_decay).answers["params"])
    )


def test_first_adam_step_moves_each_entry_by_about_lr_against_the_gradient():
    """At t = 1, m̂ = g and v̂ = g², so the step is −lr·g/(|g| + ε): written here by hand."""
    d = derive.derive("optimizer-step", example="adam")
    assert d.answers["m_hat"] == sp.Matrix([[sp.Rational(1, 2), -1, sp.Rational(-1, 4)]])
    eps, lr = sp.Rational(1, 10**8), sp.Rational(1, 10)
    assert d.answers["update"][0] == -lr * sp.Rational(1, 2) / (sp.Rational(1, 2) + eps)


def _verdict(answer_id, value, **options):
    """At 6 decimals: moments such as 0.00025 are far below the default two."""
    item = derive.check("optimizer-step", {answer_id: value}, decimals=6, **options).item(answer_id)
    return item.verdict, item.mistake


@pytest.mark.parametrize(
    "answer_id,value,mistake",
    [
        ("m_hat", "0.05 -0.1 -0.025", "no-bias-correction"),
        ("v_hat", "0.00025 0.001 0.0000625", "no-bias-correction"),
        ("update", "0.1 -0.1 -0.1", "sign-flipped"),
        ("params", "0.9 -1.9 3.1", None),
        ("params", "1.1 -2.1 2.9", "sign-flipped"),
        ("m", "0.5 -1 -0.25", "missing-one-minus-beta"),
        ("v", "0.0005 -0.001 -0.00025", "not-squared"),
    ],
)
def test_adam_misconceptions_are_named(answer_id, value, mistake):
    verdict, found = _verdict(answer_id, value, example="adam")
    assert (verdict, found) == ("correct" if mistake is None else "wrong", mistake)


def test_adamw_with_l2_weight_decay_is_named():
    """AdamW's parameters worked as Adam with L2 (λθ in the gradient) are a named mistake."""
    l2 = derive.derive(
        "optimizer-step", optimizer="adam", params="1 -2", grad="1/2 -1", lr="0.1", weight_decay="0.1"
    )
    wrong = _vector(_floats(l2.answers["params"]))
    assert _verdict("params", wrong, example="adamw") == ("wrong", "weight-decay-swapped")


def test_momentum_as_a_running_mean_is_named():
    assert _verdict("m", "0.95 0.8", example="momentum") == ("wrong", "ema-momentum")


def test_ids_an_optimizer_lacks_are_left_out_and_refused(cli):
    d = derive.derive("optimizer-step", example="sgd")
    assert set(d.answers) == {"update", "params"}
    assert set(derive.derive("optimizer-step", example="momentum").answers) == {"m", "update", "params"}
    code, out, err = cli("check", "optimizer-step", "--example", "sgd", "--answer", "m=0")
    assert code == 2 and "m: nothing to check" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args,option",
    [
        (["--optimizer", "sgd", "--params", "1 2", "--grad", "1 2", "--v", "1 1"], "--v"),
        (["--optimizer", "sgd", "--params", "1 2", "--grad", "1 2", "--m", "1 1"], "--m"),
        (["--params", "1 2", "--grad", "1 2 3"], "--grad"),
        (["--params", "1 2", "--grad", "1 2", "--m", "1"], "--m"),
        (["--params", "1 2", "--grad", "1 2", "--v", "-1 1"], "--v"),
        (["--params", "1 2", "--grad", "1 2", "--beta1", "1"], "--beta1"),
        (["--params", "1 2", "--grad", "1 2", "--step", "0"], "--step"),
        (["--params", "1 2", "--grad", "1 2", "--optimizer", "lion"], "--optimizer"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option):
    code, out, err = cli("optimizer-step", *args)
    assert code == 2 and not out
    assert option in err and len(err.strip().splitlines()) == 1
