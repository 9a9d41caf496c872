"""SandboxMessenger: stores each message as Slack would show it (Block Kit) instead of sending.

The demo's terminal and web console read these rows; clicks come back through the real
Slack listeners, so the sandbox exercises the same code as production.
"""

from __future__ import annotations

import base64
import itertools
import re
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.clock import utcnow
from bot.errors import DeliveryFailed
from bot.messenger import AgentRef, ChatPlatform, Delivered, FileUpload, Form, HomeView, Message
from handlers.slack.blocks import form_view, home_view, message_blocks
from storage.db import session_scope
from storage.models import SandboxMessage

Listener = Callable[[SandboxMessage], None]


def dm_channel(agent_id: str) -> str:
    """A Slack-looking DM channel id for an agent (or a lead's `person:` key) in the sandbox."""
    return "D" + re.sub(r"[^A-Z0-9]", "", agent_id.upper())[:12]


class SandboxMessenger:
    name = ChatPlatform.SLACK  # it renders Slack's Block Kit, and clicks come back as Slack payloads

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.listeners: list[Listener] = []
        # Made-up user id -> e-mail, filled by the console for people breather.yml gives no Slack
        # id; it answers like users.lookupByEmail would, so their clicks resolve to them.
        self.directory: dict[str, str] = {}
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def _ts(self) -> str:
        with self._lock:
            return f"{int(time.time())}.{next(self._counter):06d}"

    def _notify(self, row: SandboxMessage) -> None:
        for listener in self.listeners:
            listener(row)

    def _store(self, conversation: str, kind: str, payload: dict[str, object]) -> SandboxMessage:
        row = SandboxMessage(conversation=conversation, ts=self._ts(), kind=kind, payload=payload)
        with session_scope(self.engine) as session:
            session.add(row)
        self._notify(row)
        return row

    def send_direct(self, to: AgentRef, message: Message, *, tag: str = "") -> Delivered:
        channel = dm_channel(to.agent_id)
        row = self._store(
            channel, "message", {"to": to.email, "text": message.text, "blocks": message_blocks(message)}
        )
        return Delivered(channel=channel, ts=row.ts)

    def post_to_channel(self, channel: str, message: Message, *, tag: str = "") -> Delivered:
        row = self._store(channel, "message", {"text": message.text, "blocks": message_blocks(message)})
        return Delivered(channel=channel, ts=row.ts)

    def update(self, where: Delivered, message: Message) -> Delivered:
        with session_scope(self.engine) as session:
            row = session.exec(select(SandboxMessage).where(col(SandboxMessage.ts) == where.ts)).first()
            if row is None:
                raise DeliveryFailed(f"sandbox: no message {where.ts}", permanent=True)
            row.payload = {**row.payload, "text": message.text, "blocks": message_blocks(message)}
            row.updated_at = utcnow()
            session.add(row)
        self._notify(row)
        return where

    def delete(self, where: Delivered) -> None:
        with session_scope(self.engine) as session:
            row = session.exec(select(SandboxMessage).where(col(SandboxMessage.ts) == where.ts)).first()
            if row is None:
                return  # already gone
            row.kind, row.payload, row.updated_at = "deleted", {}, utcnow()
            session.add(row)
        self._notify(row)

    def publish_home(self, to: AgentRef, view: HomeView) -> None:
        self._store(f"home:{to.agent_id}", "home", {"to": to.email, "view": home_view(view)})

    def upload_file(self, to: AgentRef, file: FileUpload) -> None:
        # Shown by the console as an image block, the way Slack shows an uploaded picture.
        source = "data:image/png;base64," + base64.b64encode(file.content).decode()
        block = {
            "type": "image",
            "image_url": source,
            "alt_text": file.alt,
            "title": {"type": "plain_text", "text": file.title},
        }
        self._store(
            dm_channel(to.agent_id), "message", {"to": to.email, "text": file.title, "blocks": [block]}
        )

    def open_form(self, trigger: str, form: Form) -> None:
        # The console opens the modal it finds under the trigger it made up for the click.
        self.show_view(trigger, form_view(form))

    def show_view(self, trigger: str, view: dict[str, object]) -> None:
        """A modal view as Slack would show it, e.g. the one a listener's ack replaced it with."""
        self._store(f"modal:{trigger}", "modal", {"view": view})

    def email_of(self, user_id: str) -> str | None:
        return self.directory.get(user_id)
