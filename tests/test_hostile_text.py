"""Hostile user text (tests/hostile_strings.py) through every option that takes text, in every format.

Labels (token labels, vocabulary words, a focus token) refuse a hidden character with one line
naming the option; other text is shown with its hidden characters spelled out. Whatever the text,
no output (terminal, Markdown, LaTeX, Typst, HTML, JSON) and no error message carries a raw
control or bidirectional character, and markup injection is escaped. Hidden characters are found
here by Unicode category, independently of derive's own list.
"""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
from hostile_strings import HOSTILE, raw_hidden

import derive
from derive.render import escape
from derive.visible import in_json, visible

TEXT_FORMATS = ("terminal", "markdown", "latex", "typst", "html", "json")
_FORBIDDEN = {
    "latex": [r"\\input\{/etc", r"\\write18", r"\\immediate"],
    "typst": [r'(?<!\\)#import "/etc', r'(?<!\\)#read\("'],
    "markdown": [r"<script", r"</script", r"(?<!\\)\]\(javascript:"],
    "html": [r"<script>alert", r"</script><script", r'" onmouseover="'],
}
ACCEPTED = [(name, text) for name, text in HOSTILE if not raw_hidden(text) and len(text) <= 40]
HIDDEN = [(name, text) for name, text in HOSTILE if raw_hidden(text)]


def assert_clean(output: str, fmt: str) -> None:
    assert not raw_hidden(output), f"{fmt}: raw hidden characters {raw_hidden(output)[:5]}"
    for pattern in _FORBIDDEN.get(fmt, ()):
        assert not re.search(pattern, output), f"{fmt}: unescaped {pattern!r}"


def assert_one_line_error(code: int, err: str, *options: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("Error: "), err
    assert any(option in err for option in options), err
    assert not raw_hidden(err), raw_hidden(err)
    assert "Traceback" not in err and "internal error" not in err


def test_every_hidden_code_point_is_spelled_out():
    """All of Unicode's controls, format characters, separators and surrogates (by category)."""
    for code in range(0x110000):
        ch = chr(code)
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") and ch not in "\t\n\u200c\u200d":
            shown = visible(f"a{ch}b")
            assert not raw_hidden(shown), f"U+{code:04X}"
            assert json.loads(in_json(json.dumps(f"a{ch}b", ensure_ascii=False))) == f"a{ch}b"


def test_joiners_stay_inside_emoji_and_show_between_latin_letters():
    assert visible("👩\u200d💻") == "👩\u200d💻"
    assert visible("ad\u200dmin") == "ad\\u200dmin"
    assert visible("a\x1b[2Jb\u202ec") == "a\\x1b[2Jb\\u202ec"


@pytest.mark.parametrize(
    "function", ["latex", "latex_prose", "markdown", "markdown_prose", "typst", "typst_prose", "html"]
)
@pytest.mark.parametrize("name,text", HOSTILE, ids=[name for name, _ in HOSTILE])
def test_every_escape_function_spells_hidden_characters_and_escapes_markup(function, name, text):
    out = getattr(escape, function)(text)
    fmt = function.split("_")[0]
    assert_clean(out, fmt)
    if raw_hidden(text):
        assert "\\" in out, "hidden characters are shown, not silently dropped"


# Options that name things: (topic, example, option, how many labels the example takes).
LABEL_OPTIONS = [
    ("attention", "river", "--tokens", 3),
    ("attention", "river", "--focus", 1),
    ("multi-head", "two-heads", "--tokens", 3),
    ("kv-cache", "decode", "--tokens", 4),
    ("encoder-layer", "post", "--tokens", 3),
    ("decoder-layer", "pre", "--tokens", 2),
    ("decoder-layer", "pre", "--memory-tokens", 3),
    ("next-token", "greedy", "--vocab", 5),
    ("embeddings", "given", "--words", 3),
    ("forward", "toy", "--explain-token", 1),
]


def _label_args(topic: str, option: str, labels: list[str], refused: bool = False) -> list[str]:
    value = " ".join(labels)
    if option == "--focus":
        return ["--tokens", f"{'the' if refused else labels[0]} river bank", "--focus", labels[0]]
    if option == "--words":
        given = [*labels, "king", "man", "woman"]
        vectors = "; ".join(f"{w}: {i + 1} {i % 3}" for i, w in enumerate(given))
        return ["--vectors", vectors, "--words", value]
    if option == "--tokens" and topic == "attention":
        return ["--tokens", value, "--focus", labels[-1]]
    if option == "--explain-token":
        return ["--text", f"the {labels[0]} bought milk", "--explain-token", labels[0]]
    return [option, value]


@pytest.mark.parametrize("topic,example,option,slots", LABEL_OPTIONS)
def test_a_label_with_a_hidden_character_is_refused_in_one_line(cli, topic, example, option, slots):
    for name, text in HIDDEN:
        label = re.sub(r"\s+", "_", text)[:40]
        if not raw_hidden(label):
            continue
        labels = [label] + [f"w{i}" for i in range(1, slots)]
        args = _label_args(topic, option, labels, True)
        code, out, err = cli(topic, "--example", example, *args, "-f", "json")
        assert_one_line_error(code, err, *(a for a in args if a.startswith("--")))
        assert out == "", name


def _rendered_clean(cli, topic: str, example: str, raw: dict, args: list[str]) -> None:
    """Derive once; every text format is clean, or the CLI refuses the input in one line."""
    from derive.errors import DeriveError

    try:
        derivation = derive.derive(topic, example, **raw)
    except DeriveError:
        code, out, err = cli(topic, *(["--example", example] if example else []), *args, "-f", "json")
        assert_one_line_error(code, err, *(a for a in args if a.startswith("--")))
        assert out == ""
        return
    for fmt in TEXT_FORMATS:
        settings = {"color": False, "width": 100} if fmt == "terminal" else {}
        assert_clean(derive.render(derivation, fmt, **settings), fmt)


def _as_raw(args: list[str]) -> dict:
    return {a.lstrip("-").replace("-", "_"): v for a, v in zip(args[::2], args[1::2])}


_LABELS = [label for label in dict.fromkeys(re.sub(r"\s+", "_", text) for _, text in ACCEPTED) if label]


@pytest.mark.parametrize("index", range(len(LABEL_OPTIONS)))
def test_accepted_labels_are_escaped_in_every_format(cli, index):
    """Each label option takes its own slice of the accepted strings, so together they take all."""
    topic, example, option, slots = LABEL_OPTIONS[index]
    offset = sum(s for *_, s in LABEL_OPTIONS[:index])
    labels = [_LABELS[(offset + i) % len(_LABELS)] for i in range(slots)]
    args = _label_args(topic, option, labels)
    _rendered_clean(cli, topic, example, _as_raw(args), args)


# Options that take free text: shown with hidden characters spelled out, never refused for them.
# (topic, example, option, how many hostile strings one run carries, every how many strings is taken)
TEXT_OPTIONS = [
    ("tokenize", "unaffable", "--text", 6, 1),
    ("vectorize", "pair", "--text", 12, 1),
    ("vectorize", "pair", "--pair", 12, 1),
    ("bpe-train", None, "--text", 6, 1),
    ("bpe-train", "course", "--encode", 1, 1),
    ("wordpiece-train", None, "--text", 6, 1),
    ("wordpiece-train", "encode", "--encode", 1, 1),
    ("masked-lm", "basic", "--text", 1, 4),
    ("forward", "toy", "--text", 12, 1),
]


@pytest.mark.parametrize("topic,example,option,group,step", TEXT_OPTIONS)
def test_free_text_is_shown_safely_in_every_format(cli, topic, example, option, group, step):
    texts = [text for _, text in HOSTILE if len(text) <= 40][::step]
    for start in range(0, len(texts), group):
        value = "the " + " ".join(texts[start : start + group]) + " milk"
        args = [option, value] + (["--explain-token", "the"] if topic == "forward" else [])
        _rendered_clean(cli, topic, example, _as_raw(args), args)


def test_very_long_text_is_refused_in_one_line_or_shown(cli):
    long = dict(HOSTILE)["very-long"]
    for topic, example, option, *_ in TEXT_OPTIONS:
        code, out, err = cli(topic, *(["--example", example] if example else []), option, long, "-f", "json")
        if code:
            assert_one_line_error(code, err, option)
        else:
            assert_clean(out, "json")


@pytest.mark.parametrize("name,text", HIDDEN + ACCEPTED[:4], ids=[n for n, _ in HIDDEN + ACCEPTED[:4]])
def test_paths_and_values_echoed_in_errors_stay_one_visible_line(cli, tmp_path, name, text):
    missing = str(tmp_path / f"no{text}such")
    cases = [
        (["softmax", "--x", "1 2", "--output", missing + "/x.md"], "--output"),
        (["bpe-train", "--corpus-file", missing], "--corpus-file"),
        (["embeddings", "--vectors-file", missing, "--words", "a b"], "--vectors-file"),
        (["tokenize", "--text", "hi", "--vocab", missing], "--vocab"),
        (["cost", "--model", missing], "--model"),
        (["softmax", "--x", f"1 {text}"], "--x"),
        (["softmax", "--x", "1 2", "--precision", text], "--precision"),
        (["softmax", "--example", text], "--example"),
        (["softmax", "--x", "1 2", "--format", text], "--format"),
        (["check", "softmax", "--x", "1 2", "--answer", f"softmax={text}"], "--answer"),
        (["check", "softmax", "--x", "1 2", "--answer", f"{text}=1"], "--answer"),
    ]
    for args, option in cases:
        code, out, err = cli(*args)
        if code == 0 and option == "--x":  # letters are symbols where a topic opts in
            assert not raw_hidden(out)
            continue
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and not raw_hidden(err), (args, err)
        assert option in err and not raw_hidden(out), (args, err)


def test_worksheet_title_and_student_names_refuse_hidden_characters(cli, tmp_path):
    for name, text in HIDDEN:
        escaped = json.dumps(text)  # a TOML basic string accepts JSON's escapes
        spec = tmp_path / f"{name}.toml"
        spec.write_text(f'title = {escaped}\n[[problem]]\ntopic = "softmax"\nlevel = 1\n', encoding="utf-8")
        code, _, err = cli("worksheet", str(spec), "--out", str(tmp_path / "out"), "--students", "1")
        assert code == 2 and err.count("\n") == 1 and not raw_hidden(err), (name, err)
        roster = tmp_path / f"{name}.csv"
        roster.write_text(f"id,name\ns1,{text.replace(',', ' ')}\n", encoding="utf-8", newline="")
        ok_spec = tmp_path / "ok.toml"
        ok_spec.write_text('title = "T"\n[[problem]]\ntopic = "softmax"\nlevel = 1\n', encoding="utf-8")
        code, _, err = cli("worksheet", str(ok_spec), "--out", str(tmp_path / "out"), "--roster", str(roster))
        assert code == 2 and err.count("\n") == 1 and not raw_hidden(err), (name, err)
        assert not (tmp_path / "out").exists()
