"""What voicemail by phone reads and changes in the store: an agent's mailboxes (their own
and their queues'), the heard mark, and deletion of the row and its file."""

from __future__ import annotations

from pathlib import Path

from config import parse_config
from tests.support import demo_toml_with
from vaxel.calls.voicemail_listen import AgentMailboxes, agent_queues
from vaxel.voicemail import Mailbox

from .test_service import FakeSmtp, message_file, service_with, sessions  # noqa: F401


def demo(tmp_path: Path):  # noqa: ANN201
    return parse_config(demo_toml_with(tmp_path), source="t.toml")


def test_an_agent_reads_the_queues_its_answer_groups_serve(tmp_path: Path) -> None:
    config = demo(tmp_path)
    assert agent_queues(config, "1001") == ["sales", "support"]
    assert agent_queues(config, "1002") == ["support"]
    assert agent_queues(config, "nobody") == []


def test_known_numbers_and_own_phones_identify_the_agent(tmp_path: Path) -> None:
    boxes = AgentMailboxes(demo(tmp_path), None)  # type: ignore[arg-type]
    assert boxes.agent_for_caller("0701001002") == "1002"  # remote_number
    assert boxes.agent_for_caller("0811001001") == "1001"  # alternative_number
    assert boxes.agent_for_caller("1003") == "1003"  # its SIP phone (authenticated)
    assert boxes.agent_for_caller("0709999999") is None and boxes.agent_for_caller(None) is None
    assert boxes.check_pin("1002", "1002") and not boxes.check_pin("1002", "1001")
    assert not boxes.check_pin("nobody", "1002")


async def test_listing_heard_and_delete_change_the_store(sessions, tmp_path: Path) -> None:  # noqa: ANN001, F811
    service = service_with(sessions, tmp_path, FakeSmtp())
    boxes = AgentMailboxes(demo(tmp_path), service)
    ids = {}
    for name, box in (
        ("support", Mailbox("Support", None, queue="support")),
        ("sales", Mailbox("Sales", None, queue="sales")),
        ("own", Mailbox("Agent Two", None, agent="1002")),
        ("other", Mailbox("Agent Four", None, agent="1004")),
    ):
        ids[name] = await service.store(message_file(service), call_id=name, mailbox=box,
                                        a_number="070", b_number="192")  # fmt: skip
    mine = await boxes.messages("1002")  # support (its group) and its own, newest first
    assert [m.id for m in mine] == [ids["own"], ids["support"]]
    assert not any(m.heard for m in mine)
    await boxes.mark_heard(ids["support"])
    info = await service.get(ids["support"])
    assert info is not None and info.heard_at is not None
    assert info.as_dict()["heard_at"] == info.heard_at.isoformat()
    again = {m.id: m.heard for m in await boxes.messages("1002")}
    assert again == {ids["own"]: False, ids["support"]: True}
    path = (await service.get(ids["own"])).path  # type: ignore[union-attr]
    await boxes.delete(ids["own"])
    assert await service.get(ids["own"]) is None and not path.exists()
    assert [v.id for v in await service.list()] == [ids["other"], ids["sales"], ids["support"]]
    assert await service.delete(ids["own"]) is False  # already gone
