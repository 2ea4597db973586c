"""A class's worksheets: for every student and problem, a seeded variant and its worked solution.

A variant depends only on the seed, the problem's place and kind, and the student's id, so a
student keeps their numbers when the roster grows; ids are visited in roster order and a variant
already handed out for the same problem is drawn again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from derive.model import Derivation, Givens, Step, Topic, Values
from derive.worksheet import variants
from derive.worksheet.spec import Problem, Spec, Student


@dataclass(frozen=True)
class Assignment:
    problem: Problem
    variant: variants.Variant
    derivation: Derivation


@dataclass(frozen=True)
class Sheet:
    student: Student
    sheet_id: str
    assignments: tuple[Assignment, ...]


def sheet_id(spec: Spec, student: Student) -> str:
    """Short and stable: the seed, the spec's content and the student, hashed."""
    text = json.dumps({"spec": spec.as_dict(), "student": student.id}, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8].upper()
    return f"{digest[:4]}-{digest[4:]}"


def worked(topic: Topic, givens: Givens, ask: tuple[str, ...], known: Values | None = None) -> Derivation:
    """As ``derive.model.run``, but explaining only the answer stages up to the last one asked:
    the key shows no others, and explanations cost more than the values. ``known`` holds the
    stage values when the screen has computed them already."""
    last = max(i for i, stage in enumerate(topic.stages) if stage.name in ask)
    values = Values(givens.values)
    steps = []
    for index, stage in enumerate(topic.stages):
        value = known[stage.name] if known is not None else stage.compute(values)
        values = values.updated(**{stage.name: value})
        if stage.optional and value is None:
            continue  # as in derive.model.run: a stage these inputs do not have (plain SGD's m)
        blocks = tuple(stage.explain(values)) if stage.answer and index <= last else ()
        steps.append(Step(stage.name, stage.titled(values), blocks, value, stage.answer))
    return Derivation(topic.name, givens.title, dict(givens.params), givens.intro, tuple(steps), topic.result)


def assignments(spec: Spec, index: int, students: tuple[Student, ...]) -> list[Assignment]:
    """Problem ``index`` for every student, in roster order (problems do not depend on each other)."""
    problem = spec.problems[index]
    topic = variants.topic_named(problem.topic)
    taken: set = set()
    made = []
    for student in students:
        rng = variants.rng_for(spec.seed, index, problem.topic, problem.level, student.id)
        variant = variants.generate(problem.topic, problem.level, rng, spec.decimals, taken, problem.ask)
        taken.add(variant.key)
        givens, known = variants.evaluated(problem.topic, variant.key)
        made.append(Assignment(problem, variant, worked(topic, givens, problem.ask, known)))
    return made


def build(spec: Spec, students: tuple[Student, ...]) -> tuple[Sheet, ...]:
    columns = [assignments(spec, index, students) for index in range(len(spec.problems))]
    return tuple(
        Sheet(student, sheet_id(spec, student), tuple(column[row] for column in columns))
        for row, student in enumerate(students)
    )
