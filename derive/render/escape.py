"""Escaping of user and prose text, one function per format.

Every function first spells out hidden characters (controls, bidirectional overrides, invisible
format characters) with ``derive.visible``, so no format ever carries one raw or drops it silently.
"""

from __future__ import annotations

import re

from derive.visible import visible

_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\^{}",
    "_": r"\_",
    "~": r"\~{}",
    "%": r"\%",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': "''",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX))
_MARKDOWN_RE = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def latex(text: str) -> str:
    """Escape for pdflatex with only base fonts: characters beyond Latin-1 are spelled U+XXXX."""
    return _latex_visible(visible(text))


def _latex_visible(text: str) -> str:
    text = _LATEX_RE.sub(lambda m: _LATEX[m.group()], text)
    return "".join(_latex_char(ch) for ch in text)


_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ",
        r"\alpha \beta \gamma \delta \epsilon \zeta \eta \theta \iota \kappa \lambda \mu \nu \xi \pi \rho "
        r"\sigma \tau \upsilon \phi \chi \psi \omega \Gamma \Delta \Theta \Lambda \Xi \Pi \Sigma \Phi \Psi "
        r"\Omega".split(),
    )
)
_GREEK.update(
    {"ᵀ": "^{T}", "²": "^{2}", "³": "^{3}", "₁": "_{1}", "₂": "_{2}", "ᵢ": "_{i}", "ⱼ": "_{j}", "ₖ": "_{k}"}
)


# GPT-2's byte-level markers for a space and a newline (Latin Extended-A, beyond Latin-1).
_DOTTED = {"Ġ": r"\.{G}", "Ċ": r"\.{C}"}


def _latex_char(ch: str) -> str:
    if ch in _GREEK:
        return f"\\({_GREEK[ch]}\\)"
    if ch in _DOTTED:
        return _DOTTED[ch]
    if ch in "\n\t" or (ch.isprintable() and ord(ch) < 0x100):
        return ch
    return f"\\texttt{{U+{ord(ch):04X}}}"


_PROSE_LATEX = {
    "–": r"\textendash{}",
    "—": r"\textemdash{}",
    "…": r"\ldots{}",
    "×": r"\(\times\)",
    "−": "-",
    "≈": r"\(\approx\)",
    "→": r"\(\to\)",
    "√": r"\(\surd\)",
    "⊙": r"\(\odot\)",
    "·": r"\(\cdot\)",
    "≤": r"\(\le\)",
    "≥": r"\(\ge\)",
    "∞": r"\(\infty\)",
    "“": "``",
    "”": "''",
    "’": "'",
    "‘": "`",
}


def latex_prose(text: str) -> str:
    """Our own prose: typographic characters become their LaTeX spellings, the rest is escaped.

    Hyphens are kept apart so an option such as ``--force`` never becomes a dash.
    """
    escaped = "".join(_PROSE_LATEX.get(ch) or _latex_visible(ch) for ch in visible(text))
    return re.sub(r"-(?=-)", "-{}", escaped)


def markdown(text: str) -> str:
    text = "".join(_HTML.get(ch, ch) for ch in visible(text))
    return _MARKDOWN_RE.sub(r"\\\1", text)


def markdown_prose(text: str) -> str:
    """Our own prose: only what would start markup or HTML is escaped."""
    text = "".join(_HTML.get(ch, ch) for ch in visible(text))
    return re.sub(r"([\\`*_\[\]$|])", r"\\\1", text)


_TYPST_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")


def typst(text: str) -> str:
    """Escape for Typst markup: every ASCII punctuation character gets a backslash, so no
    markup (``#``, ``$``, ``*``, ``_``, ``@``, ``<``, ``//``, ``--``, ``=`` ...) can start;
    line breaks become spaces and hidden characters are spelled out."""
    text = re.sub(r"[\n\t]", " ", visible(text))
    return _TYPST_SPECIAL.sub(r"\\\1", text)


def html(text: str) -> str:
    """Escape for HTML text and double-quoted attribute values."""
    text = visible(text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


_TYPST_PROSE = re.compile(r"[\\#$*_\[\]<>@=+/~`\-{}]|(?<=\d)\.")


def typst_prose(text: str) -> str:
    """Our own prose for Typst markup: only what could start markup is escaped, so the
    source stays readable (``--force`` stays two hyphens, ``2.`` never starts a list)."""
    text = re.sub(r"[\n\t]", " ", visible(text))
    return _TYPST_PROSE.sub(lambda m: "\\" + m.group(), text)
