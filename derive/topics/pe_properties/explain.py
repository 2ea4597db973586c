"""What each pe-properties stage shows: why sines and cosines, the wavelengths, both proofs
written out with the residuals SymPy computed, learned position embeddings, and why PE is added."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, needs_approx, prose, rounded, same, table, unevaluated_power, vectors
from derive.exact import positional
from derive.topics.pe_properties.proofs import dot_residual, k, p, pe_column, q, shift_residual, w
from derive.topics.pe_properties.stages import GRID

i, d_model, base_symbol, pos = sp.symbols("i d_model base pos")
OMEGA_I, LAMBDA_I = sp.Symbol("omega_i"), sp.Symbol("lambda_i")
PE = sp.Function("PE")
M_K, G = sp.Symbol("M_k"), sp.Symbol("G")
CHECK_AT = 2  # the position of the numeric check of proof 1
BERT_POSITIONS, BERT_WIDTH = 512, 768


def _unevaluated(fn, *args):
    return fn(*args, evaluate=False)


def intro(d, base, offset) -> tuple:
    return (
        prose(
            "The sinusoidal positional encoding gives position pos the vector with {even} and {odd}, one "
            "frequency {w} per pair of dimensions:",
            even=same(PE(pos, _unevaluated(sp.Mul, 2, i)), sp.sin(_unevaluated(sp.Mul, pos, OMEGA_I))),
            odd=same(PE(pos, _unevaluated(sp.Add, 2 * i, 1)), sp.cos(_unevaluated(sp.Mul, pos, OMEGA_I))),
            w=OMEGA_I,
        ),
        eq(OMEGA_I, _unevaluated(sp.Pow, base_symbol ** (2 * i / d_model), -1)),
        prose(
            "This derivation explains why it is built from sines and cosines, gives each pair's wavelength, "
            "and proves two properties with SymPy: shifting by k positions is a rotation that depends on k "
            "alone, and the dot product of two encodings depends only on how far apart they are. Here {d}, "
            "{b} and the shift {kk}.",
            d=same(d_model, d),
            b=same(base_symbol, base),
            kk=same(k, offset),
        ),
    )


def explain_frequencies(v):
    blocks = [
        prose(
            "Why sines and cosines? Bounded: every entry lies between −1 and 1 at any position, while the "
            "raw position (0, 1, ..., 511) would swamp the token embedding it is added to, and pos/length "
            "would change meaning with the length. Unique: pair 0 alone repeats only when two positions "
            "differ by a multiple of {two_pi}, which no two different whole numbers do ({pi} is irrational). Pairs: a "
            "sine and a cosine of the same angle form a point on the unit circle, which is what makes a shift "
            "a rotation (step 3). Each pair turns at its own frequency, from 1 radian per position down:",
            two_pi=2 * sp.pi,
            pi=sp.pi,
        )
    ]
    for n in range(v.d_model // 2):
        value = v.frequencies[0, n]
        written = _unevaluated(sp.Pow, unevaluated_power(v.base, 2 * n, v.d_model), -1)
        parts = [sp.Symbol(f"omega_{n}"), written] + ([value] if str(value) != str(written) else [])
        blocks.append(eq(*parts, approx=value if needs_approx(value) else None))
    return tuple(blocks)


def explain_wavelengths(v):
    rows = [
        (n, v.frequencies[0, n], v.wavelengths[0, n], rounded(v.wavelengths[0, n]))
        for n in range(v.d_model // 2)
    ]
    first, last = v.wavelengths[0, 0], v.wavelengths[0, -1]
    return (
        prose(
            "A pair turning by {w} radians per position comes back to the same point after {lam} positions, "
            "its wavelength:",
            w=OMEGA_I,
            lam=LAMBDA_I,
        ),
        eq(LAMBDA_I, 2 * sp.pi / OMEGA_I, 2 * sp.pi * base_symbol ** (2 * i / d_model)),
        table(("pair i", OMEGA_I, LAMBDA_I, "in decimals"), rows),
        prose(
            "The wavelengths grow geometrically from {first} ≈ {a} to {last} ≈ {b} positions: the fast pairs "
            "tell neighbours apart, the slow ones tell near from far (in the paper, with d_model = 512, they "
            "run from {lo} to {hi}).",
            first=first,
            a=rounded(first),
            last=last,
            b=rounded(last),
            lo=2 * sp.pi,
            hi=_unevaluated(sp.Mul, 10000, 2, sp.pi),
        ),
    )


def explain_rotation(v):
    wp_, wk_ = _unevaluated(sp.Mul, w, p), _unevaluated(sp.Mul, w, k)
    shifted = _unevaluated(sp.Mul, w, _unevaluated(sp.Add, p, k))
    split = _unevaluated(sp.Add, wp_, wk_)
    sin_p, cos_p, sin_k, cos_k = (_unevaluated(f, a) for a in (wp_, wk_) for f in (sp.sin, sp.cos))
    sin_sum = _unevaluated(sp.Add, _unevaluated(sp.Mul, sin_p, cos_k), _unevaluated(sp.Mul, cos_p, sin_k))
    cos_sum = _unevaluated(sp.Add, _unevaluated(sp.Mul, cos_p, cos_k), -_unevaluated(sp.Mul, sin_p, sin_k))
    after = sp.Matrix([_unevaluated(sp.sin, shifted), _unevaluated(sp.cos, shifted)])
    before = sp.Matrix([sin_p, cos_p])
    block = positional.shift_block(wk_, evaluate=False)
    generic = shift_residual()
    whole = shift_residual(list(v.frequencies), v.k)
    blocks = [
        prose(
            "Take one pair, with frequency {w}. At position p it holds the point {point} on the unit circle. "
            "Moving k positions on adds {wk} to the angle, and the angle-addition identities split it:",
            w=w,
            point=sp.Tuple(*before),
            wk=wk_,
        ),
        eq(sp.sin(shifted), sp.sin(split), sin_sum),
        eq(sp.cos(shifted), sp.cos(split), cos_sum),
        prose(
            "Both right sides are linear in {s} and {c}, with coefficients that contain k but not p. As a "
            "matrix acting on the column of the pair:",
            s=before[0],
            c=before[1],
        ),
        eq(after, sp.MatMul(block, before, evaluate=False)),
        prose(
            "SymPy proves this for every p, k and {w}, not only for sample numbers: it expands the left side with "
            "the addition identities (expand with trig=True), subtracts the right side and simplifies; the "
            "difference is {zero}.",
            zero=generic.T,
            w=w,
        ),
        prose(
            "The matrix is a rotation of the pair's point by the angle {wk}: its columns are unit vectors at "
            "right angles (cos² + sin² = 1) and its determinant is {det}. One such block per pair, placed "
            "along the diagonal, gives {M}, and for every position p",
            M=M_K,
            det=sp.simplify(block.det()),
            wk=wk_,
        ),
        eq(PE(_unevaluated(sp.Add, p, k)), sp.Mul(M_K, PE(p), evaluate=False)),
        prose(
            "(PE(p) as a column; with rows, PE(p + k) is PE(p) times the transpose of {M}). {M} depends on k alone, "
            "so a linear map learned by the model can move attention by a fixed offset, the reason the "
            "paper chose this encoding. Here, with {kk}:",
            kk=same(k, v.k),
            M=M_K,
        ),
    ]
    if v.d_model <= 4:
        blocks.append(eq(M_K, v.rotation, approx=v.rotation if needs_approx(v.rotation) else None))
    else:
        blocks.append(
            prose("{M} is {n} × {n} and 0 off its 2 × 2 diagonal blocks; block i is", M=M_K, n=v.d_model)
        )
        for n in range(v.d_model // 2):
            part = v.rotation[2 * n : 2 * n + 2, 2 * n : 2 * n + 2]
            blocks.append(eq(sp.Symbol(f"R_{n}"), part, approx=part if needs_approx(part) else None))
    column = pe_column(list(v.frequencies), CHECK_AT)
    blocks += [
        prose(
            "SymPy checks the whole vector too, for d_model = {d} and this k, at every position p: "
            "{diff} simplifies to {zero}. In numbers at p = {c} (columns written as rows):",
            d=v.d_model,
            diff=_unevaluated(sp.Add, sp.Mul(M_K, PE(p)), -PE(_unevaluated(sp.Add, p, v.k))),
            zero=whole.T,
            c=CHECK_AT,
        ),
        eq(sp.Mul(M_K, PE(CHECK_AT), evaluate=False), approx=(v.rotation * column).T),
        eq(PE(CHECK_AT + v.k), approx=pe_column(list(v.frequencies), CHECK_AT + v.k).T),
        vectors(
            "pe-rotation",
            f"Pair 0 (x = sin, y = cos) at positions {CHECK_AT} and {CHECK_AT + v.k}: "
            f"{v.k} radian{'' if v.k == 1 else 's'} apart",
            {
                f"PE({CHECK_AT}), pair 0": column[0:2],
                f"PE({CHECK_AT + v.k}), pair 0": (v.rotation * column)[0:2],
            },
        ),
    ]
    return tuple(blocks)


def _pair_term(omega) -> sp.Expr:
    """sin(ω p) sin(ω q) + cos(ω p) cos(ω q), as written."""
    wp_, wq_ = _unevaluated(sp.Mul, omega, p), _unevaluated(sp.Mul, omega, q)
    sines = _unevaluated(sp.Mul, _unevaluated(sp.sin, wp_), _unevaluated(sp.sin, wq_))
    cosines = _unevaluated(sp.Mul, _unevaluated(sp.cos, wp_), _unevaluated(sp.cos, wq_))
    return _unevaluated(sp.Add, sines, cosines)


def explain_dot_products(v):
    top = v.d_model // 2 - 1
    omega_i = sp.Symbol("omega_i")
    wp_, wq_ = _unevaluated(sp.Mul, w, p), _unevaluated(sp.Mul, w, q)
    pair_term, terms = _pair_term(w), _pair_term(omega_i)
    dot = _unevaluated(sp.Mul, PE(p), PE(q))
    moved = _unevaluated(sp.Mul, PE(_unevaluated(sp.Add, p, k)), PE(_unevaluated(sp.Add, q, k)))
    shifted = _unevaluated(sp.Eq, moved, dot)
    generic, whole = dot_residual(), dot_residual(list(v.frequencies))
    blocks = [
        prose(
            "The dot product of two encodings adds up, pair by pair, a product of sines and one of cosines:"
        ),
        eq(dot, sp.Sum(terms, (i, 0, top))),
        prose(
            "Each pair's term is the cosine of the difference of the angles (cos(a − b) = cos a cos b + sin a sin b):"
        ),
        eq(pair_term, sp.cos(_unevaluated(sp.Add, wp_, -wq_)), sp.cos(w * (p - q))),
        prose(
            "SymPy proves the identity for all p, q and {w}: expanded and simplified, the difference of the two "
            "sides is {z}. Summed over the pairs:",
            z=generic,
            w=w,
        ),
        eq(dot, sp.Sum(sp.cos(omega_i * (p - q)), (i, 0, top))),
        prose(
            "It depends on p and q only through p − q (and, cosine being even, only on |p − q|). For "
            "d_model = {d} SymPy also checks the whole sum for every p and q, leaving {z}. So every encoding "
            "has the same squared length {half} (p = q), and the table of dot products is constant along each "
            "diagonal. Write f(n) for the dot product of two encodings n positions apart; for n = 0 to {last}:",
            d=v.d_model,
            z=whole,
            half=sp.Integer(v.d_model // 2),
            last=GRID - 1,
        ),
    ]
    for delta in range(GRID):
        value = v.dot_products[delta, 0]
        blocks.append(eq(sp.Function("f")(delta), value, approx=value if needs_approx(value) else None))
    blocks += [
        prose("So for positions 0 to {last} (row p, column q):", last=GRID - 1),
        eq(G, approx=v.dot_products),
        prose(
            "Step 3 gives the same result another way: {M} moves every encoding on by k positions, and a "
            "rotation keeps lengths and angles, so it keeps dot products: {shifted}.",
            M=M_K,
            shifted=shifted,
        ),
    ]
    return tuple(blocks)


def explain_learned(v):
    rows = [
        ("parameters", "0 (a formula)", "max_len × d_model"),
        ("positions beyond max_len", "defined (the formula goes on)", "none: there is no row to look up"),
        ("a shift is a fixed linear map", "yes (step 3)", "only if training makes it so"),
        ("used by", "Transformer (2017)", "BERT, GPT-2"),
    ]
    learned = BERT_POSITIONS * v.d_model
    return (
        prose(
            "The contrast: learned position embeddings (BERT, GPT-2) are a lookup table P with one trainable "
            "row per position, max_len × d_model, used exactly like the token embedding table: position p "
            "gets row p. Nothing ties row p to row p + 1 except what training finds, and a position at or "
            "beyond max_len has no row at all, so the model cannot run on longer inputs."
        ),
        prose(
            "BERT-base's table (512 positions × 768 dimensions) has {bert} parameters; with max_len 512 at "
            "d_model = {d} it would have {n}. The sinusoidal table costs none.",
            bert=same(_unevaluated(sp.Mul, BERT_POSITIONS, BERT_WIDTH), BERT_POSITIONS * BERT_WIDTH),
            d=v.d_model,
            n=same(_unevaluated(sp.Mul, BERT_POSITIONS, v.d_model), learned),
        ),
        table(("", "sinusoidal", "learned"), rows),
    )


def explain_added(v):
    x, pe_row, w_q = sp.Symbol("x"), PE(p), sp.Symbol("W_Q")
    halves = sp.Matrix([[sp.Symbol("W_1")], [sp.Symbol("W_2")]])
    split = sp.Add(
        sp.Mul(x, halves[0], evaluate=False), sp.Mul(pe_row, halves[1], evaluate=False), evaluate=False
    )
    query = sp.Mul(sp.Add(x, pe_row, evaluate=False), w_q, evaluate=False)
    query_sum = sp.Add(sp.Mul(x, w_q, evaluate=False), sp.Mul(pe_row, w_q, evaluate=False), evaluate=False)
    return (
        prose(
            "The encoding is added to the token embeddings, row by row: the input of the first layer is X + PE, "
            "where row p of X is the embedding of the token at position p (derive vectorize). Why add rather "
            "than concatenate [x, PE(p)]? Concatenating makes every vector 2·d_model = {dd} wide, and every "
            "weight matrix that reads it twice as tall. And a linear map of a concatenation is a sum anyway:"
            " splitting W into its top and bottom halves W_1 and W_2,",
            dd=2 * v.d_model,
        ),
        eq(sp.MatMul(sp.Matrix([[x, pe_row]]), halves, evaluate=False), split),
        prose(
            "while adding keeps the width, and the query of the first layer is {q}, the same kind of sum with "
            "W_1 = W_2 = W_Q. In many dimensions the token embeddings and the position codes can occupy "
            "nearly orthogonal directions, so later layers can still tell the two apart.",
            q=same(query, query_sum),
        ),
    )
