"""Every option and argument that takes a path, tried with hostile and broken paths.

The options are found in the command tree: every click.Path parameter of every command (a topic's
path options are typed so from ``Option.path``), so a new path option is tried here without an edit;
only a new command needs its base invocation below (the completeness test says so). Each case must
give one line naming the option, exit 2, no traceback, and leave the folder as it was: no file
made, none changed, no temporary file left behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import pytest

from derive import registry
from derive.cli import main
from derive.path_type import PathType

OUTPUTS = {"output", "out", "figures"}  # the path parameters derive writes to
# Path options every topic shares: tried on one topic, since one piece of code serves them all.
COMMON = {"output", "figures"}
COMMON_TOPIC = "positional-encoding"
# Per command, what else it needs to run; {name} is a path parameter's valid value (VALID) unless
# it is the one under test. Optional path options not listed are appended as --flag VALUE.
BASE = {
    "tokenize": ["--text", "unaffable"],
    "vectorize": ["--text", "unaffable"],
    "masked-lm": ["--example", "basic"],
    "embeddings": ["--words", "king queen"],
    "bpe-train": [],
    "wordpiece-train": [],
    "cost": [],
    "forward": ["--text", "hi"],
    COMMON_TOPIC: ["--example", "paper", "-f", "markdown", "-o", "{output}"],
    "worksheet": ["{spec_file}", "--out", "{out}", "--roster", "{roster}"],
    "grade": ["{folder}", "-o", "{output}"],
    "export": ["{folder}", "--to", "gift", "-o", "{output}"],
    "check ANSWERS.toml": ["{answers_file}"],
}
SUFFIX = {("grade", "output"): ".csv", ("check ANSWERS.toml", "answers_file"): ".toml"}


def _path_parameters(command: click.Command):
    return [p for p in command.params if isinstance(p.type, click.Path)]


def _shared(command: str, param: str) -> bool:
    """A path option every topic has, tried on COMMON_TOPIC only."""
    return param in COMMON and command in registry.names() and command != COMMON_TOPIC


def _commands():
    """(name, click command) for every command that takes a path, the check-a-file form included."""
    ctx = click.Context(main)
    found = []
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        if isinstance(command, click.Group):
            continue
        found.append((name, command))
    check = main.get_command(ctx, "check")
    found.append(("check ANSWERS.toml", check.get_command(click.Context(check), "ANSWERS.toml")))
    return found


def _targets():
    """(command, parameter name, flag or metavar, 'file' | 'folder' | 'either', input | output)."""
    targets = []
    for name, command in _commands():
        params = _path_parameters(command)
        if name == "check ANSWERS.toml":  # the answer file is the command's own name
            targets.append((name, "answers_file", "ANSWERS", "file", "input"))
        for param in params:
            if _shared(name, param.name):
                continue
            kind = "file" if not param.type.dir_okay else "folder" if not param.type.file_okay else "either"
            flag = param.opts[-1] if isinstance(param, click.Option) else param.human_readable_name
            role = "output" if param.name in OUTPUTS else "input"
            targets.append((name, param.name, flag, kind, role))
    return targets


TARGETS = _targets()


def test_every_command_with_a_path_has_a_base_invocation():
    missing = sorted({name for name, *_ in TARGETS} - set(BASE))
    assert not missing, f"add a base invocation to BASE in tests/test_paths.py for {missing}"
    # every required path parameter must have its slot in the base invocation
    for name, command in _commands():
        for param in _path_parameters(command):
            if param.required and not _shared(name, param.name):
                assert f"{{{param.name}}}" in BASE[name], (name, param.name)


def test_every_path_parameter_has_the_shared_type():
    """derive.path_type refuses an empty path, which click.Path takes for the current folder."""
    for name, command in _commands():
        for param in _path_parameters(command):
            assert isinstance(param.type, PathType), (name, param.name)


def test_a_topic_option_that_names_a_file_declares_it():
    """A topic option is found here by its type, which Option.path gives: one whose help speaks of
    a file or a folder but lacks it would escape every case below."""
    import re

    for topic in registry.all_topics():
        for option in topic.options:
            if re.search(r"\b(file|folder|directory|path)\b", option.help, re.IGNORECASE):
                assert option.path in ("file", "folder", "either"), (topic.name, option.name)


def test_the_known_path_options_are_all_found():
    """The discovery must see the options this file was written for (a typo would hide them)."""
    found = {(name, flag) for name, _, flag, _, _ in TARGETS}
    for expected in [
        ("tokenize", "--vocab"),
        ("vectorize", "--vocab"),
        ("masked-lm", "--vocab"),
        ("embeddings", "--vectors-file"),
        ("bpe-train", "--corpus-file"),
        ("wordpiece-train", "--corpus-file"),
        ("cost", "--model"),
        ("forward", "--model"),
        (COMMON_TOPIC, "--output"),
        (COMMON_TOPIC, "--figures"),
        ("worksheet", "SPEC.toml"),
        ("worksheet", "--roster"),
        ("worksheet", "--out"),
        ("check ANSWERS.toml", "ANSWERS"),
        ("check ANSWERS.toml", "--manifest"),
        ("grade", "DIR"),
        ("grade", "--answers"),
        ("grade", "--responses"),
        ("grade", "--output"),
        ("export", "DIR"),
        ("export", "--output"),
    ]:
        assert expected in found, expected


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _unreadable_file(where: Path, name: str) -> Path | None:
    """A regular file this process cannot read: mode 000, or as root (who reads anything) a link
    to a write-only kernel setting, which root cannot read either."""
    path = where / name
    if not _as_root():
        path.write_text("x")
        path.chmod(0)
        return path
    for target in ("/proc/sys/vm/compact_memory", "/proc/sys/vm/drop_caches"):
        try:
            os.close(os.open(target, os.O_RDONLY))
        except PermissionError:
            path.symlink_to(target)
            return path
        except OSError:
            continue
    return None


def _unwritable_folder(where: Path) -> Path | None:
    """A folder no file can be made in: mode 555, or as root a kernel folder that refuses."""
    candidates = [where / "read-only"] if not _as_root() else [Path("/sys"), Path("/proc/self")]
    for folder in candidates:
        if folder.parent == where:
            folder.mkdir()
            folder.chmod(0o555)
        try:
            os.close(tempfile.mkstemp(dir=folder)[0])
        except OSError:
            return folder
    return None


INPUT_CASES = [
    "empty",
    "long-name",
    "long-component",
    "through-a-file",
    "wrong-kind",
    "unreadable",
    "dangling-link",
    "link-loop",
    "nul",
    "newline",
    "escape",
    "proc-self-mem",
    "undecodable",
    "too-deep",
]
OUTPUT_CASES = [
    "empty",
    "long-name",
    "long-component",
    "through-a-file",
    "wrong-kind",
    "missing-folder",
    "dangling-link",
    "link-loop",
    "nul",
    "newline",
    "escape",
    "undecodable",
    "too-deep",
    "proc-self-mem",
    "exists",
    "read-only-folder",
]


def _hostile(case: str, kind: str, where: Path, suffix: str) -> str:
    (where / f"a-file{suffix}").write_text("keep")
    (where / f"a-folder{suffix}").mkdir()
    named = {
        "empty": "",  # Path("") is the current folder
        "long-name": "a" * 300 + suffix,
        "long-component": "é" * 128 + suffix,  # 128 characters, 256 bytes
        "through-a-file": f"{where}/a-file{suffix}/x{suffix}",
        "missing-folder": f"{where / 'no-such-folder'}/x{suffix}",
        "nul": f"{where}/a\x00b{suffix}",
        "newline": f"{where}/a\nb{suffix}",
        "escape": f"{where}/a\x1b[31mb{suffix}",
        "undecodable": f"{where}/a\udcffb{suffix}",  # how Python hands on the bytes a\xffb
        "too-deep": str(where) + "/d" * 3000 + suffix,
    }
    if case in named:
        return named[case]
    if case == "proc-self-mem":  # a file that fails when read; a link to it where a suffix is needed
        if not suffix:
            return "/proc/self/mem"
        (where / f"mem{suffix}").symlink_to("/proc/self/mem")
        return str(where / f"mem{suffix}")
    if case == "wrong-kind":
        return str(where / (f"a-folder{suffix}" if kind == "file" else f"a-file{suffix}"))
    if case == "dangling-link":
        (where / f"dangling{suffix}").symlink_to(where / "nowhere")
        return str(where / f"dangling{suffix}")
    if case == "link-loop":
        (where / f"loop{suffix}").symlink_to(where / f"loop{suffix}")
        return str(where / f"loop{suffix}")
    if case == "unreadable" and kind == "folder":
        if _as_root():
            pytest.skip("root lists any folder, and no kernel folder refuses root a listing")
        (where / "unreadable").mkdir(mode=0)
        return str(where / "unreadable")
    if case == "unreadable":
        path = _unreadable_file(where, f"unreadable{suffix}")
        if path is None:
            pytest.skip("running as root with no write-only /proc/sys file to stand for an unreadable one")
        return str(path)
    if case == "exists":
        target = where / (f"existing{suffix}" if kind == "file" else "existing")
        if kind == "file":
            target.write_text("keep")
        else:
            target.mkdir()
            (target / "keep.txt").write_text("keep")
        return str(target)
    if case == "read-only-folder":
        folder = _unwritable_folder(where)
        if folder is None:
            pytest.skip("no folder here refuses new files")
        return f"{folder}/new{suffix}"
    raise AssertionError(case)


@pytest.fixture(scope="module")
def worksheet_folder(tmp_path_factory):
    base = tmp_path_factory.mktemp("base")
    spec = base / "spec.toml"
    spec.write_text(
        'title = "T"\nseed = 1\ndecimals = 2\n[[problem]]\ntopic = "softmax"\nask = ["softmax"]\n'
    )
    (base / "roster.csv").write_text("id,name\ns01,Ann\n")
    out = base / "ws"
    subprocess.run(
        [sys.executable, "-m", "derive", "worksheet", str(spec), "--out", str(out), "--students", "1"],
        check=True,
        capture_output=True,
    )
    return base


def _valid(name: str, base: Path, where: Path) -> dict[str, str]:
    return {
        "spec_file": str(base / "spec.toml"),
        "out": str(where / "new-worksheet"),
        "folder": str(base / "ws"),
        "output": str(where / ("new.csv" if name == "grade" else "new.md")),
        "answers_file": str(base / "ws" / "answers" / "s01.toml"),
        "roster": str(base / "roster.csv"),
    }


def _argv(command: str, param: str, flag: str, value: str, base: Path, where: Path) -> list[str]:
    valid = _valid(command, base, where)
    argv = [command.split()[0]]
    template = BASE[command]
    filled = [value if part == f"{{{param}}}" else part.format(**valid) for part in template]
    if f"{{{param}}}" not in template:
        filled += [flag, value]
    return argv + filled


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` (hidden ones included), with a regular file's bytes."""
    seen = {}
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = Path(root) / name
            is_file = path.is_file() and not path.is_symlink() and os.access(path, os.R_OK)
            seen[str(path.relative_to(folder))] = path.read_bytes() if is_file else None
    return seen


def _cases():
    for command, param, flag, kind, role in TARGETS:
        for case in INPUT_CASES if role == "input" else OUTPUT_CASES:
            if case == "exists" and param == "figures":
                continue  # writing into an existing figure folder is allowed: tests/test_figures.py
            if case == "empty" and param == "answers_file":
                continue  # the answer file is a command name: an empty one is no command
            yield pytest.param(command, param, flag, kind, role, case, id=f"{command}-{flag}-{case}")


@pytest.mark.parametrize("command,param,flag,kind,role,case", list(_cases()))
def test_a_hostile_path_is_one_line_naming_the_option(
    cli, worksheet_folder, tmp_path, command, param, flag, kind, role, case
):
    where = tmp_path / "work"
    where.mkdir()
    suffix = SUFFIX.get((command, param), "")
    value = _hostile(case, kind, where, suffix)
    argv = _argv(command, param, flag, value, worksheet_folder, where)
    before = _snapshot(where)
    base_before = _snapshot(worksheet_folder)
    code, out, err = cli(*argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("Error: "), (argv, code, out, err)
    assert "Traceback" not in err and "internal error" not in err, err
    named = {flag} if flag.startswith("-") else {flag, flag.split(".")[0]}
    if case == "nul" and not flag.startswith("-"):
        named.add("argument")  # a NUL cannot reach a real command line; run() names its place
    if case == "nul" and flag == "--output":
        named.add("-o")
    assert any(name in lines[0] for name in named), (named, lines[0])
    assert _snapshot(where) == before, f"{argv}: the folder changed"
    assert _snapshot(worksheet_folder) == base_before, f"{argv}: the worksheet folder changed"


def test_undecodable_bytes_on_a_real_command_line(tmp_path):
    """A name that is not UTF-8, as a shell passes it: one line, the bytes spelled out, exit 2."""
    spec = os.fsencode(tmp_path) + b"/spec\xff.toml"
    out = os.fsencode(tmp_path) + b"/out\xff"
    done = subprocess.run(
        [sys.executable, "-m", "derive", "worksheet", spec, "--out", out, "--students", "1"],
        capture_output=True,
        timeout=120,
    )
    err = done.stderr.decode("utf-8")
    assert done.returncode == 2 and len(err.strip().splitlines()) == 1, err
    assert "\\udcff" in err and "Traceback" not in err, err
    assert sorted(os.listdir(tmp_path)) == []


def test_output_through_force_onto_a_device_file_is_refused(cli):
    """--force replaces only a regular file; /proc/self/mem cannot take a rename."""
    code, out, err = cli("softmax", "--x", "1 2", "-f", "markdown", "-o", "/proc/self/mem", "--force")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--output" in err, err


@pytest.mark.parametrize(
    "argv",
    [
        ["softmax", "--x", "1 2", "-o", "{folder}/new.md"],
        ["positional-encoding", "--example", "small", "-o", "out.md", "--figures", "{folder}/figures"],
        ["worksheet", "{spec}", "--out", "{folder}/new", "--students", "1"],
        ["grade", "{ws}", "-o", "{folder}/grades.csv"],
        ["export", "{ws}", "--to", "gift", "-o", "{folder}/quiz.gift"],
    ],
    ids=["output", "figures", "worksheet", "grade", "export"],
)
def test_a_folder_the_user_cannot_write_is_refused_before_any_work(
    cli, worksheet_folder, tmp_path, monkeypatch, argv
):
    """Checked with os.access, so a class's worksheet is not computed for nothing (root passes
    os.access everywhere, so the refusal is simulated for this one folder)."""
    import derive.output
    import derive.worksheet.folder

    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(
        derive.output.os, "access", lambda p, mode, **kw: Path(p) != locked and real(p, mode, **kw)
    )
    monkeypatch.setattr(derive.worksheet.folder, "files", lambda *a: pytest.fail("computed first"))
    monkeypatch.chdir(tmp_path)
    values = {
        "folder": str(locked),
        "spec": str(worksheet_folder / "spec.toml"),
        "ws": str(worksheet_folder / "ws"),
    }
    code, out, err = cli(*(part.format(**values) for part in argv))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "is not writable" in err, err
    assert list(locked.iterdir()) == [] and sorted(os.listdir(tmp_path)) == ["locked"]


def test_a_hostile_file_name_in_the_answers_folder_is_spelled_out(cli, worksheet_folder, tmp_path):
    """derive grade lists a file it cannot read by name: an escape in the name must not reach the
    terminal or the class report as a live control sequence."""
    import shutil

    folder = tmp_path / "ws"
    shutil.copytree(worksheet_folder / "ws", folder)
    (folder / "answers" / "e\x1b[2Jvil.toml").write_text("not toml")
    code, out, err = cli("grade", str(folder), "-o", str(tmp_path / "grades.csv"))
    assert code == 0, err
    reports = [(tmp_path / name).read_text() for name in ("grades.md", "grades.html")]
    for text in (out, *reports):
        assert "\x1b" not in text and "\\x1b" in text
