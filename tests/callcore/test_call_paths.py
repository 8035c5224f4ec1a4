"""The call core in virtual time: one test per behaviour of a caller's path (SPEC S2)."""

from __future__ import annotations

from callcore import QueueOptions
from callcore import actions as A
from callcore import events as E
from tests.callcore.world import World, make_acd


def test_a_call_is_answered_once_its_leg_is_ready_and_runs_its_flow_after_the_ack() -> None:
    w = World()
    key = w.invite("100")
    assert w.responses["r1"] == [200]
    assert key not in w.flows  # nothing is played before the ACK
    w.feed(E.CallerAcked(key))
    assert w.flows[key].number == "100" and w.flows[key].queue == "q"
    assert w.kinds(key) == ["incoming"]


def test_a_number_with_ring_time_rings_first_then_answers() -> None:
    w = World()
    key = w.invite("102")
    assert w.responses["r1"] == [180]
    w.advance(1.9)
    assert w.responses["r1"] == [180]
    w.advance(0.2)
    assert w.responses["r1"] == [180, 200]
    assert key in w.core.calls


def test_an_unknown_number_gets_404_and_no_call() -> None:
    w = World()
    w.invite("555")
    assert w.responses["r1"] == [404]
    assert not w.core.calls and not w.log


def test_no_media_port_gets_503_and_the_call_is_closed_in_the_log() -> None:
    w = World(leg_error=("Service Unavailable: no media port free", 503))
    key = w.invite("100")
    assert w.responses["r1"] == [503]
    assert w.summaries[key].outcome == "rejected"
    assert not w.core.calls


def test_no_ack_releases_the_call_after_the_ack_timeout_without_a_bye() -> None:
    # An INVITE that is never acknowledged must not hold its RTP ports for 32 s (issue 19);
    # no BYE may be sent before the ACK (RFC 3261 section 15).
    w = World()
    key = w.invite("100")
    w.advance(7.5)
    assert key in w.core.calls
    w.advance(1.0)
    assert w.summaries[key].outcome == "no_ack" and key not in w.hung_up
    assert any(isinstance(a, A.ReleaseMedia) and a.key == key for a in w.actions)


def test_closed_calendar_flow_ends_the_call_after_the_grace_and_logs_closed() -> None:
    w = World()
    key = w.answered_call("199")
    w.feed(E.Note(key, "closed", {"rule": "weekly"}))
    w.feed(E.FlowFinished(key, "closed", queue="closedq"))
    assert key not in w.hung_up  # the phone still plays the end of the closed message
    w.advance(0.6)
    s = w.summaries[key]
    assert (s.outcome, s.ended_by, s.queue) == ("closed", "server", "closedq")


def test_a_menu_choice_of_another_queue_queues_the_call_there() -> None:
    w = World()
    w.login("a0")
    key = w.answered_call("100")
    w.feed(E.Note(key, "menu_choice", {"key": "2"}))
    w.feed(E.FlowFinished(key, "queue", queue="q2"))
    assert w.core.calls[key].queue == "q2"
    assert ("arrived", "q2") in [(e.kind, e.queue) for e in w.log if e.call_id == key]


def test_a_queued_call_hears_music_and_is_offered_to_a_ready_agent() -> None:
    w = World()
    w.login("a0")
    key = w.queued_call()
    assert w.music[key] == "hold-music"
    assert w.ringing == {(key, "a0"): "sip:a0"}


def test_the_queue_message_plays_before_the_music_and_a_custom_music_is_used() -> None:
    w = World(options={"q": QueueOptions(queue_message="our-msg", hold_music="jazz")})
    key = w.queued_call()
    (play,) = [a for a in w.actions if isinstance(a, A.PlayQueueMusic)]
    assert (play.message, play.music) == ("our-msg", "jazz")
    assert key in w.music


def test_an_answer_bridges_the_agent_and_stops_the_music() -> None:
    w = World()
    w.login("a0")
    key = w.queued_call()
    w.feed(E.AgentAnswered(key, "a0"))
    assert w.bridged == {key: "a0"} and key not in w.music
    assert w.core.calls[key].agent == "a0"


def test_no_answer_goes_to_the_next_agent() -> None:
    w = World()
    w.acd = w.acd  # default ring timeout 20 s
    w.login("a0", "a1")
    key = w.queued_call()
    first = next(agent for (k, agent) in w.ringing if k == key)
    w.advance(20.5)
    assert (key, first) not in w.ringing
    assert [a for (k, a) in w.ringing if k == key] != [first]
    assert "no_answer" in w.kinds(key)


def test_a_declined_offer_is_a_no_answer_and_the_call_waits_on() -> None:
    w = World()
    w.login("a0", "a1")
    key = w.queued_call()
    (first,) = [agent for (k, agent) in w.ringing if k == key]
    w.feed(E.AgentOfferFailed(key, first, "rejected: 486 Busy Here", rejected=True))
    assert (key, first) not in w.ringing and key in w.core.calls
    assert [agent for (k, agent) in w.ringing if k == key] == [{"a0": "a1", "a1": "a0"}[first]]
    assert "rejected" in w.kinds(key)
    assert w.acd.agent_view(first).unanswered_in_row == 1


def test_caller_hanging_up_in_queue_is_abandoned_with_its_wait() -> None:
    w = World()
    key = w.queued_call()
    w.advance(7.0)
    w.feed(E.CallerGone(key, "hangup"))
    s = w.summaries[key]
    assert (s.outcome, s.ended_by, s.wait_seconds) == ("abandoned", "caller", 7.0)
    assert key not in w.hung_up  # nothing to BYE: the caller did


def test_caller_hanging_up_while_an_agent_rings_cancels_the_ring() -> None:
    w = World()
    w.login("a0")
    key = w.queued_call()
    w.feed(E.CallerGone(key, "hangup"))
    assert not w.ringing
    assert w.summaries[key].outcome == "abandoned"
    assert w.acd.agent_view("a0").state.value == "ready"


def test_caller_hanging_up_after_answer_ends_the_call_as_the_caller_did() -> None:
    w = World()
    w.login("a0")
    key = w.queued_call()
    w.advance(3.0)
    w.feed(E.AgentAnswered(key, "a0"))
    w.advance(60.0)
    w.feed(E.CallerGone(key, "hangup"))
    (ended,) = [e for e in w.log if e.call_id == key and e.kind == "ended"]
    assert ended.data is not None and ended.data["reason"] == "caller hung up"
    s = w.summaries[key]
    assert (s.outcome, s.agent, s.ended_by, s.wait_seconds, s.talk_seconds) == (
        "answered",
        "a0",
        "caller",
        3.0,
        60.0,
    )
    assert not w.bridged


def test_agent_hanging_up_is_logged_as_the_agent_hanging_up() -> None:
    # Defect 1: the ACD logged "caller hung up" while the call ended on the agent's side.
    w = World()
    w.login("a0")
    key = w.queued_call()
    w.feed(E.AgentAnswered(key, "a0"))
    w.feed(E.AgentGone(key, "a0", "hangup"))
    (ended,) = [e for e in w.log if e.call_id == key and e.kind == "ended"]
    assert ended.data is not None and ended.data["reason"] == "agent hung up"
    assert w.summaries[key].ended_by == "agent"
    assert key in w.hung_up  # Vaxel BYEs the caller


def test_a_reused_call_id_is_a_new_call() -> None:
    # Defect 2: a new INVITE with an ended call's Call-ID was dropped as "already known".
    w = World()
    w.login("a0")
    first = w.queued_call(call_id="same@host")
    w.feed(E.CallerGone(first, "hangup"))
    second = w.queued_call(call_id="same@host")
    assert second != first and second.startswith("same@host")
    assert w.ringing == {(second, "a0"): "sip:a0"}
    assert "arrived" in w.kinds(second)


def test_overflow_to_voicemail_runs_the_queue_mailbox() -> None:
    # Defect 4: overflow outside the ACD hung the caller up.
    w = World(acd=None)  # type: ignore[arg-type]
    from tests.callcore.world import make_acd

    w.acd = make_acd(max_wait=30, max_wait_target="voicemail")
    key = w.queued_call()
    w.advance(31)
    assert w.services[key].service == "voicemail" and w.services[key].queue == "q"
    assert key not in w.music
    w.feed(E.Note(key, "voicemail_stored", {"id": 1}))
    w.feed(E.ServiceFinished(key))
    w.advance(1)
    assert w.summaries[key].outcome == "voicemail"


def test_overflow_to_a_number_continues_in_that_numbers_flow_or_service() -> None:
    from tests.callcore.world import make_acd

    w = World()
    w.acd = make_acd(max_queue_length=1, queue_full_target="number:101")
    w.queued_call()
    second = w.queued_call()
    assert w.flows[second].number == "101" and w.flows[second].queue == "q2"
    w2 = World()
    w2.acd = make_acd(no_agent_target="number:190")
    key = w2.queued_call()
    assert w2.services[key].service == "remote-login"


def test_overflow_to_another_queue_keeps_the_call_in_the_acd_with_that_queues_music() -> None:
    from tests.callcore.world import make_acd

    w = World(options={"q2": QueueOptions(hold_music="q2-music")})
    w.acd = make_acd(max_wait=10, max_wait_target="q2")
    key = w.queued_call()
    w.advance(11)
    assert w.core.calls[key].queue == "q2" and w.music[key] == "q2-music"
    assert w.core.calls[key].in_acd


def test_services_run_for_their_numbers_and_end_after_the_grace() -> None:
    w = World()
    for number, service in (("190", "remote-login"), ("191", "prompt-recording")):
        key = w.answered_call(number)
        assert w.services[key].service == service
        kind = "remote_login" if service == "remote-login" else "prompt_recording_saved"
        w.feed(E.Note(key, kind, {}))
        w.feed(E.ServiceFinished(key))
        w.advance(1)
        assert w.summaries[key].outcome == service.replace("-", "_")


def test_voicemail_number_runs_voicemail_for_its_queue() -> None:
    w = World()
    key = w.answered_call("192")
    assert (w.services[key].service, w.services[key].queue) == ("voicemail", "q")


def test_a_tel_agent_must_press_1_before_the_caller_is_bridged() -> None:
    # Defect 9: a mobile's voicemail took the caller the moment it answered.
    w = World()
    w.login("a0", device="tel:0700")
    key = w.queued_call()
    w.feed(E.AgentAnswered(key, "a0"))
    assert (key, "a0") in w.prompted and not w.bridged
    w.feed(E.AgentKeyed(key, "a0", "1"))
    assert w.bridged == {key: "a0"}


def test_no_key_on_the_accept_prompt_counts_as_no_answer() -> None:
    w = World()
    w.login("a0", "a1", device="tel:070{}")
    key = w.queued_call()
    first = next(agent for (k, agent) in w.ringing if k == key)
    w.feed(E.AgentAnswered(key, first))
    w.feed(E.AgentKeyed(key, first, None))
    assert not w.bridged and (key, first) not in w.prompted
    assert "agent_declined" in w.kinds(key) and "rejected" in w.kinds(key)
    assert w.acd.agent_view(first).unanswered_in_row == 1


def test_sip_agents_are_bridged_without_accept_prompt_unless_the_queue_asks() -> None:
    w = World(options={"q": QueueOptions(accept_prompt=True)})
    w.login("a0")
    key = w.queued_call()
    w.feed(E.AgentAnswered(key, "a0"))
    assert (key, "a0") in w.prompted


def test_a_browser_agents_answer_click_is_the_acceptance_even_if_the_queue_asks() -> None:
    w = World(options={"q": QueueOptions(accept_prompt=True)})
    w.login("a0", device="browser:a0")
    key = w.queued_call()
    w.feed(E.AgentAnswered(key, "a0"))
    assert (key, "a0") not in w.prompted
    assert w.bridged == {key: "a0"}


def test_a_late_answer_after_the_caller_left_is_hung_up() -> None:
    w = World()
    w.login("a0")
    key = w.queued_call()
    w.feed(E.CallerGone(key, "hangup"))
    actions = w.core.handle(E.AgentAnswered(key, "a0"), w.now)
    assert actions == []  # the call is gone: the executor drops the leg with the call


def test_shutdown_ends_every_call_as_shutdown_and_refuses_new_ones() -> None:
    w = World()
    w.login("a0")
    waiting = w.queued_call()
    w.run(w.core.shutdown(w.now))
    assert w.summaries[waiting].outcome == "shutdown"
    assert w.summaries[waiting].ended_by == "server"
    w.invite("100")
    assert w.responses["r2"] == [503]


def test_position_announcements_are_logged_before_they_play() -> None:
    from tests.callcore.world import make_acd

    w = World()
    w.acd = make_acd(announce_interval=30)
    key = w.queued_call()
    w.advance(31)
    assert w.announced and w.announced[0][0] == key
    assert "announced" in w.kinds(key)


def test_an_offer_that_fails_at_once_is_not_repeated_to_the_same_agent_at_once() -> None:
    # Defect 3: a trunk answering 404 at once had the same agent re-offered 5 times in 26 ms
    # and logged out. The reason now carries the SIP status.
    w = World()
    w.login("a0", device="tel:0700")
    key = w.queued_call()
    for _ in range(5):
        if (key, "a0") in w.ringing:
            w.feed(E.AgentOfferFailed(key, "a0", "failed: 404 Not Found"))
    failed = [e for e in w.log if e.kind == "offer_failed"]
    assert len(failed) == 1 and failed[0].data is not None
    assert failed[0].data["reason"] == "failed: 404 Not Found"
    assert w.acd.is_logged_in("a0") and (key, "a0") not in w.ringing
    w.advance(6.0)  # failed_offer_retry (default 5 s) later the agent is tried again
    assert (key, "a0") in w.ringing


def test_agent_hanging_up_first_leaves_the_caller_in_the_survey_and_the_agent_in_wrap_up() -> None:
    w = World(options={"q": QueueOptions(survey=True)})
    w.acd = make_acd(wrap_up=30)
    w.login("a0")
    key = w.queued_call()
    w.feed(E.AgentAnswered(key, "a0"))
    w.advance(40)
    w.feed(E.AgentGone(key, "a0", "hangup"))
    assert w.acd.agent_view("a0").state.value == "wrap_up"  # while the caller answers
    assert not w.bridged and key not in w.hung_up
    assert w.services[key].service == "survey" and w.services[key].agent == "a0"
    w.advance(5)
    w.feed(E.Note(key, "survey_answer", {"position": 1, "question": "q1", "answer": 4}))
    w.feed(E.ServiceFinished(key))
    w.advance(1)
    (answer,) = [e for e in w.log if e.kind == "survey_answer"]
    assert (answer.agent, answer.queue, answer.data) == (
        "a0",
        "q",
        {"position": 1, "question": "q1", "answer": 4},
    )
    s = w.summaries[key]
    assert (s.outcome, s.ended_by, s.talk_seconds) == ("answered", "agent", 40.0)
    assert key in w.hung_up  # Vaxel says goodbye after the closing prompt


def test_the_caller_hanging_up_in_the_survey_ends_it_with_what_was_answered() -> None:
    w = World(options={"q": QueueOptions(survey=True)})
    w.login("a0")
    key = w.queued_call()
    w.feed(E.AgentAnswered(key, "a0"))
    w.feed(E.AgentGone(key, "a0", "hangup"))
    w.feed(E.Note(key, "survey_answer", {"position": 1, "question": "q1", "answer": 2}))
    w.feed(E.CallerGone(key, "hangup"))
    assert [e.kind for e in w.log if e.call_id == key][-2:] == ["survey_answer", "hangup"]
    assert w.summaries[key].ended_by == "agent"


def test_without_a_survey_the_agent_hanging_up_ends_the_call() -> None:
    w = World()
    w.login("a0")
    key = w.queued_call()
    w.feed(E.AgentAnswered(key, "a0"))
    w.feed(E.AgentGone(key, "a0", "hangup"))
    assert key not in w.services and key in w.summaries


CODES = ("order", "question", "complaint")


def _connected_tel_call(w: World) -> str:
    w.login("a0", device="tel:0700")
    key = w.queued_call()
    w.feed(E.AgentAnswered(key, "a0"))
    w.feed(E.AgentKeyed(key, "a0", "1"))
    assert w.bridged == {key: "a0"}
    return key


def _drops(w: World) -> list[A.DropAgent]:
    return [a for a in w.actions if isinstance(a, A.DropAgent)]


def test_a_tel_agent_left_on_the_line_by_the_caller_is_asked_for_the_code_by_keypad() -> None:
    w = World(options={"q": QueueOptions(keypad_codes=CODES, keypad_timeout=7)})
    key = _connected_tel_call(w)
    w.feed(E.CallerGone(key, "hangup"))
    assert _drops(w) == [A.DropAgent(key, "a0", CODES, 7)]


def test_no_keypad_question_when_the_agent_hangs_up_or_is_on_a_sip_phone() -> None:
    w = World(options={"q": QueueOptions(keypad_codes=CODES)})
    key = _connected_tel_call(w)
    w.feed(E.AgentGone(key, "a0", "hangup"))
    assert _drops(w) == [A.DropAgent(key, "a0")]  # the agent's phone is gone
    w = World(options={"q": QueueOptions(keypad_codes=CODES)})
    w.login("a0")
    key = w.queued_call()
    w.feed(E.AgentAnswered(key, "a0"))
    w.feed(E.CallerGone(key, "hangup"))
    assert _drops(w) == [A.DropAgent(key, "a0")]  # a SIP phone: the API or the web client


def test_no_keypad_question_for_a_queue_without_codes() -> None:
    w = World()
    key = _connected_tel_call(w)
    w.feed(E.CallerGone(key, "hangup"))
    assert _drops(w) == [A.DropAgent(key, "a0")]
