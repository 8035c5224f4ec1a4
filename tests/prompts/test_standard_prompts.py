"""The shipped standard prompts (SPEC S7): the table, the files, and number composition."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from prompts import (
    LANGUAGES,
    PROMPT_DESCRIPTIONS,
    PROMPT_KINDS,
    STANDARD_DIR,
    STANDARD_PROMPTS,
    list_standard_prompts,
    number_prompts,
    standard_prompt_path,
)

REQUIRED = (
    [
        "welcome",
        "queue-message",
        "you-are-number",
        "in-queue",
        "estimated-wait",
        "minute",
        "minutes",
        "second",
        "seconds",
        "and",
        "hundred",
        "thousand",
        "closed",
        "callback-offer",
        "callback-confirm",
        "survey-welcome",
        "survey-thanks",
        "survey-invalid",
        "remote-login-in",
        "remote-login-out",
        "remote-login-refused",
        "record-instructions",
        "record-menu",
        "record-saved",
        "enter-pin",
        "pin-wrong",
        "goodbye",
        "beep",
        "invalid-choice",
        "voicemail-prompt",
        "voicemail-saved",
        "menu-example",
        "hold-music",
        "connection-warning",
    ]
    + [f"digit-{d}" for d in range(10)]
    + [f"n-{n}" for n in range(10, 20)]
    + [f"n-{n}" for n in range(20, 100, 10)]
)
ALL = [(name, lang) for name in STANDARD_PROMPTS for lang in LANGUAGES]


def test_catalog_has_every_name_other_packages_use() -> None:
    missing = sorted(set(REQUIRED) - set(STANDARD_PROMPTS))
    assert not missing


def test_every_prompt_has_description_kind_and_wording_in_both_languages() -> None:
    for name, wording in STANDARD_PROMPTS.items():
        assert PROMPT_DESCRIPTIONS[name].strip(), name
        assert PROMPT_KINDS[name] in ("speech", "tone", "music")
        assert set(wording) == set(LANGUAGES), name
        assert all(text.strip() for text in wording.values()), name


def test_only_beep_and_hold_music_are_not_speech() -> None:
    assert {n for n, k in PROMPT_KINDS.items() if k != "speech"} == {"beep", "hold-music"}


def test_swedish_wordings_are_swedish() -> None:
    sv = {n: w["sv"] for n, w in STANDARD_PROMPTS.items()}
    assert sv["you-are-number"] == "Du är nummer"
    assert sv["in-queue"] == "i kön"
    assert sv["estimated-wait"] == "Beräknad väntetid är"
    assert sv["remote-login-in"] == "Du är nu inloggad."
    assert sv["welcome"].startswith("Välkommen")
    speech = [n for n, k in PROMPT_KINDS.items() if k == "speech"]
    differing = [n for n in speech if STANDARD_PROMPTS[n]["sv"] != STANDARD_PROMPTS[n]["en"]]
    assert differing == speech


def test_list_standard_prompts_mirrors_the_table() -> None:
    listed = list_standard_prompts()
    assert [p.name for p in listed] == list(STANDARD_PROMPTS)
    assert all(p.wording == STANDARD_PROMPTS[p.name] for p in listed)
    assert listed[0].path("sv") == standard_prompt_path(listed[0].name, "sv")


def test_path_refuses_unknown_name_or_language_clearly() -> None:
    with pytest.raises(KeyError, match="no standard prompt named 'nope'"):
        standard_prompt_path("nope", "sv")
    with pytest.raises(KeyError, match="not 'de'"):
        standard_prompt_path("welcome", "de")


def test_manifest_matches_the_table_so_audio_is_not_stale() -> None:
    manifest = json.loads((STANDARD_DIR / "manifest.json").read_text("utf-8"))
    assert manifest["format"] == {"rate": 8000, "channels": 1, "subtype": "PCM_16"}
    for lang in LANGUAGES:
        made_from = {n: e["wording"] for n, e in manifest["prompts"][lang].items()}
        expected = {n: w[lang] for n, w in STANDARD_PROMPTS.items()}
        assert made_from == expected, f"{lang}: rerun python -m prompts.generate_standard"


def test_no_stray_wav_files_outside_the_catalog() -> None:
    for lang in LANGUAGES:
        names = {p.stem for p in (STANDARD_DIR / lang).glob("*.wav")}
        assert names == set(STANDARD_PROMPTS), lang


def _rms_dbfs(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(audio**2)) + 1e-12))


@pytest.mark.parametrize(("name", "lang"), ALL)
def test_file_is_8khz_mono_pcm16_with_audible_audio_of_plausible_length(
    name: str, lang: str
) -> None:
    path = standard_prompt_path(name, lang)
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype, info.format) == (
        8000,
        1,
        "PCM_16",
        "WAV",
    )
    audio, _ = sf.read(path, dtype="float64")
    seconds = audio.size / 8000
    kind = PROMPT_KINDS[name]
    if kind == "tone":
        assert seconds == pytest.approx(0.3, abs=0.01)
    elif kind == "music":
        assert 15 <= seconds <= 25
    else:
        words = len(STANDARD_PROMPTS[name][lang].split())
        # Roughly 0.15..1.2 s per word at a calm speaking rate, with padding.
        assert 0.15 * words <= seconds <= 1.2 * words + 0.5, seconds
    # Level near -16 dBFS (music a little lower) and never silent.
    loud = audio[np.abs(audio) > 10 ** (-40 / 20)]
    assert loud.size > 0.2 * audio.size
    assert -24 <= _rms_dbfs(loud) <= -12
    assert np.abs(audio).max() < 1.0


def test_beep_is_a_1khz_tone() -> None:
    audio, rate = sf.read(standard_prompt_path("beep", "sv"), dtype="float64")
    spectrum = np.abs(np.fft.rfft(audio))
    peak_hz = np.argmax(spectrum) * rate / audio.size
    assert peak_hz == pytest.approx(1000, abs=10)


def test_hold_music_is_not_a_single_tone_and_stays_in_the_telephone_band() -> None:
    audio, rate = sf.read(standard_prompt_path("hold-music", "en"), dtype="float64")
    spectrum = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(audio.size, 1 / rate)
    in_band = spectrum[(freqs >= 150) & (freqs <= 3400)].sum() / spectrum.sum()
    assert in_band > 0.95
    strong = np.count_nonzero(spectrum > spectrum.max() * 0.05)
    assert strong > 10  # chords, not one sine


@pytest.mark.parametrize(
    ("n", "lang", "names"),
    [
        (0, "sv", ["digit-0"]),
        (7, "en", ["digit-7"]),
        (13, "sv", ["n-13"]),
        (20, "en", ["n-20"]),
        (42, "sv", ["n-40", "digit-2"]),
        (100, "sv", ["digit-1", "hundred"]),
        (305, "en", ["digit-3", "hundred", "and", "digit-5"]),
        (305, "sv", ["digit-3", "hundred", "digit-5"]),
        (2024, "en", ["digit-2", "thousand", "and", "n-20", "digit-4"]),
        (1999, "sv", ["digit-1", "thousand", "digit-9", "hundred", "n-90", "digit-9"]),
    ],
)
def test_number_prompts_compose_catalog_names(n: int, lang: str, names: list[str]) -> None:
    assert number_prompts(n, lang) == names
    assert all(name in STANDARD_PROMPTS for name in names)


def test_common_gender_one_in_swedish() -> None:
    assert number_prompts(1, "sv", common_gender=True) == ["one-common"]
    assert number_prompts(21, "sv", common_gender=True) == ["n-20", "one-common"]
    assert number_prompts(1, "sv") == ["digit-1"]
    assert STANDARD_PROMPTS["one-common"]["sv"] == "en"


@pytest.mark.parametrize("bad", [-1, 1_000_000, 2.5, True])
def test_number_prompts_refuse_numbers_they_cannot_speak(bad: object) -> None:
    with pytest.raises(ValueError, match="0..999999"):
        number_prompts(bad, "sv")  # type: ignore[arg-type]
