"""``derive worksheet SPEC.toml --out DIR``: sheets, keys, blank answer files and a manifest for a class."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from derive import path_type
from derive.errors import InputError


@click.command("worksheet")
@click.argument("spec_file", metavar="SPEC.toml", type=path_type.file())
@click.option("--out", "out", required=True, type=path_type.folder(), help="the folder to write")
@click.option("--students", type=int, default=None, help="a class of N students, numbered s01 … sNN")
@click.option("--roster", type=path_type.file(), default=None, help="a CSV with columns id,name")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="overrides the spec's seed")
@click.option(
    "--duplex", is_flag=True, help="in sheets.pdf and keys.pdf, start every student on a new sheet of paper"
)
@click.option("--force", is_flag=True, help="replace an existing worksheet folder")
def worksheet(spec_file, out, students, roster, seed, duplex, force):
    """Per-student worksheet PDFs with seeded variants, their keys, blank answer files and a manifest."""
    from derive.worksheet import folder, spec

    if (students is None) == (roster is None):
        raise InputError("--students", "give either --students N or --roster FILE.csv")
    target = Path(out)
    folder.check_target(target, force)
    loaded = spec.load_spec(spec_file)
    if seed is not None:
        loaded = replace(loaded, seed=seed)
    people = spec.numbered(students) if roster is None else spec.load_roster(roster)
    folder.write(target, folder.files(loaded, people, duplex), force)
    from derive.visible import one_line

    click.echo(f"wrote {len(people)} sheets and keys, answers/ and manifest.json to {one_line(str(target))}")
