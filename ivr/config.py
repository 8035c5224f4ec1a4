"""How flows are written in the configuration file, and their validation (SPEC S2).

A flow is a list of step names run in order; steps with settings (``menu``,
``customer-number``) take them from a table of the same name under the flow or inline,
``{ menu = { ... } }``. ``closed`` lists what a caller hears when the calendar step finds
the queue closed. These models are embedded by ``config.schema``; cross-references
(queues, numbers) are checked by ``flow_problems`` once the whole file is known.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# Steps of the main list, and of the ``closed`` list.
STEPS: tuple[str, ...] = (
    "hot-prompt",
    "calendar",
    "welcome",
    "menu",
    "customer-number",
    "queue",
    "voicemail",
)
CLOSED_STEPS: tuple[str, ...] = ("closed-message", "voicemail")
ENDING_STEPS = frozenset({"queue", "voicemail"})  # the caller leaves the flow there
DEFAULT_FLOW_STEPS: tuple[str, ...] = ("hot-prompt", "calendar", "welcome", "queue")

PromptName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
DtmfKey = Annotated[str, Field(pattern=r"^[0-9*#]$")]
Timeout = Annotated[float, Field(gt=0, le=60)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MenuTarget(_Strict):
    """Where a key leads: a queue (the flow goes on there), a service, or another number
    of the number plan (its own flow or service)."""

    queue: str | None = None
    service: Literal["remote-login", "prompt-recording", "voicemail"] | None = None
    number: str | None = None

    @model_validator(mode="after")
    def _one(self) -> MenuTarget:
        given = [k for k in ("queue", "service", "number") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'queue', 'service' or 'number'")
        return self


class MenuConfig(_Strict):
    prompt: PromptName
    choices: dict[DtmfKey, MenuTarget] = Field(min_length=1)
    # Attempts after the first when a wrong key is pressed or nothing within ``timeout``.
    retries: Annotated[int, Field(ge=0, le=9)] = 2
    timeout: Timeout = 5.0
    invalid_prompt: PromptName = "invalid-choice"
    # Where callers go who never press a valid key; unset: they stay in the current queue.
    no_choice: MenuTarget | None = None


class CustomerNumberConfig(_Strict):
    prompt: PromptName
    max_digits: Annotated[int, Field(ge=1, le=32)] = 12
    timeout: Timeout = 8.0  # for the first digit
    digit_timeout: Timeout = 3.0  # between digits; '#' ends the number at once


OPTION_MODELS: dict[str, type[MenuConfig] | type[CustomerNumberConfig]] = {
    "menu": MenuConfig,
    "customer-number": CustomerNumberConfig,
}


@dataclass(frozen=True, slots=True)
class StepSpec:
    name: str
    options: MenuConfig | CustomerNumberConfig | None
    path: str  # "steps.3", for messages


def _default_steps() -> list[str | dict[str, Any]]:
    return list(DEFAULT_FLOW_STEPS)


class FlowConfig(_Strict):
    steps: list[str | dict[str, Any]] = Field(default_factory=_default_steps, min_length=1)
    closed: list[str] = Field(default_factory=lambda: ["closed-message"])
    menu: MenuConfig | None = None
    customer_number: CustomerNumberConfig | None = Field(default=None, alias="customer-number")

    @model_validator(mode="after")
    def _valid_steps(self) -> FlowConfig:
        self.step_specs()  # raises with the step's position and the reason
        for i, name in enumerate(self.closed):
            if name not in CLOSED_STEPS:
                raise ValueError(
                    f"closed.{i}: unknown step {name!r} (closed steps: {', '.join(CLOSED_STEPS)})"
                )
        if self.closed != ["closed-message"] and "calendar" not in self._names():
            raise ValueError("closed: has no effect without a 'calendar' step in steps")
        return self

    def _names(self) -> list[str]:
        return [s if isinstance(s, str) else next(iter(s), "") for s in self.steps]

    def step_specs(self) -> list[StepSpec]:
        specs: list[StepSpec] = []
        for i, entry in enumerate(self.steps):
            path = f"steps.{i}"
            if specs and specs[-1].name in ENDING_STEPS:
                raise ValueError(f"{path}: nothing runs after {specs[-1].name!r}; it ends the flow")
            specs.append(self._spec(entry, path))
        return specs

    def _spec(self, entry: str | dict[str, Any], path: str) -> StepSpec:
        if isinstance(entry, str):
            if entry not in STEPS:
                hint = " (it belongs in 'closed')" if entry in CLOSED_STEPS else ""
                raise ValueError(f"{path}: unknown step {entry!r}{hint}; steps: {', '.join(STEPS)}")
            options = {"menu": self.menu, "customer-number": self.customer_number}.get(entry)
            if entry in OPTION_MODELS and options is None:
                raise ValueError(
                    f"{path}: step {entry!r} needs its settings: a [flows.<id>.{entry}] table, "
                    f"or write it inline as {{ {entry} = {{ ... }} }}"
                )
            return StepSpec(entry, options, path)
        if len(entry) != 1:
            raise ValueError(f"{path}: a step table has exactly one key, the step's name")
        name, raw = next(iter(entry.items()))
        model = OPTION_MODELS.get(name)
        if model is None:
            raise ValueError(
                f"{path}: {name!r} takes no settings; steps with settings: "
                f"{', '.join(OPTION_MODELS)}"
            )
        try:
            options = model.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in (path, name, *err["loc"]))
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            raise ValueError(f"{where}: {msg.removeprefix('Value error, ')}") from None
        return StepSpec(name, options, path)


def _options_path(fid: str, flow: FlowConfig, spec: StepSpec) -> str:
    """Where a step's settings are written: its [flows.ID.<step>] table, or inline."""
    if spec.options is not None and (
        spec.options is flow.menu or spec.options is flow.customer_number
    ):
        return f"flows.{fid}.{spec.name}"
    return f"flows.{fid}.{spec.path}.{spec.name}"


def flow_prompt_uses(flows: Mapping[str, FlowConfig]) -> list[tuple[str, str]]:
    """(key path, prompt name) of every prompt a flow's steps name, e.g.
    ("flows.support.menu.prompt", "support-menu")."""
    uses: list[tuple[str, str]] = []
    for fid, flow in flows.items():
        for spec in flow.step_specs():
            base = _options_path(fid, flow, spec)
            if isinstance(spec.options, MenuConfig):
                uses.append((f"{base}.prompt", spec.options.prompt))
                uses.append((f"{base}.invalid_prompt", spec.options.invalid_prompt))
            elif isinstance(spec.options, CustomerNumberConfig):
                uses.append((f"{base}.prompt", spec.options.prompt))
    return uses


def flow_problems(
    flows: Mapping[str, FlowConfig], queues: Collection[str], numbers: Collection[str]
) -> list[tuple[str, str]]:
    """Menu targets that name no queue or number: (key path, reason) for each."""
    problems: list[tuple[str, str]] = []
    for fid, flow in flows.items():
        for spec in flow.step_specs():
            if not isinstance(spec.options, MenuConfig):
                continue
            # Settings from the [flows.ID.menu] table are reported at that table.
            base = _options_path(fid, flow, spec)
            targets = [(f"choices.{k}", t) for k, t in spec.options.choices.items()]
            if spec.options.no_choice is not None:
                targets.append(("no_choice", spec.options.no_choice))
            for where, target in targets:
                if target.queue is not None and target.queue not in queues:
                    problems.append((f"{base}.{where}.queue", f"unknown queue {target.queue!r}"))
                if target.number is not None and target.number not in numbers:
                    problems.append((f"{base}.{where}.number", f"unknown number {target.number!r}"))
    return problems
