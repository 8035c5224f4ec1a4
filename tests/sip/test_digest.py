"""Digest authentication: published vectors, stateless nonces, failure reasons."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip.digest import (
    HA1,
    DigestAuthenticator,
    DigestError,
    build_authorization,
    choose_challenge,
    parse_auth_params,
    parse_challenge,
)

# RFC 2617 section 3.5
RFC2617_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)
# RFC 7616 section 3.9.1
RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


def _rfc7616_challenge(algorithm: str) -> str:
    return (
        f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
        f'nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"'
    )


def _response_of(authorization: str) -> str:
    _, params = parse_auth_params(authorization)
    return params["response"]


def test_rfc2617_mufasa_vector() -> None:
    auth = build_authorization(
        parse_challenge(RFC2617_CHALLENGE),
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle Of Life",
        cnonce="0a4f113b",
        nc=1,
    )
    assert _response_of(auth) == "6629fae49393a05397450978507c4ef1"
    _, params = parse_auth_params(auth)
    assert params["nc"] == "00000001"
    assert params["qop"] == "auth"
    assert params["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_vectors(algorithm: str, expected: str) -> None:
    auth = build_authorization(
        parse_challenge(_rfc7616_challenge(algorithm)),
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle of Life",
        cnonce=RFC7616_CNONCE,
        nc=1,
    )
    assert _response_of(auth) == expected


def test_auth_params_handle_quoted_commas_and_escapes() -> None:
    scheme, params = parse_auth_params(
        'Digest username="a\\"b, c", realm=x,qop=auth ,  nc=00000001'
    )
    assert scheme == "Digest"
    assert params == {"username": 'a"b, c', "realm": "x", "qop": "auth", "nc": "00000001"}


@pytest.mark.parametrize(
    "bad",
    [
        "",
        'Digest username="unterminated',
        "Digest username",
        "Digest realm=a realm=b",
        "Digest realm=a, realm=b",
        'Digest realm="x\\',
        "Digest =x",
    ],
)
def test_malformed_auth_params_raise_digest_error(bad: str) -> None:
    with pytest.raises(DigestError):
        parse_auth_params(bad)


PASSWORDS = {"alice": "s3cret", "bob": 'p"w\\d'}
NOW = 1_700_000_000.0


def _auth(**kw: object) -> DigestAuthenticator:
    return DigestAuthenticator("vaxel.test", b"k" * 32, **kw)  # type: ignore[arg-type]


def _answer(
    server: DigestAuthenticator,
    now: float,
    *,
    user: str = "alice",
    password: str = "s3cret",
    algorithm: str = "SHA-256",
    method: str = "REGISTER",
    nc: int = 1,
) -> str:
    values = [v for _, v in server.challenge(now)]
    challenge = next(c for c in map(parse_challenge, values) if c.algorithm == algorithm)
    return build_authorization(
        challenge,
        method=method,
        uri="sip:vaxel.test",
        username=user,
        password=password,
        cnonce="abc123",
        nc=nc,
    )


def test_challenge_lists_sha256_before_md5_by_default_with_qop_auth() -> None:
    headers = _auth().challenge(NOW)
    assert [name for name, _ in headers] == ["WWW-Authenticate", "WWW-Authenticate"]
    parsed = [parse_challenge(v) for _, v in headers]
    assert [c.algorithm for c in parsed] == ["SHA-256", "MD5"]
    assert all(c.qop == ("auth",) and c.realm == "vaxel.test" and not c.stale for c in parsed)


def test_challenge_order_follows_configuration_for_old_clients() -> None:
    headers = _auth(algorithms=("MD5", "SHA-256")).challenge(NOW)
    assert [parse_challenge(v).algorithm for _, v in headers] == ["MD5", "SHA-256"]


def test_proxy_challenge_uses_proxy_authenticate_and_stale_flag() -> None:
    headers = _auth().challenge(NOW, stale=True, proxy=True)
    assert {name for name, _ in headers} == {"Proxy-Authenticate"}
    assert all(parse_challenge(v).stale for _, v in headers)


def test_choose_challenge_prefers_strongest() -> None:
    values = [v for _, v in _auth(algorithms=("MD5", "SHA-256")).challenge(NOW)][::-1]
    assert choose_challenge(values + ["Basic realm=x"]).algorithm == "SHA-256"
    with pytest.raises(DigestError):
        choose_challenge(["Basic realm=x"])


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_right_password_verifies_with_each_algorithm(algorithm: str) -> None:
    server = _auth()
    result = server.verify(
        "REGISTER", _answer(server, NOW, algorithm=algorithm), PASSWORDS.get, NOW
    )
    assert result.ok and result.reason == "ok"
    assert result.username == "alice" and result.algorithm == algorithm


def test_password_with_quote_and_backslash_verifies() -> None:
    server = _auth()
    auth = _answer(server, NOW, user="bob", password=PASSWORDS["bob"])
    assert server.verify("REGISTER", auth, PASSWORDS.get, NOW).ok


def test_sha512_256_verifies_when_enabled() -> None:
    server = _auth(algorithms=("SHA-512-256", "MD5"))
    auth = _answer(server, NOW, algorithm="SHA-512-256")
    assert server.verify("REGISTER", auth, PASSWORDS.get, NOW).ok


def test_ha1_storage_verifies_without_clear_password() -> None:
    server = _auth()
    store = {"alice": HA1.from_password("alice", "vaxel.test", "s3cret")}
    for k, alg in enumerate(("SHA-256", "MD5")):
        auth = _answer(server, NOW + k, algorithm=alg)
        assert server.verify("REGISTER", auth, store.get, NOW + k).ok


def test_wrong_password_is_reported() -> None:
    server = _auth()
    result = server.verify("REGISTER", _answer(server, NOW, password="nope"), PASSWORDS.get, NOW)
    assert not result.ok and result.reason == "wrong password" and not result.stale


def test_other_method_than_signed_fails() -> None:
    server = _auth()
    result = server.verify("INVITE", _answer(server, NOW), PASSWORDS.get, NOW)
    assert result.reason == "wrong password"


def test_unknown_user_is_reported() -> None:
    server = _auth()
    result = server.verify("REGISTER", _answer(server, NOW, user="mallory"), PASSWORDS.get, NOW)
    assert not result.ok and result.reason == "unknown user" and result.username == "mallory"


def test_nonce_older_than_lifetime_is_stale() -> None:
    server = _auth(nonce_lifetime=300)
    auth = _answer(server, NOW)
    assert server.verify("REGISTER", auth, PASSWORDS.get, NOW + 299).ok
    result = server.verify("REGISTER", _answer(server, NOW, nc=2), PASSWORDS.get, NOW + 301)
    assert not result.ok and result.stale and result.reason == "stale nonce"


def test_tampered_nonce_is_bad() -> None:
    server = _auth()
    challenge = parse_challenge(server.challenge(NOW)[0][1])
    stamp, _, mac = challenge.nonce.partition(".")
    # Move the timestamp forward to try to extend the nonce's life.
    forged_stamp = f"{int(stamp, 16) + 1_000_000:x}"
    forged = replace(challenge, nonce=f"{forged_stamp}.{mac}")
    auth = build_authorization(
        forged, method="REGISTER", uri="sip:x", username="alice", password="s3cret", cnonce="c"
    )
    result = server.verify("REGISTER", auth, PASSWORDS.get, NOW)
    assert not result.ok and result.reason == "bad nonce" and not result.stale


def test_nonce_from_another_secret_is_bad() -> None:
    other = DigestAuthenticator("vaxel.test", b"other-secret")
    result = _auth().verify("REGISTER", _answer(other, NOW), PASSWORDS.get, NOW)
    assert result.reason == "bad nonce"


def test_realm_mismatch_is_reported() -> None:
    other = DigestAuthenticator("elsewhere.test", b"k" * 32)
    result = _auth().verify("REGISTER", _answer(other, NOW), PASSWORDS.get, NOW)
    assert not result.ok and result.reason == "realm mismatch"


def test_replayed_nonce_count_is_refused_as_stale() -> None:
    server = _auth()
    auth = _answer(server, NOW)
    assert server.verify("REGISTER", auth, PASSWORDS.get, NOW).ok
    replay = server.verify("REGISTER", auth, PASSWORDS.get, NOW + 1)
    assert not replay.ok and replay.stale and replay.reason == "replayed nonce count"


def test_nonce_count_memory_is_bounded() -> None:
    server = _auth(max_tracked_nonces=3)
    for k in range(10):
        assert server.verify("REGISTER", _answer(server, NOW + k), PASSWORDS.get, NOW + k).ok
    assert len(server._seen_nc) == 3


def test_legacy_client_without_qop_verifies_unless_disabled() -> None:
    values = [v.replace(', qop="auth"', "") for _, v in _auth().challenge(NOW)]
    auth = build_authorization(
        parse_challenge(values[-1]),
        method="REGISTER",
        uri="sip:vaxel.test",
        username="alice",
        password="s3cret",
        cnonce="unused",
    )
    assert "qop" not in parse_auth_params(auth)[1]
    assert _auth().verify("REGISTER", auth, PASSWORDS.get, NOW).ok
    strict = _auth(allow_legacy=False).verify("REGISTER", auth, PASSWORDS.get, NOW)
    assert not strict.ok and strict.reason.startswith("malformed header")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Basic YWxpY2U6czNjcmV0",
        'Digest username="alice", realm="vaxel.test"',
        'Digest username="alice", realm="vaxel.test", nonce="n", uri="u", response="zz"',
        'Digest username="alice", realm="vaxel.test", nonce="n", uri="u", response="00", qop=auth',
        'Digest username="alice", realm="vaxel.test", nonce="n", uri="u", response="00", '
        "algorithm=SHA-1",
        'Digest username="alice, realm=',
        "\x00\xff garbage ,,, ===",
    ],
)
def test_malformed_authorization_never_raises(value: str) -> None:
    result = _auth().verify("REGISTER", value, PASSWORDS.get, NOW)
    assert not result.ok and result.reason.startswith("malformed header:")


def test_failing_user_store_is_a_result_not_an_exception() -> None:
    def broken(_: str) -> str | None:
        raise RuntimeError("db down")

    server = _auth()
    result = server.verify("REGISTER", _answer(server, NOW), broken, NOW)
    assert not result.ok and "lookup failed" in result.reason


def test_clients_challenged_in_the_same_millisecond_get_distinct_nonces() -> None:
    server = _auth()
    first, second = _answer(server, NOW), _answer(server, NOW)
    assert parse_auth_params(first)[1]["nonce"] != parse_auth_params(second)[1]["nonce"]
    assert server.verify("REGISTER", first, PASSWORDS.get, NOW).ok
    assert server.verify("REGISTER", second, PASSWORDS.get, NOW).ok


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_verify_never_raises_on_arbitrary_text(value: str) -> None:
    result = _auth().verify("REGISTER", "Digest " + value, PASSWORDS.get, NOW)
    assert not result.ok
