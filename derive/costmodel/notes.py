"""Remarks after a stage's equation (one model only): closed forms, published counts, tables.

Each function gets (values, model, numbers, this stage's value) and returns a list of blocks.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from derive import printing
from derive.blocks import curves, eq, prose, table
from derive.costmodel import formulas
from derive.costmodel.expr import closed_form, inline, to_sympy, value
from derive.costmodel.presets import DTYPE_BYTES

S = sp.Symbol
PF_DAY = 10**15 * 86400


def _definitions(m) -> dict:
    return {formulas.SYMBOLS[k]: formulas.FORMULAS[k](m) for k in formulas.PARAMETER_PARTS}


def _report():
    from derive.costmodel import report

    return report


def _grouped(total: sp.Expr, layer: sp.Expr) -> sp.Expr:
    """``d_model*(...) + n_layer*(...)``: the parts outside the layers, then the layers; a layer too
    long for one line stays P_layer, whose closed form step 5 gives."""
    layers = total.coeff(S("n_layer"))
    rest = sp.factor_terms(sp.expand(total - S("n_layer") * layers))
    full = sp.Add(rest, sp.Mul(S("n_layer"), layers, evaluate=False), evaluate=False)
    if sp.expand(layers - layer) != 0 or len(printing.plain(full)) <= 110:
        return full
    return sp.Add(rest, sp.Mul(S("n_layer"), S("P_layer"), evaluate=False), evaluate=False)


def _layer_polynomial(m) -> sp.Expr:
    return closed_form(inline(formulas.per_layer(m), _definitions(m)))


def per_layer(v, m, n, total):
    closed = closed_form(inline(formulas.per_layer(m), _definitions(m)))
    blocks = [prose("In the base sizes:"), eq(S("P_layer"), closed)]
    if m.d_ff == 4 * m.d_model and m.kv_heads == m.n_heads and not m.wide_heads:
        four = sp.expand(closed.subs(S("d_ff"), 4 * S("d_model")))
        blocks += [
            prose(
                "With {dff}, as in this model, that is the familiar",
                dff=sp.Eq(S("d_ff"), sp.Mul(4, S("d_model"), evaluate=False), evaluate=False),
            ),
            eq(S("P_layer"), four),
        ]
    return blocks


def lm_head(v, m, n, total):
    if m.head != "tied":
        return []
    extra = sp.Integer(m.n_vocab * m.d_model)
    return [
        prose(
            "Counting it a second time would add {Vd} parameters that do not exist.",
            Vd=sp.Eq(sp.Mul(S("n_vocab"), S("d_model"), evaluate=False), extra, evaluate=False),
        )
    ]


def parameters(v, m, n, total):
    report = _report()
    closed = _grouped(closed_form(inline(formulas.parameters(m), _definitions(m))), _layer_polynomial(m))
    blocks = [
        prose("In the base sizes the whole count is"),
        eq(S("P"), closed),
        prose(f"That is {report.group(total)} parameters, about {report.human_count(total)}."),
    ]
    if m.published is not None:
        verdict = "the same number" if m.published == total else "a different number"
        blocks.append(
            prose(
                f"The released checkpoint ({m.hub} on the Hugging Face Hub) has "
                f"{report.group(m.published)} parameters: "
                f"{verdict}." + (f" For comparison, {m.paper}." if m.paper else "")
            )
        )
    elif m.paper:
        blocks.append(prose(f"For comparison, {m.paper}; the paper gives no exact count or breakdown."))
    if v.checkpoint is not None:
        blocks += report.checkpoint_blocks(v.checkpoint, m, total)
    return blocks


def flops_per_token(v, m, n, total):
    head = sp.Integer(2 * m.d_model * m.n_vocab)
    return [
        prose(
            "Left out, as in Kaplan et al.: the output layer's {head} FLOPs per token. Accountings that "
            "count the scores and the weighted sum of the values each over the whole context (Hoffmann "
            "et al. 2022, Appendix F) get twice Kaplan's attention term.",
            head=sp.Eq(sp.Mul(2, S("d_model"), S("n_vocab"), evaluate=False), head, evaluate=False),
        )
    ]


def attention_share(v, m, n, share):
    N = n["N"]
    cross = N / value(formulas.attention_layers(m) * formulas.d_attn, n)
    lengths = sorted({128, 512, 2048, 8192, 32768, 131072, m.seq})
    rows = []
    for s in lengths:
        att = value(formulas.attention_flops(m), {**n, "s": s})
        rows.append(
            (
                sp.Integer(s),
                _report().scientific(2 * N),
                _report().scientific(att),
                f"{float(att / (2 * N + att)):.1%}",
            )
        )
    crossing = sp.Integer(int(cross)) if cross.denominator == 1 else sp.Float(_report().exact(cross), 6)
    note = (
        ""
        if m.arch == "transformer" or max(lengths) <= m.n_ctx
        else " (Lengths beyond n_ctx would need a longer position table, which N does not count.)"
    )
    return [
        prose("As the sequence grows, 2N stays fixed while the attention term grows with s." + note),
        table(("s", "2N", "attention", "share"), rows),
        _share_figure(m, n, cross),
        prose("The attention term equals 2N when"),
        eq(
            S("s"),
            to_sympy(formulas.N / (formulas.attention_layers(m) * formulas.d_attn)),
            to_sympy(formulas.N / (formulas.attention_layers(m) * formulas.d_attn), n),
            crossing,
        ),
    ]


def _share_figure(m, n, cross):
    """The share against s, out to four times the length where attention matches 2N."""
    top = max(4 * cross, Fraction(m.seq))
    xs = [top * k / 64 for k in range(65)]
    shares = []
    for s in xs:
        att = value(formulas.attention_flops(m), {**n, "s": s})
        shares.append(att / (2 * n["N"] + att))
    return curves(
        "attention-share",
        f"Attention's share of the forward FLOPs, {m.label}",
        xs,
        {"attention term / forward FLOPs": shares},
        "tokens per sequence s",
        "share",
    )


def training_flops(v, m, n, total):
    days = total / PF_DAY
    source = f"D is {m.D_note}. " if m.D_note else "D is a round default; set it with --training-tokens. "
    return [
        prose(
            source + "In the petaflop/s-days of Kaplan et al. ({pfd} FLOPs each) that is {days}.",
            pfd=sp.Float(PF_DAY, 3),
            days=_report().scientific(days),
        )
    ]


def weights_bytes(v, m, n, total):
    report = _report()
    rows = [
        (name, sp.Integer(size), sp.Integer(size * n["P"]), report.human_bytes(size * n["P"]))
        for name, size in DTYPE_BYTES.items()
    ]
    return [
        prose(f"That is {report.human_bytes(total)}. In every number format:"),
        table(("format", "bytes per value", "bytes", "size"), rows),
    ]


def training_state_bytes(v, m, n, total):
    report = _report()
    rows = [
        (what, sp.Integer(size), report.human_bytes(size * n["P"])) for what, size in formulas.MIXED_ADAMW
    ]
    return [
        table(("what", "bytes per parameter", "size"), rows),
        prose(
            f"In all {report.human_bytes(total)}. Pure fp32 training needs the same 16 bytes (weights, "
            "gradients, m and v at 4 each): mixed precision saves activation memory and time, not "
            "optimizer memory."
        ),
    ]


def _bytes_note(v, m, n, total):
    return [prose(f"That is {_report().human_bytes(total)}.")]


def activations_recompute(v, m, n, total):
    report = _report()
    saved = n["A"] - total
    return [
        prose(
            f"That is {report.human_bytes(total)} instead of {report.human_bytes(n['A'])}, "
            f"saving {report.human_bytes(saved)}."
        )
    ]


def training_bytes(v, m, n, total):
    report = _report()
    recomputed = n["M_state"] + value(formulas.activations_recompute(m), n)
    return [
        prose(
            f"That is {report.human_bytes(total)}; with full recomputation {report.human_bytes(recomputed)}."
        )
    ]


def kv_cache_bytes(v, m, n, total):
    report = _report()
    per_token = total / (m.seq * m.b)
    blocks = [prose(f"That is {report.human_bytes(total)}, or {report.human_bytes(per_token)} per token.")]
    if m.kv_heads != m.n_heads:
        full = total * m.n_heads / m.kv_heads
        blocks.append(
            prose(
                f"With one key/value head per query head it would be {report.human_bytes(full)}: "
                "grouped-query attention divides the cache by {ratio}.",
                ratio=sp.Integer(m.n_heads // m.kv_heads),
            )
        )
    return blocks


EXTRAS = {
    "per_layer": per_layer,
    "lm_head": lm_head,
    "parameters": parameters,
    "flops_per_token": flops_per_token,
    "attention_share": attention_share,
    "training_flops": training_flops,
    "weights_bytes": weights_bytes,
    "training_state_bytes": training_state_bytes,
    "activations_per_layer": _bytes_note,
    "activations": _bytes_note,
    "activations_recompute": activations_recompute,
    "training_bytes": training_bytes,
    "kv_cache_bytes": kv_cache_bytes,
}
