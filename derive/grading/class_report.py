"""The class report beside grades.csv: the score distribution and, per step, how the class did and
which misconceptions were most frequent, so the lecturer knows what to re-teach.

Markdown (tables, with bars of ``█`` a terminal or any viewer shows) and HTML (one self-contained
file: the same tables and two bar charts as inline SVG drawn by matplotlib, with a fixed hash salt
and no date, so the same grades give the same bytes). Every user text is escaped.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass

from derive.grading.gradebook import Gradebook
from derive.grading.report import VERDICTS
from derive.visible import one_line

TOP_MISCONCEPTIONS = 3


@dataclass(frozen=True)
class Step:
    """One asked answer of one problem, over the class."""

    label: str  # "P2 attention: weights"
    verdicts: Counter
    misconceptions: Counter
    students: int


def steps(book: Gradebook) -> list[Step]:
    keyed: dict[tuple[int, str], list] = {}
    for row in book.rows:
        keyed.setdefault((row.problem, row.answer), []).append(row)
    found = []
    for (problem, answer), rows in keyed.items():
        label = f"P{problem} {rows[0].topic}: {answer}"
        misconceptions = Counter(r.misconception for r in rows if r.misconception)
        found.append(Step(label, Counter(r.verdict for r in rows), misconceptions, len(rows)))
    return found


def distribution(book: Gradebook) -> list[tuple[float, int]]:
    """(score, how many students) for every score from 0 to the maximum."""
    counts = Counter(book.totals().values())
    return [(float(score), counts.get(float(score), 0)) for score in range(book.max_points + 1)]


def _md(text: str) -> str:
    """Markdown table cell text: the characters that would change the table or become markup escaped,
    hidden ones (an escape in an answer file's name) spelled out."""
    out = html.escape(one_line(str(text)), quote=False)
    for char in "\\|*_`[]#":
        out = out.replace(char, "\\" + char)
    return " ".join(out.split())


def markdown(book: Gradebook) -> str:
    students = len(book.students)
    lines = [
        f"# Grades: {_md(book.title)}",
        "",
        f"{students} students, {book.max_points} answers each, checked to {book.precision}.",
        "",
        "## Score distribution",
        "",
        "| points | students | |",
        "|---:|---:|:---|",
    ]
    lines += [f"| {score:g} | {count} | {'█' * count} |" for score, count in distribution(book)]
    lines += ["", "## Steps", "", "| step | " + " | ".join(VERDICTS) + " | most frequent misconceptions |"]
    lines.append("|:---|" + "---:|" * len(VERDICTS) + ":---|")
    for step in steps(book):
        top = ", ".join(f"{_md(name)} ({count})" for name, count in _top(step))
        counts = " | ".join(str(step.verdicts.get(v, 0)) for v in VERDICTS)
        lines.append(f"| {_md(step.label)} | {counts} | {top or '–'} |")
    lines += ["", "## Misconceptions to re-teach", ""]
    ranked = _ranked(book)
    lines += [f"- {_md(label)}: **{_md(name)}**, {count} of {total}" for label, name, count, total in ranked]
    if not ranked:
        lines.append("None of the named misconceptions was found.")
    if book.problems:
        lines += ["", "## Missing or unreadable", ""] + [f"- {_md(problem)}" for problem in book.problems]
    return "\n".join(lines) + "\n"


def _top(step: Step) -> list[tuple[str, int]]:
    return sorted(step.misconceptions.items(), key=lambda item: (-item[1], item[0]))[:TOP_MISCONCEPTIONS]


def _ranked(book: Gradebook) -> list[tuple[str, str, int, int]]:
    """(step, misconception, count, students), most frequent first, every step's top ones."""
    found = [(s.label, name, count, s.students) for s in steps(book) for name, count in _top(s)]
    return sorted(found, key=lambda item: (-item[2], item[0], item[1]))


def _svg(draw) -> str:
    import io

    from derive.figures import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    try:
        draw(ax)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    finally:
        plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _score_chart(book: Gradebook) -> str:
    scores = distribution(book)

    def draw(ax):
        ax.bar([f"{s:g}" for s, _ in scores], [c for _, c in scores], color="#4c72b0")
        ax.set_xlabel(f"points (of {book.max_points})")
        ax.set_ylabel("students")
        ax.yaxis.get_major_locator().set_params(integer=True)

    return _svg(draw)


def _misconception_chart(book: Gradebook) -> str | None:
    ranked = _ranked(book)[:12]
    if not ranked:
        return None

    def draw(ax):
        labels = [f"{label} · {name}" for label, name, _, _ in ranked][::-1]
        ax.barh(labels, [count for _, _, count, _ in ranked][::-1], color="#dd8452")
        ax.set_xlabel("students")
        ax.xaxis.get_major_locator().set_params(integer=True)

    return _svg(draw)


def _html(text) -> str:
    return html.escape(one_line(str(text)))


def html_page(book: Gradebook) -> str:
    esc = _html
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Grades: {esc(book.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}"
        "td.n{text-align:right}svg{max-width:100%;height:auto}</style></head><body>",
        f"<h1>Grades: {esc(book.title)}</h1>",
        f"<p>{len(book.students)} students, {book.max_points} answers each, checked to {esc(book.precision)}.</p>",
        "<h2>Score distribution</h2>",
        f'<figure role="img" aria-label="students per score">{_score_chart(book)}</figure>',
        "<table><tr><th>points</th><th>students</th></tr>",
    ]
    parts += [f'<tr><td class="n">{s:g}</td><td class="n">{c}</td></tr>' for s, c in distribution(book)]
    parts += ["</table>", "<h2>Misconceptions to re-teach</h2>"]
    chart = _misconception_chart(book)
    if chart is None:
        parts.append("<p>None of the named misconceptions was found.</p>")
    else:
        parts.append(
            f'<figure role="img" aria-label="most frequent misconceptions per step">{chart}</figure>'
        )
    parts += ["<h2>Steps</h2>", "<table><tr><th>step</th>"]
    parts += [f"<th>{v}</th>" for v in VERDICTS] + ["<th>most frequent misconceptions</th></tr>"]
    for step in steps(book):
        top = ", ".join(f"{esc(name)} ({count})" for name, count in _top(step)) or "–"
        cells = "".join(f'<td class="n">{step.verdicts.get(v, 0)}</td>' for v in VERDICTS)
        parts.append(f"<tr><td>{esc(step.label)}</td>{cells}<td>{top}</td></tr>")
    parts.append("</table>")
    if book.problems:
        parts += ["<h2>Missing or unreadable</h2>", "<ul>"]
        parts += [f"<li>{esc(problem)}</li>" for problem in book.problems] + ["</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
