"""Search keys: characters, full pinyin and initials, normalised the way phones type them."""

from __future__ import annotations

import pytest

from catalog.search import MAX_QUERY_CHARS, build_search_text, escape_like, normalise


def test_search_text_holds_characters_full_pinyin_and_initials_of_name_and_keywords() -> None:
    text = build_search_text("居民身份证补领", ["丢失", "补办身份证"])
    assert text == (
        "|居民身份证补领|juminshenfenzhengbuling|jmsfzbl"
        "|丢失|diushi|ds"
        "|补办身份证|bubanshenfenzheng|bbsfz|"
    )


@pytest.mark.parametrize(
    "typed", ["身份证", "shenfenzheng", "sfz", "补领", "buling", "丢失", "diushi", "ds", "bbsfz"]
)
def test_what_people_type_is_a_substring(typed: str) -> None:
    text = build_search_text("居民身份证补领", ["丢失", "补办身份证"])
    assert normalise(typed) in text


def test_words_are_kept_apart() -> None:
    text = build_search_text("出生登记", ["新生儿"])
    assert text == "|出生登记|chushengdengji|csdj|新生儿|xinshenger|xse|"
    # the end of one word and the start of the next do not make a match
    assert "登记新生" not in text
    assert "jixin" not in text
    assert "csdjxse" not in text


def test_search_text_is_lower_case_and_normalised() -> None:
    text = build_search_text("ＥＴＣ 办理", ["Ｖｉｓａ（签证）"])
    assert text == text.lower()
    assert "|etc办理|" in text
    assert "|banli|bl|" in text  # pinyin of the Chinese part only
    assert "|visa签证|" in text
    assert "qianzheng" in text
    assert "qz" in text
    assert "Ｅ" not in text
    assert " " not in text


def test_empty_keywords_are_skipped() -> None:
    assert build_search_text("社保", ["", "  ", "（）"]) == "|社保|shebao|sb|"


def test_latin_only_phrase_has_no_empty_pinyin_parts() -> None:
    text = build_search_text("ETC", [])
    assert text == "|etc|"
    assert "||" not in text


def test_polyphones_use_the_phrase_reading() -> None:
    text = build_search_text("重庆银行行长", [])
    assert "chongqingyinhanghangzhang" in text
    assert "cqyhhz" in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ", "abc"),  # full-width letters
        ("ａｂｃ１２３", "abc123"),  # full-width lower case and digits
        ("ShenFenZheng", "shenfenzheng"),  # case
        ("shen fen zheng", "shenfenzheng"),  # spaces
        ("身份\u3000证", "身份证"),  # ideographic space
        ("身份证\t\n", "身份证"),
        ("身份证（补办）", "身份证补办"),  # full-width brackets
        ("身份证(补办)", "身份证补办"),
        ("【社保】卡，补办。", "社保卡补办"),
        ("出生、户口；登记：", "出生户口登记"),
        ("“居住证”‘办理’", "居住证办理"),
        ("Hello, World!", "helloworld"),
        ("a/b|c-d.e·f", "abcdef"),
        ("真的？！", "真的"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_normalise_keeps_chinese_and_digits() -> None:
    assert normalise("第2代身份证") == "第2代身份证"


def test_query_limit_is_sane() -> None:
    assert 10 <= MAX_QUERY_CHARS <= 200


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("100%", "100\\%"), ("a_b", "a\\_b"), ("a\\b", "a\\\\b"), ("plain", "plain")],
)
def test_escape_like(raw: str, escaped: str) -> None:
    assert escape_like(raw) == escaped
