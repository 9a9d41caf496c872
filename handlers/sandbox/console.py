"""The sandbox web console at /sandbox: a local stand-in for Slack, driven by the real code.

It shows what the sandbox messenger stored (Block Kit, rendered by `blockkit_html`) as the
chosen person would see it in Slack, and turns what that person does into what Slack would
send: a button click becomes a signed `block_actions` payload, opening the Home tab an
`app_home_opened` event, a modal's submit button a `view_submission`, a typed `/command` a slash
command. Each is posted to the app's own `/slack/events`, so the demo runs through the same
Bolt listeners and services as production; the console holds no feature logic of its own.

The browser polls `/sandbox/api/view` every second; an unchanged version costs no query.
Mounted by bot/app.py only when the messenger is `sandbox`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.clock import utcnow
from bot.container import Services
from bot.errors import InvalidInput, NotFound
from bot.holdbacks import HeldBack
from bot.i18n import Catalogue, available_languages, language_name, team_catalogue
from bot.i18n.bidi import direction as bidi_direction
from bot.i18n.bidi import dominant_direction
from handlers.sandbox.access import Endpoint, guarded, new_token
from handlers.sandbox.blockkit_html import Render, blocks_html, esc, modal_html, mrkdwn_html
from handlers.sandbox.call_simulator import CallSimulator
from handlers.sandbox.console_input import (
    ClickRequest,
    CommandRequest,
    ControlRequest,
    FormRequest,
    SubmitRequest,
    ViewerRequest,
    blocks_of,
    buttons_shown,
    parse_json,
    submission_state,
)
from handlers.sandbox.controls import CONTROL_ACTIONS, ControlContext, find_control
from handlers.sandbox.interactions import (
    app_home_opened_body,
    block_actions_body,
    new_trigger_id,
    signed_headers,
    slash_command_body,
    view_block_actions_body,
    view_submission_body,
)
from handlers.sandbox.mentions import resolve_mentions
from handlers.sandbox.messenger import SandboxMessenger
from handlers.sandbox.notices import notice_text, still_news
from handlers.sandbox.phone import BREAK as PHONE_BREAK
from handlers.sandbox.phone import DemoPhone
from handlers.sandbox.workspace import (
    Viewer,
    build_viewers,
    channel_messages,
    direct_messages,
    latest,
    message_by_ts,
)
from handlers.slack.bolt_app import SANDBOX_BOT_USER_ID
from handlers.telephony.generic import sign
from storage.db import session_scope
from storage.models import SandboxMessage

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
WATCHING_S = 5.0  # a browser that polled as someone this recently means a person is looking
CLICK_WAIT_S = 30.0  # how long a click's trigger may still turn up a modal (Slack allows 3 s)
FORM = "application/x-www-form-urlencoded"
# The console loads nothing from elsewhere, and message content cannot run script in it.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)

PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")  # {{key}} in console.html -> console.<key> in en.yml


class SandboxConsole:
    def __init__(
        self, services: Services, messenger: SandboxMessenger, signing_secret: str, token: str | None = None
    ) -> None:
        self.token = token or new_token()  # per run: the printed URL carries it (access.py)
        self.services = services
        self.messenger = messenger
        self.signing_secret = signing_secret
        self.simulator: CallSimulator | None = None  # `breather demo` plugs its simulator in here
        self.phone: DemoPhone | None = None  # and its phone system
        # agent id -> the latest hold-back and when it came (wall clock), in memory only
        self._notices: dict[str, tuple[HeldBack, datetime]] = {}
        services.hold_backs.listeners.append(self._held_back)
        self._version = 0
        self._lock = threading.Lock()
        self._viewers: dict[str, Viewer] = {}
        self._watched: dict[str, float] = {}  # e-mail -> when a browser last polled as them
        # trigger -> (viewer, clicked at, modal found?, page): a modal shows only in the browser page
        # that clicked, as a Slack modal lives in the client that opened it; another page, or the
        # same page come back later, never has a stale one pop up.
        self._triggers: dict[str, tuple[str, float, bool, str]] = {}
        self.language: str | None = None  # the console's own words; None: the first team's language
        messenger.listeners.append(lambda row: self.touch())

    # --- state shared with the demo -----------------------------------------------------

    def touch(self) -> None:
        """Something visible changed: browsers fetch their view again on their next poll."""
        with self._lock:
            self._version += 1

    @property
    def version(self) -> int:
        return self._version

    def _held_back(self, notice: HeldBack) -> None:
        with self._lock:
            self._notices[notice.agent_id] = (notice, utcnow())
        self.touch()

    def watched_agents(self) -> list[str]:
        """E-mail addresses of the agents someone is viewing the console as, latest first."""
        now = time.monotonic()
        agents = {v.email for v in self.viewers().values() if v.agent is not None}
        recent = sorted(self._watched.items(), key=lambda item: item[1], reverse=True)
        return [email for email, seen in recent if email in agents and now - seen < WATCHING_S]

    def favourite(self) -> str | None:
        """The agent the demo's simulated world should favour: the one being watched."""
        watched = self.watched_agents()
        return watched[0] if watched else None

    def is_watched(self, email: str) -> bool:
        """Is a person looking at the console as this agent right now?"""
        seen = self._watched.get(email.lower())
        return seen is not None and time.monotonic() - seen < WATCHING_S

    def viewers(self) -> dict[str, Viewer]:
        # Built on first use: the roster exists only once the app's lifespan has synced it.
        if not self._viewers:
            viewers = build_viewers(self.services.roster)
            for viewer in viewers:
                self.messenger.directory.setdefault(viewer.user_id, viewer.email)
            self._viewers = {viewer.key: viewer for viewer in viewers}
        return self._viewers

    def viewer(self, key: str) -> Viewer:
        viewer = self.viewers().get(key)
        if viewer is None:
            raise NotFound(f"no one to view as called {key!r}")
        return viewer

    @property
    def cat(self) -> Catalogue:
        return team_catalogue(self.services.roster.teams[0], self.language)

    def switch_language(self, language: str) -> None:
        """The console's language switch: its own words, and in the demo every fictional agent's
        and team lead's language too, so what arrives next shows the team in that language."""
        self.language = language
        if self.services.settings.demo:
            for agent in self.services.roster.agents():
                self.services.home.set_language(agent, language)
            leads = {email for team in self.services.config.teams for email in team.managers}
            for email in sorted(leads):
                if self.services.roster.find("email", email) is None:
                    self.services.home.set_lead_language(email, language)
        self.touch()

    def _languages_html(self) -> str:
        current = self.cat.language
        return "".join(
            f'<a href="/sandbox?lang={code}" lang="{code}"'
            + (' aria-current="true"' if code == current else "")
            + f">{esc(language_name(code))}</a>"
            for code in available_languages()
        )

    def names(self) -> dict[str, str]:
        names = {viewer.user_id: viewer.name for viewer in self.viewers().values()}
        names[SANDBOX_BOT_USER_ID] = self.cat.t("console.app_name")
        return names

    def people(self) -> list[tuple[str, str]]:
        """Who a person picker offers: the workspace's people, by name (as Slack lists them)."""
        return sorted(((v.user_id, v.name) for v in self.viewers().values()), key=lambda p: p[1].casefold())

    def render(self) -> Render:
        return Render(cat=self.cat, names=self.names(), people=self.people())

    # --- routes -------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        def route(path: str, endpoint: Endpoint, method: str) -> Route:
            return Route(path, guarded(self.token, endpoint), methods=[method])

        return [
            route("/sandbox", self.page, "GET"),
            # The page's own script and styles: public code, nothing private in them.
            Mount("/sandbox/static", StaticFiles(directory=STATIC), name="sandbox-static"),
            route("/sandbox/api/workspace", self.workspace, "GET"),
            route("/sandbox/api/view", self.view, "GET"),
            route("/sandbox/api/click", self.click, "POST"),
            route("/sandbox/api/home", self.open_home, "POST"),
            route("/sandbox/api/modal/submit", self.submit_modal, "POST"),
            route("/sandbox/api/modal/close", self.close_modal, "POST"),
            route("/sandbox/api/command", self.command, "POST"),
            route("/sandbox/api/control", self.control, "POST"),
        ]

    def url(self, base_url: str) -> str:
        """The console's address with this run's token, as printed for the operator."""
        return f"{base_url}/sandbox?token={self.token}"

    async def page(self, request: Request) -> Response:
        template = (STATIC / "console.html").read_text(encoding="utf-8")
        asked = request.query_params.get("lang")
        if asked in available_languages() and asked != self.cat.language:
            await run_in_threadpool(self.switch_language, asked)
        cat = self.cat
        template = (
            template.replace("{{lang}}", cat.language)
            .replace("{{dir}}", cat.direction)
            .replace("<!--languages-->", self._languages_html())
        )
        page = PLACEHOLDER.sub(lambda match: esc(cat.t(f"console.{match.group(1)}")), template)
        headers = {
            "Content-Security-Policy": CSP,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        }
        return HTMLResponse(page, headers=headers)

    async def workspace(self, request: Request) -> Response:
        cat = self.cat
        viewers = self.viewers().values()
        strings = ("empty_dm", "empty_channel", "empty_home", "only_you", "failed", "unread")
        return JSONResponse(
            {
                "viewers": [
                    {
                        "key": viewer.key,
                        "kind": viewer.kind,
                        "label": cat.t(f"console.as_{viewer.kind}", name=viewer.name),
                    }
                    for viewer in viewers
                ],
                "agents": [{"id": v.agent.id, "name": v.name} for v in viewers if v.agent is not None],
                "controls": [
                    {
                        "id": action.id,
                        "label": cat.t(f"console.control.{action.id}.label"),
                        "help": cat.t(f"console.control.{action.id}.help"),
                        # The same words as formatted text (`breather survey send` as code, not backticks).
                        "help_html": mrkdwn_html(cat.t(f"console.control.{action.id}.help"), {}),
                    }
                    for action in CONTROL_ACTIONS
                ],
                "strings": {key: cat.t(f"console.{key}") for key in strings},
            }
        )

    async def view(self, request: Request) -> Response:
        viewer = self.viewer(request.query_params.get("as", ""))
        self._watched[viewer.email] = time.monotonic()
        version = self.version  # read before the query: a change during it shows on the next poll
        if request.query_params.get("after") == str(version):
            return JSONResponse({"version": version, "unchanged": True})
        page = request.query_params.get("page", "")[:64]
        data = await run_in_threadpool(self._view, viewer, page)
        return JSONResponse({"version": version, **data})

    async def click(self, request: Request) -> Response:
        body = await parse_json(request, ClickRequest)
        viewer = self.viewer(body.viewer)
        row = await run_in_threadpool(self._visible_row, viewer, body.ts)
        if (body.block_id, body.action_id, body.value) not in buttons_shown(blocks_of(row)):
            raise InvalidInput("that message has no such button")
        trigger = new_trigger_id()
        with self._lock:
            self._triggers[trigger] = (viewer.key, time.monotonic(), False, body.page)
        if row.kind == "home":
            payload = view_block_actions_body(
                user_id=viewer.user_id,
                view_id=f"V{row.id}",
                action_id=body.action_id,
                value=body.value,
                block_id=body.block_id,
                trigger_id=trigger,
            )
        else:
            payload = block_actions_body(
                user_id=viewer.user_id,
                channel=row.conversation,
                ts=row.ts,
                action_id=body.action_id,
                value=body.value,
                block_id=body.block_id,
                trigger_id=trigger,
            )
        return self._answer(await self._to_slack(request, payload, FORM))

    async def open_home(self, request: Request) -> Response:
        viewer = self.viewer((await parse_json(request, ViewerRequest)).viewer)
        payload = app_home_opened_body(user_id=viewer.user_id, channel=viewer.direct_channel)
        return self._answer(await self._to_slack(request, payload, "application/json"))

    async def submit_modal(self, request: Request) -> Response:
        body = await parse_json(request, SubmitRequest)
        viewer = self.viewer(body.viewer)
        row = await run_in_threadpool(self._open_form, viewer, body.trigger)
        view = dict(row.payload["view"])
        payload = view_submission_body(
            user_id=viewer.user_id,
            view=view,
            values=submission_state(view, body.values, people={user_id for user_id, _ in self.people()}),
            view_id=f"V{row.id}",
        )
        response = await self._to_slack(request, payload, FORM)
        if response.status_code != 200:
            return self._answer(response)
        answer = response.json() if response.content else {}
        if isinstance(answer, dict) and answer.get("response_action") == "errors":
            # The listener refused some fields: the form stays open with the messages beside them.
            errors = answer.get("errors") or {}
            return JSONResponse({"closed": False, "errors": {str(k): str(v) for k, v in errors.items()}})
        self._forget(body.trigger)
        if isinstance(answer, dict) and answer.get("response_action") == "update" and answer.get("view"):
            # The listener replaced the form (a thank-you): show that view in the same window.
            replaced = f"{body.trigger}.updated"
            with self._lock:
                self._triggers[replaced] = (viewer.key, time.monotonic(), False, body.page)
            await run_in_threadpool(self.messenger.show_view, replaced, dict(answer["view"]))
            return JSONResponse({"closed": False, "replaced": True})
        return JSONResponse({"closed": True})

    async def close_modal(self, request: Request) -> Response:
        body = await parse_json(request, FormRequest)
        viewer = self.viewer(body.viewer)
        await run_in_threadpool(self._open_form, viewer, body.trigger)
        self._forget(body.trigger)
        return JSONResponse({"closed": True})

    async def command(self, request: Request) -> Response:
        body = await parse_json(request, CommandRequest)
        viewer = self.viewer(body.viewer)
        text = body.text.strip()
        if not text.startswith("/"):
            return JSONResponse({"html": esc(self.cat.t("console.composer_commands_only"))})
        command, _, rest = text.partition(" ")
        people = [(v.user_id, v.email, v.name) for v in self.viewers().values()]
        payload = slash_command_body(
            user_id=viewer.user_id,
            command=command,
            text=resolve_mentions(rest.strip(), people),
            channel=viewer.direct_channel,
        )
        response = await self._to_slack(request, payload, FORM)
        if response.status_code == 404:
            return JSONResponse({"html": esc(self.cat.t("console.unknown_command", command=command))})
        if response.status_code != 200:
            return self._answer(response)
        # A command's private reply travels in the ack: JSON with `text`, or the bare text.
        try:
            answer = response.json()
        except ValueError:
            answer = response.text
        reply = answer.get("text", "") if isinstance(answer, dict) else answer
        return JSONResponse({"html": mrkdwn_html(str(reply), self.names())})

    async def control(self, request: Request) -> Response:
        body = await parse_json(request, ControlRequest)
        viewer = self.viewer(body.viewer)
        action = find_control(body.control)
        if action is None:
            raise NotFound(f"no control called {body.control!r}")
        roster = self.services.roster
        agent = roster.by_id(body.agent) if body.agent else viewer.agent or roster.agents()[0]
        if agent is None:
            raise NotFound(f"no agent {body.agent!r}")

        async def post_call_event(event: dict[str, Any]) -> int:
            secret = self.services.settings.webhook_secret
            raw = json.dumps(event).encode()
            headers = {
                "Content-Type": "application/json",
                "Breather-Signature": sign(secret.get_secret_value() if secret else "", raw),
            }
            return (await self._post(request, "/webhooks/calls", raw, headers)).status_code

        status = await action.run(
            ControlContext(self.cat, agent, self.simulator, post_call_event, self.services)
        )
        self.touch()
        return JSONResponse({"status": status})

    # --- helpers ------------------------------------------------------------------------

    async def _post(
        self, request: Request, path: str, content: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        # In-process, through the whole app (routing, signature check, Bolt): no network, no port.
        transport = httpx.ASGITransport(app=request.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.local") as client:
            return await client.post(path, content=content, headers=headers, timeout=15)

    async def _to_slack(self, request: Request, body: str, content_type: str) -> httpx.Response:
        headers = signed_headers(self.signing_secret, body, content_type)
        return await self._post(request, "/slack/events", body.encode(), headers)

    def _answer(self, response: httpx.Response) -> Response:
        if response.status_code == 200:
            return JSONResponse({"ok": True})
        # /slack/events refused a payload the console built and signed: our bug, not the user's.
        log.error("sandbox console: /slack/events answered HTTP %s", response.status_code)
        return JSONResponse({"error": f"Breather answered HTTP {response.status_code}"}, status_code=502)

    def _forget(self, trigger: str) -> None:
        with self._lock:
            self._triggers.pop(trigger, None)
        self.touch()

    def _visible_row(self, viewer: Viewer, ts: str) -> SandboxMessage:
        with session_scope(self.services.engine) as session:
            row = message_by_ts(session, ts)
            if row is None or not viewer.can_see(row):
                # The same answer for "not there" and "not yours": no peeking at others' DMs.
                raise NotFound("no such message for this person")
            session.expunge(row)
        return row

    def _open_form(self, viewer: Viewer, trigger: str) -> SandboxMessage:
        owner = self._triggers.get(trigger)
        with session_scope(self.services.engine) as session:
            row = latest(session, f"modal:{trigger}") if owner and owner[0] == viewer.key else None
            if row is None:
                raise NotFound("no open form for this person")
            session.expunge(row)
        return row

    def _find_modal(self, viewer: Viewer, session: Any, render: Render, page: str) -> dict[str, str] | None:
        """The modal a listener opened for this person's latest click, if any."""
        now = time.monotonic()
        with self._lock:
            mine = [
                (trigger, at, found)
                for trigger, (key, at, found, where) in self._triggers.items()
                if key == viewer.key and where == page and (found or now - at < CLICK_WAIT_S)
            ]
            for trigger, (_, at, found, _where) in list(self._triggers.items()):
                if not found and now - at >= CLICK_WAIT_S:
                    del self._triggers[trigger]  # a click that opened no modal
        for trigger, at, _ in sorted(mine, key=lambda item: item[1], reverse=True):
            row = latest(session, f"modal:{trigger}")
            if row is not None:
                with self._lock:
                    if trigger in self._triggers:
                        self._triggers[trigger] = (viewer.key, at, True, page)
                return {"trigger": trigger, "html": modal_html(row.payload.get("view") or {}, render)}
        return None

    def _message_html(self, row: SandboxMessage, render: Render, zone: ZoneInfo) -> str:
        cat = self.cat
        blocks = row.payload.get("blocks")
        content = (
            blocks_html(blocks, render)
            if blocks
            else mrkdwn_html(str(row.payload.get("text", "")), render.names)
        )
        at = row.created_at.astimezone(zone)
        # Rows are created and updated moments apart; only a later change counts as an edit.
        edited = row.updated_at - row.created_at > timedelta(seconds=0.5)
        edited_mark = f' <span class="msg-edited">{esc(cat.t("console.edited"))}</span>' if edited else ""
        # Each message in its own direction: a Persian DM reads right to left in any console.
        direction = bidi_direction(str(row.payload.get("text", "")))
        return (
            f'<article class="msg" dir="{direction}" data-ts="{esc(row.ts)}" tabindex="-1">'
            '<div class="msg-avatar" aria-hidden="true">B</div><div class="msg-main">'
            f'<p class="msg-meta"><span class="msg-author">{esc(cat.t("console.app_name"))}</span> '
            f'<span class="msg-badge">{esc(cat.t("console.app_badge"))}</span> '
            f'<time datetime="{esc(at.isoformat())}">{at:%H:%M}</time>{edited_mark}</p>'
            f'<div class="msg-blocks">{content}</div></div></article>'
        )

    def _phone_line(self, viewer: Viewer) -> dict[str, Any] | None:
        """The agent's status in the demo's phone system, as their phone app would show it."""
        user_id = self.phone.user_id(viewer.agent.config) if self.phone and viewer.agent else None
        if self.phone is None or user_id is None:
            return None
        on_break = self.phone.status_of(user_id) == PHONE_BREAK
        key = "console.phone.on_break" if on_break else "console.phone.available"
        return {"text": self.cat.t(key, phone=self.phone.label), "on_break": on_break}

    def _notice_line(self, viewer: Viewer, latest_dm: datetime | None) -> str | None:
        found = self._notices.get(viewer.agent.id) if viewer.agent else None
        if found is None or not still_news(found[1], now=utcnow(), latest_message_at=latest_dm):
            return None
        return notice_text(self.cat, found[0], self.services.product, viewer.teams[0].zone)

    def _home_html(self, row: SandboxMessage, render: Render) -> str:
        view = row.payload.get("view", {})
        blocks = blocks_html(view.get("blocks"), render)
        direction = dominant_direction(json.dumps(view, ensure_ascii=False))
        return (
            f'<div class="home-view" dir="{direction}" data-ts="{esc(row.ts)}" tabindex="-1">{blocks}</div>'
        )

    def _view(self, viewer: Viewer, page: str = "") -> dict[str, Any]:
        cat = self.cat
        render = self.render()
        zone = viewer.teams[0].zone
        panes: list[dict[str, Any]] = []
        with session_scope(self.services.engine) as session:
            if viewer.home_conversation:
                home = latest(session, viewer.home_conversation)
                panes.append(
                    {
                        "id": "home",
                        "kind": "home",
                        "title": cat.t("console.home"),
                        "ts": home.ts if home else "",
                        "html": self._home_html(home, render) if home else "",
                    }
                )
            dms = direct_messages(session, viewer)
            panes.append(
                {
                    "id": "dm",
                    "kind": "dm",
                    "title": cat.t("console.app_name"),
                    "messages": [
                        {"ts": row.ts, "html": self._message_html(row, render, zone)} for row in dms
                    ],
                }
            )
            for team in viewer.teams:
                if not team.channel:
                    continue
                posts = channel_messages(session, team.channel)
                panes.append(
                    {
                        "id": team.channel,
                        "kind": "channel",
                        "title": f"# {team.id}",
                        "messages": [
                            {"ts": row.ts, "html": self._message_html(row, render, zone)} for row in posts
                        ],
                    }
                )
            modal = self._find_modal(viewer, session, render, page)
            latest_dm = dms[-1].created_at if dms else None
        simulator = self.simulator
        return {
            "viewer": {
                "key": viewer.key,
                "kind": viewer.kind,
                "agent": viewer.agent.id if viewer.agent else None,
            },
            "panes": panes,
            "modal": modal,
            "phone": self._phone_line(viewer),
            "notice": self._notice_line(viewer, latest_dm),
            "controls": {action.id: action.enabled(simulator) for action in CONTROL_ACTIONS},
            "simulator": {
                "available": simulator is not None,
                "running": bool(simulator and simulator.running),
                "label": cat.t(
                    "console.simulator_running"
                    if simulator and simulator.running
                    else "console.simulator_stopped"
                ),
            },
        }
