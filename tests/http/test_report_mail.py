"""Subscriptions mailed by the scheduler to an aiosmtpd server in the test: HTML with the
charts inline (Content-ID references resolve), the CSV attached and equal to the API's,
the HTML opened in real Chromium (screenshot kept under the test's tmp dir); a failed SMTP
delivery is retried and sent once; a restart across the due time sends once."""

from __future__ import annotations

import asyncio
import base64
import re
from email.message import EmailMessage
from pathlib import Path

import aiohttp

from tests.support import require_tool
from vaxel.server import VaxelServer

from .report_fixtures import Clock, Mailbox, RawApi, StartServer
from .report_seed import at, seed

NEXT_DAY = at(24, 10, 5).timestamp()  # 11 March 00:10:05, just after the daily send is due
SUB = {
    "owner": "Maja Lind",
    "email": "maja@example.com",
    "report": "key_figures",
    "periodicity": "daily",
    "queues": ["support"],
}


async def rounds(server: VaxelServer, n: int = 1) -> None:
    """Wake the scheduler and wait until it finished ``n`` more rounds."""
    assert server.reports is not None
    sched = server.reports.scheduler
    target = sched.rounds + n
    async with asyncio.timeout(20):
        while sched.rounds < target:
            sched.wake()
            await asyncio.sleep(0.02)


def parts(msg: EmailMessage) -> tuple[str, dict[str, bytes], list[EmailMessage]]:
    """(HTML, images by Content-ID, attachments)."""
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None
    images = {
        str(p["Content-ID"]).strip("<>"): p.get_content()
        for p in msg.walk()
        if p.get_content_type() == "image/png"
    }
    return html_part.get_content(), images, list(msg.iter_attachments())


async def subscribe(api: RawApi) -> dict:
    status, sub = await api.call("POST", "/api/report-subscriptions", SUB)
    assert status == 201, sub
    assert sub["first_due_at"] == "2026-03-10T23:10:00+00:00"  # 11 March 00:10 local
    return sub


async def test_a_due_subscription_arrives_with_inline_charts_and_the_api_csv(
    start_server: StartServer, smtp: tuple[Mailbox, int], http_session: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:  # fmt: skip
    box, _ = smtp
    clock = Clock(at(14).timestamp())
    server = await start_server(clock)
    api = RawApi(server, http_session, server.http_url)
    await seed(server.calllog)
    sub = await subscribe(api)
    await rounds(server)
    assert box.messages == []  # not due yet
    clock.t = NEXT_DAY
    await rounds(server)
    (msg,) = await box.wait_for(1)

    assert msg["To"] == "maja@example.com"
    assert msg["Subject"] == "Key figures, daily report 2026-03-10"
    html, images, attachments = parts(msg)
    cids = re.findall(r'src="cid:([^"]+)"', html)
    assert len(cids) == 3 and set(cids) == set(images), (cids, list(images))
    assert all(png.startswith(b"\x89PNG") and len(png) > 5000 for png in images.values())
    (attached,) = attachments
    assert attached.get_content_type() == "text/csv"
    csv_bytes = attached.get_payload(decode=True)
    # The same report from the API, byte for byte.
    query = re.search(r"<code>(/api/reports/[^<]+)</code>", html)
    assert query is not None
    path = query.group(1).replace("&amp;", "&")
    status, ctype, api_csv = await api.raw(path)
    assert status == 200 and ctype == "text/csv"
    assert csv_bytes == api_csv
    assert api_csv.count(b"\r\n") == 2 and b"support,2026-03-10T09:00:00+01:00" in api_csv
    assert "<td>support</td><td>3</td><td>1</td><td>2</td><td>1</td><td>50.0 %</td>" in html

    status, detail = await api.call("GET", f"/api/report-subscriptions/{sub['id']}")
    (send,) = detail["sends"]
    assert send["status"] == "sent" and send["attempts"] == 1
    assert send["period_start"] == "2026-03-09T23:00:00+00:00"
    assert msg["Message-ID"] == send["message_id"]

    screenshot = await render_in_chromium(html, images, tmp_path)
    print(f"report mail screenshot: {screenshot}")


async def render_in_chromium(html: str, images: dict[str, bytes], tmp_path: Path) -> Path:
    """Open the mail's HTML in Debian's Chromium as a mail client would show it (cid:
    references replaced by the parts they name), check every image decoded, keep a
    screenshot at ``tmp_path/report-mail.png``."""
    from playwright import async_api as playwright  # a test dependency (pyproject [test])

    chromium = require_tool("chromium")  # a real browser: fails in CI when missing
    page_html = html
    for cid, png in images.items():
        page_html = page_html.replace(
            f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode()
        )
    assert "cid:" not in page_html
    shot = tmp_path / "report-mail.png"
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 1400})
            await page.set_content(page_html, wait_until="load")
            sizes = await page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
            )
            assert len(sizes) == 3 and all(ok and w >= 600 and h >= 150 for ok, w, h in sizes), (
                sizes
            )
            title = await page.inner_text("h1")
            assert title.startswith("Key figures")
            await page.screenshot(path=str(shot), full_page=True)
        finally:
            await browser.close()
    assert shot.stat().st_size > 10_000
    return shot


async def test_a_failed_delivery_is_retried_and_the_report_arrives_once(
    start_server: StartServer, smtp: tuple[Mailbox, int], http_session: aiohttp.ClientSession
) -> None:
    box, _ = smtp
    box.fail_next = 1
    clock = Clock(at(14).timestamp())
    server = await start_server(clock)
    api = RawApi(server, http_session, server.http_url)
    await seed(server.calllog)
    sub = await subscribe(api)
    clock.t = NEXT_DAY
    await rounds(server)
    assert box.attempts == 1 and box.messages == []
    (send,) = (await api.call("GET", f"/api/report-subscriptions/{sub['id']}"))[1]["sends"]
    assert send["status"] == "pending" and send["attempts"] == 1 and "451" in send["error"]
    await rounds(server, 2)
    assert box.attempts == 1  # the retry waits its delay (30 s)
    clock.t += 31
    await rounds(server)
    await box.wait_for(1)
    clock.t += 3600
    await rounds(server, 3)
    assert len(box.messages) == 1 and box.attempts == 2
    (send,) = (await api.call("GET", f"/api/report-subscriptions/{sub['id']}"))[1]["sends"]
    assert send["status"] == "sent" and send["attempts"] == 2


async def test_a_restart_across_the_due_time_sends_the_report_once(
    start_server: StartServer, smtp: tuple[Mailbox, int], http_session: aiohttp.ClientSession
) -> None:
    box, _ = smtp
    first = await start_server(Clock(at(14).timestamp()))
    await seed(first.calllog)
    await subscribe(RawApi(first, http_session, first.http_url))
    await first.stop()  # down across midnight

    second = await start_server(Clock(at(24 + 8).timestamp()))  # back at 08:00
    await rounds(second)
    (msg,) = await box.wait_for(1)
    assert msg["Subject"] == "Key figures, daily report 2026-03-10"
    await rounds(second, 2)
    await second.stop()

    third = await start_server(Clock(at(24 + 9).timestamp()))
    await rounds(third, 2)
    assert len(box.messages) == 1
    api = RawApi(third, http_session, third.http_url)
    (sub,) = (await api.call("GET", "/api/report-subscriptions"))[1]["subscriptions"]
    (send,) = (await api.call("GET", f"/api/report-subscriptions/{sub['id']}"))[1]["sends"]
    assert send["status"] == "sent"
