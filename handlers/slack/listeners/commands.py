"""Slash commands. The reply travels in the ack itself, so it is private and needs no API call."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.i18n import catalogue
from bot.ids import Command
from bot.services import Services
from handlers.slack import payloads
from handlers.slack.listeners.actions import Resolve


def register(app: App, services: Services, resolve: Resolve) -> None:
    @app.command(Command.BREATHER.value)
    def on_breather(ack: Ack, body: dict[str, Any]) -> None:
        # The work is one small row at most, well inside Slack's 3 s; the answer is the ack.
        agent = resolve(payloads.user_id(body))
        ack(text=services.breather_command(agent, str(body.get("text", ""))))

    @app.command(Command.KUDOS.value)
    def on_kudos(ack: Ack, body: dict[str, Any]) -> None:
        agent = resolve(payloads.user_id(body))
        ack(text=catalogue(agent.team.language if agent else "en").t("command.kudos_unavailable"))
