"""Command line: ``vaxel serve``, ``vaxel check-config``, ``vaxel calendar``,
``vaxel config export|import``.

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


def _banner(
    config: VaxelConfig,
    config_path: Path,
    *,
    from_database: bool = False,
    seed_users: VaxelConfig | None = None,
) -> str:
    """What ``serve`` prints once started; ``seed_users``: the file's config (its users
    seeded the database: the demo's passwords are shown from there)."""
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
    if from_database:
        lines.append(
            "  Config: agents, queues, numbers, groups, calendars, profiles and pause reasons"
            " come from the database (the file seeded it when it was empty; change them with"
            " /api/config or the console, export with `vaxel config export`)"
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
        seeded = (seed_users or config).users
        users = [f"{n}/{u.password}" for n, u in seeded.items() if u.password]
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
        # The banner is made once started: the numbers are the database's by then.
        banner = lambda: _banner(  # noqa: E731
            server.config, file, from_database=True, seed_users=config
        )
        asyncio.run(run_until_signalled(server, banner))
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


def _engine_for(config: VaxelConfig):  # noqa: ANN202 - AsyncEngine, imported lazily
    from .server import resolve_database_url
    from .storage import create_engine

    return create_engine(resolve_database_url(config, Path.cwd()))


def cmd_config_export(args: argparse.Namespace) -> int:
    """The running configuration as TOML: the file's sections and the stored documents."""
    from .services.config_transfer import export_config

    try:
        config, _ = _load(args.config)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG

    async def run() -> str:
        engine = _engine_for(config)
        try:
            return await export_config(config, engine)
        finally:
            await engine.dispose()

    try:
        text = asyncio.run(run())
    except ConfigError as exc:
        print(f"the stored configuration does not fit the file:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_config_import(args: argparse.Namespace) -> int:
    """Replace the stored agents, queues, numbers ... with FILE's, all or nothing."""
    from .services.config_transfer import import_config

    try:
        config, _ = _load(args.config)
        text = Path(args.file).read_text(encoding="utf-8")
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:
        print(f"{args.file}: cannot read: {exc}", file=sys.stderr)
        return EXIT_CONFIG

    async def run():  # noqa: ANN202
        engine = _engine_for(config)
        try:
            return await import_config(config, engine, text, source=args.file)
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(run())
    except ConfigError as exc:
        print(f"nothing imported, the file has errors:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    counts = ", ".join(f"{n} {section}" for section, n in result.counts.items())
    print(f"{args.file}: imported {counts}")
    for section in result.ignored:
        print(f"  [{section}] not imported: users are kept in the database (/api/users)")
    print("  a running server reads them at its next start (or change it live: /api/config)")
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

    cfg = sub.add_parser("config", help="export or import the administered configuration")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True)
    export = cfg_sub.add_parser("export", help="the configuration the server runs with, as TOML")
    export.add_argument("--config", help="TOML file (default: the demo configuration)")
    export.add_argument("-o", "--output", help="write to this file (default: stdout)")
    export.set_defaults(func=cmd_config_export)
    imp = cfg_sub.add_parser(
        "import", help="replace the stored agents, queues, numbers ... (all or nothing)"
    )
    imp.add_argument("file", help="TOML file, e.g. from vaxel config export")
    imp.add_argument("--config", help="TOML file (default: the demo configuration)")
    imp.set_defaults(func=cmd_config_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
