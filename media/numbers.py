"""Spoken numbers and durations as sequences of prompt names (pure functions).

Prompt names (files ``<prompt_dir>/<lang>/<name>.wav``): ``digit-0`` .. ``digit-9``,
``n-10`` .. ``n-20``, ``n-30`` .. ``n-90``, ``hundred``, ``thousand``, ``and``, ``minute``,
``minutes``, ``second``, ``seconds``; Swedish also ``digit-1-common`` ("en", used before
the common-gender nouns minut/sekund; falls back to ``digit-1`` when missing).
"""

from __future__ import annotations

LANGUAGES = ("sv", "en")
MAX_NUMBER = 999_999

PROMPT_NAMES: tuple[str, ...] = (
    *(f"digit-{d}" for d in range(10)),
    *(f"n-{n}" for n in range(10, 21)),
    *(f"n-{n}" for n in range(30, 100, 10)),
    "hundred",
    "thousand",
    "and",
    "minute",
    "minutes",
    "second",
    "seconds",
    "digit-1-common",
)

# A prompt that may be missing from a prompt set, and what to say instead.
FALLBACKS: dict[str, str] = {"digit-1-common": "digit-1"}


def _check(n: int, lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an integer, got {n!r}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"can only say numbers 0..{MAX_NUMBER}, got {n}")


def _below_100(n: int) -> list[str]:
    if n < 10:
        return [f"digit-{n}"]
    if n <= 20:
        return [f"n-{n}"]
    tens, ones = divmod(n, 10)
    return [f"n-{tens * 10}"] + ([f"digit-{ones}"] if ones else [])


def _below_1000(n: int, lang: str, *, after_larger: bool) -> list[str]:
    hundreds, rest = divmod(n, 100)
    words: list[str] = []
    if hundreds:
        words += [f"digit-{hundreds}", "hundred"]
    if rest:
        # British English joins the last part with "and"; Swedish never does.
        if lang == "en" and (hundreds or after_larger):
            words.append("and")
        words += _below_100(rest)
    return words


def number_words(n: int, lang: str) -> list[str]:
    """Prompt names that speak ``n`` (0..999 999) in ``lang`` ("sv" or "en")."""
    _check(n, lang)
    if n == 0:
        return ["digit-0"]
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands:
        words += _below_1000(thousands, lang, after_larger=False) + ["thousand"]
    if rest:
        words += _below_1000(rest, lang, after_larger=bool(thousands) and rest < 100)
    return words


def _count(n: int, singular: str, plural: str, lang: str) -> list[str]:
    if n == 1:
        return ["digit-1-common" if lang == "sv" else "digit-1", singular]
    return number_words(n, lang) + [plural]


def duration_words(seconds: float, lang: str) -> list[str]:
    """Prompt names that speak a duration, e.g. 75 s -> "one minute and fifteen seconds".

    Rounded to whole seconds; durations of a minute or more are said in minutes and seconds.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds != seconds:
        raise TypeError(f"expected a number of seconds, got {seconds!r}")
    if seconds < 0:
        raise ValueError(f"duration must not be negative, got {seconds}")
    total = int(round(seconds))
    _check(total // 60, lang)
    minutes, secs = divmod(total, 60)
    if minutes == 0:
        return _count(secs, "second", "seconds", lang)
    words = _count(minutes, "minute", "minutes", lang)
    if secs:
        words += ["and"] + _count(secs, "second", "seconds", lang)
    return words
