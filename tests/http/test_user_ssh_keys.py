"""A user's SSH keys through the API: checked like ssh_keys in the file, audited."""

from __future__ import annotations

from .conftest import Api

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x@y"


async def test_keys_are_set_checked_and_audited(api: Api) -> None:
    status, body = await api.call("PATCH", "/api/users/manager", {"ssh_keys": [KEY]})
    assert status == 200 and body["user"]["ssh_keys"] == [KEY], body
    assert await api.server.users.ssh_keys("manager") == [KEY]
    status, body = await api.call(
        "PATCH", "/api/users/manager", {"ssh_keys": ["ssh-ed25519 notbase64!"]}
    )
    assert status == 400, body
    assert "field 'ssh_keys': key 1" in body["error"]["message"]
    assert "not base64" in body["error"]["message"], body
    status, body = await api.call("PATCH", "/api/users/manager", {"ssh_keys": "one"})
    assert status == 400 and "expected a list" in body["error"]["message"], body
    assert await api.server.users.ssh_keys("manager") == [KEY]  # the bad ones changed nothing
    (entry, *_) = [e for e in await api.server.audit.entries() if e.target == "manager"]
    assert entry.action == "user.changed" and entry.after["ssh_keys"] == [KEY]
