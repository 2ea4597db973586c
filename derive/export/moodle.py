"""Moodle XML (docs.moodle.org/en/Moodle_XML_format): a category per problem, a question per variant.

A variant that asks one number is a ``numerical`` question; any other is a ``cloze`` question
(Moodle's multianswer type) with one NUMERICAL gap per entry, ``{1:NUMERICAL:=v:tol#ok~%0%w:tol#hint}``.
The right answer comes first and each misconception follows as a 0 % answer with its hint as
feedback, since Moodle gives the feedback of the first answer that matches.
"""

from __future__ import annotations

import html
from xml.sax.saxutils import escape

from derive.export.quiz import CORRECT, Asked, Gap, Question, Quiz

# Characters that end or split a cloze gap; as HTML character references they are plain text.
_CLOZE = str.maketrans({"{": "&#123;", "}": "&#125;", "~": "&#126;", "\\": "&#92;"})
_CLOZE_TEXT = str.maketrans({"{": "&#123;", "}": "&#125;"})  # outside a gap only braces matter


def render(quiz: Quiz) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    for category, questions in quiz.problems:
        lines += _category(quiz.category_path(category))
        for question in questions:
            only = question.asked[0] if len(question.asked) == 1 and question.asked[0].scalar else None
            lines += _numerical(question, only) if only else _cloze(question)
    lines.append("</quiz>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _category(path: str) -> list[str]:
    return [
        '  <question type="category">',
        f"    <category><text>{escape(path)}</text></category>",
        '    <info format="html"><text></text></info>',
        "  </question>",
    ]


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _header(question: Question, kind: str, text: str) -> list[str]:
    return [
        f'  <question type="{kind}">',
        f"    <name><text>{escape(question.name)}</text></name>",
        f'    <questiontext format="html"><text>{_cdata(text)}</text></questiontext>',
        '    <generalfeedback format="html"><text></text></generalfeedback>',
        "    <defaultgrade>1</defaultgrade>",
        "    <penalty>0</penalty>",
        "    <hidden>0</hidden>",
        f"    <idnumber>{escape(question.ident)}</idnumber>",
    ]


def _numerical(question: Question, asked: Asked) -> list[str]:
    gap = asked.gaps[0]
    text = f"{question.intro_html}\n<p>{html.escape(asked.label)} ({html.escape(asked.id)}):</p>"
    lines = _header(question, "numerical", text)
    lines += _answer(100, gap.value, gap.tolerance, html.escape(CORRECT))
    for wrong in gap.wrongs:
        lines += _answer(0, wrong.value, gap.tolerance, wrong.feedback_html)
    lines += [
        "    <unitgradingtype>0</unitgradingtype>",
        "    <unitpenalty>0</unitpenalty>",
        "    <showunits>3</showunits>",
        "    <unitsleft>0</unitsleft>",
        "  </question>",
    ]
    return lines


def _answer(fraction: int, value: str, tolerance: str, feedback_html: str) -> list[str]:
    return [
        f'    <answer fraction="{fraction}" format="moodle_auto_format">',
        f"      <text>{value}</text>",
        f'      <feedback format="html"><text>{_cdata(feedback_html)}</text></feedback>',
        f"      <tolerance>{tolerance}</tolerance>",
        "    </answer>",
    ]


def _cloze(question: Question) -> list[str]:
    parts = [question.intro_html.translate(_CLOZE_TEXT)]
    for asked in question.asked:
        parts.append(f"<p>{_plain(asked.label)} ({_plain(asked.id)}):</p>")
        parts.append(_gaps_html(asked))
    lines = _header(question, "cloze", "\n".join(parts))
    lines.append("  </question>")
    return lines


def _plain(text: str) -> str:
    return html.escape(text).translate(_CLOZE)


def _gaps_html(asked: Asked) -> str:
    if asked.scalar:
        return f"<p>{_gap(asked.gaps[0])}</p>"
    rows = []
    for row in range(1, asked.rows + 1):
        cells = "".join(f"<td>{_gap(g)}</td>" for g in asked.gaps if g.row == row)
        rows.append(f"<tr>{cells}</tr>")
    return '<table class="derive-matrix">' + "".join(rows) + "</table>"


def _gap(gap: Gap) -> str:
    """One NUMERICAL gap: feedback text may hold no unescaped '}', '~' or trailing backslash."""
    alternatives = [f"={gap.value}:{gap.tolerance}#{_plain(CORRECT)}"]
    alternatives += [f"%0%{w.value}:{gap.tolerance}#{w.feedback_html.translate(_CLOZE)}" for w in gap.wrongs]
    return "{1:NUMERICAL:" + "~".join(alternatives) + "}"
