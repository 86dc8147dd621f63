"""A real browser (Debian's chromium, driven by Playwright) at the app's origin uses every /api route across
origins: the dev frontend signs a user up and in, starts an interview through livekit-client's own
`TokenSource` (`custom` with a session token refreshed after it ran out, and `endpoint`) or the `__session`
cookie, joins, has the agent report, and reads it back; the seed's three scenarios work from the page. The same
page served from another origin gets no CORS grant: its calls never reach the API."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from deploy.dev.stack import FRONTEND, ServiceProcess, Stack, free_port, frontend_environment
from deploy.dev.tools import debian_tool
from tests.support.credentials import TEST_ENVIRONMENT, ClerkKeyPair, secrets_for_tests
from tests.support.livekit import verify_livekit_token
from tests.support.postgres import PostgresForTests
from tests.support.rows import interview_rows, rows
from tests.support.waiting import eventually


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
    origins: Origins, postgres: PostgresForTests, svix_secret: str, clerk_keys: ClerkKeyPair, tmp_path_factory: Any
) -> Iterator[Stack]:
    """The whole system, with its own Clerk stand-in delivering webhooks to identity (the seed's scenarios)."""
    databases = {}
    for service in ("identity", "sessions"):
        postgres.execute(f"DROP DATABASE IF EXISTS browser_{service} WITH (FORCE)")
        databases[service] = postgres.migrated_database(f"browser_{service}", service)
    sessions = {
        **TEST_ENVIRONMENT["sessions"],
        "CLERK_AUTHORIZED_PARTIES": origins.app,
        "INVITE_URL_TEMPLATE": f"{origins.app}/invite/{{code}}",
    }
    with Stack(
        secrets_for_tests(svix_secret, clerk_keys),
        databases,
        environment={**TEST_ENVIRONMENT, "sessions": sessions},
        log_dir=tmp_path_factory.mktemp("browser"),
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def frontend(
    origins: Origins,
    stack: Stack,
    svix_secret: str,
    clerk_keys: ClerkKeyPair,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    assert stack.livekit is not None
    env = frontend_environment(
        secrets_for_tests(svix_secret, clerk_keys),
        origin=origins.app,
        sessions_url=stack.sessions.url,
        clerk_url=stack.clerk_url,
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


async def sign_up_and_in(page: Page, email: str, webhook: str = "lost") -> str:
    """A user signed up with their webhook delivered, held back (then delivered) or lost, then signed in; their
    id."""
    await page.fill("#email", email)
    await page.click(f"button[data-webhook={webhook}]")
    button = page.locator(f"button[data-email='{email}']")
    await button.wait_for()
    if webhook == "held":
        await page.click("#deliver")
        await page.wait_for_function("document.querySelector('#signup-result').textContent.includes('delivered (')")
    user_id = await button.get_attribute("data-user")
    assert user_id is not None
    await button.click()
    await page.wait_for_selector("#start:not([disabled])")
    return user_id


async def interviews_of(stack: Stack, user_id: str) -> list[dict[str, Any]]:
    sql = "SELECT * FROM interviews WHERE clerk_id = $1"
    return await interview_rows(stack.database_urls["sessions"], sql, user_id)


async def start(page: Page, button: str) -> dict[str, Any]:
    """Click a start button; what the page then knows of the interview (room, identity, name, token)."""
    await page.evaluate("window.devFrontend.started = null")
    await page.click(button)
    await page.wait_for_function("window.devFrontend.started !== null", timeout=15_000)
    return dict(await page.evaluate("window.devFrontend.started"))


async def log_says(page: Page, text: str) -> None:
    await page.wait_for_function(f"document.querySelector('#log').textContent.includes({text!r})")


@pytest.mark.parametrize("webhook", ["delivered", "held", "lost"])
async def test_each_seed_scenario_starts_an_interview_from_the_page(
    origins: Origins, frontend: ServiceProcess, stack: Stack, browser: Browser, webhook: str
):
    page, errors = await open_page(browser, origins.app)
    user_id = await sign_up_and_in(page, f"scenario.{webhook}@example.com", webhook)

    started = await start(page, "#start")

    claims = verify_livekit_token(started["token"])
    assert (claims.identity, claims.name) == (user_id, f"scenario.{webhook}")  # the first name it signed up with
    assert len(await interviews_of(stack, user_id)) == 1
    assert errors == []


async def test_a_page_at_the_app_s_origin_gets_tokens_every_way_and_reads_its_interview(
    origins: Origins, frontend: ServiceProcess, stack: Stack, browser: Browser, tmp_path: Path
):
    page, errors = await open_page(browser, origins.app)
    user_id = await sign_up_and_in(page, "browser.candidate@example.com")

    by_custom = await start(page, "#start")
    claims = verify_livekit_token(by_custom["token"])
    stale = await page.evaluate("window.devFrontend.token")
    await page.evaluate("window.devFrontend.tokenAt = Date.now() - 61_000")  # the session token ran out
    refreshed = await start(page, "#start")
    fresh = await page.evaluate("window.devFrontend.token")
    by_endpoint = await start(page, "#start-endpoint")
    by_cookie = await start(page, "#start-cookie")
    dispatch = await page.text_content("#token")
    await page.click("#join")
    await log_says(page, "joined")
    await page.click("#agent")
    await log_says(page, "report 200")
    await page.click("#leave")
    await log_says(page, "left the room")
    await page.select_option("#status-filter", "ended")
    await page.click("#list")
    read = page.locator("button[data-interview]")
    await read.first.wait_for()
    listed = await page.text_content("#interviews")
    await read.first.click()
    await page.wait_for_function("document.querySelector('#report').textContent.includes('transcript')")
    report = await page.text_content("#report")
    screenshot = tmp_path / "dev-frontend.png"
    await page.screenshot(path=str(screenshot), full_page=True)
    print(f"\nthe dev frontend after an interview's life: {screenshot}")

    assert (claims.identity, claims.video.room if claims.video else None) == (user_id, by_custom["room"])
    assert fresh != stale  # a new session token after the old one expired, and the start went through
    rooms = {by_custom["room"], refreshed["room"], by_endpoint["room"], by_cookie["room"]}
    assert len(rooms) == 1  # one unused interview, handed back to every way of asking
    assert dispatch is not None
    assert '"agent": "interviewer"' in dispatch
    assert f'"clerk_id": "{user_id}"' in dispatch  # the dispatch metadata, as the agent will read it
    assert listed is not None
    assert "ended" in listed
    assert "report" in listed
    assert report is not None
    assert '"status": "ended"' in report
    assert "candidate: I rebuilt our sign-up flow" in report
    assert '"recommendation": "advance"' in report
    assert errors == []
    assert len(await interviews_of(stack, user_id)) == 1


async def test_the_same_page_at_another_origin_gets_no_grant_and_reaches_nothing(
    origins: Origins, frontend: ServiceProcess, stack: Stack, browser: Browser
):
    page, errors = await open_page(browser, origins.foreign)
    user_id = await sign_up_and_in(page, "foreign.page@example.com")

    await page.click("#start")
    await log_says(page, "Failed to fetch")
    await page.evaluate("document.querySelector('#log').textContent = ''")
    await page.click("#list")
    await log_says(page, "Failed to fetch")

    assert await page.evaluate("window.devFrontend.started") is None
    assert await page.text_content("#interviews") == ""
    assert sum("blocked by CORS policy" in error for error in errors) >= 2, errors
    assert await interviews_of(stack, user_id) == []


async def test_a_recruiter_invites_a_candidate_who_interviews_and_the_recruiter_reviews_it(
    origins: Origins, frontend: ServiceProcess, stack: Stack, browser: Browser, tmp_path: Path
):
    """The whole organization path in two browsers: a recruiter makes an organization, writes a template and
    invites by link; the candidate opens the link in a browser of their own, redeems it (their name is rendered as
    text, not markup), joins, the agent reads its brief and reports; the recruiter reviews it."""
    recruiter_page, recruiter_errors = await open_page(browser, origins.app)
    recruiter_id = await sign_up_and_in(recruiter_page, "rita.recruiter@example.com", "delivered")
    await recruiter_page.fill("#org-name", "Acme Hiring")
    await recruiter_page.click("#new-org")
    await log_says(recruiter_page, "organization Acme Hiring made")
    await recruiter_page.click(f"button[data-user='{recruiter_id}'][data-org-name='Acme Hiring']")
    await recruiter_page.wait_for_selector("#recruiter:not([hidden])")
    await recruiter_page.fill("#template-title", "Staff engineer <b>loop</b>")
    await recruiter_page.click("#save-template")
    await log_says(recruiter_page, "written (version 1)")
    await recruiter_page.click("button[data-invite-template]")
    await recruiter_page.wait_for_function("document.querySelector('#invite-url').textContent.includes('/invite/')")
    invite_url = await recruiter_page.text_content("#invite-url")
    assert invite_url is not None
    assert invite_url.startswith(f"{origins.app}/invite/")

    candidate_context = await browser.new_context()
    candidate_page = await candidate_context.new_page()
    candidate_errors: list[str] = []
    candidate_page.on("console", lambda m: candidate_errors.append(m.text) if m.type == "error" else None)
    await candidate_page.goto(invite_url)
    await candidate_page.wait_for_selector("body[data-ready=true]")
    assert await candidate_page.is_visible("#invited")
    await candidate_page.fill("#first-name", '<img src=x onerror="window.pwned=1">')
    candidate_id = await sign_up_and_in(candidate_page, "casey.candidate@example.com", "delivered")
    await candidate_page.click("#redeem")
    await candidate_page.wait_for_selector("#consent:not([hidden])")
    notice = await candidate_page.text_content("#notice-text")
    await candidate_page.check("#consent-ai")
    started = await start(candidate_page, "#consent-yes")
    await candidate_page.click("#join")
    await log_says(candidate_page, "joined")
    await candidate_page.click("#agent")
    await log_says(candidate_page, 'the agent read the brief of "Staff engineer <b>loop</b>"')
    await log_says(candidate_page, "report 200")

    await recruiter_page.click("#org-list")
    review = recruiter_page.locator("button[data-org-interview]")
    await review.first.wait_for()
    listed = await recruiter_page.text_content("#org-interviews")
    await review.first.click()
    await recruiter_page.wait_for_function("document.querySelector('#org-report').textContent.includes('transcript')")
    reviewed = await recruiter_page.text_content("#org-report")
    await recruiter_page.screenshot(path=str(tmp_path / "recruiter.png"), full_page=True)
    print(f"\nthe recruiter's review: {tmp_path / 'recruiter.png'}")

    assert notice is not None
    assert "a person" in notice  # the service's default notice: the report is the AI's, a person decides
    claims = verify_livekit_token(started["token"])
    assert (claims.identity, claims.name) == (candidate_id, '<img src=x onerror="window.pwned=1">')
    assert await candidate_page.evaluate("window.pwned") is None
    assert listed is not None
    assert "casey.candidate@example.com" in listed
    assert '<img src=x onerror="window.pwned=1">' in listed  # shown as the text it is
    assert await recruiter_page.evaluate("window.pwned") is None
    assert reviewed is not None
    assert "Tell me about a system you built." in reviewed  # the agent asked the template's first question
    assert '"recommendation": "advance"' in reviewed
    [interview] = await interviews_of(stack, candidate_id)
    assert interview["org_id"] is not None
    assert recruiter_errors == candidate_errors == []
    await candidate_context.close()


async def test_a_consenting_candidate_s_recording_plays_for_the_recruiter_and_a_declining_one_is_never_recorded(
    origins: Origins, frontend: ServiceProcess, stack: Stack, browser: Browser
):
    """The recruiter writes a template that records; one candidate reads its notice and consents to the AI and the
    recording, joins and leaves; the recruiter's review plays the recording in an <audio> element, which loads and
    has a duration. Another candidate declines: no interview, no recording, the invite shows declined."""
    recruiter_page, recruiter_errors = await open_page(browser, origins.app)
    recruiter_id = await sign_up_and_in(recruiter_page, "rhea.recruiter@example.com", "delivered")
    await recruiter_page.fill("#org-name", "Initech Hiring")
    await recruiter_page.click("#new-org")
    await log_says(recruiter_page, "organization Initech Hiring made")
    await recruiter_page.click(f"button[data-user='{recruiter_id}'][data-org-name='Initech Hiring']")
    await recruiter_page.wait_for_selector("#recruiter:not([hidden])")
    await recruiter_page.fill("#template-title", "Recorded round")
    await recruiter_page.check("#template-recording")
    await recruiter_page.click("#save-template")
    await log_says(recruiter_page, "written (version 1)")
    invite_urls = []
    for _ in range(2):
        await recruiter_page.evaluate("document.querySelector('#invite-url').textContent = ''")
        await recruiter_page.click("button[data-invite-template]")
        await recruiter_page.wait_for_function("document.querySelector('#invite-url').textContent.includes('/invite/')")
        invite_urls.append(await recruiter_page.text_content("#invite-url"))

    async def candidate_at(url: str | None, email: str) -> tuple[Any, Page, str]:
        context = await browser.new_context()
        page = await context.new_page()
        assert url is not None
        await page.goto(url)
        await page.wait_for_selector("body[data-ready=true]")
        user_id = await sign_up_and_in(page, email, "delivered")
        await page.click("#redeem")
        await page.wait_for_selector("#consent:not([hidden])")
        return context, page, user_id

    consenting_context, consenting, consenting_id = await candidate_at(invite_urls[0], "cora@example.com")
    recording_offered = await consenting.is_visible("#consent-recording-label")
    await consenting.check("#consent-ai")
    await consenting.check("#consent-recording")
    await start(consenting, "#consent-yes")
    await consenting.click("#join")
    await log_says(consenting, "joined")
    sessions_db = stack.database_urls["sessions"]

    async def recording_is(status: str) -> bool:
        found = await rows(
            sessions_db,
            "SELECT r.status FROM recordings r JOIN interviews i ON i.id = r.interview_id WHERE i.clerk_id = $1",
            consenting_id,
        )
        return [row["status"] for row in found] == [status]

    assert await eventually(lambda: recording_is("active"), within=15)
    await consenting.click("#leave")
    assert await eventually(lambda: recording_is("complete"), within=15)

    declining_context, declining, declining_id = await candidate_at(invite_urls[1], "dale@example.com")
    await declining.click("#consent-no")
    await log_says(declining, "declined")

    await recruiter_page.click("#org-list")
    review = recruiter_page.locator("button[data-org-interview]")
    await review.first.wait_for()
    await review.first.click()
    await recruiter_page.wait_for_function(
        "(() => { const a = document.querySelector('#org-recording');"
        " return !a.hidden && a.readyState >= 1 && a.duration > 0; })()",
        timeout=15_000,
    )
    duration = await recruiter_page.evaluate("document.querySelector('#org-recording').duration")

    assert recording_offered
    assert duration >= 1
    assert await interviews_of(stack, declining_id) == []
    assert (
        await rows(
            sessions_db,
            "SELECT 1 FROM recordings r JOIN interviews i ON i.id = r.interview_id WHERE i.clerk_id = $1",
            declining_id,
        )
        == []
    )
    states = await rows(
        sessions_db, "SELECT count(*) AS n FROM consents WHERE clerk_id = $1 AND NOT given", declining_id
    )
    assert states[0]["n"] == 1
    assert recruiter_errors == []
    await consenting_context.close()
    await declining_context.close()


async def test_the_candidate_exports_and_deletes_and_the_recruiter_decides_sets_retention_and_reads_the_log(
    origins: Origins, frontend: ServiceProcess, stack: Stack, browser: Browser
):
    """The rights in two browsers: the recruiter reviews (which reads the transcript) and records a decision, sets
    the organization's retention and reads its access log; the candidate sees who read it (by role), downloads
    their data, and deletes the interview, which the recruiter then sees as a tombstone."""
    recruiter_page, recruiter_errors = await open_page(browser, origins.app)
    recruiter_id = await sign_up_and_in(recruiter_page, "ruth.recruiter@example.com", "delivered")
    await recruiter_page.fill("#org-name", "Umbrella Hiring")
    await recruiter_page.click("#new-org")
    await log_says(recruiter_page, "organization Umbrella Hiring made")
    await recruiter_page.click(f"button[data-user='{recruiter_id}'][data-org-name='Umbrella Hiring']")
    await recruiter_page.wait_for_selector("#recruiter:not([hidden])")
    await recruiter_page.click("#save-template")
    await log_says(recruiter_page, "written (version 1)")
    await recruiter_page.click("button[data-invite-template]")
    await recruiter_page.wait_for_function("document.querySelector('#invite-url').textContent.includes('/invite/')")
    invite_url = await recruiter_page.text_content("#invite-url")

    context = await browser.new_context()
    candidate_page = await context.new_page()
    assert invite_url is not None
    await candidate_page.goto(invite_url)
    await candidate_page.wait_for_selector("body[data-ready=true]")
    candidate_id = await sign_up_and_in(candidate_page, "erin.candidate@example.com", "delivered")
    await candidate_page.click("#redeem")
    await candidate_page.wait_for_selector("#consent:not([hidden])")
    await candidate_page.check("#consent-ai")
    await start(candidate_page, "#consent-yes")

    await recruiter_page.click("#org-list")
    await recruiter_page.locator("button[data-org-interview]").first.click()
    await recruiter_page.wait_for_selector("#decide:not([disabled])")
    await recruiter_page.click("#decide")
    await log_says(recruiter_page, "decision recorded: advance")
    await recruiter_page.click("#save-retention")
    await log_says(recruiter_page, "interviews are kept 365 days")
    await recruiter_page.click("#access-log")
    await log_says(recruiter_page, "reads in the access log")
    access_log = await recruiter_page.text_content("#access-records")

    await candidate_page.click("#list")
    await candidate_page.locator("button[data-interview]").first.click()
    await candidate_page.wait_for_function("document.querySelector('#report').textContent.includes('read_by')")
    seen = await candidate_page.text_content("#report")
    await candidate_page.click("#export")
    await log_says(candidate_page, "exported 1 interviews")
    await candidate_page.click("button[data-delete-interview]")
    await log_says(candidate_page, "deleted, with its transcript")

    await recruiter_page.click("#org-list")
    await recruiter_page.wait_for_function(
        "document.querySelector('#org-interviews').textContent.includes('deleted by candidate')"
    )

    assert access_log is not None
    assert "transcript" in access_log
    assert seen is not None
    assert '"role": "admin"' in seen or '"role":"admin"' in seen.replace(" ", "")
    assert recruiter_id not in seen  # the candidate sees the reader's role, never who
    assert await interviews_of(stack, candidate_id) == []
    assert recruiter_errors == []
    await context.close()
