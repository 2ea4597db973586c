"""Shared notation for the explanations: matrix names, transposes, per-head names, token listings.

Wording helpers that several topics use, so that no topic imports another. Names are SymPy
symbols (never hand-written LaTeX); user text goes through ``blocks.user`` so every format escapes it.
"""

from __future__ import annotations

import sympy as sp

from derive.blocks import user

WIDE = 6  # the widest matrix written out as a factor of a product


def matrix_name(name: str) -> sp.Symbol:
    """Noncommutative, so that products such as Q Kᵀ keep their order when printed."""
    return sp.Symbol(name, commutative=False)


def transposed(name) -> sp.Expr:
    """Kᵀ, printed as a power T."""
    return name ** sp.Symbol("T")


def indexed(name: str, *indices: int) -> sp.Symbol:
    """``S_12`` for small indices, ``S_1,12`` once an index has two digits."""
    joiner = "" if all(i < 10 for i in indices) else ","
    return sp.Symbol(f"{name}_{joiner.join(str(i) for i in indices)}")


def listing(labels, start: int = 0) -> tuple[str, dict]:
    """A prose template ``{t0}, {t1} and {t2}`` with each label as escaped user text."""
    names = [f"t{start + i}" for i in range(len(labels))]
    fields = {n: user(label) for n, label in zip(names, labels)}
    slots = ["{" + n + "}" for n in names]
    text = slots[0] if len(slots) == 1 else ", ".join(slots[:-1]) + " and " + slots[-1]
    return text, fields


def written_product(*matrices) -> tuple:
    """The product written out with its matrices, or nothing when they are too wide to fit a page."""
    if max(max(mx.shape) for mx in matrices) > WIDE:
        return ()
    return (sp.MatMul(*[sp.ImmutableMatrix(mx) for mx in matrices], evaluate=False),)


# --- heads ------------------------------------------------------------------------------------------


def per_head(name: str, i) -> sp.Symbol:
    """Q⁽ⁱ⁾: head i's part of a matrix (a superscript, so Q₁ still reads as row 1)."""
    return matrix_name(f"{name}^({i})")


def weight_slice(weight: sp.Symbol, i) -> sp.Expr:
    """W_Q⁽ⁱ⁾: a superscript on a subscripted name prints only as a power."""
    return sp.Pow(weight, sp.Symbol(f"({i})"), evaluate=False)


def head_out(i) -> sp.Symbol:
    """head_i, the output of head i."""
    return sp.Symbol(f"head_{i}")


def concat(heads: int) -> sp.Expr:
    """Concat(head_1, …, head_h)."""
    return sp.Function("Concat")(*[head_out(i) for i in range(1, heads + 1)])
