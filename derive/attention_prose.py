"""The projection step Q = X W_Q (and K, V), narrated the same way by every attention-family topic.

Shared by the attention and multi-head topics, so that neither imports the other: a topic's values
hold X (or None when Q, K, V were given), the weight matrices under "W_Q"..., the tokens and the
focus token's index; keys and values come from ``memory`` (labelled ``key_tokens``) when a topic's
values hold one (cross-attention).
"""

from __future__ import annotations

from derive.blocks import eq, prose, unevaluated_dot, user
from derive.notation import indexed, matrix_name, written_product

X, MEMORY = matrix_name("X"), matrix_name("M")
PROJECTION = {
    "Q": (matrix_name("W_Q"), "query", "what the token is looking for"),
    "K": (matrix_name("W_K"), "key", "what the token offers, to be matched against queries"),
    "V": (matrix_name("W_V"), "value", "what the token passes on to whoever attends to it"),
}
PLURAL = {"query": "queries", "key": "keys", "value": "values"}


def _busiest_column(row, matrix) -> int:
    """The column whose dot product with ``row`` has the most nonzero terms: the most telling example."""
    return max(range(matrix.cols), key=lambda c: (sum(a * b != 0 for a, b in zip(row, matrix.col(c))), -c))


def explain_projection(name: str):
    """The explain function of the stage that computes ``name`` (Q, K or V)."""
    weight, role, meaning = PROJECTION[name]

    def explain(v) -> tuple:
        value, symbol = v[name], matrix_name(name)
        if v.X is None:
            return (
                prose(
                    f"The {PLURAL[role]} are given, one row per token: row i is the {role} of token i, {meaning}."
                ),
                eq(symbol, value),
            )
        key = str(weight)
        if name != "Q" and v.get("memory") is not None:
            source, source_name, what, f, tokens = v.memory, MEMORY, "memory row", 0, v.key_tokens
        else:
            source, source_name, what, f, tokens = v.X, X, "embedding", v.focus_index, v.tokens
        c = _busiest_column(source.row(f), v[key])
        return (
            prose(
                f"Each token's {role} ({meaning}) is its {what} times {{w}}: row i of {{m}} is row i "
                f"of {{s}} times {{w}}. Entry (i, j) is row i of {{s}} dotted with column j of {{w}}.",
                w=weight,
                m=symbol,
                s=source_name,
            ),
            eq(symbol, source_name * weight, *written_product(source, v[key]), value),
            prose("For example, for {tok} (row {i}):", tok=user(tokens[f]), i=f + 1),
            eq(indexed(name, f + 1, c + 1), unevaluated_dot(source.row(f), v[key].col(c)), value[f, c]),
        )

    return explain
