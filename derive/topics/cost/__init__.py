"""What a transformer costs: parameters, FLOPs, memory and the KV cache, derived symbolically.

Every stage prints its formula in the symbols of the sizes, the same formula with the numbers put in,
and the exact integer. Answer ids (stable; ``parameters`` is the result):
embeddings, attention_per_layer, ffn_per_layer, layernorms_per_layer, per_layer, all_layers,
final_norm, pooler, lm_head, parameters, matmul_parameters, flops_per_token, attention_share,
training_flops, weights_bytes, training_state_bytes, activations_per_layer, activations,
activations_recompute, training_bytes, kv_cache_bytes.
Several presets side by side: ``--preset gpt2,bert-base`` (the CLI takes one value per option, so
the list is comma-separated); then every answer is a row with one entry per preset.
"""

from __future__ import annotations

import re
from fractions import Fraction

from derive import inputs
from derive.costmodel import checkpoint_count, configure, presets
from derive.costmodel import report as rep
from derive.errors import InputError
from derive.model import Givens, Option, Topic
from derive.topics.cost.stages import STAGES

MAX_TRAINING_TOKENS = 10**16
_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)(?:\s*[eE]\s*\+?(\d{1,2}))?\s*$")


def _size(low: int = 1):
    def parse(value, option):
        return inputs.integer(value, option, low, 10**6)

    return parse


def _training_tokens(value, option) -> int:
    """A token count such as ``300000000000``, ``3e11`` or ``2.5e9``: a whole number, never eval'd."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = Fraction(value)
    else:
        match = _COUNT.match(str(value).replace("_", "").replace(",", ""))
        if not match:
            raise InputError(option, f"expected a token count such as 3e11, got {str(value)[:40]!r}")
        number = Fraction(match.group(1)) * 10 ** int(match.group(2) or 0)
    if number.denominator != 1 or not 1 <= number <= MAX_TRAINING_TOKENS:
        raise InputError(option, f"expected a whole number of tokens from 1 to {MAX_TRAINING_TOKENS:.0e}")
    return int(number)


def _prepare(options) -> Givens:
    checkpoint = checkpoint_count.load(options["model"]) if options.get("model") else None
    from_config = None
    if checkpoint is not None and checkpoint.config is not None and not options.get("preset"):
        from_config = configure.from_hf_config(checkpoint.config, "the checkpoint")
        if from_config is not None and isinstance(from_config.n_layer, int):
            checkpoint.check_layer_count(from_config.n_layer)
    sized = options.get("preset") or any(options.get(n) is not None for n in ("layers", "d_model", "heads"))
    if checkpoint is not None and from_config is None and not sized:
        raise InputError(
            "--model",
            "its config.json is missing or not BERT, DistilBERT or GPT-2; "
            "also give --preset NAME or the sizes",
        )
    models = configure.resolve(options, from_config)
    if checkpoint is not None and len(models) > 1:
        raise InputError("--model", "compares a checkpoint with one configuration; give a single preset")
    return rep.givens(models, checkpoint)


def _sample(rng):
    if rng.random() < 0.5:
        return {"preset": str(rng.choice(list(presets.PRESETS)))}
    heads = int(rng.choice([1, 2, 4, 8]))
    arch = str(rng.choice(list(presets.ARCHITECTURES)))
    options = {
        "architecture": arch,
        "layers": str(int(rng.integers(1, 13))),
        "d_model": str(heads * int(rng.choice([8, 16, 64]))),
        "heads": str(heads),
        "vocab": str(int(rng.integers(100, 60000))),
        "context": str(int(rng.choice([64, 512, 2048]))),
        "kv_heads": str(int(rng.choice([h for h in (1, 2, 4, 8) if heads % h == 0]))),
        "batch": str(int(rng.integers(1, 9))),
        "dtype": str(rng.choice(list(presets.DTYPE_BYTES))),
    }
    if arch != "transformer" and rng.random() < 0.5:
        options["head"] = "untied"
    return options


def _reference(options):
    from derive.costmodel import reference

    return reference.answers(configure.resolve(options))


TOPIC = Topic(
    name="cost",
    summary="What a transformer costs: parameters, FLOPs, memory and the KV cache, for presets or any size",
    options=(
        Option(
            "preset",
            "published architecture(s): " + ", ".join(presets.PRESETS) + "; several "
            "side by side as a comma-separated list",
            presets.parse_presets,
        ),
        Option(
            "architecture",
            "custom model family: gpt2, bert or transformer [default: gpt2]",
            inputs.choice(*presets.ARCHITECTURES),
        ),
        Option("layers", "number of layers (per stack for the encoder-decoder)", _size()),
        Option("d_model", "model width d_model", _size()),
        Option("heads", "attention heads", _size()),
        Option("kv_heads", "key/value heads for grouped-query attention [default: heads]", _size()),
        Option(
            "d_head",
            "width of one head, when heads × d_head ≠ d_model as in GPT-3's table [default: d_model / heads]",
            _size(),
        ),
        Option("d_ff", "feed-forward width [default: 4 d_model]", _size()),
        Option("vocab", "vocabulary size", _size()),
        Option("context", "learned positions n_ctx (the longest sequence)", _size()),
        Option("token_types", "BERT segment embeddings [default: 2 for bert]", _size(0)),
        Option("pooler", "BERT pooler: yes or no", inputs.choice("yes", "no")),
        Option("head", "output layer: tied, untied or none", inputs.choice(*presets.HEADS)),
        Option("tokens", "tokens per sequence s [default: the context]", _size()),
        Option("batch", "sequences per batch b", _size(), default="1"),
        Option(
            "dtype",
            "number format of weights and KV cache: fp32, fp16, bf16 or int8",
            inputs.choice(*presets.DTYPE_BYTES),
            default="fp16",
        ),
        Option(
            "training_tokens",
            "training tokens D for 6ND, such as 3e11 [default: the preset's, else 1e9]",
            _training_tokens,
        ),
        Option(
            "model",
            "a checkpoint folder (or .safetensors file) whose tensors to count",
            inputs.text,
            path="either",
        ),
    ),
    prepare=_prepare,
    stages=STAGES,
    result="parameters",
    examples={
        "gpt2": {"preset": "gpt2"},
        "bert-base": {"preset": "bert-base"},
        "compare": {"preset": "gpt2,bert-base,distilbert,minilm-l6"},
        "transformer-base": {"preset": "transformer-base"},
        "long-context": {"preset": "gpt2", "context": "32768", "tokens": "32768", "kv_heads": "4"},
    },
    example_notes={
        "gpt2": "GPT-2 small: 124,439,808 parameters, FLOPs, memory, KV cache",
        "bert-base": "BERT-base uncased with its pooler: 109,482,240 parameters",
        "compare": "GPT-2, BERT-base, DistilBERT and MiniLM side by side",
        "transformer-base": "Vaswani et al.'s base model: shared vocabulary, tied embeddings",
        "long-context": "GPT-2 stretched to 32k tokens with 4 KV heads: attention dominates",
    },
    sample=_sample,
    reference=_reference,
)
