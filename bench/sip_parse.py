"""Parser/serializer and UAS call-handling throughput on one core.

Run: .venv/bin/python bench/sip_parse.py   (prints the median of several runs)

Rates are per second of this process's CPU time (``time.process_time``), so other
work on the shared machine inflates them less than wall-clock rates.

"handle" cases go through the UA core as the transport does (``receive_bytes``):
an INVITE answered 180 + 200 by the layer above, its ACK, then the caller's BYE,
each call with its own Call-ID, tags and branches.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sip.parser import parse_message, serialize  # noqa: E402
from sip.useragent import DialogEstablished, IncomingRequest, UserAgent  # noqa: E402

SDP = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 198.51.100.10\r\n"
    b"s=-\r\n"
    b"c=IN IP4 198.51.100.10\r\n"
    b"t=0 0\r\n"
    b"m=audio 49170 RTP/AVP 0 8 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-16\r\n"
    b"a=sendrecv\r\n"
)

INVITE = (
    b"INVITE sip:support@pbx.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b'From: "Alice Caller" <sip:alice@example.org>;tag=1928301774\r\n'
    b"To: <sip:support@pbx.example.com>\r\n"
    b"Call-ID: a84b4c76e66710@198.51.100.10\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@198.51.100.10:5060>\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY\r\n"
    b"Supported: replaces, timer\r\n"
    b"User-Agent: bench-ua/1.0\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: " + str(len(SDP)).encode() + b"\r\n"
    b"\r\n" + SDP
)

OK_200 = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKnashds8;received=203.0.113.5\r\n"
    b"From: <sip:support@pbx.example.com>;tag=88sja8x\r\n"
    b'To: "Agent 7" <sip:agent7@example.org>;tag=a6c85cf\r\n'
    b"Call-ID: 3848276298220188511@pbx.example.com\r\n"
    b"CSeq: 1 BYE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)

REGISTER = (
    b"REGISTER sip:pbx.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP 192.0.2.44:49152;branch=z9hG4bKnashds7;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:agent7@pbx.example.com>;tag=a73kszlfl\r\n"
    b"To: <sip:agent7@pbx.example.com>\r\n"
    b"Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.44\r\n"
    b"CSeq: 2 REGISTER\r\n"
    b"Contact: <sip:agent7@192.0.2.44:49152;transport=tcp>;expires=3600\r\n"
    b"Expires: 3600\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


ACK = (
    b"ACK sip:192.0.2.200:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK776ack;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b'From: "Alice Caller" <sip:alice@example.org>;tag=1928301774\r\n'
    b"To: <sip:support@pbx.example.com>;tag=TOTAG\r\n"
    b"Call-ID: a84b4c76e66710@198.51.100.10\r\n"
    b"CSeq: 314159 ACK\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
BYE = (
    ACK.replace(b"ACK sip:", b"BYE sip:", 1)
    .replace(b"z9hG4bK776ack", b"z9hG4bK776bye")
    .replace(b"314159 ACK", b"314160 BYE")
)
SOURCE = ("198.51.100.10", 5060)
CALLS_PER_RUN = 2000


def _per_call(data: bytes, n: int) -> bytes:
    """``data`` with this call's own Call-ID, From tag and branch."""
    return (
        data.replace(b"a84b4c76e66710", b"a84b4c76e66710-%d" % n)
        .replace(b"1928301774", b"1928301774-%d" % n)
        .replace(b"z9hG4bK776", b"z9hG4bK776-%d-" % n)
    )


CALLS = [(_per_call(INVITE, n), _per_call(ACK, n), _per_call(BYE, n)) for n in range(CALLS_PER_RUN)]


def handle_calls() -> int:
    """One UA answers CALLS_PER_RUN calls (INVITE, 180, 200, ACK, BYE); returns the count."""
    ua = UserAgent(local_host="192.0.2.200", local_port=5060)
    now = 0.0
    for invite, ack, bye in CALLS:
        ua.receive_bytes(invite, SOURCE, "UDP", now)
        event = ua.next_event()
        assert isinstance(event, IncomingRequest)
        ua.respond(event.request_id, 180, now=now)
        ua.respond(event.request_id, 200, body=SDP, content_type="application/sdp", now=now)
        established = ua.next_event()
        assert isinstance(established, DialogEstablished)
        ua.messages_to_send()
        to_tag = established.dialog_id.split("|")[1].encode()  # Call-ID|our tag|theirs
        ua.receive_bytes(ack.replace(b"TOTAG", to_tag), SOURCE, "UDP", now)
        ua.receive_bytes(bye.replace(b"TOTAG", to_tag), SOURCE, "UDP", now)
        while ua.next_event() is not None:
            pass
        ua.messages_to_send()
    return len(CALLS)


def calls_rate(runs: int = 7) -> float:
    """Median calls per second of ``handle_calls`` over ``runs`` runs."""
    rates = []
    for _ in range(runs):
        start = time.process_time()
        count = handle_calls()
        rates.append(count / (time.process_time() - start))
    return statistics.median(rates)


def rate(fn: Callable[[], object], seconds: float = 0.4) -> float:
    """Calls per second of fn, measured in batches for about ``seconds``."""
    batch = 1000
    count = 0
    start = time.process_time()
    while True:
        for _ in range(batch):
            fn()
        count += batch
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return count / elapsed


def median_rate(fn: Callable[[], object], runs: int = 7) -> float:
    return statistics.median(rate(fn) for _ in range(runs))


def main() -> None:
    cases = {"INVITE with SDP": INVITE, "200 OK": OK_200, "REGISTER": REGISTER}
    for name, data in cases.items():
        parse_message(data)  # fail loudly before timing
        print(f"parse {name:<16} {median_rate(lambda d=data: parse_message(d)):>10,.0f} /s")
    invite = parse_message(INVITE)
    print(f"serialize {'INVITE with SDP':<12} {median_rate(lambda: serialize(invite)):>10,.0f} /s")
    print(f"handle {'UAS call':<16} {calls_rate():>10,.0f} calls/s (INVITE 180 200 ACK BYE)")


if __name__ == "__main__":
    main()
