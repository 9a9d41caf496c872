"""Slash commands. The reply travels in the ack itself, so it is private and needs no API call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.i18n import catalogue
from bot.ids import Command
from bot.services import Services
from handlers.slack import payloads
from handlers.slack.blocks import message_blocks
from handlers.slack.listeners.actions import Resolve


def register(app: App, services: Services, resolve: Resolve, email_of: Callable[[str], str | None]) -> None:
    @app.command(Command.BREATHER.value)
    def on_breather(ack: Ack, body: dict[str, Any]) -> None:
        # The work is one small row at most, well inside Slack's 3 s; the answer is the ack.
        user_id = payloads.user_id(body)
        agent = resolve(user_id)
        text = str(body.get("text", ""))
        # Only a digest request needs the caller's e-mail (team leads are usually not agents).
        email = agent.email if agent else (email_of(user_id) if text.strip().startswith("digest") else None)
        reply = services.breather_command(agent, text, email=email, slack_user_id=user_id)
        ack(text=reply.text, blocks=message_blocks(reply))

    @app.command(Command.KUDOS.value)
    def on_kudos(ack: Ack, body: dict[str, Any]) -> None:
        agent = resolve(payloads.user_id(body))
        ack(text=catalogue(agent.team.language if agent else "en").t("command.kudos_unavailable"))
