"""The cost topic's stages: one per answer id, computed column by column (one column per model)."""

from __future__ import annotations

from derive.costmodel import columns
from derive.costmodel.mistakes import MISTAKES
from derive.model import Stage
from derive.topics.cost import explain

STAGES = tuple(
    Stage(name, title, columns.compute(name), explain.step(name), MISTAKES.get(name, ()))
    for name, title in explain.TITLES
) + (Stage("summary", explain.SUMMARY, lambda v: v.parameters, explain.summary, answer=False),)
