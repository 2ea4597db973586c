"""``derive practice TOPIC``: one fresh hand-sized problem at the terminal, each answer checked at once.

The problem comes from the worksheet variant generators (so it is never degenerate), and every
answer goes through ``derive.check`` with the student's own earlier answers, so follow-through,
misconceptions and hints are exactly those of ``derive check``. The expected value is never
shown unless the student types ``?``, which prints that step of the worked solution.
"""

from __future__ import annotations

import secrets
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import click

from derive.errors import InputError
from derive.visible import one_line

SHOW, QUIT = "?", "q"
FIRST_TRY_CREDIT = ("correct", "follows-through")
_MARK = {"correct": "✔", "follows-through": "↪", "imprecise": "≈"}
_COLOUR = {"✔": "green", "↪": "yellow", "≈": "yellow", "✘": "red", "?": "cyan", "·": None}


@dataclass
class Attempt:
    """What happened at one step: the first verdict counts; later tries only say whether it was fixed."""

    id: str
    first: str | None = None
    mistake: str | None = None
    solved_on: int | None = None
    tries: int = 0
    shown: bool = False
    answer: str | None = None  # the last answer checked, right or wrong: later checks follow through from it

    @property
    def credit(self) -> bool:
        return not self.shown and self.first in FIRST_TRY_CREDIT


@dataclass
class Problem:
    topic: object
    given: dict
    task: str
    derivation: object
    asked: tuple[str, ...]
    attempts: list[Attempt] = field(default_factory=list)


def topics() -> list[str]:
    from derive.worksheet import variants

    return variants.topics()


def draw(name: str, level: int | None, seed: int, decimals: int) -> Problem:
    """A variant that passes the worksheet screen at these decimals, and its worked solution."""
    from derive import registry
    from derive.api import prepare
    from derive.model import run
    from derive.worksheet import variants

    offered = topics()
    if name not in offered:
        known = "unknown topic" if name not in registry.names() else "no practice problems for"
        raise InputError(
            "TOPIC", f"{known} {name[:40]!r}; topics with practice problems: {', '.join(offered)}"
        )
    levels = variants.levels(name)
    level = levels[0] if level is None else level
    if level not in levels:
        raise InputError("--level", f"{name} has levels {', '.join(map(str, levels))}")
    topic = variants.topic_named(name)
    variant = variants.generate(name, level, variants.rng_for("practice", seed, name, level), decimals)
    givens = prepare(topic, variant.given)
    derivation = run(topic, givens)
    inputs = list(givens.values.values())
    asked = tuple(
        step.name
        for step in derivation.steps
        if step.answer
        and not any(_same(step.value, v) for v in inputs)
        and not variants.refusal(name, step.name, level)
    )
    listed = variants.glossary(name, variant.key)  # what the sheet lists beside the inputs
    task = variants.task(name, variant.given) + "".join(
        f"\n{term} → {meaning}" if i == 0 else f",  {term} → {meaning}"
        for i, (term, meaning) in enumerate(listed)
    )
    return Problem(topic, dict(variant.given), task, derivation, asked)


def _same(value, given) -> bool:
    """A stage that only restates an input (Q given directly) asks for no work."""
    import sympy as sp

    if isinstance(value, sp.MatrixBase) and isinstance(given, sp.MatrixBase):
        return value.shape == given.shape and value == given
    return False


def run(problem: Problem, decimals: int, read: Callable[[str], str], write: Callable[[str], None]) -> None:
    """Ask every step in turn until the end, ``q`` or the end of input; then write the summary."""
    try:
        for number, answer_id in enumerate(problem.asked, 1):
            attempt = Attempt(answer_id)
            problem.attempts.append(attempt)
            _step(problem, attempt, number, decimals, read, write)
    except _Quit:
        pass
    write(summary(problem))


class _Quit(Exception):
    pass


def _step(problem, attempt: Attempt, number: int, decimals: int, read, write) -> None:
    from derive.worksheet.answers import shape_note

    step = next(s for s in problem.derivation.steps if s.name == attempt.id)
    width = _renderer(decimals).settings["width"]
    heading = f"Step {number} of {len(problem.asked)}: {step.title} ({attempt.id})"
    write(
        "\n"
        + textwrap.fill(heading, width)
        + "\n"
        + textwrap.fill(f"Answer with {shape_note(step.value)}.", width)
    )
    prompt = f"{attempt.id}> "
    while True:
        text = _read(read, prompt).strip()
        if text.lower() == QUIT:
            raise _Quit
        if text == SHOW:
            attempt.shown = True
            write(worked(problem, step, decimals))
            prompt = f"{attempt.id} (type it to go on, or Enter to skip)> "
            continue
        if not text:
            if attempt.shown or attempt.tries:
                return
            write("Type your answer, ? to see this step worked, or q to quit.")
            continue
        item, problem_with_text = _check(problem, attempt, text, decimals)
        if item is None:
            write(
                textwrap.fill(
                    f"Could not read that: {one_line(problem_with_text)}", width, subsequent_indent="    "
                )
            )
            continue
        attempt.tries += 1
        attempt.answer = text
        if attempt.first is None:
            attempt.first, attempt.mistake = item.verdict, item.mistake
        write(verdict_text(item, width))
        if item.verdict in FIRST_TRY_CREDIT:
            attempt.solved_on = attempt.solved_on or attempt.tries
            return
        prompt = f"{attempt.id} (try again, ? for the worked step, Enter to go on)> "


def _read(read, prompt: str) -> str:
    try:
        return read(prompt)
    except (EOFError, OSError, KeyboardInterrupt):
        raise _Quit from None


def _check(problem: Problem, attempt: Attempt, text: str, decimals: int):
    """The grader's verdict on this answer, given the student's own earlier answers (or why it is unreadable)."""
    from derive import check

    earlier = [f"{a.id}={a.answer}" for a in problem.attempts if a is not attempt and a.answer is not None]
    try:
        report = check.check(
            problem.topic, problem.given, [*earlier, f"{attempt.id}={text}"], decimals=decimals
        )
    except InputError as error:
        return None, error.message
    return report.item(attempt.id), None


def verdict_text(item, width: int = 80) -> str:
    """The verdict, the wrong entries' places, the misconception and its hint; never the expected value."""
    mark = _MARK.get(item.verdict, "✘")
    lines = [f"{mark} {item.verdict.replace('-', ' ')}"]
    if item.shape_note:
        lines.append(f"  {item.shape_note}")
    wrong = item.wrong_entries
    if item.verdict not in FIRST_TRY_CREDIT and wrong and len(item.entries) > 1:
        places = ", ".join(f"({r}, {c})" for r, c in wrong[:8]) + (" …" if len(wrong) > 8 else "")
        lines.append(f"  {len(wrong)} of {len(item.entries)} entries are off: {places}")
    if item.mistake:
        lines.append(f"  This is the misconception '{item.mistake}'.")
    if item.hint:
        lines.append(f"  Hint: {item.hint}")
    if item.verdict == "follows-through":
        lines.append("  Right, given your own earlier answers: the earlier error is counted once.")
    wrapped = [textwrap.fill(line, width, subsequent_indent="    ") for line in lines]
    return "\n".join(_styled(line, mark if i == 0 else "·") for i, line in enumerate(wrapped))


def _renderer(decimals: int):
    from derive import render
    from derive.render.terminal import WIDTH, columns

    return render.get("terminal")(color=False, precision=max(4, decimals + 2), width=min(columns(), WIDTH))


def introduction(problem: Problem, decimals: int) -> str:
    """The derivation's own opening (the inputs, the conventions), as the terminal prints it."""
    return "\n\n".join(_renderer(decimals).blocks(problem.derivation.intro))


def worked(problem: Problem, step, decimals: int) -> str:
    """That step of the worked solution, as ``derive TOPIC`` prints it in the terminal."""
    heading = f"Worked: {step.title}"
    return "\n\n".join([f"{heading}\n{'─' * len(heading)}", *_renderer(decimals).blocks(step.blocks)])


def summary(problem: Problem) -> str:
    lines = ["", "Summary", "───────"]
    width = max((len(a) for a in problem.asked), default=0)
    for answer_id in problem.asked:
        attempt = next((a for a in problem.attempts if a.id == answer_id), None)
        mark, words = _outcome(attempt)
        lines.append(_styled(f"{mark} {answer_id:<{width}}  {words}", mark))
    score = sum(a.credit for a in problem.attempts)
    lines.append(f"Score: {score} of {len(problem.asked)} answers right at the first try.")
    return "\n".join(lines)


def _outcome(attempt: Attempt | None) -> tuple[str, str]:
    if attempt is None or (attempt.first is None and not attempt.shown):
        return "·", "not answered"
    if attempt.shown:
        return "?", "worked step shown" + (" (then answered)" if attempt.solved_on else "")
    words = attempt.first.replace("-", " ") + (f" ({attempt.mistake})" if attempt.mistake else "")
    if attempt.first in FIRST_TRY_CREDIT:
        return _MARK[attempt.first], words
    later = f", right on try {attempt.solved_on}" if attempt.solved_on else ""
    return _MARK.get(attempt.first, "✘"), words + later


def _styled(line: str, mark: str) -> str:
    from derive.render.terminal import wants_color

    colour = _COLOUR.get(mark)
    return click.style(line, fg=colour) if colour and wants_color() else line


@click.command("practice")
@click.argument("topic", metavar="TOPIC")
@click.option("--level", type=int, default=None, help="1 by hand, 2 harder, 3 calculator work [default: 1]")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="the same problem again")
@click.option(
    "--decimals", type=click.IntRange(0, 6), default=2, show_default=True, help="precision asked for"
)
def practice(topic, level, seed, decimals):
    """Practise a topic at the terminal: a fresh problem, each answer checked at once (? shows a step, q quits)."""
    seed = secrets.randbelow(10**6) if seed is None else seed
    problem = draw(topic, level, seed, decimals)
    title = f"Practice: {problem.derivation.title} (seed {seed}; --seed {seed} gives this problem again)"
    width = _renderer(decimals).settings["width"]
    click.echo(f"{textwrap.fill(title, width)}\n{'═' * min(len(title), width)}\n")
    click.echo("\n".join(textwrap.fill(line, width) for line in problem.task.splitlines()) + "\n")
    click.echo(introduction(problem, decimals))
    click.echo(f"\nGive each answer to {decimals} decimals. Type ? to see a step worked, q to quit.")
    run(problem, decimals, input, click.echo)
