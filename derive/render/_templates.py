"""The Jinja2 environment: templates lay out pre-printed strings and never format numbers."""

from __future__ import annotations

from functools import cache
from pathlib import Path


def template_dir() -> Path:
    """Inside the wheel the templates sit in the package; in a checkout, beside it."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "templates"
    return packaged if packaged.is_dir() else here.parent / "templates"


@cache
def environment(fmt: str):
    import jinja2

    options = {}
    if fmt == "latex":
        options = dict(
            block_start_string="((*",
            block_end_string="*))",
            variable_start_string="(((",
            variable_end_string=")))",
            comment_start_string="((#",
            comment_end_string="#))",
        )
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir() / fmt)),
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        **options,
    )


def render_template(fmt: str, name: str, **context) -> str:
    return environment(fmt).get_template(name).render(**context)
