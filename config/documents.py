"""The parts of the configuration that are administered at run time, as JSON documents.

The running centre keeps these sections in its database (one document per entity, each
with a version); the TOML file seeds an empty database and holds everything else (ports,
tokens, mail, flows ...). A document is what the section's model accepts, so a stored
document is validated by the same models and messages as the file, and the whole
configuration is validated again (cross-references) before any change is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tomli_w
from pydantic import BaseModel

from acd import CalendarConfig

from .loader import validate_config
from .schema import VaxelConfig

# Section name -> what one entity of it is called in messages (API path segment = name).
MANAGED: dict[str, str] = {
    "numbers": "number",
    "answer_groups": "answer group",
    "queues": "queue",
    "agents": "agent",
    "calendars": "calendar",
    "classification_profiles": "classification profile",
    "pause_reasons": "pause reason",
}
# The users live in their own table (vaxel/services/users.py): the file only seeds them.
NOT_EXPORTED = ("users",)

Documents = dict[str, dict[str, dict[str, Any]]]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _calendar_document(calendar: CalendarConfig) -> dict[str, Any]:
    """A calendar in the form the file uses: weekday names and "HH:MM-HH:MM" strings."""
    doc = calendar.model_dump(mode="json", exclude_none=True, exclude={"hours", "deviations"})
    doc["hours"] = {_DAYS[day]: [str(r) for r in ranges] for day, ranges in calendar.hours.items()}
    deviations = []
    for dev in calendar.deviations:
        d = dev.model_dump(mode="json", exclude_none=True, exclude_defaults=True, exclude={"time"})
        d["status"] = dev.status
        if dev.time is not None:
            d["time"] = str(dev.time)
        deviations.append(d)
    if deviations:
        doc["deviations"] = deviations
    return doc


def document(model: BaseModel) -> dict[str, Any]:
    """One entity as a canonical JSON document (defaults left out, so that the same
    configuration always gives the same document)."""
    if isinstance(model, CalendarConfig):
        return _calendar_document(model)
    return model.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


def documents_of(config: VaxelConfig) -> Documents:
    """Every managed entity of ``config`` as documents, by section and id."""
    return {
        section: {key: document(model) for key, model in getattr(config, section).items()}
        for section in MANAGED
    }


def with_documents(
    config: VaxelConfig, docs: Mapping[str, Mapping[str, Any]], *, source: str = "database"
) -> VaxelConfig:
    """``config`` with its managed sections replaced by ``docs``, validated as a whole.
    Raises ``ConfigError`` naming each field and reason."""
    data: dict[str, Any] = {name: getattr(config, name) for name in VaxelConfig.model_fields}
    for section in MANAGED:
        data[section] = dict(docs.get(section, {}))
    data["users"] = {}  # seeded once; the users table holds them (and checks their agents)
    return validate_config(data, source=source)


def file_sections(config: VaxelConfig) -> dict[str, Any]:
    """The sections read from the file at every start (not administered at run time)."""
    out: dict[str, Any] = {}
    for name in VaxelConfig.model_fields:
        if name in MANAGED or name in NOT_EXPORTED:
            continue
        value = getattr(config, name)
        if value is None:  # an optional section not given (e.g. [screen_pop])
            continue
        if isinstance(value, BaseModel):
            dumped = value.model_dump(
                mode="json", by_alias=True, exclude_none=True, exclude_defaults=True
            )
        else:  # dict of models (trunks, admins, flows)
            dumped = {
                k: v.model_dump(mode="json", by_alias=True, exclude_none=True)
                for k, v in value.items()
            }
        if dumped or name == "api":
            out[name] = dumped
    return out


def to_toml(config: VaxelConfig) -> str:
    """The whole configuration as TOML (``vaxel config export``): the file's own sections,
    then the managed ones. Deterministic: the same configuration gives the same bytes."""
    data = file_sections(config)
    for section, entities in documents_of(config).items():
        if entities:  # sorted: the database keeps no order, the export must be stable
            data[section] = dict(sorted(entities.items()))
    header = (
        "# Vaxel configuration exported by `vaxel config export`.\n"
        "# Users are not included: they live in the database (GET /api/users).\n\n"
    )
    return header + tomli_w.dumps(_toml_safe(data))


def _toml_safe(value: Any) -> Any:
    """TOML has no null; floats that are whole numbers stay floats (round trip)."""
    if isinstance(value, dict):
        return {str(k): _toml_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_toml_safe(v) for v in value]
    return value
