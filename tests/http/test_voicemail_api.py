"""Voicemail API: listing, one message, its audio, resend; token auth like every route."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from ivr.recording import Recording
from vaxel.voicemail import Mailbox

from .conftest import Api


async def store_one(api: Api, email: str | None = None) -> int:
    service = api.server.calls.voicemail
    path = service.new_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(8000, dtype=np.int16) + 100, 8000, subtype="PCM_16")
    box = Mailbox("Support", email, queue="support")
    return await service.store(
        Recording(path, 1.0, "hash"), call_id="c1", mailbox=box, a_number="0701", b_number="192"
    )


async def test_listing_one_message_and_its_audio(api: Api) -> None:
    assert await api.call("GET", "/api/voicemails") == (200, {"voicemails": []})
    vid = await store_one(api)
    status, body = await api.call("GET", "/api/voicemails?queue=support")
    assert status == 200
    (vm,) = body["voicemails"]
    assert vm["id"] == vid and vm["mail_status"] == "none" and vm["duration"] == 1.0
    assert vm["audio"] == f"/api/voicemails/{vid}/audio"
    assert (await api.call("GET", "/api/voicemails?agent=1001"))[1] == {"voicemails": []}
    assert (await api.call("GET", f"/api/voicemails/{vid}"))[1] == vm
    headers = {"Authorization": "Bearer demo-admin-token"}
    async with api.session.get(api.url(f"/api/voicemails/{vid}/audio"), headers=headers) as r:
        assert r.status == 200 and r.content_type == "audio/wav"
        assert (await r.read())[:4] == b"RIFF"


async def test_errors(api: Api) -> None:
    assert (await api.call("GET", "/api/voicemails/99"))[0] == 404
    assert (await api.call("GET", "/api/voicemails/abc/audio"))[0] == 404
    assert (await api.call("GET", "/api/voicemails?limit=0"))[0] == 400
    vid = await store_one(api)  # no address: nothing to resend to
    status, body = await api.call("POST", f"/api/voicemails/{vid}/resend")
    assert status == 409 and "no recipient" in body["error"]["message"]


async def test_a_token_is_required(api: Api) -> None:
    async with api.session.get(api.url("/api/voicemails")) as resp:
        assert resp.status == 401
    async with api.session.get(
        api.url("/api/voicemails"), headers={"Authorization": "Bearer wrong-token"}
    ) as resp:
        assert resp.status == 403
