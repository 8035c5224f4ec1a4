"""The web front door over plain HTTP: pages need no token, the API still does."""

from __future__ import annotations

import ast
from pathlib import Path

import aiohttp

from vaxel.web import PAGES

from .conftest import Site

WEB = Path(__file__).resolve().parents[2] / "vaxel" / "web"


async def test_the_root_redirects_to_the_login_page(site: Site) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(site.url("/"), allow_redirects=False) as resp,
    ):
        assert resp.status == 302
        assert resp.headers["Location"] == "/login"


async def test_pages_and_their_files_need_no_token_but_the_api_does(site: Site) -> None:
    async with aiohttp.ClientSession() as session:
        for path in PAGES:
            async with session.get(site.url(path)) as resp:
                assert resp.status == 200, path
                assert resp.content_type == "text/html"
                assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
        for path in ("/static/common.js", "/static/style.css"):
            async with session.get(site.url(path)) as resp:
                assert resp.status == 200, path
        async with session.get(site.url("/api/agents")) as resp:
            assert resp.status == 401


async def test_an_unknown_static_file_is_a_404(site: Site) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(site.url("/static/nope.js")) as resp,
    ):
        assert resp.status == 404


def test_the_web_front_door_imports_no_other_front_door() -> None:
    offenders = []
    for source in sorted(WEB.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            offenders += [
                f"{source.name}: {n}"
                for n in names
                if n.startswith(("vaxel.http", "vaxel.ssh", "..http", "..ssh"))
            ]
    assert offenders == []


def test_the_pages_allow_frames_only_from_screen_pops_that_open_in_a_frame(
    tmp_path: Path,
) -> None:
    from config import parse_config
    from tests.support import demo_toml_with
    from vaxel.web.pages import page_headers

    extra = (
        '[screen_pop]\nurl = "https://tab.example/{ANO}"\n'
        '[queues.support.screen_pop]\nurl = "https://crm.example:8443/x?a={AID}"\nopen = "frame"\n'
    )
    csp = page_headers(parse_config(demo_toml_with(tmp_path, extra=extra), source="t.toml"))
    policy = csp["Content-Security-Policy"]
    assert "frame-src 'self' https://crm.example:8443;" in policy, policy
    assert "tab.example" not in policy and "frame-ancestors 'none'" in policy
    plain = page_headers(parse_config(demo_toml_with(tmp_path), source="t.toml"))
    assert "frame-src 'self';" in plain["Content-Security-Policy"]
