"""The published architectures, and how options and presets combine into the models to cost.

Published counts are the exact totals of the released checkpoints (Hugging Face ``num_parameters()``
of the base model, tied LM head counted once); the papers themselves round (and GPT-2's Table 2
under-reports). ``tests/test_cost.py`` pins them against the formulas and an independent shape list.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.errors import InputError

ARCHITECTURES = ("gpt2", "bert", "transformer")
HEADS = ("tied", "untied", "none")
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}
DEFAULT_TRAINING_TOKENS = 10**9
MAX_PRESETS = 6


@dataclass(frozen=True)
class Model:
    """One configuration to cost: its architecture, its sizes, and the workload it runs."""

    key: str
    label: str
    arch: str  # gpt2 (pre-LN decoder), bert (post-LN encoder), transformer (Vaswani encoder-decoder)
    n_layer: int  # layers per stack (the encoder-decoder has n_layer + n_layer)
    d_model: int
    n_heads: int
    d_ff: int
    n_vocab: int
    n_ctx: int  # learned position rows (the default sequence length for sinusoidal models)
    n_types: int = 0  # BERT segment (token type) embeddings
    pooler: bool = False
    head: str = "tied"  # the output projection to the vocabulary: tied, untied, or none
    style: str = ""  # tensor naming of the released checkpoint, for shapes.py
    n_kv: int = 0  # key/value heads (grouped-query attention); 0 means n_heads
    head_width: int = 0  # d_head when n_heads × d_head ≠ d_model (GPT-3's table); 0 means d_model / n_heads
    source: str = ""
    hub: str = ""  # the released checkpoint's name on the Hugging Face Hub
    published: int | None = None
    paper: str = ""
    s: int = 0  # tokens per sequence for FLOPs, activations and the KV cache; 0 means n_ctx
    b: int = 1
    dtype: str = "fp16"
    D: int = DEFAULT_TRAINING_TOKENS
    D_note: str = ""

    @property
    def d_head(self) -> int:
        return self.head_width or self.d_model // self.n_heads

    @property
    def d_attn(self) -> int:
        """The width of all heads together, n_heads × d_head: d_model unless --d-head says otherwise."""
        return self.n_heads * self.d_head

    @property
    def wide_heads(self) -> bool:
        return self.d_attn != self.d_model

    @property
    def kv_heads(self) -> int:
        return self.n_kv or self.n_heads

    @property
    def seq(self) -> int:
        return self.s or self.n_ctx

    @property
    def n_bytes(self) -> int:
        return DTYPE_BYTES[self.dtype]

    def numbers(self) -> dict[str, int]:
        """Every size a formula may name, by its symbol's name."""
        return {
            "n_layer": self.n_layer,
            "d_model": self.d_model,
            "n_heads": self.n_heads,
            "n_kv": self.kv_heads,
            "d_head": self.d_head,
            "d_attn": self.d_attn,
            "d_kv": self.kv_heads * self.d_head,
            "d_ff": self.d_ff,
            "n_vocab": self.n_vocab,
            "n_ctx": self.n_ctx,
            "n_types": self.n_types,
            "s": self.seq,
            "b": self.b,
            "n_bytes": self.n_bytes,
            "D": self.D,
        }


_GPT2 = dict(
    arch="gpt2",
    style="gpt2",
    n_vocab=50257,
    n_ctx=1024,
    head="tied",
    source="Radford et al. 2019",
    paper="the GPT-2 paper's Table 2 lists 117M, 345M, 762M and 1542M for the four sizes",
)
_BERT = dict(
    arch="bert",
    style="bert",
    n_vocab=30522,
    n_ctx=512,
    n_types=2,
    pooler=True,
    head="none",
    D=256 * 512 * 1_000_000,
    D_note="BERT's pre-training: 256 sequences of 512 tokens for 1,000,000 steps (Devlin et al. 2019)",
)
_VASWANI = dict(
    arch="transformer",
    style="transformer",
    n_vocab=37000,
    n_ctx=512,
    head="tied",
    source="Vaswani et al. 2017, Table 3",
)

PRESETS: dict[str, Model] = {
    "gpt2": Model(
        "gpt2",
        "GPT-2 small",
        n_layer=12,
        d_model=768,
        n_heads=12,
        d_ff=3072,
        hub="gpt2",
        published=124_439_808,
        **_GPT2,
    ),
    "gpt2-medium": Model(
        "gpt2-medium",
        "GPT-2 medium",
        n_layer=24,
        d_model=1024,
        n_heads=16,
        d_ff=4096,
        hub="gpt2-medium",
        published=354_823_168,
        **_GPT2,
    ),
    "gpt2-large": Model(
        "gpt2-large",
        "GPT-2 large",
        n_layer=36,
        d_model=1280,
        n_heads=20,
        d_ff=5120,
        hub="gpt2-large",
        published=774_030_080,
        **_GPT2,
    ),
    "gpt2-xl": Model(
        "gpt2-xl",
        "GPT-2 XL",
        n_layer=48,
        d_model=1600,
        n_heads=25,
        d_ff=6400,
        hub="gpt2-xl",
        published=1_557_611_200,
        **_GPT2,
    ),
    "bert-base": Model(
        "bert-base",
        "BERT-base (uncased)",
        n_layer=12,
        d_model=768,
        n_heads=12,
        d_ff=3072,
        hub="bert-base-uncased",
        published=109_482_240,
        source="Devlin et al. 2019",
        paper="the BERT paper rounds it to 110M",
        **_BERT,
    ),
    "bert-large": Model(
        "bert-large",
        "BERT-large (uncased)",
        n_layer=24,
        d_model=1024,
        n_heads=16,
        d_ff=4096,
        hub="bert-large-uncased",
        published=335_141_888,
        source="Devlin et al. 2019",
        paper="the BERT paper rounds it to 340M",
        **_BERT,
    ),
    "distilbert": Model(
        "distilbert",
        "DistilBERT (uncased)",
        arch="bert",
        style="distilbert",
        n_layer=6,
        d_model=768,
        n_heads=12,
        d_ff=3072,
        n_vocab=30522,
        n_ctx=512,
        head="none",
        hub="distilbert-base-uncased",
        published=66_362_880,
        source="Sanh et al. 2019",
        paper="the DistilBERT paper rounds it to 66M",
    ),
    "minilm-l6": Model(
        "minilm-l6",
        "all-MiniLM-L6-v2",
        arch="bert",
        style="bert",
        n_layer=6,
        d_model=384,
        n_heads=12,
        d_ff=1536,
        n_vocab=30522,
        n_ctx=512,
        n_types=2,
        pooler=True,
        head="none",
        hub="sentence-transformers/all-MiniLM-L6-v2",
        source="the model's config.json (Wang et al. 2020, fine-tuned by sentence-transformers)",
    ),
    "transformer-base": Model(
        "transformer-base",
        "Transformer (base)",
        n_layer=6,
        d_model=512,
        n_heads=8,
        d_ff=2048,
        paper="Vaswani et al. (Table 3) report 65 million parameters",
        D=100_000 * 25_000,
        D_note="the base model's training: 100,000 steps of about 25,000 source and "
        "25,000 target tokens (Vaswani et al. 2017)",
        **_VASWANI,
    ),
    "transformer-big": Model(
        "transformer-big",
        "Transformer (big)",
        n_layer=6,
        d_model=1024,
        n_heads=16,
        d_ff=4096,
        paper="Vaswani et al. (Table 3) report 213 million parameters",
        D=300_000 * 25_000,
        D_note="the big model's training: 300,000 steps of about 25,000 source and "
        "25,000 target tokens (Vaswani et al. 2017)",
        **_VASWANI,
    ),
}


def parse_presets(value, option: str) -> tuple[str, ...]:
    """``gpt2`` or ``gpt2,bert-base``: the CLI takes one value per option, so several are comma-separated."""
    names = value if isinstance(value, (list, tuple)) else str(value).split(",")
    names = tuple(str(n).strip() for n in names if str(n).strip())
    if not names:
        raise InputError(option, "expected a preset name such as gpt2")
    for name in names:
        if name not in PRESETS:
            raise InputError(option, f"unknown preset {name[:40]!r}; choose from {', '.join(PRESETS)}")
    if len(set(names)) != len(names):
        raise InputError(option, "a preset is named twice")
    if len(names) > MAX_PRESETS:
        raise InputError(option, f"at most {MAX_PRESETS} presets side by side")
    return names
