"""LiveKit's own server SDKs are the oracle of the LiveKit stand-in's wire format: RoomService called through
livekit-api (Python) and through livekit-server-sdk's `RoomServiceClient` (Node) gets the same answers, and
every webhook the stand-in sends passes both SDKs' `WebhookReceiver`."""

import asyncio
import json
import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from livekit import api

from deploy.dev.stack import LIVEKIT_STANDIN, ServiceProcess, livekit_environment
from deploy.dev.tools import npm_package
from services.sessions.interviews.participant_tokens import ParticipantTokens
from services.sessions.interviews.room_policy import AgentChoice, room_configuration
from tests.support.livekit import LiveKitStandin
from tests.support.storage import object_store_on_loopback
from tests.support.waiting import eventually

NODE_SDK = ("livekit-server-sdk", "2.19.2")
KEY, SECRET = "APIsdkcheck", "sdk-check-secret-of-at-least-32-bytes!"
SCRIPT = Path(__file__).with_name("livekit_server_sdk.cjs")


class Webhooks(ThreadingHTTPServer):
    """Where the stand-in sends its webhooks: each body and `Authorization` header, as received."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((body.decode(), self.headers.get("Authorization", "")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def webhooks() -> Iterator[Webhooks]:
    server = Webhooks()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def livekit(webhooks: Webhooks, tmp_path: Path) -> Iterator[ServiceProcess]:
    env = livekit_environment(
        {"LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET},
        webhook_url=f"http://127.0.0.1:{webhooks.server_port}/webhooks/livekit",
    )
    with ServiceProcess(LIVEKIT_STANDIN, env, tmp_path / "livekit.log", ready_path="/healthz") as process:
        yield process


@pytest.fixture(scope="module")
def node_sdk() -> Path:
    return npm_package(*NODE_SDK).parent


def node(node_modules: Path, command: dict[str, Any]) -> dict[str, Any]:
    """One command run by the Node SDK (see livekit_server_sdk.cjs)."""
    done = subprocess.run(
        ["/usr/bin/node", str(SCRIPT)],
        input=json.dumps({"key": KEY, "secret": SECRET, **command}),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NODE_PATH": str(node_modules)},
        check=True,
    )
    return dict(json.loads(done.stdout))


async def python(url: str, call: str, request: Any) -> Any:
    async with api.LiveKitAPI(url, KEY, SECRET) as client:
        try:
            return await getattr(client.room, call)(request)
        except api.TwirpError as error:
            return {"error": error.code}


def participant_token(room: str, identity: str) -> str:
    config = room_configuration(AgentChoice("interviewer"), uuid.uuid4(), identity)  # room for three
    return ParticipantTokens(KEY, SECRET, 600).mint(identity=identity, name=identity, room=room, room_config=config)


async def test_room_service_answers_both_sdks_alike(livekit: ServiceProcess, node_sdk: Path):
    async with httpx.AsyncClient(base_url=livekit.url, timeout=10) as http:
        control = LiveKitStandin(http)
        for identity in ("user_a", "user_b", "user_c"):
            await control.join(participant_token("interview-sdk", identity))
        await control.join(participant_token("interview-other", "user_d"))
    host = {"host": livekit.url}

    def ask(command: dict[str, Any]) -> dict[str, Any]:
        return node(node_sdk, {**host, **command})

    py_rooms = await python(livekit.url, "list_rooms", api.ListRoomsRequest())
    node_rooms = await asyncio.to_thread(ask, {"op": "rooms"})
    py_people = await python(livekit.url, "list_participants", api.ListParticipantsRequest(room="interview-sdk"))
    node_people = await asyncio.to_thread(ask, {"op": "participants", "room": "interview-sdk"})
    removed_by_python = await python(
        livekit.url, "remove_participant", api.RoomParticipantIdentity(room="interview-sdk", identity="user_a")
    )
    removed_by_node = await asyncio.to_thread(ask, {"op": "remove", "room": "interview-sdk", "identity": "user_b"})
    py_left = await python(livekit.url, "list_participants", api.ListParticipantsRequest(room="interview-sdk"))
    node_left = await asyncio.to_thread(ask, {"op": "participants", "room": "interview-sdk"})
    py_gone = await python(
        livekit.url, "remove_participant", api.RoomParticipantIdentity(room="interview-sdk", identity="user_a")
    )
    node_gone = await asyncio.to_thread(ask, {"op": "remove", "room": "interview-sdk", "identity": "user_b"})
    py_no_room = await python(livekit.url, "list_participants", api.ListParticipantsRequest(room="interview-none"))
    node_no_room = await asyncio.to_thread(ask, {"op": "participants", "room": "interview-none"})
    await python(livekit.url, "delete_room", api.DeleteRoomRequest(room="interview-other"))
    deleted_by_node = await asyncio.to_thread(ask, {"op": "delete", "room": "interview-other"})

    rooms = sorted((room.name, room.num_participants) for room in py_rooms.rooms)
    assert rooms == [("interview-other", 1), ("interview-sdk", 3)]
    assert sorted((room["name"], room["numParticipants"]) for room in node_rooms["rooms"]) == rooms
    assert sorted(p.identity for p in py_people.participants) == sorted(node_people["identities"])
    assert sorted(node_people["identities"]) == ["user_a", "user_b", "user_c"]
    assert isinstance(removed_by_python, api.RemoveParticipantResponse)
    assert removed_by_node == {}
    assert [p.identity for p in py_left.participants] == node_left["identities"] == ["user_c"]
    assert py_gone == {"error": "not_found"}
    assert node_gone["error"] == "not_found"
    assert py_no_room == {"error": "not_found"}
    assert node_no_room["error"] == "not_found"
    assert deleted_by_node["error"] == "not_found"  # Python deleted it first


async def test_every_webhook_the_stand_in_sends_passes_both_sdks_receivers(
    livekit: ServiceProcess, webhooks: Webhooks, node_sdk: Path
):
    async with httpx.AsyncClient(base_url=livekit.url, timeout=10) as http:
        control = LiveKitStandin(http)
        await control.join(participant_token("interview-hooks", "user_a"))
        await control.leave("interview-hooks", "user_a")
        await control.close("interview-hooks")

    async def all_four() -> bool:
        return len(webhooks.received) >= 4

    assert await eventually(all_four)
    receiver = api.WebhookReceiver(api.TokenVerifier(KEY, SECRET))
    seen_by_python = []
    seen_by_node = []
    for body, auth in webhooks.received:
        event = receiver.receive(body, auth)
        seen_by_python.append((event.event, event.room.name, event.participant.identity or None))
        answer = await asyncio.to_thread(node, node_sdk, {"op": "webhook", "body": body, "auth": auth})
        seen_by_node.append((answer.get("event"), answer.get("room"), answer.get("identity") or None))
    body, auth = webhooks.received[0]
    forged_body = body.replace("interview-hooks", "interview-hookz")
    forged = await asyncio.to_thread(node, node_sdk, {"op": "webhook", "body": forged_body, "auth": auth})

    assert [event for event, _, _ in seen_by_python] == [
        "room_started",
        "participant_joined",
        "participant_left",
        "room_finished",
    ]
    assert seen_by_node == seen_by_python
    assert "error" in forged  # the Node receiver does check the body's hash: the comparison above means something


async def test_livekit_api_s_own_egress_client_starts_lists_and_stops_an_egress_that_uploads_a_real_file(
    livekit: ServiceProcess, webhooks: Webhooks
):
    """livekit-api's `EgressService` vouches for the stand-in's Egress: a room composite (audio only, OGG, to the
    bucket its `S3Upload` names) starts, is listed while running, stops; the file lands in the bucket as real OGG, and
    the egress webhooks arrive signed as LiveKit signs them."""
    room = f"interview-{uuid.uuid4()}"
    async with httpx.AsyncClient(base_url=livekit.url) as control:
        (
            await control.post("/_standin/join", json={"token": participant_token(room, "user_egress")})
        ).raise_for_status()
    with object_store_on_loopback() as store:
        bucket = store.new_bucket()
        upload = api.S3Upload(
            endpoint=store.url, bucket=bucket, region="us-east-1", access_key="k", secret="s", force_path_style=True
        )
        output = api.EncodedFileOutput(
            file_type=api.EncodedFileType.OGG, filepath=f"recordings/x/{room}.ogg", disable_manifest=True, s3=upload
        )
        async with api.LiveKitAPI(livekit.url, KEY, SECRET) as client:
            started = await client.egress.start_room_composite_egress(
                api.RoomCompositeEgressRequest(room_name=room, audio_only=True, file_outputs=[output])
            )
            running = await client.egress.list_egress(api.ListEgressRequest(room_name=room, active=True))
            await client.egress.stop_egress(api.StopEgressRequest(egress_id=started.egress_id))

            async def ended() -> bool:
                listed = await client.egress.list_egress(api.ListEgressRequest(egress_id=started.egress_id))
                return listed.items[0].status == api.EgressStatus.EGRESS_COMPLETE

            assert await eventually(ended)
            [done] = (await client.egress.list_egress(api.ListEgressRequest(egress_id=started.egress_id))).items
        body = store.s3.get_object(Bucket=bucket, Key=f"recordings/x/{room}.ogg")["Body"].read()

    assert [item.egress_id for item in running.items] == [started.egress_id]
    assert body.startswith(b"OggS")
    assert done.file_results[0].size == len(body)
    assert done.file_results[0].duration >= 1_000_000_000  # nanoseconds
    receiver = api.WebhookReceiver(api.TokenVerifier(KEY, SECRET))

    async def egress_events() -> bool:
        kinds = [receiver.receive(body, auth).event for body, auth in webhooks.received]
        return {"egress_started", "egress_updated", "egress_ended"} <= set(kinds)

    assert await eventually(egress_events)
