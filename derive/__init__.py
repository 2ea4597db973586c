"""derive: the mathematics of transformers as step-by-step worked solutions.

    import derive
    d = derive.derive("softmax", x=[1, 2, 3], precision=3)   # a Derivation; shows itself in Jupyter
    d.values["softmax"]                                       # [0.09, 0.245, 0.665]
    derive.render(d, "latex")                                 # any registered format
    derive.check("softmax", {"softmax": [0.09, 0.24, 0.67]}, x="1 2 3").all_correct

``derive.render`` and ``derive.check`` are the packages of those names, imported on first use;
both can be called as functions.
"""

from importlib import import_module

__version__ = "0.1.0"


def derive(topic: str, example: str | None = None, **options):
    """``derive("softmax", x=[1, 2, 3])`` returns the Derivation (it displays itself in Jupyter).

    Inputs may be strings, numbers, nested lists or NumPy arrays; ``precision=`` and ``exact=``
    set how it displays itself.
    """
    from derive.api import derive as _derive

    return _derive(topic, example, **options)


def __getattr__(name: str):
    """``derive.render`` and ``derive.check`` import lazily, so ``import derive`` stays instant."""
    if name in ("render", "check"):
        return import_module(f"derive.{name}")
    raise AttributeError(f"module 'derive' has no attribute {name!r}")


__all__ = ["check", "derive", "render"]
