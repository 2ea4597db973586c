"""Rotary position embeddings (RoPE, as in RoFormer and LLaMA): rotate q and k, never v.

As in the RoFormer paper, q and k act as column vectors here (q_m = R_m q); the answers are
stored as rows like every other vector. Dimensions pair up as (2i, 2i+1) and pair i turns by
m·θ_i with θ_i = base^(−2i/d). The point of the topic is the proof, done by SymPy and printed,
that R_mᵀ R_n = R_{n−m}, so the score q_m·k_n depends on the positions only through n − m.
"""

from __future__ import annotations

from derive import inputs
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.rope import explain, stages

MAX_D = 8  # the d×d rotation matrices must still fit a page


def _even_vector(value, option):
    vector = inputs.vector(value, option, symbols=True)
    if vector.cols % 2:
        raise InputError(
            option, f"has {vector.cols} entries; RoPE rotates pairs of dimensions, so it needs an even number"
        )
    if vector.cols > MAX_D:
        raise InputError(option, f"has {vector.cols} entries; at most {MAX_D} fit a worked solution")
    return vector


def _position(value, option):
    return inputs.integer(value, option, 0, 10**6)


def _prepare(options) -> Givens:
    q, k, v = options["q"], options["k"], options["v"]
    d = q.cols
    for flag, vector in (("--k", k), ("--v", v)):
        if vector is not None and vector.cols != d:
            raise InputError(
                flag, f"has {vector.cols} entries but --q has {d}; they must have the same length"
            )
    pos_m, pos_n, base = options["m"], options["n"], options["base"]
    params = {
        "q": [str(e) for e in q],
        "k": [str(e) for e in k],
        "m": pos_m,
        "n": pos_n,
        "base": str(base),
        "v": None if v is None else [str(e) for e in v],
    }
    values = {"q": q, "k": k, "m": pos_m, "n": pos_n, "base": base, "d": d, "v": v if v is not None else k}
    values["v_given"] = v is not None
    return Givens("Rotary position embeddings (RoPE)", values, explain.intro(values), params)


def _sample(rng):
    d = 2 * int(rng.integers(1, 4))

    def vec():
        return " ".join(str(int(x)) for x in rng.integers(-3, 4, d))

    return {
        "q": vec(),
        "k": vec(),
        "v": vec(),
        "m": str(int(rng.integers(0, 10))),
        "n": str(int(rng.integers(0, 10))),
        "base": str(rng.choice(["10000", "100", "10"])),
    }


def _reference(options):
    """RoPE in NumPy, on the row-vector layout with interleaved pairs (as in RoFormer / LLaMA's Meta code)."""
    import numpy as np

    q = np.array([float(e) for e in options["q"]])  # (d,)
    k = np.array([float(e) for e in options["k"]])  # (d,)
    d, base = q.shape[0], float(options["base"])
    theta = base ** (-np.arange(0, d, 2) / d)  # (d/2,)

    def rotate(x, pos):
        x0, x1 = x[0::2], x[1::2]  # (d/2,), (d/2,)
        c, s = np.cos(pos * theta), np.sin(pos * theta)  # (d/2,)
        out = np.empty_like(x)  # (d,)
        out[0::2], out[1::2] = x0 * c - x1 * s, x0 * s + x1 * c
        return out

    q_m, k_n = rotate(q, options["m"]), rotate(k, options["n"])
    v = k if options["v"] is None else np.array([float(e) for e in options["v"]])
    return {"angles": theta, "q_rotated": q_m, "k_rotated": k_n, "score": float(q_m @ k_n), "v_out": v}


TOPIC = Topic(
    name="rope",
    summary="Rotary position embeddings: rotate q and k by their positions; the score depends on n - m only",
    options=(
        Option(
            "q",
            "the query vector (an even number of entries), such as '1 0 1 1'",
            _even_vector,
            required=True,
            sets_answer_shape=True,
        ),
        Option("k", "the key vector, as long as --q", inputs.symbolic(inputs.vector), required=True),
        Option("m", "the query's position (0, 1, 2, ...)", _position, required=True),
        Option("n", "the key's position (0, 1, 2, ...)", _position, required=True),
        Option("base", "the base of the frequencies, greater than 1", inputs.base, default="10000"),
        Option(
            "v",
            "the value vector of the key's token, as long as --q (default: k)",
            inputs.symbolic(inputs.vector),
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "angles",
            "The frequency of each pair",
            stages.angles,
            explain.explain_angles,
            mistakes=(stages.POSITIVE_EXPONENT,),
        ),
        Stage(
            "q_rotated",
            "Rotate the query by its position m",
            stages.q_rotated,
            explain.explain_q_rotated,
            mistakes=(stages.Q_CLOCKWISE,),
        ),
        Stage(
            "k_rotated",
            "Rotate the key by its position n",
            stages.k_rotated,
            explain.explain_k_rotated,
            mistakes=(stages.K_CLOCKWISE,),
        ),
        Stage(
            "score",
            "The score of the rotated vectors",
            stages.score,
            explain.explain_score,
            mistakes=(stages.UNROTATED,),
        ),
        Stage("relative", "Only n - m matters", stages.relative, explain.explain_relative, answer=False),
        Stage(
            "v_out",
            "The value is not rotated",
            stages.v_out,
            explain.explain_v_out,
            mistakes=(stages.ROTATED_VALUES,),
        ),
        Stage("alibi", "Contrast: ALiBi's linear bias", stages.alibi, explain.explain_alibi, answer=False),
    ),
    result="score",
    examples={
        "pair": {"q": "1 2", "k": "3 -1", "m": "1", "n": "3"},
        "shifted": {"q": "1 2", "k": "3 -1", "m": "5", "n": "7"},
        "four": {"q": "1 0 2 0", "k": "0 1 1 1", "m": "2", "n": "5", "v": "1 2 3 4"},
    },
    example_notes={
        "pair": "d = 2: q at position 1, k at position 3; the score is cos(2) + 7·sin(2)",
        "shifted": "the pair example moved 4 places on: the same score, since only n - m = 2 counts",
        "four": "d = 4, base 10000 (θ = 1 and 1/100), with a value vector that stays unrotated",
    },
    sample=_sample,
    reference=_reference,
)
