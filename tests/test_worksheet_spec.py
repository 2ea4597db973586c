"""Worksheet specs and rosters: the issue's exact spec loads, and every mistake is one line naming file and line."""

from __future__ import annotations

import textwrap

import pytest

from derive.errors import InputError
from derive.worksheet import spec

ISSUE_SPEC = """\
title = "Week 3: attention by hand"
seed = 2026
decimals = 2            # the precision the answers must be given to
[[problem]]
topic = "softmax"
ask = ["softmax"]       # answer ids the student fills in
[[problem]]
topic = "attention"
ask = ["scores", "scaled", "weights", "output"]
level = 1               # 1 = by hand with a basic calculator, 2 = harder, 3 = calculator work
"""


def write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(load, path) -> str:
    with pytest.raises(InputError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_issue_spec_loads_with_its_values(tmp_path):
    loaded = spec.load_spec(write(tmp_path, ISSUE_SPEC))
    assert loaded.title == "Week 3: attention by hand"
    assert (loaded.seed, loaded.decimals) == (2026, 2)
    assert [(p.topic, p.ask, p.level) for p in loaded.problems] == [
        ("softmax", ("softmax",), 1),
        ("attention", ("scores", "scaled", "weights", "output"), 1),
    ]


def test_particles_ask_only_the_first_step_and_default_to_it(tmp_path):
    loaded = spec.load_spec(write(tmp_path, '[[problem]]\ntopic = "particles"\n'))
    assert loaded.problems[0].ask == ("step1",)
    path = write(tmp_path, '[[problem]]\ntopic = "particles"\nask = ["step1", "clusters"]\n')
    message = error_of(spec.load_spec, path)
    assert message.startswith(f"{path}:3: ") and "cannot ask 'clusters'" in message


def test_defaults_ask_for_the_result_at_level_one(tmp_path):
    loaded = spec.load_spec(write(tmp_path, '[[problem]]\ntopic = "dot-product"\n'))
    assert (loaded.seed, loaded.decimals, loaded.title) == (0, 2, "Worksheet")
    assert loaded.problems[0].ask == ("cosine",) and loaded.problems[0].level == 1


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (ISSUE_SPEC.replace('topic = "attention"', 'topic = "atention"'), 8, "unknown topic 'atention'"),
        (ISSUE_SPEC.replace('"scaled", ', '"scald", '), 9, "attention has no answer 'scald'"),
        (ISSUE_SPEC.replace("level = 1 ", "level = 7 "), 10, "no level 7 variants for attention"),
        (ISSUE_SPEC.replace('topic = "softmax"', 'topic = "forward"'), 5, "no worksheet variants for topic"),
        (
            ISSUE_SPEC.replace(
                'topic = "softmax"\nask = ["softmax"]', 'topic = "cost"\nask = ["kv_cache_bytes"]'
            ),
            6,
            "cost level 1 cannot ask 'kv_cache_bytes': it needs a workload",
        ),
        (
            ISSUE_SPEC.replace(
                'topic = "softmax"\nask = ["softmax"]', 'topic = "patches"\nask = ["positions"]'
            ),
            6,
            "patches level 1 cannot ask 'positions': level 1 gives the position embeddings",
        ),
        (ISSUE_SPEC.replace("decimals = 2", "decimals = 12"), 3, "decimals must be"),
        (ISSUE_SPEC.replace("seed = 2026", 'seed = "x"'), 2, "seed must be"),
        (ISSUE_SPEC.replace('ask = ["softmax"]', 'ask = ["softmax"]\ncolour = 3'), 7, "unknown key 'colour'"),
        (ISSUE_SPEC.replace("decimals = 2", "decimals = = 2"), 3, "not valid TOML"),
        ('title = "x"\n', 1, "no problems"),
        (
            '[[problem]]\ntopic = "optimizer-step"\nlevel = 1\nask = ["v", "params"]\n',
            4,
            "optimizer-step level 1 cannot ask 'v': level 1 is SGD or SGD with momentum",
        ),
        (
            '[[problem]]\ntopic = "masked-lm"\nask = ["chosen", "loss"]\n',
            3,
            "masked-lm level 1 cannot ask 'loss': the loss needs natural logarithms",
        ),
    ],
)
def test_spec_errors_name_the_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    message = error_of(spec.load_spec, path)
    assert message.startswith(f"{path}:{line}: "), message
    assert words in message


def test_an_answer_id_on_a_continued_line_is_located(tmp_path):
    text = ISSUE_SPEC.replace(
        'ask = ["scores", "scaled", "weights", "output"]', 'ask = [\n  "scores",\n  "wieghts",\n]'
    )
    path = write(tmp_path, text)
    assert error_of(spec.load_spec, path).startswith(f"{path}:11: ")


def test_a_missing_spec_is_a_one_line_error(tmp_path):
    assert "does not exist" in error_of(spec.load_spec, tmp_path / "nope.toml")


HOSTILE = "O'Brien & <b>Ünal</b> $x_1$ 100% {#}"


def test_roster_keeps_any_unicode_name_literally(tmp_path):
    path = write(tmp_path, f'id,name\na1,"{HOSTILE}"\nb2,李小龙\n', "roster.csv")
    assert spec.load_roster(path) == (spec.Student("a1", HOSTILE), spec.Student("b2", "李小龙"))


def test_roster_accepts_a_byte_order_mark_and_blank_lines(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("\ufeffid,name\r\n\r\nx,Ana\r\n".encode())
    assert spec.load_roster(path) == (spec.Student("x", "Ana"),)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("name,id\na,b\n", 1, "header id,name"),
        ("id,name\n../etc,Eve\n", 2, "id '../etc' must be"),
        ("id,name\nok,Ann\na b,Bob\n", 3, "id 'a b' must be"),
        ("id,name\nx1,Ann\nX1,Bob\n", 3, "appears twice"),
        ("id,name\nx1,Ann,extra\n", 2, "expected 2 columns"),
        ("id,name\n", 1, "lists no students"),
        ("", 1, "the roster is empty"),
    ],
)
def test_roster_errors_name_the_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text, "roster.csv")
    message = error_of(spec.load_roster, path)
    assert message.startswith(f"{path}:{line}: "), message
    assert words in message


def test_numbered_students_are_s01_to_sNN():
    assert [s.id for s in spec.numbered(3)] == ["s01", "s02", "s03"]
    assert spec.numbered(120)[-1].id == "s120" and spec.numbered(120)[0].id == "s001"
    with pytest.raises(InputError):
        spec.numbered(0)
