"""GIFT (docs.moodle.org/en/GIFT_format): one numerical question per asked entry.

GIFT has no cloze type, so a vector or matrix answer becomes one question per entry. Each reads
``::name::[html]text{#=value:tol#feedback =%0%wrong:tol#hint}``: the right answer first, then each
misconception at 0 % with its hint. Text is HTML (so '<' in a name stays text) with GIFT's
special characters ``~ = # { } :`` and the backslash escaped by a backslash, as Moodle's own
exporter writes them.
"""

from __future__ import annotations

import html

from derive.export.quiz import CORRECT, Asked, Gap, Question, Quiz

_SPECIAL = str.maketrans({c: "\\" + c for c in "\\~=#{}:"} | {"\n": "\\n", "\r": ""})


def escape(text: str) -> str:
    return text.translate(_SPECIAL)


def render(quiz: Quiz) -> bytes:
    blocks = [f"// {line}" for line in _comment(quiz)]
    out = ["\n".join(blocks)]
    for category, questions in quiz.problems:
        out.append(f"$CATEGORY: {quiz.category_path(category)}")
        for question in questions:
            for asked in question.asked:
                out += [_question(question, asked, gap) for gap in asked.gaps]
    return ("\n\n".join(out) + "\n").encode("utf-8")


def _comment(quiz: Quiz) -> list[str]:
    title = " ".join(quiz.title.split())
    return [f"{title}: exported by derive, answers to {quiz.decimals} decimals"]


def _question(question: Question, asked: Asked, gap: Gap) -> str:
    entry = asked.entry_name(gap)
    name = f"{question.name} · {entry}"
    text = f"{question.intro_html}\n<p>{html.escape(asked.label)} ({html.escape(asked.id)}){asked.entry_words(gap)}:</p>"
    answers = [f"={gap.value}:{gap.tolerance}#{escape(html.escape(CORRECT))}"]
    answers += [f"=%0%{w.value}:{gap.tolerance}#{escape(w.feedback_html)}" for w in gap.wrongs]
    body = "\n".join("\t" + a for a in answers)
    return f"::{escape(name)}::[html]{escape(text)}{{#\n{body}\n}}"
