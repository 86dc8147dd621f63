"""The libraries' floors: what each kind of path costs when it does its database or service work on the libraries
alone, configured as the services configure them (Litestar on the same `serve`, asyncpg's pool through
`libs.common.db.Database`, aiohttp through `libs.common.http_client`), with nothing else of ours: no request
context, access line, metrics, body deadline, authentication or domain logic. A path's distance from its floor is
what our frame and its contract add; a target above a floor cannot be reached by our code.

- `POST /floor/read` `{"clerk_id"}`: the ensure-user's one statement (identity's user, every column) answered
  as a struct;
- `POST /floor/write`: one row inserted and committed (a durable write, like a webhook's);
- `POST /floor/call`: the read on the peer floor (`FLOOR_PEER_URL`) over aiohttp, then the same read here: a
  start that asks identity, at its least.

`python -m bench.floors serve --host H --port P`, with `DATABASE_URL` (identity's database, `FLOOR_TABLE` created
in it) and `FLOOR_PEER_URL`.
"""

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import msgspec
from litestar import Litestar, get, post

from bench.serving import serve_from_command_line
from libs.common.db import Database
from libs.common.http_client import client_session
from services.identity import store
from services.identity.profiles import User

FLOOR_TABLE = "CREATE TABLE IF NOT EXISTS bench_floor_writes (id bigserial PRIMARY KEY, clerk_id text NOT NULL)"


class Ask(msgspec.Struct, frozen=True):
    clerk_id: str


class Found(msgspec.Struct, frozen=True):
    user: User | None


class Floors:
    def __init__(self, database_url: str, peer_url: str) -> None:
        self.database = Database(database_url)
        self.peer_url = peer_url
        self.http: aiohttp.ClientSession | None = None

    @asynccontextmanager
    async def running(self, _: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await self.database.open()
            stack.push_async_callback(self.database.close)
            http = client_session(timeout=5.0, headers={"Content-Type": "application/json"})
            self.http = await stack.enter_async_context(http)
            yield

    async def read(self, clerk_id: str) -> Found:
        async with self.database.connection() as conn:
            return Found(user=await store.find_user(conn, clerk_id))


_found = msgspec.json.Decoder(Found)


def create_app() -> Litestar:
    floors = Floors(os.environ["DATABASE_URL"], os.environ.get("FLOOR_PEER_URL", ""))

    @post("/floor/read", status_code=200)
    async def read(data: Ask) -> Found:
        return await floors.read(data.clerk_id)

    @post("/floor/write", status_code=200)
    async def write(data: Ask) -> None:
        async with floors.database.connection() as conn:
            await conn.execute("INSERT INTO bench_floor_writes (clerk_id) VALUES ($1)", data.clerk_id)

    @post("/floor/call", status_code=200)
    async def call(data: Ask) -> Found:
        assert floors.http is not None
        async with floors.http.post(f"{floors.peer_url}/floor/read", data=msgspec.json.encode(data)) as response:
            found = _found.decode(await response.read())
        await floors.read(data.clerk_id)
        return found

    @get("/healthz", sync_to_thread=False)
    def healthz() -> None:
        return None

    return Litestar([read, write, call, healthz], lifespan=[floors.running], logging_config=None)


if __name__ == "__main__":
    serve_from_command_line("bench.floors", "bench.floors:create_app")
