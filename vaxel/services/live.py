"""Live views every front door shows: agents, queues and calls as they are right now.

Plain JSON-ready dicts (HTTP sends them as they are; the SSH console formats them as
tables), built from the call stack's ACD, registrar and call core.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from acd import AgentState, new_caller_wait
from callcore import transfer

if TYPE_CHECKING:
    from acd import Acd, CallView
    from callcore import CallState
    from vaxel.calls.wiring import CallStack


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def device_kind(device: str | None, remote_number: str | None) -> str | None:
    """How a logged-in agent is reached: "sip", "browser", "remote" or "pstn" (None: logged
    out)."""
    if device is None:
        return None
    if device.startswith("sip:"):
        return "sip"
    if device.startswith("browser:"):
        return "browser"
    number = device.removeprefix("tel:")
    return "remote" if remote_number and number == remote_number else "pstn"


def agent_json(stack: CallStack, agent_id: str, now: float | None = None) -> dict[str, Any]:
    """One agent as the API shows it: configuration, ACD state and registered phones."""
    now = time.time() if now is None else now
    acd: Acd = stack.acd
    cfg = acd.agent_config(agent_id)
    view = acd.agent_view(agent_id)
    contacts = [
        {
            "contact": b.contact,
            "transport": b.transport,
            "source": f"{b.source[0]}:{b.source[1]}",
            "expires_in": b.remaining(now),
            "user_agent": b.user_agent,
        }
        for b in stack.registrar.bindings(agent_id, now)
    ]
    return {
        "id": cfg.id,
        "name": cfg.name,
        "state": view.state.value,
        "device": view.device,
        "device_kind": device_kind(view.device, cfg.remote_number),
        "groups": sorted(view.groups),
        "member_of": list(cfg.groups),
        "preselected_groups": list(cfg.preselected_groups),
        "call_id": view.call_id,
        # The answering service's company of the call being handled (docs/answering.md).
        "company": _company_brief(stack, view.call_id),
        "calls_answered": view.calls_answered,
        "unanswered_in_row": view.unanswered_in_row,
        "pause_reason": view.pause_reason,
        # When the agent entered this state (None: offline since the server started).
        "state_since": iso(view.state_since) if view.state_since > 0 else None,
        "idle_since": iso(view.idle_since) if view.state is AgentState.READY else None,
        "wrap_up_until": iso(view.wrap_up_until),
        "remote_number": cfg.remote_number,
        "registered_contacts": contacts,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def queue_json(stack: CallStack, queue_id: str, now: float) -> dict[str, Any]:
    acd = stack.acd
    q = acd.queue_config(queue_id)
    settings = stack.directory.config.queues[queue_id]
    numbers = sorted(n for n, t in stack.directory.config.numbers.items() if t.queue == queue_id)

    waiting: list[dict[str, Any]] = []
    ringing = connected = 0
    for cv in acd.calls():
        if cv.call.queue != queue_id:
            continue
        if cv.state == "ringing":
            ringing += 1
        elif cv.state == "connected":
            connected += 1
        else:
            arrived = cv.call.arrived_at if cv.call.arrived_at is not None else cv.entered_queue_at
            waiting.append(
                {
                    "call_id": cv.call.id,
                    "position": acd.position(cv.call.id),
                    "priority": cv.call.priority,
                    "effective_priority": q.priority + cv.call.priority,
                    "a_number": cv.call.a_number,
                    "channel": cv.call.channel.value,
                    "wait_seconds": _rounded(now - arrived),
                    "queue_wait_seconds": _rounded(now - cv.entered_queue_at),
                    "estimated_wait_seconds": _rounded(acd.estimated_wait(cv.call.id)),
                }
            )
    waiting.sort(key=lambda w: w["position"] or 0)

    agents = []
    for view in acd.agents():
        if view.state is AgentState.OFFLINE or not view.groups & set(q.answer_groups):
            continue
        agents.append(
            {
                "id": view.id,
                "name": acd.agent_config(view.id).name,
                "state": view.state.value,
                "groups": sorted(view.groups & set(q.answer_groups)),
            }
        )
    ready = sum(1 for a in agents if a["state"] == AgentState.READY.value)
    staffed = acd.staffed_agents(queue_id)
    aht = acd.average_handle_time(queue_id)
    return {
        "id": q.id,
        "name": q.name,
        "numbers": numbers,
        "answer_groups": list(q.answer_groups),
        "strategy": q.strategy.value,
        "priority": q.priority,
        "ring_timeout": q.ring_timeout,
        "wrap_up": q.wrap_up,
        "service_level_seconds": q.service_level_seconds,
        "announce_interval": q.announce_interval,
        "max_wait": settings.max_wait,
        "max_length": settings.max_length,
        "overflow_queue": settings.overflow_queue,
        "overflow_when_no_agents": settings.overflow_when_no_agents,
        "calendar": settings.calendar,
        "language": settings.language,
        # The codes an agent gives in wrap-up (POST /api/agents/ID/wrapup_done).
        "classification": None
        if settings.classification_profile is None
        else {
            "profile": settings.classification_profile,
            "codes": list(q.classification_codes),
            "required": q.classification_required,
        },
        "live": {
            "at": iso(now),
            "waiting": waiting,
            "waiting_count": len(waiting),
            "ringing_count": ringing,
            "connected_count": connected,
            "estimated_wait_seconds": _rounded(new_caller_wait(len(waiting), ready, staffed, aht)),
            "longest_wait_seconds": max((w["wait_seconds"] for w in waiting), default=None),
            "average_handle_time_seconds": _rounded(aht),
            "staffed_agents": staffed,
            "agents_logged_in": len(agents),
            "agents_ready": ready,
            "agents": agents,
        },
    }


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(max(0.0, value), 1)


def live_call_json(
    call: CallState,
    acd_view: CallView | None,
    now: float,
    quality: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``state``: ``ivr`` (prompts/menus, not queued), ``waiting``, ``ringing``, ``connected``;
    ``quality``: the latest interval MOS per leg (docs/mos.md)."""
    if call.connected_at is not None:
        state = "connected"
    elif call.kind != "inbound" and call.phase in ("briefing", "dialing"):
        state = "ringing"  # an outbound call's far end (or click-to-call's agent) rings
    elif acd_view is not None:
        state = acd_view.state
    elif call.in_acd:
        state = "waiting"
    else:
        state = "ivr"
    if call.agent is not None:
        agent: str | None = call.agent
    elif acd_view is not None and acd_view.state == "connected" and acd_view.agents:
        agent = acd_view.agents[0]
    else:
        agent = None
    ringing = list(acd_view.agents) if acd_view is not None and state == "ringing" else []
    wait_end = call.connected_at if call.connected_at is not None else now
    return {
        "call_id": call.key,
        "kind": call.kind,  # inbound, outbound, click-to-call, direct (docs/outbound.md)
        "a_number": call.a_number,
        "b_number": call.b_number,
        "queue": acd_view.call.queue if acd_view is not None else call.queue,
        "agent": agent,
        "ringing_agents": ringing,
        "state": state,
        "started_at": iso(call.started_at),
        "enqueued_at": iso(call.enqueued_at),
        "connected_at": iso(call.connected_at),
        "duration_seconds": _seconds(now - call.started_at),
        "wait_seconds": _seconds(wait_end - call.enqueued_at) if call.enqueued_at else None,
        "talk_seconds": _seconds(now - call.connected_at) if call.connected_at else None,
        "quality": quality or {},
        # Hold or a transfer under way (docs/transfers.md): what the agent's buttons act on.
        "transfer": transfer.describe(call),
    }


def live_calls(stack: CallStack, now: float | None = None) -> list[dict[str, Any]]:
    """Every call the controller holds, oldest first."""
    now = time.time() if now is None else now
    views = {v.call.id: v for v in stack.acd.calls()}
    calls = sorted(stack.controller.core.calls.values(), key=lambda c: c.started_at)
    out = []
    for c in calls:
        item = live_call_json(c, views.get(c.key), now, stack.controller.live_quality(c.key))
        item["company"] = _company_brief(stack, c.key)  # the answering service's, or None
        out.append(item)
    return out


def _company_brief(stack: CallStack, call_id: str | None) -> dict[str, Any] | None:
    company = stack.company_of_call(call_id)
    return None if company is None else {"id": company["id"], "name": company["name"]}
