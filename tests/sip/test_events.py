"""The UA core's events: one module, importable from where they used to live, typed ids."""

from __future__ import annotations

import sip
import sip.events
import sip.useragent
from sip.events import DialogEstablished, DialogTerminated, Role, TerminationReason
from tests.sip.test_useragent import A, B, call, two_uas


def test_events_live_in_sip_events_and_stay_importable_from_useragent_and_sip() -> None:
    for name in sip.events.__all__:
        event = getattr(sip.events, name)
        assert getattr(sip.useragent, name) is event
        assert getattr(sip, name) is event


def test_package_exports_its_public_surface() -> None:
    assert sip.UserAgent is sip.useragent.UserAgent
    for name in sip.__all__:
        assert hasattr(sip, name), name


def test_roles_and_reasons_are_enums_that_still_read_as_their_old_strings() -> None:
    assert Role.UAS == "uas" and Role.UAC == "uac"
    assert TerminationReason.NO_ACK == "no ACK received"
    assert f"{TerminationReason.REQUEST_TIMEOUT}" == "request timeout"


def test_dialog_events_carry_role_and_reason_members() -> None:
    net = two_uas()
    did_a, did_b = call(net)
    assert net.uas[A].dialog(did_a).role is Role.UAC  # type: ignore[union-attr]
    assert net.uas[B].dialog(did_b).role is Role.UAS  # type: ignore[union-attr]
    net.drop = lambda m, s, d: True  # the BYE and its retransmissions are lost
    net.uas[A].dialog_request(did_a, "INFO", now=net.now)
    net.run_until(net.now + 60)
    terminated = [e for e in net.take(A) if isinstance(e, DialogTerminated)]
    assert terminated == [DialogTerminated(did_a, TerminationReason.REQUEST_TIMEOUT)]
    assert type(terminated[0].reason) is TerminationReason
    assert DialogEstablished(did_a, Role.UAC, "c1") == DialogEstablished(did_a, "uac", "c1")  # type: ignore[arg-type]
