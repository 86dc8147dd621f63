"""The pure logic, without a database or a process: runs in well under a second."""

import base64
import io
import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import msgspec
import pytest
from livekit.api import AccessToken, RoomAgentDispatch, RoomConfiguration, TokenVerifier, VideoGrants

from libs.common.clerk_ids import is_clerk_user_id
from libs.common.errors import InvalidCursor
from libs.common.log import JsonLinesHandler
from libs.common.outage import Outage
from libs.common.paging import decode_keyset, encode_keyset
from libs.common.remembered import Remembered
from libs.common.settings import SettingsError
from services.identity import store
from services.identity.clerk_payloads import ClerkUser, decode
from services.identity.pending_profiles import RecentAsks
from services.identity.profiles import User
from services.identity.settings import load_identity_settings
from services.identity.tables import Users
from services.sessions.errors import InvalidParticipantField, InvalidRoomConfig
from services.sessions.interviews.participant_fields import check_attributes, check_metadata, check_name
from services.sessions.interviews.participant_tokens import ParticipantTokens
from services.sessions.interviews.room_policy import (
    CLIENT_AGENT_FIELDS,
    AgentChoice,
    requested_agent,
    room_configuration,
)
from services.sessions.rooms.names import is_interview_room, room_name_for
from tests.support.hostile import nested


def test_a_cursor_decodes_to_the_position_it_was_made_from():
    created_at, row_id = datetime(2026, 11, 25, 3, 50, 1, 123456, tzinfo=UTC), uuid.uuid4()

    assert decode_keyset(encode_keyset(created_at, row_id)) == (created_at, row_id)


SOME_ID = "7f9c6a2e-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "2026-01-01T00:00:00+00:00",  # no id
        "2026-01-01T00:00:00+00:00|not-a-uuid",
        f"2026-01-01T00:00:00+01:00|{SOME_ID}",  # ours are UTC
        f"2026-01-01T00:00:00|{SOME_ID}",  # no offset
        f"9999-12-31T23:59:59-23:59|{SOME_ID}",  # past year 9999 in UTC
    ],
)
def test_cursors_that_are_not_ours_are_refused(raw: str):
    with pytest.raises(InvalidCursor):
        decode_keyset(base64.urlsafe_b64encode(raw.encode()).decode())


ALLOWED_AGENTS = frozenset({"interviewer", "coach"})
# One value for every RoomConfiguration field a client may not set, as protobuf JSON.
SERVER_ROOM_FIELDS = {
    "name": "room-of-my-choosing",
    "empty_timeout": 86400,
    "departure_timeout": 86400,
    "max_participants": 50,
    "metadata": "{}",
    "egress": {"room": {"room_name": "x"}},
    "min_playout_delay": 1,
    "max_playout_delay": 1000,
    "sync_streams": True,
    "tags": {"team": "x"},
}
SERVER_AGENT_FIELDS = {
    "restart_policy": "JRP_NEVER",
    "deployment": "staging",
    "attributes": {"role": "admin"},
}


def test_every_room_configuration_field_is_either_the_client_s_or_refused():
    """A newer livekit-api with a new field fails here, so each field is decided on, never passed through."""
    client_fields = {"agents"}
    assert {f.name for f in RoomConfiguration.DESCRIPTOR.fields} == client_fields | SERVER_ROOM_FIELDS.keys()
    agent_fields = {f.name for f in RoomAgentDispatch.DESCRIPTOR.fields}
    assert agent_fields == CLIENT_AGENT_FIELDS | SERVER_AGENT_FIELDS.keys()


@pytest.mark.parametrize("field", sorted(SERVER_ROOM_FIELDS))
def test_a_room_field_the_server_sets_is_refused_by_name(field: str):
    with pytest.raises(InvalidRoomConfig, match=rf"room_config\.{field} "):
        requested_agent({field: SERVER_ROOM_FIELDS[field]}, ALLOWED_AGENTS, "interviewer")


@pytest.mark.parametrize("field", sorted(SERVER_AGENT_FIELDS))
def test_an_agent_field_the_server_sets_is_refused_by_name(field: str):
    agents = [{"agent_name": "coach", field: SERVER_AGENT_FIELDS[field]}]
    with pytest.raises(InvalidRoomConfig, match=rf"room_config\.agents\[0\]\.{field} "):
        requested_agent({"agents": agents}, ALLOWED_AGENTS, "interviewer")


def test_the_client_may_choose_an_allowed_agent_and_its_metadata():
    assert requested_agent(None, ALLOWED_AGENTS, "interviewer") == AgentChoice("interviewer")
    assert requested_agent(None, frozenset(), "") is None
    chosen = requested_agent({"agents": [{"agentName": "coach", "metadata": "level=senior"}]}, ALLOWED_AGENTS, "")
    assert chosen == AgentChoice("coach", "level=senior")
    # fields of newer LiveKit SDKs are ignored, at the top and inside an agent
    newer = {"agents": [{"agent_name": "coach", "fromTheFuture": 1}], "fromTheFuture": {"a": 1}}
    assert requested_agent(newer, ALLOWED_AGENTS, "") == AgentChoice("coach")


@pytest.mark.parametrize(
    "room_config",
    [
        {"agents": [{"agent_name": "somebody-else"}]},
        {"agents": [{"agent_name": "coach"}, {"agent_name": "interviewer"}]},
        {"agents": [{"agent_name": "coach", "metadata": "x" * 4097}]},
        {"agents": "not a list"},
    ],
)
def test_agents_beyond_the_policy_are_refused(room_config: dict[str, object]):
    with pytest.raises(InvalidRoomConfig):
        requested_agent(room_config, ALLOWED_AGENTS, "interviewer")


def test_the_server_tells_the_agent_which_interview_it_serves_and_fits_the_room_to_one_candidate():
    interview_id = uuid.uuid4()
    config = room_configuration(AgentChoice("coach", "level=senior"), interview_id, "user_2abc")
    (dispatch,) = config.agents
    assert dispatch.agent_name == "coach"
    context = {"interview_id": str(interview_id), "clerk_id": "user_2abc", "metadata": "level=senior"}
    assert json.loads(dispatch.metadata) == context
    assert (config.max_participants, config.empty_timeout, config.departure_timeout) == (3, 300, 60)
    alone = room_configuration(None, interview_id, "user_2abc")
    assert (list(alone.agents), alone.max_participants) == ([], 2)


@pytest.mark.parametrize(
    "optional",
    [{}, {"metadata": "level=senior", "attributes": {"lang": "en", "tz": "UTC"}}],
)
def test_a_participant_token_joins_its_room_only_and_dispatches_the_agent(optional: dict[str, Any]):
    room_config = room_configuration(AgentChoice("coach"), uuid.uuid4(), "user_2abc")
    tokens = ParticipantTokens("APIkey", "s" * 40, 900)
    before = int(time.time())

    token = tokens.mint(identity="user_2abc", name="Ada L.", room="interview-x", room_config=room_config, **optional)

    claims = TokenVerifier("APIkey", "s" * 40).verify(token)
    grants = claims.video
    assert grants is not None
    assert (grants.room_join, grants.room) == (True, "interview-x")
    assert [grants.room_admin, grants.room_create, grants.room_list, grants.room_record] == [None] * 4
    assert (grants.can_publish, grants.can_subscribe, grants.can_publish_data) == (True, True, True)
    assert (claims.identity, claims.name, claims.room_config) == ("user_2abc", "Ada L.", room_config)
    assert (claims.metadata or None) == optional.get("metadata")
    assert (claims.attributes or None) == optional.get("attributes")
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert before + 900 <= exp <= tokens.expiry(int(time.time())).timestamp()


def test_an_interview_records_its_tokens_expiry_rounded_up_to_a_whole_reuse_window():
    tokens = ParticipantTokens("APIkey", "s" * 40, 900)
    window = 1_800_000_000 - 1_800_000_000 % 30  # a multiple of the 30 s window
    recorded = {tokens.expiry(issued).timestamp() for issued in range(window - 900 - 29, window - 900 + 1)}
    assert recorded == {window}  # the starts of one window record one expiry, the last one's own `exp`
    assert tokens.expiry(window - 900 + 1).timestamp() == window + 30
    issued = window - 900 - 1  # a start mints its token from the second whose expiry it recorded
    token = tokens.mint(identity="u", name="U", room="interview-x", room_config=RoomConfiguration(), issued_at=issued)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["nbf"], claims["exp"]) == (issued, window - 1)
    assert claims["exp"] <= tokens.expiry(issued).timestamp()


@pytest.mark.parametrize("optional", [{}, {"metadata": "m", "attributes": {"lang": "en"}}])
@pytest.mark.parametrize("agent", [None, AgentChoice("coach", "level=senior")])
def test_a_participant_token_carries_exactly_the_claims_livekit_api_writes(
    optional: dict[str, Any], agent: AgentChoice | None
):
    room_config = room_configuration(agent, uuid.uuid4(), "user_2abc")
    ours = ParticipantTokens("APIkey", "s" * 40, 900).mint(
        identity="user_2abc", name="Ada L.", room="interview-x", room_config=room_config, **optional
    )
    grants = VideoGrants(
        room_join=True, room="interview-x", can_publish=True, can_subscribe=True, can_publish_data=True
    )
    theirs = AccessToken("APIkey", "s" * 40).with_identity("user_2abc").with_name("Ada L.").with_grants(grants)
    theirs = theirs.with_ttl(timedelta(seconds=900)).with_room_config(room_config)
    if optional:
        theirs = theirs.with_metadata(optional["metadata"]).with_attributes(optional["attributes"])

    def claims(token: str) -> dict[str, Any]:
        return {
            k: v for k, v in jwt.decode(token, options={"verify_signature": False}).items() if k not in {"nbf", "exp"}
        }

    assert claims(ours) == claims(theirs.to_jwt())
    assert jwt.get_unverified_header(ours) == jwt.get_unverified_header(theirs.to_jwt())


def test_the_same_claims_soon_after_get_the_token_minted_for_them_and_anything_else_a_new_one():
    issued = 1_800_000_000
    tokens = ParticipantTokens("APIkey", "s" * 40, 900)
    assert tokens.reuse_seconds == 30
    room_config = room_configuration(AgentChoice("coach"), uuid.uuid4(), "user_2abc")
    asked: dict[str, Any] = {
        "identity": "user_2abc",
        "name": "Ada L.",
        "room": "interview-x",
        "room_config": room_config,
    }
    first = tokens.mint(**asked, issued_at=issued)

    assert tokens.mint(**asked, issued_at=issued + 29) == first
    others = [
        {**asked, "name": "Ada Lovelace"},
        {**asked, "room": "interview-y"},
        {**asked, "metadata": "level=senior"},
        {**asked, "attributes": {"lang": "en"}},
        {**asked, "room_config": room_configuration(AgentChoice("coach", "level=senior"), uuid.uuid4(), "user_2abc")},
    ]
    assert len({first, *(tokens.mint(**other, issued_at=issued + 29) for other in others)}) == 1 + len(others)

    renewed = tokens.mint(**asked, issued_at=issued + 30)  # 30 s after the first: its life is no longer nearly whole
    assert renewed != first
    assert jwt.decode(renewed, options={"verify_signature": False})["exp"] == issued + 30 + 900


def test_the_tokens_kept_for_reuse_are_bounded():
    tokens = ParticipantTokens("APIkey", "s" * 40, 900)
    tokens._minted.limit = 20
    room_config = room_configuration(None, uuid.uuid4(), "user_2abc")
    minted = {
        tokens.mint(identity="user_2abc", name="A", room=f"interview-{n}", room_config=room_config) for n in range(50)
    }
    assert len(minted) == 50
    assert len(tokens._minted) <= 20


def test_remembered_forgets_the_oldest_written_first_and_never_holds_more_than_its_limit():
    remembered: Remembered[int, str] = Remembered(10)
    for n in range(25):
        remembered.put(n, str(n))
        assert len(remembered) <= 10
    assert remembered.get(24) == "24"
    assert remembered.get(0) is None
    held = len(remembered)
    remembered.put(24, "again")  # a key already held is rewritten, nothing forgotten for it
    assert (remembered.get(24), len(remembered)) == ("again", held)
    remembered.forget(24)
    assert remembered.get(24) is None


def test_a_pending_user_is_asked_about_at_most_once_a_window_and_the_asks_remembered_stay_bounded():
    asks = RecentAsks(retry_seconds=10, limit=3)
    assert [asks.may_ask(user, now=100.0) for user in ("a", "b", "c")] == [True, True, True]
    assert not asks.may_ask("a", now=109.9)  # within its window
    assert not asks.may_ask("d", now=105.0)  # three asked within the window: no room, and no ask
    assert len(asks) == 3
    assert asks.may_ask("d", now=110.0)  # the first three's windows are over: forgotten, room again
    assert len(asks) == 1
    assert (asks.may_ask("a", now=110.0), asks.may_ask("d", now=115.0)) == (True, False)
    for n in range(1_000):  # many users, each asked once, never more remembered than the limit
        asks.may_ask(f"user_{n}", now=200.0 + n)
        assert len(asks) <= 3


def clerk_user(**changes: object) -> bytes:
    user = {"id": "user_2abc", "created_at": 1_700_000_000_000, "updated_at": 1_700_000_001_000}
    user |= {"primary_email_address_id": "idn_2", "email_addresses": [{"id": "idn_1", "email_address": "old@x.io"}]}
    user["email_addresses"].append({"id": "idn_2", "email_address": "primary@x.io"})  # type: ignore[attr-defined]
    return msgspec.json.encode(user | changes)


def test_a_clerk_user_becomes_a_profile_with_the_email_its_primary_id_names():
    profile = decode(msgspec.json.Decoder(ClerkUser), clerk_user()).to_profile()

    assert (profile.clerk_id, profile.email) == ("user_2abc", "primary@x.io")
    assert profile.clerk_updated_at == datetime(2023, 11, 14, 22, 13, 21, tzinfo=UTC)


def test_a_clerk_user_with_metadata_nested_beyond_any_decoder_is_still_read():
    body = clerk_user()[:-1] + b',"unsafe_metadata":' + nested(100_000).encode() + b',"name":"[{"}'

    assert decode(msgspec.json.Decoder(ClerkUser), body).id == "user_2abc"


@pytest.mark.parametrize(
    "changes", [{"updated_at": 10**18}, {"created_at": -1}, {"first_name": "a\x00b"}, {"id": "user_2abc\n"}]
)
def test_clerk_values_out_of_range_are_refused_when_read(changes: dict[str, object]):
    with pytest.raises(msgspec.ValidationError):
        decode(msgspec.json.Decoder(ClerkUser), clerk_user(**changes))


@pytest.mark.parametrize(
    ("value", "valid"),
    [("user_2abc", True), ("user_", False), ("user_abc\n", False), ("user_a\x00b", False), (42, False)],
)
def test_clerk_user_ids_match_in_full(value: object, valid: bool):
    assert is_clerk_user_id(value) is valid


def test_interview_rooms_are_fresh_per_interview_and_recognisable():
    interview_id = uuid.uuid4()

    assert is_interview_room(room_name_for(interview_id))
    assert not is_interview_room(room_name_for(interview_id) + "\n")
    assert not is_interview_room("someone-elses-room")


def test_participant_bounds_count_utf8_bytes_and_refuse_controls():
    check_name("participant_name", "Zoë 🎙")
    check_metadata("participant_metadata", "é" * 2048)
    check_attributes("participant_attributes", {f"k{n}": "v" for n in range(32)})
    for bad in (lambda: check_metadata("m", "é" * 2049), lambda: check_name("n", "a\u202eb")):
        with pytest.raises(InvalidParticipantField):
            bad()


def test_settings_name_every_missing_or_malformed_variable_and_never_its_value():
    with pytest.raises(SettingsError) as refused:
        load_identity_settings({"INTERNAL_API_TOKENS": "short", "CLERK_SECRET_KEY": "not-a-key-at-all"})

    message = str(refused.value)
    for name in ("DATABASE_URL", "INTERNAL_API_TOKENS", "CLERK_WEBHOOK_SIGNING_SECRET", "CLERK_SECRET_KEY"):
        assert name in message
    assert "not-a-key-at-all" not in message


def test_a_user_row_is_described_once_and_the_piccolo_table_agrees():
    table_columns = [column._meta.db_column_name for column in Users._meta.columns]

    assert list(User.__struct_fields__) == table_columns
    assert store.USER_COLUMNS.split(", ") == table_columns


def test_info_lines_wait_for_their_batch_and_a_warning_writes_everything_before_it_in_order():
    stream = io.BytesIO()
    handler = JsonLinesHandler(stream, "svc")
    logger = logging.getLogger("tests.batching")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        handler.batching = True
        logger.warning("first")
        logger.info("second")
        logger.info("third")
        assert [json.loads(line)["msg"] for line in stream.getvalue().splitlines()] == ["first"]
        logger.error("fourth")
        assert [json.loads(line)["msg"] for line in stream.getvalue().splitlines()] == [
            "first",
            "second",
            "third",
            "fourth",
        ]
        logger.info("fifth")
        handler.flush()
        handler.batching = False
        logger.info("sixth")  # not batching: at once
        assert [json.loads(line)["msg"] for line in stream.getvalue().splitlines()][-2:] == ["fifth", "sixth"]
    finally:
        logger.removeHandler(handler)


def test_an_outage_is_told_after_a_few_failures_then_once_a_minute_and_when_it_ends(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    now = [1000.0]
    monkeypatch.setattr("libs.common.outage.time.monotonic", lambda: now[0])
    logger = logging.getLogger("tests.outage")
    outage = Outage(logger, "identity's feed", quiet_failures=3, repeat_seconds=60)

    with caplog.at_level(logging.INFO, logger=logger.name):
        for _ in range(2):  # identity still starting, or a blip
            outage.failed("unreachable")
        assert caplog.records == []
        outage.failed("unreachable")
        now[0] += 59
        outage.failed("unreachable")
        now[0] += 1
        outage.failed("unreachable")
        now[0] += 10
        outage.succeeded()
        outage.succeeded()  # told once

    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "identity's feed unavailable: unreachable (3 failures in a row)"),
        ("WARNING", "identity's feed unavailable: unreachable (5 failures in a row)"),
        ("WARNING", "identity's feed reachable again after 70.0 s (5 failures)"),
    ]
