"""The process entry every service shares: `migrate` applies its migrations, `serve` runs it, plus any
commands of the service's own (such as identity's `backfill`)."""

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from granian import Granian
from granian.constants import HTTPModes, Interfaces, Loops, RuntimeModes
from granian.http import HTTP1Settings

from libs.common.log import configure_logging
from libs.common.settings import SettingsError
from libs.common.slow_clients import HEADER_READ_TIMEOUT_SECONDS, MAX_CONNECTIONS_PER_WORKER


@dataclass(frozen=True)
class Command:
    """A service command beyond migrate/serve: `run(settings, args)` returns the exit status."""

    help: str
    run: Callable[[Any, argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda _: None


def apply_migrations(piccolo_app: str, piccolo_conf: str, database_url: str) -> None:
    """Apply the Piccolo app's pending migrations to `database_url`; a second run does nothing."""
    os.environ["PICCOLO_CONF"] = piccolo_conf
    os.environ["DATABASE_URL"] = database_url
    from piccolo.apps.migrations.commands.forwards import run_forwards  # noqa: PLC0415 (needs PICCOLO_CONF)

    result = asyncio.run(run_forwards(app_name=piccolo_app))
    if not result.success:
        sys.exit(f"migrations failed: {result.message}")


DRAIN_SECONDS = 10
"""On SIGTERM, in-flight requests get this long to finish before the workers are killed."""


def serve(app_factory: str, host: str, port: int, workers: int = 1) -> None:
    """Serve `app_factory` ("module:function" building the app) with granian on uvloop, in `workers` worker
    processes under granian's supervisor (this process); SIGTERM/SIGINT drain in-flight requests (at most
    `DRAIN_SECONDS`), then exit. Slow clients are bounded as `slow_clients` says.

    Each worker keeps its own pools, caches and metrics (a scrape sees one worker), so on Kubernetes keep one
    worker per pod and more pods. Each worker runs the app on one thread and one event loop (granian's
    single-threaded runtime), which the numbers favour (deploy/k8s/CAPACITY.md).
    """
    Granian(
        app_factory,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=workers,
        runtime_mode=RuntimeModes.st,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_SECONDS * 1000),
        backpressure=MAX_CONNECTIONS_PER_WORKER,
        workers_kill_timeout=DRAIN_SECONDS,
        # granian's own lines (start, stop, a worker's crash) go through our JSON handler, not to stdout.
        log_dictconfig={"loggers": {"_granian": {"propagate": True}}},
    ).serve()


def web_concurrency(environ: Mapping[str, str]) -> int:
    """`WEB_CONCURRENCY`: worker processes per service, default 1."""
    raw = environ.get("WEB_CONCURRENCY", "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise SettingsError(["WEB_CONCURRENCY is malformed: expected a whole number from 1 to 64"])
    return int(raw)


def run_service(
    *,
    name: str,
    piccolo_app: str,
    piccolo_conf: str,
    load_settings: Callable[[Mapping[str, str]], Any],
    app_factory: str,
    commands: Mapping[str, Command] | None = None,
    argv: list[str] | None = None,
) -> None:
    """Parse `migrate | serve --host H --port P | <command>` and run it; a settings problem exits with 2."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{name}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    subparsers.add_parser("migrate", help="apply this service's database migrations to DATABASE_URL")
    serve_parser = subparsers.add_parser("serve", help="serve the HTTP API until SIGTERM/SIGINT")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    for command_name, command in (commands or {}).items():
        command.arguments(subparsers.add_parser(command_name, help=command.help))
    args = parser.parse_args(argv)

    configure_logging(name, os.environ.get("LOG_LEVEL", "INFO"))
    if args.command == "migrate":
        database_url = os.environ.get("DATABASE_URL", "").strip()
        if not database_url:
            sys.exit(f"{name} cannot migrate: DATABASE_URL is not set")
        apply_migrations(piccolo_app, piccolo_conf, database_url)
        return
    try:
        settings = load_settings(os.environ)  # checked here, so a bad variable stops the start with its name
        workers = web_concurrency(os.environ)
    except SettingsError as error:
        print(f"{name} cannot start: {error}", file=sys.stderr)
        sys.exit(2)
    if args.command == "serve":
        serve(app_factory, args.host, args.port, workers)
        return
    sys.exit((commands or {})[args.command].run(settings, args))
