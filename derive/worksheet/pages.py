"""Each student's PDF cut from the class PDF at the student's bookmark, and the class PDF padded
for double-sided printing; both with pikepdf (qpdf).

A Typst compile of one student's sheet costs almost a tenth of compiling the whole class, so
compiling the class once and copying each student's pages is several times cheaper than a compile
per student. The class PDF has one top-level bookmark per student (a hidden level-1 heading),
problems nested under it; a student's pages run from their bookmark to the next one's. qpdf copies
only the objects those pages reach. The class's structure tree (tags) and XMP metadata describe the
whole class and are not copied; its language and document information are.
"""

from __future__ import annotations

import io

from derive.errors import DeriveError


def split(pdf: bytes, count: int) -> list[bytes]:
    """``count`` PDFs, one per top-level bookmark in order, each with that bookmark's subtree."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as whole:
        people = _students(whole, count)
        ends = [*(start for _, start, _ in people[1:]), len(whole.pages)]
        return [
            _extract(whole, range(start, end), title, children)
            for (title, start, children), end in zip(people, ends)
        ]


def for_duplex(pdf: bytes, count: int) -> bytes:
    """The class PDF with a blank page after each student whose pages are odd in number, so that
    printed on both sides every student starts on a new sheet of paper."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as whole:
        starts = [start for _, start, _ in _students(whole, count)]
        ends = [*starts[1:], len(whole.pages)]
        for start, end in reversed(list(zip(starts, ends))):
            if (end - start) % 2:
                box = whole.pages[end - 1].mediabox
                blank = pikepdf.Dictionary(
                    Type=pikepdf.Name.Page, MediaBox=box, Resources=pikepdf.Dictionary()
                )
                whole.pages.insert(end, pikepdf.Page(whole.make_indirect(blank)))
        return _saved(whole)


def _students(whole, count: int) -> list[tuple]:
    """(title, first page, [(title, page, destination)] of the nested bookmarks) per student."""
    import pikepdf

    numbers = {page.objgen: number for number, page in enumerate(whole.pages)}

    def page_of(item) -> int:
        destination = item.destination
        if not isinstance(destination, pikepdf.Array) or destination[0].objgen not in numbers:
            raise DeriveError(f"worksheet: the class PDF's bookmark {str(item.title)!r} points at no page")
        return numbers[destination[0].objgen]

    with whole.open_outline() as outline:
        people = [
            (str(top.title), page_of(top), [(str(c.title), page_of(c), c.destination) for c in top.children])
            for top in outline.root
        ]
    if len(people) != count:
        raise DeriveError(f"worksheet: the class PDF has {len(people)} student bookmarks, expected {count}")
    return people


def _extract(whole, pages: range, title: str, children: list) -> bytes:
    import pikepdf

    with pikepdf.new() as part:
        part.pages.extend(whole.pages[pages.start : pages.stop])
        if "/Lang" in whole.Root:
            part.Root.Lang = whole.Root.Lang
        part.docinfo = part.make_indirect(part.copy_foreign(whole.docinfo))
        with part.open_outline() as outline:
            top = pikepdf.OutlineItem(title, 0)
            for name, page, destination in children:
                view = pikepdf.Array([part.pages[page - pages.start].obj, *list(destination)[1:]])
                top.children.append(pikepdf.OutlineItem(name, view))
            outline.root.append(top)
        return _saved(part, whole.pdf_version)


def _saved(pdf, version: str = "") -> bytes:
    """Deterministic bytes: the file id is a hash of the content, not of the time."""
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, min_version=version)
    return out.getvalue()
