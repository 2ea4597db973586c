"""What each rope stage shows a student: the frequencies, each pair's rotation written out, the
score multiplied out, the proof that only n − m matters, the unrotated value, and ALiBi."""

from __future__ import annotations

import sympy as sp

from derive import printing
from derive.blocks import eq, needs_approx, prose, same, unevaluated_dot, unevaluated_power
from derive.exact import positional
from derive.topics.rope.relative import ALPHA, BETA, relative_identity, relative_terms, same_value
from derive.topics.rope.stages import ALIBI_SLOPE, dot

m, n, i, d_sym, base_sym = sp.symbols("m n i d base")
THETA_I = sp.Symbol("theta_i")


def _times(*factors) -> sp.Expr:
    return sp.Mul(*factors, evaluate=False)


def _minus(a, b) -> sp.Expr:
    """``a − b`` as written."""
    return sp.Add(a, -b, evaluate=False)


FULL_MATRIX_D = 4  # above this, R_m is shown block by block
LINE = 90  # characters of plain math per displayed line


def _col(name: str, d: int) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(name, d, 1)


def _transposed(name: str, d: int):
    """``qᵀ``: the column vector written as a row."""
    return sp.Transpose(_col(name, d))


def intro(values) -> tuple:
    """The formula for θ_i and the given vectors, before the first stage."""
    q, k, d = values["q"], values["k"], values["d"]
    pos_m, pos_n, base = values["m"], values["n"], values["base"]
    blocks = [
        prose(
            "Rotary position embeddings (RoPE, used by LLaMA and most of today's decoder-only models) "
            "add no position vector to the token. Instead they rotate the query of the token at "
            "position {m} and the key of the token at position {n} by angles proportional to their "
            "positions. The dimensions are taken in pairs (0, 1), (2, 3), and so on; pair i turns by "
            "{angle}, with the frequency",
            m=m,
            n=n,
            angle=m * THETA_I,
        ),
        eq(THETA_I, base_sym ** (-2 * i / d_sym)),
        prose(
            "Here {d} ({pairs}), {base}, {pm} and {pn}. As in the RoFormer paper, q and k are column "
            "vectors in the formulas; they are printed as rows, transposed:",
            d=same(d_sym, d),
            pairs="a single pair, i = 0" if d == 2 else f"so i runs from 0 to {d // 2 - 1}",
            base=same(base_sym, base),
            pm=same(m, pos_m),
            pn=same(n, pos_n),
        ),
        eq(_transposed("q", d), q),
        eq(_transposed("k", d), k),
    ]
    if values["v_given"]:
        blocks.append(prose("The value vector of the token at position {n} is", n=n))
        blocks.append(eq(_transposed("v", d), values["v"]))
    return tuple(blocks)


def explain_angles(v):
    blocks = [
        prose(
            "Each pair gets its own frequency. Pair 0 turns by one radian per position; later pairs "
            "turn ever more slowly, so together they can tell near and far positions apart."
        )
    ]
    for k in range(v.d // 2):
        value = v.angles[0, k]
        parts = [sp.Symbol(f"theta_{k}"), unevaluated_power(v.base, -2 * k, v.d)]
        if str(value) != str(parts[-1]):
            parts.append(value)
        blocks.append(eq(*parts, approx=value if needs_approx(value) else None))
    return tuple(blocks)


def _signed_sum(terms):
    """``a⋅cos(α) - b⋅sin(α)`` in the order written, with zero terms dropped."""
    kept = [t for t in terms if t != 0] or [sp.Integer(0)]
    return kept[0] if len(kept) == 1 else sp.Add(*kept, evaluate=False)


def _rotated_pair(x, y, angle):
    c, s = sp.cos(angle), sp.sin(angle)
    return [_signed_sum([x * c, -y * s]), _signed_sum([x * s, y * c])]


def _shown_rotated(vector, angles, position) -> list:
    """The rotated entries as a student writes them: x⋅cos(α) - y⋅sin(α), x⋅sin(α) + y⋅cos(α)."""
    pairs = [_rotated_pair(vector[2 * k], vector[2 * k + 1], position * a) for k, a in enumerate(angles)]
    return [e for pair in pairs for e in pair]


def _pair_blocks(name, vector, angles, position, pos_symbol):
    """Each pair's 2×2 rotation written out, with the substitution kept visible."""
    blocks = []
    for k in range(len(angles)):
        angle = position * angles[k]
        x, y = vector[2 * k], vector[2 * k + 1]
        c, s = sp.cos(angle), sp.sin(angle)
        written = sp.Matrix(
            [
                [sp.Add(_times(x, c), _times(-y, s), evaluate=False)],
                [sp.Add(_times(x, s), _times(y, c), evaluate=False)],
            ]
        )
        turned = sp.ImmutableMatrix(positional.rotation(angle, evaluate=False))
        product = sp.MatMul(turned, sp.ImmutableMatrix([x, y]), evaluate=False)
        turn = _times(pos_symbol, sp.Symbol(f"theta_{k}"))
        result = sp.Matrix(_rotated_pair(x, y, angle))
        lhs = sp.Matrix([sp.Symbol(f"{name}'_{2 * k}"), sp.Symbol(f"{name}'_{2 * k + 1}")])
        blocks.append(prose("Pair {k} turns by {turn}:", k=k, turn=same(turn, angle)))
        parts = [lhs, product, written]
        if str(result) != str(written):
            parts.append(result)
        blocks.append(eq(*parts))
    return blocks


def explain_q_rotated(v):
    return _explain_rotated(v, "q")


def explain_k_rotated(v):
    return _explain_rotated(v, "k")


def _explain_rotated(v, which):
    vector, position, pos_symbol = (v.q, v.m, m) if which == "q" else (v.k, v.n, n)
    result = v.q_rotated if which == "q" else v.k_rotated
    R = sp.Symbol(f"R_{pos_symbol}")
    rotated = sp.Symbol(f"{which}_{pos_symbol}")
    angles = list(v.angles)
    blocks = [
        prose(
            "The rotation {R} is block-diagonal: one 2-by-2 rotation per pair, each turning its pair "
            "counter-clockwise by {angle}, and 0 everywhere else. With {pos}:",
            R=R,
            angle=pos_symbol * THETA_I,
            pos=same(pos_symbol, position),
        )
    ]
    if v.d <= FULL_MATRIX_D:
        blocks.append(eq(R, positional.rope_rotation(angles, position)))
    else:
        blocks.append(prose("It is too wide to print whole; its diagonal blocks are the rotations below."))
    blocks.append(
        prose(
            "Multiplying by {R} rotates each pair on its own, {x}. Pair by pair:",
            R=R,
            x=same(rotated, sp.Mul(R, sp.Symbol(which), evaluate=False)),
        )
    )
    blocks += _pair_blocks(which, list(vector), angles, position, pos_symbol)
    shown = sp.Matrix([_shown_rotated(vector, angles, position)])
    blocks.append(prose("Together:"))
    lhs = _transposed(str(rotated), v.d)
    if v.d <= 2 or not needs_approx(result):
        blocks.append(eq(lhs, shown, approx=result if needs_approx(result) else None))
    else:
        blocks += [eq(lhs, shown), eq(lhs, approx=result)]
    if position == 0:
        blocks.append(prose("Position 0 turns nothing: every angle is 0, so {R} is the identity.", R=R))
    return tuple(blocks)


def _dot_symbol(a, b):
    return sp.Mul(sp.Symbol(a), sp.Symbol(b), evaluate=False)


def _written_product(a, b):
    """``a⋅b`` as written, with a minus sign of either factor moved to the front."""
    sign, factors = 1, []
    for factor in (a, b):
        if not factor.is_Number and not factor.is_Add and factor.could_extract_minus_sign():
            sign, factor = -sign, -factor
        factors.append(factor)
    product = sp.Mul(*factors, evaluate=False)
    return product if sign > 0 else sp.Mul(-1, *factors)


def _lines(parts, approx=None):
    """``lhs = a = b = ...`` cut into several equations with the same left side when it is too
    long for one line of a page (LaTeX does not break a long display)."""
    lhs, rest = parts[0], parts[1:]
    groups, width = [[]], 0
    for part in rest:
        size = len(printing.plain(part))
        if groups[-1] and width + size > LINE:
            groups.append([])
            width = 0
        groups[-1].append(part)
        width += size
    return [eq(lhs, *g, approx=approx if k == len(groups) - 1 else None) for k, g in enumerate(groups)]


def explain_score(v):
    delta = v.n - v.m
    q_shown = _shown_rotated(v.q, v.angles, v.m)
    k_shown = _shown_rotated(v.k, v.angles, v.n)
    blocks = [
        prose(
            "The attention score of the query at position {m} with the key at position {n} is the dot "
            "product of the rotated vectors (attention then divides it by {sqrt_d}). Take it pair by pair, "
            "multiplying out the brackets:",
            m=v.m,
            n=v.n,
            sqrt_d=sp.sqrt(d_sym),
        )
    ]
    for k, theta in enumerate(v.angles):
        j = (2 * k, 2 * k + 1)
        symbolic = sp.Add(*[_dot_symbol(f"q'_{x}", f"k'_{x}") for x in j], evaluate=False)
        written = sp.Add(*[_written_product(q_shown[x], k_shown[x]) for x in j], evaluate=False)
        expanded = sp.expand(sum(v.q_rotated[x] * v.k_rotated[x] for x in j))
        tidy = _signed_sum(relative_terms(v.q[2 * k : 2 * k + 2], v.k[2 * k : 2 * k + 2], [theta], delta))
        share = sp.Symbol(f"s_{k}")
        parts = [share if v.d > 2 else _dot_symbol("q_m", "k_n"), written]
        for part in (expanded, tidy):
            if str(part) != str(parts[-1]):
                parts.append(part)
        if v.d > 2:
            blocks.append(prose("Pair {k} contributes {s}:", k=k, s=same(share, symbolic)))
        blocks += _lines(parts, approx=v.score if v.d == 2 and needs_approx(v.score) else None)
    if v.d > 2:
        total = _signed_sum(relative_terms(v.q, v.k, list(v.angles), delta))
        blocks.append(prose("Adding the pairs' contributions:"))
        blocks += _lines(
            [_dot_symbol("q_m", "k_n"), total], approx=v.score if needs_approx(v.score) else None
        )
    if delta != 0:
        blocks.append(
            prose(
                "The products of cosines and sines of the angles at positions {m} and {n} have collapsed to "
                "cosines and sines of {delta} times each frequency alone. The next step shows why.",
                m=v.m,
                n=v.n,
                delta=delta,
            )
        )
    return tuple(blocks)


def explain_relative(v):
    theta = THETA_I
    a, b = sp.symbols("a b")
    product, target, difference = relative_identity()
    gap = _minus(n, m)
    shown_target = positional.rotation(_minus(BETA, ALPHA), evaluate=False)
    turn = _times(gap, theta)
    qs, ks = _col("q", v.d), _col("k", v.d)
    Rm, Rn, Rd = (sp.MatrixSymbol(name, v.d, v.d) for name in ("R_m", "R_n", "R_n-m"))
    chain = [
        sp.MatMul(sp.Transpose(sp.MatMul(Rm, qs)), sp.MatMul(Rn, ks)),
        sp.MatMul(sp.Transpose(qs), sp.Transpose(Rm), Rn, ks),
    ]
    blocks_product = sp.MatMul(
        sp.Transpose(sp.ImmutableMatrix(positional.rotation(ALPHA))),
        sp.ImmutableMatrix(positional.rotation(BETA)),
    )
    claim = sp.MatAdd(blocks_product, sp.MatMul(-1, sp.ImmutableMatrix(shown_target)))
    cos_a, cos_b, sin_a, sin_b = sp.cos(a), sp.cos(b), sp.sin(a), sp.sin(b)
    cos_rule = same(
        sp.Add(_times(cos_a, cos_b), _times(sin_a, sin_b), evaluate=False),
        sp.cos(_minus(b, a), evaluate=False),
    )
    sin_rule = same(_minus(_times(sin_b, cos_a), _times(sin_a, cos_b)), sp.sin(_minus(b, a), evaluate=False))
    delta = v.n - v.m
    direct = sp.expand((v.q * v.relative * v.k.T)[0, 0])
    blocks = [
        prose(
            "Why do the positions matter only through {gap}? Write the score with the rotations in it:",
            gap=gap,
        ),
        eq(_dot_symbol("q_m", "k_n"), *chain),
        prose(
            "Both rotations are block-diagonal, so their product is too. Its block {B} for pair i "
            "multiplies the transposed rotation by {alpha} with the rotation by {beta}:",
            B=sp.Symbol("B_i"),
            alpha=same(ALPHA, m * theta),
            beta=same(BETA, n * theta),
        ),
        eq(sp.Symbol("B_i"), blocks_product, product, shown_target),
        prose(
            "The last equality is the pair of angle-difference formulas {c} and {s}. SymPy proves it "
            "symbolically, for every pair of angles: trigsimp turns the difference into the zero matrix.",
            c=cos_rule,
            s=sin_rule,
        ),
        eq(claim, difference),
        prose(
            "Since {diff}, every block of the product is the rotation for position {gap}: the two rotations "
            "combine into the single rotation {Rd}, and",
            diff=same(sp.Add(BETA, -ALPHA, evaluate=False), turn),
            gap=gap,
            Rd=Rd,
        ),
        eq(sp.MatMul(sp.Transpose(qs), sp.Transpose(Rm), Rn, ks), sp.MatMul(sp.Transpose(qs), Rd, ks)),
        prose("With these numbers, {delta}:", delta=same(gap, delta)),
    ]
    if v.d <= FULL_MATRIX_D:
        blocks.append(eq(Rd, v.relative))
    shown = _signed_sum(relative_terms(v.q, v.k, list(v.angles), delta))
    parts = [sp.MatMul(sp.Transpose(qs), Rd, ks)]
    parts.append(shown if same_value(shown, direct) else direct)
    blocks.append(eq(*parts, approx=direct if needs_approx(direct) else None))
    blocks.append(
        prose(
            "which is the score of the previous step. Moving both tokens on by the same number of places "
            "(to m + t and n + t) leaves it unchanged: RoPE encodes relative position."
        )
    )
    return tuple(blocks)


def explain_v_out(v):
    blocks = [
        prose(
            "RoPE rotates only the queries and keys: positions should shape which tokens attend to which, "
            "and that is decided by the scores alone. The value vector is mixed into the output "
            "unchanged, so {vout}.",
            vout=same(sp.Symbol("v_out"), sp.Symbol("v")),
        )
    ]
    if not v.v_given:
        blocks.append(
            prose(
                "No value vector was given (--v), so this takes the key vector k as the value, to show "
                "that it stays unrotated."
            )
        )
    blocks.append(eq(_transposed("v_out", v.d), v.v_out))
    return tuple(blocks)


def _alibi_formula(s):
    gap = sp.Abs(sp.Add(n, sp.Mul(-1, m, evaluate=False), evaluate=False), evaluate=False)
    return sp.Add(_dot_symbol("q", "k"), sp.Mul(-1, s, gap, evaluate=False), evaluate=False)


def explain_alibi(v):
    s = sp.Symbol("s")
    plain = dot(v.q, v.k)
    gap = sp.Abs(sp.Add(sp.Integer(v.n), sp.Integer(-v.m), evaluate=False), evaluate=False)
    bias = sp.Mul(-ALIBI_SLOPE, gap, evaluate=False)
    biased = sp.Add(plain, bias, evaluate=False)
    return (
        prose(
            "A contrast: ALiBi (Press et al., 2022) rotates nothing. It keeps q and k as they are and "
            "adds a penalty to the score that grows linearly with the distance between the tokens, "
            "{formula}, with a fixed slope per head (the first of eight heads uses {slope}):",
            formula=_alibi_formula(s),
            slope=same(s, ALIBI_SLOPE),
        ),
        eq(_dot_symbol("q", "k"), unevaluated_dot(list(v.q), list(v.k)), plain),
        eq(_alibi_formula(s), biased, v.alibi, approx=v.alibi if needs_approx(v.alibi) else None),
        prose(
            "RoPE puts the distance inside the dot product, as a rotation that the learned projections "
            "can use in many ways; ALiBi puts it outside, as a bias that always favours nearby keys."
        ),
    )
