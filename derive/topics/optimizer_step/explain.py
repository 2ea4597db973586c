"""What each optimizer-step stage shows: the rule, the first entry worked by hand, every entry."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, needs_approx, prose, same, table
from derive.forms import Ratio, shown_sum

theta, g, lr, lam, eps = sp.symbols("theta g eta lambda epsilon")
beta1, beta2, mu, tau, t = sp.symbols("beta_1 beta_2 mu tau t")
m_t, m_prev, v_t, v_prev = sp.symbols("m_t m_t-1 v_t v_t-1")
m_hat, v_hat, b_t, b_prev = sp.symbols("mhat_t vhat_t b_t b_t-1")
THETA_NEW, THETA_OLD = sp.symbols("theta_t theta_t-1")
DELTA = sp.Symbol("Delta")
G_DECAYED = sp.Symbol("g'")

NAMES = {"sgd": "plain SGD", "momentum": "SGD with momentum", "adam": "Adam", "adamw": "AdamW"}
DECAY_TEXT = {
    "sgd": "Weight decay {lam} is L2 regularisation here: {term} is added to the gradient, as torch.optim.SGD "
    "does.",
    "momentum": "Weight decay {lam} is L2 regularisation here: {term} is added to the gradient before the "
    "buffer, as torch.optim.SGD does.",
    "adam": "Weight decay {lam} in Adam is L2 regularisation: {term} is added to the gradient, so it also "
    "passes through the moments and is divided by the root of the second moment (torch.optim.Adam). AdamW "
    "decouples it instead.",
    "adamw": "Weight decay {lam} in AdamW is decoupled (Loshchilov and Hutter): the weights shrink by "
    "{shrink} beside the Adam step, and the gradient that feeds the moments is left alone "
    "(torch.optim.AdamW). Adam's L2 version would add {term} to the gradient instead.",
}


def _approx(value):
    return value if needs_approx(value) else None


def _times(*factors):
    """A product as written, factors in order (the printers keep an unevaluated Mul's order)."""
    return sp.Mul(*factors, evaluate=False)


def _first(matrix: sp.Matrix):
    return matrix[0, 0]


def _entry(name: str, v) -> sp.Symbol:
    """θ₁ for the first entry of a longer vector; the plain name when there is only one entry."""
    return sp.Symbol(name if len(v.theta) == 1 else f"{name}_1")


def _worked(name, v, written, value):
    """The first entry by hand: ``name₁ = written = value ≈ decimals``."""
    return eq(_entry(name, v), written, value, approx=_approx(value))


def _adam(v) -> bool:
    return v.optimizer in ("adam", "adamw")


def _grad(v):
    return v.gradient if v.get("gradient") is not None else v.grad


def intro(v) -> tuple:
    blocks = [
        prose(
            "One step of {name} on the parameters {theta} with the gradient {g} of the loss at {theta}, and "
            "learning rate {lr}. Every operation is entry by entry: the first entry is worked by hand and "
            "the others follow the same way.",
            name=NAMES[v.optimizer],
            theta=theta,
            g=g,
            lr=same(lr, v.lr),
        ),
        eq(theta, v.theta),
        eq(g, v.grad),
    ]
    if v.weight_decay != 0:
        blocks.append(
            prose(
                DECAY_TEXT[v.optimizer] + " Here {given}.",
                lam=lam,
                term=_times(lam, theta),
                shrink=_times(lr, lam, theta),
                given=same(lam, v.weight_decay),
            )
        )
    if _adam(v):
        blocks.append(prose("The hyperparameters, and the step number {t} (from 1):", t=t))
        blocks.append(table((beta1, beta2, eps, t), [(v.beta1, v.beta2, v.eps, v.step)]))
        blocks.append(prose("The moments before this step (zero before the first):"))
        blocks += [eq(m_prev, v.m0), eq(v_prev, v.v0)]
    elif v.optimizer == "momentum" and v.m0 is None:
        blocks.append(
            prose("Momentum {mu}; there is no buffer yet: this is the first step.", mu=same(mu, v.momentum))
        )
    elif v.optimizer == "momentum":
        blocks.append(
            prose(
                "Momentum {mu} and dampening {tau}; the buffer from the previous step is",
                mu=same(mu, v.momentum),
                tau=same(tau, v.dampening),
            )
        )
        blocks.append(eq(b_prev, v.m0))
    return tuple(blocks)


def gradient(v):
    written = shown_sum([_first(v.grad), _times(v.weight_decay, _first(v.theta))])
    return (
        prose("Fold the L2 term into the gradient:"),
        eq(G_DECAYED, shown_sum([g, _times(lam, theta)])),
        _worked("g'", v, written, _first(v.gradient)),
        eq(G_DECAYED, v.gradient, approx=_approx(v.gradient)),
    )


def first_moment(v):
    if v.optimizer == "momentum":
        return _buffer(v)
    written = shown_sum([_times(v.beta1, _first(v.m0)), _times(1 - v.beta1, _first(_grad(v)))])
    return (
        prose("The first moment is a running mean of the gradients, the new one weighted {w}:", w=1 - beta1),
        eq(m_t, shown_sum([_times(beta1, m_prev), _times(1 - beta1, g)])),
        _worked("m", v, written, _first(v.m)),
        eq(m_t, v.m, approx=_approx(v.m)),
    )


def _buffer(v):
    if v.m0 is None:
        return (
            prose("On the first step PyTorch starts the momentum buffer at the gradient itself:"),
            eq(b_t, g),
            eq(b_t, v.m, approx=_approx(v.m)),
        )
    written = shown_sum([_times(v.momentum, _first(v.m0)), _times(1 - v.dampening, _first(_grad(v)))])
    return (
        prose(
            "Decay the buffer and add the gradient. PyTorch's buffer is a sum, not a running mean: the "
            "gradient enters with weight {w} (1 without dampening), not {not_w}.",
            w=1 - tau,
            not_w=1 - mu,
        ),
        eq(b_t, shown_sum([_times(mu, b_prev), _times(1 - tau, g)])),
        _worked("b", v, written, _first(v.m)),
        eq(b_t, v.m, approx=_approx(v.m)),
    )


def second_moment(v):
    squared = _first(_grad(v)) ** 2
    written = shown_sum([_times(v.beta2, _first(v.v0)), _times(1 - v.beta2, squared)])
    return (
        prose(
            "The second moment is a running mean of the squared gradients. It measures how large each "
            "entry's gradient has been, whatever its sign:"
        ),
        eq(v_t, shown_sum([_times(beta2, v_prev), _times(1 - beta2, g**2)])),
        _worked("v", v, written, _first(v.v)),
        eq(v_t, v.v, approx=_approx(v.v)),
    )


def _correction(v, name, moment, corrected, symbol, beta_symbol, beta):
    power = beta if v.step == 1 else sp.Pow(beta, v.step, evaluate=False)
    return (
        eq(symbol, Ratio(sp.Symbol(name + "_t"), shown_sum([1, -sp.Pow(beta_symbol, t)]))),
        _worked(name + "hat", v, Ratio(_first(moment), shown_sum([1, -power])), _first(corrected)),
        eq(symbol, corrected, approx=_approx(corrected)),
    )


def m_hat_(v):
    return (
        prose(
            "Both moments start at 0, so early on they are pulled towards 0. Bias correction divides by "
            "the total weight the running mean has given to actual gradients so far:"
        ),
        *_correction(v, "m", v.m, v.m_hat, m_hat, beta1, v.beta1),
    )


def v_hat_(v):
    return (
        prose("The same for the second moment:"),
        *_correction(v, "v", v.v, v.v_hat, v_hat, beta2, v.beta2),
    )


def update(v):
    if _adam(v):
        rule = _times(-1, lr, Ratio(m_hat, shown_sum([sp.sqrt(v_hat), eps])))
        written = Ratio(_times(-v.lr, _first(v.m_hat)), shown_sum([sp.sqrt(_first(v.v_hat)), v.eps]))
        text = (
            "Each entry moves by about the learning rate, against the sign of {m}, scaled down where the "
            "gradient has been large ({root}); {eps} is added after the root, as torch.optim.Adam does, and "
            "only guards against division by 0."
        )
        if v.optimizer == "adamw":
            rule = shown_sum([rule, _times(-1, lr, lam, theta)])
            written = shown_sum([written, _times(-v.lr, v.weight_decay, _first(v.theta))])
            text += " AdamW adds the decoupled decay {decay}."
        blocks = [prose(text, m=m_hat, root=sp.sqrt(v_hat), eps=eps, decay=_times(-1, lr, lam, theta))]
    else:
        source, symbol = (v.m, b_t) if v.optimizer == "momentum" else (_grad(v), g)
        rule, written = _times(-1, lr, symbol), _times(-v.lr, _first(source))
        blocks = [prose("Step against {d}, scaled by the learning rate:", d=symbol)]
    return (
        *blocks,
        eq(DELTA, rule),
        _worked("Delta", v, written, _first(v.update)),
        eq(DELTA, v.update, approx=_approx(v.update)),
    )


def new_params(v):
    return (
        prose("Add the update to the parameters:"),
        eq(THETA_NEW, shown_sum([THETA_OLD, DELTA])),
        _worked("theta", v, shown_sum([_first(v.theta), _first(v.update)]), _first(v.params)),
        eq(THETA_NEW, v.params, approx=_approx(v.params)),
    )
