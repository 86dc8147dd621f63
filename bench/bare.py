"""The benchmark's yardstick: a bare Litestar POST route (a msgspec body in, a struct out) served by the very
`serve` the services use, so a path's ratio to it is what our code costs over the framework's own ceiling.

`python -m bench.bare serve --host H --port P`
"""

import msgspec
from litestar import Litestar, get, post

from bench.serving import serve_from_command_line


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


def create_app() -> Litestar:
    return Litestar([bare, healthz], logging_config=None)


if __name__ == "__main__":
    serve_from_command_line("bench.bare", "bench.bare:create_app")
