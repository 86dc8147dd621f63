"""The benchmark's yardstick: a bare Litestar POST route (a msgspec body in, a struct out) served by the very
`serve` the services use, so a path's ratio to it is what our code costs over the framework's own ceiling.

`python -m bench.bare serve --host H --port P`
"""

import argparse

import msgspec
from litestar import Litestar, get, post

from libs.common.cli import serve


class Greeting(msgspec.Struct, frozen=True):
    name: str


class Reply(msgspec.Struct, frozen=True):
    message: str


@post("/bare", status_code=200, sync_to_thread=False)
def bare(data: Greeting) -> Reply:
    return Reply(message=f"hello {data.name}")


@get("/healthz", sync_to_thread=False)
def healthz() -> Reply:
    return Reply(message="ok")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    serve("bench.bare:create_app", args.host, args.port)


def create_app() -> Litestar:
    return Litestar([bare, healthz], logging_config=None)


if __name__ == "__main__":
    main()
