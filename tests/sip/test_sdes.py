"""SDES (RFC 4568) in the offer/answer: which offers get SRTP, and what we answer."""

from __future__ import annotations

import base64
import os

import pytest

from sip.sdes import CryptoOffer, parse_crypto
from sip.sdp import NoCommonCodec, negotiate, parse_answer, parse_sdp

THEIR_KEY = bytes(range(30))
OUR_KEY = os.urandom(30)


def _offer(proto: str, *crypto: str) -> bytes:
    lines = [
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        f"m=audio 4000 {proto} 0 101",
        "a=rtpmap:101 telephone-event/8000",
        *(f"a=crypto:{c}" for c in crypto),
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def _key(key: bytes = THEIR_KEY) -> str:
    return base64.b64encode(key).decode()


def _answer(offer: bytes, key: bytes | None = OUR_KEY):
    return negotiate(
        parse_sdp(offer),
        local_address="127.0.0.1",
        local_port=5000,
        session_id=1,
        session_version=1,
        srtp_key=key,
    )


@pytest.mark.parametrize("suite", ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"])
def test_savp_offer_is_answered_with_our_own_key_on_the_same_tag_and_suite(suite: str) -> None:
    answer = _answer(_offer("RTP/SAVP", f"3 {suite} inline:{_key()}|2^20"))
    m = answer.sdp.media[0]
    assert m.proto == "RTP/SAVP" and m.port == 5000
    crypto = [v for n, v in m.attributes if n == "crypto"]
    assert crypto == [f"3 {suite} inline:{_key(OUR_KEY)}"]
    assert answer.srtp is not None
    assert (answer.srtp.suite, answer.srtp.local_key, answer.srtp.remote_key) == (
        suite,
        OUR_KEY,
        THEIR_KEY,
    )
    assert _key(OUR_KEY) not in repr(answer.srtp) and _key() not in repr(answer.srtp)


def test_first_usable_crypto_line_wins_and_unusable_ones_are_skipped() -> None:
    answer = _answer(
        _offer(
            "RTP/SAVP",
            f"1 AES_256_CM_HMAC_SHA1_80 inline:{_key(os.urandom(46))}",  # suite we lack
            f"2 AES_CM_128_HMAC_SHA1_80 inline:{_key()}|2^20|1:4",  # an MKI
            f"3 AES_CM_128_HMAC_SHA1_80 inline:{_key()} KDR=1",  # a session parameter
            f"4 AES_CM_128_HMAC_SHA1_32 inline:{_key()}",
        )
    )
    assert answer.srtp is not None and answer.srtp.suite == "AES_CM_128_HMAC_SHA1_32"
    assert [v.split()[0] for n, v in answer.sdp.media[0].attributes if n == "crypto"] == ["4"]


def test_plain_avp_offer_gets_plain_rtp() -> None:
    answer = _answer(_offer("RTP/AVP"))
    assert answer.srtp is None and answer.sdp.media[0].proto == "RTP/AVP"
    assert not [n for n, _ in answer.sdp.media[0].attributes if n == "crypto"]


def test_best_effort_srtp_on_avp_is_taken() -> None:
    # baresip's "mediaenc srtp": RTP/AVP with a=crypto; the answer's crypto turns SRTP on.
    answer = _answer(_offer("RTP/AVP", f"1 AES_CM_128_HMAC_SHA1_80 inline:{_key()}"))
    assert answer.srtp is not None and answer.sdp.media[0].proto == "RTP/AVP"
    assert answer.srtp.remote_key == THEIR_KEY


@pytest.mark.parametrize(
    "offer",
    [
        _offer("RTP/SAVP"),  # no crypto at all (DTLS-SRTP would say a=fingerprint)
        _offer("RTP/SAVP", "1 F8_128_HMAC_SHA1_80 inline:" + _key()),
        _offer("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ="),  # key too short
    ],
)
def test_savp_offer_we_cannot_key_is_488(offer: bytes) -> None:
    with pytest.raises(NoCommonCodec, match="RTP/SAVP"):
        _answer(offer)


def test_savp_offer_with_srtp_turned_off_is_488_and_avp_crypto_stays_plain() -> None:
    with pytest.raises(NoCommonCodec, match="SRTP is not enabled"):
        _answer(_offer("RTP/SAVP", f"1 AES_CM_128_HMAC_SHA1_80 inline:{_key()}"), key=None)
    plain = _answer(_offer("RTP/AVP", f"1 AES_CM_128_HMAC_SHA1_80 inline:{_key()}"), key=None)
    assert plain.srtp is None


def test_parse_crypto_reads_the_line_and_refuses_what_it_cannot_honour() -> None:
    assert parse_crypto(f"7 AES_CM_128_HMAC_SHA1_80 inline:{_key()}|2^31") == CryptoOffer(
        7, "AES_CM_128_HMAC_SHA1_80", THEIR_KEY
    )
    for bad in ("x AES_CM_128_HMAC_SHA1_80 inline:" + _key(), "1 AES_CM_128_HMAC_SHA1_80", ""):
        assert parse_crypto(bad) is None
    assert parse_crypto("1 AES_CM_128_HMAC_SHA1_80 inline:!!!notbase64") is None


def test_answer_to_our_srtp_offer_gives_both_keys() -> None:
    ours = parse_sdp(_offer("RTP/SAVP", f"1 AES_CM_128_HMAC_SHA1_80 inline:{_key(OUR_KEY)}"))
    theirs = parse_sdp(_offer("RTP/SAVP", f"1 AES_CM_128_HMAC_SHA1_80 inline:{_key()}"))
    neg = parse_answer(ours, theirs)
    assert neg.srtp is not None
    assert (neg.srtp.local_key, neg.srtp.remote_key) == (OUR_KEY, THEIR_KEY)
    with pytest.raises(NoCommonCodec):
        parse_answer(ours, parse_sdp(_offer("RTP/SAVP")))
