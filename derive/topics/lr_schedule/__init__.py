"""The learning rate at a step: Noam (Attention Is All You Need §5.3), cosine or linear decay.

Steps count from 1 for noam (the paper's step_num; step 0 would divide by 0) and from 0 for cosine
and linear, as torch.optim.lr_scheduler counts them (the rate before the first scheduler step).
"""

from __future__ import annotations

from derive import inputs
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic, Values
from derive.topics.lr_schedule import explain, stages

SCHEDULES = ("noam", "cosine", "linear")
MAX_STEP = 10**7


def _steps(value, option):
    return inputs.integer(value, option, 0, MAX_STEP)


def _prepare(options) -> Givens:
    schedule, step, warmup, total = options["schedule"], options["step"], options["warmup"], options["total"]
    values = {"schedule": schedule, "step": step, "d_model": options["d_model"]}
    if schedule == "noam":
        warmup = 4000 if warmup is None else warmup
        if step < 1:
            raise InputError("--step", "noam counts steps from 1 (step^(-0.5) is undefined at 0)")
        if warmup < 1:
            raise InputError("--warmup", "noam needs at least 1 warmup step")
        values["warmup"] = warmup
        params = {"schedule": schedule, "step": step, "d_model": options["d_model"], "warmup": warmup}
    else:
        warmup = 0 if warmup is None else warmup
        if total is None:
            raise InputError("--total", f"is required for the {schedule} schedule: the step at which it ends")
        if warmup >= total:
            raise InputError(
                "--warmup", f"must be less than --total ({total}): the decay needs at least one step"
            )
        if step > total:
            raise InputError("--step", f"expected a step from 0 to --total ({total})")
        if options["lr_min"] > options["lr_max"]:
            raise InputError("--lr-min", "must not exceed --lr-max")
        values.update(warmup=warmup, total=total, lr_max=options["lr_max"], lr_min=options["lr_min"])
        params = {
            "schedule": schedule,
            "step": step,
            "total": total,
            "warmup": warmup,
            "lr_max": str(options["lr_max"]),
            "lr_min": str(options["lr_min"]),
        }
    return Givens(explain.NAMES[schedule], values, explain.intro(Values(values)), params)


def _sample(rng):
    schedule = str(rng.choice(SCHEDULES))
    if schedule == "noam":
        return {
            "schedule": schedule,
            "step": str(int(rng.integers(1, 9000))),
            "d_model": str(rng.choice([64, 512])),
            "warmup": str(rng.choice([100, 4000])),
        }
    total = int(rng.integers(10, 1000))
    return {
        "schedule": schedule,
        "total": str(total),
        "warmup": str(rng.choice([0, total // 10])),
        "step": str(int(rng.integers(0, total + 1))),
        "lr_max": str(rng.choice(["0.001", "3e-4", "1/10"])),
        "lr_min": str(rng.choice(["0", "1e-5"])),
    }


def _reference(options):
    """The same value in NumPy floats, written from the published formulas."""
    import numpy as np

    step, schedule = options["step"], options["schedule"]
    if schedule == "noam":
        warmup = options["warmup"] or 4000
        return {"lr": options["d_model"] ** -0.5 * np.minimum(step**-0.5, step * warmup**-1.5)}
    total, warmup = options["total"], options["warmup"] or 0
    hi, lo = float(options["lr_max"]), float(options["lr_min"])
    if step < warmup:
        return {"lr": hi * step / warmup}
    done = (step - warmup) / (total - warmup)
    shape = 0.5 * (1 + np.cos(np.pi * done)) if schedule == "cosine" else 1 - done
    return {"lr": lo + (hi - lo) * shape}


NUMBERS_ONLY = "the schedule is evaluated at a numbered step (a min or a branch on it) and drawn"

TOPIC = Topic(
    name="lr-schedule",
    summary="The learning rate at a step: Noam warmup (Attention Is All You Need), cosine or linear decay",
    options=(
        Option("schedule", "noam, cosine or linear", inputs.choice(*SCHEDULES), default="noam"),
        Option(
            "step",
            "the step: from 1 for noam, from 0 for cosine and linear",
            inputs.numbers_only(_steps, NUMBERS_ONLY),
            required=True,
        ),
        Option(
            "d_model",
            "noam: the model width",
            inputs.numbers_only(lambda v, o: inputs.integer(v, o, 1, 10**6), NUMBERS_ONLY),
            default="512",
        ),
        Option(
            "warmup",
            "warmup steps (noam: default 4000; cosine, linear: default 0)",
            inputs.numbers_only(_steps, NUMBERS_ONLY),
        ),
        Option(
            "total",
            "cosine, linear: the step at which the decay ends at --lr-min",
            inputs.numbers_only(lambda v, o: inputs.integer(v, o, 1, MAX_STEP), NUMBERS_ONLY),
        ),
        Option(
            "lr_max",
            "cosine, linear: the rate at the end of warmup",
            inputs.numbers_only(inputs.positive, NUMBERS_ONLY),
            default="0.001",
        ),
        Option(
            "lr_min",
            "cosine, linear: the rate at --total",
            inputs.numbers_only(inputs.non_negative, NUMBERS_ONLY),
            default="0",
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "lr",
            "The learning rate at this step",
            stages.learning_rate,
            explain.learning_rate,
            stages.LR_MISTAKES,
        ),
    ),
    result="lr",
    examples={
        "paper": {"schedule": "noam", "step": "4000"},
        "noam-decay": {"schedule": "noam", "step": "16000"},
        "cosine": {"schedule": "cosine", "step": "250", "total": "1000", "lr_max": "0.001", "lr_min": "1e-5"},
        "warmup": {"schedule": "linear", "step": "50", "total": "1000", "warmup": "100", "lr_max": "3e-4"},
    },
    example_notes={
        "paper": "Noam at d_model 512, warmup 4000: the peak, 1/√(512·4000) ≈ 6.9877e-4",
        "noam-decay": "Noam after warmup: the 1/√step decay",
        "cosine": "cosine decay a quarter of the way: (1 + cos(π/4))/2",
        "warmup": "linear schedule during its warmup: lr_max · step / warmup",
    },
    sample=_sample,
    reference=_reference,
)
