"""`breather demo`: the real server on the sandbox messenger, fed by the simulator, with the web
console at /sandbox and a running commentary in the terminal. Simulated agents answer their
check-ins by clicking the buttons through the real /slack/events endpoint, as a person in Slack
would, except for the agent a person is viewing the console as: that check-in is theirs."""

from __future__ import annotations

import logging
import random
import shlex
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path

import httpx
import uvicorn
import yaml
from starlette.applications import Starlette

from bot.config import Settings
from bot.container import Services
from bot.i18n import Catalogue, catalogue, team_catalogue
from bot.i18n.bidi import without_marks
from handlers.sandbox.call_simulator import CallSimulator
from handlers.sandbox.console import SandboxConsole
from handlers.sandbox.demo_history import seed_demo_history, seed_demo_together
from handlers.sandbox.demo_pace import Colleagues, demo_events, slack_sender
from handlers.sandbox.interactions import block_actions_body, signed_headers
from handlers.sandbox.messenger import SandboxMessenger
from handlers.sandbox.phone import BREAK as PHONE_BREAK
from handlers.sandbox.phone import DemoPhone
from handlers.sandbox.text import block_lines, find_buttons, plain
from handlers.sandbox.workspace import build_viewers
from handlers.server import server_options
from storage.models import SandboxMessage

log = logging.getLogger(__name__)
Print = Callable[[str], None]
ANSWER_WEIGHTS = {"checkin.ok": 6, "checkin.break": 3, "checkin.talk": 1}


class Commentary:
    """Prints each message a person would receive, by their name, and answers check-ins like a
    person would. Its words come from the message catalogue (`demo.*`)."""

    def __init__(
        self,
        services: Services,
        base_url: str,
        signing_secret: str,
        out: Print,
        autoplay: bool,
        stop: threading.Event,
        seed: int | None = None,
        may_answer_for: Callable[[str], bool] = lambda email: True,
        answer_delay: tuple[float, float] = (2.0, 5.0),  # seconds a person takes to react
    ) -> None:
        self.services = services
        self.base_url = base_url
        self.signing_secret = signing_secret
        self.out = out
        self.autoplay = autoplay
        self.stop = stop
        self.rng = random.Random(seed)
        self.may_answer_for = may_answer_for
        self.answer_delay = answer_delay
        self._seen: set[str] = set()
        self._people: dict[str, str] = {}  # e-mail -> name, for everyone the console can show
        self._ids: dict[str, str] = {}  # Slack user and channel ids -> names

    @property
    def cat(self) -> Catalogue:
        return team_catalogue(self.services.config.teams[0])

    def _names(self) -> dict[str, str]:
        """Slack user ids and channel ids -> names, as Slack would show them. Built on first use:
        the roster exists only once the app's lifespan has synced it."""
        if not self._ids:
            viewers = build_viewers(self.services.roster)
            self._people = {viewer.email: viewer.name for viewer in viewers}
            self._ids = {viewer.user_id: viewer.name for viewer in viewers}
            self._ids.update({team.channel: team.name for team in self.services.roster.teams if team.channel})
        return self._ids

    def _where(self, row: SandboxMessage, names: dict[str, str]) -> tuple[str, bool]:
        """Who the message is for (a name), and whether it is a direct message."""
        to = str(row.payload.get("to", "")).lower()
        if to:
            return self._people.get(to, to), True
        return names.get(row.conversation, row.conversation), False

    def __call__(self, row: SandboxMessage) -> None:
        if row.kind != "message":
            return
        names = self._names()
        who, direct = self._where(row, names)
        stamp = datetime.now().strftime("%H:%M:%S")
        seen = row.ts in self._seen
        self._seen.add(row.ts)
        verb = "demo.updated" if seen else ("demo.dm" if direct else "demo.posted")
        lines = block_lines(list(row.payload.get("blocks", [])), names)
        body = "\n           ".join(lines) if lines else plain(str(row.payload["text"]), names)
        self.out(f"[{stamp}] {self.cat.t(verb, name=who)}: {body}")
        agent = self.services.roster.find("email", str(row.payload.get("to", ""))) if direct else None
        buttons = find_buttons(list(row.payload.get("blocks", [])))
        if self.autoplay and agent and agent.config.slack_user_id and buttons and not seen:
            threading.Thread(
                target=self._answer,
                args=(agent.email, agent.name, agent.config.slack_user_id, row, buttons),
                daemon=True,
            ).start()

    def _answer(
        self, email: str, name: str, user_id: str, row: SandboxMessage, buttons: list[dict[str, object]]
    ) -> None:
        if self.stop.wait(self.rng.uniform(*self.answer_delay)):
            return
        # Asked at click time, not when the DM arrived: someone may have started watching since.
        if not self.may_answer_for(email):
            self.out(f"           ... {self.cat.t('demo.left_for_you', name=name)}")
            return
        choices = [b for b in buttons if str(b.get("action_id")) in ANSWER_WEIGHTS]
        if not choices:
            return
        button = self.rng.choices(choices, [ANSWER_WEIGHTS[str(b["action_id"])] for b in choices])[0]
        label = button.get("text", {})
        text = label.get("text") if isinstance(label, dict) else label
        self.out(f"           ... {self.cat.t('demo.taps', name=name, label=text)}")
        body = block_actions_body(
            user_id=user_id,
            channel=row.conversation,
            ts=row.ts,
            action_id=str(button["action_id"]),
            value=str(button.get("value", "")),
            block_id="checkin",
        )
        try:
            httpx.post(
                f"{self.base_url}/slack/events",
                content=body,
                timeout=10,
                headers=signed_headers(self.signing_secret, body, "application/x-www-form-urlencoded"),
            )
        except httpx.HTTPError as error:
            # The demo stopping while a simulated person was tapping: nothing to report then.
            if not self.stop.is_set():
                log.warning("a simulated answer did not reach the demo server: %s", error)


def simulated_agents_policy(console: SandboxConsole) -> Callable[[str], bool]:
    """May a simulated agent answer this agent's check-in now?

    Only while the simulator runs: stopping it stops the simulated people too, so nothing happens
    unless you do it. And never for the agent a person is viewing the console as: that check-in
    is theirs to answer.
    """

    def may_answer_for(email: str) -> bool:
        simulator = console.simulator
        return simulator is not None and simulator.running and not console.is_watched(email)

    return may_answer_for


def serve_in_background(app: Starlette, sock: socket.socket) -> tuple[uvicorn.Server, threading.Thread]:
    """Run the app with uvicorn on an already bound socket, in a thread; returns once it serves
    (or once it failed: check `server.started`)."""
    settings: Settings = app.state.services.settings
    server = uvicorn.Server(uvicorn.Config(app, **server_options(settings, "warning")))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="breather-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    return server, thread


# The composition root's create_app, passed in: transports never import the root.
BuildApp = Callable[..., Starlette]


def run_demo(
    settings: Settings,
    *,
    build_app: BuildApp,
    host: str,
    port: int,
    calls: int | None,
    rate: float,
    duration: float | None,
    autoplay: bool = True,
    out: Print = print,
    stop: threading.Event | None = None,
) -> int:
    """Serve the demo until Ctrl+C, `duration` seconds, or `stop` (a test's) is set."""
    printed = out
    out = lambda line: printed(without_marks(line))  # noqa: E731 (a terminal lays out no bidi)
    phone = DemoPhone()  # the demo's own phone system, for protected breaks
    app = build_app(settings, phones={phone.provider: phone})
    services: Services = app.state.services
    console: SandboxConsole = app.state.sandbox_console
    console.phone = phone
    phone.on_change = console.touch
    base_url = f"http://{host}:{port}"
    stop = stop or threading.Event()
    messenger = services.messenger
    assert isinstance(messenger, SandboxMessenger)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    cat = team_catalogue(services.config.teams[0])
    agents = [agent for team in services.config.teams for agent in team.agents]
    phone_ids = {agent.email: user_id for agent in agents if (user_id := phone.user_id(agent))}

    def may_take_calls(email: str) -> bool:
        return email not in phone_ids or phone.status_of(phone_ids[email]) != PHONE_BREAK

    simulator = CallSimulator(
        url=f"{base_url}/webhooks/calls",
        secret=secret,
        emails=[agent.email for agent in agents],
        rate=rate,
        calls=calls,
        on_change=console.touch,
        events=lambda first_hard: demo_events(
            [(agent.email, agent.name or agent.email) for agent in agents],
            cat=cat,
            count=calls,
            first_hard=first_hard,
            may_take_calls=may_take_calls,
            favourite=console.favourite,
        ),
    )
    console.simulator = simulator
    colleagues = Colleagues(
        people=[(a.email, a.name or a.email, a.slack_user_id) for a in agents if a.slack_user_id],
        cat=cat,
        send=slack_sender(base_url, app.state.slack_signing_secret, stop),
        running=lambda: simulator.running,
        favourite=console.favourite,
        watched=console.is_watched,
        stop=stop,
        rate=rate,
    )

    messenger.listeners.append(
        Commentary(
            services,
            base_url,
            app.state.slack_signing_secret,
            out,
            autoplay,
            stop,
            may_answer_for=simulated_agents_policy(console),
        )
    )

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        out(cat.t("demo.port_taken", url=base_url))
        return 1
    server, thread = serve_in_background(app, sock)
    if not server.started:
        out(cat.t("demo.failed", url=base_url))
        return 1

    # Past weeks of made-up activity, so "Team digest" in the console has something to show.
    seed_demo_history(services, now=services.clock())
    seed_demo_together(services)  # buddies and this week's coffee pairs
    team = services.config.teams[0]
    out(cat.t("demo.running", url=base_url))
    out(cat.t("demo.console", url=console.url(base_url)))
    # The secret is this demo's own, made up at start, so showing it gives nothing away.
    out(cat.t("demo.simulate", command=f"{own_command()} simulate --url {base_url} --secret {secret}"))
    out(cat.t("demo.digest", command=digest_command(settings, team.id)))
    out(cat.t("demo.team", team=team.name, count=len(simulator.emails), rate=f"{rate:g}"))
    out(cat.t("demo.stop_hint") + "\n")
    started = time.monotonic()
    try:
        simulator.start(first_hard=True)
        colleagues.start()
        while not stop.is_set():
            if duration is not None and time.monotonic() - started >= duration:
                break
            stop.wait(0.2)
    except KeyboardInterrupt:
        out("\n" + cat.t("demo.stopping"))
    finally:
        stop.set()
        simulator.close()
        server.should_exit = True
        thread.join(15)
        services.engine.dispose()
    return 0


def demo_config(workdir: Path, language: str) -> Path:
    """The bundled demo team in `language` (`breather demo --language fa`): the team's language
    and its name as that language says it; the file goes where the throwaway database goes."""
    bundled = resources.files("bot.demo").joinpath("breather.yml").read_text(encoding="utf-8")
    if language == "en":
        path = workdir / "breather.yml"
        path.write_text(bundled, encoding="utf-8")
        return path
    config = yaml.safe_load(bundled)
    for team in config["teams"]:
        team["language"] = language
        team["name"] = catalogue(language).t("demo.team_name")
    path = workdir / "breather.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def own_command() -> str:
    """How to call Breather from the shell the demo runs in: the way it was started (under
    `make demo`, `.venv/bin/breather`), or plain `breather`."""
    invoked = sys.argv[0] if sys.argv else ""
    return shlex.quote(invoked) if Path(invoked).name == "breather" else "breather"


def digest_command(settings: Settings, team_id: str) -> str:
    """The exact command that reads this demo's digest from another terminal: the CLI needs the
    demo's throwaway database, its teams file and the demo flag (for the demo's pseudonym key)."""
    env = {
        "BREATHER_DEMO": "true",
        "BREATHER_MESSENGER": "sandbox",
        "DATABASE_URL": settings.database_url,
        "BREATHER_CONFIG": str(settings.config_path),
    }
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    return f"{assignments} {own_command()} digest --team {team_id}"
