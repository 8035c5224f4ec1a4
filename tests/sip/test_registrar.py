"""Registrar (RFC 3261 section 10.3): digest-protected bindings in virtual time."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sip.digest import DigestAuthenticator, build_authorization, choose_challenge, parse_challenge
from sip.headers import parse_address
from sip.message import Headers, SipRequest
from sip.registrar import AuthRejection, Registrar

DOMAIN = "vaxel.test"
PASSWORDS = {"alice": "wonderland", "bob": "builder"}
SOURCE = ("192.0.2.20", 5062)
T0 = 1_700_000_000.0


def _registrar(**kw: object) -> Registrar:
    auth = DigestAuthenticator(DOMAIN, b"registrar-test-secret", nonce_lifetime=300)
    return Registrar(auth, PASSWORDS.get, domain=DOMAIN, **kw)  # type: ignore[arg-type]


def _request(
    user: str,
    contacts: list[str],
    *,
    call_id: str,
    cseq: int,
    expires: int | str | None = None,
    authorization: str | None = None,
    method: str = "REGISTER",
) -> SipRequest:
    h = Headers()
    h.add("Via", "SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bK" + f"{call_id}{cseq}")
    h.add("From", f"<sip:{user}@{DOMAIN}>;tag=abc")
    h.add("To", f"<sip:{user}@{DOMAIN}>")
    h.add("Call-ID", call_id)
    h.add("CSeq", f"{cseq} {method}")
    for c in contacts:
        h.add("Contact", c)
    if expires is not None:
        h.add("Expires", str(expires))
    if authorization is not None:
        h.add("Authorization", authorization)
    return SipRequest(method, f"sip:{DOMAIN}", h)


@dataclass
class Phone:
    """A UA that registers the way real phones do: send, get 401, resend with credentials."""

    user: str = "alice"
    password: str = "wonderland"
    call_id: str = "reg-1@phone"
    cseq: int = 0
    auth_user: str | None = None

    def register(self, reg: Registrar, contacts: list[str], now: float, **kw: object):
        self.cseq += 1
        first = reg.handle_register(
            _request(self.user, contacts, call_id=self.call_id, cseq=self.cseq, **kw),  # type: ignore[arg-type]
            SOURCE,
            "udp",
            now,
        )
        assert first.status == 401
        challenge = choose_challenge(v for n, v in first.headers if n == "WWW-Authenticate")
        return self.answer(reg, contacts, now, challenge, **kw)

    def answer(self, reg: Registrar, contacts: list[str], now: float, challenge, **kw: object):
        self.cseq += 1
        authorization = build_authorization(
            challenge,
            method="REGISTER",
            uri=f"sip:{DOMAIN}",
            username=self.auth_user or self.user,
            password=self.password,
            cnonce=f"cn{self.cseq}",
        )
        req = _request(
            self.user,
            contacts,
            call_id=self.call_id,
            cseq=self.cseq,
            authorization=authorization,
            **kw,  # type: ignore[arg-type]
        )
        return reg.handle_register(req, SOURCE, "udp", now)


def _contacts(outcome) -> dict[str, int]:
    """Contact URI -> expires from a response's Contact headers."""
    out = {}
    for name, value in outcome.headers:
        if name == "Contact":
            a = parse_address(value)
            out[a.uri] = int(a.params["expires"])
    return out


DESK = "sip:alice@192.0.2.20:5062"
MOBILE = "sip:alice@198.51.100.4:5070;transport=tcp"


def test_unauthenticated_register_is_challenged_with_sha256_and_md5() -> None:
    reg = _registrar()
    outcome = reg.handle_register(
        _request("alice", [f"<{DESK}>"], call_id="x", cseq=1), SOURCE, "udp", T0
    )
    assert (outcome.status, outcome.reason) == (401, "Unauthorized")
    algs = [parse_challenge(v).algorithm for n, v in outcome.headers if n == "WWW-Authenticate"]
    assert algs == ["SHA-256", "MD5"]
    assert outcome.auth_failure is None and outcome.changes == []
    assert reg.bindings("alice", T0) == []


def test_right_password_registers_contact_with_expires() -> None:
    reg = _registrar()
    outcome = Phone().register(reg, [f"<{DESK}>"], T0, expires=600)
    assert (outcome.status, outcome.reason) == (200, "OK")
    assert _contacts(outcome) == {DESK: 600}
    assert any(n == "Date" and v.endswith("GMT") for n, v in outcome.headers)
    assert [c.kind for c in outcome.changes] == ["added"]
    (b,) = reg.bindings("alice", T0)
    assert (b.contact, b.expires_at, b.source, b.transport) == (DESK, T0 + 600, SOURCE, "UDP")
    assert b.call_id == "reg-1@phone" and b.cseq == 2


def test_response_can_be_built_from_outcome() -> None:
    reg = _registrar()
    outcome = Phone().register(reg, [f"<{DESK}>"], T0)
    req = _request("alice", [], call_id="reg-1@phone", cseq=3)
    response = outcome.to_response(req, to_tag="t1")
    assert response.status == 200
    assert response.headers.get("Contact") == f"<{DESK}>;expires=3600"
    assert response.headers.get("To", "").endswith(";tag=t1")


def test_wrong_password_gets_403_and_a_failure_record() -> None:
    reg = _registrar()
    outcome = Phone(password="guess").register(reg, [f"<{DESK}>"], T0)
    assert outcome.status == 403
    assert outcome.auth_failure is not None
    assert outcome.auth_failure.reason == "wrong password"
    assert outcome.auth_failure.username == "alice"
    assert reg.bindings("alice", T0) == []


def test_unknown_user_gets_the_same_403_as_wrong_password() -> None:
    reg = _registrar()
    outcome = Phone(user="mallory", password="x").register(reg, [f"<{DESK}>"], T0)
    assert (outcome.status, outcome.reason) == (403, "Forbidden")
    assert outcome.auth_failure is not None and outcome.auth_failure.reason == "unknown user"


def test_registering_someone_elses_aor_is_forbidden() -> None:
    reg = _registrar()
    # Valid credentials of alice, but the To header names bob.
    phone = Phone(user="bob", password="wonderland", auth_user="alice")
    outcome = phone.register(reg, ["<sip:bob@192.0.2.20>"], T0)
    assert outcome.status == 403 and "AOR" in outcome.reason
    assert outcome.auth_failure is not None and outcome.auth_failure.username == "alice"
    assert reg.bindings("bob", T0) == []


def test_stale_nonce_is_rechallenged_with_stale_true() -> None:
    reg = _registrar()
    phone = Phone()
    first = reg.handle_register(
        _request("alice", [f"<{DESK}>"], call_id=phone.call_id, cseq=1), SOURCE, "udp", T0
    )
    challenge = choose_challenge(v for n, v in first.headers if n == "WWW-Authenticate")
    phone.cseq = 1
    late = phone.answer(reg, [f"<{DESK}>"], T0 + 301, challenge)
    assert late.status == 401
    assert all(parse_challenge(v).stale for n, v in late.headers if n == "WWW-Authenticate")
    assert late.auth_failure is not None and late.auth_failure.reason == "stale nonce"
    retry = phone.answer(
        reg,
        [f"<{DESK}>"],
        T0 + 301,
        choose_challenge(v for n, v in late.headers if n == "WWW-Authenticate"),
    )
    assert retry.status == 200


@pytest.mark.parametrize(
    "authorization",
    [
        'Digest username="alice", realm="vaxel.test", nonce="abc',
        'Digest username="alice", realm="vaxel.test"',
        "Digest ,,,=",
    ],
)
def test_malformed_authorization_gets_400_naming_the_problem(authorization: str) -> None:
    reg = _registrar()
    req = _request("alice", [f"<{DESK}>"], call_id="x", cseq=1, authorization=authorization)
    outcome = reg.handle_register(req, SOURCE, "udp", T0)
    assert outcome.status == 400
    assert outcome.reason.startswith("Bad Authorization header: ")
    assert len(outcome.reason) > len("Bad Authorization header: ")
    assert outcome.auth_failure is not None


def test_credentials_for_another_realm_get_a_challenge() -> None:
    reg = _registrar()
    other = 'Digest username="alice", realm="trunk.example", nonce="n", uri="sip:x", response="00"'
    req = _request("alice", [f"<{DESK}>"], call_id="x", cseq=1, authorization=other)
    assert reg.handle_register(req, SOURCE, "udp", T0).status == 401


def test_nonce_from_before_a_secret_change_gets_a_fresh_challenge() -> None:
    old = _registrar()
    first = old.handle_register(
        _request("alice", [f"<{DESK}>"], call_id="c", cseq=1), SOURCE, "udp", T0
    )
    challenge = choose_challenge(v for n, v in first.headers if n == "WWW-Authenticate")
    restarted = Registrar(DigestAuthenticator(DOMAIN, b"new-secret"), PASSWORDS.get, domain=DOMAIN)
    outcome = Phone(cseq=1, call_id="c").answer(restarted, [f"<{DESK}>"], T0, challenge)
    assert outcome.status == 401
    assert outcome.auth_failure is not None and outcome.auth_failure.reason == "bad nonce"


def test_refresh_extends_expiry_and_is_reported_as_refresh() -> None:
    reg = _registrar()
    phone = Phone()
    phone.register(reg, [f"<{DESK}>"], T0, expires=600)
    outcome = phone.register(reg, [f"<{DESK}>"], T0 + 500, expires=600)
    assert outcome.status == 200
    assert [c.kind for c in outcome.changes] == ["refreshed"]
    (b,) = reg.bindings("alice", T0 + 1000)
    assert b.expires_at == T0 + 1100


def test_contact_comparison_ignores_host_case_and_param_order() -> None:
    reg = _registrar()
    phone = Phone()
    phone.register(reg, ["<sip:alice@Host.Example;transport=tcp;ob>"], T0)
    phone.register(reg, ["<sip:alice@host.example;ob;transport=TCP>"], T0 + 10)
    assert len(reg.bindings("alice", T0 + 10)) == 1


def test_several_contacts_and_per_contact_expires() -> None:
    reg = _registrar()
    outcome = Phone().register(reg, [f"<{DESK}>;expires=120", f"<{MOBILE}>;q=0.5"], T0, expires=900)
    assert outcome.status == 200
    assert _contacts(outcome) == {DESK: 120, MOBILE: 900}
    assert [b.contact for b in reg.bindings("alice", T0)] == [DESK, MOBILE]  # q order
    assert [b.contact for b in reg.bindings("alice", T0 + 200)] == [MOBILE]


def test_comma_separated_contacts_in_one_header_are_all_bound() -> None:
    reg = _registrar()
    outcome = Phone().register(reg, [f"<{DESK}>, <{MOBILE}>"], T0)
    assert set(_contacts(outcome)) == {DESK, MOBILE}


def test_expires_zero_removes_one_contact() -> None:
    reg = _registrar()
    phone = Phone()
    phone.register(reg, [f"<{DESK}>", f"<{MOBILE}>"], T0)
    outcome = phone.register(reg, [f"<{DESK}>;expires=0"], T0 + 5)
    assert outcome.status == 200
    assert [(c.kind, c.binding.contact) for c in outcome.changes] == [("removed", DESK)]
    assert _contacts(outcome) == {MOBILE: 3600 - 5}


def test_wildcard_with_expires_zero_removes_all() -> None:
    reg = _registrar()
    phone = Phone()
    phone.register(reg, [f"<{DESK}>", f"<{MOBILE}>"], T0)
    outcome = phone.register(reg, ["*"], T0 + 5, expires=0)
    assert outcome.status == 200
    assert sorted(c.binding.contact for c in outcome.changes if c.kind == "removed") == sorted(
        [DESK, MOBILE]
    )
    assert _contacts(outcome) == {}
    assert reg.bindings("alice", T0 + 5) == []


@pytest.mark.parametrize(
    ("contacts", "expires"), [(["*"], None), (["*"], 60), (["*", f"<{DESK}>"], 0)]
)
def test_wildcard_needs_expires_zero_and_no_other_contact(
    contacts: list[str], expires: int | None
) -> None:
    reg = _registrar()
    outcome = Phone().register(reg, contacts, T0, expires=expires)
    assert outcome.status == 400 and "wildcard" in outcome.reason


def test_too_brief_interval_gets_423_with_min_expires_and_changes_nothing() -> None:
    reg = _registrar(min_expires=60)
    phone = Phone()
    phone.register(reg, [f"<{DESK}>"], T0, expires=600)
    outcome = phone.register(reg, [f"<{MOBILE}>", f"<{DESK}>;expires=30"], T0 + 1)
    assert (outcome.status, outcome.reason) == (423, "Interval Too Brief")
    assert ("Min-Expires", "60") in outcome.headers
    assert [b.contact for b in reg.bindings("alice", T0 + 1)] == [DESK]


def test_expires_above_maximum_is_shortened() -> None:
    reg = _registrar(max_expires=1800, default_expires=1800)
    outcome = Phone().register(reg, [f"<{DESK}>"], T0, expires=99999)
    assert _contacts(outcome) == {DESK: 1800}


def test_default_expires_applies_without_expires() -> None:
    reg = _registrar(default_expires=1200, max_expires=3600)
    assert _contacts(Phone().register(reg, [f"<{DESK}>"], T0)) == {DESK: 1200}


@pytest.mark.parametrize("contact", [f"<{DESK}>;expires=soon", f"<{DESK}>;q=2", "<no scheme>"])
def test_bad_contact_values_get_400(contact: str) -> None:
    outcome = Phone().register(_registrar(), [contact], T0)
    assert outcome.status == 400 and outcome.reason.startswith("Bad ")


def test_bad_expires_header_gets_400() -> None:
    outcome = Phone().register(_registrar(), [f"<{DESK}>"], T0, expires="-5")
    assert outcome.status == 400 and "Expires" in outcome.reason


def test_register_without_contact_returns_current_bindings() -> None:
    reg = _registrar()
    phone = Phone()
    phone.register(reg, [f"<{DESK}>"], T0, expires=600)
    outcome = phone.register(reg, [], T0 + 100)
    assert outcome.status == 200 and outcome.changes == []
    assert _contacts(outcome) == {DESK: 500}


def test_same_call_id_with_older_cseq_is_refused_as_out_of_order() -> None:
    reg = _registrar()
    phone = Phone()
    phone.register(reg, [f"<{DESK}>"], T0, expires=600)
    # Credentials are valid, but the CSeq goes back in time for this Call-ID.
    phone.cseq = 0
    outcome = phone.register(reg, [f"<{DESK}>;expires=0"], T0 + 1)
    assert outcome.status == 500 and "Out-of-order" in outcome.reason
    assert len(reg.bindings("alice", T0 + 1)) == 1


def test_another_call_id_may_replace_a_binding_whatever_its_cseq() -> None:
    reg = _registrar()
    Phone(cseq=50).register(reg, [f"<{DESK}>"], T0, expires=600)
    outcome = Phone(call_id="after-reboot").register(reg, [f"<{DESK}>"], T0 + 1, expires=300)
    assert outcome.status == 200
    (b,) = reg.bindings("alice", T0 + 1)
    assert b.call_id == "after-reboot" and b.expires_at == T0 + 301


def test_expire_drops_and_reports_only_expired_bindings() -> None:
    reg = _registrar()
    Phone().register(reg, [f"<{DESK}>;expires=120", f"<{MOBILE}>"], T0, expires=600)
    Phone(user="bob", password="builder").register(reg, ["<sip:bob@192.0.2.30>"], T0, expires=60)
    assert reg.next_expiry() == T0 + 60
    assert [b.user for b in reg.expire(T0 + 100)] == ["bob"]
    assert reg.expire(T0 + 100) == []
    assert [b.contact for b in reg.expire(T0 + 130)] == [DESK]
    assert reg.next_expiry() == T0 + 600
    assert [b.contact for b in reg.bindings("alice", T0 + 130)] == [MOBILE]
    assert reg.bindings("bob", T0 + 130) == []


def test_binding_limit_per_user() -> None:
    reg = _registrar(max_bindings_per_user=2)
    contacts = [f"<sip:alice@192.0.2.{i}>" for i in range(3)]
    outcome = Phone().register(reg, contacts, T0)
    assert outcome.status == 403 and "Too many" in outcome.reason
    assert reg.bindings("alice", T0) == []


def test_foreign_domain_is_not_found_unless_any_domain_is_accepted() -> None:
    def foreign(reg: Registrar):
        req = _request("alice", [f"<{DESK}>"], call_id="x", cseq=1)
        req.headers.set("To", "<sip:alice@elsewhere.example>")
        return reg.handle_register(req, SOURCE, "udp", T0)

    assert foreign(_registrar()).status == 404
    assert foreign(_registrar(aliases=["elsewhere.example"])).status == 401
    assert foreign(_registrar(aliases=None)).status == 401


def test_register_missing_headers_get_400() -> None:
    reg = _registrar()
    req = _request("alice", [f"<{DESK}>"], call_id="x", cseq=1)
    req.headers.remove("To")
    outcome = reg.handle_register(req, SOURCE, "udp", T0)
    assert outcome.status == 400 and "To" in outcome.reason


def test_invite_authentication_uses_407_and_proxy_headers() -> None:
    reg = _registrar()
    invite = _request("alice", [f"<{DESK}>"], call_id="call", cseq=1, method="INVITE")
    rejection = reg.authenticate_request(invite, T0, proxy=True)
    assert isinstance(rejection, AuthRejection)
    assert rejection.status == 407
    values = [v for n, v in rejection.headers if n == "Proxy-Authenticate"]
    assert len(values) == 2
    authorization = build_authorization(
        choose_challenge(values),
        method="INVITE",
        uri=invite.uri,
        username="alice",
        password="wonderland",
        cnonce="x1",
    )
    invite.headers.add("Proxy-Authorization", authorization)
    result = reg.authenticate_request(invite, T0 + 1, proxy=True)
    assert not isinstance(result, AuthRejection)
    assert result.ok and result.username == "alice"
