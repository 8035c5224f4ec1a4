"""A configuration with the answering service: company Acme on B-number 0850001 (the demo's
support queue as its control queue), two staff members, one of them absent."""

from __future__ import annotations

from pathlib import Path

from tests.support import demo_toml_with

ACME_NUMBER = "0850001"
EVA_NUMBER = "0701112233"
COMPANIES = """
[calendars.acme-hours]
timezone = "Europe/Stockholm"
[calendars.acme-hours.hours]
mon = ["00:00-24:00"]
tue = ["00:00-24:00"]
wed = ["00:00-24:00"]
thu = ["00:00-24:00"]
fri = ["00:00-24:00"]
sat = ["00:00-24:00"]
sun = ["00:00-24:00"]

[companies.acme]
name = "Acme AB"
numbers = ["0850001"]
greeting = "welcome"
night_message = "closed"
calendar = "acme-hours"
instructions = "Answer: Acme, good morning, how may I help?"

[[companies.acme.staff]]
name = "Eva Ek"
numbers = ["0701112233"]
email = "eva@acme.example"
[companies.acme.staff.absence]
note = "On holiday, back 7 January"
until = "2099-01-07T08:00:00+01:00"
redirect = "0701112244"

[[companies.acme.staff]]
name = "Olle Strom"
numbers = ["0701112244"]
email = "olle@acme.example"
"""
_SUPPORT = '"100" = { queue = "support" }'
PLAN_EDIT = {_SUPPORT: _SUPPORT + '\n"0850001" = { queue = "support" }'}


def config_text(tmp_path: Path, replace: dict[str, str] | None = None) -> str:
    return demo_toml_with(tmp_path, replace={**PLAN_EDIT, **(replace or {})}, extra=COMPANIES)
