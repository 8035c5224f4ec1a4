"""[sip.tls]: the docs' example passes ``vaxel check-config`` with its files in place, and
each problem with a file or a setting is one message naming the key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, parse_config
from tests.peers.tlscert import make_certificates
from tests.support import demo_toml_with

ROOT = Path(__file__).resolve().parents[2]
DOC_BLOCK = re.compile(r"```toml\n(\[sip\.tls\]\n.*?)```", re.S)


def _docs_example() -> str:
    (block,) = DOC_BLOCK.findall((ROOT / "docs" / "security.md").read_text("utf-8"))
    return block


def check_config(folder: Path, text: str) -> subprocess.CompletedProcess[str]:
    (folder / "vaxel.toml").write_text(text)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "vaxel.cli", "check-config", "vaxel.toml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
        env=env,
    )


def _with_files(folder: Path) -> None:
    certs = make_certificates(folder / "made")
    (folder / "tls").mkdir()
    (folder / "tls" / "vaxel.pem").write_bytes(certs.certificate.read_bytes())
    (folder / "tls" / "vaxel.key").write_bytes(certs.key.read_bytes())
    (folder / "tls" / "trunk-ca.pem").write_bytes(certs.ca.read_bytes())


def test_check_config_accepts_the_docs_example_with_its_files(tmp_path: Path) -> None:
    _with_files(tmp_path)
    res = check_config(tmp_path, demo_toml_with(tmp_path, extra=_docs_example()))
    assert res.returncode == 0, res.stderr
    assert "OK" in res.stdout


def test_check_config_names_the_key_of_each_file_problem(tmp_path: Path) -> None:
    _with_files(tmp_path)
    other = make_certificates(tmp_path / "other")
    (tmp_path / "tls" / "vaxel.key").write_bytes(other.key.read_bytes())  # not its key
    res = check_config(tmp_path, demo_toml_with(tmp_path, extra=_docs_example()))
    assert res.returncode == 2
    assert "vaxel.toml: sip.tls.key: does not belong to the certificate" in res.stderr
    assert "Traceback" not in res.stderr
    (tmp_path / "tls" / "vaxel.pem").unlink()
    (tmp_path / "tls" / "trunk-ca.pem").write_text("not a certificate\n")
    res = check_config(tmp_path, demo_toml_with(tmp_path, extra=_docs_example()))
    assert res.returncode == 2
    assert "sip.tls.certificate: file not found:" in res.stderr
    assert "sip.tls.ca: " in res.stderr and "holds no PEM certificate" in res.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[sip.tls]\nenabled = true\n", "sip.tls.certificate: required when"),
        ("[sip.tls]\nenabled = true\ncertificate = 'a'\n", "sip.tls.key: required when"),
        ("[sip.tls]\nport = 0\n", "sip.tls.port: Input should be greater than or equal to 1"),
        ("[sip.tls]\nhandshake_timeout = 0\n", "sip.tls.handshake_timeout:"),
        ("[sip.tls]\nverify = true\n", "sip.tls.verify: unknown key"),
        (
            "[trunks.t]\nhost = 'sip.example.com'\ntransport = 'tls'\n",
            'trunks.t.transport: "tls" needs [sip.tls] with enabled = true',
        ),
    ],
)
def test_bad_tls_settings_name_the_field(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(demo_toml_with(tmp_path, extra=extra))
    assert message in str(err.value), str(err.value)


def test_tls_port_must_differ_from_the_sip_port(tmp_path: Path) -> None:
    text = demo_toml_with(tmp_path)
    port = re.search(r"(?m)^port = (\d+)$", text)
    assert port is not None
    extra = f"[sip.tls]\nenabled = true\nport = {port.group(1)}\ncertificate = 'a'\nkey = 'b'\n"
    with pytest.raises(ConfigError, match="sip.tls.port: must differ from sip.port"):
        parse_config(text + extra)


async def test_server_start_refuses_a_missing_certificate_naming_the_key(tmp_path: Path) -> None:
    from vaxel.server import StartupError, VaxelServer

    extra = "[sip.tls]\nenabled = true\nport = 1\ncertificate = 'none.pem'\nkey = 'none.key'\n"
    server = VaxelServer(parse_config(demo_toml_with(tmp_path, extra=extra)), base_dir=tmp_path)
    with pytest.raises(StartupError, match="sip.tls.certificate: file not found"):
        await server.start()
