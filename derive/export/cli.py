"""``derive export DIR --to moodle|gift|qti -o FILE``: a worksheet folder as a quiz a course site imports."""

from __future__ import annotations

import click

from derive import path_type
from derive.export import FORMATS


@click.command("export")
@click.argument("folder", metavar="DIR", type=path_type.folder())
@click.option("--to", "to", required=True, type=click.Choice(FORMATS), help="the LMS format")
@click.option("-o", "--output", required=True, type=path_type.file(), help="the file to write")
@click.option("--force", is_flag=True, help="overwrite an existing --output file")
def export(folder, to, output, force):
    """Quiz files from a worksheet folder: Moodle XML, GIFT, or a QTI 1.2 zip for Canvas."""
    from derive.export import export as build
    from derive.output import check_target, write_atomic

    check_target(output, force)
    data = build(folder, to)
    write_atomic(output, data, force=force)
    from derive.visible import one_line

    click.echo(f"wrote {one_line(output)} ({to})")
