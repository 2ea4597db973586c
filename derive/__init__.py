"""derive: the mathematics of transformers as step-by-step worked solutions."""

__version__ = "0.1.0"


def derive(topic: str, example: str | None = None, **options):
    """``derive("softmax", x=[1, 2, 3])`` returns the Derivation (it displays itself in Jupyter)."""
    from derive.api import derive as _derive

    return _derive(topic, example, **options)


__all__ = ["derive"]
