import pytest

from media.numbers import PROMPT_NAMES, duration_words, number_words


@pytest.mark.parametrize(
    ("n", "en", "sv"),
    [
        (0, ["digit-0"], ["digit-0"]),
        (7, ["digit-7"], ["digit-7"]),
        (15, ["n-15"], ["n-15"]),
        (20, ["n-20"], ["n-20"]),
        (42, ["n-40", "digit-2"], ["n-40", "digit-2"]),
        (100, ["digit-1", "hundred"], ["digit-1", "hundred"]),
        (305, ["digit-3", "hundred", "and", "digit-5"], ["digit-3", "hundred", "digit-5"]),
        (1013, ["digit-1", "thousand", "and", "n-13"], ["digit-1", "thousand", "n-13"]),
        (
            2500,
            ["digit-2", "thousand", "digit-5", "hundred"],
            ["digit-2", "thousand", "digit-5", "hundred"],
        ),
    ],
)
def test_number_words_in_english_and_swedish(n, en, sv):
    assert number_words(n, "en") == en
    assert number_words(n, "sv") == sv


def test_every_number_uses_only_known_prompt_names():
    for n in range(0, 100_000, 7):
        for lang in ("en", "sv"):
            assert set(number_words(n, lang)) <= set(PROMPT_NAMES)


def test_duration_in_minutes_and_seconds():
    assert duration_words(75, "en") == ["digit-1", "minute", "and", "n-15", "seconds"]
    assert duration_words(75, "sv") == ["digit-1-common", "minute", "and", "n-15", "seconds"]
    assert duration_words(120, "en") == ["digit-2", "minutes"]
    assert duration_words(1.4, "en") == ["digit-1", "second"]
    assert duration_words(0, "sv") == ["digit-0", "seconds"]


@pytest.mark.parametrize("bad", [-1, 1_000_000])
def test_out_of_range_numbers_are_refused(bad):
    with pytest.raises(ValueError, match=str(bad)):
        number_words(bad, "en")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="'de'"):
        number_words(3, "de")
