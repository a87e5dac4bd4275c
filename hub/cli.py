"""The ``hub`` command line: build settings, then do one thing.

Errors an operator can fix (a bad setting, an unreachable database) are one
line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import socket
import sys
from collections.abc import Sequence

from hub.settings import Settings, SettingsError


class CommandError(Exception):
    """A failure to report as one line."""


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        args.run(settings, args)
    except (SettingsError, CommandError) as exc:
        print(f"hub: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="The realtime scheduling hub.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate the database, then serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo",
        action="store_true",
        help="fill an empty database with a demo clinic and keep simulated clients busy",
    )
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="bring the schema to the newest migration")
    migrate.set_defaults(run=_migrate)

    prune = commands.add_parser("prune", help="delete channel-log rows past the retention")
    prune.set_defaults(run=_prune)

    admin = commands.add_parser("create-admin", help="create an admin or promote an account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", help="prompted for when omitted")
    admin.add_argument("--full-name", default="Administrator")
    admin.set_defaults(run=_create_admin)
    return parser


def _migrate(settings: Settings, args: argparse.Namespace) -> None:
    from hub.storage.migrate import upgrade

    try:
        upgrade(settings.database_url)
    except Exception as exc:
        raise CommandError(f"cannot migrate the database: {_one_line(exc)}") from exc


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from hub import demo, logs
    from hub.web.app import create_app
    from hub.web.ws_protocol import DrainingWebSocketsSansIOProtocol

    # Bound first, so a port in use is one line and status 1, before anything is printed.
    sock = _listening_socket(args.host, args.port, settings.socket_send_buffer)
    _migrate(settings, args)
    logs.setup(settings.log_json)
    app = create_app(settings)
    if args.demo:
        served = demo.with_demo(app, f"http://{args.host}:{args.port}/")
    else:
        served = app
        hint = demo.first_admin_hint(settings)
        if hint:
            print(hint, flush=True)
    config = uvicorn.Config(
        served,
        ws=DrainingWebSocketsSansIOProtocol,
        ws_max_size=settings.ws_max_bytes,
        ws_ping_interval=settings.ws_ping_interval,
        ws_ping_timeout=settings.ws_ping_timeout,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        # X-Forwarded-For is believed only from the configured proxies (none by default).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies),
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _listening_socket(host: str, port: int, send_buffer: int) -> socket.socket:
    """The listening socket, bound here so that a port in use is an operator's error.

    With ``send_buffer``, accepted sockets inherit a bounded kernel send buffer:
    Linux otherwise lets each grow to megabytes, which a stalled client then
    holds; bounded, a slow consumer fills the hub's own queue soon and is
    closed with 4008.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _create_admin(settings: Settings, args: argparse.Namespace) -> None:
    from hub.domain.errors import HubError
    from hub.service.runtime import Runtime

    _migrate(settings, args)
    password = args.password
    if password is None and sys.stdin.isatty():
        password = getpass.getpass("Password for the new admin: ")

    async def run() -> str:
        runtime = Runtime(settings)
        await runtime.start(background=False)
        try:
            user = await runtime.accounts.create_admin(args.email, password, args.full_name)
            return user.email
        finally:
            await runtime.stop()

    try:
        email = asyncio.run(run())
    except HubError as exc:
        raise CommandError(exc.message) from exc
    print(f"{email} is an admin")


def _prune(settings: Settings, args: argparse.Namespace) -> None:
    from hub.service.runtime import Runtime

    _migrate(settings, args)

    async def run() -> tuple[int, int, int]:
        runtime = Runtime(settings)
        await runtime.start(background=False)
        try:
            return await runtime.prune()
        finally:
            await runtime.stop()

    rows, keys, tokens = asyncio.run(run())
    print(f"pruned {rows} channel-log rows, {keys} idempotency keys and {tokens} refresh tokens")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


if __name__ == "__main__":
    main()
