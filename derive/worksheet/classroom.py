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
        blocks = tuple(stage.explain(values)) if stage.answer and index <= last else ()
        steps.append(Step(stage.name, stage.titled(values), blocks, value, stage.answer))
    return Derivation(topic.name, givens.title, dict(givens.params), givens.intro, tuple(steps), topic.result)


def build(spec: Spec, students: tuple[Student, ...]) -> tuple[Sheet, ...]:
    taken: list[set] = [set() for _ in spec.problems]
    sheets = []
    for student in students:
        assignments = []
        for index, problem in enumerate(spec.problems):
            rng = variants.rng_for(spec.seed, index, problem.topic, problem.level, student.id)
            variant = variants.generate(
                problem.topic, problem.level, rng, spec.decimals, taken[index], problem.ask
            )
            taken[index].add(variant.key)
            topic = variants.topic_named(problem.topic)
            givens, known = variants.evaluated(problem.topic, variant.key)
            derivation = worked(topic, givens, problem.ask, known)
            assignments.append(Assignment(problem, variant, derivation))
        sheets.append(Sheet(student, sheet_id(spec, student), tuple(assignments)))
    return tuple(sheets)
