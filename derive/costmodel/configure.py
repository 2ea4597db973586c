"""From options to models: a preset (or a checkpoint's config.json, or custom sizes) is the default,
every explicit option overrides it, and sizes that cannot describe a transformer are input errors."""

from __future__ import annotations

from dataclasses import replace

from derive.costmodel.presets import PRESETS, Model
from derive.errors import InputError

MAX_SIZE = 10**6

# Architecture-level defaults that change with --architecture.
_ARCH_DEFAULTS = {
    "gpt2": dict(n_types=0, pooler=False, head="tied", style="gpt2"),
    "bert": dict(n_types=2, pooler=True, head="none", style="bert"),
    "transformer": dict(n_types=0, pooler=False, head="tied", style="transformer"),
}
_SIZES = ("layers", "d_model", "heads", "d_ff", "vocab", "context")
_FIELDS = {
    "layers": "n_layer",
    "d_model": "d_model",
    "heads": "n_heads",
    "d_ff": "d_ff",
    "vocab": "n_vocab",
    "context": "n_ctx",
    "kv_heads": "n_kv",
    "d_head": "head_width",
    "token_types": "n_types",
    "pooler": "pooler",
    "head": "head",
}


def _custom(options) -> Model:
    missing = [
        f"--{n.replace('_', '-')}" for n in ("layers", "d_model", "heads", "vocab") if options.get(n) is None
    ]
    arch = options.get("architecture") or "gpt2"
    if options.get("context") is None and arch != "transformer":
        missing.append("--context")
    if missing:
        given = any(options.get(n) is not None for n in _SIZES)
        if not given:
            raise InputError(
                "--preset",
                f"give a preset (for example --preset gpt2) or a custom size with {' '.join(missing)}",
            )
        raise InputError(missing[0], "is needed for a custom size (or start from --preset NAME)")
    d_model = options["d_model"]
    kind = {"gpt2": "GPT-2-style model", "bert": "BERT-style model", "transformer": "encoder-decoder"}[arch]
    return Model(
        "custom",
        f"a custom {kind}",
        arch=arch,
        n_layer=options["layers"],
        d_model=d_model,
        n_heads=options["heads"],
        d_ff=4 * d_model,
        n_vocab=options["vocab"],
        n_ctx=options.get("context") or 512,
        source="the options given",
        **_ARCH_DEFAULTS[arch],
    )


def _override(base: Model, options, explicit_arch: bool) -> Model:
    changes, changed = {}, []
    if explicit_arch and options["architecture"] != base.arch:
        changes.update(arch=options["architecture"], **_ARCH_DEFAULTS[options["architecture"]])
        changed.append(f"architecture {options['architecture']}")
    for option, field in _FIELDS.items():
        value = options.get(option)
        if value is None:
            continue
        if field == "pooler":
            value = value == "yes"
        if getattr(base, field) != value and not (
            (field == "n_kv" and value == base.n_heads and not base.n_kv)
            or (field == "head_width" and value == base.d_head and not base.head_width)
        ):
            changes[field] = value
            changed.append(f"{option.replace('_', ' ')} {options[option]}")
    if options.get("d_model") is not None and options.get("d_ff") is None and base.key == "custom":
        changes.setdefault("d_ff", 4 * options["d_model"])
    if not changed or base.key == "custom":
        return replace(base, **changes)
    return replace(
        base, label=f"{base.label} (with {', '.join(changed)})", published=None, paper="", hub="", **changes
    )


def _workload(model: Model, options) -> Model:
    changes = {}
    for option, field in (("tokens", "s"), ("batch", "b"), ("dtype", "dtype")):
        if options.get(option) is not None:
            changes[field] = options[option]
    if options.get("training_tokens") is not None:
        changes.update(D=options["training_tokens"], D_note="")
    return replace(model, **changes)


def validate(model: Model, many: bool) -> None:
    """Sizes that cannot describe a transformer, named by the option a user would change."""
    where = f" ({model.label})" if many else ""
    for field in ("n_layer", "d_model", "n_heads", "d_ff", "n_vocab", "n_ctx", "n_types"):
        size = getattr(model, field)
        if (
            isinstance(size, bool)
            or not isinstance(size, int)
            or not (0 if field == "n_types" else 1) <= size <= MAX_SIZE
        ):
            # options are checked as they are parsed, so only a checkpoint's config.json gets here
            raise InputError(
                "--model",
                f"config.json gives {field} = {str(size)[:20]}, not a whole number from 1 to {MAX_SIZE}",
            )
    if not model.head_width and model.d_model % model.n_heads:
        raise InputError("--heads", f"{model.n_heads} heads do not divide d_model = {model.d_model}{where}")
    if model.n_kv and (model.n_kv > model.n_heads or model.n_heads % model.n_kv):
        raise InputError(
            "--kv-heads", f"{model.n_kv} key/value heads must divide the {model.n_heads} query heads{where}"
        )
    if model.n_types and model.arch != "bert":
        raise InputError(
            "--token-types", "only BERT-style models (--architecture bert) have segment embeddings"
        )
    if model.pooler and model.arch != "bert":
        raise InputError("--pooler", "only BERT-style models (--architecture bert) have a pooler")
    if model.arch != "transformer" and model.seq > model.n_ctx:
        raise InputError(
            "--tokens",
            f"{model.label} has {model.n_ctx} learned positions, so at most "
            f"{model.n_ctx} tokens (raise --context to model a longer one)",
        )


def resolve(options, checkpoint_config: Model | None = None) -> tuple[Model, ...]:
    """Presets (or a checkpoint's config, or a custom size), overridden by explicit options."""
    names = options.get("preset") or ()
    explicit_arch = options.get("architecture") is not None
    if names:
        bases = [PRESETS[n] for n in names]
    elif checkpoint_config is not None:
        bases = [checkpoint_config]
    else:
        bases = [_custom(options)]
    models = tuple(_workload(_override(b, options, explicit_arch), options) for b in bases)
    for model in models:
        validate(model, len(models) > 1)
    return models


def from_hf_config(config: dict, label: str) -> Model | None:
    """A Hugging Face ``config.json`` for BERT, DistilBERT or GPT-2, as a Model (else None)."""
    kind = config.get("model_type")
    try:
        if kind == "bert":
            return Model(
                "checkpoint",
                label,
                arch="bert",
                style="bert",
                n_layer=config["num_hidden_layers"],
                d_model=config["hidden_size"],
                n_heads=config["num_attention_heads"],
                d_ff=config["intermediate_size"],
                n_vocab=config["vocab_size"],
                n_ctx=config["max_position_embeddings"],
                n_types=config.get("type_vocab_size", 2),
                pooler=True,
                head="none",
                source="the checkpoint's config.json",
            )
        if kind == "distilbert":
            return Model(
                "checkpoint",
                label,
                arch="bert",
                style="distilbert",
                n_layer=config["n_layers"],
                d_model=config["dim"],
                n_heads=config["n_heads"],
                d_ff=config["hidden_dim"],
                n_vocab=config["vocab_size"],
                n_ctx=config["max_position_embeddings"],
                head="none",
                source="the checkpoint's config.json",
            )
        if kind == "gpt2":
            d_model = config["n_embd"]
            return Model(
                "checkpoint",
                label,
                arch="gpt2",
                style="gpt2",
                n_layer=config["n_layer"],
                d_model=d_model,
                n_heads=config["n_head"],
                d_ff=config.get("n_inner") or 4 * d_model,
                n_vocab=config["vocab_size"],
                n_ctx=config["n_positions"],
                head="tied",
                source="the checkpoint's config.json",
            )
    except (KeyError, TypeError):
        return None
    return None
