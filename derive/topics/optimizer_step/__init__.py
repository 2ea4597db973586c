"""One optimizer step by hand: SGD, SGD with momentum, Adam and AdamW, as torch.optim computes them.

Answer ids: m, v, m_hat, v_hat, update, params. An id an optimizer does not have is left out of its
derivation and refused by ``derive check`` ("nothing to check with these options"): plain SGD has
only update and params; SGD with momentum adds its buffer as m. ``update`` is the whole change
θ_new − θ (for AdamW including the decoupled decay), so params = θ + update.
"""

from __future__ import annotations

from derive import inputs, limits
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic, Values
from derive.topics.optimizer_step import explain, stages

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")


def _fraction(value, option):
    """A number in [0, 1): an exponential-average coefficient such as β₁ = 0.9."""
    number = inputs.scalar(value, option)
    if not 0 <= number < 1:
        raise InputError(option, "expected a number from 0 up to (not including) 1, such as 0.9")
    return number


def _dampening(value, option):
    number = inputs.scalar(value, option)
    if not 0 <= number <= 1:
        raise InputError(option, "expected a number from 0 to 1")
    return number


def _step(value, option):
    return inputs.integer(value, option, 1, 10**6)


def _state(options, name, shape, needed_by):
    """--m or --v: the optimizer's state before the step, the shape of --params."""
    value = options[name]
    if value is None:
        return None
    if options["optimizer"] not in needed_by:
        raise InputError(
            f"--{name}", f"{options['optimizer']} keeps no {name}; only {' and '.join(needed_by)} do"
        )
    if value.shape != shape:
        raise InputError(
            f"--{name}",
            f"expected the shape of --params ({shape[0]}×{shape[1]}), got {value.rows}×{value.cols}",
        )
    return value


def _prepare(options) -> Givens:
    theta, grad, optimizer = options["params"], options["grad"], options["optimizer"]
    limits.check_shape("--params", theta)
    if grad.shape != theta.shape:
        raise InputError(
            "--grad",
            f"expected the shape of --params ({theta.rows}×{theta.cols}), got {grad.rows}×{grad.cols}",
        )
    m0 = _state(options, "m", theta.shape, ("momentum", "adam", "adamw"))
    v0 = _state(options, "v", theta.shape, ("adam", "adamw"))
    if v0 is not None and any(e < 0 for e in v0):
        raise InputError("--v", "a running mean of squares is never negative")
    adam = optimizer in stages.ADAM_FAMILY
    zeros = theta.zeros(*theta.shape)
    values = {
        "optimizer": optimizer,
        "theta": theta,
        "grad": grad,
        "lr": options["lr"],
        "weight_decay": options["weight_decay"],
        "m0": m0 if m0 is not None or not adam else zeros,
        "v0": v0 if v0 is not None or not adam else zeros,
        "beta1": options["beta1"],
        "beta2": options["beta2"],
        "eps": options["eps"],
        "step": options["step"],
        "momentum": options["momentum"],
        "dampening": options["dampening"],
    }
    shown = {"optimizer", "params", "grad", "lr", "weight_decay"}
    shown |= {"m", "v", "beta1", "beta2", "eps", "step"} if adam else set()
    shown |= {"m", "momentum", "dampening"} if optimizer == "momentum" else set()
    params = {}
    for option in TOPIC.options:
        value = options[option.name] if option.name not in ("m", "v") else values[f"{option.name}0"]
        if option.name not in shown or value is None:
            continue
        if hasattr(value, "tolist"):
            params[option.name] = [[str(e) for e in row] for row in value.tolist()]
        else:
            params[option.name] = str(value)
    return Givens(f"One {explain.NAMES[optimizer]} step", values, explain.intro(Values(values)), params)


def _sample(rng):
    size = int(rng.integers(1, 4))

    def vector(low, high):
        return " ".join(f"{rng.integers(low, high + 1)}/{rng.choice([1, 2, 4, 10])}" for _ in range(size))

    optimizer = str(rng.choice(OPTIMIZERS))
    raw = {
        "optimizer": optimizer,
        "params": vector(-4, 4),
        "grad": vector(-4, 4),
        "lr": str(rng.choice(["1/10", "1/100", "0.001"])),
        "weight_decay": str(rng.choice(["0", "1/100", "1/10"])),
    }
    if optimizer in stages.ADAM_FAMILY:
        raw["step"] = str(int(rng.integers(1, 6)))
        if raw["step"] != "1":
            raw["m"], raw["v"] = vector(-2, 2), vector(0, 3)
    if optimizer == "momentum" and rng.random() < 0.5:
        raw["m"] = vector(-2, 2)
        raw["dampening"] = str(rng.choice(["0", "1/10"]))
    return raw


def _reference(options):
    """The same step in NumPy floats, written from torch.optim's documented algorithms."""
    import numpy as np

    def floats(matrix):
        return np.array(matrix.tolist(), dtype=float)

    theta, g = floats(options["params"]), floats(options["grad"])
    lr, wd = float(options["lr"]), float(options["weight_decay"])
    optimizer = options["optimizer"]
    if optimizer != "adamw":
        g = g + wd * theta
    if optimizer == "sgd":
        return {"update": -lr * g, "params": theta - lr * g}
    if optimizer == "momentum":
        mu, tau = float(options["momentum"]), float(options["dampening"])
        b = g if options["m"] is None else mu * floats(options["m"]) + (1 - tau) * g
        return {"m": b, "update": -lr * b, "params": theta - lr * b}
    b1, b2, eps, t = float(options["beta1"]), float(options["beta2"]), float(options["eps"]), options["step"]
    m0 = np.zeros_like(theta) if options["m"] is None else floats(options["m"])
    v0 = np.zeros_like(theta) if options["v"] is None else floats(options["v"])
    if optimizer == "adamw":
        theta_decayed = theta * (1 - lr * wd)
    else:
        theta_decayed = theta
    m = b1 * m0 + (1 - b1) * g
    v = b2 * v0 + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    new = theta_decayed - lr * m_hat / (np.sqrt(v_hat) + eps)
    return {"m": m, "v": v, "m_hat": m_hat, "v_hat": v_hat, "update": new - theta, "params": new}


def _matching(value, option):
    """Parameters, gradient or first moment: numbers or letters (the step stays symbolic)."""
    return inputs.vector_or_matrix(value, option, symbols=True)


def _second_moment(value, option):
    """Numbers only: a running mean of squares must be seen to be non-negative."""
    return inputs.vector_or_matrix(value, option)


TOPIC = Topic(
    name="optimizer-step",
    summary="One optimizer step by hand: SGD, momentum, Adam (bias correction) and AdamW (decoupled decay)",
    options=(
        Option(
            "optimizer",
            "sgd, momentum (SGD with momentum), adam or adamw",
            inputs.choice(*OPTIMIZERS),
            default="adam",
        ),
        Option(
            "params",
            "the parameters θ: a vector '1 2 3' or a matrix '1 2; 3 4'",
            _matching,
            required=True,
            sets_answer_shape=True,
        ),
        Option("grad", "the gradient of the loss at θ, the shape of --params", _matching, required=True),
        Option("lr", "the learning rate", inputs.positive, default="0.001"),
        Option("beta1", "Adam's first-moment coefficient β₁", _fraction, default="0.9"),
        Option("beta2", "Adam's second-moment coefficient β₂", _fraction, default="0.999"),
        Option("eps", "Adam's ε, added after the square root", inputs.non_negative, default="1e-8"),
        Option(
            "weight_decay",
            "λ: L2 for sgd, momentum and adam; decoupled for adamw",
            inputs.non_negative,
            default="0",
        ),
        Option("step", "Adam's step number t, from 1 (bias correction uses it)", _step, default="1"),
        Option(
            "m",
            "the state before the step: Adam's first moment, or SGD's momentum buffer (none: the first step)",
            _matching,
        ),
        Option("v", "Adam's second moment before the step (default 0)", _second_moment),
        Option("momentum", "SGD's momentum μ", inputs.non_negative, default="0.9"),
        Option(
            "dampening",
            "SGD's dampening τ (the gradient enters the buffer with weight 1 − τ)",
            _dampening,
            default="0",
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "gradient", "Weight decay as L2", stages.gradient, explain.gradient, answer=False, optional=True
        ),
        Stage(
            "m",
            "The first moment",
            stages.first_moment,
            explain.first_moment,
            stages.M_MISTAKES,
            optional=True,
        ),
        Stage(
            "v",
            "The second moment",
            stages.second_moment,
            explain.second_moment,
            stages.V_MISTAKES,
            optional=True,
        ),
        Stage(
            "m_hat",
            "Bias-correct the first moment",
            stages.m_hat,
            explain.m_hat_,
            stages.M_HAT_MISTAKES,
            optional=True,
        ),
        Stage(
            "v_hat",
            "Bias-correct the second moment",
            stages.v_hat,
            explain.v_hat_,
            stages.V_HAT_MISTAKES,
            optional=True,
        ),
        Stage("update", "The update", stages.update, explain.update, stages.UPDATE_MISTAKES),
        Stage("params", "The new parameters", stages.new_params, explain.new_params, stages.PARAMS_MISTAKES),
    ),
    result="params",
    examples={
        "adam": {"optimizer": "adam", "params": "1 -2 3", "grad": "1/2 -1 -1/4", "lr": "0.1"},
        "adam-later": {
            "optimizer": "adam",
            "params": "1 -2",
            "grad": "1/2 -1",
            "lr": "0.1",
            "step": "3",
            "m": "1/10 -1/5",
            "v": "1/1000 1/500",
        },
        "adamw": {
            "optimizer": "adamw",
            "params": "1 -2",
            "grad": "1/2 -1",
            "lr": "0.1",
            "weight_decay": "0.1",
        },
        "momentum": {"optimizer": "momentum", "params": "1 -2", "grad": "1/2 -1", "lr": "0.1", "m": "1 1"},
        "sgd": {"optimizer": "sgd", "params": "1 -2", "grad": "1/2 -1", "lr": "0.1"},
    },
    example_notes={
        "adam": "Adam's first step: m̂ = g and v̂ = g², so each entry moves by about lr against its gradient's sign",
        "adam-later": "Adam at step 3 from given moments: bias correction by 1 − β³",
        "adamw": "AdamW: decoupled weight decay beside the Adam step",
        "momentum": "SGD with momentum from a previous buffer",
        "sgd": "plain SGD: θ − lr·g",
    },
    sample=_sample,
    reference=_reference,
)
