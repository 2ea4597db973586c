"""A QTI 1.2 zip for Canvas: ``imsmanifest.xml`` and one assessment, a numerical item per asked entry.

Each item accepts the exact answer with a margin, written as Canvas itself exports one
(``<or><varequal>v</varequal><and><vargte>v-tol</vargte><varlte>v+tol</varlte></and></or>``).
Canvas's importer turns every response condition with a range into another *correct* answer, so
misconception values cannot be 0 % answers here: their hints go into the feedback shown for any
wrong answer instead. Canvas (classic quizzes) keeps 4 decimals of what a student types and turns
anything below 1e-4 into 0, so a sheet asking for more than 4 decimals is refused.
"""

from __future__ import annotations

import hashlib
import html
import io
import zipfile
from xml.sax.saxutils import escape, quoteattr

from derive.errors import InputError
from derive.export.quiz import CORRECT, Asked, Gap, Question, Quiz

MAX_DECIMALS = 4
_NAMESPACE = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def check(decimals: int) -> None:
    """Refuse what Canvas would grade wrongly, before anything is written."""
    if decimals > MAX_DECIMALS:
        raise InputError(
            "--to",
            f"qti: the sheet asks for {decimals} decimals, but Canvas keeps only {MAX_DECIMALS} of a typed "
            "answer (and turns answers below 1e-4 into 0); use moodle or gift, or a sheet with fewer decimals",
        )


def render(quiz: Quiz) -> bytes:
    check(quiz.decimals)
    ident = "derive_" + hashlib.sha256(quiz.title.encode("utf-8")).hexdigest()[:12]
    files = {
        "imsmanifest.xml": _manifest(ident),
        f"{ident}/{ident}.xml": _assessment(ident, quiz),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name].encode("utf-8"))
    return buffer.getvalue()


def _manifest(ident: str) -> str:
    return (
        "\n".join(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                f'<manifest identifier="{ident}_manifest" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1">',
                "  <metadata>",
                "    <schema>IMS Content</schema>",
                "    <schemaversion>1.1.3</schemaversion>",
                "  </metadata>",
                "  <organizations/>",
                "  <resources>",
                f'    <resource identifier="{ident}" type="imsqti_xmlv1p2">',
                f'      <file href="{ident}/{ident}.xml"/>',
                "    </resource>",
                "  </resources>",
                "</manifest>",
            ]
        )
        + "\n"
    )


def _assessment(ident: str, quiz: Quiz) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<questestinterop xmlns="{_NAMESPACE}">',
        f"  <assessment ident={quoteattr(ident + '_assessment')} title={quoteattr(quiz.title)}>",
        '    <section ident="root_section">',
    ]
    for question in quiz.questions:
        for asked in question.asked:
            for gap in asked.gaps:
                lines += _item(question, asked, gap)
    lines += ["    </section>", "  </assessment>", "</questestinterop>"]
    return "\n".join(lines) + "\n"


def _item(question: Question, asked: Asked, gap: Gap) -> list[str]:
    item = f"{question.ident}-{asked.id}-{gap.row}-{gap.col}"
    text = f"{question.intro_html}\n<p>{html.escape(asked.label)} ({html.escape(asked.id)}){asked.entry_words(gap)}:</p>"
    low, high = _bounds(gap)
    common = "".join(f"<p>{w.feedback_html}</p>" for w in gap.wrongs)
    wrong = "<p>Not right.</p>" + (f"<p>Common mistakes here:</p>{common}" if common else "")
    return [
        f"      <item ident={quoteattr(item)} title={quoteattr(question.name + ' · ' + asked.entry_name(gap))}>",
        "        <itemmetadata>",
        "          <qtimetadata>",
        _field("question_type", "numerical_question"),
        _field("points_possible", "1"),
        "          </qtimetadata>",
        "        </itemmetadata>",
        "        <presentation>",
        f'          <material><mattext texttype="text/html">{escape(text)}</mattext></material>',
        '          <response_str ident="response1" rcardinality="Single">',
        '            <render_fib fibtype="Decimal"><response_label ident="answer1"/></render_fib>',
        "          </response_str>",
        "        </presentation>",
        "        <resprocessing>",
        '          <outcomes><decvar maxvalue="100" minvalue="0" varname="SCORE" vartype="Decimal"/></outcomes>',
        '          <respcondition continue="No">',
        "            <conditionvar>",
        "              <or>",
        f'                <varequal respident="response1">{gap.value}</varequal>',
        "                <and>",
        f'                  <vargte respident="response1">{low}</vargte>',
        f'                  <varlte respident="response1">{high}</varlte>',
        "                </and>",
        "              </or>",
        "            </conditionvar>",
        '            <setvar action="Set" varname="SCORE">100</setvar>',
        '            <displayfeedback feedbacktype="Response" linkrefid="correct_fb"/>',
        "          </respcondition>",
        '          <respcondition continue="Yes">',
        "            <conditionvar><other/></conditionvar>",
        '            <displayfeedback feedbacktype="Response" linkrefid="general_incorrect_fb"/>',
        "          </respcondition>",
        "        </resprocessing>",
        _feedback("correct_fb", f"<p>{html.escape(CORRECT)}</p>"),
        _feedback("general_incorrect_fb", wrong),
        "      </item>",
    ]


def _bounds(gap: Gap) -> tuple[str, str]:
    from decimal import Decimal

    value, tolerance = Decimal(gap.value), Decimal(gap.tolerance)
    return f"{value - tolerance:f}", f"{value + tolerance:f}"


def _field(label: str, entry: str) -> str:
    return (
        "            <qtimetadatafield>"
        f"<fieldlabel>{label}</fieldlabel><fieldentry>{entry}</fieldentry></qtimetadatafield>"
    )


def _feedback(ident: str, text_html: str) -> str:
    return (
        f'        <itemfeedback ident="{ident}"><flow_mat><material>'
        f'<mattext texttype="text/html">{escape(text_html)}</mattext></material></flow_mat></itemfeedback>'
    )
