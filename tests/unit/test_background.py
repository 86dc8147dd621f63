"""The one runner of every periodic task: a round that fails, whatever the error, is logged, counted and followed
by another; an unreachable dependency is told as an outage, not a traceback a round."""

import asyncio
import logging

import pytest
from prometheus_client import REGISTRY

from libs.common.background import Periodic, periodic


class Unreachable(Exception):
    pass


def failures(task: str) -> float:
    return REGISTRY.get_sample_value("unit_background_failures_total", {"task": task}) or 0.0


async def test_a_round_that_raises_anything_is_logged_counted_and_followed_by_another(
    caplog: pytest.LogCaptureFixture,
):
    outcomes: list[BaseException | None] = [RuntimeError("a bug"), Unreachable("down"), Unreachable("down"), None]
    ran = asyncio.Event()
    rounds = 0

    async def one_round() -> None:
        nonlocal rounds
        rounds += 1
        outcome = outcomes.pop(0) if outcomes else None
        if outcome is not None:
            raise outcome
        ran.set()

    before = failures("flaky")
    task = Periodic(name="flaky", run_round=one_round, every_seconds=0.01, outages=(Unreachable,))
    with caplog.at_level(logging.INFO, logger="libs.common.background"):
        async with periodic("unit", task):
            await asyncio.wait_for(ran.wait(), 5)

    assert rounds == 4
    assert failures("flaky") - before == 3
    bug = [record for record in caplog.records if "a round failed" in record.getMessage()]
    assert len(bug) == 1
    assert bug[0].exc_info is not None
    told = [record.getMessage() for record in caplog.records if "unavailable" in record.getMessage()]
    assert told == ["flaky: a dependency unavailable: down (1 failures in a row)"]


async def test_wake_starts_the_next_round_at_once():
    ran = asyncio.Event()
    rounds = 0

    async def one_round() -> None:
        nonlocal rounds
        rounds += 1
        if rounds == 2:
            ran.set()

    async with periodic("unit", Periodic(name="sleepy", run_round=one_round, every_seconds=3600)) as runner:
        await asyncio.sleep(0.05)
        runner.wake()
        await asyncio.wait_for(ran.wait(), 5)

    assert rounds == 2
