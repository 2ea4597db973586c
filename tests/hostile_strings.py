"""A corpus of hostile strings, reused by the tests of every option that takes text.

Each entry is (name, string). Classes: terminal controls (ESC/CSI/OSC sequences, BEL, backspace,
carriage return, C1, DEL, NUL), bidirectional overrides and isolates, invisible format characters,
markup injection for every format (LaTeX, Typst, Markdown, HTML), and awkward Unicode (non-BMP,
combining marks, very long). ``RAW_HIDDEN`` lists what no output may carry raw; ``INJECTIONS``
what no output may carry unescaped.
"""

from __future__ import annotations

import re
import unicodedata

HOSTILE: tuple[tuple[str, str], ...] = (
    ("csi-clear", "ab\x1b[2Jcd"),
    ("osc-title", "ti\x1b]0;pwned\x07tle"),
    ("osc-hyperlink", "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"),
    ("bel", "ring\x07ring"),
    ("backspace", "adm\x08\x08\x08user"),
    ("carriage-return", "safe\rEVIL"),
    ("c1-csi", "c1\x9b31mred"),
    ("c1-nel", "next\x85line"),
    ("del", "del\x7fete"),
    ("nul", "nu\x00ll"),
    ("vertical-tab", "v\x0bt\x0cf"),
    ("rlo", "abc\u202edcba"),
    ("bidi-isolates", "\u2066x\u2067y\u2068z\u2069"),
    ("bidi-embedding", "\u202aL\u202bR\u202cP\u202d"),
    ("lrm-rlm", "a\u200eb\u200fc\u061cd"),
    ("zero-width", "ze\u200bro\u2060wid\ufeffth"),
    ("zwj-in-ascii", "ad\u200dmin"),
    ("soft-hyphen", "soft\u00adhyphen"),
    ("line-separator", "one\u2028two\u2029three"),
    ("tag-characters", "tag\U000e0041\U000e0042"),
    ("latex-input", "\\input{/etc/passwd}"),
    ("latex-write18", "\\immediate\\write18{id}"),
    ("latex-specials", "$x^2_{i}$ & 100% #1 ~ \\\\"),
    ("typst-import", '#import "/etc/passwd"'),
    ("typst-read", '#read("/etc/passwd")'),
    ("typst-markup", "= Heading *bold* _em_ @ref <label> $x$ `raw` // comment"),
    ("markdown", "[link](javascript:alert(1)) ![img](x) **b** `code` | a | b |"),
    ("html-script", "</script><script>alert(1)</script>"),
    ("html-attribute", '" onmouseover="alert(1)'),
    ("html-entity", "&lt;b&gt; &amp;"),
    ("dollar-backtick", "$HOME `id` $(id)"),
    ("non-bmp", "𝔘𝔫𝔦🙂𓂀"),
    ("combining", "Z̴̡̛a̸̢l̵go̷"),
    ("emoji-zwj", "👩\u200d💻"),
    ("rtl-script", "שלום مرحبا"),
    ("very-long", "w" * 5000),
)

_HIDDEN_CATEGORIES = ("Cc", "Cf", "Zl", "Zp", "Cs")
INJECTIONS = (
    "\\input{/etc/passwd}",
    "\\write18",
    '#import "',
    '#read("',
    "</script>",
    "<script>",
    "javascript:",
)


def raw_hidden(text: str) -> list[str]:
    """The hidden characters ``text`` carries raw, found by Unicode category (not by derive's own list).

    Tab and line feed are layout, not hidden; a zero-width joiner between two non-ASCII characters
    is part of an emoji sequence."""
    found = []
    for at, ch in enumerate(text):
        if ch in "\t\n" or unicodedata.category(ch) not in _HIDDEN_CATEGORIES:
            continue
        if ch in "\u200c\u200d" and 0 < at < len(text) - 1 and ord(text[at - 1]) > 0x7F < ord(text[at + 1]):
            continue
        found.append(f"U+{ord(ch):04X}")
    return found


def one_token(text: str) -> str:
    """The string as one whitespace-free label (token options split on whitespace)."""
    return re.sub(r"\s+", "_", text)[:40] or "_"
