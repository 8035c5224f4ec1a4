"""Command line: ``vaxel serve``, ``vaxel check-config``, ``vaxel calendar``.

Exit codes: 0 success, 2 bad configuration or a port that cannot be bound, 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from config import DEMO_CONFIG, ConfigError, VaxelConfig, load_config
from prompts import STANDARD_PROMPTS

from . import __version__
from .logs import setup_logging

EXIT_CONFIG = 2


def _statistics_build() -> str:
    """Which RTP statistics run: the compiled per-packet core costs ~1/7 of the Python one."""
    from media import COMPILED

    return "compiled" if COMPILED else "pure Python: build media/_rtpstats_core.c for speed"


def _banner(config: VaxelConfig, config_path: Path) -> str:
    sip = config.sip
    lines = [
        f"Vaxel {__version__} serving {config.server.name!r} (config: {config_path})",
        f"  SIP   {sip.host}:{sip.port} over {', '.join(t.upper() for t in sip.transports)}"
        f"  (domain {sip.domain}, realm {sip.realm})",
        *(
            [f"  SIP   {sip.host}:{sip.tls.port} over TLS (certificate {sip.tls.certificate})"]
            if sip.tls.enabled
            else []
        ),
        f"  RTP   {config.rtp.host} ports {config.rtp.port_min}-{config.rtp.port_max}"
        f"  (statistics: {_statistics_build()})",
        f"  HTTP  http://{config.http.host}:{config.http.port}/api/health",
    ]
    if config.ssh.enabled:
        lines.append(
            f"  SSH   ssh -p {config.ssh.port} admin@{config.ssh.host}"
            "  (console for admins and managers)"
        )
    lines += [
        "  Numbers:",
    ]
    for number, target in config.numbers.items():
        what = f"service {target.service}" if target.service else f"queue {target.queue}"
        if target.service == "voicemail":  # the mailbox: a queue's or an agent's
            box = f"queue {target.queue}" if target.queue else f"agent {target.agent}"
            what += f" for {box}"
        if target.flow:
            what += f" (flow {target.flow})"
        lines.append(f"    {number:>6} -> {what}")
    if config_path == DEMO_CONFIG:
        lines.append("  Demo credentials:")
        lines.append(f"    API token: {config.api.tokens[0]} (acts as an admin)")
        users = [f"{n}/{u.password}" for n, u in config.users.items() if u.password]
        if users:
            lines.append(f"    API users (POST /api/login): {', '.join(users)}")
        for aid, agent in config.agents.items():
            lines.append(
                f"    agent {aid}: SIP password {agent.sip_password}, "
                f"remote number {agent.remote_number or '-'}"
            )
        for name, admin in config.admins.items():
            lines.append(f"    admin {name}: caller id {admin.caller_id}, PIN {admin.pin}")
    return "\n".join(lines)


def _load(path: str | None) -> tuple[VaxelConfig, Path]:
    file = Path(path) if path else DEMO_CONFIG
    return load_config(file), file


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        config, file = _load(args.file)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    if config.sip.tls.enabled:
        from .tls import TlsFileError, tls_contexts

        try:
            tls_contexts(config.sip.tls, Path.cwd())
        except TlsFileError as exc:
            problems = "\n".join(f"{file}: {key}: {why}" for key, why in exc.problems)
            print(f"configuration error:\n{problems}", file=sys.stderr)
            return EXIT_CONFIG
    print(
        f"{file}: OK ({len(config.numbers)} numbers, {len(config.queues)} queues, "
        f"{len(config.agents)} agents)"
    )
    for key, name in _stored_prompt_uses(config):
        print(f"  {key}: {name!r} must be a stored prompt (the server checks at start)")
    return 0


def _stored_prompt_uses(config: VaxelConfig) -> list[tuple[str, str]]:
    """Prompt names that are not standard: this command sees no database to look them up."""
    return [(key, name) for key, name in config.prompt_uses() if name not in STANDARD_PROMPTS]


def cmd_serve(args: argparse.Namespace) -> int:
    from .server import StartupError, VaxelServer, run_until_signalled

    try:
        config, file = _load(args.config)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(args.log_level or config.server.log_level)
    server = VaxelServer(config)
    try:
        asyncio.run(run_until_signalled(server, _banner(config, file)))
    except StartupError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from .services.calendars import UnknownCalendar, explain, find_calendar, format_explanation

    try:
        config, _ = _load(args.config)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    at = datetime.now(UTC)
    if args.at:
        try:
            at = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
        except ValueError:
            print(f"--at: expected an ISO 8601 time, got {args.at!r}", file=sys.stderr)
            return EXIT_CONFIG
    try:
        calendar, queue = find_calendar(config, args.calendar)
    except UnknownCalendar as exc:
        print(f"calendar: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if at.tzinfo is None:  # a wall-clock time is read in the calendar's own zone
        at = at.replace(tzinfo=calendar.tz)
    print(format_explanation(explain(calendar, at, queue)))
    return 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    """An argon2id hash for ``password_hash`` in ``[users.NAME]`` (the password from stdin)."""
    import getpass

    from .services.users import PASSWORD_HASHER

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        print("password: expected at least 8 characters", file=sys.stderr)
        return EXIT_CONFIG
    print(PASSWORD_HASHER.hash(password))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vaxel", description="Vaxel call-center server")
    parser.add_argument("--version", action="version", version=f"vaxel {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--config", help="TOML file (default: the built-in demo configuration)")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check-config", help="validate a configuration file and exit")
    check.add_argument("file", nargs="?", help="TOML file (default: the demo configuration)")
    check.set_defaults(func=cmd_check_config)

    cal = sub.add_parser("calendar", help="explain whether a calendar is open, and why")
    cal.add_argument("calendar", help="base, a calendar id or a queue id")
    cal.add_argument("--config", help="TOML file (default: the built-in demo configuration)")
    cal.add_argument("--at", help="ISO 8601 time (default now; without offset: calendar's zone)")
    cal.set_defaults(func=cmd_calendar)

    hashpw = sub.add_parser(
        "hash-password", help="print an argon2 hash for [users.NAME] password_hash"
    )
    hashpw.set_defaults(func=cmd_hash_password)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
