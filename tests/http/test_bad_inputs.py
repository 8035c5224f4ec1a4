"""Every API route against bad input (issue 19): invalid UTF-8, JSON nested very deep or
very large, ids out of range or of the wrong shape. Each gets a 4xx with a JSON message;
none a 500 (a traceback in the log), and nothing is stored."""

from __future__ import annotations

import re

from tests.http.conftest import TOKEN, Api
from tests.http.test_access_matrix import app_routes

BAD_IDS = ["99999999999999999999999999", "-1", "%00", "x" * 300, "1e9"]
BAD_BODIES: list[tuple[str, bytes]] = [
    ("invalid UTF-8", b'{"name": "\xff\xfe"}'),
    ("deep JSON", b"[" * 100_000 + b"]" * 100_000),
    ("huge JSON", b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}'),
    ("not an object", b"[1, 2, 3]"),
    ("truncated", b'{"device": '),
]


async def _send(api: Api, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    async with api.session.request(method, api.url(path), data=body, headers=headers) as resp:
        return resp.status, await resp.text()


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


async def test_no_route_answers_bad_input_with_a_500(api: Api) -> None:
    failures = []
    for method, path in sorted(app_routes(api)):
        if path in ("/api/events",):  # a WebSocket: no body, no ids
            continue
        targets = [_fill(path, v) for v in BAD_IDS] if "{" in path else [path]
        for target in targets:
            status, text = await _send(api, method, target)
            if status >= 500:
                failures.append(f"{method} {target}: {status} {text[:120]}")
        if method in ("POST", "PUT", "PATCH"):
            for what, body in BAD_BODIES:
                status, text = await _send(api, method, _fill(path, "1001"), body)
                if status >= 500 or (status >= 400 and '"error"' not in text):
                    failures.append(f"{method} {path} with {what}: {status} {text[:120]}")
    assert failures == [], "\n".join(failures)


async def test_a_json_body_over_the_limit_is_413_naming_the_limit(api: Api) -> None:
    status, text = await _send(
        api, "POST", "/api/agents/1001/login", b'{"device": "' + b"x" * 200_000 + b'"}'
    )
    assert status == 413 and "at most" in text, text


async def test_invalid_utf8_and_deep_json_name_the_problem(api: Api) -> None:
    status, text = await _send(api, "POST", "/api/agents/1001/pause", b'{"reason": "\xff"}')
    assert status == 400 and "UTF-8" in text, text
    status, text = await _send(api, "POST", "/api/agents/1001/pause", b"[" * 50_000)
    assert status == 400 and "nested too deeply" in text, text
