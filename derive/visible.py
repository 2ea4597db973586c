"""User text made safe to show: the one rule for characters a terminal or a reader would obey or hide.

A *hidden* character is a C0 or C1 control (ESC, BEL, backspace, carriage return, NUL, DEL ...),
a bidirectional override, embedding, isolate or mark, an invisible format character (zero-width
space, soft hyphen, byte-order mark, tag characters), a line or paragraph separator, a Hangul
filler, or a lone surrogate (undecodable bytes on the command line). Such a character could clear
the screen, retitle the terminal, plant a hyperlink, reverse the displayed text or make two labels
look alike. A zero-width joiner or non-joiner is part of the writing between two visible non-ASCII
characters (emoji sequences, Indic and Arabic scripts) and hidden anywhere else.

Two uses, one rule:

- A *label* the user names things with (a token label, a vocabulary word, the focus token) never
  needs one, so ``label`` refuses it where the option is parsed, with an error naming the option.
- Other text (a sentence to tokenize, a corpus, a file path, an answer, a student's name) is taken
  as given; wherever it is shown, ``visible`` spells each hidden character as Python would
  (``\\x1b``, ``\\u202e``), every renderer and every error message goes through it, and JSON
  carries the character as an escape (``in_json``), so the data stays exact.
"""

from __future__ import annotations

import re

from derive.errors import InputError

_HIDDEN = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # C0 and C1 controls and DEL (tab and line feed are decided below)
    "\u00ad\u034f\u061c\u115f\u1160\u180e\u3164\uffa0\ufeff"  # soft hyphen, joiners, fillers, BOM
    "\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2"  # Arabic and Syriac format characters
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"  # zero-width, separators, bidi
    "\ufff9-\ufffb\ud800-\udfff"  # interlinear annotation, lone surrogates
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"  # tags
    "]"
)
_JOINERS = "\u200c\u200d"
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_NAMES = {
    "\x00": "NUL",
    "\x07": "BEL",
    "\x08": "BACKSPACE",
    "\x09": "TAB",
    "\x0a": "LINE FEED",
    "\x0d": "CARRIAGE RETURN",
    "\x1b": "ESC",
    "\x7f": "DEL",
    "\x9b": "CSI",
    "\x9d": "OSC",
}


def _is_hidden(text: str, at: int, lines: bool) -> bool:
    ch = text[at]
    if ch in "\t\n":
        return not lines
    if ch in _JOINERS:
        return not (_writing(text, at - 1) and _writing(text, at + 1))
    return True


def _writing(text: str, at: int) -> bool:
    """A visible non-ASCII character, beside which a joiner shapes the writing."""
    if not 0 <= at < len(text):
        return False
    ch = text[at]
    return ord(ch) > 0x7F and not ch.isspace() and not _HIDDEN.match(ch)


def spell(ch: str) -> str:
    """The visible spelling of one hidden character: ``\\n``, ``\\x1b``, ``\\u202e`` or ``\\U000e0041``."""
    code = ord(ch)
    if ch in _SHORT:
        return _SHORT[ch]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _replace(text: str, lines: bool, spelling) -> str:
    if not _HIDDEN.search(text):
        return text
    return _HIDDEN.sub(
        lambda m: spelling(m.group()) if _is_hidden(text, m.start(), lines) else m.group(),
        text,
    )


def visible(text: str, lines: bool = True) -> str:
    """``text`` with every hidden character spelled out; tabs and line breaks stay when ``lines``."""
    return _replace(str(text), lines, spell)


def one_line(text: str) -> str:
    """For an error message: hidden characters, tabs and line breaks all spelled out."""
    return visible(text, lines=False)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def in_json(document: str) -> str:
    """A JSON document with every hidden character inside its strings written as a ``\\u`` escape.

    ``json.dumps`` already escapes C0 controls; with ``ensure_ascii=False`` it leaves C1 controls
    and bidirectional overrides raw. Outside strings JSON is ASCII, so every hit is inside one."""
    return _replace(document, True, _json_escape)


def first_hidden(text: str) -> str | None:
    """The first hidden character in ``text`` (tabs and line breaks included), if any."""
    for match in _HIDDEN.finditer(text):
        if _is_hidden(text, match.start(), lines=False):
            return match.group()
    return None


def describe(ch: str) -> str:
    """``\\x1b (ESC)`` or ``\\u202e (RIGHT-TO-LEFT OVERRIDE)``: a hidden character, named."""
    import unicodedata

    name = _NAMES.get(ch) or unicodedata.name(ch, "")
    kind = "control character" if unicodedata.category(ch) == "Cc" else "invisible character"
    return f"the {kind} {spell(ch)}" + (f" ({name})" if name else "")


def label(text: str, option: str, what: str = "a label") -> str:
    """``text`` if it has no hidden character; else a one-line error naming the option."""
    found = first_hidden(text)
    if found is not None:
        shown = one_line(text)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise InputError(option, f"'{shown}' contains {describe(found)}; {what} must be visible text")
    return text
