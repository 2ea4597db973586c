"""The Jinja2 environments: templates lay out pre-printed strings and never format numbers."""

from __future__ import annotations

from functools import cache
from pathlib import Path


def template_dir() -> Path:
    """Inside the wheel the templates sit in the package; in a checkout, beside it."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "templates"
    return packaged if packaged.is_dir() else here.parent / "templates"


@cache
def environment(folder: str, syntax: tuple[tuple[str, str], ...] = ()):
    """One environment per template folder; ``syntax`` overrides Jinja2's delimiters (LaTeX needs it)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir() / folder)),
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        **dict(syntax),
    )


def render_template(folder: str, name: str, syntax: tuple[tuple[str, str], ...] = (), **context) -> str:
    return environment(folder, syntax).get_template(name).render(**context)
