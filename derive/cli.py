"""The ``derive`` command: one sub-command per topic, built from the topic's options.

Topic modules are imported only when their command runs, so start-up stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from derive import path_type
from derive.errors import DeriveError, InputError
from derive.export.cli import export
from derive.practice import practice
from derive.worksheet.cli import worksheet


def _topic_options(topic):
    """Click options generated from the topic's own Option list."""
    decorators = []
    for option in topic.options:
        if option.flag_value is not None:
            decorators.append(
                click.option(
                    option.flag, option.name, flag_value=option.flag_value, default=None, help=option.help
                )
            )
        else:
            shown = f" [default: {option.default}]" if option.default is not None else ""
            decorators.append(
                click.option(
                    option.flag,
                    option.name,
                    default=None,
                    help=option.help + shown,
                    **_value_type(option.path),
                )
            )
    return decorators


def _value_type(path: str | None) -> dict:
    """A topic option's click type: a plain value, or a path click leaves to derive.files to check."""
    if path is None:
        return {"metavar": "VALUE"}
    metavar = {"file": "FILE", "folder": "DIR", "either": "PATH"}[path]
    kind = {"file": path_type.file, "folder": path_type.folder, "either": path_type.either}[path]
    return {"metavar": metavar, "type": kind()}


def _apply(decorators, function):
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _split_raw(topic, kwargs):
    names = {o.name for o in topic.options}
    return {k: v for k, v in kwargs.items() if k in names}


def _topic_command(name: str) -> click.Command:
    from derive import registry
    from derive.render.base import EXACT_CHOICES

    topic = registry.get(name)

    def run_topic(fmt, output, force, precision, exact, example, fragment, figures, engine, **kwargs):
        from derive import render
        from derive.api import prepare
        from derive.model import run

        fmt = _output_format(fmt, output)
        declared = render.get(fmt).declared_settings()
        settings = {"precision": precision, "exact": exact}
        if fragment:
            if "fragment" not in declared:
                raise click.UsageError(f"--fragment does not go with --format {fmt}")
            settings["fragment"] = True
        if engine is not None:
            if "engine" not in declared:
                raise click.UsageError(f"--engine does not go with --format {fmt}")
            settings["engine"] = engine
        if figures is not None and "figures" not in declared:
            raise click.UsageError(f"--figures does not go with --format {fmt}")
        if output is not None:
            from derive.output import check_target

            check_target(output, force)
        elif render.get(fmt).binary and sys.stdout.isatty():
            raise InputError("--output", f"{fmt} is binary; write it with -o FILE or redirect stdout")
        sink = None
        if "figures" in declared and (figures is not None or output is not None):
            from derive import figures as drawing

            folder = figures if figures is not None else drawing.default_folder(output)
            base = Path(output).parent if output is not None else Path.cwd()
            option = "--figures" if figures is not None else "--output"
            sink = settings["figures"] = drawing.FigureSink(folder, base, force, option)
            sink.check()
        from derive import budget

        raw = _split_raw(topic, kwargs)
        givens = prepare(topic, raw, example)
        result = budget.within(
            budget.describe({**raw, "example": example}),
            lambda: _rendered(run(topic, givens), fmt, output, settings),
        )
        if sink is not None:
            sink.write()
        try:
            _emit(result, fmt, output, force)
        except DeriveError:
            if sink is not None:
                sink.discard()
            raise

    common = [
        click.option(
            "-f",
            "--format",
            "fmt",
            type=click.Choice(_format_names()),
            default=None,
            help="output format [default: from the --output extension, else terminal]",
        ),
        click.option(
            "-o",
            "--output",
            type=path_type.file(),
            help=f"write to FILE atomically; its extension picks the format ({_extensions()})",
        ),
        click.option("--force", is_flag=True, help="overwrite an existing --output file"),
        click.option("--precision", type=click.IntRange(0, 12), default=4, help="decimals shown"),
        click.option(
            "--exact",
            type=click.Choice(EXACT_CHOICES),
            default="auto",
            show_default=True,
            help="exact forms: auto shows ≈ decimals where an exact form is too big for the page; "
            "always keeps every exact form; never shows decimals wherever they are shorter",
        ),
        click.option(
            "--example", metavar="NAME", help=f"built-in example: {', '.join(topic.examples) or 'none'}"
        ),
        click.option("--fragment", is_flag=True, help="LaTeX body only, for pasting"),
        click.option(
            "--engine",
            type=click.Choice(("typst", "latex")),
            default=None,
            help="PDF engine: typst (built in) or latex (latexmk/pdflatex) [default: typst]",
        ),
        click.option(
            "--figures",
            type=path_type.folder(),
            default=None,
            help="folder for PNG figures (default with -o: FILE's name + '-figures')",
        ),
    ]
    return click.command(name, help=topic.summary)(_apply(common + _topic_options(topic), run_topic))


def _format_names() -> tuple[str, ...]:
    from derive import render

    return render.names()


def _extensions() -> str:
    from derive import render

    return ", ".join(ext for name in render.names() for ext in render.get(name).extensions)


def _output_format(fmt: str | None, output: str | None) -> str:
    """``-f`` if given, else the format the ``-o`` extension names; a contradiction is an error."""
    from derive import render

    if output is None:
        return fmt or render.DEFAULT
    if fmt is None:
        return render.for_path(output)
    implied = render.named_by(output)
    if implied is not None and implied != fmt:
        raise InputError("--format", f"{fmt} contradicts {output}, whose extension means {implied}")
    return fmt


def _rendered(derivation, fmt, output, settings):
    from derive import render

    if fmt == "terminal" and output is not None:
        settings["color"] = False
    return render.render(derivation, fmt, **settings)


def _emit(result, fmt, output, force):
    from derive import render

    renderer = render.get(fmt)
    if fmt == "terminal" and output is None:
        from derive.render import terminal

        terminal.echo(result)
        return
    if output is not None:
        from derive.output import write_atomic

        write_atomic(output, result, force=force)
    elif renderer.binary:
        sys.stdout.buffer.write(result)
        sys.stdout.flush()
    else:
        click.echo(result, nl=False)


def _check_command(name: str) -> click.Command:
    from derive import registry

    topic = registry.get(name)

    def run_check(fmt, answers, decimals, rtol, atol, reveal, example, **kwargs):
        from derive import budget, check

        raw = _split_raw(topic, kwargs)
        report = budget.within(
            budget.describe({**raw, "answer": " ".join(answers)}),
            lambda: check.check(
                topic, raw, answers, example=example, rtol=rtol, atol=atol, decimals=decimals
            ),
        )
        click.echo(check.render_report(report, fmt, reveal), nl=False)
        sys.exit(0 if report.all_correct else 1)

    common = [
        click.option("-f", "--format", "fmt", type=click.Choice(("terminal", "json")), default="terminal"),
        click.option(
            "--answer",
            "answers",
            multiple=True,
            metavar="ID=VALUE",
            help=f"a hand-computed answer; ids: {', '.join(topic.answer_ids)}",
        ),
        *_grading_options(),
        click.option("--example", metavar="NAME", help="built-in example to take the inputs from"),
    ]
    return click.command(name, help=topic.summary)(_apply(common + _topic_options(topic), run_check))


def _grading_options(reveal: bool = True):
    """The precision options shared by every way of checking answers."""
    options = [
        click.option(
            "--decimals",
            type=click.IntRange(0, 12),
            default=None,
            help="the decimals answers must be given to [default: the worksheet's, else 2]",
        ),
        click.option("--rtol", type=float, default=None, help="relative tolerance (overrides --decimals)"),
        click.option("--atol", type=float, default=None, help="absolute tolerance (overrides --decimals)"),
    ]
    if reveal:
        options.append(
            click.option("--reveal", is_flag=True, help="show the expected values (hidden by default)")
        )
    return options


class _TopicGroup(click.Group):
    """Lists topic commands without importing them; builds one only when it is called."""

    def __init__(self, *args, factory=None, extra=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._factory = factory

    def list_commands(self, ctx):
        from derive import registry

        return sorted(set(super().list_commands(ctx)) | set(registry.names()))

    def format_commands(self, ctx, formatter):
        """As click does, but each command's summary is shown whole and wrapped, never cut with '...'."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=sys.maxsize)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        from derive import registry

        if name not in registry.names():
            return None
        return self._factory(name)


@click.group(
    cls=_TopicGroup, factory=_topic_command, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="derive", message="derive %(version)s")
def main():
    """Worked solutions for the mathematics of transformers."""


@main.command()
def topics():
    """List every topic, with its examples."""

    from derive import registry
    from derive.render.terminal import columns

    width = columns()
    for topic in registry.all_topics():
        click.echo(_hanging(f"{topic.name:22} {topic.summary}", width, 23))
        for example, note in topic.example_notes.items():
            click.echo(_hanging(f"{'':22}   --example {example}: {note}", width, 27))


def _hanging(line: str, width: int, indent: int) -> str:
    """``line`` wrapped to ``width`` columns, continuation lines indented by ``indent`` spaces."""
    import textwrap

    return textwrap.fill(
        line, width=width, subsequent_indent=" " * indent, break_long_words=False, break_on_hyphens=False
    )


class _CheckGroup(_TopicGroup):
    """``derive check TOPIC ...`` or ``derive check ANSWERS.toml``: a name ending in .toml is a file."""

    def get_command(self, ctx, name):
        from derive.grading import cli as grading_cli

        if grading_cli.looks_like_answer_file(name):
            return grading_cli.check_file_command(name, _grading_options())
        return super().get_command(ctx, name)


@main.group(cls=_CheckGroup, factory=_check_command)
def check():
    """Check hand-computed answers: derive check TOPIC [options] --answer ID=VALUE (repeatable),
    or a filled answer file: derive check ANSWERS.toml [--manifest DIR/manifest.json]"""


main.add_command(worksheet)


def _grade_command():
    from derive.grading import cli as grading_cli

    return grading_cli.grade_command(_grading_options(reveal=False))


main.add_command(_grade_command())
main.add_command(export)
main.add_command(practice)


def _error(message: str) -> None:
    """One line on stderr; user text in it (a path, a value) shows its hidden characters spelled out."""
    from derive.visible import one_line

    click.echo(f"Error: {one_line(message)}", err=True)


def _refuse_nul(argv) -> None:
    """A command line cannot carry a NUL character; an in-process caller's is refused the same way."""
    for at, argument in enumerate(argv or ()):
        if "\x00" in str(argument):
            before = str(argv[at - 1]) if at else ""
            option = before if before.startswith("-") else str(argument).split("=")[0]
            raise InputError(option if option.startswith("-") else "argument", "contains a NUL character")


def run(argv=None) -> int:
    """Entry point: every error becomes one line on stderr and exit code 2."""
    try:
        _refuse_nul(argv)
        main.main(args=argv, prog_name="derive", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.UsageError as error:
        _error(error.format_message())
        return 2
    except DeriveError as error:
        _error(str(error))
        return 2
    except BrokenPipeError:
        return 0
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 1
    except Exception as error:
        if os.environ.get("DERIVE_DEBUG"):
            raise
        _error(f"internal error ({type(error).__name__}: {error}); set DERIVE_DEBUG=1 for details")
        return 1
    return 0


def entry() -> None:
    sys.exit(run())
