"""SlackMessenger: the Messenger port on the Slack Web API (only the outbox worker sends)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.away import PlatformStatus
from bot.clock import utcnow
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
from handlers.slack.blocks import form_view, home_view, message_blocks
from handlers.slack.errors import slack_errors
from storage.db import read_scope, session_scope
from storage.models import ChatAddress
from storage.upsert import upsert_many

PLATFORM = ChatPlatform.SLACK
# Message metadata on every message Breather posts: the outbox row's key (a keyed hash, naming
# nobody), so a message whose worker died mid-send can be found again instead of sent twice.
METADATA_EVENT = "breather_outbox"
# A status read happens just before a check-in goes out: it may hold the message back this long
# at most, then the message goes as if no status were set (bot/away.py fails open).
STATUS_TIMEOUT_S = 2
BULK_TIMEOUT_S = 10  # a page of 1000 members is bigger than one person; a survey batch can wait
STATUS_PAGE = 1000  # users.list's largest page: the fewest Tier 2 calls per survey batch
_NOBODY = ("users_not_found", "user_not_found")  # about one person, not the API: no status
HISTORY_PAGES = 3  # a bot's DM or team channel rarely holds more than a page since the message was queued
log = logging.getLogger(__name__)


def make_web_client(token: str, base_url: str) -> WebClient:
    # No retry handlers: the outbox owns retries, so a worker never sleeps inside the SDK.
    return WebClient(token=token, base_url=base_url, timeout=10, retry_handlers=[])


@dataclass(frozen=True)
class Address:
    user_id: str | None
    dm_channel: str | None


class SlackMessenger:
    name = PLATFORM
    status_is_emoji_only = True  # bot/away.py: with no away emoji configured, never asked

    def __init__(self, client: WebClient, engine: Engine) -> None:
        self.client = client
        self.engine = engine
        self._status_client = WebClient(
            token=client.token, base_url=client.base_url, timeout=STATUS_TIMEOUT_S, retry_handlers=[]
        )
        self._bulk_client = WebClient(
            token=client.token, base_url=client.base_url, timeout=BULK_TIMEOUT_S, retry_handlers=[]
        )
        self._cache: dict[str, Address] = {}  # agent id -> address; they rarely change
        self._unsaved: queue.SimpleQueue[tuple[str, Address] | None] = queue.SimpleQueue()
        self._saver: threading.Thread | None = None
        self._saver_lock = threading.Lock()

    # --- addresses (cached: lookups are Tier 3 and a roster may hold hundreds) -------------

    def _address(self, agent_id: str) -> Address | None:
        cached = self._cache.get(agent_id)
        if cached is not None:
            return cached
        with read_scope(self.engine) as session:
            row = session.exec(
                select(ChatAddress).where(
                    col(ChatAddress.agent_id) == agent_id, col(ChatAddress.platform) == PLATFORM
                )
            ).first()
            found = Address(row.user_id, row.dm_channel) if row is not None else None
        if found is not None:
            self._cache[agent_id] = found
        return found

    def _remember(self, agent_id: str, *, user_id: str, dm_channel: str | None) -> None:
        previous = self._cache.get(agent_id)
        remembered = Address(user_id, dm_channel or (previous.dm_channel if previous else None))
        self._cache[agent_id] = remembered
        # Written behind, in batches: the address is only a cache of what Slack told us, and a
        # write here would make every first DM wait for the database's write lock.
        self._unsaved.put((agent_id, remembered))
        self._ensure_saver()

    def _ensure_saver(self) -> None:
        with self._saver_lock:
            if self._saver is None or not self._saver.is_alive():
                self._saver = threading.Thread(
                    target=self._save_addresses, name="breather-addresses", daemon=True
                )
                self._saver.start()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is still unsaved and stop the writer, before the database closes: a writer
        left behind would open a connection on an engine that has been disposed."""
        with self._saver_lock:
            saver, self._saver = self._saver, None
        if saver is not None and saver.is_alive():
            self._unsaved.put(None)
            saver.join(timeout)

    def _save_addresses(self) -> None:
        stopping = False
        while not stopping:
            first = self._unsaved.get()
            if first is None:
                return
            batch = {first[0]: first[1]}
            while True:
                try:
                    item = self._unsaved.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True  # save this last batch, then stop
                    break
                batch[item[0]] = item[1]
            saved_at = utcnow()
            rows = [
                {
                    "agent_id": agent_id,
                    "platform": PLATFORM,
                    "user_id": address.user_id,
                    "dm_channel": address.dm_channel or None,  # not known yet: keep the stored one
                    "updated_at": saved_at,
                }
                for agent_id, address in batch.items()
            ]
            try:
                with session_scope(self.engine) as session:
                    upsert_many(
                        session, ChatAddress, rows, ["agent_id", "platform"], keep_when_null=("dm_channel",)
                    )
            except Exception:  # a lost write only costs one more lookup after a restart
                log.warning("could not save %d Slack address(es); they stay cached in memory", len(batch))

    def user_id(self, to: AgentRef) -> str:
        if listed := to.user_id_on(PLATFORM):
            return listed
        cached = self._address(to.agent_id) if to.on_roster else None
        if cached and cached.user_id:
            return cached.user_id
        with slack_errors("users.lookupByEmail"):
            response = self.client.users_lookupByEmail(email=to.email)
        user_id = str(response["user"]["id"])
        if to.on_roster:  # addresses are kept for roster agents only
            self._remember(to.agent_id, user_id=user_id, dm_channel=None)
        return user_id

    def _dm_channel(self, to: AgentRef) -> str:
        cached = self._address(to.agent_id) if to.on_roster else None
        if cached and cached.dm_channel:
            return cached.dm_channel
        user_id = self.user_id(to)
        with slack_errors("conversations.open"):
            response = self.client.conversations_open(users=user_id)
        channel = str(response["channel"]["id"])
        if to.on_roster:
            self._remember(to.agent_id, user_id=user_id, dm_channel=channel)
        return channel

    def email_of(self, user_id: str) -> str | None:
        try:
            with slack_errors("users.info"):
                response = self.client.users_info(user=user_id)
        except DeliveryFailed:
            return None
        user: dict[str, Any] = response.get("user") or {}
        email = (user.get("profile") or {}).get("email")
        return str(email) if email else None

    def locale_of(self, user_id: str) -> str | None:
        """The language the person set Slack to ("ro-RO"), or None."""
        try:
            with slack_errors("users.info"):
                response = self.client.users_info(user=user_id, include_locale=True)
        except DeliveryFailed:
            return None
        locale = (response.get("user") or {}).get("locale")
        return str(locale) if locale else None

    def status_of(self, to: AgentRef) -> PlatformStatus | None:
        """The person's status emoji and when it expires (bot/away.py). users.info carries the
        profile's status with the users:read scope Breather already has (Tier 4: 100+ a minute).
        Someone not in the workspace has none; any other failure is raised (the caller fails open)."""
        try:
            user_id = self.user_id(to)
            with slack_errors("users.info"):
                response = self._status_client.users_info(user=user_id)
        except DeliveryFailed as error:
            if str(error).endswith(_NOBODY):
                return None
            raise
        return _status((response.get("user") or {}).get("profile") or {})

    def statuses_of(self, people: Sequence[AgentRef]) -> dict[str, PlatformStatus | None]:
        """Many people's statuses from users.list pages (Tier 2, ~20 a minute; a page answers
        for up to STATUS_PAGE people), read until everyone wanted is found. People are matched
        by their known Slack user id, else by e-mail. After the last page, whoever was not
        found is not in the workspace (None); a failure is raised (the caller fails open)."""
        by_id: dict[str, str] = {}  # Slack user id -> agent id
        by_email: dict[str, str] = {}
        for to in people:
            known = to.user_id_on(PLATFORM) or (
                cached.user_id if (cached := self._address(to.agent_id)) else None
            )
            if known:
                by_id[known] = to.agent_id
            else:
                by_email[to.email.lower()] = to.agent_id
        found: dict[str, PlatformStatus | None] = {}
        cursor = ""
        while len(found) < len(people):
            with slack_errors("users.list"):
                response = self._bulk_client.users_list(limit=STATUS_PAGE, cursor=cursor or None)
            for member in response.get("members") or []:
                profile: dict[str, Any] = member.get("profile") or {}
                agent_id = by_id.get(str(member.get("id"))) or by_email.get(
                    str(profile.get("email") or "").lower()
                )
                if agent_id is not None:
                    found[agent_id] = _status(profile)
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return {to.agent_id: found.get(to.agent_id) for to in people}
        return found

    # --- the port -----------------------------------------------------------------------------

    def _mentioned(self, person: Mention) -> Mention:
        if person.user_id or person.agent is None:
            return person
        try:
            return person.model_copy(update={"user_id": self.user_id(person.agent)})
        except DeliveryFailed as error:
            if not error.permanent:
                raise  # try the whole message again later
            return person  # not in this workspace: credit them by name instead

    def _with_mentions(self, message: Message) -> Message:
        """Credits name people by Slack user id: from the roster, the cache or a lookup."""
        return resolve_mentions(message, self._mentioned)

    def _post(self, channel: str, message: Message, tag: str) -> Delivered:
        message = self._with_mentions(message)
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": tag}} if tag else None
        with slack_errors("chat.postMessage"):
            response = self.client.chat_postMessage(
                channel=channel, text=message.text, blocks=message_blocks(message), metadata=metadata
            )
        return Delivered(channel=str(response["channel"]), ts=str(response["ts"]))

    def send_direct(self, to: AgentRef, message: Message, *, tag: str = "") -> Delivered:
        return self._post(self._dm_channel(to), message, tag)

    def post_to_channel(self, channel: str, message: Message, *, tag: str = "") -> Delivered:
        return self._post(channel, message, tag)

    def find_sent(self, to: AgentRef | str, tag: str, since: datetime) -> Delivered | None:
        """Read the conversation's history since `since` for a message carrying `tag`. Needs the
        im:history scope for DMs and channels:history / groups:history for team channels."""
        channel = self._dm_channel(to) if isinstance(to, AgentRef) else to
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            with slack_errors("conversations.history"):
                response = self.client.conversations_history(
                    channel=channel,
                    oldest=f"{since.timestamp():.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            for found in response.get("messages") or []:
                metadata = found.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == tag:
                    return Delivered(channel=channel, ts=str(found["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                break
        return None

    def update(self, where: Delivered, message: Message) -> Delivered:
        message = self._with_mentions(message)
        with slack_errors("chat.update"):
            response = self.client.chat_update(
                channel=where.channel, ts=where.ts, text=message.text, blocks=message_blocks(message)
            )
        return Delivered(channel=str(response["channel"]), ts=str(response["ts"]))

    def upload_file(self, to: AgentRef, file: FileUpload) -> None:
        channel = self._dm_channel(to)
        # files_upload_v2: getUploadURLExternal, the upload, completeUploadExternal (files.upload is retired).
        with slack_errors("files.uploadV2"):
            self.client.files_upload_v2(
                channel=channel,
                content=file.content,
                filename=file.filename,
                title=file.title,
                alt_txt=file.alt,
            )

    def open_form(self, trigger: str, form: Form) -> None:
        with slack_errors("views.open"):
            self.client.views_open(trigger_id=trigger, view=form_view(form))

    def publish_home(self, to: AgentRef, view: HomeView) -> None:
        user_id = self.user_id(to)
        with slack_errors("views.publish"):
            self.client.views_publish(user_id=user_id, view=home_view(view))

    def delete(self, where: Delivered) -> None:
        try:
            with slack_errors("chat.delete"):
                self.client.chat_delete(channel=where.channel, ts=where.ts)
        except DeliveryFailed as error:
            # Someone (an admin) deleted it already: what was asked for has happened.
            if "message_not_found" not in str(error):
                raise


def _status(profile: dict[str, Any]) -> PlatformStatus:
    expires = int(profile.get("status_expiration") or 0)  # 0: until the person changes it
    return PlatformStatus(
        emoji=str(profile.get("status_emoji") or ""),
        until=datetime.fromtimestamp(expires, UTC) if expires > 0 else None,
    )
