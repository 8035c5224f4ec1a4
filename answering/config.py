"""How companies and their staff are written in the configuration (``[companies.ID]``).

The file seeds an empty database; from then on the database holds them (changed through
the API). Cross-references (numbers in the plan, calendars, prompts) are checked by
``company_problems`` once the whole file is known.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

PhoneNumber = Annotated[str, Field(pattern=r"^\+?[0-9*#]{1,32}$")]
EmailAddress = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]
PromptName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Text = Annotated[str, Field(max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AbsenceConfig(_Strict):
    note: Annotated[str, Field(min_length=1, max_length=500)]
    until: datetime | None = None  # ISO 8601 with an offset; none: until cleared
    redirect: PhoneNumber | None = None

    @model_validator(mode="after")
    def _aware(self) -> AbsenceConfig:
        if self.until is not None and self.until.tzinfo is None:
            raise ValueError("until: give a time zone offset (2026-12-24T17:00:00+01:00)")
        return self


class StaffConfig(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    numbers: list[PhoneNumber] = Field(default_factory=list, max_length=10)
    email: EmailAddress | None = None
    absence: AbsenceConfig | None = None


class CompanyConfig(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    numbers: list[PhoneNumber] = Field(min_length=1, max_length=100)
    greeting: PromptName = "welcome"
    night_message: PromptName = "closed"
    calendar: str | None = None
    instructions: Text = ""
    staff: list[StaffConfig] = Field(default_factory=list, max_length=1000)


def company_problems(
    companies: Mapping[str, CompanyConfig],
    queue_numbers: Mapping[str, str | None],
    calendars: Collection[str],
) -> list[tuple[str, str]]:
    """(key path, problem) of each company: its numbers must be numbers of the plan that
    lead to a queue (the control queue), owned by one company only; its calendar must exist.
    ``queue_numbers``: the number plan, number -> its queue (None for a service)."""
    problems: list[tuple[str, str]] = []
    owner: dict[str, str] = {}
    for cid, company in companies.items():
        for number in company.numbers:
            key = f"companies.{cid}.numbers"
            if number not in queue_numbers:
                problems.append((key, f"number {number!r} is not in the number plan ([numbers])"))
            elif queue_numbers[number] is None:
                problems.append((key, f"number {number!r} leads to a service, not a queue"))
            if number in owner:
                problems.append((key, f"number {number!r} belongs to company {owner[number]!r}"))
            owner.setdefault(number, cid)
        if company.calendar is not None and company.calendar not in calendars:
            problems.append((f"companies.{cid}.calendar", f"unknown calendar {company.calendar!r}"))
    return problems
