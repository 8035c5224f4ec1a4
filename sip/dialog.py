"""SIP dialogs (RFC 3261 section 12): state, in-dialog request construction, CSeq checks.

A dialog is identified by Call-ID + local tag + remote tag; ``dialog_id`` turns
that triple into one string usable as a dict key and as the handle the layer
above holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sip.events import Role
from sip.headers import parse_address, split_header_values
from sip.message import Headers, SipRequest, SipResponse
from sip.uri import parse_uri

Address = tuple[str, int]


def dialog_id(call_id: str, local_tag: str, remote_tag: str) -> str:
    # '|' cannot occur in a Call-ID or a tag (RFC 3261 word/token grammar).
    return f"{call_id}|{local_tag}|{remote_tag}"


def incoming_dialog_id(request: SipRequest) -> str | None:
    """The dialog an incoming request belongs to (To tag = ours), or None if it has no To tag."""
    local_tag = request.to_tag
    if not local_tag:
        return None
    return dialog_id(request.call_id or "", local_tag, request.from_tag or "")


def uri_destination(uri: str) -> Address:
    """host:port a SIP URI points at (port 5060, or 5061 for sips, when absent)."""
    parsed = parse_uri(uri)
    host = parsed.host
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    port = parsed.port or (5061 if parsed.scheme == "sips" else 5060)
    return host, port


def _contact_uri(msg: SipRequest | SipResponse) -> str | None:
    contacts = msg.contacts
    return contacts[0].uri if contacts else None


def _route_values(msg: SipRequest | SipResponse) -> list[str]:
    out: list[str] = []
    for value in msg.headers.get_all("Record-Route"):
        out.extend(v.strip() for v in split_header_values(value))
    return out


def _is_loose(route: str) -> bool:
    try:
        return "lr" in parse_uri(parse_address(route).uri).params
    except ValueError:
        return True


@dataclass(slots=True)
class Dialog:
    """One confirmed dialog, seen from this UA (``role`` UAC: we sent the INVITE)."""

    id: str
    role: Role
    call_id: str
    local_tag: str
    remote_tag: str
    local_address: str  # our From value in requests we send, tag included
    remote_address: str  # our To value in requests we send, tag included
    remote_target: str  # URI from the peer's Contact
    route_set: list[str]
    local_seq: int
    remote_seq: int | None
    destination: Address  # where in-dialog requests go (see UserAgent docs)
    transport: str
    local_contact: str
    invite_cseq: int = 0  # CSeq of the INVITE that created or last refreshed the session
    ack: SipRequest | None = None  # our ACK for the peer's 2xx (resent on 2xx retransmission)
    pending_invite: bool = False  # our re-INVITE in progress (glare -> 491)
    data: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_uas(
        cls,
        request: SipRequest,
        response: SipResponse,
        *,
        source: Address,
        transport: str,
        local_contact: str,
    ) -> Dialog:
        """Dialog created by sending 2xx to ``request`` (RFC 3261 12.1.1)."""
        local_address = response.headers.get("To") or ""
        remote_address = request.headers.get("From") or ""
        call_id = request.call_id or ""
        local_tag = response.to_tag or ""
        remote_tag = request.from_tag or ""
        cseq = request.cseq.number
        return cls(
            id=dialog_id(call_id, local_tag, remote_tag),
            role=Role.UAS,
            call_id=call_id,
            local_tag=local_tag,
            remote_tag=remote_tag,
            local_address=local_address,
            remote_address=remote_address,
            remote_target=_contact_uri(request) or request.uri,
            route_set=_route_values(request),
            local_seq=0,
            remote_seq=cseq,
            # Symmetric signalling: the peer may sit behind NAT, its Contact unreachable.
            destination=source,
            transport=transport,
            local_contact=local_contact,
            invite_cseq=cseq,
        )

    @classmethod
    def from_uac(
        cls,
        request: SipRequest,
        response: SipResponse,
        *,
        destination: Address,
        transport: str,
        local_contact: str,
    ) -> Dialog:
        """Dialog created by receiving 2xx to our ``request`` (RFC 3261 12.1.2)."""
        local_address = request.headers.get("From") or ""
        remote_address = response.headers.get("To") or ""
        call_id = request.call_id or ""
        local_tag = request.from_tag or ""
        remote_tag = response.to_tag or ""
        cseq = request.cseq.number
        route_set = list(reversed(_route_values(response)))
        dialog = cls(
            id=dialog_id(call_id, local_tag, remote_tag),
            role=Role.UAC,
            call_id=call_id,
            local_tag=local_tag,
            remote_tag=remote_tag,
            local_address=local_address,
            remote_address=remote_address,
            remote_target=_contact_uri(response) or request.uri,
            route_set=route_set,
            local_seq=cseq,
            remote_seq=None,
            destination=destination,
            transport=transport,
            local_contact=local_contact,
            invite_cseq=cseq,
        )
        if route_set:
            dialog.destination = uri_destination(parse_address(route_set[0]).uri)
        return dialog

    def accept_remote_cseq(self, cseq: int) -> bool:
        """RFC 3261 12.2.2: a request with a lower CSeq than the last one is out of order."""
        if self.remote_seq is not None and cseq <= self.remote_seq:
            return False
        self.remote_seq = cseq
        return True

    def refresh_target(self, msg: SipRequest | SipResponse) -> None:
        """Target refresh (re-INVITE or its 2xx): adopt the new Contact."""
        uri = _contact_uri(msg)
        if uri:
            self.remote_target = uri

    def new_request(
        self,
        method: str,
        *,
        via: str,
        body: bytes = b"",
        content_type: str | None = None,
        headers: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
        user_agent: str | None = None,
        cseq: int | None = None,
    ) -> SipRequest:
        """An in-dialog request (RFC 3261 12.2.1.1); ``cseq`` overrides numbering (ACK)."""
        if cseq is None:
            self.local_seq += 1
            cseq = self.local_seq
        uri = self.remote_target
        routes = list(self.route_set)
        if routes and not _is_loose(routes[0]):
            # Strict router: it becomes the Request-URI, the target goes last in Route.
            uri = parse_address(routes.pop(0)).uri
            routes.append(f"<{self.remote_target}>")
        h = Headers()
        h.add("Via", via)
        h.add("Max-Forwards", "70")
        h.add("From", self.local_address)
        h.add("To", self.remote_address)
        h.add("Call-ID", self.call_id)
        h.add("CSeq", f"{cseq} {method}")
        for route in routes:
            h.add("Route", route)
        if method in ("INVITE", "UPDATE", "SUBSCRIBE", "REFER"):
            h.add("Contact", self.local_contact)
        if user_agent:
            h.add("User-Agent", user_agent)
        for name, value in headers:
            h.add(name, value)
        if body and content_type:
            h.set("Content-Type", content_type)
        return SipRequest(method, uri, h, body)
