"""The answering service over HTTP: companies and staff (who may change them), absence notes
by id or by number/email with an absence-scoped token, and messages mailed to aiosmtpd."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from config import parse_config
from tests.answering.companies import EVA_NUMBER, config_text
from tests.http.report_fixtures import Mailbox
from tests.http.test_access_matrix import sign_in
from vaxel.server import VaxelServer

ADMIN = {"Authorization": "Bearer demo-admin-token"}


class Client:
    def __init__(self, server: VaxelServer, session: aiohttp.ClientSession) -> None:
        self.server, self.session, self.base = server, session, server.http_url

    def url(self, path: str) -> str:
        return self.base + path

    async def call(
        self, method: str, path: str, body: Any = None, token: str = "demo-admin-token"
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        async with self.session.request(
            method, self.base + path, json=body, headers=headers
        ) as resp:
            return resp.status, await resp.json()


@pytest.fixture
async def client(tmp_path: Path, smtp: tuple[Mailbox, int]) -> AsyncIterator[Client]:
    text = config_text(tmp_path, {"port = 8025": f"port = {smtp[1]}"})
    server = VaxelServer(parse_config(text, source="t.toml"), base_dir=tmp_path)
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Client(server, session)
    finally:
        await server.stop()


async def eva_id(c: Client) -> int:
    status, body = await c.call("GET", "/api/companies/acme")
    assert status == 200, body
    return next(s["id"] for s in body["company"]["staff"] if s["name"] == "Eva Ek")


async def test_seeded_company_shows_its_staff_absence_and_transfer_targets(client: Client) -> None:
    token = await sign_in(client, "1001", "demo-1001-password")  # type: ignore[arg-type]
    status, body = await client.call("GET", "/api/companies", token=token)
    assert status == 200 and [c["id"] for c in body["companies"]] == ["acme"]
    status, body = await client.call("GET", "/api/companies/acme", token=token)
    company = body["company"]
    assert company["name"] == "Acme AB" and company["numbers"] == ["0850001"]
    eva = next(s for s in company["staff"] if s["name"] == "Eva Ek")
    assert eva["absent"] is True and eva["absence"]["note"].startswith("On holiday")
    assert eva["absence"]["redirect"] == "0701112244"
    assert eva["transfer_targets"] == [EVA_NUMBER]
    # Agents see, but do not change.
    status, body = await client.call("PATCH", "/api/companies/acme", {"name": "X"}, token=token)
    assert status == 403 and "managers and admins" in body["error"]["message"]


async def test_manager_adds_changes_and_removes_staff_and_errors_name_the_field(
    client: Client,
) -> None:
    token = await sign_in(client, "manager", "demo-manager-password")  # type: ignore[arg-type]
    status, body = await client.call(
        "POST", "/api/companies/acme/staff", {"name": "Nils", "numbers": ["0702"]}, token=token
    )
    assert status == 201, body
    sid = body["staff"]["id"]
    status, body = await client.call(
        "PATCH", f"/api/companies/acme/staff/{sid}", {"email": "not an address"}, token=token
    )
    assert status == 400 and "field 'email'" in body["error"]["message"], body
    status, body = await client.call(
        "PATCH", f"/api/companies/acme/staff/{sid}", {"email": "nils@acme.example"}, token=token
    )
    assert status == 200 and body["staff"]["email"] == "nils@acme.example"
    status, _ = await client.call("DELETE", f"/api/companies/acme/staff/{sid}", token=token)
    assert status == 200
    status, body = await client.call("GET", f"/api/companies/acme/staff/{sid}/messages")
    assert status == 404 and f"no staff member with id {sid}" in body["error"]["message"]
    # A company's numbers must lead to a queue of the plan.
    status, body = await client.call(
        "POST", "/api/companies", {"id": "beta", "name": "Beta", "numbers": ["190"]}, token=token
    )
    assert status == 400 and "field 'numbers': number '190' leads to a service" in str(body)
    status, body = await client.call(
        "POST", "/api/companies", {"id": "beta", "name": "Beta", "numbers": ["0850001"]}
    )
    assert status == 400 and "belongs to company 'acme'" in str(body)
    status, body = await client.call(
        "POST", "/api/companies", {"id": "beta", "name": "Beta", "numbers": ["101"]}
    )
    assert status == 201 and body["company"]["staff"] == []
    assert client.server.answering.book.for_number("101") is not None  # the call path sees it
    entries = [e for e in await client.server.audit.entries() if e.action.startswith("staff.")]
    assert {e.action for e in entries} >= {"staff.created", "staff.changed", "staff.deleted"}


async def test_absence_token_sets_notes_by_id_number_or_email_and_nothing_else(
    client: Client,
) -> None:
    status, body = await client.call(
        "POST", "/api/users/manager/tokens", {"label": "hr-system", "scope": "absence"}
    )
    assert status == 201 and body["token"]["scope"] == "absence", body
    hr = body["token"]["token"]
    eva = await eva_id(client)

    status, body = await client.call(
        "PUT", f"/api/companies/acme/staff/{eva}/absence", {"note": "Lunch"}, token=hr
    )
    assert status == 200 and body["staff"]["absence"]["note"] == "Lunch", body
    status, body = await client.call(
        "PUT",
        "/api/absence",
        {"number": "0701112244", "note": "Meeting", "until": "2099-01-01T12:00:00+01:00"},
        token=hr,
    )
    assert status == 200 and body["staff"]["name"] == "Olle Strom", body
    status, body = await client.call(
        "PUT", "/api/absence", {"email": "EVA@acme.example", "note": None}, token=hr
    )
    assert status == 200 and body["staff"]["absent"] is False, body
    # An unknown person: a 404 that names them.
    status, body = await client.call(
        "PUT", "/api/absence", {"email": "nobody@acme.example", "note": "x"}, token=hr
    )
    assert status == 404
    assert body["error"]["message"] == "no staff member with email 'nobody@acme.example'"
    status, body = await client.call(
        "PUT", "/api/companies/acme/staff/4242/absence", {"note": "x"}, token=hr
    )
    assert status == 404 and "no staff member with id 4242" in body["error"]["message"]
    # Everything else is refused, even reading, and the reason says why.
    for method, path in (("GET", "/api/companies/acme"), ("GET", "/api/me"),
                         ("PATCH", "/api/companies/acme"), ("GET", "/api/calls")):  # fmt: skip
        status, body = await client.call(method, path, {} if method != "GET" else None, token=hr)
        assert status == 403 and "scoped to 'absence'" in body["error"]["message"], (path, body)
    # A bad note names its field.
    status, body = await client.call(
        "PUT", f"/api/companies/acme/staff/{eva}/absence", {"note": "x", "until": "soon"}, token=hr
    )
    assert status == 400 and "field 'until'" in body["error"]["message"], body


async def test_only_users_whose_role_may_set_notes_get_an_absence_token(client: Client) -> None:
    status, body = await client.call("POST", "/api/users/1001/tokens", {"scope": "absence"})
    assert status == 400 and "field 'scope'" in body["error"]["message"]
    status, body = await client.call("POST", "/api/users/manager/tokens", {"scope": "all"})
    assert status == 400 and "unknown scope 'all'" in body["error"]["message"]


async def test_a_message_is_stored_mailed_to_the_person_and_logged(
    client: Client, smtp: tuple[Mailbox, int]
) -> None:
    token = await sign_in(client, "1001", "demo-1001-password")  # type: ignore[arg-type]
    eva = await eva_id(client)
    status, body = await client.call(
        "POST",
        f"/api/companies/acme/staff/{eva}/messages",
        {
            "caller": "Kim Berg",
            "number": "0705556677",
            "text": "Please call back about the order",
            "call_id": "ended-call-1",
        },  # fmt: skip
        token=token,
    )
    assert status == 201, body
    message = body["message"]
    assert message["mail_status"] == "sent" and message["taken_by"] == "1001", message
    (mail,) = await smtp[0].wait_for(1)
    assert mail["To"] == "eva@acme.example"
    assert mail["Subject"] == "Message from Kim Berg for Eva Ek (Acme AB)"
    text = mail.get_content()
    assert "Please call back about the order" in text and "0705556677" in text
    assert "+01:00" in text  # taken_at in the server's time zone (Europe/Stockholm, winter)
    status, body = await client.call("GET", f"/api/companies/acme/staff/{eva}/messages")
    assert status == 200 and [m["id"] for m in body["messages"]] == [message["id"]]
    await asyncio.sleep(0.3)  # the call log's writer batches
    events = [e for e in await client.server.calllog.events() if e.kind == "message_taken"]
    assert len(events) == 1 and events[0].data["call_id"] == "ended-call-1"
    assert events[0].data["mail_status"] == "sent" and events[0].data["staff"] == eva
    # Without text: 400 naming the field, nothing stored.
    status, body = await client.call(
        "POST", f"/api/companies/acme/staff/{eva}/messages", {"caller": "x"}, token=token
    )
    assert status == 400 and "field 'text'" in body["error"]["message"]
