"""Prompts over HTTP on a running server: upload, refusal, slot activation, hot prompts."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import soundfile as sf

from prompts.convert import MAX_PROMPT_BYTES
from tests.http.conftest import TOKEN, Api
from tests.prompts import audio_samples as samples

AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def upload(api: Api, name: str, data: bytes, filename: str, **fields: str) -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    form.add_field("name", name)
    for key, value in fields.items():
        form.add_field(key, value)
    async with api.session.post(api.url("/api/prompts"), data=form, headers=AUTH) as resp:
        return resp.status, await resp.json()


def stored_files(api: Api) -> list[str]:
    folder = api.server.data_dir / "prompts"
    return sorted(p.name for p in folder.glob("*.wav")) if folder.exists() else []


async def stored_names(api: Api) -> list[str]:
    status, body = await api.call("GET", "/api/prompts?stored=true")
    assert status == 200
    return [p["name"] for p in body["prompts"]]


async def test_wav_16khz_stereo_is_stored_as_8khz_mono_and_listed(api: Api) -> None:
    status, body = await upload(
        api,
        "lunch",
        samples.wav(1.5, 16000, 2),
        "lunch.wav",
        description="Closed for lunch",
        wording="We are at lunch.",
        language="en",
    )
    assert status == 201, body
    assert body["duration"] == 1.5 and body["source"] == "upload"
    status, listed = await api.call("GET", "/api/prompts")
    by_name = {p["name"]: p for p in listed["prompts"]}
    assert by_name["lunch"]["wording"] == "We are at lunch." and by_name["lunch"]["stored"]
    assert by_name["welcome"]["source"] == "standard"
    async with api.session.get(api.url("/api/prompts/lunch/audio"), headers=AUTH) as resp:
        assert resp.status == 200
        info = sf.info(io.BytesIO(await resp.read()))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    # The call stack's resolver now finds it.
    assert api.server.calls.prompts.resolve("lunch", "sv").path.name == "lunch.wav"


async def test_gsm_and_au_uploads_are_accepted(api: Api) -> None:
    status, body = await upload(api, "gsm-prompt", samples.raw_gsm(1.0), "x.gsm")
    assert status == 201, body
    status, body = await upload(api, "au-prompt", samples.au(1.0, 8000), "x.au")
    assert status == 201, body
    assert await stored_names(api) == ["au-prompt", "gsm-prompt"]


async def test_6_mb_file_is_refused_and_nothing_is_stored(api: Api) -> None:
    big = samples.wav(1.0) + bytes(6 * 1024 * 1024 - len(samples.wav(1.0)))
    status, body = await upload(api, "huge", big, "huge.wav")
    assert status == 413
    assert "at most 5 MB" in body["error"]["message"]
    assert str(MAX_PROMPT_BYTES) in body["error"]["message"]
    assert await stored_names(api) == [] and stored_files(api) == []


async def test_png_is_refused_and_nothing_is_stored(api: Api) -> None:
    status, body = await upload(api, "picture", samples.PNG, "picture.wav")
    assert status == 415
    assert "PNG image" in body["error"]["message"]
    assert await stored_names(api) == [] and stored_files(api) == []


async def test_refused_replacement_leaves_the_stored_prompt_as_it_was(api: Api) -> None:
    status, _ = await upload(api, "offer", samples.wav(1.0), "offer.wav", wording="first")
    assert status == 201
    path = api.server.data_dir / "prompts" / "offer.wav"
    before = path.read_bytes()
    big = samples.wav(1.0) + bytes(6 * 1024 * 1024 - len(samples.wav(1.0)))
    for data, filename, refused in ((big, "big.wav", 413), (samples.PNG, "x.wav", 415)):
        status, _ = await upload(api, "offer", data, filename, wording="second", replace="true")
        assert status == refused
    assert path.read_bytes() == before and stored_files(api) == ["offer.wav"]
    status, body = await api.call("GET", "/api/prompts/offer")
    assert status == 200 and body["wording"] == "first" and body["duration"] == 1.0


async def test_upload_without_multipart_or_name_is_a_clear_error(api: Api) -> None:
    status, body = await api.call("POST", "/api/prompts", {"name": "x"})
    assert status == 415 and "multipart/form-data" in body["error"]["message"]
    status, body = await upload(api, "", samples.wav(), "a.wav")
    assert status == 400 and "'name'" in body["error"]["message"]


async def test_activated_slot_is_used_for_the_next_call(api: Api) -> None:
    services = api.server.calls.controller.services
    assert services.queue_prompt("support", "welcome") is None
    await upload(api, "hello", samples.wav(), "hello.wav")
    status, body = await api.call("PUT", "/api/queues/support/prompts/welcome", {"prompt": "hello"})
    assert status == 200, body
    assert services.queue_prompt("support", "welcome") == "hello"
    status, body = await api.call("GET", "/api/queues/support/prompts")
    assert body["slots"]["welcome"] == {"prompt": "hello", "custom": True}
    assert body["slots"]["closed"] == {"prompt": "closed", "custom": False}
    # An activated prompt cannot be deleted from under the queue.
    status, body = await api.call("DELETE", "/api/prompts/hello")
    assert status == 409 and "support/welcome" in body["error"]["message"]
    status, _ = await api.call("DELETE", "/api/queues/support/prompts/welcome")
    assert status == 200 and services.queue_prompt("support", "welcome") is None


async def test_activation_errors_name_queue_slot_and_prompt(api: Api) -> None:
    status, body = await api.call("PUT", "/api/queues/nope/prompts/welcome", {"prompt": "closed"})
    assert status == 404 and "'nope'" in body["error"]["message"]
    status, body = await api.call("PUT", "/api/queues/support/prompts/welcome", {"prompt": "zzz"})
    assert status == 400 and "'zzz'" in body["error"]["message"]
    status, body = await api.call("PUT", "/api/queues/support/prompts/intro", {"prompt": "closed"})
    assert status == 400 and "'intro'" in body["error"]["message"]


async def test_hot_prompt_activate_and_deactivate(api: Api) -> None:
    services = api.server.calls.controller.services
    now = datetime.now(UTC)
    status, body = await api.call(
        "POST", "/api/hot-prompts", {"prompt": "connection-warning", "queue": "*", "until": None}
    )
    assert status == 201 and body["active"] is True
    assert services.hot_prompts("sales", now) == ["connection-warning"]
    status, body = await api.call("GET", "/api/hot-prompts")
    assert body["hot_prompts"] == [
        {"prompt": "connection-warning", "queue": "*", "until": None, "active": True}
    ]
    status, _ = await api.call(
        "DELETE", "/api/hot-prompts", {"prompt": "connection-warning", "queue": "*"}
    )
    assert status == 200 and services.hot_prompts("sales", now) == []
    status, _ = await api.call(
        "DELETE", "/api/hot-prompts", {"prompt": "connection-warning", "queue": "*"}
    )
    assert status == 404


async def test_hot_prompt_with_until_in_the_past_is_refused_naming_the_field(api: Api) -> None:
    services = api.server.calls.controller.services
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    status, body = await api.call(
        "POST", "/api/hot-prompts", {"prompt": "closed", "queue": "support", "until": past}
    )
    assert status == 422, body
    assert body["error"]["field"] == "until"
    assert body["error"]["message"].startswith('field "until": ')
    assert "in the past" in body["error"]["message"]
    assert services.hot_prompts("support", datetime.now(UTC)) == []
    _, listed = await api.call("GET", "/api/hot-prompts")
    assert listed["hot_prompts"] == []  # nothing was stored either
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    await api.call(
        "POST", "/api/hot-prompts", {"prompt": "closed", "queue": "support", "until": soon}
    )
    assert services.hot_prompts("support", datetime.now(UTC)) == ["closed"]
    assert services.hot_prompts("sales", datetime.now(UTC)) == []
    status, body = await api.call(
        "POST", "/api/hot-prompts", {"prompt": "closed", "queue": "nope", "until": "later"}
    )
    assert status == 400 and "'nope'" in body["error"]["message"]
