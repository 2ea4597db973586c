"""The small table of function values a student needs: exactly the exponentials, sines, cosines,
arc cosines and square roots that occur in the exact answers they are asked to reach."""

from __future__ import annotations

import sympy as sp

from derive.model import Derivation

MAX_ROWS = 16
_FUNCTIONS = (sp.exp, sp.sin, sp.cos, sp.acos, sp.tanh, sp.erf)


def _atoms(value) -> set:
    entries = list(value) if isinstance(value, (sp.MatrixBase, list, tuple)) else [value]
    found = set()
    for entry in entries:
        if not isinstance(entry, sp.Basic):
            continue
        found |= entry.atoms(*_FUNCTIONS)
        if entry.has(sp.E):
            found.add(sp.exp(1, evaluate=False))
        for power in entry.atoms(sp.Pow):
            if abs(power.exp) == sp.S.Half and power.base.is_Rational:
                found.add(sp.sqrt(power.base, evaluate=False))
    return found


def _order(atom) -> tuple:
    kinds = {sp.exp: 0, sp.Pow: 1, sp.sin: 2, sp.cos: 3, sp.acos: 4, sp.tanh: 5, sp.erf: 6}
    return (kinds.get(atom.func, 9), float(atom.args[0]) if atom.args else 0.0, str(atom))


def values_needed(derivation: Derivation, ask: tuple[str, ...]) -> list:
    """The function values inside every answer up to the last asked one, sorted by kind and argument.

    Empty when the list would be longer than a small table (the work is then calculator work).
    """
    last = max(i for i, step in enumerate(derivation.steps) if step.name in ask)
    found = set()
    for step in derivation.steps[: last + 1]:
        if step.answer:
            found |= _atoms(step.value)
    rows = sorted(found, key=_order)
    return rows if len(rows) <= MAX_ROWS else []
