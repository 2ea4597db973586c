"""Escaping of user and prose text, one function per format."""

from __future__ import annotations

import re

_LATEX = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "~": r"\textasciitilde{}", "%": r"\%",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", '"': "''",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX))
_MARKDOWN_RE = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def latex(text: str) -> str:
    text = _LATEX_RE.sub(lambda m: _LATEX[m.group()], text)
    return "".join(ch if ch.isprintable() or ch == "\n" else "" for ch in text)


def markdown(text: str) -> str:
    text = "".join(_HTML.get(ch, ch) for ch in text)
    return _MARKDOWN_RE.sub(r"\\\1", text)


def markdown_prose(text: str) -> str:
    """Our own prose: only what would start markup or HTML is escaped."""
    text = "".join(_HTML.get(ch, ch) for ch in text)
    return re.sub(r"([\\`*_\[\]$|])", r"\\\1", text)
