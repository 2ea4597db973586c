"""Variant generators, property-tested over many seeds per topic and level, without rendering.

Each variant is checked with NumPy, independently of derive's SymPy stages: the level's promise
(small integers, d_k a perfect square, integer scaled scores, ...), no degenerate inputs, and no
misconception (the topic's named ones and the common ones of the grading issue) whose answer
rounds to the right one at the sheet's decimals. Classes of 30 get 30 different variants.
DERIVE_VARIANT_SEEDS sets the number of seeds (1,000 in CI).
"""

from __future__ import annotations

import functools
import math
import os
import unicodedata
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from conftest import in_ci, require
from test_vocab_training import course_training

import derive
from derive import registry
from derive.api import prepare
from derive.forward import softmax
from derive.model import Values
from derive.worksheet import classroom, variants

SEEDS = int(os.environ.get("DERIVE_VARIANT_SEEDS", "1000" if in_ci() else "120"))
CLASS = 30
DECIMALS = 2
UNIT = 10.0**-DECIMALS
CASES = [(topic, level) for topic in variants.topics() for level in variants.levels(topic)]
# topics with few inputs: at least this many distinct per class
FEW_INPUTS = {"positional-encoding": 20, "pe-properties": 25}
ATTENTION, CROSS = ("wq", "wk", "wv", "wo"), ("cq", "ck", "cv", "co")


def numbers(text: str) -> np.ndarray:
    """'1 -2; 0.5 3/2' as a 2-D float array (an independent reader of the generated strings)."""
    return np.array([[float(Fraction(e)) for e in row.split()] for row in text.split(";")])


def unit_for(truth) -> float:
    """A unit of the answer's last decimal; an answer whose every entry rounds to 0 at DECIMALS (a
    learning rate of 0.0007) is asked to DECIMALS significant figures instead, as the grading issue says."""
    size = float(np.max(np.abs(truth)))
    if size == 0 or size >= UNIT / 2:
        return UNIT
    return 10.0 ** (math.floor(math.log10(size)) - DECIMALS + 1)


def visibly_different(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape != b.shape or not np.all(np.isfinite(b)) or np.max(np.abs(a - b)) > unit_for(a)


def is_whole(values) -> bool:
    return bool(np.all(np.abs(np.asarray(values) - np.round(values)) < 1e-9))


def no_zero_rows(m) -> bool:
    return bool(np.all(np.any(m != 0, axis=1)))


def check_softmax(given, level):
    x = numbers(given["x"])
    t = float(Fraction(given.get("temperature", "1")))
    assert all(len(set(row)) == len(row) for row in x.tolist())
    if level == 1:
        assert x.shape == (1, 3) and is_whole(x) and np.all((-2 <= x) & (x <= 3))
    p = softmax(x / t)
    hard_max = (x == x.max(axis=1, keepdims=True)).astype(float)
    not_normalised = np.exp(x / t)
    no_exp = (x / t) / (x / t).sum(axis=1, keepdims=True) if np.all((x / t).sum(axis=1)) else None
    for wrong in (hard_max, not_normalised, softmax(x)) if t != 1 else (hard_max, not_normalised):
        assert visibly_different(p, wrong)
    if no_exp is not None:
        assert visibly_different(p, no_exp)


def _attention_parts(given):
    if "x" in given:
        x = numbers(given["x"])
        return x @ numbers(given["wq"]), x @ numbers(given["wk"]), x @ numbers(given["wv"])
    return numbers(given["q"]), numbers(given["k"]), numbers(given["v"])


def _masked_softmax(z, causal, axis=1):
    if causal:
        z = np.where(np.triu(np.ones(z.shape, bool), 1), -np.inf, z)
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def check_attention(given, level):
    q, k, v = _attention_parts(given)
    causal = given.get("mask") == "causal"
    d_k = q.shape[1]
    scores = q @ k.T
    scaled = scores / math.sqrt(d_k)
    if level in (1, 2):
        assert math.isqrt(d_k) ** 2 == d_k and d_k > 1
        assert is_whole(scaled) and np.all(np.abs(scaled) <= 4)
        for name in ("q", "k", "v", "x", "wq", "wk", "wv"):
            if name in given:
                assert is_whole(numbers(given[name])) and np.all(np.abs(numbers(given[name])) <= 3)
    else:
        assert d_k in (2, 3)
    assert no_zero_rows(v) and no_zero_rows(v.T)
    weights = _masked_softmax(scaled, causal)
    for i, row in enumerate(scaled):
        visible = row[: i + 1] if causal else row
        assert len(visible) == 1 or len(set(visible.tolist())) > 1
    visible_scores = np.where(weights > 0, scaled, -np.inf)
    hard_max = visible_scores == visible_scores.max(axis=1, keepdims=True)
    assert visibly_different(weights, hard_max.astype(float))  # argmax one-hot
    assert visibly_different(weights, _masked_softmax(scores, causal))  # no scaling
    assert visibly_different(weights, _masked_softmax(scores / d_k, causal))  # divided by d_k
    if not causal:
        assert visibly_different(weights, _masked_softmax(scaled, False, axis=0))  # wrong axis
    else:
        assert visibly_different(weights, _masked_softmax(scaled, False))  # mask forgotten


def check_dot_product(given, level):
    a, b = numbers(given["a"])[0], numbers(given["b"])[0]
    assert np.any(a) and np.any(b)
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if level == 1:
        assert is_whole([norm_a, norm_b])
    cosine = a @ b / (norm_a * norm_b)
    assert a @ b != 0 and abs(abs(cosine) - 1) > 1e-12
    assert visibly_different(cosine, a @ b)
    assert visibly_different(np.degrees(np.arccos(cosine)), np.arccos(cosine))


def check_positional_encoding(given, level):
    positions, d_model, base = int(given["positions"]), int(given["d_model"]), int(given["base"])
    pos = np.arange(positions)[:, None]
    divisors = float(base) ** (np.arange(0, d_model, 2) / d_model)
    if level < 3:
        assert is_whole(divisors)
    angles = pos / divisors
    pe = np.zeros((positions, d_model))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
    in_degrees = np.zeros_like(pe)
    in_degrees[:, 0::2], in_degrees[:, 1::2] = np.sin(np.radians(angles)), np.cos(np.radians(angles))
    assert visibly_different(pe, in_degrees)
    swapped = np.zeros_like(pe)
    swapped[:, 0::2], swapped[:, 1::2] = np.cos(angles), np.sin(angles)
    assert visibly_different(pe, swapped)


def check_layer_norm(given, level):
    x = numbers(given["x"])
    mean, variance = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    assert np.all(variance > 0) and np.all(mean != 0)
    if level == 1:
        assert given["eps"] == "0" and is_whole(x) and is_whole(np.sqrt(variance)) and np.all(variance > 1)
    eps = float(given.get("eps", "1e-5"))
    normalized = (x - mean) / np.sqrt(variance + eps)
    assert visibly_different(normalized, (x - mean) / np.sqrt(x.var(axis=1, ddof=1, keepdims=True) + eps))
    assert visibly_different(normalized, x / np.sqrt((x**2).mean(axis=1, keepdims=True) + eps))  # RMSNorm
    assert visibly_different(normalized, (x - mean) / (variance + eps))  # no square root


def check_feed_forward(given, level):
    x, w1, w2 = (numbers(given[n]) for n in ("x", "w1", "w2"))
    b1, b2 = numbers(given["b1"])[0], numbers(given["b2"])[0]
    assert no_zero_rows(x) and np.any(b1) and np.any(b2)
    hidden = x @ w1 + b1
    assert np.any(hidden < 0) and np.any(hidden > 0)
    if given["activation"] == "relu":
        assert is_whole(hidden)
        output = np.maximum(hidden, 0) @ w2 + b2
        assert visibly_different(output, hidden @ w2 + b2)  # the activation matters
        assert np.any(output)


def check_residual(given, level):
    x = numbers(given["x"])
    sublayer = numbers(given["sublayer_output"]) if "sublayer_output" in given else None
    if sublayer is None:
        sublayer = x @ numbers(given["w"]) + numbers(given["b"])[0]
    assert no_zero_rows(x) and no_zero_rows(sublayer)
    assert visibly_different(x + sublayer, sublayer)


def check_multi_head(given, level):
    x = numbers(given["x"])
    heads, d_model = int(given["heads"]), x.shape[1]
    assert d_model % heads == 0 and no_zero_rows(x)
    if level == 1:
        assert d_model // heads == 1 and is_whole(x)
    q, k = x @ numbers(given["wq"]), x @ numbers(given["wk"])
    d_k = d_model // heads
    for h in range(heads):
        part = slice(h * d_k, (h + 1) * d_k)
        scaled = q[:, part] @ k[:, part].T / math.sqrt(d_k)
        assert all(len(set(row.tolist())) > 1 for row in scaled)


def _rotate(vector, position, base, sign=1):
    out = vector.copy()
    d = len(vector)
    for i in range(d // 2):
        angle = sign * position * base ** (-2 * i / d)
        c, s = math.cos(angle), math.sin(angle)
        out[2 * i], out[2 * i + 1] = (
            c * vector[2 * i] - s * vector[2 * i + 1],
            s * vector[2 * i] + c * vector[2 * i + 1],
        )
    return out


def check_rope(given, level):
    q, k = numbers(given["q"])[0], numbers(given["k"])[0]
    m, n, base = int(given["m"]), int(given["n"]), float(given.get("base", "10000"))
    assert m != n and len(q) == len(k) and len(q) % 2 == 0 and np.any(q) and np.any(k)
    if level == 1:
        assert len(q) == 2 and is_whole(q) and is_whole(k) and max(m, n) <= 3
    score = _rotate(q, m, base) @ _rotate(k, n, base)
    assert visibly_different(score, q @ k)  # positions ignored
    assert visibly_different(_rotate(q, m, base), _rotate(q, m, base, sign=-1))  # clockwise


def check_cross_entropy(given, level):
    z = numbers(given["logits"])
    targets = [int(t) - 1 for t in given["target"].split()]
    eps = float(given.get("label_smoothing", "0"))
    n, classes = z.shape
    assert len(targets) == n and all(0 <= t < classes for t in targets)
    assert all(len(set(row)) == len(row) for row in z.tolist())
    if level < 3:
        assert is_whole(z) and np.all(np.abs(z) <= 3) and classes == 3 and eps == 0
    y = np.full(z.shape, eps / classes)
    y[np.arange(n), targets] += 1 - eps
    p = softmax(z)
    assert np.all(p[np.arange(n), targets] < 0.95)
    loss = -(y * np.log(p)).sum(axis=1).mean()
    gradient = (p - y) / n
    assert visibly_different(loss, -loss)  # the minus sign forgotten
    assert visibly_different(gradient, -gradient)  # y - p
    if n > 1:
        assert visibly_different(gradient, p - y) and visibly_different(loss, n * loss)  # no mean
    if eps:
        onehot = np.eye(classes)[targets]
        assert visibly_different(gradient, (p - onehot) / n)  # smoothing forgotten


def check_softmax_jacobian(given, level):
    z = numbers(given["x"])[0]
    assert len(set(z.tolist())) == len(z)
    if level < 3:
        assert is_whole(z) and np.all(np.abs(z) <= 2) and len(z) == level + 2
    p = softmax(z)
    jacobian = np.diag(p) - np.outer(p, p)
    assert visibly_different(jacobian, -np.outer(p, p))  # the delta term forgotten
    assert visibly_different(jacobian, np.diag(p * (1 - p)))  # the off-diagonal terms forgotten


def check_layer_norm_backward(given, level):
    x, dy = numbers(given["x"]), numbers(given["grad_output"])
    gamma = numbers(given["gamma"])[0] if "gamma" in given else np.ones(x.shape[1])
    eps = float(given["eps"])
    variance = x.var(axis=1, keepdims=True)
    assert x.shape == dy.shape and np.all(variance > 0)
    if level < 3:
        assert eps == 0 and is_whole(x) and is_whole(dy) and x.shape[1] == 4
    if level == 1:
        assert is_whole(np.sqrt(variance))
    spread = np.sqrt(variance + eps)
    normed = (x - x.mean(axis=1, keepdims=True)) / spread
    g = dy * gamma
    mean_g, mean_gx = g.mean(axis=1, keepdims=True), (g * normed).mean(axis=1, keepdims=True)
    dx = (g - mean_g - normed * mean_gx) / spread
    assert np.any(np.abs(dx) > UNIT)
    assert visibly_different(dx, g / spread)  # the direct path alone
    assert visibly_different(dx, (g - mean_g) / spread)  # the divisor's path forgotten
    assert visibly_different((dy * normed).sum(axis=0), (dy * x).sum(axis=0))  # dgamma from x


def check_kv_cache(given, level):
    x, wq, wk, wv = (numbers(given[name]) for name in ("x", "wq", "wk", "wv"))
    heads, n = int(given.get("heads", "1")), x.shape[0]
    d_k = wq.shape[1] // heads
    assert given.get("dtype", "fp16") in ("fp32", "fp16", "bf16", "int8")
    assert len({tuple(row) for row in x.tolist()}) == n >= 3  # distinct tokens, a cache that grows
    v = x @ wv
    assert no_zero_rows(v) and no_zero_rows(v.T)
    if level < 3:
        for name in ("x", "wq", "wk", "wv"):
            assert is_whole(numbers(given[name])) and np.all(np.abs(numbers(given[name])) <= 2)
        assert (heads, d_k) == ((1, 4) if level == 1 else (2, 1))
    causal_out, full_out = [], []
    for h in range(heads):
        part = slice(h * d_k, (h + 1) * d_k)
        scaled = (x @ wq)[:, part] @ (x @ wk)[:, part].T / math.sqrt(d_k)
        if level < 3:
            assert is_whole(scaled) and np.all(np.abs(scaled) <= 4)
        weights = _masked_softmax(scaled, True)
        for t in range(1, n):
            assert len(set(scaled[t, : t + 1].tolist())) > 1 and weights[t].max() < 0.95
        unnormalised = np.tril(np.exp(scaled))
        assert visibly_different(weights, _masked_softmax(scaled, False))  # every key seen, later ones too
        assert visibly_different(weights, unnormalised)
        causal_out.append(weights @ v[:, part])
        full_out.append(_masked_softmax(scaled, False) @ v[:, part])
    assert visibly_different(np.hstack(causal_out), np.hstack(full_out))


def _walk(probs, order, u) -> int:
    cumulative = np.cumsum(probs[list(order)])
    return list(order)[int(np.argmax(cumulative > u))]


def check_next_token(given, level):
    h, e = numbers(given["hidden"])[0], numbers(given["embedding"])
    words = given["vocab"].split()
    t = float(given.get("temperature", "1"))
    assert len(words) == len(set(words)) == e.shape[0] and e.shape[1] == len(h) and np.any(h)
    z = e @ h
    assert len(set(z.tolist())) == len(z)  # no ties in the logits
    if level == 1:
        assert e.shape == (4, 2) and is_whole(e) and is_whole(h) and np.all(np.abs(e) <= 2)
        assert z.max() - z.min() <= 4 and given["top_k"] == "2" and "seed" not in given
    else:
        assert "seed" in given and ("top_k" in given or "top_p" in given)
    p = softmax(z / t)
    by_size = np.argsort(-p, kind="stable")
    keep = np.zeros(len(p), bool)
    if "top_k" in given:
        keep[by_size[: int(given["top_k"])]] = True
    else:
        mass = float(given["top_p"])
        before = np.cumsum(p[by_size]) - p[by_size]
        keep[by_size] = before < mass
        assert np.all(np.abs(np.cumsum(p[by_size]) - mass) > UNIT)  # p clear of every cumulative sum
        exclusive = np.zeros(len(p), bool)
        exclusive[by_size] = np.cumsum(p[by_size]) < mass
        assert visibly_different(
            np.where(keep, p, 0) / p[keep].sum(), np.where(exclusive, p, 0) / p[exclusive].sum()
        )
    filtered = np.where(keep, p, 0) / p[keep].sum()
    assert keep.sum() >= 2 and filtered.max() < 0.95  # not the one-hot hard max
    assert visibly_different(filtered, np.where(keep, p, 0))  # renormalising matters
    if t != 1:
        assert visibly_different(p, softmax(z))  # the temperature matters
    if "seed" in given:
        u = np.random.default_rng(int(given["seed"])).random()
        assert np.all(np.abs(np.cumsum(filtered) - u) > UNIT)
        word = words[_walk(filtered, range(len(p)), u)]
        assert word != words[_walk(filtered, np.argsort(-filtered, kind="stable"), u)]  # sorted order
    else:
        word = words[int(np.argmax(filtered))]
    assert variants.evaluated("next-token", tuple(sorted(given.items())))[1].token == word


DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}


def _cost_parameters(given) -> int:
    """GPT-2 (tied or untied head) or BERT with its pooler, counted here from the architectures."""
    layers, d, f, vocab, context = (int(given[k]) for k in ("layers", "d_model", "d_ff", "vocab", "context"))
    layer = (4 * d * d + 4 * d) + (2 * d * f + f + d) + 2 * 2 * d  # attention, feed-forward, two LayerNorms
    if given.get("architecture", "gpt2") == "bert":  # segments and LayerNorm in the embeddings, a pooler
        return vocab * d + context * d + 2 * d + 2 * d + layers * layer + d * d + d
    return vocab * d + context * d + layers * layer + 2 * d + (vocab * d if given["head"] == "untied" else 0)


def check_cost(given, level):
    layers, d, heads, f = (int(given[k]) for k in ("layers", "d_model", "heads", "d_ff"))
    assert layers >= 2 and d % heads == 0
    values = Values(prepare(registry.get("cost"), given).values)
    for stage in registry.get("cost").stages:
        values = values.updated(**{stage.name: stage.compute(values)})
    total = _cost_parameters(given)
    assert values.parameters == total
    biases = layers * (4 * d + f + d)
    assert visibly_different(total, total - biases)  # forgotten biases
    if given.get("head") == "tied":
        assert visibly_different(total, total + int(given["vocab"]) * d)  # the tied head counted twice
    if level == 1:
        assert d <= 8 and total <= 5000 and given["head"] == "tied" and "tokens" not in given
        return
    s, b, nbytes = int(given["tokens"]), int(given["batch"]), DTYPE_BYTES[given["dtype"]]
    assert s <= int(given["context"])
    if level == 3:
        assert total >= 10**7 and d // heads == 64
    matmul = 2 * layers * d * (2 * d + f)
    assert values.flops_per_token == 2 * matmul + 2 * layers * s * d
    assert values.weights_bytes == total * nbytes
    assert values.kv_cache_bytes == 2 * layers * s * b * d * nbytes
    assert values.training_flops == 6 * matmul * int(float(given["training_tokens"]))


def _best(scores, words, margin=UNIT):
    """The word with the top score, checked to lead the next one clearly."""
    order = np.argsort(-scores, kind="stable")
    assert scores[order[0]] - scores[order[1]] > margin
    return words[order[0]]


def check_embeddings(given, level):
    table = {}
    for row in given["vectors"].split(";"):
        word, entries = row.split(":")
        table[word.strip()] = numbers(entries)[0]
    words, vectors = list(table), np.array(list(table.values()))
    compared = given["words"].split()
    a, minus_b, c = (term.strip() for term in given["analogy"].replace("-", "+").split("+"))
    assert (
        len(words) == 6
        and len(compared) == 3
        and {a, minus_b, c} <= set(words)
        and set(compared) <= set(words)
    )
    lengths = np.linalg.norm(vectors, axis=1)
    if level == 1:
        assert is_whole(vectors) and is_whole(lengths) and vectors.shape[1] == 3
    if level == 2:
        assert is_whole(vectors) and np.all(np.abs(vectors) <= 3)
    assert np.all(lengths > 0)
    cosines = vectors @ vectors.T / np.outer(lengths, lengths)
    assert np.all(cosines[~np.eye(6, dtype=bool)] < 0.995)  # no two words point the same way
    nearest, nearest_by_dot = [], []
    for word in compared:
        i = words.index(word)
        others = [j for j in range(6) if j != i]
        nearest.append(_best(cosines[i, others], [words[j] for j in others]))
        nearest_by_dot.append(_best((vectors @ vectors[i])[others], [words[j] for j in others]))
    assert nearest != nearest_by_dot  # ranking by the dot product picks another word somewhere
    x = table[a] - table[minus_b] + table[c]
    to_x = vectors @ x / (lengths * np.linalg.norm(x))
    candidates = [j for j, w in enumerate(words) if w not in (a, minus_b, c)]
    answer = _best(to_x[candidates], [words[j] for j in candidates])
    assert answer == words[3]  # the theme's word: king - man + woman is queen
    assert _best(to_x, words) != answer  # keeping the analogy's own words
    assert _best((vectors @ x)[candidates], [words[j] for j in candidates]) != answer  # by dot product
    chosen = np.array([table[w] for w in compared])
    dots, chosen_lengths = chosen @ chosen.T, np.linalg.norm(chosen, axis=1)
    assert visibly_different(dots / np.outer(chosen_lengths, chosen_lengths), dots)  # dot for cosine
    squared = ((chosen[:, None, :] - chosen[None, :, :]) ** 2).sum(axis=-1)
    assert visibly_different(np.sqrt(squared), squared)  # the root forgotten
    values = variants.evaluated("embeddings", tuple(sorted(given.items())))[1]
    assert values.nearest == nearest and values.analogy == [answer]


def _word_counts(corpus: str) -> dict[str, int]:
    return {word: int(count) for word, count in (item.split() for item in corpus.split(","))}


BPE_SIZES = {1: (3, 2), 2: (4, 3), 3: (5, 5)}  # words in the corpus, merges


def first_pair_merges(counts: dict[str, int], merges: int) -> list[str]:
    return course_training(counts, merges, "", False)[0]


def greatest_pair_merges(counts: dict[str, int], merges: int) -> list[str]:
    """BPE whose ties go to the greatest pair (CS336's rule), written here with max over (count, pair)."""
    splits, tokens = {w: list(w) for w in counts}, []
    for _ in range(merges):
        pairs: dict = {}
        for word, split in splits.items():
            for pair in zip(split, split[1:]):
                pairs[pair] = pairs.get(pair, 0) + counts[word]
        a, b = max(pairs, key=lambda pair: (pairs[pair], pair))
        for word, split in splits.items():
            out = []
            for token in split:
                if out and out[-1] == a and token == b:
                    out[-1] = a + b
                else:
                    out.append(token)
            splits[word] = out
        tokens.append(a + b)
    return tokens


def check_bpe_train(given, level):
    counts = _word_counts(given["corpus"])
    merges = int(given["merges"])
    assert (len(counts), merges) == BPE_SIZES[level] and ("tie_break" in given) == (level > 1)
    values = variants.evaluated("bpe-train", tuple(sorted(given.items())))[1]
    tokens, scores, unique = course_training(counts, merges, "", False)
    assert len(tokens) == merges
    if level == 1:
        assert all(unique)  # no tie decides a merge: the sheet states no rule
    assert [int(c) for c in values.scores] == scores
    by_rule = greatest_pair_merges if given.get("tie_break") == "lexicographic" else first_pair_merges
    assert values.merges == by_rule(counts, merges)
    assert by_rule(dict.fromkeys(counts, 1), merges) != values.merges  # ignored counts
    assert course_training(counts, merges, "", True)[0] != values.merges  # WordPiece's score
    letters = set("".join(counts))
    spelled = "".join(c if c in letters else "?" for c in given["encode"].replace(" ", ""))
    encoded = [token if token != "[UNK]" else "?" for token in values.encoded]
    assert "".join(encoded) == spelled and any(token in values.merges for token in encoded)


def check_pe_properties(given, level):
    d, base, k = int(given["d_model"]), float(given["base"]), int(given["offset"])
    assert d >= 4 and k >= 1  # one pair: the frequency 1 is its own inverse; k = 0 rotates nothing
    omega = base ** (-np.arange(0, d, 2) / d)
    if level < 3:
        assert is_whole(1 / omega) and d == 2 * level + 2
    rotation = np.zeros((d, d))
    for n, angle in enumerate(omega * k):
        rotation[2 * n : 2 * n + 2, 2 * n : 2 * n + 2] = [
            [np.cos(angle), np.sin(angle)],
            [-np.sin(angle), np.cos(angle)],
        ]
    p = np.arange(4)

    def encoding(positions):
        pe = np.zeros((len(positions), d))
        pe[:, 0::2], pe[:, 1::2] = np.sin(np.outer(positions, omega)), np.cos(np.outer(positions, omega))
        return pe

    pe = encoding(p)
    np.testing.assert_allclose(pe @ rotation.T, encoding(p + k), atol=1e-12)  # PE(p + k) = M_k PE(p)
    angle_sum = np.cos(np.add.outer(p, p)[..., None] * omega).sum(axis=-1)
    assert visibly_different(omega, 1 / omega)  # the frequency inverted
    assert visibly_different(2 * np.pi / omega, 1 / omega)  # the wavelength without 2π
    assert visibly_different(rotation, rotation.T)  # the usual rotation matrix
    assert visibly_different(pe @ pe.T, angle_sum)  # cos(a + b) for cos(a − b)
    values = variants.evaluated("pe-properties", tuple(sorted(given.items())))[1]
    np.testing.assert_allclose(as_floats(values.rotation), rotation, atol=1e-12)
    np.testing.assert_allclose(as_floats(values.dot_products), pe @ pe.T, atol=1e-12)


def greedy_pieces(word: str, vocab: list[str]) -> list[str]:
    """BERT's greedy longest-match-first split, written here: [UNK] when some part fits nothing."""
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start and ("##" if start else "") + word[start:end] not in vocab:
            end -= 1
        if end == start:
            return ["[UNK]"]
        pieces.append(("##" if start else "") + word[start:end])
        start = end
    return pieces


WORDPIECE_SIZES = {1: (3, 2, 1), 2: (4, 3, 1), 3: (5, 3, 2)}  # words, merges, words to encode


def check_wordpiece_train(given, level):
    counts = _word_counts(given["corpus"])
    merges, encode = int(given["merges"]), given["encode"].split()
    assert (len(counts), merges, len(encode)) == WORDPIECE_SIZES[level]
    values = variants.evaluated("wordpiece-train", tuple(sorted(given.items())))[1]
    tokens, scores, unique = course_training(counts, merges, "##", True)
    assert all(unique) and values.merges == tokens  # one clear winner at every merge
    assert np.allclose([float(s) for s in values.scores], scores)
    assert course_training(dict.fromkeys(counts, 1), merges, "##", True)[0] != tokens  # ignored counts
    assert course_training(counts, merges, "##", False)[0] != tokens  # BPE's frequency
    expected = [piece for word in encode for piece in greedy_pieces(word, values.vocab)]
    assert values.encoded == expected and set(expected) & set(tokens)


def check_patches(given, level):
    image, P = numbers(given["image"]), int(given["patch"])
    w_e, cls = numbers(given["projection"]), numbers(given["cls"])[0]
    H, W = image.shape
    assert H % P == 0 and W % P == 0 and w_e.shape[0] == P * P and np.any(cls)
    assert np.all(np.any(w_e != 0, axis=0))  # every dimension sees some pixel
    blocks = image.reshape(H // P, P, W // P, P).transpose(0, 2, 1, 3)  # (rows, cols, P, P)
    patches = blocks.reshape(-1, P * P)  # reading order, each patch row by row
    column_major = blocks.transpose(0, 1, 3, 2).reshape(-1, P * P)
    assert np.all(np.any(patches != column_major, axis=1))  # every patch shows the flattening order
    if level < 3:
        assert P == 2 and H == 4 and is_whole(image) and is_whole(w_e) and w_e.shape[1] == 2
    tokens = np.vstack([cls, patches @ w_e])
    n, d = tokens.shape
    if "pos_embed" in given:
        positions = numbers(given["pos_embed"])
        assert level == 1 and positions.shape == (n, d) and is_whole(positions)
    else:
        assert level > 1
        positions = np.zeros((n, d))
        angles = np.outer(np.arange(n), 10000.0 ** (-np.arange(0, d, 2) / d))
        positions[:, 0::2], positions[:, 1::2] = np.sin(angles), np.cos(angles)
    assert visibly_different(tokens, np.vstack([patches @ w_e, cls]))  # the class token appended
    assert visibly_different(tokens + positions, tokens)  # the positions forgotten
    values = variants.evaluated("patches", tuple(sorted(given.items())))[1]
    np.testing.assert_allclose(as_floats(values.output), tokens + positions, atol=1e-12)


def _adam_step(theta, g, lr, b1, b2, eps, t, m0, v0):
    """torch.optim.Adam's step as its documentation writes it: (m, v, m̂, v̂, update)."""
    m, v = b1 * m0 + (1 - b1) * g, b2 * v0 + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return m, v, m_hat, v_hat, -lr * m_hat / (np.sqrt(v_hat) + eps)


def check_optimizer_step(given, level):
    theta, g = numbers(given["params"])[0], numbers(given["grad"])[0]
    lr, wd = float(given["lr"]), float(given.get("weight_decay", "0"))
    optimizer = given["optimizer"]
    assert theta.shape == g.shape and np.all(g != 0) and np.any(theta)
    assert optimizer == {1: "sgd", 2: "adam", 3: "adamw"}[level] or (level, optimizer) == (1, "momentum")
    if level < 3:
        assert is_whole(theta) and is_whole(g) and np.all(np.abs(theta) <= 3) and np.all(np.abs(g) <= 3)
    if optimizer in ("sgd", "momentum"):
        assert lr in (0.1, 0.5) and "v" not in given
        gradient = g + wd * theta
        buffer = 0.9 * numbers(given["m"])[0] + gradient if optimizer == "momentum" else gradient
        update = -lr * buffer
        if optimizer == "momentum":
            assert visibly_different(buffer, 0.9 * numbers(given["m"])[0] + 0.1 * gradient)  # a running mean
        if wd:
            assert visibly_different(update, -lr * g)  # weight decay left out
    else:
        decoupled = optimizer == "adamw"
        b1, b2, t = float(given["beta1"]), float(given["beta2"]), int(given["step"])
        eps = float(given.get("eps", "1e-8"))  # torch's default
        assert eps == 0 and (wd == 0.1) == decoupled
        assert (b1, b2) == (0.9, 0.95) and (t in (1, 2) if level == 2 else 2 <= t <= 5)
        m0 = numbers(given["m"])[0] if "m" in given else np.zeros_like(theta)
        v0 = numbers(given["v"])[0] if "v" in given else np.zeros_like(theta)
        assert ("m" in given) == (t > 1) and np.all(v0 >= m0**2 - 1e-12)
        m, v, m_hat, v_hat, step = _adam_step(theta, g, lr, b1, b2, eps, t, m0, v0)
        update = step - lr * wd * theta if decoupled else step
        assert visibly_different(m, b1 * m0 + g)  # the gradient without its weight 1 − β₁
        assert visibly_different(v, b2 * v0 + (1 - b2) * g)  # the gradient not squared
        assert visibly_different(m_hat, m) and visibly_different(v_hat, v)  # no bias correction
        uncorrected = -lr * m / (np.sqrt(v) + eps) - (lr * wd * theta if decoupled else 0)
        assert visibly_different(update, uncorrected)
        if decoupled:
            coupled = _adam_step(theta, g + wd * theta, lr, b1, b2, eps, t, m0, v0)[-1]
            assert visibly_different(update, coupled)  # Adam's L2 in place of AdamW's decay
    assert visibly_different(update, -update)  # the sign flipped
    assert visibly_different(theta + update, theta - update)


@functools.cache
def bert_tiny_tokenizer():
    """Hugging Face's BertWordPieceTokenizer on derive's built-in vocabulary file."""
    implementations = require("tokenizers.implementations")
    path = Path(derive.__file__).parent / "data" / "tiny_vocab.txt"
    return implementations.BertWordPieceTokenizer(str(path), lowercase=True)


TOKENIZE_WORDS = {1: (2, 2), 2: (3, 4), 3: (5, 6)}


def check_tokenize(given, level):
    text = given["text"]
    low, high = TOKENIZE_WORDS[level]
    assert low <= len(text.split()) <= high and text[-1] in ".!?"
    assert (unicodedata.normalize("NFD", text) != text) == (level > 1)  # an accent from level 2
    values = variants.evaluated("tokenize", tuple(sorted(given.items())))[1]
    expected = bert_tiny_tokenizer().encode(text)
    assert (values.tokens, values.input_ids) == (expected.tokens, expected.ids)
    assert any(piece.startswith("##") for piece in values.pieces)  # some word is split: longest match matters
    listed = dict(variants.glossary("tokenize", tuple(sorted(given.items()))))
    letters = {c for c in "abcdefghijklmnopqrstuvwxyz"} | {"##" + c for c in "abcdefghijklmnopqrstuvwxyz"}
    for token, number in zip(values.tokens, values.input_ids):  # every id the student needs is given
        assert token in letters or listed[token] == str(number)


def check_vectorize(given, level):
    n = int(given["max_length"])
    tokenizer = bert_tiny_tokenizer()
    tokenizer.enable_truncation(n, strategy="longest_first")
    tokenizer.enable_padding(length=n)
    expected = tokenizer.encode(given["text"], given.get("pair"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    values = variants.evaluated("vectorize", tuple(sorted(given.items())))[1]
    assert (values.tokens, values.input_ids) == (expected.tokens, expected.ids)
    assert (values.attention_mask, values.token_type_ids) == (expected.attention_mask, expected.type_ids)
    assert ("pair" in given) == (level > 1) and ("[PAD]" in expected.tokens) == (level < 3)
    assert (len(expected.overflowing) > 0) == (level == 3)  # truncated at level 3 only
    listed = dict(variants.glossary("vectorize", tuple(sorted(given.items()))))
    rows = []
    for token, number in zip(expected.tokens, expected.ids):  # every id and row the student needs is given
        shown, row = listed[token].split(": ")
        assert int(shown) == number
        rows.append([int(x) for x in row.strip("()").split(", ")])
    assert np.array_equal(np.array(values.embedded.tolist(), dtype=int), np.array(rows))  # a lookup


def _layer_norm(m, eps):
    """LayerNorm with γ = 1, β = 0; a row constant up to rounding gives nan (0/0 at ε = 0), never the answer."""
    spread = m.var(axis=1, keepdims=True) + eps
    spread = np.where(spread < 1e-12, np.nan, spread)
    return (m - m.mean(axis=1, keepdims=True)) / np.sqrt(spread)


def _multi_head(u, source, given, names, allowed=None, varied=True):
    """Multi-head attention in NumPy; with ``varied``, every head's rows of weights over the keys it sees
    must vary (a misconception's attention need not)."""
    wq, wk, wv, wo = (numbers(given[name]) for name in names)
    heads = int(given["heads"])
    q, k, v = u @ wq, source @ wk, source @ wv
    d_k = q.shape[1] // heads
    parts = []
    for h in range(heads):
        part = slice(h * d_k, (h + 1) * d_k)
        scaled = q[:, part] @ k[:, part].T / math.sqrt(d_k)
        if allowed is not None:
            scaled = np.where(allowed, scaled, -np.inf)
        for row in scaled if varied else ():
            seen = row[np.isfinite(row)]
            assert len(seen) == 1 or np.ptp(seen) > 1e-9
        parts.append(_masked_softmax(scaled, False) @ v[:, part])
    return np.hstack(parts) @ wo


def _ffn(u, given):
    w1, w2 = numbers(given["w1"]), numbers(given["w2"])
    assert np.all(np.any(w1 != 0, axis=0)) and np.all(np.any(w2 != 0, axis=1))  # every hidden unit used
    hidden = u @ w1 + (numbers(given["b1"])[0] if "b1" in given else 0)
    assert np.any(hidden < 0) and np.any(hidden > 0)
    out = np.maximum(hidden, 0) @ numbers(given["w2"]) + (numbers(given["b2"])[0] if "b2" in given else 0)
    assert no_zero_rows(np.round(out, 9))  # the network adds something to every token
    return out


def check_layer(given, level, sublayers):
    """A layer of sublayers (u -> output) in post- or pre-LN order, in NumPy: finite, and the answer at
    every LayerNorm visibly different from the residual left out and from the other order."""
    x, eps, post = numbers(given["x"]), float(Fraction(given["eps"])), given["norm"] == "post"
    d_model = x.shape[1]
    if level < 3:
        names = [n for n in given if n not in ("heads", "norm", "eps", "padding")]
        for name in names:
            assert is_whole(numbers(given[name])) and np.all(np.abs(numbers(given[name])) <= 2), name
        assert d_model == 2 and given["heads"] == "2" and eps == 0  # heads of width 1, LN of two numbers
    else:
        assert d_model == 4 and eps > 0
    if level == 1:
        assert post and "b1" not in given
    assert len({tuple(row) for row in x.tolist()}) == x.shape[0]
    stream, output = x, None
    for k, sublayer in enumerate(sublayers):
        u = stream if post and k == 0 else _layer_norm(stream, eps)
        assert np.all(np.isfinite(u))
        if k == 0:
            assert visibly_different(x, _layer_norm(x, eps))  # pre-post-swapped at the first input
        else:
            assert visibly_different(u, _layer_norm(output, eps))  # the residual left out
        if not (post and k == 0):
            assert len({tuple(np.round(row, 9)) for row in u}) > 1  # the tokens still differ
        output = sublayer(u)
        stream = (u if post and k > 0 else stream) + output
        assert visibly_different(stream, output)  # the residual left out
    y = _layer_norm(stream, eps)
    assert visibly_different(stream, y)  # the other order at the output
    if post:
        assert np.all(np.isfinite(y)) and visibly_different(y, _layer_norm(output, eps))


def check_encoder_layer(given, level):
    allowed = None
    if "padding" in given:
        real = numbers(given["padding"])[0] == 1
        allowed = np.tile(real, (len(real), 1))
        x = numbers(given["x"])
        u = x if given["norm"] == "post" else _layer_norm(x, float(Fraction(given["eps"])))
        assert visibly_different(
            _multi_head(u, u, given, ATTENTION, allowed), _multi_head(u, u, given, ATTENTION, varied=False)
        )
    check_layer(
        given,
        level,
        (lambda u: _multi_head(u, u, given, ATTENTION, allowed), lambda u: _ffn(u, given)),
    )


def check_decoder_layer(given, level):
    memory, n = numbers(given["memory"]), len(given["x"].split(";"))
    causal = np.tril(np.ones((n, n), bool))
    x = numbers(given["x"])
    u = x if given["norm"] == "post" else _layer_norm(x, float(Fraction(given["eps"])))
    masked = _multi_head(u, u, given, ATTENTION, causal)
    assert visibly_different(masked, _multi_head(u, u, given, ATTENTION, varied=False))  # no causal mask

    def cross(u):
        right = _multi_head(u, memory, given, CROSS)
        assert visibly_different(
            right, _multi_head(u, u, given, CROSS, varied=False)
        )  # keys and values from the decoder
        return right

    if level < 3:
        assert is_whole(memory) and memory.shape[1] == 2
    check_layer(
        given,
        level,
        (lambda u: _multi_head(u, u, given, ATTENTION, causal), cross, lambda u: _ffn(u, given)),
    )


def check_lr_schedule(given, level):
    schedule, step = given["schedule"], int(given["step"])
    if schedule == "noam":
        d_model, warmup = int(given["d_model"]), int(given["warmup"])
        assert step != warmup  # both branches agree there: min and max could not be told apart
        if level == 1:
            assert all(math.isqrt(n) ** 2 == n for n in (step, d_model, warmup)) and d_model >= 256
        if level == 2:
            assert (d_model, warmup) == (512, 4000) and math.isqrt(step) ** 2 == step
        lr = d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)
        assert lr < UNIT / 2  # a whole answer asked to significant figures
        assert visibly_different(lr, lr * math.sqrt(d_model))  # d_model^(-0.5) left out
        assert visibly_different(lr, d_model**-0.5 * max(step**-0.5, step * warmup**-1.5))  # max for min
        if step < warmup:
            assert visibly_different(lr, d_model**-0.5 * step * warmup**-0.5)  # the other branch's exponent
        return
    total, warmup = int(given["total"]), int(given["warmup"])
    high, low = float(given["lr_max"]), float(given["lr_min"])
    assert 0 <= step <= total and warmup < total and (low == 0 or math.isclose(low, high / 10))
    p = (step - warmup) / (total - warmup)
    if level == 1:
        assert schedule == "linear" and (20 * step) % total == 0
    if level == 2 and step >= warmup:
        assert schedule == "cosine" and any(abs(p - k / 12) < 1e-12 for k in (2, 3, 4, 6, 8, 9, 10))

    def decay(high, low, p):
        shape = 0.5 * (1 + math.cos(math.pi * p)) if schedule == "cosine" else 1 - p
        return low + (high - low) * shape

    if step < warmup:
        lr = high * step / warmup
        assert visibly_different(lr, decay(high, low, step / total))  # warmup ignored
        return
    lr = decay(high, low, p)
    assert lr > 0
    if low:
        assert visibly_different(lr, decay(high, 0, p))  # decaying to 0, not to lr_min
    if schedule == "cosine":
        assert visibly_different(lr, low + (high - low) * math.cos(math.pi * p))  # the half left out
    else:
        assert visibly_different(lr, low + (high - low) * p)  # rising instead of falling


def check_masked_lm(given, level):
    """The draws redone with NumPy's generator as BERT's and Hugging Face's rules read them."""
    from derive import vocabulary

    words = given["text"].split()
    n, rule = len(words) + 2, given.get("rule", "bert")
    hidden, embedding = numbers(given["hidden"]), numbers(given["embedding"])
    distinct = list(dict.fromkeys(words))
    assert hidden.shape[0] == n and embedding.shape[0] == len(distinct)
    if level < 3:
        assert rule == "bert" and is_whole(hidden) and is_whole(embedding) and np.all(np.abs(hidden) <= 1)
        assert len({tuple(row) for row in embedding.tolist()}) == len(distinct)
    rng = np.random.default_rng(int(given["seed"]))
    u = rng.random(n - 2)
    r = []
    for _ in range(n - 2):
        r.append(rng.random())
        if 0.8 <= r[-1] < 0.9:
            rng.integers(len(vocabulary.builtin().ids))
    count = min(20, max(1, int(round(n * 0.15))))
    smallest = sorted(1 + np.argsort(u, kind="stable")[:count])
    chosen = smallest if rule == "bert" else [1 + i for i in range(n - 2) if u[i] < 0.15]
    assert len(chosen) >= 2 and any(x >= 0.8 for x in r[: len(chosen)])  # not every chosen token masked
    if rule == "bert":
        assert max(1, math.floor(0.15 * (n - 2) + 0.5)) != count  # 15% of the candidates alone differs
    else:
        assert chosen != smallest
    shown = np.round(u, 4)
    assert len(set(shown.tolist())) == len(u)  # the sheet's four places order the draws as they are
    assert np.all(np.abs(u - 0.15) > 1e-4) and all(
        abs(x - c) > 1e-4 for x in r[: len(chosen)] for c in (0.8, 0.9)
    )
    bias = numbers(given["bias"])[0] if "bias" in given else np.zeros(len(distinct))
    logits = hidden @ embedding.T + bias
    assert all(np.ptp(logits[i]) > 0 for i in chosen)
    labels = [distinct.index(w) for w in words]
    losses = [-np.log(softmax(logits[i])[labels[i - 1]]) for i in range(1, n - 1)]
    mean = np.mean([losses[i - 1] for i in chosen])
    assert visibly_different(mean, np.mean(losses))  # every position, not the chosen ones
    assert visibly_different(mean, len(chosen) * mean)  # the sum


def check_attention_backward(given, level):
    q, k, v, d_o = (numbers(given[name]) for name in ("q", "k", "v", "grad_output"))
    causal = given.get("mask") == "causal"
    n, d_k = q.shape
    scaled = q @ k.T / math.sqrt(d_k)
    assert d_k == 4 and n == min(level + 1, 3) and is_whole(scaled) and np.all(np.abs(scaled) <= 4)
    assert all(is_whole(m) and np.all(np.abs(m) <= (2 if level < 3 else 3)) for m in (q, k, v, d_o))
    assert np.all(np.any(v != 0, axis=0)) and no_zero_rows(d_o)
    a = _masked_softmax(scaled, causal)
    d_a = d_o @ v.T
    d_s = a * (d_a - (a * d_a).sum(axis=1, keepdims=True))
    for i in range(n):
        seen = slice(0, i + 1) if causal else slice(0, n)
        if (i + 1 if causal else n) > 1:
            assert a[i, seen].max() < 0.95 and np.ptp(d_a[i, seen]) > 0  # dS of the row not 0 by accident
    d_q, d_key = d_s @ k / math.sqrt(d_k), d_s.T @ q / math.sqrt(d_k)
    assert visibly_different(a.T @ d_o, a @ d_o) and visibly_different(a.T @ d_o, d_o)  # dV
    assert visibly_different(d_s, a * d_a) and visibly_different(d_s, d_a)  # the softmax's backward pass
    assert visibly_different(d_q, d_s @ k) and visibly_different(d_key, d_s.T @ q)  # 1/√d_k left out
    assert visibly_different(d_q, d_s.T @ k / math.sqrt(d_k))  # dS transposed for dQ
    assert visibly_different(d_key, d_s @ q / math.sqrt(d_k))  # dS not transposed for dK


def check_particles(given, level):
    x, beta, h = numbers(given["x"]), float(Fraction(given["beta"])), float(Fraction(given["dt"]))
    n, d = x.shape
    assert (n, d) == ((2, 2), (3, 2), (3, 3))[level - 1] and np.allclose(np.linalg.norm(x, axis=1), 1)
    assert len({tuple(row) for row in x.tolist()}) == n and beta > 0

    def step(weights, project=True, renormalise=True):
        a = weights @ x
        v = a - (a * x).sum(axis=1, keepdims=True) * x if project else a
        y = x + h * v
        return y / np.linalg.norm(y, axis=1, keepdims=True) if renormalise else y

    weights = softmax(beta * x @ x.T)
    y = step(weights)
    assert visibly_different(y, step(weights, renormalise=False))  # not divided by its length
    assert visibly_different(y, step(weights, project=False))  # the attention output not projected
    assert visibly_different(y, step(np.full((n, n), 1 / n)))  # uniform attention


CHECKS = {
    "softmax": check_softmax,
    "attention": check_attention,
    "dot-product": check_dot_product,
    "positional-encoding": check_positional_encoding,
    "layer-norm": check_layer_norm,
    "feed-forward": check_feed_forward,
    "residual": check_residual,
    "multi-head": check_multi_head,
    "rope": check_rope,
    "cross-entropy": check_cross_entropy,
    "softmax-jacobian": check_softmax_jacobian,
    "layer-norm-backward": check_layer_norm_backward,
    "kv-cache": check_kv_cache,
    "next-token": check_next_token,
    "cost": check_cost,
    "embeddings": check_embeddings,
    "bpe-train": check_bpe_train,
    "pe-properties": check_pe_properties,
    "patches": check_patches,
    "wordpiece-train": check_wordpiece_train,
    "optimizer-step": check_optimizer_step,
    "tokenize": check_tokenize,
    "vectorize": check_vectorize,
    "encoder-layer": check_encoder_layer,
    "lr-schedule": check_lr_schedule,
    "decoder-layer": check_decoder_layer,
    "masked-lm": check_masked_lm,
    "attention-backward": check_attention_backward,
    "particles": check_particles,
}


def as_floats(value) -> np.ndarray:
    import sympy as sp

    try:
        if isinstance(value, sp.MatrixBase):
            return np.array(value.evalf(15).tolist(), dtype=float)
        if isinstance(value, (list, tuple)):  # a row of numbers (pair counts or scores)
            return np.array([[float(sp.N(entry, 15)) for entry in value]])
        return np.array([[float(sp.N(value, 15))]])
    except TypeError:  # not a real number (a division by zero): it cannot pass for the answer
        return np.array([[np.nan]])


def named_mistakes_are_visible(topic, given, decimals):
    """Every named misconception of the topic (its Stage.mistakes) rounds differently from the truth.
    The stages' values are those the screen computed (the same stage.compute calls, cached)."""
    values = variants.evaluated(topic.name, tuple(sorted(given.items())))[1]
    allowed = {
        ("softmax", "no-temperature"),
        ("next-token", "no-temperature"),
        ("positional-encoding", "index-doubled"),
        ("positional-encoding", "wrong-layout"),  # d_model = 2: one pair, both layouts agree
        ("rope", "positive-exponent"),  # d = 2: one pair, frequency 1 either way
        ("bpe-train", "other-tie-break"),  # no tie decides a merge
        ("optimizer-step", "eps-inside-root"),  # ε = 0: inside or outside the root alike
        ("tokenize", "kept-accents"),  # level 1 has no accent
        ("vectorize", "segment-sep"),  # level 1 has one sentence
    }
    for stage in topic.stages:
        if not stage.answer or values[stage.name] is None:  # an optional stage these inputs leave out
            continue
        value = values[stage.name]
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(e, str) for e in value)):
            for mistake in stage.mistakes:  # words: told apart by equality
                if mistake.compute(values) == value:
                    assert (topic.name, mistake.id) in allowed, (stage.name, mistake.id, given)
            continue
        truth = as_floats(values[stage.name])
        for mistake in stage.mistakes:
            wrong = mistake.compute(values)
            if wrong is None:
                continue
            wrong = as_floats(wrong)
            if not visibly_different(truth, wrong):
                assert (topic.name, mistake.id) in allowed, (stage.name, mistake.id, given)
                one_pair = len(given.get("q", "").split()) == 2
                no_eps = mistake.id == "eps-inside-root" and given.get("eps") == "0"
                assert (
                    given.get("temperature", "1") == "1" or given.get("d_model") == "2" or one_pair or no_eps
                )


def test_every_topic_the_issue_names_has_three_levels():
    named = ("softmax", "attention", "dot-product", "positional-encoding", "layer-norm", "feed-forward")
    assert set(named + ("residual", "multi-head")) <= set(CHECKS)
    for name in CHECKS:
        assert variants.levels(name) == (1, 2, 3)
    assert set(variants.topics()) == set(CHECKS)


@pytest.mark.parametrize(("name", "level"), CASES)
def test_variants_are_hand_friendly_distinct_and_never_degenerate(name, level):
    topic = registry.get(name)
    distinct_needed = min(CLASS, FEW_INPUTS.get(name, CLASS))
    taken: set = set()
    for seed in range(max(CLASS, SEEDS)):
        if seed % CLASS == 0:
            if taken:
                assert len(taken) >= distinct_needed, (name, level, len(taken))
            taken = set()
        variant = variants.generate(name, level, variants.rng_for("property", seed), DECIMALS, taken)
        taken.add(variant.key)
        CHECKS[name](dict(variant.given), level)
        if seed % 10 == 0:
            named_mistakes_are_visible(topic, dict(variant.given), DECIMALS)


def test_an_asked_answer_a_draw_does_not_have_is_drawn_again():
    """Level 1 optimizer steps mix plain SGD and momentum; plain SGD keeps no m, so a sheet asking m
    gets momentum only, and the worked key leaves the stages SGD lacks out."""
    drawn = {
        variants.generate("optimizer-step", 1, variants.rng_for(s), DECIMALS).given["optimizer"]
        for s in range(20)
    }
    assert drawn == {"sgd", "momentum"}
    for seed in range(20):
        variant = variants.generate(
            "optimizer-step", 1, variants.rng_for(seed), DECIMALS, ask=("m", "params")
        )
        assert variant.given["optimizer"] == "momentum"
    plain = {"optimizer": "sgd", "params": "1 2", "grad": "1 -1", "lr": "0.1"}
    givens, known = variants.evaluated("optimizer-step", tuple(sorted(plain.items())))
    worked = classroom.worked(registry.get("optimizer-step"), givens, ("update", "params"), known)
    assert [step.name for step in worked.steps if step.answer] == ["update", "params"]


def test_a_topic_without_a_generator_offers_no_levels():
    assert variants.levels("forward") == () and variants.levels("no-such-topic") == ()


def test_the_same_seed_gives_the_same_variant():
    first = variants.generate("attention", 1, variants.rng_for(7), DECIMALS)
    again = variants.generate("attention", 1, variants.rng_for(7), DECIMALS)
    assert first == again
    assert first != variants.generate("attention", 1, variants.rng_for(8), DECIMALS)


def test_the_screen_tells_word_answers_apart_by_equality():
    from derive.worksheet import screen

    assert not screen.apart("cat", "cat", DECIMALS) and screen.apart("cat", "mat", DECIMALS)
    assert not screen.apart(["a", "b"], ["a", "b"], DECIMALS) and screen.apart(
        ["a", "b"], ["b", "a"], DECIMALS
    )
    assert screen.floats("E") is None and screen.words("E") == ("E",)  # never read as Euler's number
    assert screen.words(sp.Matrix([[1, 2]])) is None


@pytest.mark.parametrize("level", [1, 2, 3])
def test_cost_variants_count_what_hugging_face_builds(level):
    """Each level's models built by transformers (on the meta device: shapes only) have the
    parameter count derive gives."""
    torch, transformers = require("torch"), require("transformers")
    for seed in range(3):
        given = dict(variants.generate("cost", level, variants.rng_for("hf", seed), DECIMALS).given)
        sizes = {k: int(given[k]) for k in ("layers", "d_model", "heads", "d_ff", "vocab", "context")}
        with torch.device("meta"):
            if given.get("architecture") == "bert":
                config = transformers.BertConfig(
                    vocab_size=sizes["vocab"],
                    hidden_size=sizes["d_model"],
                    num_hidden_layers=sizes["layers"],
                    num_attention_heads=sizes["heads"],
                    intermediate_size=sizes["d_ff"],
                    max_position_embeddings=sizes["context"],
                )
                model = transformers.BertModel(config)
            else:
                config = transformers.GPT2Config(
                    vocab_size=sizes["vocab"],
                    n_embd=sizes["d_model"],
                    n_layer=sizes["layers"],
                    n_head=sizes["heads"],
                    n_inner=sizes["d_ff"],
                    n_positions=sizes["context"],
                    tie_word_embeddings=given["head"] == "tied",
                )
                model = transformers.GPT2LMHeadModel(config)
        counted = sum(p.numel() for p in model.parameters())  # tied weights are one parameter
        values = Values(prepare(registry.get("cost"), given).values)
        for stage in registry.get("cost").stages:
            values = values.updated(**{stage.name: stage.compute(values)})
        assert values.parameters == counted, given


def test_cost_level_1_refuses_the_workload_answers():
    assert variants.refusal("cost", "kv_cache_bytes", 1) and variants.refusal("cost", "pooler", 1)
    assert variants.refusal("cost", "kv_cache_bytes", 2) is None
    assert (
        variants.refusal("cost", "parameters", 1) is None
        and variants.refusal("softmax", "softmax", 1) is None
    )


def test_vectorize_level_1_refuses_segment_ids_of_one_sentence():
    assert (
        variants.refusal("vectorize", "token_type_ids", 1)
        and variants.refusal("vectorize", "token_type_ids", 2) is None
    )


def _heads_suit(queries, keys, groups, wq, wk, limit=3) -> bool:
    """No query 0, the keys of each head vary over every group, every |q k| at most ``limit``."""
    q, k = queries @ wq, keys @ wk
    varied = all(np.ptp(k[list(g), h]) > 0 for g in groups for h in (0, 1))
    return bool(np.all(q != 0) and varied and np.all(np.max(np.abs(q), 0) * np.max(np.abs(k), 0) <= limit))


def _values_suit(keys, wv) -> bool:
    return bool(np.all(np.any(keys @ wv != 0, 0)))


def test_one_column_heads_keep_their_promise_and_find_weights_whenever_some_exist():
    """The picked weights checked with NumPy, and a brute force over every integer matrix in [-1, 1]
    without a zero row: None always when no (W_Q, W_K) or no W_V suits the inputs, and weights from one
    of a few calls when some do (a call that draws only weights with a zero row gives None too)."""
    from itertools import product as cartesian

    from derive.worksheet import draw

    entries = [np.array(m).reshape(2, 2) for m in cartesian((-1, 0, 1), repeat=4)]
    matrices = [m for m in entries if np.all(np.any(m, 1))]
    rng = variants.rng_for("heads")
    for case in range(40):
        queries = np.array(draw.distinct_rows(rng, 3, 2, -2, 2))
        keys = queries if case % 2 else np.array(draw.distinct_rows(rng, 2, 2, -1, 1))
        seen = [(0, 1)] if case % 2 else ()
        groups = [g for g in ([*range(len(keys))], *seen) if len(g) > 1]
        calls = [
            draw.one_column_heads(rng, queries.tolist(), keys.tolist(), ATTENTION, 3, seen) for _ in range(5)
        ]
        exists = any(_heads_suit(queries, keys, groups, a, b) for a in matrices for b in matrices)
        exists = exists and any(_values_suit(keys, m) for m in matrices)
        assert any(drawn is not None for drawn in calls) == exists, (queries, keys, seen)
        for drawn in filter(None, calls):
            wq, wk, wv, wo = (numbers(drawn[name]) for name in ATTENTION)
            assert _heads_suit(queries, keys, groups, wq, wk) and _values_suit(keys, wv)
            assert all(np.all(np.any(m != 0, 1)) and np.all(np.abs(m) <= 1) for m in (wq, wk, wv, wo))
