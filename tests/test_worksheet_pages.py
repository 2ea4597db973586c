"""Cutting a class PDF into each student's file, read back with pypdf (an independent reader)."""

from __future__ import annotations

import io

import pytest

from derive.errors import DeriveError
from derive.typst_compile import compile_pdf
from derive.worksheet import pages

CLASS = """
#set page(width: 10cm, height: 8cm)
#place(hide(heading(level: 1)[Ann (O'Brien) \\\\ 1 0 R]))
== Problem 1
first page of Ann
#pagebreak()
== Problem 2
second page of Ann
#pagebreak()
#place(hide(heading(level: 1)[Bo]))
== Problem 1
only page of Bo
"""


def _read(pdf: bytes):
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(pdf), strict=True)


def _outline(reader) -> list:
    """(title, page) of each bookmark, a nested list for a subtree, as pypdf lists them."""
    return [
        _outline_of(reader, item)
        if isinstance(item, list)
        else (item.title, reader.get_destination_page_number(item))
        for item in reader.outline
    ]


def _outline_of(reader, items: list) -> list:
    return [(item.title, reader.get_destination_page_number(item)) for item in items]


def test_each_student_gets_their_pages_text_and_bookmarks():
    whole = compile_pdf(CLASS)
    ann, bo = pages.split(whole, 2)
    first, second = _read(ann), _read(bo)
    assert [page.extract_text() for page in first.pages] == [
        "Problem 1\nfirst page of Ann",
        "Problem 2\nsecond page of Ann",
    ]
    assert [page.extract_text() for page in second.pages] == ["Problem 1\nonly page of Bo"]
    assert _outline(first) == [("Ann (O'Brien) \\ 1 0 R", 0), [("Problem 1", 0), ("Problem 2", 1)]]
    assert _outline(second) == [("Bo", 0), [("Problem 1", 0)]]
    assert pages.split(whole, 2) == [ann, bo]


def test_a_class_pdf_with_another_number_of_students_is_refused():
    with pytest.raises(DeriveError, match="2 student bookmarks, expected 3"):
        pages.split(compile_pdf(CLASS), 3)


def test_duplex_pads_a_student_with_an_odd_number_of_pages():
    whole = compile_pdf(CLASS)
    padded = _read(pages.for_duplex(whole, 2))
    assert [page.extract_text() for page in padded.pages] == [
        "Problem 1\nfirst page of Ann",
        "Problem 2\nsecond page of Ann",
        "Problem 1\nonly page of Bo",
        "",
    ]
    assert _outline(padded) == _outline(_read(whole))
    assert pages.for_duplex(whole, 2) == pages.for_duplex(whole, 2)
