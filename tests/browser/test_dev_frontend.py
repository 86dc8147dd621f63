"""A real browser (Debian's chromium, driven by Playwright) at the app's origin uses every /api route across
origins: the dev frontend signs a user up and in, starts an interview through livekit-client's own
`TokenSource`, joins, has the agent report, and reads it back; the `__session` cookie flow works too. The same
page served from another origin gets no CORS grant: its calls never reach the API."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from deploy.dev.stack import FRONTEND, ServiceProcess, free_port, frontend_environment
from deploy.dev.tools import debian_tool
from tests.support.credentials import ClerkKeyPair, secrets_for_tests
from tests.support.livekit import verify_livekit_token
from tests.support.postgres import PostgresForTests
from tests.support.rows import interview_rows
from tests.support.stack import Stack, running_stack


class Origins:
    """Where the page is served: `app` (localhost) is the origin sessions grants; `foreign` (127.0.0.1) is the
    same server, another origin to a browser."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.app = f"http://localhost:{port}"
        self.foreign = f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def origins() -> Origins:
    return Origins(free_port())


@pytest.fixture(scope="module")
def stack(
    origins: Origins,
    postgres: PostgresForTests,
    clerk_standin: ServiceProcess,
    svix_secret: str,
    clerk_keys: ClerkKeyPair,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    environment = {"CLERK_AUTHORIZED_PARTIES": origins.app}
    log_dir = tmp_path_factory.mktemp("browser")
    with running_stack(
        postgres, clerk_standin.url, svix_secret, clerk_keys, log_dir, "browser", sessions_environment=environment
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def frontend(
    origins: Origins,
    stack: Stack,
    clerk_standin: ServiceProcess,
    svix_secret: str,
    clerk_keys: ClerkKeyPair,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    assert stack.livekit is not None
    env = frontend_environment(
        secrets_for_tests(svix_secret, clerk_keys),
        origin=origins.app,
        sessions_url=stack.sessions.url,
        clerk_url=clerk_standin.url,
        livekit_standin_url=stack.livekit.url,
    )
    log = tmp_path_factory.mktemp("frontend") / "frontend.log"
    process = ServiceProcess(FRONTEND, env, log, port=origins.port, ready_path="/healthz")
    process.spawn().wait_ready(timeout=180)  # the first start installs livekit-client's browser build from npm
    yield process
    process.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = debian_tool("chromium", "chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
        )
        yield launched
        await launched.close()


async def open_page(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """The dev frontend at `url`, loaded; and the console errors it will log."""
    page = await browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    await page.goto(url)
    await page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    return page, errors


async def sign_up_and_in(page: Page, email: str) -> str:
    """A user signed up with their webhook lost (the product's reason to be), then signed in; their id."""
    await page.fill("#email", email)
    await page.click("button[data-webhook=lost]")
    button = page.locator(f"button[data-email='{email}']")
    await button.wait_for()
    user_id = await button.get_attribute("data-user")
    assert user_id is not None
    await button.click()
    await page.wait_for_selector("#start:not([disabled])")
    return user_id


async def interviews_of(stack: Stack, user_id: str) -> list[dict[str, Any]]:
    sql = "SELECT * FROM interviews WHERE clerk_id = $1"
    return await interview_rows(stack.database_urls["sessions"], sql, user_id)


async def started(page: Page) -> dict[str, Any]:
    await page.wait_for_function("window.devFrontend.started !== null", timeout=15_000)
    return dict(await page.evaluate("window.devFrontend.started"))


async def test_a_page_at_the_app_s_origin_starts_joins_and_reads_its_interview(
    origins: Origins, frontend: ServiceProcess, stack: Stack, browser: Browser
):
    page, errors = await open_page(browser, origins.app)
    user_id = await sign_up_and_in(page, "browser.candidate@example.com")

    await page.click("#start")
    first = await started(page)
    claims = verify_livekit_token(first["token"])
    await page.evaluate("window.devFrontend.started = null")
    await page.click("#start-cookie")
    by_cookie = await started(page)
    await page.click("#join")
    await page.wait_for_function("document.querySelector('#log').textContent.startsWith('joined')")
    await page.click("#agent")
    await page.wait_for_function("document.querySelector('#log').textContent.includes('report 200')")
    await page.click("#leave")
    await page.wait_for_function("document.querySelector('#log').textContent === 'left the room'")
    await page.click("#list")
    read = page.locator("button[data-interview]")
    await read.first.wait_for()
    await read.first.click()
    await page.wait_for_function("document.querySelector('#report').textContent.includes('transcript')")
    report = await page.text_content("#report")

    assert claims.identity == user_id
    assert claims.video is not None
    assert claims.video.room == first["room"]
    assert by_cookie["room"] == first["room"]  # the unused interview handed back, through the cookie this time
    assert report is not None
    assert '"status": "ended"' in report
    assert "candidate: I rebuilt our sign-up flow" in report
    assert '"recommendation": "advance"' in report
    assert errors == []
    rows = await interview_rows(
        stack.database_urls["sessions"], "SELECT * FROM interviews WHERE clerk_id = $1", user_id
    )
    assert len(rows) == 1


async def test_the_same_page_at_another_origin_gets_no_grant_and_reaches_nothing(
    origins: Origins, frontend: ServiceProcess, stack: Stack, browser: Browser
):
    page, errors = await open_page(browser, origins.foreign)
    user_id = await sign_up_and_in(page, "foreign.page@example.com")

    await page.click("#start")
    await page.wait_for_function("document.querySelector('#log').textContent !== ''")
    shown = await page.text_content("#log")

    assert shown is not None
    assert "Failed to fetch" in shown
    assert any("blocked by CORS policy" in error for error in errors), errors
    rows = await interview_rows(
        stack.database_urls["sessions"], "SELECT * FROM interviews WHERE clerk_id = $1", user_id
    )
    assert rows == []
