"""The standard prompts shipped with a fresh install (SPEC S7): names, wordings, files.

Other packages refer to prompts by these names (``"you-are-number"``,
``"digit-3"``, ``"n-20"`` …). The audio lives in ``prompts/standard/<lang>/<name>.wav``
as 8 kHz mono 16-bit PCM, generated from this table by ``prompts/generate_standard.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "LANGUAGES",
    "STANDARD_DIR",
    "STANDARD_PROMPTS",
    "STORED_NAME_RE",
    "PROMPT_DESCRIPTIONS",
    "PROMPT_KINDS",
    "StandardPrompt",
    "can_exist",
    "list_standard_prompts",
    "number_prompts",
    "standard_prompt_path",
]

LANGUAGES: tuple[str, ...] = ("sv", "en")
STANDARD_DIR = Path(__file__).resolve().parent / "standard"

PromptKind = Literal["speech", "tone", "music"]

# The names a prompt can be stored under (upload, recording by phone); the standard names
# are reserved (vaxel/storage/prompt_store.py).
STORED_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

# name -> (description, {lang: wording}). Wordings are what callers hear
# (speech) or a bracketed note for generated non-speech audio.
_TABLE: dict[str, tuple[str, dict[str, str]]] = {
    "welcome": (
        "Greeting played when an open queue answers",
        {"sv": "Välkommen till kundtjänst.", "en": "Welcome to customer service."},
    ),
    "queue-message": (
        "Comfort message while waiting: all agents busy, please hold",
        {
            "sv": "Alla våra handläggare är upptagna just nu. Var vänlig vänta, "
            "du kopplas fram så snart någon blir ledig.",
            "en": "All our agents are busy at the moment. Please hold, "
            "you will be connected as soon as someone is available.",
        },
    ),
    "you-are-number": (
        "Position announcement, first part (followed by a number)",
        {"sv": "Du är nummer", "en": "You are number"},
    ),
    "in-queue": (
        "Position announcement, last part (after the number)",
        {"sv": "i kön", "en": "in the queue"},
    ),
    "estimated-wait": (
        "Wait-time announcement (followed by a number and minutes/seconds)",
        {"sv": "Beräknad väntetid är", "en": "The estimated waiting time is"},
    ),
    "minute": ("Unit after the number one", {"sv": "minut", "en": "minute"}),
    "minutes": ("Unit after other numbers", {"sv": "minuter", "en": "minutes"}),
    "second": ("Unit after the number one", {"sv": "sekund", "en": "second"}),
    "seconds": ("Unit after other numbers", {"sv": "sekunder", "en": "seconds"}),
    "and": ("Joins parts of an announcement", {"sv": "och", "en": "and"}),
    "hundred": ("Number word for composing numbers", {"sv": "hundra", "en": "hundred"}),
    "thousand": ("Number word for composing numbers", {"sv": "tusen", "en": "thousand"}),
    "closed": (
        "Night message: the queue is closed",
        {
            "sv": "Vi har tyvärr stängt just nu. Välkommen att ringa igen under våra öppettider.",
            "en": "We are closed at the moment. Please call again during our opening hours.",
        },
    ),
    "callback-offer": (
        "Offer to be called back while keeping the place in the queue",
        {
            "sv": "Vill du hellre bli uppringd när det är din tur? Tryck 1, "
            "så ringer vi upp dig och du behåller din plats i kön.",
            "en": "Would you rather be called back when it is your turn? Press 1, "
            "and we will call you back while you keep your place in the queue.",
        },
    ),
    "callback-confirm": (
        "Confirmation that a callback was booked",
        {
            "sv": "Tack. Vi ringer upp dig när det är din tur. Du kan lägga på nu.",
            "en": "Thank you. We will call you back when it is your turn. You can hang up now.",
        },
    ),
    "callback-number": (
        "Which number to call back: the caller's own, or another one",
        {
            "sv": "Tryck 1 för att bli uppringd på numret du ringer från, "
            "eller 2 för att ange ett annat nummer.",
            "en": "Press 1 to be called back on the number you are calling from, "
            "or 2 to give another number.",
        },
    ),
    "callback-enter-number": (
        "Asks for the number to call back",
        {
            "sv": "Slå numret vi ska ringa upp, och avsluta med fyrkant.",
            "en": "Key the number we should call, then the hash key.",
        },
    ),
    "callback-agent": (
        "Told to the agent before a callback's customer is called",
        {
            "sv": "Det här är en återuppringning. Kunden har nummer",
            "en": "This is a callback. The customer's number is",
        },
    ),
    "survey-welcome": (
        "Introduction to the keypad satisfaction survey",
        {
            "sv": "Vi vill gärna veta vad du tyckte om samtalet. "
            "Svara med en siffra från 1 till 5, där 5 är bäst.",
            "en": "We would like to know what you thought of the call. "
            "Answer with a digit from 1 to 5, where 5 is best.",
        },
    ),
    "survey-q-agent": (
        "Survey question: the help the caller got",
        {
            "sv": "Hur nöjd är du med hjälpen du fick?",
            "en": "How satisfied are you with the help you got?",
        },
    ),
    "survey-q-resolved": (
        "Survey question: whether the matter was solved",
        {
            "sv": "Fick du svar på det du ringde om?",
            "en": "Did you get an answer to what you called about?",
        },
    ),
    "survey-thanks": (
        "End of the satisfaction survey",
        {"sv": "Tack för dina svar. Hej då.", "en": "Thank you for your answers. Goodbye."},
    ),
    "survey-invalid": (
        "Survey answer outside 1-5",
        {
            "sv": "Ogiltigt svar. Tryck en siffra från 1 till 5.",
            "en": "Invalid answer. Please press a digit from 1 to 5.",
        },
    ),
    "remote-login-in": (
        "Remote login: the agent is now logged in",
        {"sv": "Du är nu inloggad.", "en": "You are now logged in."},
    ),
    "remote-login-out": (
        "Remote login: the agent is now logged out",
        {"sv": "Du är nu utloggad.", "en": "You are now logged out."},
    ),
    "remote-login-refused": (
        "Remote login refused: caller id not registered or hidden",
        {
            "sv": "Ditt nummer är inte registrerat för distansinloggning.",
            "en": "Your number is not registered for remote login.",
        },
    ),
    "record-instructions": (
        "Prompt recording by phone: how to record",
        {
            "sv": "Spela in ditt meddelande efter tonen. Tryck fyrkant när du är klar.",
            "en": "Record your message after the tone. Press hash when you are done.",
        },
    ),
    "record-menu": (
        "Prompt recording by phone: listen, re-record or save",
        {
            "sv": "Tryck 1 för att lyssna, 2 för att spela in igen, 3 för att spara.",
            "en": "Press 1 to listen, 2 to record again, 3 to save.",
        },
    ),
    "record-saved": (
        "Prompt recording by phone: saved (followed by the prompt number)",
        {"sv": "Ljudfilen har sparats som nummer", "en": "The prompt has been saved as number"},
    ),
    "record-empty": (
        "Prompt recording or voicemail: nothing usable was recorded",
        {
            "sv": "Ingenting spelades in. Försök igen.",
            "en": "Nothing was recorded. Please try again.",
        },
    ),
    "not-authorized": (
        "A service refused the caller (unknown caller id or wrong PIN code)",
        {
            "sv": "Du har inte behörighet till den här tjänsten.",
            "en": "You are not authorized to use this service.",
        },
    ),
    "enter-pin": (
        "Ask for a PIN code",
        {
            "sv": "Ange din pinkod, följd av fyrkant.",
            "en": "Enter your PIN code, followed by hash.",
        },
    ),
    "pin-wrong": (
        "Wrong PIN code",
        {"sv": "Fel pinkod. Försök igen.", "en": "Wrong PIN code. Please try again."},
    ),
    "goodbye": (
        "Closing phrase before hanging up",
        {"sv": "Tack för att du ringde. Hej då.", "en": "Thank you for calling. Goodbye."},
    ),
    "beep": ("Recording tone: 1 kHz for 300 ms", {"sv": "[ton]", "en": "[tone]"}),
    "invalid-choice": (
        "A keypad choice that is not on the menu",
        {"sv": "Ogiltigt val. Försök igen.", "en": "Invalid choice. Please try again."},
    ),
    "voicemail-prompt": (
        "Voicemail: leave a message after the tone",
        {"sv": "Lämna ett meddelande efter tonen.", "en": "Please leave a message after the tone."},
    ),
    "voicemail-saved": (
        "Voicemail: the message was saved",
        {
            "sv": "Ditt meddelande har sparats. Tack.",
            "en": "Your message has been saved. Thank you.",
        },
    ),
    "vm-enter-agent": (
        "Voicemail by phone: ask for the agent id (a caller id that is no agent's)",
        {
            "sv": "Ange ditt agentnummer, följt av fyrkant.",
            "en": "Enter your agent number, followed by hash.",
        },
    ),
    "vm-you-have": (
        "Voicemail by phone: count, first part (followed by a number)",
        {"sv": "Du har", "en": "You have"},
    ),
    "vm-new-messages": (
        "Voicemail by phone: after the number of new messages",
        {"sv": "nya meddelanden", "en": "new messages"},
    ),
    "vm-old-messages": (
        "Voicemail by phone: after the number of old messages",
        {"sv": "gamla meddelanden", "en": "old messages"},
    ),
    "vm-message": (
        "Voicemail by phone: before a message (followed by its number)",
        {"sv": "Meddelande", "en": "Message"},
    ),
    "vm-message-menu": (
        "Voicemail by phone: the menu after each message",
        {
            "sv": "Tryck sju för att radera, nio för att spara, ett för att lyssna igen, "
            "eller fyrkant för nästa.",
            "en": "Press seven to delete, nine to keep, one to listen again, or hash for the "
            "next message.",
        },
    ),
    "vm-deleted": (
        "Voicemail by phone: the message was deleted",
        {"sv": "Meddelandet är raderat.", "en": "Message deleted."},
    ),
    "vm-kept": (
        "Voicemail by phone: the message was kept",
        {"sv": "Meddelandet är sparat.", "en": "Message kept."},
    ),
    "vm-no-more": (
        "Voicemail by phone: after the last message",
        {"sv": "Inga fler meddelanden.", "en": "No more messages."},
    ),
    "menu-example": (
        "Example menu for a new queue",
        {
            "sv": "Tryck 1 för support, 2 för försäljning.",
            "en": "Press 1 for support, 2 for sales.",
        },
    ),
    "hold-music": (
        "About 20 seconds of calm synthesized chords for callers on hold",
        {"sv": "[väntmusik]", "en": "[hold music]"},
    ),
    "accept-call": (
        "Told to an agent reached on a phone number before the caller is connected",
        {
            "sv": "Samtal från kön. Tryck 1 för att ta emot samtalet.",
            "en": "A call from the queue. Press 1 to take the call.",
        },
    ),
    "classify-call": (
        "Asked of an agent on a phone number after the caller hung up, when the queue "
        "classifies its calls: the key is the code's position in the profile",
        {
            "sv": "Kunden har lagt på. Tryck siffran för samtalets klassificering.",
            "en": "The caller has hung up. Press the number of the call's classification.",
        },
    ),
    "connection-warning": (
        "Told to a caller whose media path shows poor quality",
        {
            "sv": "Det är problem med din samtalsförbindelse.",
            "en": "Your call connection is having issues.",
        },
    ),
}

_SV_DIGITS = ("noll", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio")
_EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_SV_TEENS = (
    "tio",
    "elva",
    "tolv",
    "tretton",
    "fjorton",
    "femton",
    "sexton",
    "sjutton",
    "arton",
    "nitton",
)
_EN_TEENS = (
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_SV_TENS = ("tjugo", "trettio", "fyrtio", "femtio", "sextio", "sjuttio", "åttio", "nittio")
_EN_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")

for _i in range(10):
    _TABLE[f"digit-{_i}"] = (f"Digit {_i}", {"sv": _SV_DIGITS[_i], "en": _EN_DIGITS[_i]})
for _i in range(10):
    _TABLE[f"n-{10 + _i}"] = (f"Number {10 + _i}", {"sv": _SV_TEENS[_i], "en": _EN_TEENS[_i]})
for _i in range(8):
    _n = 20 + 10 * _i
    _TABLE[f"n-{_n}"] = (f"Number {_n}", {"sv": _SV_TENS[_i], "en": _EN_TENS[_i]})

# Swedish "en" (common gender) as in "en minut"; digit-1 is the counting "ett".
_TABLE["one-common"] = ("The number one before a common-gender noun", {"sv": "en", "en": "one"})

# When a voicemail came (voicemail by phone, prompts/dates.py): "Received on Monday at
# fourteen zero five", "Mottaget den tredje december klockan nio".
_TABLE["vm-received"] = (
    "Voicemail by phone: before when the message came (a day, then a time)",
    {"sv": "Mottaget", "en": "Received"},
)
_TABLE["today"] = ("A day: today", {"sv": "i dag", "en": "today"})
_TABLE["yesterday"] = ("A day: yesterday", {"sv": "i går", "en": "yesterday"})
_TABLE["at-clock"] = ("Before a time of day (an hour, then minutes)", {"sv": "klockan", "en": "at"})
_SV_DAYS = ("måndags", "tisdags", "onsdags", "torsdags", "fredags", "lördags", "söndags")
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
for _i in range(7):
    _TABLE[f"on-weekday-{_i + 1}"] = (
        f"A day of the past week: {_EN_DAYS[_i]} (ISO day {_i + 1})",
        {"sv": f"i {_SV_DAYS[_i]}", "en": f"on {_EN_DAYS[_i]}"},
    )
_SV_ORDINALS = (
    "första", "andra", "tredje", "fjärde", "femte", "sjätte", "sjunde", "åttonde", "nionde",
    "tionde", "elfte", "tolfte", "trettonde", "fjortonde", "femtonde", "sextonde",
    "sjuttonde", "artonde", "nittonde", "tjugonde",
)  # fmt: skip
_EN_ORDINALS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth",
)  # fmt: skip


def _ordinal(day: int, lang: str) -> str:
    table = _SV_ORDINALS if lang == "sv" else _EN_ORDINALS
    if day <= 20:
        return table[day - 1]
    tens, unit = divmod(day, 10)
    if lang == "sv":
        head = {2: "tjugo", 3: "trettio"}[tens]
        return f"{head}nde" if unit == 0 else f"{head}{table[unit - 1]}"
    head = {2: "twenty", 3: "thirty"}[tens]
    return "thirtieth" if unit == 0 else f"{head}-{table[unit - 1]}"


for _i in range(1, 32):
    _TABLE[f"on-day-{_i}"] = (
        f"A date: the {_ordinal(_i, 'en')} (followed by a month)",
        {"sv": f"den {_ordinal(_i, 'sv')}", "en": f"on the {_ordinal(_i, 'en')} of"},
    )
_SV_MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
              "september", "oktober", "november", "december")  # fmt: skip
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")  # fmt: skip
for _i in range(12):
    _TABLE[f"month-{_i + 1}"] = (
        f"A month: {_EN_MONTHS[_i]}", {"sv": _SV_MONTHS[_i], "en": _EN_MONTHS[_i]}
    )

STANDARD_PROMPTS: dict[str, dict[str, str]] = {name: w for name, (_, w) in _TABLE.items()}
PROMPT_DESCRIPTIONS: dict[str, str] = {name: d for name, (d, _) in _TABLE.items()}
PROMPT_KINDS: dict[str, PromptKind] = {
    name: ("tone" if name == "beep" else "music" if name == "hold-music" else "speech")
    for name in _TABLE
}


@dataclass(frozen=True, slots=True)
class StandardPrompt:
    """One shipped prompt: short name, description, wording per language, audio kind."""

    name: str
    description: str
    wording: dict[str, str]
    kind: PromptKind

    def path(self, lang: str) -> Path:
        return standard_prompt_path(self.name, lang)


def list_standard_prompts() -> list[StandardPrompt]:
    """All shipped prompts in catalog order."""
    return [
        StandardPrompt(name, PROMPT_DESCRIPTIONS[name], dict(wording), PROMPT_KINDS[name])
        for name, wording in STANDARD_PROMPTS.items()
    ]


def can_exist(name: str) -> bool:
    """A standard prompt, or a name a prompt can be stored under. Any other name is never
    found, whatever is uploaded."""
    return name in STANDARD_PROMPTS or STORED_NAME_RE.match(name) is not None


def standard_prompt_path(name: str, lang: str) -> Path:
    """Path of the shipped WAV for ``name`` in ``lang``; unknown names/languages raise KeyError."""
    if name not in STANDARD_PROMPTS:
        raise KeyError(f"no standard prompt named {name!r}")
    if lang not in LANGUAGES:
        raise KeyError(f"standard prompts exist in {', '.join(LANGUAGES)}, not {lang!r}")
    return STANDARD_DIR / lang / f"{name}.wav"


def number_prompts(n: int, lang: str, common_gender: bool = False) -> list[str]:
    """Prompt names that speak the integer ``n`` (0..999999) in ``lang``.

    Swedish joins tens and units without a word ("tjugo" "tre"); English puts
    "and" after hundreds ("three hundred and five"), as spoken in the UK.
    ``common_gender`` makes a final Swedish one "en" ("en minut", "tjugoen
    sekunder") instead of the counting "ett" ("nummer ett").
    """
    if lang not in LANGUAGES:
        raise KeyError(f"numbers can be spoken in {', '.join(LANGUAGES)}, not {lang!r}")
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 999_999:
        raise ValueError(f"can speak whole numbers 0..999999, got {n!r}")
    if n == 0:
        return ["digit-0"]
    out: list[str] = []
    thousands, rest = divmod(n, 1000)
    if thousands:
        out += _below_thousand(thousands, lang) + ["thousand"]
    if rest:
        if thousands and rest < 100 and lang == "en":
            out.append("and")
        out += _below_thousand(rest, lang)
    if common_gender and out[-1] == "digit-1":
        out[-1] = "one-common"
    return out


def _below_thousand(n: int, lang: str) -> list[str]:
    out: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        out += [f"digit-{hundreds}", "hundred"]
        if rest and lang == "en":
            out.append("and")
    if rest >= 20:
        tens, unit = divmod(rest, 10)
        out.append(f"n-{tens * 10}")
        if unit:
            out.append(f"digit-{unit}")
    elif rest >= 10:
        out.append(f"n-{rest}")
    elif rest:
        out.append(f"digit-{rest}")
    return out
