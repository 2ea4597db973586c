"""Each student's PDF cut from the class PDF at the student's bookmark, with pypdf.

A Typst compile of one student's sheet costs almost a tenth of compiling the whole class, so
compiling the class once and copying each student's pages is several times cheaper than a compile
per student. The class PDF has one top-level bookmark per student (a hidden level-1 heading),
problems nested under it; a student's pages run from their bookmark to the next one's.
"""

from __future__ import annotations

import io

from derive.errors import DeriveError


def split(pdf: bytes, count: int) -> list[bytes]:
    """``count`` PDFs, one per top-level bookmark in order, each with that bookmark's subtree."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    people = _students(reader)
    if len(people) != count:
        raise DeriveError(f"worksheet: the class PDF has {len(people)} student bookmarks, expected {count}")
    starts = [reader.get_destination_page_number(entry) for entry, _ in people]
    ends = [*starts[1:], len(reader.pages)]
    return [
        _extract(reader, range(start, end), entry, children)
        for (entry, children), start, end in zip(people, starts, ends)
    ]


def bookmarks(pdf: bytes) -> list[str]:
    """The titles of the top-level bookmarks (one per student in a class PDF)."""
    from pypdf import PdfReader

    return [entry.title for entry, _ in _students(PdfReader(io.BytesIO(pdf)))]


def _students(reader) -> list[tuple]:
    """(bookmark, its nested bookmarks) for each top-level bookmark; pypdf lists a subtree as the
    list that follows its parent."""
    people: list[tuple] = []
    for item in reader.outline:
        if isinstance(item, list):
            if people:
                people[-1] = (people[-1][0], item)
        else:
            people.append((item, []))
    return people


def _extract(reader, pages: range, entry, children: list) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for number in pages:
        writer.add_page(reader.pages[number])
    parent = writer.add_outline_item(title=entry.title, page_number=0)
    for child in children:
        if not isinstance(child, list):
            page = reader.get_destination_page_number(child) - pages.start
            writer.add_outline_item(title=child.title, page_number=page, parent=parent)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
