"""Companies of the answering service, their staff and the staff's absence notes.

Plain frozen values: the service layer (``vaxel/services/answering.py``) stores them, the
call path reads them through a ``CompanyBook``. A company is found by the B-number the
caller dialled; a staff member by id, phone number or email (for external systems that do
not know Vaxel's ids).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Absence:
    """An absence or redirect note (hänvisning): why, and until when (None: until cleared)."""

    note: str
    until: datetime | None = None
    redirect: str | None = None  # a number to give callers instead, if any

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until

    def as_dict(self) -> dict[str, Any]:
        return {
            "note": self.note,
            "until": self.until.isoformat() if self.until else None,
            "redirect": self.redirect,
        }


@dataclass(frozen=True, slots=True)
class Staff:
    id: int
    company: str
    name: str
    numbers: tuple[str, ...] = ()
    email: str | None = None
    absence: Absence | None = None

    def current_absence(self, now: datetime) -> Absence | None:
        """The note while it holds; an expired note counts as none."""
        return self.absence if self.absence is not None and self.absence.active(now) else None

    def as_dict(self, now: datetime) -> dict[str, Any]:
        absence = self.current_absence(now)
        return {
            "id": self.id,
            "company": self.company,
            "name": self.name,
            "numbers": list(self.numbers),
            "email": self.email,
            "absent": absence is not None,
            "absence": absence.as_dict() if absence else None,
            # What the transfer endpoint takes: POST /api/calls/{call_id}/transfer {"target"}.
            "transfer_targets": list(self.numbers),
        }


@dataclass(frozen=True, slots=True)
class Company:
    """A customer company answered in its own name."""

    id: str
    name: str
    numbers: tuple[str, ...]  # B-numbers; the number plan maps each to the control queue
    greeting: str = "welcome"  # prompt played when its calendar is open
    night_message: str = "closed"  # prompt played when it is closed
    calendar: str | None = None  # calendars.ID; None: the control queue's calendar
    instructions: str = ""  # shown to the agent who answers (how to greet, what to ask)
    staff: tuple[Staff, ...] = field(default_factory=tuple)

    def as_dict(self, now: datetime, *, with_staff: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "numbers": list(self.numbers),
            "greeting": self.greeting,
            "night_message": self.night_message,
            "calendar": self.calendar,
            "instructions": self.instructions,
        }
        if with_staff:
            d["staff"] = [s.as_dict(now) for s in self.staff]
        return d


class CompanyBook:
    """Every company by id and by B-number; replaced whole when something changes."""

    def __init__(self, companies: Iterable[Company] = ()) -> None:
        self.companies: dict[str, Company] = {c.id: c for c in companies}
        self._by_number: dict[str, str] = {
            n: c.id for c in self.companies.values() for n in c.numbers
        }

    def get(self, company_id: str) -> Company | None:
        return self.companies.get(company_id)

    def for_number(self, b_number: str | None) -> Company | None:
        cid = self._by_number.get(b_number or "")
        return self.companies.get(cid) if cid else None

    def number_owners(self) -> Mapping[str, str]:
        return dict(self._by_number)


def find_staff(
    company: Company,
    *,
    staff_id: int | None = None,
    number: str | None = None,
    email: str | None = None,
) -> Staff | None:
    """The staff member with that id, or one of whose numbers is ``number``, or whose email
    is ``email`` (case-insensitive)."""
    for s in company.staff:
        if staff_id is not None and s.id == staff_id:
            return s
        if number is not None and number in s.numbers:
            return s
        if email is not None and s.email is not None and s.email.lower() == email.lower():
            return s
    return None
