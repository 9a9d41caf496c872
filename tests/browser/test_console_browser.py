"""The sandbox console in real headless Chromium (Debian's package, driven by Playwright).

A person opens the console, fires a hard call, sees the check-in, clicks "I'm OK" and sees the
answer; pauses and resumes check-ins on the Home tab; views as the team lead; fills in a modal.
The server is the real app under uvicorn on a free port. Screenshots go to $BREATHER_SCREENSHOTS
when it is set (`make screenshots` refreshes docs/screenshots/), else to a temporary directory.

Also: a survey round from the panel, answered in the pulse modal; a customer compliment shared
to the team channel; the weekly digest from the panel, read as the team lead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from slack_bolt import Ack, App

from bot.config import Settings
from bot.i18n import catalogue
from bot.messenger import (
    Button,
    Buttons,
    ChoiceField,
    Form,
    Message,
    Option,
    PersonField,
    Text,
    TextField,
)
from handlers.sandbox.demo import demo_config
from handlers.slack.blocks import submitted_values
from tests.conftest import PSEUDONYM_KEY, WEBHOOK_SECRET
from tests.databases import SqliteTemplate
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_ROSTER = Path(str(resources.files("bot.demo").joinpath("breather.yml")))
CHECKIN = "How are you doing?"
# Resolved now, at collection: each test then runs in its own temporary directory.
SCREENSHOTS = (
    Path(os.environ["BREATHER_SCREENSHOTS"]).resolve() if os.environ.get("BREATHER_SCREENSHOTS") else None
)
# WCAG AA: 4.5:1 for body text. Checked on what the page actually computes, not on the CSS file.
CONTRAST_OF = """(selectors) => {
  const rgb = (value) => value.match(/[\\d.]+/g).map(Number);
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const colour = rgb(getComputedStyle(el).backgroundColor);
      if (colour.length < 4 || colour[3] > 0) return colour.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return selectors.map((selector) => {
    const el = document.querySelector(selector);
    if (!el) return [selector, null];
    const [a, b] = [luminance(rgb(getComputedStyle(el).color)), luminance(background(el))];
    return [selector, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}"""


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = SCREENSHOTS or tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def live(tmp_path: Path, _sqlite_template: SqliteTemplate) -> Iterator[LiveServer]:
    settings = Settings(
        _env_file=None,
        database_url=_sqlite_template.copy_to(tmp_path / "console.db"),
        config_path=DEMO_ROSTER,
        pseudonym_key=PSEUDONYM_KEY,
        webhook_secret=WEBHOOK_SECRET,
        messenger="sandbox",
    )
    with live_server(settings, simulator=True) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module; every test gets a fresh context (its own cookies,
    storage and cache), which is what a fresh profile gave, without a new browser each time."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed ({CHROMIUM} is missing). The browser tests drive Debian's "
            "chromium: run .ci/run, which installs chromium and chromium-driver when they are "
            "missing (or: apt-get install -y chromium chromium-driver).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    elsewhere = {url for url in requested if urlsplit(url).netloc != urlsplit(live.url).netloc}
    assert not {url for url in elsewhere if not url.startswith("data:")}, "the console reached outside"
    assert not errors, f"script errors: {errors}"


def open_as(page: Page, live: LiveServer, label: str) -> None:
    page.goto(live.console.url(live.url))
    page.get_by_label("View as").select_option(label=label)
    expect(page.locator("#view-as option:checked")).to_have_text(label)
    expect(page.locator("#pane-title")).to_have_text("Breather")


def test_a_hard_call_brings_a_checkin_and_im_ok_answers_it(page: Page, live: LiveServer, shots: Path) -> None:
    ana = live.services.roster.find("email", "ana@example.com")
    assert ana is not None
    open_as(page, live, "Ana Popescu (agent)")
    expect(page.get_by_label("Calls for")).to_have_value(ana.id)
    page.get_by_role("button", name="# billing").click()  # looking elsewhere when it arrives
    page.get_by_role("button", name="Hard call").click()
    expect(page.get_by_role("status")).to_contain_text("Hard call for Ana Popescu sent")
    expect(page.get_by_role("button", name="Breather 1 new")).to_be_visible()
    page.get_by_role("button", name="Breather 1 new").click()
    expect(page.get_by_role("button", name="Breather", exact=True)).to_be_visible()  # read now
    checkin = page.locator("article.msg", has_text=CHECKIN)
    expect(checkin.get_by_role("button", name="I'm OK")).to_be_visible()
    expect(checkin.get_by_role("button")).to_have_count(3)
    expect(checkin).to_contain_text("Only you can see this message.")
    page.screenshot(path=str(shots / "agent-checkin.png"))

    low = [
        (s, ratio)
        for s, ratio in page.evaluate(
            CONTRAST_OF,
            [
                ".tagline",
                "label[for=view-as]",
                ".pane-list button[aria-current]",
                ".pane-list button:not([aria-current])",
                ".msg-meta time",
                ".msg-author",
                ".bk-text",
                ".bk-context",
                ".bk-button-primary",
                ".bk-button:not(.bk-button-primary)",
                ".control-help",
                ".panel-note",
                "#simulator-state",
                "#panel-status",
            ],
        )
        if ratio is None or ratio < 4.5
    ]
    assert not low, f"below WCAG AA contrast: {low}"

    checkin.get_by_role("button", name="I'm OK").click()
    expect(checkin).to_contain_text("Glad to hear it. I'm here if the next one is rough too.")
    expect(checkin.get_by_role("button")).to_have_count(0)
    expect(checkin).to_contain_text("(edited)")
    page.screenshot(path=str(shots / "agent-answered.png"))


def test_pause_and_resume_on_the_home_tab_with_the_keyboard(page: Page, live: LiveServer) -> None:
    open_as(page, live, "Mihai Ionescu (agent)")
    page.get_by_role("button", name="Home", exact=True).click()
    home = page.locator(".home-view")
    expect(home).to_contain_text("Check-ins are on.")
    pause = home.get_by_role("button", name="Pause check-ins")
    page.locator("#pane").focus()
    page.keyboard.press("Tab")  # from the conversation to its first button, as a keyboard user would
    expect(pause).to_be_focused()
    outline = pause.evaluate("(el) => getComputedStyle(el).outlineStyle")
    page.keyboard.press("Enter")
    expect(home).to_contain_text("Check-ins are paused.")
    expect(page.locator(".home-view")).to_be_focused()  # focus stays where the page changed
    home.get_by_role("button", name="Resume check-ins").click()
    expect(home).to_contain_text("Check-ins are on.")
    assert outline in ("solid", "auto"), "a focused button shows no focus ring"


def test_the_team_lead_sees_the_channel_but_never_an_agents_checkin(
    page: Page, live: LiveServer, shots: Path
) -> None:
    open_as(page, live, "Radu (team lead)")
    panes = page.locator("#pane-list button")
    expect(panes).to_have_text(["Home", "Breather", "# billing"])  # a lead's Home: the Manager section
    page.get_by_label("Calls for").select_option(label="Ana Popescu")
    page.get_by_role("button", name="Hard call").click()
    expect(page.get_by_role("status")).to_contain_text("Hard call for Ana Popescu sent")
    ana_key = f"agent:{live.services.roster.find('email', 'ana@example.com').id}"  # type: ignore[union-attr]
    deadline = time.monotonic() + 10
    while CHECKIN not in live_view_text(page, live, ana_key):
        assert time.monotonic() < deadline, "no check-in reached Ana"
        time.sleep(0.1)
    for name in ("Breather", "# billing"):
        page.locator("#pane-list button", has_text=name).click()
        expect(page.locator("#pane-title")).to_have_text(name)
        expect(page.locator("#pane")).not_to_contain_text(CHECKIN)
    page.locator("#pane-list button", has_text="Breather").click()
    expect(page.locator("#pane")).to_contain_text("No messages from Breather yet.")
    page.get_by_label("Slash command").fill("/breather privacy")
    page.get_by_label("Slash command").press("Enter")
    reply = page.locator("article.msg-ephemeral")
    expect(reply).to_contain_text("Only visible to you · /breather privacy")
    expect(reply.locator("strong")).to_have_text("Who can see what")
    page.screenshot(path=str(shots / "lead-view.png"))

    page.get_by_role("button", name="Run the simulator").click()
    expect(page.locator("#simulator-state")).to_have_text("Simulator: running")
    expect(page.get_by_role("button", name="Run the simulator")).to_have_attribute("aria-disabled", "true")
    page.get_by_role("button", name="Stop the simulator").click()
    expect(page.locator("#simulator-state")).to_have_text("Simulator: stopped")
    assert not live.console.simulator.running  # type: ignore[union-attr]


def live_view_text(page: Page, live: LiveServer, key: str) -> str:
    return str(page.request.get(f"{live.url}/sandbox/api/view", params={"as": key}).text())


def test_a_modal_shows_field_errors_then_closes_when_accepted(
    page: Page, live: LiveServer, shots: Path
) -> None:
    """Breather's own modals (the pulse survey) arrive the same way; this one is registered on the
    real Bolt app by the test, so the console's modal handling is checked on its own."""
    services = live.services
    bolt: App = live.app.state.bolt
    received: list[dict[str, str]] = []

    @bolt.action("test.open")
    def open_form(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        choices = (Option(value="good", label="Good"), Option(value="bad", label="Bad"))
        services.messenger.open_form(
            body["trigger_id"],
            Form(
                callback_id="test.form",
                title="Quick question",
                submit="Send",
                close="Cancel",
                parts=(
                    ChoiceField(id="mood", label="How is today?", options=choices),
                    TextField(id="note", label="Anything else?", optional=True),
                ),
            ),
        )

    @bolt.view("test.form")
    def on_submit(ack: Ack, view: dict[str, Any]) -> None:
        values = submitted_values(view)
        if values.get("note") == "nope":
            ack(response_action="errors", errors={"note": "Please write something else"})
            return
        ack()
        received.append(values)

    agent = services.roster.find("email", "darya@example.com")
    assert agent is not None
    button = Buttons(block_id="test", buttons=(Button(action="test.open", label="Answer", value="x"),))
    services.messenger.send_direct(
        agent.ref(), Message(text="A question", parts=(Text(text="A question"), button))
    )

    open_as(page, live, "Darya Karimi (agent)")
    page.get_by_role("button", name="Answer").click()
    dialog = page.get_by_role("dialog", name="Quick question")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Send").click()  # nothing chosen: the browser refuses, as Slack does
    expect(dialog).to_be_visible()
    dialog.get_by_label("Good").check()
    dialog.get_by_label("Anything else? (optional)").fill("nope")
    dialog.get_by_role("button", name="Send").click()
    expect(dialog.get_by_text("Please write something else")).to_be_visible()
    expect(dialog.get_by_label("Anything else? (optional)")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(shots / "modal-field-error.png"))
    dialog.get_by_label("Anything else? (optional)").fill("all good")
    dialog.get_by_role("button", name="Send").click()
    expect(dialog).to_be_hidden()
    assert received == [{"mood": "good", "note": "all good"}]


def test_a_long_choice_and_a_person_picker_are_menus_answered_with_the_keyboard(
    page: Page, live: LiveServer
) -> None:
    """More than ten choices (Slack's radio-button limit: "Talk to someone" in a big team) and a
    person picker ("Share as a compliment") are native menus, labelled and keyboard-operable,
    and arrive at the listener as Slack's selected_option / selected_user."""
    services = live.services
    bolt: App = live.app.state.bolt
    received: list[dict[str, str]] = []
    mates = tuple(Option(value=f"mate:{n}", label=f"Team mate {n:02d}") for n in range(1, 13))

    @bolt.action("test.menus")
    def open_form(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        services.messenger.open_form(
            body["trigger_id"],
            Form(
                callback_id="test.menus",
                title="Who?",
                submit="Send",
                close="Cancel",
                parts=(
                    ChoiceField(id="person", label="Choose someone", options=mates),
                    PersonField(id="recipient", label="Who is it about?"),
                ),
            ),
        )

    @bolt.view("test.menus")
    def on_submit(ack: Ack, view: dict[str, Any]) -> None:
        ack()
        received.append(submitted_values(view))

    agent = services.roster.find("email", "sam@example.com")
    assert agent is not None
    button = Buttons(block_id="test", buttons=(Button(action="test.menus", label="Choose", value="x"),))
    services.messenger.send_direct(agent.ref(), Message(text="Pick", parts=(Text(text="Pick"), button)))

    open_as(page, live, "Sam Okafor (agent)")
    page.get_by_role("button", name="Choose").click()
    dialog = page.get_by_role("dialog", name="Who?")
    menu = dialog.get_by_label("Choose someone")
    expect(menu).to_be_focused()  # the first field, ready for the keyboard
    dialog.get_by_role("button", name="Send").click()  # nothing chosen: refused, as Slack does
    expect(dialog).to_be_visible()
    for _ in range(11):
        page.keyboard.press("ArrowDown")  # the prompt, then Team mate 01 .. 11
    expect(menu).to_have_value("mate:11")
    people = dialog.get_by_label("Who is it about?")
    expect(people.locator("option", has_text="Ana Popescu")).to_have_count(1)
    people.select_option(label="Ana Popescu")
    dialog.get_by_role("button", name="Send").click()
    expect(dialog).to_be_hidden()
    assert received == [{"person": "mate:11", "recipient": "U0ANA"}]


def test_the_console_fits_a_phone_screen(page: Page, live: LiveServer, shots: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_as(page, live, "Ioana Dumitru (agent)")
    page.get_by_role("button", name="Hard call").click()
    checkin = page.locator("article.msg", has_text=CHECKIN)
    expect(checkin.get_by_role("button", name="I'm OK")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scrolling"
    checkin.get_by_role("button", name="I'm OK").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "phone.png"), full_page=True)


def test_a_survey_round_is_answered_in_the_pulse_modal(page: Page, live: LiveServer, shots: Path) -> None:
    open_as(page, live, "Ana Popescu (agent)")
    page.get_by_role("button", name="Survey round").click()
    expect(page.get_by_role("status")).to_contain_text("Pulse survey round for Billing support started")
    invitation = page.locator("article.msg", has_text="Got a minute?")
    expect(invitation).to_contain_text("only from groups of 5 or more")
    invitation = page.locator(
        f'article.msg[data-ts="{invitation.get_attribute("data-ts")}"]'
    )  # its text changes
    invitation.get_by_role("button", name="Start").click()
    dialog = page.get_by_role("dialog", name="One-minute check-in")
    expect(dialog).to_be_visible()
    for question in ("cheerful", "calm", "active", "fresh", "interest"):
        dialog.locator("fieldset", has_text=question).get_by_label("More than half of the time").check()
    dialog.locator("fieldset", has_text="Which statement fits you best?").get_by_label(
        "2: Occasionally under stress"
    ).check()
    page.screenshot(path=str(shots / "pulse-modal.png"))
    dialog.get_by_role("button", name="Send").click()
    thanks = page.get_by_role("dialog", name="One-minute check-in")  # the same window, now saying thank you
    expect(thanks).to_contain_text("Thank you. Your team's results are shared after the round closes")
    expect(thanks.get_by_role("button", name="Send")).to_have_count(0)
    thanks.get_by_role("button", name="Close").click()
    expect(thanks).to_be_hidden()
    expect(invitation).to_contain_text("Thank you. Your team's results are shared after the round closes")
    expect(invitation.get_by_role("button")).to_have_count(0)
    page.get_by_role("button", name="Home", exact=True).click()
    expect(page.locator(".home-view")).to_contain_text("60 out of 100")  # raw 15 x 4, her own result


def test_a_customer_compliment_is_shared_only_after_the_agent_says_so(page: Page, live: LiveServer) -> None:
    open_as(page, live, "Mihai Ionescu (agent)")
    page.get_by_role("button", name="Customer compliment").click()
    expect(page.get_by_role("status")).to_contain_text("A customer compliment for Mihai Ionescu arrived")
    question = page.locator("article.msg", has_text="A customer said this about you")
    expect(question.get_by_role("button", name="Share with the team")).to_be_visible()
    question = page.locator(f'article.msg[data-ts="{question.get_attribute("data-ts")}"]')
    page.locator("#pane-list button", has_text="# billing").click()
    expect(page.locator("#pane")).not_to_contain_text("Mihai")  # nothing leaves the DM unasked
    page.locator("#pane-list button", has_text="Breather").click()
    question.get_by_role("button", name="Share with the team").click()
    expect(question).to_contain_text("Shared in your team channel")
    page.locator("#pane-list button", has_text="# billing").click()
    expect(page.locator("#pane")).to_contain_text("Mihai")


def test_the_team_lead_reads_the_weekly_digest_without_names(
    page: Page, live: LiveServer, shots: Path
) -> None:
    from handlers.sandbox.demo_history import seed_demo_history

    seed_demo_history(live.services, now=live.services.clock())
    open_as(page, live, "Radu (team lead)")
    page.get_by_role("button", name="Team digest").click()
    # The digest and its chart are made before the panel answers: seconds on a busy machine.
    expect(page.get_by_role("status")).to_contain_text(
        "The weekly digest for Billing support went to its team leads", timeout=30_000
    )
    digest = page.locator("article.msg", has_text="Call load")
    expect(digest).to_contain_text("Billing support: week of")
    expect(digest).to_contain_text("Figures from fewer than 5 people are never shown")
    expect(page.locator("#pane img")).to_have_count(1)  # the trend chart
    pane = page.locator("#pane").inner_text()
    for agent in live.services.roster.agents():
        assert agent.name not in pane and agent.email not in pane
    page.screenshot(path=str(shots / "lead-digest.png"), full_page=True)


@pytest.fixture
def persian_live(tmp_path: Path, _sqlite_template: SqliteTemplate) -> Iterator[LiveServer]:
    """The demo team as `breather demo --language fa` writes it: Persian, right to left."""
    settings = Settings(
        _env_file=None,
        database_url=_sqlite_template.copy_to(tmp_path / "console.db"),
        config_path=demo_config(tmp_path, "fa"),
        pseudonym_key=PSEUDONYM_KEY,
        webhook_secret=WEBHOOK_SECRET,
        messenger="sandbox",
    )
    with live_server(settings, simulator=True) as server:
        yield server


def test_persian_reads_right_to_left_in_the_console(
    browser: Browser, persian_live: LiveServer, shots: Path
) -> None:
    fa = catalogue("fa")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(persian_live.console.url(persian_live.url))
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("html")).to_have_attribute("lang", "fa")
        page.get_by_label(fa.t("console.view_as")).select_option(
            label=fa.t("console.as_agent", name="Ana Popescu")
        )
        page.get_by_role("button", name=fa.t("console.control.hard_call.label")).click()
        checkin = page.locator("article.msg", has_text="حالتان چطور است؟").first
        expect(checkin).to_be_visible()
        expect(checkin).to_have_attribute("dir", "rtl")
        expect(checkin.get_by_role("button")).to_have_count(3)
        # Laid out right to left: the first button (I'm OK) is the rightmost.
        boxes = [checkin.get_by_role("button").nth(i).bounding_box() for i in range(3)]
        assert all(boxes) and boxes[0]["x"] > boxes[1]["x"] > boxes[2]["x"]  # type: ignore[index]
        text = checkin.locator(".bk-text").first
        assert text.evaluate("el => getComputedStyle(el).direction") == "rtl"
        page.screenshot(path=str(shots / "agent-checkin-fa.png"))
    finally:
        context.close()


def test_the_language_switch_turns_the_console_to_romanian_and_back(page: Page, live: LiveServer) -> None:
    page.goto(live.console.url(live.url))
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    page.get_by_role("link", name="Română").click()
    expect(page.locator("html")).to_have_attribute("lang", "ro")
    expect(page.get_by_label(catalogue("ro").t("console.view_as"))).to_be_visible()
    page.get_by_role("link", name="فارسی").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_label("View as")).to_be_visible()
