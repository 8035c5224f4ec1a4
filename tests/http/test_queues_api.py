"""Queue views over real HTTP: configuration, waiting calls, estimated wait, serving agents."""

from __future__ import annotations

import time

from acd.model import Call
from tests.http.conftest import Api


async def _queue(api: Api, queue_id: str) -> dict:
    status, body = await api.call("GET", f"/api/queues/{queue_id}")
    assert status == 200
    return body["queue"]


async def _arrive(api: Api, call: Call) -> None:
    # Straight into the ACD, as the call core does once the caller reaches the queue.
    # No SIP caller stands behind these calls: the ACD's commands stop at the ACD (the
    # call core would answer an offer for a call it does not hold with "call gone").
    stack = api.server.calls
    stack.runner.sink = lambda commands: None
    await stack.runner.apply(stack.acd.call_arrived, call)


async def test_queue_list_has_every_configured_queue_with_its_settings(api: Api) -> None:
    status, body = await api.call("GET", "/api/queues")
    assert status == 200
    by_id = {q["id"]: q for q in body["queues"]}
    assert set(by_id) == set(api.server.config.queues)
    sales = by_id["sales"]
    assert sales["numbers"] == ["101"]
    assert sales["priority"] == 5
    assert sales["strategy"] == "round_robin"
    assert sales["overflow_queue"] == "support"
    assert sales["max_wait"] == 300
    assert sales["live"]["waiting"] == []


async def test_queue_view_lists_the_agents_serving_it_and_counts_ready_ones(api: Api) -> None:
    await api.call("POST", "/api/agents/1001/login", {"device": "sip"})  # support
    await api.call("POST", "/api/agents/1002/login", {"device": "sip"})  # support
    await api.call("POST", "/api/agents/1002/pause", {"reason": "meeting"})
    await api.call("POST", "/api/agents/1003/login", {"device": "sip"})  # sales only

    live = (await _queue(api, "support"))["live"]
    assert {a["id"]: a["state"] for a in live["agents"]} == {"1001": "ready", "1002": "paused"}
    assert live["agents_logged_in"] == 2
    assert live["agents_ready"] == 1
    assert live["staffed_agents"] == 1  # the paused one is not staffing
    # A ready agent is left over: a caller arriving now would be answered at once.
    assert live["estimated_wait_seconds"] == 0


async def test_waiting_calls_show_position_priority_and_wait_in_distribution_order(
    api: Api,
) -> None:
    t0 = time.time()
    await _arrive(api, Call("c-old", "support", a_number="0701", arrived_at=t0 - 30))
    await _arrive(api, Call("c-new", "support", a_number="0702"))
    await _arrive(api, Call("c-vip", "support", priority=3, a_number="0703"))

    live = (await _queue(api, "support"))["live"]
    waiting = live["waiting"]
    assert [w["call_id"] for w in waiting] == ["c-vip", "c-old", "c-new"]
    assert [w["position"] for w in waiting] == [1, 2, 3]
    assert waiting[0]["priority"] == 3
    assert waiting[1]["wait_seconds"] >= 30  # waits count from the original arrival
    assert waiting[2]["wait_seconds"] < 30
    assert live["waiting_count"] == 3
    assert live["longest_wait_seconds"] == waiting[1]["wait_seconds"]
    # Nobody staffed: no estimate can be given.
    assert live["estimated_wait_seconds"] is None
    assert all(w["estimated_wait_seconds"] is None for w in waiting)
    # The other queue is not affected.
    assert (await _queue(api, "sales"))["live"]["waiting"] == []


async def test_estimated_wait_follows_the_acd_formula_once_agents_are_busy(api: Api) -> None:
    await api.call("POST", "/api/agents/1002/login", {"device": "sip"})
    await api.call("POST", "/api/agents/1002/pause", {"reason": "x"})
    await api.call("POST", "/api/agents/1001/login", {"device": "sip"})
    # Straight into the ACD without carrying out its OfferCall: the controller knows no
    # call c1, so ringing for real would fail the offer at once (and hold 1001 back).
    stack = api.server.calls
    stack.acd.call_arrived(Call("c1", "support"), now=stack.runner.clock())
    # 1001 now rings for c1 (an offer that nobody answers); the next caller waits.
    await _arrive(api, Call("c2", "support"))
    live = (await _queue(api, "support"))["live"]
    assert live["ringing_count"] == 1
    aht = live["average_handle_time_seconds"]
    assert [w["call_id"] for w in live["waiting"]] == ["c2"]
    assert live["waiting"][0]["estimated_wait_seconds"] == round(1 * aht / 1, 1)
    assert live["estimated_wait_seconds"] == round(2 * aht / 1, 1)


async def test_unknown_queue_is_404(api: Api) -> None:
    status, body = await api.call("GET", "/api/queues/nope")
    assert status == 404
    assert body["error"]["message"] == "unknown queue 'nope'"
