"""How the cost topic presents itself: the givens, each stage's blocks, and the summary table.

One model: the stage's sentence, then ``symbol = formula = numbers = value`` and a remark or table.
Several models: the formula once per architecture, then one line of numbers per model.
"""

from __future__ import annotations

import sympy as sp

from derive import printing
from derive.blocks import eq, prose, table, user
from derive.costmodel import checkpoint_count, formulas, notes, texts
from derive.costmodel.columns import numbers
from derive.costmodel.expr import names, to_sympy
from derive.model import Givens

S = sp.Symbol


def group(n) -> str:
    return f"{int(n):,}"


def human_bytes(n) -> str:
    n = int(n)
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def human_count(n) -> str:
    n = int(n)
    for unit, size in (("trillion", 10**12), ("billion", 10**9), ("million", 10**6), ("thousand", 10**3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return str(n)


def exact(n) -> sp.Rational:
    """A Fraction, int or SymPy number as a SymPy rational."""
    return (
        sp.Rational(n.numerator, n.denominator)
        if hasattr(n, "denominator") and not isinstance(n, sp.Basic)
        else sp.Rational(n)
    )


def scientific(n) -> sp.Float:
    return sp.Float(exact(n), 3)


# ---- givens -----------------------------------------------------------------------------------


def _size_rows(models):
    def row(symbol, meaning, get, show=lambda m: True):
        return (S(symbol), meaning, *(sp.Integer(get(m)) if show(m) else "-" for m in models))

    rows = [
        row(
            "n_layer",
            "layers" + (" per stack" if any(m.arch == "transformer" for m in models) else ""),
            lambda m: m.n_layer,
        ),
        row("d_model", "width", lambda m: m.d_model),
        row("n_heads", "attention heads", lambda m: m.n_heads),
        row("d_head", "width of one head", lambda m: m.d_head),
        row("n_kv", "key/value heads", lambda m: m.kv_heads),
        row("d_ff", "feed-forward width", lambda m: m.d_ff),
        row("n_vocab", "vocabulary", lambda m: m.n_vocab),
        row("n_ctx", "learned positions", lambda m: m.n_ctx, lambda m: m.arch != "transformer"),
    ]
    if any(m.n_types for m in models):
        rows.append(row("n_types", "segment types", lambda m: m.n_types, lambda m: m.arch == "bert"))
    rows += [
        row("s", "tokens per sequence", lambda m: m.seq),
        row("b", "sequences per batch", lambda m: m.b),
        (S("n_bytes"), "bytes per value", *(f"{m.n_bytes} ({m.dtype})" for m in models)),
        (S("D"), "training tokens", *(scientific(m.D) for m in models)),
    ]
    return rows


def givens(models, checkpoint) -> Givens:
    labels = [m.label for m in models]
    if len(models) == 1:
        m = models[0]
        template, fields = texts.describe(m)
        intro = [prose(template, label=m.label[0].upper() + m.label[1:], **fields)]
        if m.source:
            intro.append(
                prose(f"Sizes from {m.source}; s, b, the number format and D describe the workload:")
            )
        intro.append(table(("symbol", "meaning", "value"), _size_rows(models)))
        title = f"What {m.label} costs"
    else:
        intro = [
            prose(
                "Each step gives the formula in symbols once per architecture, then each model's "
                "numbers. Every answer is a row with one entry per model, in the order of this table ("
                + "; ".join(f"{m.key}: {m.label}" for m in models)
                + "):"
            ),
            table(("symbol", "meaning", *[m.key for m in models]), _size_rows(models)),
        ]
        title = "What " + ", ".join(labels[:-1]) + " and " + labels[-1] + " cost"
    params = {
        "presets": [m.key for m in models],
        "models": [
            {
                "label": m.label,
                "architecture": m.arch,
                "layers": m.n_layer,
                "d_model": m.d_model,
                "heads": m.n_heads,
                "d_head": m.d_head,
                "kv_heads": m.kv_heads,
                "d_ff": m.d_ff,
                "vocab": m.n_vocab,
                "context": m.n_ctx,
                "token_types": m.n_types,
                "pooler": m.pooler,
                "head": m.head,
                "tokens": m.seq,
                "batch": m.b,
                "dtype": m.dtype,
                "training_tokens": m.D,
            }
            for m in models
        ],
    }
    if checkpoint is not None:
        params["checkpoint"] = {
            "files": list(checkpoint.files),
            "parameters": checkpoint.parameters,
            "buffers": sorted(checkpoint.buffers),
        }
    return Givens(title, {"models": tuple(models), "checkpoint": checkpoint}, tuple(intro), params)


# ---- stages -----------------------------------------------------------------------------------


def _parts(name, m, nums, value):
    """``symbol = formula [= other form] = numbers = value``, without repeating an identical part."""
    formula = formulas.FORMULAS[name](m)
    shown = formulas.SUBSTITUTED.get(name, formulas.FORMULAS[name])(m)
    parts = [S(formulas.SYMBOLS[name]), to_sympy(formula)]
    if shown is not formula:
        parts.append(to_sympy(shown))
    parts += [to_sympy(shown, {k: int(v) if v.denominator == 1 else v for k, v in nums.items()}), value]
    kept = [parts[0]]
    for part in parts[1:]:
        if printing.plain(part) != printing.plain(kept[-1]):
            kept.append(part)
    return kept


def _equations(parts, approx) -> list:
    """One chain, or two when it would be too long for a line: the symbols, then the numbers."""
    if len(parts) <= 3 or sum(len(printing.plain(p)) for p in parts) <= 100:
        return [eq(*parts, approx=approx)]
    numeric = next(i for i, p in enumerate(parts) if i and not p.free_symbols)
    return [eq(*parts[:numeric]), eq(parts[0], *parts[numeric:], approx=approx)]


def _approx(value):
    if not value.is_Integer:
        return value
    return value if abs(value) >= 10**10 else None


def explainer(name: str):
    def explain(v):
        models = v.models
        if len(models) == 1:
            m, nums, value = models[0], numbers(v, 0), v[name]
            template, fields = texts.TEXTS[name](m)
            blocks = [prose(template, **fields), *_equations(_parts(name, m, nums, value), _approx(value))]
            extra = notes.EXTRAS.get(name)
            return tuple(blocks + (list(extra(v, m, nums, value)) if extra else []))
        return _compare(v, name)

    return explain


def _compare(v, name):
    blocks, seen = [], {}
    for i, m in enumerate(v.models):
        template, fields = texts.TEXTS[name](m)
        key = (template, printing.plain(to_sympy(formulas.FORMULAS[name](m))))
        seen.setdefault(key, []).append((i, m, fields))
    for (template, _), members in seen.items():
        if len(seen) > 1:
            blocks.append(prose(", ".join(m.label for _, m, _ in members) + ":"))
        blocks.append(prose(template, **members[0][2]))
        i, m, _ = members[0]
        symbolic = [p for p in _parts(name, m, numbers(v, i), v[name][i])[1:] if p.free_symbols]
        blocks.append(eq(S(formulas.SYMBOLS[name]), *(symbolic or [to_sympy(formulas.FORMULAS[name](m))])))
    rows = []
    for i, m in enumerate(v.models):
        if not names(formulas.FORMULAS[name](m)):
            continue  # a constant (no pooler, a tied head): the formula above already says it
        parts = _parts(name, m, numbers(v, i), v[name][i])
        rows.append((m.key, parts[-2] if len(parts) > 2 else "", parts[-1]))
    if rows:
        blocks.append(table(("model", "numbers", S(formulas.SYMBOLS[name])), rows))
    return tuple(blocks)


def summary(v):
    models = v.models
    col = (lambda name: [v[name]]) if len(models) == 1 else (lambda name: list(v[name]))
    rows = [("parameters", *[group(x) for x in col("parameters")])]
    if any(m.published for m in models):
        rows.append(("released checkpoint", *[group(m.published) if m.published else "-" for m in models]))
    if v.checkpoint is not None:
        rows.append(("counted in --model", group(v.checkpoint.parameters)))
    rows += [
        ("N (matrix parameters)", *[group(x) for x in col("matmul_parameters")]),
        ("forward FLOPs per token", *[scientific(x) for x in col("flops_per_token")]),
        ("attention share", *[f"{float(x):.1%}" for x in col("attention_share")]),
        ("training FLOPs 6ND", *[scientific(x) for x in col("training_flops")]),
        (
            f"weights ({'/'.join(sorted({m.dtype for m in models}))})",
            *[human_bytes(x) for x in col("weights_bytes")],
        ),
        ("optimizer state (16 bytes/param)", *[human_bytes(x) for x in col("training_state_bytes")]),
        ("activations", *[human_bytes(x) for x in col("activations")]),
        ("activations, recomputed", *[human_bytes(x) for x in col("activations_recompute")]),
        ("training memory", *[human_bytes(x) for x in col("training_bytes")]),
        ("KV cache", *[human_bytes(x) for x in col("kv_cache_bytes")]),
    ]
    header = ("", *[m.key for m in models]) if len(models) > 1 else ("", "value")
    workload = (
        "All memory figures use 1 MB = 1,000,000 bytes. Compute and memory are for the workload in the "
        "table at the top (tokens per sequence, batch, number format, training tokens)."
    )
    return (table(header, rows), prose(workload))


def checkpoint_blocks(checkpoint, m, total) -> list:
    """The checkpoint's own count beside the formula's, and which tensors explain a difference."""
    from derive.costmodel import shapes

    blocks = [
        prose(
            "The checkpoint {path} ({files}) holds {n} tensors with {values} values.",
            path=user(checkpoint.path),
            files=user(", ".join(checkpoint.files)),
            n=sp.Integer(len(checkpoint.tensors) + len(checkpoint.buffers)),
            values=sp.Integer(checkpoint.parameters + checkpoint.buffer_values),
        )
    ]
    if checkpoint.buffers:
        names = ", ".join(sorted(checkpoint.buffers)[:3]) + (", ..." if len(checkpoint.buffers) > 3 else "")
        what = "the one buffer" if len(checkpoint.buffers) == 1 else f"the {len(checkpoint.buffers)} buffers"
        blocks.append(
            prose(
                f"Buffers are saved with the weights but not trained; leaving out {what} ({{names}}: "
                "{vals} values) leaves its parameter count:",
                names=user(names),
                vals=sp.Integer(checkpoint.buffer_values),
            )
        )
    counted = sp.Integer(checkpoint.parameters)
    blocks.append(eq(S("P_checkpoint"), counted))
    if counted == total:
        blocks.append(prose("It equals the formula's total, {P}.", P=sp.Eq(S("P"), total, evaluate=False)))
        return blocks
    extra, missing = checkpoint_count.compare(checkpoint, shapes.shapes(m))
    more = "more" if counted > total else "fewer"
    blocks.append(
        prose(
            f"That is {{diff}} {more} than the formula's total {{P}}.",
            diff=abs(counted - total),
            P=sp.Integer(total),
        )
    )
    for label, items in (
        ("Tensors in the checkpoint that this architecture does not have", extra),
        ("Tensors this architecture has that the checkpoint lacks", missing),
    ):
        if items and len(items) <= len(checkpoint.tensors) // 2:
            shown = "; ".join(f"{n} {list(s)}" for n, s in items[:6]) + ("; ..." if len(items) > 6 else "")
            blocks.append(prose(f"{label} ({{k}}): {{names}}.", k=sp.Integer(len(items)), names=user(shown)))
    return blocks
