"""TeamsMessenger: the Messenger port on Microsoft Teams (only the outbox worker sends).

What differs from Slack, and how this class handles it:
- A bot may only write to people who have the app. Their 1:1 conversation and service URL
  are learnt when they install it or talk to it (see activities.py); for anyone else a
  message fails for good with a message saying so, and the log says what to do.
- There is no App Home tab: `publish_home` refreshes the "home" card the person asked for
  with `breather home`, in place, and posts nothing when they never asked.
- A form (a Slack modal) opened during a card action is kept for the activity handler, which
  posts it as a card in the same chat while the action is answered (`take_forms`).
- A chart is a card with the image inline (a data URL): uploading a file into a 1:1 chat
  needs the user's consent each time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import httpx
from sqlalchemy import Engine

from bot.away import PlatformStatus
from bot.config import Settings
from bot.errors import DeliveryFailed
from bot.messenger import (
    AgentRef,
    ChatPlatform,
    Delivered,
    FileUpload,
    Form,
    HomeView,
    Mention,
    Message,
    resolve_mentions,
)
from handlers.teams.auth import InboundAuth, SigningKeys, jwks_uri, serve_keys_to
from handlers.teams.cards import home_card, image_card, message_card
from handlers.teams.connector import Connector
from handlers.teams.directory import TeamsDirectory, TeamsPerson
from handlers.teams.endpoint import TeamsEndpoint
from handlers.teams.presence import TOKEN_TIMEOUT_S, PresenceReader
from handlers.teams.sdk import App, CloudEnvironment, TokenSource, make_teams_app

log = logging.getLogger(__name__)

PLATFORM = ChatPlatform.TEAMS
MAILTO = "mailto:"
# Teams allows a bot 7 messages a second in one conversation, 8 in two seconds, 60 in 30 and
# 1,800 an hour. Two a second stays inside the first three; no chat or channel gets near the
# hourly cap, and a 429 is waited out (Retry-After) by the outbox anyway.
PACE_S = 0.5
NOT_INSTALLED = (
    "teams: Breather is not installed for this person in Teams, so there is no conversation to "
    "write to; install the app for them (docs/teams.md: pre-install with Graph)"
)


class TeamsMessenger:
    name = PLATFORM
    pace_s = PACE_S

    def __init__(
        self,
        *,
        app: App,
        endpoint: TeamsEndpoint,
        engine: Engine,
        connector: Connector,
        presence: PresenceReader | None = None,
    ) -> None:
        self.app = app  # the inbound side: JWT validation and activity routing
        self.endpoint = endpoint  # where the app's POST /api/messages route lives
        self.connector = connector
        self.presence = presence  # Graph presence, for out of office (TEAMS_PRESENCE)
        self.directory = TeamsDirectory(engine)
        self._forms: dict[str, list[Form]] = {}
        self._lock = threading.Lock()

    async def start(self) -> None:
        """The SDK's start (it builds its token validator), then that validator reads the
        signing keys our own check fetched, instead of fetching them on the event loop."""
        await self.app.initialize()
        if self.endpoint.auth is not None:
            serve_keys_to(self.app.server._token_validator, self.endpoint.auth.keys)

    # --- addresses -------------------------------------------------------------------------

    def _reachable(self, to: AgentRef) -> TeamsPerson:
        person = self.directory.for_ref(to)
        if person is None or not person.conversation_id:
            # No e-mail address in the log: the agent id is enough to find them in breather.yml.
            log.warning(
                "teams: cannot reach %s: Breather is not installed for them in Teams; "
                "install it for them (see docs/teams.md: pre-install with Graph)",
                to.agent_id,
            )
            raise DeliveryFailed(NOT_INSTALLED, permanent=True)
        return person

    def _service_url(self, conversation_id: str) -> str | None:
        person = self.directory.by_conversation(conversation_id)
        return person.service_url if person else None  # channels: the configured service URL

    def email_of(self, user_id: str) -> str | None:
        """`user_id` is a person's Entra object id (what Breather's Teams handlers pass), or
        `mailto:<address>` for someone named by e-mail in a 1:1 chat (`kudos ana@… thanks`)."""
        if user_id.startswith(MAILTO):
            return user_id[len(MAILTO) :].lower() or None
        person = self.directory.by_aad(user_id) or self.directory.by_teams_user_id(user_id)
        return person.email if person else None

    def _mentioned(self, person: Mention) -> Mention:
        """Teams mentions need the person's Teams user id, known once they met Breather."""
        found = None
        if person.user_id:
            found = self.directory.by_aad(person.user_id) or self.directory.by_teams_user_id(person.user_id)
        elif person.agent is not None:
            found = self.directory.for_ref(person.agent)
        teams_user_id = found.teams_user_id if found else None
        return person.model_copy(update={"user_id": teams_user_id, "agent": None})

    def _with_mentions(self, message: Message) -> Message:
        return resolve_mentions(message, self._mentioned)

    def status_of(self, to: AgentRef) -> PlatformStatus | None:
        """Out of office from Graph presence (bot/away.py), by the person's Entra object id."""
        if self.presence is None:
            return None
        person = self.directory.for_ref(to)
        aad = person.aad_object_id if person is not None else to.user_id_on(PLATFORM)
        return self.presence.status(aad) if aad else None

    def statuses_of(self, people: Sequence[AgentRef]) -> dict[str, PlatformStatus | None]:
        """Many people's out of office in one Graph call (bot/away.py); someone without an
        Entra object id yet, or unknown to Graph, has none."""
        if self.presence is None:
            return {to.agent_id: None for to in people}
        aads: dict[str, str] = {}
        for to in people:
            person = self.directory.for_ref(to)
            aad = person.aad_object_id if person is not None else to.user_id_on(PLATFORM)
            if aad:
                aads[to.agent_id] = aad
        found = self.presence.statuses(list(aads.values()))
        return {to.agent_id: found.get(aads.get(to.agent_id, "")) for to in people}

    # --- the port -----------------------------------------------------------------------------

    def send_direct(self, to: AgentRef, message: Message, *, tag: str = "") -> Delivered:
        # Teams keeps no message metadata a bot could read back from a chat: `tag` is unused.
        person = self._reachable(to)
        assert person.conversation_id is not None
        card = message_card(self._with_mentions(message))
        activity_id = self.connector.send(person.conversation_id, card, service_url=person.service_url)
        return Delivered(channel=person.conversation_id, ts=activity_id)

    def post_to_channel(self, channel: str, message: Message, *, tag: str = "") -> Delivered:
        activity_id = self.connector.send(channel, message_card(self._with_mentions(message)))
        return Delivered(channel=channel, ts=activity_id)

    def update(self, where: Delivered, message: Message) -> Delivered:
        card = message_card(self._with_mentions(message))
        self.connector.update(where.channel, where.ts, card, service_url=self._service_url(where.channel))
        return where

    def delete(self, where: Delivered) -> None:
        try:
            self.connector.delete(where.channel, where.ts, service_url=self._service_url(where.channel))
        except DeliveryFailed as error:
            if not (error.permanent and "HTTP 404" in str(error)):
                raise  # a 404 means someone removed it already: what was asked for has happened

    def publish_home(self, to: AgentRef, view: HomeView) -> None:
        person = self.directory.for_ref(to)
        if person is None or not person.conversation_id:
            return  # they have no chat with Breather, so no home card to refresh
        activity_id, requested = self.directory.home(person.aad_object_id)
        card = home_card(view)
        if activity_id:
            self.connector.update(person.conversation_id, activity_id, card, service_url=person.service_url)
        elif requested:
            posted = self.connector.send(person.conversation_id, card, service_url=person.service_url)
            self.directory.home_posted(person.aad_object_id, posted)
        # Otherwise they never asked for the home card: a pause or a survey answer posts nothing.

    def upload_file(self, to: AgentRef, file: FileUpload) -> None:
        person = self._reachable(to)
        assert person.conversation_id is not None
        card = image_card(title=file.title, alt=file.alt, png=file.content)
        self.connector.send(person.conversation_id, card, service_url=person.service_url)

    def open_form(self, trigger: str, form: Form) -> None:
        # `trigger` names the card action being answered; its handler posts the form (take_forms).
        with self._lock:
            self._forms.setdefault(trigger, []).append(form)

    def take_forms(self, trigger: str) -> list[Form]:
        with self._lock:
            return self._forms.pop(trigger, [])

    def close(self) -> None:
        self.connector.close()
        if self.presence is not None:
            self.presence.close()


def build_teams_messenger(
    settings: Settings,
    engine: Engine,
    *,
    token: TokenSource | None = None,
    cloud: CloudEnvironment | None = None,
    allow_unauthenticated: bool = False,
) -> TeamsMessenger:
    """The SDK app (inbound) and the connector (outbound) from settings; see make_teams_app."""
    endpoint = TeamsEndpoint(requires_token=not allow_unauthenticated)
    app = make_teams_app(
        settings, endpoint, token=token, cloud=cloud, allow_unauthenticated=allow_unauthenticated
    )
    if not allow_unauthenticated:
        keys = SigningKeys(jwks_uri(app.cloud.openid_metadata_url))
        endpoint.auth = InboundAuth(
            app_id=settings.teams_app_id or "",
            issuer=app.cloud.token_issuer,
            tenant_id=settings.teams_tenant_id,
            keys=keys,
        )
    connector = Connector(
        service_url=settings.teams_service_url, token_provider=app.token_provider, cloud=app.cloud
    )
    presence = None
    if settings.teams_presence:
        scope, tenant = app.cloud.graph_scope, settings.teams_tenant_id
        presence = PresenceReader(
            httpx.Client(follow_redirects=False, headers={"User-Agent": "breather"}),
            base_url=settings.teams_graph_url,
            token=lambda: connector.app_token(scope, tenant, timeout_s=TOKEN_TIMEOUT_S),
        )
    return TeamsMessenger(app=app, endpoint=endpoint, engine=engine, connector=connector, presence=presence)
