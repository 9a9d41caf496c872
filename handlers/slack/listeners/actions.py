"""Button clicks: ack at once, then the one interaction table (bot/interactions.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.container import Services
from bot.ids import ActionId
from bot.interactions import Click
from bot.messenger import ChatPlatform, ChatUser
from bot.roster import RosterAgent
from handlers.slack import payloads

Resolve = Callable[[str], RosterAgent | None]


def register(app: App, services: Services, resolve: Resolve) -> None:
    interactions = services.interactions

    def on_click(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        action_id = str(action["action_id"])
        if not interactions.handles(action_id):
            return  # a language button for a catalogue this process no longer has
        user_id = payloads.user_id(body)
        trigger = payloads.trigger_id(body)
        reply = interactions.click(
            Click(
                action=action_id,
                value=str(action.get("value", "")),
                agent=resolve(user_id),
                email=lambda: services.messenger.email_of(user_id),
                where=lambda: payloads.message_location(body),
                trigger=trigger,
                chat_user=ChatUser(platform=ChatPlatform.SLACK, user_id=user_id),
            )
        )
        if reply is not None and reply.notice is not None and trigger is not None:
            # Shown to the clicker alone, on their click's trigger; the message stays as it is.
            services.messenger.open_form(trigger, reply.notice)

    for action_id in interactions.table:
        if not action_id.startswith(f"{ActionId.HOME_LANGUAGE.value}."):
            app.action(action_id)(on_click)
    app.action(re.compile(r"^" + re.escape(ActionId.HOME_LANGUAGE.value) + r"\.[a-z]+$"))(on_click)
