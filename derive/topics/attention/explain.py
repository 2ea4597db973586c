"""The explanations of the attention topic: what each stage shows a student, and the focus narration.

Small matrices are shown entry by entry; beyond ``SMALL`` tokens only the focus token's row is
expanded and the exact weights and outputs are shown as decimals, and matrix products are written
out with their factors only up to ``notation.WIDE`` rows and columns, to keep the page readable.
The projection steps are narrated by ``derive.attention_prose``, shared with multi-head attention.
"""

from __future__ import annotations

import sympy as sp

from derive.attention_prose import explain_projection as explain_projection
from derive.blocks import (
    eq,
    heatmap,
    needs_approx,
    percent,
    prose,
    rounded,
    same,
    table,
    unevaluated_dot,
    unevaluated_sum,
    user,
)
from derive.forms import softmax_entries
from derive.notation import indexed, listing, matrix_name, transposed, written_product

SMALL = 4
X, W_Q, W_K, W_V = (matrix_name(n) for n in ("X", "W_Q", "W_K", "W_V"))
Q, K, V, A, OUT, M = (matrix_name(n) for n in ("Q", "K", "V", "A", "O", "M"))
S = sp.Symbol("S")
d_k = sp.Symbol("d_k")
j, m = sp.symbols("j m", integer=True, positive=True)


UNSCALED_SOURCES = (
    "Luong et al.'s (2015) dot-product attention and the simplified self-attention that some textbooks "
    "teach before the scaled one (the weight-free self-attention of Raschka's “Build a Large Language Model "
    "(From Scratch)”)"
)


def _scaled_symbol(v) -> sp.Expr:
    return S if v.unscaled else S / sp.sqrt(d_k)


def scaled_title(v) -> str:
    if v.unscaled:
        return "No scaling (--scale none): the raw scores go to the softmax"
    return "Scale by the square root of the key width"


def _small(v) -> bool:
    return max(v.n, v.n_keys) <= SMALL


def _shown_rows(v) -> list[int]:
    return list(range(v.n)) if _small(v) else [v.focus_index]


def _visible(v, i: int) -> int:
    """How many keys query i sees: all, or under the causal mask those up to its own position."""
    return v.n_keys - v.n + i + 1 if v.causal else v.n_keys


def _own_key(v, i: int) -> int | None:
    """The key index of query i's own token, when the queries are among the keys."""
    return None if v.own_key_offset is None else i + v.own_key_offset


def _tokens_and_inputs(values) -> list:
    labels, n, n_keys = values["tokens"], values["n"], values["n_keys"]
    names, fields = listing(labels)
    if values["self_attention"]:
        blocks = [prose(f"The {n} tokens, one per row, are {names}.", **fields)]
    else:
        keys, key_fields = listing(values["key_tokens"], start=len(labels))
        blocks = [
            prose(
                f"The {n} query tokens are {names}; the {n_keys} key and value rows belong to {keys}.",
                **fields,
                **key_fields,
            )
        ]
    if values["X"] is None:
        blocks.append(prose("The queries, keys and values are given directly, one row per token:"))
        blocks += [eq(name, values[key]) for name, key in ((Q, "Q_given"), (K, "K_given"), (V, "V_given"))]
        blocks.append(
            prose(
                "So {dk}: every query and key has {n} entries.", dk=same(d_k, values["d_k"]), n=values["d_k"]
            )
        )
        return blocks
    memory = values["memory"]
    if memory is None:
        blocks.append(prose("Their embeddings (the rows of X) and the three projection matrices are given:"))
        given = ((X, values["X"]),)
    else:
        blocks.append(
            prose(
                "This is cross-attention, as in the decoder of “Attention Is All You Need”: the queries come "
                "from X, the keys and values from the memory M (for instance the encoder's output), so "
                "{q}, {k} and {v}. X, M and the projection matrices are given:",
                q=same(Q, X * W_Q),
                k=same(K, M * W_K),
                v=same(V, M * W_V),
            )
        )
        given = ((X, values["X"]), (M, memory))
    blocks += [eq(name, value) for name, value in given]
    blocks += [eq(name, values[key]) for name, key in ((W_Q, "W_Q"), (W_K, "W_K"), (W_V, "W_V"))]
    blocks.append(
        prose(
            "So {dm} and {dk}: every query and key has {n} entries.",
            dm=same(sp.Symbol("d_model"), values["X"].cols),
            dk=same(d_k, values["d_k"]),
            n=values["d_k"],
        )
    )
    return blocks


def _mask_text(values):
    n, n_keys = values["n"], values["n_keys"]
    if values["causal"] and n_keys == n:
        return prose(
            "With the causal mask, each token may attend only to itself and to earlier "
            "tokens, as in a decoder that writes text left to right."
        )
    if values["causal"]:
        return prose(
            f"With the causal mask and {n_keys} keys for {n} queries, the queries are the last {n} "
            "positions (as when the earlier keys are cached): query i sits at key position "
            f"{n_keys - n} + i and attends to the keys up to it. This is the bottom-right alignment of "
            "FlashAttention and PyTorch's causal_lower_right; PyTorch's is_causal=True aligns the mask "
            "top-left instead (query i sees keys 1 to i)."
        )
    if values["self_attention"]:
        return prose("There is no mask: every token may attend to every token, itself included.")
    return prose("There is no mask: every query may attend to every key.")


def intro(values) -> tuple:
    labels = values["tokens"]
    blocks = [
        prose(
            "Attention lets every token build a new vector from the whole sequence. Its query is "
            "compared with every token's key, the scores become weights through a softmax, and the "
            "token's output is the weighted average of the value vectors. The conventions are those "
            "of “Attention Is All You Need”: tokens are rows, so X has one row per token and "
            "{q}, and the softmax runs along each row.",
            q=same(Q, X * W_Q),
        ),
        eq(
            sp.Function("Attention")(Q, K, V),
            sp.Function("softmax")(Q * transposed(K) / (1 if values["unscaled"] else sp.sqrt(d_k))) * V,
        ),
        _convention(values),
        *_tokens_and_inputs(values),
        _mask_text(values),
        prose(
            "At the end we follow {tok} (token {i}) in detail.",
            tok=user(labels[values["focus_index"]]),
            i=values["focus_index"] + 1,
        ),
    ]
    return tuple(blocks)


def _convention(values):
    if values["unscaled"]:
        return prose(
            "Convention (--scale none): the scores are not divided by {r}, as in " + UNSCALED_SOURCES + ". "
            "The default, --scale sqrt-dk, divides by {r} as the paper does.",
            r=sp.sqrt(d_k),
        )
    return prose(
        "Convention (--scale sqrt-dk, the default): the scores are divided by {r}, as in the paper and "
        "PyTorch's scaled_dot_product_attention; --scale none gives the unscaled dot-product attention "
        "of Luong et al. and of simplified textbook versions.",
        r=sp.sqrt(d_k),
    )


def explain_scores(v) -> tuple:
    f = v.focus_index
    blocks = [
        prose(
            "Score {s} measures how well the query of token i matches the key of token j: it is the dot "
            "product {qk}. All the scores at once are one matrix product, with one row per query token "
            "and one column per key token:",
            s=sp.Symbol("S_ij"),
            qk=sp.Mul(sp.Symbol("q_i"), sp.Symbol("k_j"), evaluate=False),
        ),
        eq(S, Q * transposed(K), *written_product(v.Q, v.K.T), v.scores),
    ]
    rows = _shown_rows(v)
    if len(rows) == 1:
        blocks.append(prose("The row of {tok}, entry by entry:", tok=user(v.tokens[f])))
    else:
        blocks.append(prose("Entry by entry:"))
    cells = []
    for i in rows:
        for col in range(v.n_keys):
            entry = same(
                indexed("S", i + 1, col + 1),
                sp.Mul(indexed("q", i + 1), indexed("k", col + 1), evaluate=False),
            )
            cells.append(
                (
                    entry,
                    user(v.tokens[i]),
                    user(v.key_tokens[col]),
                    unevaluated_dot(v.Q.row(i), v.K.row(col)),
                    v.scores[i, col],
                )
            )
    blocks.append(table(("entry", "query", "key", "dot product", "score"), cells))
    return tuple(blocks)


def _explain_unscaled(v) -> tuple:
    blocks = [
        prose(
            "Under --scale none the softmax takes the raw scores as they are: the answer “scaled” is {s} "
            "itself. This is the convention of " + UNSCALED_SOURCES + ". The paper divides by "
            "{r} (here {rv}) because otherwise a large {dk} gives large scores, the softmax saturates, "
            "and the gradients through the other tokens vanish.",
            r=sp.sqrt(d_k),
            rv=same(sp.sqrt(d_k), sp.sqrt(v.d_k)),
            dk=d_k,
            s=S,
        ),
        eq(S, v.scaled),
    ]
    if v.causal:
        blocks.append(prose("These scores stay finite; the causal mask is applied in the next step."))
    return tuple(blocks)


def explain_scaled(v) -> tuple:
    if v.unscaled:
        return _explain_unscaled(v)
    root = sp.sqrt(v.d_k)
    blocks = [
        prose(
            "Divide every score by {r}. Why: if the entries of a query and a key were independent with "
            "mean 0 and variance 1, their dot product, a sum of {dk} such products, would have variance "
            "{dk}. Dividing by {r} brings the variance back to 1. Without it, a large {dk} gives large "
            "scores, and the softmax saturates: nearly all the weight goes to one token and the "
            "gradients through the others vanish.",
            r=sp.sqrt(d_k),
            dk=d_k,
        ),
        prose("Here {dk}, so {r}.", dk=same(d_k, v.d_k), r=same(sp.sqrt(d_k), root)),
        eq(
            _scaled_symbol(v),
            sp.Mul(S, sp.Pow(root, -1, evaluate=False), evaluate=False),
            v.scaled,
            approx=v.scaled if needs_approx(v.scaled) else None,
        ),
    ]
    if v.causal:
        blocks.append(prose("These scaled scores stay finite; the causal mask is applied in the next step."))
    return tuple(blocks)


def _mask_matrix(n: int, n_keys: int) -> sp.Matrix:
    return sp.Matrix(n, n_keys, lambda r, c: -sp.oo if c > n_keys - n + r else 0)


def _softmax_row_shown(z_row, visible: int) -> sp.Matrix:
    """The softmax of one row with the numbers substituted and nothing evaluated; 0 where masked."""
    return sp.Matrix([softmax_entries(list(z_row)[:visible]) + [sp.Integer(0)] * (len(z_row) - visible)])


def explain_weights(v) -> tuple:
    root = 1 if v.unscaled else sp.sqrt(d_k)
    blocks = [
        prose(
            "Softmax turns each row of "
            + ("scores" if v.unscaled else "scaled scores")
            + " into weights that are positive and sum to 1:"
        ),
        eq(
            sp.Symbol("a_ij"),
            sp.exp(sp.Symbol("S_ij") / root) / sp.Sum(sp.exp(sp.Symbol("S_im") / root), (m, 1, v.n_keys)),
        ),
    ]
    if v.causal:
        masked = v.scaled + _mask_matrix(v.n, v.n_keys)
        blocks += [
            prose(
                (
                    "The causal mask: token i may not look at any later token j > i."
                    if v.n == v.n_keys
                    else f"The causal mask: query i may not look at any key j > {v.n_keys - v.n} + i."
                )
                + " The mask M adds {inf} to "
                "those "
                + ("" if v.unscaled else "scaled ")
                + "scores before the softmax, and since the exponential of {inf} is 0, they get "
                "weight exactly 0:",
                inf=-sp.oo,
            ),
            eq(M, _mask_matrix(v.n, v.n_keys)),
            eq(unevaluated_sum([_scaled_symbol(v), sp.Symbol("M")]), masked),
        ]
    blocks.append(
        prose(
            "Row by row, with the numbers substituted:"
            if _small(v)
            else "The row of {tok}, with the numbers substituted:",
            tok=user(v.tokens[v.focus_index]),
        )
    )
    for i in _shown_rows(v):
        visible = _visible(v, i)
        row = v.weights.row(i)
        blocks.append(prose("Row {i}, {tok}:", i=i + 1, tok=user(v.tokens[i])))
        blocks.append(
            eq(
                indexed("a", i + 1),
                _softmax_row_shown(v.scaled.row(i), visible),
                row,
                approx=row if needs_approx(row) else None,
            )
        )
    blocks.append(prose("All the weights, one row per query token:"))
    blocks.append(eq(A, approx=v.weights) if needs_approx(v.weights) else eq(A, v.weights))
    blocks.append(prose("Each row sums to 1: row i says how token i splits its attention over the tokens."))
    if not _symbolic(v):
        blocks.append(
            heatmap(
                "attention-weights", "Attention weights", v.weights, v.tokens, v.key_tokens, "key", "query"
            )
        )
    return tuple(blocks)


def _symbolic(v) -> bool:
    """Letters among the inputs: weights are formulas, so no percentages, ranking or heatmap."""
    return bool(v.weights.free_symbols)


def explain_output(v) -> tuple:
    blocks = [
        prose(
            "Each token's output is the average of the value rows, weighted by its row of attention weights:"
        ),
        eq(sp.Symbol("o_i"), sp.Sum(sp.Symbol("a_ij") * sp.Symbol("v_j"), (j, 1, v.n_keys))),
        prose("All rows at once:"),
    ]
    approx = v.output if needs_approx(v.output) else None
    if _small(v):
        blocks.append(eq(OUT, A * V, v.output, approx=approx))
    else:
        blocks.append(eq(OUT, A * V, approx=v.output))
    return tuple(blocks)


def _ranking(v, f) -> tuple[str, dict, list]:
    """``{t0} (66.5%), then {t1} (24.5%) and {t2} (9.0%)``, tied weights named together."""
    visible = range(_visible(v, f))
    order = sorted(visible, key=lambda c: (-sp.N(v.weights[f, c], 30), c))
    groups: list[list[int]] = []
    for c in order:
        if groups and abs(sp.N(v.weights[f, c] - v.weights[f, groups[-1][0]], 30)) < 1e-12:
            groups[-1].append(c)
        else:
            groups.append([c])
    parts, fields = [], {}
    for g, group in enumerate(groups):
        named = [("itself", {}) if c == _own_key(v, f) else _who(v, c, f"k{c}") for c in group]
        for _, field in named:
            fields.update(field)
        slots = [slot for slot, _ in named]
        together = slots[0] if len(slots) == 1 else ", ".join(slots[:-1]) + " and " + slots[-1]
        each = " each" if len(group) > 1 else ""
        parts.append(f"{together} ({{share{g}}}%{each})")
        fields[f"share{g}"] = percent(v.weights[f, group[0]])
    rest = parts[1:]
    if len(rest) > 1:
        rest = [", ".join(rest[:-1]) + " and " + rest[-1]]
    text = ", then ".join(parts[:1] + rest)
    return text, fields, groups


def _who(v, c: int, name: str) -> tuple[str, dict]:
    """A prose slot naming token ``c``, with its position when its label occurs more than once."""
    label = v.key_tokens[c]
    suffix = f" (token {c + 1})" if v.key_tokens.count(label) > 1 else ""
    return "{" + name + "}" + suffix, {name: user(label)}


def _distance(a, b) -> sp.Expr:
    return sp.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def explain_focus(v) -> tuple:
    f, tok = v.focus_index, user(v.tokens[v.focus_index])
    own, visible = _own_key(v, f), _visible(v, f)
    if _symbolic(v):
        return _explain_focus_symbolic(v, f, tok, own)
    ranking, fields, groups = _ranking(v, f)
    top = groups[0]
    blocks = [
        prose(
            "How much does {tok} attend to each token? Row {i} of the weights answers it: each weight "
            "is the share of its attention that goes to one token, and the shares sum to 100%.",
            tok=tok,
            i=f + 1,
        )
    ]
    rows = []
    for c in range(v.n_keys):
        shown = v.scaled[f, c] if c < visible else "masked"
        rows.append((c + 1, user(v.key_tokens[c]), shown, percent(v.weights[f, c])))
    header = "score" if v.unscaled else "scaled score"
    blocks.append(table(("j", "key token", header, "weight (%)"), rows))
    if visible == 1:
        blocks.append(
            prose(
                "{tok} is the first token, so under the causal mask it can only attend to itself: "
                "its output is its own value row.",
                tok=tok,
            )
        )
    else:
        blocks.append(prose("{tok} attends most to " + ranking + ".", tok=tok, **fields))
        weights = [float(sp.N(v.weights[f, c], 30)) for c in range(visible)]
        if max(weights) - min(weights) < 0.02:
            blocks.append(
                prose(
                    "The weights are almost equal, so its output is close to the plain average "
                    "of the value rows it can see."
                )
            )
        elif len(top) == 1 and top[0] != own:
            other, other_field = _who(v, top[0], "other")
            blocks.append(
                prose(
                    f"So how much does {{tok}} attend to {other}? {{share}}% of its attention, the largest "
                    f"share: the value row of {other} makes up {{share}}% of the mix that is its output.",
                    tok=tok,
                    share=percent(v.weights[f, top[0]]),
                    **other_field,
                )
            )
        if v.causal and visible < v.n_keys:
            later, later_fields = listing(v.key_tokens[visible:], start=visible)
            blocks.append(prose(f"Under the causal mask it cannot see {later}: weight 0.", **later_fields))
    blocks += _output_row(v, f, tok, top if visible > 1 else [], own)
    return tuple(blocks)


def _explain_focus_symbolic(v, f, tok, own) -> tuple:
    """The focus row in general terms: which token wins depends on the values of the letters."""
    visible = _visible(v, f)
    header = "score" if v.unscaled else "scaled score"
    rows = [
        (c + 1, user(v.key_tokens[c]), v.scaled[f, c] if c < visible else "masked") for c in range(v.n_keys)
    ]
    blocks = [
        prose(
            "How much does {tok} attend to each token? Row {i} of the weights answers it: each weight "
            "is the share of its attention that goes to one token, and the shares sum to 1.",
            tok=tok,
            i=f + 1,
        ),
        table(("j", "key token", header), rows),
        prose(
            "Its weights are row {i} of A above. With letters for the entries, which token gets the largest share depends on their values: "
            "it is the token whose " + header + " is largest, since the exponential keeps the order.",
            i=f + 1,
        ),
    ]
    return tuple(blocks + _output_row(v, f, tok, [], own))


def _output_row(v, f, tok, top, own) -> list:
    terms = [sp.Mul(indexed("a", f + 1, c + 1), indexed("v", c + 1), evaluate=False) for c in range(v.n_keys)]
    parts = [indexed("o", f + 1), unevaluated_sum(terms)]
    if _small(v):
        seen = [c for c in range(v.n_keys) if v.weights[f, c] != 0]
        terms = [sp.MatMul(v.weights[f, c], sp.ImmutableMatrix(v.V.row(c)), evaluate=False) for c in seen]
        parts.append(sp.MatAdd(*terms, evaluate=False))
    row = v.output.row(f)
    parts.append(row)
    blocks = [
        prose("Its output row is the weighted sum of the value rows:"),
        eq(*parts, approx=row if needs_approx(row) else None),
    ]
    if own is not None and len(top) == 1 and top[0] != own:
        c = top[0]
        before, after = _distance(v.V.row(own), v.V.row(c)), _distance(row, v.V.row(c))
        if sp.N(after - before, 30) < 0:
            other, other_field = _who(v, c, "other")
            blocks.append(
                prose(
                    "Compared with its own value row {vf}, the output of {tok} has moved toward the value row "
                    f"of {other}, {{vc}}: the distance to it shrank from {{before}} to {{after}}.",
                    vf=same(indexed("v", own + 1), v.V.row(own)),
                    tok=tok,
                    **other_field,
                    vc=same(indexed("v", c + 1), v.V.row(c)),
                    before=rounded(before),
                    after=rounded(after),
                )
            )
    elif own is not None and top == [own]:
        blocks.append(
            prose(
                "{tok} gives its largest share to itself, so its own value row weighs most in its output.",
                tok=tok,
            )
        )
    return blocks
