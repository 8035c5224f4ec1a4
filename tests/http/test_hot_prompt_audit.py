"""Hot prompts switched through the API are audited (the service the SSH console uses too)."""

from __future__ import annotations

from tests.http.conftest import Api


async def test_hot_prompt_on_and_off_through_the_api_is_audited(api: Api) -> None:
    body = {"prompt": "closed", "queue": "support"}
    status, _ = await api.call("POST", "/api/hot-prompts", body)
    assert status == 201
    status, _ = await api.call("DELETE", "/api/hot-prompts", body)
    assert status == 200
    _, trail = await api.call("GET", "/api/audit?limit=2")
    entries = trail["entries"]
    assert [(e["action"], e["via"], e["target"]) for e in entries] == [
        ("hotprompt.off", "api", "hot prompt closed (support)"),
        ("hotprompt.on", "api", "hot prompt closed (support)"),
    ]
    assert entries[1]["after"]["active"] is True and entries[0]["before"]["queue"] == "support"
