"""The sandbox console's HTTP API, driven like its page drives it, on SQLite and PostgreSQL.

Every action goes through the real app: panel calls as signed webhooks, clicks, Home tab,
modal submissions and commands as signed Slack payloads to /slack/events.
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from slack_bolt import Ack, App
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.app import create_app
from bot.i18n import catalogue
from bot.messenger import Button, Buttons, ChoiceField, Form, Message, Option, Text, TextField
from handlers.sandbox.access import HEADER
from handlers.sandbox.call_simulator import CallSimulator
from handlers.sandbox.controls import COMPLIMENT_SAMPLES
from handlers.sandbox.demo import Commentary, simulated_agents_policy
from handlers.sandbox.messenger import SandboxMessenger
from handlers.slack.blocks import submitted_values
from storage.db import session_scope
from storage.models import AgentPrefs, Checkin
from tests.conftest import ROSTER, WEBHOOK_SECRET, MakeSettings
from tests.live import LiveServer, live_server

CHECKIN_TEXT = "How are you doing?"


def console_client(app: Starlette) -> TestClient:
    """A client as the operator's browser is: on this machine, holding this run's token."""
    client = TestClient(app, base_url="http://127.0.0.1:3000", raise_server_exceptions=False)
    client.headers[HEADER] = app.state.sandbox_console.token
    return client


@dataclass
class Console:
    client: TestClient
    app: Starlette

    def key(self, email: str) -> str:
        agent = self.app.state.services.roster.find("email", email)
        return f"agent:{agent.id}" if agent else f"lead:{email}"

    def view(self, email: str, after: int | None = None) -> dict[str, Any]:
        params = {"as": self.key(email)}
        if after is not None:
            params["after"] = str(after)
        response = self.client.get("/sandbox/api/view", params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def post(self, path: str, email: str, **body: Any) -> Any:
        return self.client.post(f"/sandbox/api/{path}", json={"as": self.key(email), **body})

    def wait_for(
        self, email: str, check: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            view = self.view(email)
            if check(view):
                return view
            if time.monotonic() > deadline:
                raise AssertionError(f"the console never showed it to {email}: {view}")
            time.sleep(0.05)


def pane(view: dict[str, Any], pane_id: str) -> dict[str, Any]:
    return next(p for p in view["panes"] if p["id"] == pane_id)


def dm_html(view: dict[str, Any]) -> str:
    return "".join(m["html"] for m in pane(view, "dm")["messages"])


def everything(view: dict[str, Any]) -> str:
    return "".join(
        p.get("html", "") + "".join(m["html"] for m in p.get("messages", [])) for p in view["panes"]
    )


def checkin_buttons(view: dict[str, Any]) -> tuple[str, str]:
    """(message ts, check-in id) of the check-in in this person's DM."""
    (message,) = pane(view, "dm")["messages"]
    value = message["html"].split('data-action-id="checkin.ok" data-value="', 1)[1].split('"', 1)[0]
    return message["ts"], value


@pytest.fixture
def console(make_settings: MakeSettings) -> Iterator[Console]:
    settings = make_settings(messenger="sandbox", slack_bot_token=None, slack_signing_secret=None)
    app = create_app(settings)
    with console_client(app) as client:
        yield Console(client, app)


def hard_call_for(console: Console, email: str, viewer: str | None = None) -> None:
    agent = console.app.state.services.roster.find("email", email)
    response = console.post("control", viewer or email, control="hard_call", agent=agent.id)
    assert response.status_code == 200 and "Hard call for" in response.json()["status"]


def test_console_is_mounted_only_with_the_sandbox_messenger(make_settings: MakeSettings) -> None:
    with TestClient(create_app(make_settings())) as client:  # the Slack messenger
        assert client.get("/sandbox").status_code == 404
        assert client.get("/sandbox/static/console.js").status_code == 404


def test_console_page_loads_nothing_from_elsewhere(console: Console) -> None:
    page = console.client.get("/sandbox")
    assert page.status_code == 200 and "<title>Breather sandbox</title>" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text
    for asset in ("/sandbox/static/console.css", "/sandbox/static/console.js"):
        body = console.client.get(asset)
        assert body.status_code == 200
        assert "http://" not in body.text and "https://" not in body.text and "@import" not in body.text


def test_workspace_lists_every_agent_and_the_team_lead(console: Console) -> None:
    workspace = console.client.get("/sandbox/api/workspace").json()
    labels = [viewer["label"] for viewer in workspace["viewers"]]
    assert "Ana Popescu (agent)" in labels and "Bob Stan (agent)" in labels
    assert "Radu (team lead)" in labels
    assert [c["id"] for c in workspace["controls"]][:5] == [
        "hard_call",
        "easy_call",
        "compliment",
        "survey_round",
        "digest",
    ]


def test_hard_call_from_the_panel_shows_a_checkin_to_that_agent_only(console: Console) -> None:
    hard_call_for(console, "ana@example.com")
    view = console.wait_for("ana@example.com", lambda v: CHECKIN_TEXT in dm_html(v))
    assert "I&#x27;m OK" in dm_html(view) and 'data-action-id="checkin.break"' in dm_html(view)
    # Nobody else, and not the team lead, can see Ana's check-in anywhere in their console.
    for other in ("radu@example.com", "cris@example.com", "bob@example.com"):
        assert CHECKIN_TEXT not in everything(console.view(other))


@pytest.fixture
def paced_console(make_settings: MakeSettings) -> Iterator[Console]:
    """The console at the sandbox's own send pace (the tests' is faster): an answer then lands a
    second after the check-in, as when a person reads it first, and shows as edited."""
    settings = make_settings(
        messenger="sandbox", slack_bot_token=None, slack_signing_secret=None, send_pace_seconds=None
    )
    app = create_app(settings)
    with console_client(app) as client:
        yield Console(client, app)


def test_clicking_a_button_answers_the_checkin_through_the_slack_endpoint(paced_console: Console) -> None:
    console = paced_console
    hard_call_for(console, "ana@example.com")
    view = console.wait_for("ana@example.com", lambda v: CHECKIN_TEXT in dm_html(v))
    ts, checkin_id = checkin_buttons(view)
    response = console.post(
        "click", "ana@example.com", ts=ts, action_id="checkin.ok", value=checkin_id, block_id="checkin"
    )
    assert response.status_code == 200
    view = console.wait_for("ana@example.com", lambda v: "Glad to hear it" in dm_html(v))
    assert "data-action-id" not in dm_html(view) and "(edited)" in dm_html(view)
    with session_scope(console.app.state.services.engine) as session:
        assert session.get(Checkin, checkin_id).answer == "ok"  # type: ignore[union-attr]


def test_an_agent_without_a_slack_id_in_breather_yml_can_answer_too(console: Console) -> None:
    hard_call_for(console, "bob@example.com", viewer="radu@example.com")
    view = console.wait_for("bob@example.com", lambda v: CHECKIN_TEXT in dm_html(v))
    ts, checkin_id = checkin_buttons(view)
    console.post(
        "click", "bob@example.com", ts=ts, action_id="checkin.talk", value=checkin_id, block_id="checkin"
    )
    console.wait_for("bob@example.com", lambda v: "Reaching out helps" in dm_html(v))


def test_a_button_the_message_does_not_have_is_refused_and_changes_nothing(console: Console) -> None:
    hard_call_for(console, "ana@example.com")
    view = console.wait_for("ana@example.com", lambda v: CHECKIN_TEXT in dm_html(v))
    ts, checkin_id = checkin_buttons(view)
    forged = console.post(
        "click", "ana@example.com", ts=ts, action_id="checkin.ok", value="another-id", block_id="checkin"
    )
    assert forged.status_code == 422 and "no such button" in forged.json()["error"]
    someone_else = console.post(
        "click", "cris@example.com", ts=ts, action_id="checkin.ok", value=checkin_id, block_id="checkin"
    )
    assert someone_else.status_code == 404  # Ana's DM does not exist for Cris
    with session_scope(console.app.state.services.engine) as session:
        assert session.get(Checkin, checkin_id).answer is None  # type: ignore[union-attr]


def test_opening_the_home_tab_publishes_it_and_pause_resume_round_trip(console: Console) -> None:
    ana = "ana@example.com"
    assert console.post("home", ana).status_code == 200
    view = console.wait_for(ana, lambda v: "Check-ins are <strong>on</strong>" in pane(v, "home")["html"])
    home = pane(view, "home")
    assert (
        console.post(
            "click", ana, ts=home["ts"], action_id="home.pause", value="", block_id="home"
        ).status_code
        == 200
    )
    view = console.wait_for(ana, lambda v: "Check-ins are <strong>paused</strong>" in pane(v, "home")["html"])
    agent = console.app.state.services.roster.find("email", ana)
    with session_scope(console.app.state.services.engine) as session:
        assert session.get(AgentPrefs, agent.pseudonym).paused  # type: ignore[union-attr]
    home = pane(view, "home")
    console.post("click", ana, ts=home["ts"], action_id="home.resume", value="", block_id="home")
    console.wait_for(ana, lambda v: "Check-ins are <strong>on</strong>" in pane(v, "home")["html"])
    # A lead's Home tab is their own: the Manager section, never an agent's switches.
    assert "Check-ins are" not in pane(console.view("radu@example.com"), "home")["html"]


def test_a_modal_opened_by_a_listener_shows_field_errors_and_closes_once_accepted(console: Console) -> None:
    """The console's modal support, with a listener registered for this test on the real Bolt app
    (Breather's own modals, such as the pulse survey, arrive the same way)."""
    services = console.app.state.services
    bolt: App = console.app.state.bolt
    received: list[tuple[dict[str, str], str]] = []

    @bolt.action("test.open")
    def open_form(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        services.messenger.open_form(
            body["trigger_id"],
            Form(
                callback_id="test.form",
                title="Quick question",
                submit="Send",
                close="Cancel",
                context="round-7",
                parts=(
                    ChoiceField(
                        id="mood",
                        label="How is today?",
                        options=(Option(value="good", label="Good"), Option(value="bad", label="Bad")),
                    ),
                    TextField(id="note", label="Anything else?", optional=True, max_length=40),
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
        received.append((values, view["private_metadata"]))

    ana = "ana@example.com"
    agent = services.roster.find("email", ana)
    button = Buttons(block_id="test", buttons=(Button(action="test.open", label="Open", value="x"),))
    services.messenger.send_direct(agent.ref(), Message(text="Try it", parts=(Text(text="Try it"), button)))
    ts = (
        console.wait_for(ana, lambda v: "Try it" in dm_html(v))
        and pane(console.view(ana), "dm")["messages"][0]["ts"]
    )
    assert (
        console.post("click", ana, ts=ts, action_id="test.open", value="x", block_id="test").status_code
        == 200
    )
    view = console.wait_for(ana, lambda v: v["modal"] is not None)
    trigger = view["modal"]["trigger"]
    assert "How is today?" in view["modal"]["html"] and 'maxlength="40"' in view["modal"]["html"]
    assert console.view("cris@example.com")["modal"] is None

    refused = console.post("modal/submit", ana, trigger=trigger, values={"mood": "good", "note": "nope"})
    assert refused.json() == {"closed": False, "errors": {"note": "Please write something else"}}
    assert console.view(ana)["modal"]["trigger"] == trigger  # still open
    assert console.post("modal/submit", ana, trigger=trigger, values={"mood": "sideways"}).status_code == 422
    assert (
        console.post("modal/submit", ana, trigger=trigger, values={}).status_code == 422
    )  # mood is required
    assert (
        console.post("modal/submit", "cris@example.com", trigger=trigger, values={"mood": "good"}).status_code
        == 404
    )

    accepted = console.post("modal/submit", ana, trigger=trigger, values={"mood": "good"})
    assert accepted.json() == {"closed": True}
    assert received == [({"mood": "good"}, "round-7")]
    assert console.view(ana)["modal"] is None


# --- menus: "Talk to someone" with more than ten choices, "Share as a compliment" ----------

MATES = [{"email": f"mate{n:02d}@example.com", "name": f"Mate {n:02d}"} for n in range(1, 9)]


@pytest.fixture
def big_team(make_settings: MakeSettings, tmp_path: Path) -> Iterator[Console]:
    """The console on a roster whose billing team has 12 team mates for Ana: with the lead,
    more than the ten choices Slack allows as radio buttons."""
    data = yaml.safe_load(ROSTER.read_text())
    data["teams"][0]["agents"].extend(MATES)
    roster = tmp_path / "big-team.yml"
    roster.write_text(yaml.safe_dump(data))
    settings = make_settings(
        config_path=roster, messenger="sandbox", slack_bot_token=None, slack_signing_secret=None
    )
    app = create_app(settings)
    with console_client(app) as client:
        yield Console(client, app)


def menu_choices(html: str) -> dict[str, str]:
    """{label: value} of the <select> in a modal, without its empty prompt."""
    found = re.findall(r'<option value="([^"]+)"(?: selected)?>([^<]*)</option>', html)
    return {label: value for value, label in found}


def test_talk_to_someone_with_more_than_ten_choices_is_a_menu_the_console_submits(
    big_team: Console,
) -> None:
    console, ana = big_team, "ana@example.com"
    hard_call_for(console, ana)
    view = console.wait_for(ana, lambda v: CHECKIN_TEXT in dm_html(v))
    ts, checkin_id = checkin_buttons(view)
    clicked = console.post(
        "click", ana, ts=ts, action_id="checkin.talk", value=checkin_id, block_id="checkin"
    )
    assert clicked.status_code == 200
    modal = console.wait_for(ana, lambda v: v["modal"] is not None)["modal"]
    assert "not shown" not in modal["html"] and 'type="radio"' not in modal["html"]
    assert '<select id="bk-field-person" name="person"' in modal["html"]
    choices = menu_choices(modal["html"])
    assert len(choices) == 13 and "Radu (team lead)" in choices  # the lead and 12 team mates
    assert "Mate 08 (team mate)" in choices and "Ana Popescu (team mate)" not in choices

    submitted = console.post(
        "modal/submit", ana, trigger=modal["trigger"], values={"person": choices["Mate 08 (team mate)"]}
    )
    assert submitted.json() == {"closed": True}  # the real recovery.talk listener took it
    mate = console.wait_for("mate08@example.com", lambda v: "quick chat" in dm_html(v))
    assert "Ana Popescu would appreciate a quick chat" in dm_html(mate)
    console.wait_for(ana, lambda v: "I&#x27;ve let Mate 08 know" in dm_html(v))
    for other in ("mate07@example.com", "bob@example.com", "radu@example.com"):
        assert "quick chat" not in everything(console.view(other))


def test_a_person_picker_offers_the_workspace_and_submits_the_chosen_user(console: Console) -> None:
    """The "Share as a compliment" modal (a users_select), answered in the console and taken by
    the real `compliment.recipient` listener. The console has no message-shortcut menu, so a
    button registered for this test opens the form the shortcut opens."""
    services = console.app.state.services
    bolt: App = console.app.state.bolt

    @bolt.action("test.share")
    def open_share(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        services.compliments.share_form(
            body["user"]["id"],
            text="Fwd from a customer: Ana was wonderful, call me on 0722 123 456",
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            trigger=body["trigger_id"],
        )

    cris = "cris@example.com"
    button = Buttons(block_id="test", buttons=(Button(action="test.share", label="Share", value="x"),))
    agent = services.roster.find("email", cris)
    services.messenger.send_direct(agent.ref(), Message(text="Share", parts=(Text(text="Share"), button)))
    ts = console.wait_for(cris, lambda v: "Share" in dm_html(v)) and pane(console.view(cris), "dm")
    console.post(
        "click", cris, ts=ts["messages"][0]["ts"], action_id="test.share", value="x", block_id="test"
    )
    modal = console.wait_for(cris, lambda v: v["modal"] is not None)["modal"]
    assert "not shown" not in modal["html"] and '<select id="bk-field-recipient"' in modal["html"]
    people = menu_choices(modal["html"])
    assert {"Ana Popescu", "Bob Stan", "Radu"} <= set(people)  # the workspace's people

    refused = console.post("modal/submit", cris, trigger=modal["trigger"], values={"recipient": "U0NOBODY"})
    assert refused.status_code == 422  # Slack's picker only offers people in the workspace
    answer = console.post(
        "modal/submit", cris, trigger=modal["trigger"], values={"recipient": people["Ana Popescu"]}
    )
    assert answer.json() == {"closed": False, "replaced": True}
    console.wait_for(cris, lambda v: "Sent privately" in (v["modal"] or {}).get("html", ""))  # same window
    dm = dm_html(console.wait_for("ana@example.com", lambda v: "passed it on" in dm_html(v)))
    assert "Ana was wonderful" in dm and "0722" not in dm


def test_the_demo_customers_compliment_is_one_of_the_catalogues_samples(console: Console) -> None:
    ana = "ana@example.com"
    agent = console.app.state.services.roster.find("email", ana)
    response = console.post("control", ana, control="compliment", agent=agent.id)
    assert (
        response.status_code == 200 and "A customer compliment for Ana Popescu" in response.json()["status"]
    )
    dm = dm_html(console.wait_for(ana, lambda v: "A customer said this about you" in dm_html(v)))
    cat = catalogue("en")
    samples = [cat.t(f"console.control.compliment.sample.{key}", name="Ana") for key in COMPLIMENT_SAMPLES]
    assert any(html.escape(sample) in dm for sample in samples), dm


def test_slash_commands_from_the_console_get_their_private_reply(console: Console) -> None:
    reply = console.post("command", "ana@example.com", text="/breather privacy")
    assert reply.status_code == 200 and "<strong>Who can see what</strong>" in reply.json()["html"]
    paused = console.post("command", "bob@example.com", text="/breather pause")
    assert "Paused." in paused.json()["html"]
    assert "not one of Breather" in console.post("command", "ana@example.com", text="/nothing").json()["html"]
    assert "slash commands only" in console.post("command", "ana@example.com", text="hello").json()["html"]


def test_a_view_is_unchanged_until_something_visible_changes(console: Console) -> None:
    first = console.view("ana@example.com")
    assert console.view("ana@example.com", after=first["version"]) == {
        "version": first["version"],
        "unchanged": True,
    }
    console.post("home", "ana@example.com")
    console.wait_for("ana@example.com", lambda v: pane(v, "home")["html"] != "")
    assert "unchanged" not in console.view("ana@example.com", after=first["version"])


def test_watching_an_agent_is_noticed_for_a_few_seconds(console: Console) -> None:
    panel = console.app.state.sandbox_console
    assert not panel.is_watched("ana@example.com")
    console.view("ana@example.com")
    assert panel.is_watched("ana@example.com") and panel.is_watched("ANA@example.com")
    assert not panel.is_watched("cris@example.com")


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b'{"as": "x"}', {"Content-Type": "text/plain"}, 415),
        (b"{not json", {"Content-Type": "application/json"}, 400),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400),
        (b'{"as": "lead:radu@example.com"}', {"Content-Type": "application/json"}, 422),
        (
            b'{"as": "lead:radu@example.com", "control": "x", "extra": 1}',
            {"Content-Type": "application/json"},
            422,
        ),
        (b'{"as": "nobody", "control": "hard_call"}', {"Content-Type": "application/json"}, 404),
        (b'{"as": "lead:radu@example.com", "control": "launch"}', {"Content-Type": "application/json"}, 404),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    console: Console, body: bytes, headers: dict[str, str], status: int
) -> None:
    response = console.client.post("/sandbox/api/control", content=body, headers=headers)
    assert response.status_code == status and response.json()["error"]


def test_the_simulator_controls_say_so_when_there_is_no_simulator(console: Console) -> None:
    response = console.post("control", "radu@example.com", control="simulator_start")
    assert response.status_code == 200 and "breather demo" in response.json()["status"]
    assert console.view("radu@example.com")["controls"] == {
        "hard_call": True,
        "easy_call": True,
        "compliment": True,
        "survey_round": True,
        "digest": True,
        "simulator_start": False,
        "simulator_stop": False,
    }


def answers(live: LiveServer) -> dict[str, str | None]:
    """Check-in answers by pseudonym."""
    with session_scope(live.services.engine) as session:
        return {row.pseudonym: row.answer for row in session.exec(select(Checkin))}


def test_simulated_agents_answer_for_others_but_leave_the_watched_agent_alone(
    make_settings: MakeSettings,
) -> None:
    settings = make_settings(messenger="sandbox", slack_bot_token=None, slack_signing_secret=None)
    with (
        live_server(settings) as live,
        httpx.Client(base_url=live.url, timeout=10, headers=live.console_headers) as http,
    ):
        console = live.console
        policy = simulated_agents_policy(console)
        assert not policy("cris@example.com")  # no simulator: nobody is simulated
        # A running simulator whose calls are for someone Breather does not know: harmless noise.
        console.simulator = CallSimulator(
            url=f"{live.url}/webhooks/calls", secret=WEBHOOK_SECRET, emails=["nobody@example.com"], rate=1
        )
        console.simulator.start()
        out: list[str] = []
        stop = threading.Event()
        messenger = live.services.messenger
        assert isinstance(messenger, SandboxMessenger)
        messenger.listeners.append(
            Commentary(
                live.services,
                live.url,
                live.app.state.slack_signing_secret,
                out.append,
                autoplay=True,
                stop=stop,
                may_answer_for=policy,
                answer_delay=(0.3, 0.3),
            )
        )
        roster = live.services.roster
        ana_key = f"agent:{roster.find('email', 'ana@example.com').id}"  # type: ignore[union-attr]

        def dm(key: str) -> str:
            view = http.get("/sandbox/api/view", params={"as": key}).json()
            return dm_html(view)

        dm(ana_key)  # a person is now looking at Ana's console
        for email in ("ana@example.com", "cris@example.com"):
            agent_id = roster.find("email", email).id  # type: ignore[union-attr]
            http.post("/sandbox/api/control", json={"as": ana_key, "control": "hard_call", "agent": agent_id})
        ana, cris = (roster.find("email", e) for e in ("ana@example.com", "cris@example.com"))
        deadline = time.monotonic() + 10
        # Only Ana's console is open (polling as Cris would make Cris watched too).
        while answers(live).get(cris.pseudonym) is None or "left for you" not in "".join(out):  # type: ignore[union-attr]
            assert time.monotonic() < deadline, f"the simulated agents did not act as expected: {out}"
            dm(ana_key)
            time.sleep(0.1)
        stop.set()
        console.simulator.stop()
        assert ana.pseudonym in answers(live) and answers(live)[ana.pseudonym] is None  # type: ignore[union-attr]
        assert any("left for you to answer in the console (Ana Popescu)" in line for line in out)
        assert not policy("cris@example.com")  # stopped: the simulated people stop too


# --- only on purpose, only from this machine, only with this run's token (issue 20, item 4) ---


def test_the_console_refuses_other_hosts_and_requests_without_the_token(console: Console) -> None:
    client = console.client  # sends the token header unless a request overrides it
    token = console.app.state.sandbox_console.token
    none = {HEADER: ""}
    local = "http://127.0.0.1:3000"
    assert client.get(f"{local}/sandbox", headers=none).status_code == 401
    assert client.get(f"{local}/sandbox/api/workspace", headers=none).status_code == 401
    forged = token[:-1] + ("y" if token.endswith("x") else "x")  # one character off, never the same
    wrong = client.get(f"{local}/sandbox/api/workspace", headers={HEADER: forged})
    assert wrong.status_code == 401 and "token" in wrong.json()["error"]
    control = {"as": "lead:radu@example.com", "control": "hard_call"}
    assert client.post(f"{local}/sandbox/api/control", json=control, headers=none).status_code == 401
    # The printed URL carries the token; the page's answer keeps it in a strict cookie.
    page = client.get(f"{local}/sandbox?token={token}", headers=none)
    assert page.status_code == 200
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/sandbox" in cookie
    # DNS rebinding: a page on another name that resolves to 127.0.0.1 sends its own Host.
    for host in ("evil.example:3000", "evil.example", "127.0.0.1.evil.example", "0.0.0.0:3000"):
        assert client.get(f"http://{host}/sandbox?token={token}").status_code == 403, host
        view = client.get(f"http://{host}/sandbox/api/view", params={"as": "lead:radu@example.com"})
        assert view.status_code == 403 and "this machine" in view.json()["error"]
    for host in ("localhost:3000", "[::1]:3000"):
        assert client.get(f"http://{host}/sandbox/api/workspace").status_code == 200, host


def test_serve_refuses_to_put_the_sandbox_on_a_network_interface(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bot.cli import app as cli
    from tests.conftest import PSEUDONYM_KEY, ROSTER

    env = {
        "BREATHER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "BREATHER_CONFIG": str(ROSTER),
        "BREATHER_MESSENGER": "sandbox",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}",
    }
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"], env=env)
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: --host: the sandbox messenger serves only on this machine")
    # And without a Slack token, the Slack messenger is an error, not a quiet sandbox.
    no_token = CliRunner().invoke(cli, ["serve"], env={**env, "BREATHER_MESSENGER": ""})
    assert no_token.exit_code == 1 and "SLACK_BOT_TOKEN: required" in no_token.output
