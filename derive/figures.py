"""Draw Figure blocks as PNG with matplotlib, imported only here and only when a figure is written.

Output is byte-identical from run to run: a fixed size, dpi and font, and no timestamp or
software metadata in the file.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

from derive.errors import DeriveError, InputError, OutputError
from derive.files import shown
from derive.output import check_name, check_target, check_writable, write_atomic

DPI = 150
SIZE = (5.0, 3.6)


def pyplot():
    """pyplot on the Agg backend, set up for byte-identical files (fixed font, svg hash salt)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "axes.titlesize": 10,
            "svg.hashsalt": "derive",
            "text.parse_math": False,
            "path.simplify": True,
        }
    )
    return plt


def _heatmap(ax, fig, data):
    values = data["values"]
    image = ax.imshow(values, cmap="viridis", aspect="auto")
    ax.set_xticks(
        range(len(data["col_labels"])), data["col_labels"], rotation=45 if len(data["col_labels"]) > 6 else 0
    )
    ax.set_yticks(range(len(data["row_labels"])), data["row_labels"])
    ax.set_xlabel(data.get("xlabel", ""))
    ax.set_ylabel(data.get("ylabel", ""))
    if len(values) * len(values[0]) <= 64:
        top = max(max(row) for row in values)
        for r, row in enumerate(values):
            for c, value in enumerate(row):
                ax.text(
                    c,
                    r,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    family="DejaVu Sans",
                    color="black" if value > 0.6 * top else "white",
                )
    fig.colorbar(image, ax=ax)


def _curves(ax, fig, data):
    for label, ys in data["series"].items():
        ax.plot(data["x"], ys, label=label, linewidth=1.2)
    for label, (x, y) in data.get("points", {}).items():
        ax.plot([x], [y], "o", color="black", markersize=4, label=label)
    ax.set_xlabel(data["xlabel"])
    ax.set_ylabel(data["ylabel"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")


def _vectors(ax, fig, data):
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    extent = 1.0
    for index, (label, (x, y)) in enumerate(data["vectors"].items()):
        colour = colours[index % len(colours)]
        ax.annotate("", xy=(x, y), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.6})
        ax.text(x * 1.06, y * 1.06, label, color=colour)
        extent = max(extent, abs(x), abs(y))
    if len(data["vectors"]) == 2:
        _angle_arc(ax, *data["vectors"].values(), radius=extent * 0.3)
    ax.set_xlim(-extent * 1.25, extent * 1.25)
    ax.set_ylim(-extent * 1.25, extent * 1.25)
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("dimension 1")
    ax.set_ylabel("dimension 2")


def _angle_arc(ax, a, b, radius):
    import math

    from matplotlib.patches import Arc

    start, end = math.degrees(math.atan2(a[1], a[0])), math.degrees(math.atan2(b[1], b[0]))
    if (end - start) % 360 > 180:
        start, end = end, start
    ax.add_patch(Arc((0, 0), 2 * radius, 2 * radius, theta1=start, theta2=end, color="black", lw=1))
    middle = math.radians(start + ((end - start) % 360) / 2)
    angle = (end - start) % 360
    ax.text(
        1.25 * radius * math.cos(middle),
        1.25 * radius * math.sin(middle),
        f"θ = {angle:.1f}°",
        ha="center",
        va="center",
        fontsize=8,
    )


def _paths(ax, fig, data):
    if data.get("circle"):
        import math

        turn = [2 * math.pi * k / 360 for k in range(361)]
        ax.plot([math.cos(a) for a in turn], [math.sin(a) for a in turn], color="lightgrey", lw=1)
        ax.set_xlim(-1.2, 1.2)
        ax.set_ylim(-1.2, 1.2)
        ax.set_aspect("equal")
    for index, (label, points) in enumerate(data["paths"].items()):
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        line = ax.plot(xs, ys, lw=1.4, label=label, color=f"C{index % 10}")[0]
        ax.plot(xs[:1], ys[:1], "o", color=line.get_color(), markersize=4)
        ax.plot(xs[-1:], ys[-1:], "x", color=line.get_color(), markersize=6)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_xlabel("dimension 1")
    ax.set_ylabel("dimension 2")


_DRAW = {"heatmap": _heatmap, "curves": _curves, "vectors": _vectors, "paths": _paths}


def draw_png(figure) -> bytes:
    if figure.kind not in _DRAW:
        raise ValueError(f"unknown figure kind {figure.kind!r}")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI)
    try:
        _DRAW[figure.kind](ax, fig, figure.data)
        ax.set_title(figure.title)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(fig)


class FigureSink:
    """Draws each figure once and tells renderers the path to reference; writes nothing until ``write``.

    Renderers call ``save`` while the document is made: the figure is drawn in memory and its
    target checked (a folder we may write, no file clobbered without ``force``). ``write`` puts
    every PNG in place only once the whole document exists, so a refusal found later in the run
    leaves no figure behind; ``discard`` removes the new ones again if the document itself then
    cannot be written. Errors name ``option``: --figures, or --output when the folder is the
    default one beside the output file.
    """

    def __init__(
        self,
        folder: str | Path,
        relative_to: str | Path | None = None,
        force: bool = False,
        option: str = "--figures",
    ):
        self.folder = Path(folder)
        self.option = option
        self.base = Path(relative_to) if relative_to is not None else None
        self.force = force
        self.written: dict[str, str] = {}
        self.pending: dict[Path, bytes] = {}
        self._created: list[Path] = []

    def check(self) -> None:
        """Refuse a figure folder that cannot be made or written, before any work is done."""
        check_name(self.folder, self.option)
        try:
            if os.path.lexists(self.folder) and not self.folder.is_dir():  # a dangling link or a loop too
                raise InputError(self.option, f"{shown(self.folder)} is not a folder")
            if not self.folder.exists() and not self.folder.parent.is_dir():
                raise InputError(self.option, f"folder {shown(self.folder.parent)} does not exist")
            check_writable(self.folder if self.folder.exists() else self.folder.parent, self.option)
        except OSError as error:
            raise InputError(self.option, f"{shown(self.folder)}: {error.strerror or error}") from None

    def save(self, figure) -> str:
        stem = re.sub(r"[^a-z0-9-]+", "-", figure.name.lower()).strip("-") or "figure"
        if stem not in self.written:
            self.check()
            path = self.folder / f"{stem}.png"
            reference = _relative(path, self.base, self.option)
            if self.folder.is_dir():
                check_target(path, self.force, self.option)
            self.pending[path] = draw_png(figure)
            self.written[stem] = reference
        return self.written[stem]

    def write(self) -> None:
        """Put every drawn figure in place (atomically, each no-clobber unless ``force``)."""
        if not self.pending:
            return
        self.check()
        try:
            if not self.folder.exists():
                self.folder.mkdir()
                self._created.append(self.folder)
        except OSError as error:
            raise OutputError(
                f"{self.option}: could not make {shown(self.folder)}: {error.strerror or error}"
            ) from None
        try:
            for path, data in self.pending.items():
                existed = path.exists()
                write_atomic(path, data, force=self.force, option=self.option)
                if not existed:
                    self._created.append(path)
        except DeriveError:
            self.discard()
            raise
        self.pending = {}

    def discard(self) -> None:
        """Remove the files and the folder ``write`` made (a replaced file cannot come back)."""
        for path in reversed(self._created):
            with contextlib.suppress(OSError):
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink()
        self._created = []


_SAFE_PATH = re.compile(r"^[A-Za-z0-9._/-]+$")


def _relative(path: Path, base: Path | None, option: str) -> str:
    """The path documents reference; limited to characters that need no escaping anywhere."""
    referenced = path.as_posix()
    if base is not None:
        try:
            referenced = path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            referenced = path.resolve().as_posix()
    if not _SAFE_PATH.match(referenced):
        raise InputError(
            option, "the figure folder's path may use only letters, digits, '.', '_', '-' and '/'"
        )
    return referenced


def default_folder(output: str | Path) -> Path:
    """``notes/river.md`` keeps its figures in ``notes/river-figures/``."""
    output = Path(output)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", output.stem).strip("-") or "derive"
    return output.parent / f"{stem}-figures"
