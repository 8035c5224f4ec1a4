"""The configuration seen as the call controller needs it: ACD objects and look-ups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from acd import AgentConfig, AnswerGroup, GroupMembership, QueueConfig, Strategy, normalize_number
from callcore import CallbackOptions, QueueOptions, Target
from config import CallbackConfig, NumberTarget, VaxelConfig
from ivr import SurveySettings

# Device strings the ACD hands back in OfferCall: how to reach an agent.
SIP_DEVICE = "sip:"  # "sip:1001": the agent's registered SIP phone(s)
TEL_DEVICE = "tel:"  # "tel:0701001001": a phone number through the trunk


@dataclass(frozen=True, slots=True)
class Route:
    number: str
    target: NumberTarget


class Directory:
    def __init__(self, config: VaxelConfig) -> None:
        self.reload(config)

    def reload(self, config: VaxelConfig) -> None:
        """Take a changed configuration (administration at run time): look-ups from now on
        see it; calls already routed keep what they were given."""
        self.config = config
        self.groups = [AnswerGroup(gid, g.name or gid) for gid, g in config.answer_groups.items()]
        self.queues = [_queue(qid, config) for qid in config.queues]
        self.agents = [
            AgentConfig(
                id=aid,
                name=a.name,
                memberships=tuple(
                    GroupMembership(g, a.skill_levels.get(g, 0)) for g in a.answer_groups
                ),
                preselected_groups=tuple(a.preselected_groups),
                devices=(f"{SIP_DEVICE}{aid}",),
                remote_number=a.remote_number,
                alt_number=a.alternative_number,
            )
            for aid, a in config.agents.items()
        ]

    def route(self, number: str) -> Route | None:
        target = self.config.numbers.get(number)
        return Route(number, target) if target is not None else None

    def target(self, number: str) -> Target | None:
        """The number plan's entry for ``number`` as the call core routes it."""
        t = self.config.numbers.get(number)
        if t is None:
            return None
        return Target(
            queue=t.queue,
            service=t.service,
            agent=t.agent,
            ring_seconds=t.ring_seconds,
            direct=t.direct,
            calendar=t.calendar,
            ring_timeout=t.ring_timeout,
            voicemail=t.voicemail,
        )

    def queue_options(
        self, queue: str, activated: Callable[[str, str], str | None]
    ) -> QueueOptions:
        """What the call core needs of ``queue``; ``activated`` gives its prompt slots."""
        q = self.config.queues.get(queue)
        return QueueOptions(
            accept_prompt=q.accept_prompt if q is not None else None,
            accept_timeout=q.accept_timeout if q is not None else 10.0,
            queue_message=activated(queue, "queue-message"),
            hold_music=activated(queue, "hold-music") or "hold-music",
            accept_message=activated(queue, "accept-call") or "accept-call",
            survey=q is not None and q.survey is not None,
            callback=_callback(q.callback) if q is not None and q.callback else None,
            **self._keypad(q.classification_profile if q is not None else None),
        )

    def _keypad(self, profile_name: str | None) -> dict[str, Any]:
        """The classification asked by keypad of agents on phone numbers (none: no profile,
        or the profile says ``keypad = false``)."""
        profile = self.config.classification_profiles.get(profile_name or "")
        if profile is None or not profile.keypad:
            return {}
        return {"keypad_codes": tuple(profile.codes), "keypad_timeout": profile.keypad_timeout}

    def survey(self, queue: str | None) -> SurveySettings | None:
        """The queue's NKI survey, or None when it has none."""
        q = self.config.queues.get(queue) if queue else None
        if q is None or q.survey is None:
            return None
        s = q.survey
        return SurveySettings(
            questions=tuple(s.questions),
            welcome=s.welcome,
            closing=s.closing,
            invalid=s.invalid,
            answer_timeout=s.answer_timeout,
            max_repeats=s.max_repeats,
        )

    def sip_password(self, user: str) -> str | None:
        agent = self.config.agents.get(user)
        return agent.sip_password if agent is not None else None

    def is_agent(self, user: str | None) -> bool:
        return user is not None and user in self.config.agents

    def admin_for_caller(self, caller_id: str | None) -> str | None:
        """The admin whose caller id this is (prompt recording by phone), or None."""
        wanted = normalize_number(caller_id)
        if wanted is None:
            return None
        for name, admin in self.config.admins.items():
            if normalize_number(admin.caller_id) == wanted:
                return name
        return None

    def language_for(self, number: str, queue: str | None) -> str:
        target = self.config.numbers.get(number)
        if target is not None and target.language:
            return target.language
        if queue is not None and queue in self.config.queues:
            lang = self.config.queues[queue].language
            if lang:
                return lang
        return self.config.server.language


def _callback(c: CallbackConfig) -> CallbackOptions:
    return CallbackOptions(
        key=c.key,
        attempts=c.attempts,
        retry_interval=c.retry_interval,
        ring_timeout=c.ring_timeout,
        offer_after=c.offer_after,
        sms_to_phone_agents=c.sms_to_phone_agents,
        when_closed=c.when_closed,
    )


def _queue(qid: str, config: VaxelConfig) -> QueueConfig:
    q = config.queues[qid]
    overflow = q.overflow_queue or q.overflow_target
    profile = config.classification_profiles.get(q.classification_profile or "")
    return QueueConfig(
        id=qid,
        name=q.name or qid,
        answer_groups=tuple(q.answer_groups),
        priority=q.priority,
        strategy=Strategy(q.strategy.replace("-", "_")),
        ring_timeout=q.ring_timeout,
        wrap_up=q.wrap_up,
        service_level_seconds=q.service_level_seconds,
        max_wait=q.max_wait if overflow else None,
        max_wait_target=overflow if q.max_wait is not None else None,
        max_queue_length=q.max_length if overflow else None,
        queue_full_target=overflow if q.max_length is not None else None,
        no_agent_target=overflow if q.overflow_when_no_agents else None,
        announce_interval=q.announce_interval or None,
        classification_profile=q.classification_profile,
        classification_timeout=q.classification_timeout,
        classification_codes=tuple(profile.codes) if profile is not None else (),
        classification_required=profile.required if profile is not None else True,
        failed_offer_retry=q.failed_offer_retry,
        max_unanswered=q.max_unanswered,
        unanswered_action=q.unanswered_action,
    )
